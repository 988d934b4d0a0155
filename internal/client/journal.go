package client

import (
	"context"
	"slices"
	"time"

	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/protocol"
)

// journalCapsWait bounds the wait for a server's capabilities before
// journal targets are sent. DTail 4.3.2 servers announce nothing and would
// ignore the target; the reference client waits 250 ms, which a loaded
// server can miss, so a slow server would be mistaken for an old one.
const journalCapsWait = 2 * time.Second

// JournalRefusedText is the reference client's message for a server
// without journal support (spec 4.11).
const JournalRefusedText = "journal file targets require server capability journal-v1"

func hasJournalTarget(files []string) bool {
	return slices.ContainsFunc(files, journal.IsTarget)
}

type firstMessage struct {
	msg []byte
	err error
}

// awaitJournalCapability reads the server's first message before any
// command goes out. It returns that message (to be handled as usual) when
// the server announced journal-v1; otherwise it reports the refusal, as
// the reference client does, and the connection is skipped.
func (rn *remoteRun) awaitJournalCapability(ctx context.Context, st *serverState, mr *protocol.MessageReader, closeConn func()) (first []byte, ok bool) {
	ch := make(chan firstMessage, 1)
	go func() {
		msg, err := mr.Next()
		ch <- firstMessage{append([]byte(nil), msg...), err}
	}()
	var res firstMessage
	t := time.NewTimer(journalCapsWait)
	defer t.Stop()
	select {
	case res = <-ch:
	case <-t.C:
		closeConn()
		<-ch
		rn.refuseJournal(st)
		return nil, false
	case <-ctx.Done():
		closeConn()
		<-ch
		return nil, false
	}
	if res.err != nil {
		rn.connectionLost(ctx, st, res.err)
		return nil, false
	}
	if caps, isCaps := protocol.ParseCapabilities(res.msg); isCaps && slices.Contains(caps, protocol.CapJournalV1) {
		return res.msg, true
	}
	closeConn()
	rn.refuseJournal(st)
	return nil, false
}

// refuseJournal prints the reference's SERVER error line and marks the
// server as not read (exit 1); a tail run does not reconnect to it.
func (rn *remoteRun) refuseJournal(st *serverState) {
	st.failed, st.refused = true, true
	line := protocol.ServerPrefix + st.name + "|ERROR|" + JournalRefusedText + "\n"
	// stdout carries payload only.
	rn.out.Flush()
	rn.diag(&stream{}, []byte(line))
}
