package migrate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
func fit(w http.ResponseWriter, r *http.Request, mgr *cookiesession.Manager, s *cookiesession.Session, logger *slog.Logger) {
	keys := s.Keys()
	if len(keys) == 0 {
		return
	}
	sizes := make(map[string]int, len(keys))
	for _, k := range keys {
		v, _ := s.Get(k)
		sizes[k] = size(v)
	}
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(sizes[b], sizes[a]) })
	var dropped []string
	for _, k := range keys {
		if err := mgr.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
			break
		}
		v, _ := s.Get(k)
		s.Delete(k)
		dropped = append(dropped, k)
		notCarried(r.Context(), logger, k, v, errors.New("the session is too large for the new cookie; the largest values are left out"),
			slog.Int("bytes", sizes[k]))
	}
	if len(dropped) > 0 {
		_ = mgr.Save(w, r, s) // an error here the commit answers
		logger.WarnContext(r.Context(), "cookiesession/migrate: the old session is too large for the new cookie; its largest values were left out",
			slog.Any("keys", dropped),
			slog.String("fix", fmt.Sprintf("keep large data in your database and its id in the session, or raise Options.MaxChunks (now %d); until then users whose old sessions are this large lose these values", len(mgr.CookieNames()))))
	}
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
