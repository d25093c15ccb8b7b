package cookiesession_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestLoggerCallsIntoSession: a Logger whose handler reads the session of
// the context it is given (to tag lines with the session id) gets every
// line the Manager logs about that session, and no deadlock: the Manager
// logs with the session's lock released.
func TestLoggerCallsIntoSession(t *testing.T) {
	signedIn := func(f *fixture) *clientCookies {
		b := newClientCookies()
		f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
		return b
	}
	expired := func(f *fixture) *http.Request {
		b := signedIn(f)
		f.clock.Advance(48 * time.Hour)
		return b.request("/")
	}
	tossed := func(f *fixture) *http.Request { // a second cookie of the name, first
		r := signedIn(f).request("/")
		r.Header.Set("Cookie", "session=AAAA; "+r.Header.Get("Cookie"))
		return r
	}
	for _, tc := range []struct {
		name    string
		opts    cookiesession.Options
		request func(*fixture) *http.Request
		handler http.HandlerFunc
		want    string // in the log line
	}{
		{"change after the commit", cookiesession.Options{}, nil, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			w.WriteHeader(http.StatusNoContent)
			_ = s.Set("user", "ada")
		}, "after the response was committed"},
		{"refused cookie at first use", cookiesession.Options{MaxAge: time.Hour}, expired, func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).GetString("user")
		}, "session cookie refused"},
		{"a cookie tossed before the session's", cookiesession.Options{}, tossed, func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).GetString("user")
		}, "two cookies of the session's name"},
		{"SetLifetime past MaxLifetime", cookiesession.Options{MaxAge: time.Hour, MaxLifetime: time.Hour}, nil, func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).SetLifetime(cookiesession.Lifetime{MaxAge: 2 * time.Hour})
		}, "MaxLifetime"},
		{"foreign Set-Cookie at the commit", cookiesession.Options{}, nil, func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).GetString("user")
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
		}, "which the Manager did not write"},
		{"replaced Set-Cookie at the commit", cookiesession.Options{}, nil, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "user", "ada")
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
		}, "replaced that line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			tc.opts.Logger = slog.New(sessionLogHandler{slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})})
			f.m = f.manager(tc.opts)
			req := newClientCookies().request("/")
			if tc.request != nil {
				req = tc.request(f)
			}
			finishes(t, tc.name, func() {
				f.m.Handler(tc.handler).ServeHTTP(httptest.NewRecorder(), req)
			})
			lines := f.log.lines(tc.want)
			if len(lines) == 0 {
				t.Fatalf("no log line %q; log:\n%s", tc.want, f.log)
			}
			if !strings.Contains(lines[len(lines)-1], "session=") {
				t.Errorf("log line %q lacks the session id its handler added", lines[len(lines)-1])
			}
		})
	}
}

// TestValidatePanicReleasesSession: a Validate that panics when the
// session is opened unwinds like any handler panic, and the session it did
// not pass is not served. A recovery inside the middleware (gin's, echo's)
// finds it new and empty, and the middleware still commits it; one
// outside (net/http's) gets the panic, and no cookie goes out.
func TestValidatePanicReleasesSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
	f.m = f.manager(cookiesession.Options{Validate: func(*http.Request, *cookiesession.Session) error {
		panic("user store down")
	}})
	reader := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") })
	saver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = f.m.Save(w, r, sessionOf(t, r)) })
	for name, handler := range map[string]http.Handler{"first use": reader, "Save": saver} {
		t.Run("recovered inside, at "+name, func(t *testing.T) {
			var recovered any
			var user string
			recovery := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					defer func() {
						if recovered = recover(); recovered != nil {
							user = cookiesession.FromContext(r.Context()).GetString("user")
							w.WriteHeader(http.StatusInternalServerError)
						}
					}()
					next.ServeHTTP(w, r)
				})
			}
			rec := httptest.NewRecorder()
			finishes(t, "a panic in Validate, recovered inside", func() {
				f.m.Handler(recovery(handler)).ServeHTTP(rec, b.request("/"))
			})
			if recovered != "user store down" || user != "" || rec.Code != http.StatusInternalServerError {
				t.Errorf("recovered %v, user %q, status %d; want Validate's panic, no user and 500", recovered, user, rec.Code)
			}
			if got := rec.Header().Values("Set-Cookie"); len(got) > 0 {
				t.Errorf("Set-Cookie %q; want none: the client keeps its cookie", got)
			}
		})
	}
	t.Run("recovered outside", func(t *testing.T) {
		var recovered any
		rec := httptest.NewRecorder()
		finishes(t, "a panic in Validate, recovered outside", func() {
			defer func() { recovered = recover() }()
			f.m.Handler(reader).ServeHTTP(rec, b.request("/"))
		})
		if recovered != "user store down" || len(rec.Header().Values("Set-Cookie")) > 0 {
			t.Errorf("recovered %v, Set-Cookie %q; want Validate's panic and none", recovered, rec.Header().Values("Set-Cookie"))
		}
	})
}

