package cookiesession_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// hostileRun is what the hostile requests below carry, 8 KiB of it in a
// path, a Host or a method; a log line holding hostileRun[:201] carries
// more than the 200 bytes of a request README allows a log line.
var hostileRun = strings.Repeat("a", 8192)

// forgedLine starts a path as an attacker would to forge a log line.
const forgedLine = "\nlevel=ERROR msg=forged "

// TestHostileRequestsLogBounded sends requests that trigger each warning
// that names a request's path, Host or method, with 8 KiB in them and a
// forged line break, and checks through slog's text and JSON handlers that
// no log line carries more than a bounded part of them, or a line the
// attacker wrote, or any part of a refused token.
func TestHostileRequestsLogBounded(t *testing.T) {
	set := func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") }
	forged := sealForged(t)
	tests := []struct {
		name string
		opts cookiesession.Options
		h    http.HandlerFunc
		req  func(r *http.Request)
		want string // a line the request must log
	}{
		{"plain HTTP", cookiesession.Options{}, set, func(r *http.Request) { r.Host = "h" + hostileRun + ".example" }, "plain-HTTP request"},
		{"Domain mismatch", cookiesession.Options{Domain: "example.com"}, set, func(r *http.Request) {
			r.Host = hostileRun + ".evil.test"
			r.TLS = nil
			r.Header.Set("X-Forwarded-Proto", "https")
		}, "does not match the request's host"},
		{"cross-site", cookiesession.Options{}, func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") }, func(r *http.Request) {
			r.Method = "X" + hostileRun
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.Header.Set("Sec-Fetch-Mode", "navigate")
			r.Header.Set("Sec-Fetch-Dest", "document")
		}, "cross-site request"},
		{"too large", cookiesession.Options{}, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "big", strings.Repeat("v", 8000))
		}, nil, "cannot save session"},
		{"changed after commit", cookiesession.Options{}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			mustSet(t, sessionOf(t, r), "user", "ada")
		}, nil, "changed after the response was committed"},
		{"unknown key", cookiesession.Options{}, func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") }, func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "session", Value: forged})
		}, "unknown key id"},
	}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	}
	for _, tt := range tests {
		for hname, newHandler := range handlers {
			t.Run(tt.name+"/"+hname, func(t *testing.T) {
				var buf bytes.Buffer
				opts := tt.opts
				opts.Logger = slog.New(newHandler(&buf))
				opts.Now = newFakeClock(fixedNow).Now
				m, err := cookiesession.New(ringOf(t, keyA), opts)
				if err != nil {
					t.Fatal(err)
				}
				r := httptest.NewRequest("GET", "http://app.internal/", nil)
				r.URL.Path = "/" + forgedLine + hostileRun
				if tt.req != nil {
					tt.req(r)
				}
				m.Handler(tt.h).ServeHTTP(httptest.NewRecorder(), r)
				out := buf.String()
				if !strings.Contains(out, tt.want) {
					t.Fatalf("no line says %q; log:\n%s", tt.want, out)
				}
				if strings.Contains(out, hostileRun[:201]) {
					t.Errorf("a log line carries more than 200 bytes of the request's 8 KiB: %.600s", out)
				}
				for line := range strings.Lines(out) {
					if strings.HasPrefix(line, strings.TrimPrefix(forgedLine, "\n")) {
						t.Errorf("the request forged a log line: %s", line)
					}
				}
				if strings.Contains(out, forged[:16]) {
					t.Errorf("the log carries the start of the refused token: %s", out)
				}
				for id := range m.Metrics().Opened {
					if id != cookiesession.FormatKeyID(keyA) {
						t.Errorf("metric opened has the label key_id %s, a key the ring does not hold", id)
					}
				}
			})
		}
	}
}

