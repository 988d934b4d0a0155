package sshclient

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadAuthKeyPub returns the base64 key blob of <path>.pub for the AUTHKEY
// command (spec §5.5): the second field of the first non-empty, non-comment
// line, which must be valid base64.
func ReadAuthKeyPub(path string) (string, error) {
	pubPath := path + ".pub"
	f, err := os.Open(pubPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	// Certificates with many principals can outgrow bufio's 64 KiB line.
	scanner.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return "", fmt.Errorf("%s: expected \"<type> <base64> [comment]\"", pubPath)
		}
		if _, err := base64.StdEncoding.DecodeString(fields[1]); err != nil {
			return "", fmt.Errorf("%s: key field is not base64: %w", pubPath, err)
		}
		return fields[1], nil
	}
	if err := scanner.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", pubPath, err)
	}
	return "", errors.New(pubPath + ": no public key line")
}