// TestChangesAcrossTheCommit has workers change one session while another
// goroutine commits the response midway (a Write, a Flush, or the handler
// returning), each worker calling Save after each change. No change is
// lost without a word: a value the cookie lacks was set after a Save that
// returned ErrHeadersWritten, and the late change is logged at Warn.
func TestChangesAcrossTheCommit(t *testing.T) {
	const workers, rounds, half = 4, 60, 30
	commits := map[string]func(w http.ResponseWriter){
		"Write":    func(w http.ResponseWriter) { _, _ = io.WriteString(w, "ok") },
		"Flush":    func(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() },
		"returned": nil,
	}
	for name, commit := range commits {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			savedUpTo := make([]int, workers) // the last round whose Save returned nil
			var late atomic.Bool
			var finished sync.WaitGroup
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				var halfway sync.WaitGroup
				halfway.Add(workers)
				for i := range workers {
					finished.Go(func() {
						key := "k" + strconv.Itoa(i)
						for j := range rounds {
							mustSet(t, s, key, j)
							switch err := f.m.Save(w, r, s); {
							case err == nil:
								savedUpTo[i] = j
							case errors.Is(err, cookiesession.ErrHeadersWritten):
								late.Store(true)
							default:
								t.Errorf("Save: %v", err)
							}
							_, _, _ = s.ID(), s.Keys(), s.Lifetime()
							if j == half {
								halfway.Done()
							}
						}
					})
				}
				halfway.Wait()
				if commit != nil {
					commit(w)
				}
			})
			rec := httptest.NewRecorder()
			finishes(t, name, func() {
				f.m.Handler(h).ServeHTTP(rec, newClientCookies().request("/"))
				finished.Wait()
			})
			b := newClientCookies()
			b.apply(t, rec.Result().Header)
			lost := false // a change set after the commit did not reach the cookie
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				for i := range workers {
					got := s.GetInt("k" + strconv.Itoa(i))
					if got < savedUpTo[i] {
						t.Errorf("k%d = %d in the cookie; Save returned nil after round %d", i, got, savedUpTo[i])
					}
					if got < rounds-1 && !late.Load() {
						t.Errorf("k%d = %d in the cookie, set up to %d, and no Save said ErrHeadersWritten", i, got, rounds-1)
					}
					lost = lost || got < rounds-1
				}
			})
			// A Save after the commit of changes set before it loses nothing
			// (the commit carried them) and is not logged; a lost one is.
			if lost && len(f.log.lines("after the response was committed")) == 0 {
				t.Errorf("changes after the commit were lost, and no Warn; log:\n%s", f.log)
			}
		})
	}
}

// TestSessionMethodsAcrossTheCommit calls every Session method from
// several goroutines while the response is committed, for -race and for
// deadlocks; a Validate and a Logger that call into the session are in the
// way, and an ErrorHandler that re-enters it answers a session too large.
func TestSessionMethodsAcrossTheCommit(t *testing.T) {
	const workers, rounds = 4, 40
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
	var handled atomic.Int32
	f.m = f.manager(cookiesession.Options{
		Logger: slog.New(sessionLogHandler{slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})}),
		Validate: func(r *http.Request, s *cookiesession.Session) error {
			_, _ = cookiesession.FromContext(r.Context()).ID(), s.GetString("user")
			return s.Set("validated", true)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handled.Add(1)
			s := cookiesession.FromContext(r.Context())
			s.Clear()
			if err := cookiesession.FromContext(r.Context()).Set("error", err.Error()); err != nil {
				t.Error(err)
			}
			w.WriteHeader(http.StatusInternalServerError)
		},
	})
	methods := []func(s *cookiesession.Session){
		func(s *cookiesession.Session) { _ = s.Set("a", 1) },
		func(s *cookiesession.Session) { _, _ = s.Get("a") },
		func(s *cookiesession.Session) { s.Delete("a") },
		func(s *cookiesession.Session) { _, _ = s.Pop("a") },
		func(s *cookiesession.Session) { s.AddFlash("hi") },
		func(s *cookiesession.Session) { _ = s.Flashes() },
		func(s *cookiesession.Session) { s.Renew() },
		func(s *cookiesession.Session) { _ = s.SetLifetime(cookiesession.Lifetime{MaxAge: time.Hour}) },
		func(s *cookiesession.Session) { s.Touch() },
		func(s *cookiesession.Session) { s.SkipRefresh() },
		func(s *cookiesession.Session) { _, _, _ = s.ID(), s.Lifetime(), s.ExpiresAt() },
		func(s *cookiesession.Session) { _, _ = cookiesession.GetAs[int](s, "a") },
		func(s *cookiesession.Session) { _ = s.SetJSON("big", strings.Repeat("x", 5000)) }, // too large
		func(s *cookiesession.Session) { s.Delete("big") },
		func(s *cookiesession.Session) { s.Destroy() },
	}
	for run := range 20 {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					for j := range rounds {
						methods[(i*7+j+run)%len(methods)](s)
						if j == rounds/2 && i == 0 {
							_, _ = io.WriteString(w, "ok") // the commit, amid the others
						}
					}
				})
			}
			wg.Wait()
		})
		finishes(t, "methods across the commit", func() {
			f.m.Handler(h).ServeHTTP(httptest.NewRecorder(), b.clone().request("/"))
		})
	}
	if len(f.log.lines("after the response was committed")) == 0 {
		t.Errorf("no change after the commit was logged; log:\n%s", f.log)
	}
	t.Logf("ErrorHandler answered %d of 20 requests", handled.Load())
}

