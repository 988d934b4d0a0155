// Command gendocs writes the man pages and shell completions of every DTail
// binary (generated from their flag sets by internal/manpage) under -out.
//
//	go run ./build/gendocs -out dist
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dtail-go/dtail/internal/manpage"
)

func main() {
	out := flag.String("out", "dist", "output directory; man/ and completions/ are created in it")
	flag.Parse()
	files, err := manpage.Generate(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	fmt.Printf("gendocs: wrote %d files under %s\n", len(files), *out)
}
