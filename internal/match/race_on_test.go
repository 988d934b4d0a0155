//go:build race

package match

// raceEnabled: the race detector slows the DFA about twentyfold; the
// long vector replays shrink under it (the plain run does them in full).
const raceEnabled = true