// sealForged returns a token sealed under a key the tests' Managers do
// not hold, as a forger or another fleet would send.
func sealForged(t *testing.T) string {
	t.Helper()
	c, err := cookiesession.NewCodec(ringOf(t, keyB), cookiesession.CodecOptions{Name: "session"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := c.SealAt(&cookiesession.Record{}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestSessionPrintsNoSecret prints a Session, as a handler's debugging
// line might, with fmt's verbs and through slog's handlers, after its
// cookie was written: neither its values, its token nor its id may show.
func TestSessionPrintsNoSecret(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	const value = "hunter2-session-value"
	var printed []string
	var id string
	h := func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "password", value)
		id = s.ID()
		w.WriteHeader(http.StatusOK) // the Session now holds its Set-Cookie line
		for _, verb := range printVerbs {
			printed = append(printed, fmt.Sprintf(verb, s))
		}
		for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(newHandler(&buf)).Info("debugging", "session", s, "sessions", []*cookiesession.Session{s})
			printed = append(printed, buf.String())
		}
	}
	resp := f.serve(newClientCookies(), h)
	token := ""
	for _, c := range resp.Cookies() {
		token = c.Value
	}
	if len(token) < 16 {
		t.Fatalf("no session cookie written: %v", resp.Header)
	}
	for i, out := range printed {
		if strings.Contains(out, value) || strings.Contains(out, token[:16]) || strings.Contains(out, "password") || strings.Contains(out, id[:8]) {
			t.Errorf("print %d shows the session's values, token or id: %.300s", i, out)
		}
	}
	// README (Operators): fmt and slog's text handler print
	// cookiesession.Session, slog's JSON handler {}.
	for i, verb := range printVerbs {
		if verb != "%T" && verb != "%p" && printed[i] != "cookiesession.Session" {
			t.Errorf("fmt %s printed %q, want cookiesession.Session", verb, printed[i])
		}
	}
	text, js := printed[len(printVerbs)], printed[len(printVerbs)+1]
	if !strings.Contains(text, "session=cookiesession.Session sessions=[cookiesession.Session]") {
		t.Errorf("slog's text handler printed %q", text)
	}
	if !strings.Contains(js, `"session":{},"sessions":[{}]`) {
		t.Errorf("slog's JSON handler printed %q", js)
	}
}

// TestFloodLogsBounded sends 50 requests to each route whose every request
// logs at Warn or Error (a session too large to save, a change after the
// response, a lifetime over MaxLifetime), as an attacker's flood would:
// each logs at its level once a minute, and the rest at Debug.
func TestFloodLogsBounded(t *testing.T) {
	routes := map[string]http.HandlerFunc{
		"cannot save session": func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "big", strings.Repeat("v", 8000))
		},
		"changed after the response was committed": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			mustSet(t, sessionOf(t, r), "user", "ada")
		},
		"SetLifetime asks for more than MaxLifetime allows": func(w http.ResponseWriter, r *http.Request) {
			if err := sessionOf(t, r).SetLifetime(cookiesession.Lifetime{MaxAge: 3 * time.Hour}); err != nil {
				t.Error(err)
			}
		},
	}
	for msg, h := range routes {
		t.Run(msg, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 2 * time.Hour})
			flood := func() {
				for range 50 {
					f.m.Handler(h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://app.example/", nil))
				}
			}
			flood()
			f.clock.Advance(59 * time.Second)
			flood()
			lines := f.log.lines(msg)
			loud := 0
			for _, line := range lines {
				if !strings.Contains(line, "level=DEBUG") {
					loud++
				}
			}
			if len(lines) != 100 || loud != 1 {
				t.Fatalf("%d lines, %d above Debug; want 100 and 1:\n%s", len(lines), loud, f.log)
			}
			f.clock.Advance(time.Second)
			flood()
			if got := len(f.log.lines(msg)) - len(f.log.lines("level=DEBUG")); got != 2 {
				t.Errorf("%d lines above Debug after a minute, want 2", got)
			}
		})
	}
}
