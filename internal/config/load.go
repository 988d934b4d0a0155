package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SearchPaths are the files tried, in order, when no -cfg is given (§2.1).
// There is deliberately no system-wide fallback; dserver's unit file passes
// -cfg explicitly.
func SearchPaths(home string) []string {
	if home == "" {
		return nil
	}
	return []string{
		filepath.Join(home, ".config", "dtail", "dtail.conf"),
		filepath.Join(home, ".dtail.conf"),
	}
}

// Load returns the configuration for a -cfg value: "" searches SearchPaths
// and loads the first existing file (none → defaults), "none" (any case)
// loads no file, anything else loads exactly that file. usedFile is the file
// actually read, "" if none was. Read errors are returned unwrapped (they name
// the path, and errors.Is(err, fs.ErrNotExist) works); content errors are
// *Error. The result is normalized.
func Load(path, home string) (cfg Config, usedFile string, err error) {
	switch {
	case strings.EqualFold(path, NoFile):
		return normalized(DefaultWithHome(home)), "", nil
	case path != "":
		cfg, err := loadFile(path, home)
		return cfg, path, err
	}
	for _, candidate := range SearchPaths(home) {
		_, err := os.Stat(candidate)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, candidate, err
		}
		cfg, err := loadFile(candidate, home)
		return cfg, candidate, err
	}
	return normalized(DefaultWithHome(home)), "", nil
}

func loadFile(path, home string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return parseOnto(DefaultWithHome(home), path, data)
}

// Parse decodes data on top of Default(); name is used in error messages.
// Absent keys keep their defaults and the result is normalized.
func Parse(name string, data []byte) (Config, error) {
	return parseOnto(Default(), name, data)
}

func parseOnto(cfg Config, name string, data []byte) (Config, error) {
	if err := decode(name, data, &cfg); err != nil {
		return Config{}, err
	}
	cfg.Normalize()
	return cfg, nil
}

func normalized(cfg Config) Config {
	cfg.Normalize()
	return cfg
}

// ExpandHome replaces a leading "~" or "~/" by home, as done for -logDir.
// Other forms ("~user/...") and an unknown home are left alone.
func ExpandHome(path, home string) string {
	if home == "" {
		return path
	}
	if path == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return path
}
