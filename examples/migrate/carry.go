package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// carry stores an old session's value in s: as it is if the session holds
// its type, else as JSON (read it back with GetJSON). A value neither
// takes is logged at Warn with its key and type, and not carried.
func carry(ctx context.Context, logger *slog.Logger, s *cookiesession.Session, key string, v any) {
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
