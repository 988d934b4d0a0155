package reader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotationSetOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"app.log", "app.log.1", "app.log.2.gz", "app.log.10.gz", "app.log-20240101.gz", "app.log-20231231",
		"app.logger", "other.log", "other.log.1"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rd := &read{r: New(Config{}), dst: &textSinks{}}
	got := rd.rotationSet([]string{filepath.Join(dir, "other.log"), filepath.Join(dir, "app.log")})
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	want := "app.log-20231231 app.log-20240101.gz app.log.10.gz app.log.2.gz app.log.1 app.log other.log.1 other.log"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}
