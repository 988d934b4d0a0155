package session

import (
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/reader"
)

// Receipt is what one server read for a session (protocol.Receipt).
type Receipt = protocol.Receipt

// Receipt returns the session's counters as a receipt.
func (s *Session) Receipt() Receipt {
	return reader.Receipt(&s.stats, s.mapSkipped())
}

// mapSkipped is the number of lines the session's mapreduce aggregate did
// not use because of its log format (0 without a query).
func (s *Session) mapSkipped() int64 {
	m := s.currentMap()
	if m == nil {
		return 0
	}
	return m.Skipped()
}

func (s *Session) sendReceipt() {
	s.hidden(protocol.ReceiptMessage(s.Receipt()))
}
