package migrate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/seed-ff2808ae/cookiesession"
)

// fit saves s, a new session that holds only what the old one carried,
// into w's headers before the app runs. An old session can hold more than
// a cookie takes (scs kept it in a store), and one too large for the new
// cookie would reach the Manager's ErrorHandler at the commit: a 500 that
// keeps the old cookie, at every request. So while Save refuses s as too
// large, its largest value is dropped and logged at Warn with its size,
// and the fix is logged once at Warn. What Save refuses otherwise is left
// to the commit, which answers it through the ErrorHandler.
// dropped lists the keys already left out by affordable.
func fit(w http.ResponseWriter, r *http.Request, mgr *cookiesession.Manager, s *cookiesession.Session, logger *slog.Logger, dropped []string) {
	keys := s.Keys()
	if len(keys) == 0 && len(dropped) == 0 {
		return
	}
	sizes := make(map[string]int, len(keys))
	for _, k := range keys {
		v, _ := s.Get(k)
		sizes[k] = size(v)
	}
	largestFirst(keys, sizes)
	for _, k := range keys {
		if err := mgr.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
			break
		}
		v, _ := s.Get(k)
		s.Delete(k)
		tooLarge(r, logger, k, v, sizes[k], len(dropped))
		dropped = append(dropped, k)
	}
	if len(dropped) > 0 {
		_ = mgr.Save(w, r, s) // an error here the commit answers
		logger.WarnContext(r.Context(), "cookiesession/migrate: the old session is too large for the new cookie; its largest values were left out",
			slog.Any("keys", dropped[:min(len(dropped), warnedValues)]), slog.Int("left_out", len(dropped)),
			slog.String("fix", fmt.Sprintf("keep large data in your database and its id in the session, or raise Options.MaxChunks (now %d), unless Options.Partitioned and its chunks already take the 10240 bytes browsers keep of a site's Partitioned cookies in all, past which more chunks hold no more; until then users whose old sessions are this large lose these values", len(mgr.CookieNames()))))
	}
}

// tooLarge logs a value fit or affordable left out, the nth of its
// session: the first warnedValues at Warn, the others at Debug, so that an
// scs session of thousands of values does not log thousands of Warns (the
// one Warn with the fix says how many).
func tooLarge(r *http.Request, logger *slog.Logger, key string, v any, bytes, n int) {
	level := slog.LevelWarn
	if n >= warnedValues {
		level = slog.LevelDebug
	}
	notCarriedAt(r.Context(), logger, level, key, v, errors.New("the session is too large for the new cookie; the largest values are left out"),
		slog.Int("bytes", bytes))
}

// warnedValues is how many values left out of one session are logged at
// Warn, and listed in the Warn with the fix.
const warnedValues = 20

// largestFirst orders keys, sorted, by their sizes, largest first, and
// keys of one size as sorted: the order fit drops them in.
func largestFirst(keys []string, sizes map[string]int) {
	slices.Sort(keys)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(sizes[b], sizes[a]) })
}

// affordable returns the keys of values, largest first, that a session of
// mgr might hold, and the largest it cannot hold beside them, whatever
// their encoding: an entry takes its key, its bytes and two more (FORMAT.md
// section 4), and mgr's cookies hold at most 4096 bytes each of base64. A
// session stores its values in one encoding that each Set and Delete
// scans, so carrying an scs session of thousands of values one by one,
// and fit's Save after each Delete, took seconds of CPU.
func affordable(mgr *cookiesession.Manager, values map[string]any) (kept, left []string) {
	keys := slices.Collect(maps.Keys(values))
	sizes := make(map[string]int, len(keys))
	for k, v := range values {
		sizes[k] = size(v)
	}
	largestFirst(keys, sizes)
	room := len(mgr.CookieNames()) * 4096 * 3 / 4
	i := len(keys)
	for ; i > 0; i-- {
		k := keys[i-1]
		room -= len(k) + 2
		switch values[k].(type) {
		case string, []byte, json.RawMessage:
			room -= sizes[k] // their bytes; another type may encode smaller than its JSON
		}
		if room < 0 {
			break
		}
	}
	return keys[i:], keys[:i]
}

// size is about what v takes in the session: its bytes, or its JSON's.
func size(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	case json.RawMessage:
		return len(v)
	}
	b, _ := json.Marshal(v)
	return len(b)
}
