package version

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	if got, want := String(), "DTail 4.3.2-go Protocol 4.1 Have a lot of fun!"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestColored(t *testing.T) {
	want := strings.ReplaceAll(
		"ESC[33mESC[44mESC[1m DTail ESC[0mESC[49mESC[39m"+
			"ESC[34mESC[43mESC[1m 4.3.2-go ESC[0mESC[49mESC[39m"+
			"ESC[30mESC[42m Protocol 4.1 ESC[49mESC[39m"+
			"ESC[37mESC[45mESC[4m Have a lot of fun! ESC[0mESC[49mESC[39m",
		"ESC", "\x1b")
	if got := Colored(); got != want {
		t.Errorf("Colored() = %q\nwant %q", got, want)
	}
}
