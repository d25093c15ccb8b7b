package cookiesession

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// everyMinute passes a line that every request of a route may log (a
// session too large to save, a change after the response) at its level
// once a minute, and the others at Debug: a flood of requests cannot fill
// an operator's log at Warn or Error, and Debug still shows each one.
type everyMinute struct{ last atomic.Int64 } // Unix nanoseconds

// level returns level if no line passed in the minute before now, and
// Debug otherwise.
func (e *everyMinute) level(level slog.Level, now time.Time) slog.Level {
	last, at := e.last.Load(), now.UnixNano()
	if last != 0 && at-last < int64(time.Minute) || !e.last.CompareAndSwap(last, at) {
		return slog.LevelDebug
	}
	return level
}

// maxCauses is the most causes a causes remembers. The log lines that use
// one say "past 64 of them".
const maxCauses = 64

// causes passes a warning whose every occurrence may be a mistake of its
// own, in another part of the application (a key read with the wrong
// getter, a value Set refuses), once per cause K at its level, and a
// repeat of a cause not at all: a flag for the whole Manager would let the
// first mistake, logged at deploy time, hide the next one for good. A K
// may come from the request (a key built from a form's field), so at most
// maxCauses are remembered; past that, a cause not remembered is rated
// once a minute (everyMinute) rather than dropped. Only a refused call
// gets here; its memory stays within maxCauses entries, each with a key
// cut by logText. The zero value is ready to use.
type causes[K cause[K]] struct {
	mu    sync.RWMutex
	seen  map[K]struct{}
	rated everyMinute
}

// cause is a causes key: detach returns a copy that holds no memory of
// the caller's (a key sliced from a request body), for the map to keep.
type cause[K any] interface {
	comparable
	detach() K
}

// level reports whether to log an occurrence of c, and at which level:
// level for a cause not seen before, none for one remembered, and
// everyMinute's for one that finds the memory full, read at now().
func (cs *causes[K]) level(c K, level slog.Level, now func() time.Time) (slog.Level, bool) {
	cs.mu.RLock()
	_, seen := cs.seen[c]
	full := len(cs.seen) >= maxCauses
	cs.mu.RUnlock()
	if seen {
		return 0, false
	}
	if !full {
		cs.mu.Lock()
		_, seen = cs.seen[c]
		added := !seen && len(cs.seen) < maxCauses
		if added {
			if cs.seen == nil {
				cs.seen = make(map[K]struct{}, maxCauses)
			}
			cs.seen[c.detach()] = struct{}{}
		}
		cs.mu.Unlock()
		switch {
		case seen:
			return 0, false
		case added:
			return level, true
		}
	}
	return cs.rated.level(level, now()), true
}

// forget lets the next occurrence of c be logged as a first one.
func (cs *causes[K]) forget(c K) {
	cs.mu.Lock()
	delete(cs.seen, c)
	cs.mu.Unlock()
}

// maxLogText is the most bytes of a request's string a log line carries.
const maxLogText = 200

// logText cuts a string the client chose (a path, a Host, a method) to
// maxLogText bytes for a log line, and says how long it was: 1 MB of it
// per line would fill an operator's log store. slog's handlers quote it,
// so that it cannot forge a line.
func logText(s string) string {
	kept, size := logCut(s)
	if len(kept) == size {
		return s
	}
	return kept + "... (" + strconv.Itoa(size) + " bytes)"
}

// logCut returns the start of s that logText keeps, and s's length: the
// two say what logText returns without building it, for a cause to be
// looked up at no cost on every request that repeats it.
func logCut(s string) (kept string, size int) {
	if len(s) <= maxLogText {
		return s, len(s)
	}
	cut := maxLogText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], len(s)
}
