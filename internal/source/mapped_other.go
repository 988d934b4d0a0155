//go:build !unix

package source

import (
	"errors"
	"os"
)

func mmapFile(*os.File, int) ([]byte, error) { return nil, errors.New("mmap not supported") }
func munmap([]byte) error                    { return nil }
func dontNeed([]byte)                        {}