// TestRingReloadUnderLoad swaps the ring (Replace, ReloadFile, WatchFile,
// AddScheduled, SetClock, SetMaxLifetime) while requests seal and open
// sessions and Metrics is read, for -race. Every ring holds the keys that
// seal, so every session opens on the next request; and each Metrics names as Primary the key its Keys mark
// primary.
func TestRingReloadUnderLoad(t *testing.T) {
	const requests, readers, keyC = 150, 2, 0x3c4d5e6f
	scheduled := keyForID(t, keyC)
	ringA, ringB := ringOf(t, keyA, keyB), ringOf(t, keyB, keyA)
	path := filepath.Join(t.TempDir(), "ring.json")
	writeFileAtomic(t, path, marshalRing(t, ringA), time.Time{})
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(fixedNow)
	m, err := cookiesession.New(ring, cookiesession.Options{Now: clock.Now, Logger: debugLogger(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	// Stopped and joined however the test ends: after the t.Fatalf below,
	// the readers' checkMetrics would otherwise run on past the test.
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { _ = ring.WatchFile(ctx, path, time.Millisecond, func(error) {}) })
	wg.Go(func() { // the operator
		for i := 0; ctx.Err() == nil && i < 100000; i++ {
			switch i % 6 {
			case 0:
				_ = ring.Replace([2]*cookiesession.KeyRing{ringA, ringB}[i/6%2])
			case 1:
				_ = ring.ReloadFile(path)
			case 2:
				_ = ring.AddScheduled(scheduled, fixedNow.Add(time.Hour))
			case 3:
				ring.SetClock(clock.Now)
			case 4:
				_ = m.SetMaxLifetime(time.Duration(24+i%2) * time.Hour)
			case 5:
				_ = ring.Remove(keyC)
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				checkMetrics(t, m.Metrics())
			}
		})
	}
	count := 0
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		count = s.GetInt("n") + 1
		mustSet(t, s, "n", count)
	}))
	b := newClientCookies()
	for i := range requests {
		b.apply(t, b.do(h, "GET", "/").Result().Header)
		if count != i+1 {
			t.Fatalf("request %d counted %d: a session was lost across a reload", i+1, count)
		}
	}
}

// TestStackedManagersFromGoroutines uses two stacked Managers' sessions
// from goroutines that find them through FromContext and
// Manager.FromContext, and save both, while the response is written: for
// -race, and each cookie carries its own Manager's values.
func TestStackedManagersFromGoroutines(t *testing.T) {
	const workers, rounds = 4, 50
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	h := f.m.Handler(prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				for j := range rounds {
					mustSet(t, f.m.FromContext(r.Context()), "auth"+strconv.Itoa(i), j)
					mustSet(t, prefs.FromContext(r.Context()), "prefs"+strconv.Itoa(i), j)
					if cookiesession.FromContext(r.Context()) != prefs.FromContext(r.Context()) {
						t.Error("FromContext is not the innermost Manager's session")
					}
					_ = f.m.Save(w, r, f.m.FromContext(r.Context()))
				}
			})
		}
		wg.Wait()
		_, _ = io.WriteString(w, "ok")
	})))
	b := newClientCookies()
	finishes(t, "stacked Managers", func() { b.apply(t, b.do(h, "GET", "/").Result().Header) })
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		auth := sessionOf(t, r)
		for i := range workers {
			if got := auth.GetInt("auth" + strconv.Itoa(i)); got != rounds-1 || auth.Has("prefs"+strconv.Itoa(i)) {
				t.Errorf("auth%d = %d, prefs%d present %v; want %d and absent", i, got, i, auth.Has("prefs"+strconv.Itoa(i)), rounds-1)
			}
		}
	})
	if b.vals["prefs"] == "" {
		t.Errorf("no prefs cookie; cookies %v", b.names())
	}
}
