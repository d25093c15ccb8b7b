package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// carry stores an old session's value in s: as it is if the session holds
// its type, a list of strings (gorilla's AddFlash(v, "error")) as a
// []string, else as JSON (read it back with GetJSON). A value neither
// takes is logged at Warn with its key and type, and not carried; so is
// one whose key s holds already with another value, as when two old
// sessions (gorilla's "auth" and "prefs") are carried into one.
func carry(ctx context.Context, logger *slog.Logger, s *cookiesession.Session, key string, v any) {
	v = stringList(v)
	if held, ok := s.Get(key); ok {
		if !same(held, v) {
			notCarried(ctx, logger, key, v, errors.New("the session holds this key already, from another old session carried into it, whose value is kept: carry each old cookie into a Manager of its own, stacked, or rename the key in one of them"))
		}
		return
	}
	var probe cookiesession.Values // Set here refuses a type without logging
	err := probe.Set(key, v)
	if err == nil {
		err = s.Set(key, v)
	} else {
		err = s.SetJSON(key, v)
	}
	if err != nil {
		notCarried(ctx, logger, fmt.Sprint(key), v, err)
	}
}

// stringList returns v, a []any that holds only strings, as a []string,
// which GetStrings reads; JSON would hide the list from it. Any other v
// is returned as it is.
func stringList(v any) any {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return v
	}
	out := make([]string, len(list))
	for i, item := range list {
		if out[i], ok = item.(string); !ok {
			return v
		}
	}
	return out
}

// same reports whether held, a session's value, is v as carry stores it.
func same(held, v any) bool {
	if raw, ok := held.(json.RawMessage); ok {
		if _, isRaw := v.(json.RawMessage); !isRaw {
			b, err := json.Marshal(v)
			return err == nil && bytes.Equal(raw, b)
		}
	}
	return reflect.DeepEqual(held, v)
}

func notCarried(ctx context.Context, logger *slog.Logger, key string, v any, err error, attrs ...any) {
	notCarriedAt(ctx, logger, slog.LevelWarn, key, v, err, attrs...)
}

func notCarriedAt(ctx context.Context, logger *slog.Logger, level slog.Level, key string, v any, err error, attrs ...any) {
	attrs = append([]any{slog.String("key", key), slog.String("type", fmt.Sprintf("%T", v)), slog.String("error", err.Error())}, attrs...)
	logger.Log(ctx, level, "cookiesession/migrate: a value of the old session was not carried", attrs...)
}

// everyMinute passes a line a flood of requests may log at Warn once a
// minute, and at Debug in between.
type everyMinute struct{ last atomic.Int64 } // Unix nanoseconds

func (e *everyMinute) level() slog.Level {
	now, last := time.Now().UnixNano(), e.last.Load()
	if (last == 0 || now-last >= int64(time.Minute)) && e.last.CompareAndSwap(last, now) {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// mustSession returns the session of mgr's Handler, and panics outside
// it, where nothing would save what the middleware carries: at the first
// request, not only at a migrating user's.
func mustSession(mgr *cookiesession.Manager, r *http.Request) *cookiesession.Session {
	s := mgr.FromContext(r.Context())
	if s == nil {
		panic("cookiesession/migrate: the middleware runs outside mgr's Handler, where nothing would save what it carries: wrap the handler with Manager.Handler, as mgr.Handler(migrate.FromGorilla(...)(mux))")
	}
	return s
}
