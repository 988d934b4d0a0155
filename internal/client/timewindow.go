package client

import (
	"slices"
	"strconv"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// clientWindow filters the lines of a server that cannot apply a time
// window itself (DTail 4.x ignores the since/until options and sends
// every line): the client keeps the lines whose timestamp is inside,
// with continuation lines inheriting per source file. The result is the
// same as a server-side window on the files the glob names, but every
// byte still crosses the network, and rotated siblings are not added.
type clientWindow struct {
	applied bool // the server announced CapTimeWindowV1
	filters map[string]*timewindow.Filter
}

// windowCapabilities records in the server's chain stream whether the
// server applies time windows. The capabilities are the first message of
// a session, before any line.
func (rn *remoteRun) windowCapabilities(st *serverState, w *stream, caps []string) {
	if rn.o.Grep.Window == nil {
		return
	}
	w.tw = &clientWindow{applied: slices.Contains(caps, protocol.CapTimeWindowV1)}
	if !w.tw.applied {
		rn.log.Warn(st.name, "server cannot apply -since/-until (DTail 4.x); filtering its lines on the client")
	}
}

// windowOptions adds the window to a command's extra options (Unix
// seconds; DTail 4.x servers ignore the keys).
func windowOptions(extra map[string]string, w *timewindow.Window) map[string]string {
	if w == nil || w.IsAll() {
		return extra
	}
	if extra == nil {
		extra = map[string]string{}
	}
	if w.HasSince() {
		extra[protocol.OptSince] = strconv.FormatInt(w.Since, 10)
	}
	if w.HasUntil() {
		extra[protocol.OptUntil] = strconv.FormatInt(w.Until, 10)
	}
	return extra
}
