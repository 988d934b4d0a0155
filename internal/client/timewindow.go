package client

import (
	"bytes"
	"slices"
	"strconv"
	"time"

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

// windowCapabilities records whether the server applies time windows.
// The capabilities are the first message of a session, before any line.
func (rn *remoteRun) windowCapabilities(st *serverState, caps []string) {
	if rn.o.Window == nil {
		return
	}
	st.tw = &clientWindow{applied: slices.Contains(caps, protocol.CapTimeWindowV1)}
	if !st.tw.applied {
		rn.log.Warn(st.name, "server cannot apply -since/-until (DTail 4.x); filtering its lines on the client")
	}
}

// outsideWindow reports whether a payload line from st must be dropped
// because the server did not apply the window and the line lies outside.
func (rn *remoteRun) outsideWindow(st *serverState, msg []byte) bool {
	if rn.o.Window == nil || bytes.HasPrefix(msg, []byte(protocol.ServerPrefix)) {
		return false
	}
	if st.tw == nil {
		// No capabilities message at all: an old server.
		rn.windowCapabilities(st, nil)
	}
	if st.tw.applied {
		return false
	}
	key, content := "", msg
	if rl, ok := protocol.ParseRemoteLine(msg); ok {
		key, content = string(rl.SourceID), rl.Content
	}
	f := st.tw.filters[key]
	if f == nil {
		if st.tw.filters == nil {
			st.tw.filters = map[string]*timewindow.Filter{}
		}
		f = &timewindow.Filter{W: *rn.o.Window, X: timewindow.NewExtractor(time.Now())}
		st.tw.filters[key] = f
	}
	in, _ := f.Line(content)
	return !in
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
