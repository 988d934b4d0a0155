package cli

import (
	"time"

	"github.com/dtail-go/dtail/internal/timewindow"
)

// parseWindowFlags checks -since/-until and sets f.Window. dtail follows
// files from now on, so a window makes no sense there: catch up with
// `dcat`/`dgrep -since …`, then follow (docs/DECISIONS.md).
func parseWindowFlags(binary string, f *ClientFlags) error {
	if f.Since == "" && f.Until == "" {
		return nil
	}
	if binary == DTail && f.Query == "" {
		return &UsageError{Msg: "-since/-until select past lines and cannot be followed; catch up with dcat or dgrep -since, then run dtail", AfterParse: true}
	}
	if binary == DTail {
		return &UsageError{Msg: "-since/-until are not supported with dtail -query; use dmap -since", AfterParse: true}
	}
	w, err := timewindow.ParseWindow(f.Since, f.Until, time.Now())
	if err != nil {
		return &UsageError{Msg: err.Error(), AfterParse: true}
	}
	f.Window = &w
	return nil
}
