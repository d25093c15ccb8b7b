package cookiesession_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// speculativeLine is the start of the line logged for a session changed
// by a request sent ahead of a click.
const speculativeLine = "a request sent ahead of a click"

// signedIn returns a client holding a session with a user and a flash,
// issued by f's Manager at the fixture's clock.
func signedIn(t *testing.T, f *fixture) *clientCookies {
	t.Helper()
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		s.AddFlash("saved")
	})
	return b
}

// TestSpeculativeChangeWarns checks that a handler's change to its
// session on a request a browser or a framework marked as sent ahead of a
// click (speculation rules, link prefetch, Turbo, Next.js, htmx) is logged
// at Warn, naming the marker, the change, the route and the fix, and that
// the response is the one the same request without the marker gets: a
// click shows the prefetched response. A read (with a rolling refresh
// due, which the middleware makes by itself), a Touch, a Set of the value
// held, a request without a marker and a marker's other values are not
// logged.
func TestSpeculativeChangeWarns(t *testing.T) {
	destroy := func(s *cookiesession.Session) { s.Destroy() }
	flashes := func(s *cookiesession.Session) { s.Flashes() }
	for _, tc := range []struct {
		name, header, value string
		handler             func(*cookiesession.Session)
		change              string // "" for no line
	}{
		{"speculation rules logout", "Sec-Purpose", "prefetch", destroy, "sign-out"},
		{"prerender flash", "Sec-Purpose", "prefetch;prerender", flashes, "flash consumed"},
		{"anonymous prefetch", "Sec-Purpose", "prefetch;anonymous-client-ip", func(s *cookiesession.Session) { s.Clear() }, "sign-out"},
		{"legacy Purpose", "Purpose", "prefetch", func(s *cookiesession.Session) { _ = s.Set("visits", 1) }, "values changed"},
		{"Safari preview", "X-Purpose", "preview", func(s *cookiesession.Session) { s.Renew() }, "renew"},
		{"Firefox", "X-Moz", "prefetch", func(s *cookiesession.Session) { s.Delete("user"); s.Delete("_flash") }, "sign-out"},
		{"Turbo hover", "X-Sec-Purpose", "prefetch", func(s *cookiesession.Session) { s.PopString("user") }, "flash consumed"},
		{"Next.js Link", "Next-Router-Prefetch", "1", func(s *cookiesession.Session) { s.Renew(); _ = s.Set("n", 2) }, "renew, values changed"},
		{"htmx preload", "Hx-Preloaded", "true", func(s *cookiesession.Session) { s.Delete("user") }, "values changed"},
		{"case of the value", "Sec-Purpose", "Prefetch", destroy, "sign-out"},
		{"a later member of the list", "Sec-Purpose", "prerender, prefetch", destroy, "sign-out"},
		{"a later member with a parameter", "Sec-Purpose", `x;y="a,b", prefetch;anonymous-client-ip`, destroy, "sign-out"},
		{"a parameter named prefetch", "Sec-Purpose", "x;prefetch", destroy, ""},
		{"read, refresh due", "Sec-Purpose", "prefetch", func(s *cookiesession.Session) { s.GetString("user") }, ""},
		{"Touch", "Sec-Purpose", "prefetch", func(s *cookiesession.Session) { s.Touch() }, ""},
		{"the value held", "Sec-Purpose", "prefetch", func(s *cookiesession.Session) { _ = s.Set("user", "ada") }, ""},
		{"no marker", "", "", destroy, ""},
		{"another purpose", "Sec-Purpose", "prefetcher", destroy, ""},
		{"empty", "Purpose", "", destroy, ""},
		{"Next.js navigation", "Next-Router-Prefetch", "0", destroy, ""},
		{"htmx request", "Hx-Request", "true", destroy, ""},
		{"POST", "Sec-Purpose", "prefetch", destroy, ""}, // the name is the method
		{"DELETE", "Sec-Purpose", "prefetch", destroy, ""},
		{"HEAD", "Sec-Purpose", "prefetch", destroy, "sign-out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
			b := signedIn(t, f)
			f.clock.Advance(40 * time.Minute) // a rolling refresh is due
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.handler(sessionOf(t, r)) })
			method := http.MethodGet
			if tc.name == "POST" || tc.name == "DELETE" || tc.name == "HEAD" {
				method = tc.name
			}
			plain := b.clone().do(f.m.Handler(h), method, "/account/logout")
			req := b.requestMethod(method, "/account/logout")
			if tc.header != "" {
				req.Header[tc.header] = []string{tc.value}
			}
			rec := httptest.NewRecorder()
			f.m.Handler(h).ServeHTTP(rec, req)
			if got, want := cookieNames(t, rec.Header()), cookieNames(t, plain.Header()); got != want || got == "" {
				t.Errorf("Set-Cookie for %s, want %s as without the marker", got, want)
			}
			warns := f.log.lines(speculativeLine)
			if tc.change == "" {
				if len(warns) != 0 {
					t.Fatalf("logged: %s", warns)
				}
				return
			}
			if len(warns) != 1 {
				t.Fatalf("%d lines, want 1; log:\n%s", len(warns), f.log)
			}
			for _, want := range []string{"level=WARN", "marker=" + strconv.Quote(tc.header+": "+tc.value), "change=" + textValue(tc.change), "method=" + method, "path=/account/logout", "make this change on a POST", "data-turbo-prefetch"} {
				if !strings.Contains(warns[0], want) {
					t.Errorf("the line does not say %s: %s", want, warns[0])
				}
			}
		})
	}
}

// cookieNames lists the names h sets, and whether each is cleared.
func cookieNames(t *testing.T, h http.Header) string {
	var names []string
	for _, c := range parseSetCookies(t, h) {
		name := c.Name
		if c.MaxAge < 0 {
			name += " (cleared)"
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// TestSpeculativeChangeOncePerRoute checks that the line is logged once
// per route and change, however many prefetches repeat it, and again for
// another route or another change.
func TestSpeculativeChangeOncePerRoute(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := signedIn(t, f)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		if r.URL.Path == "/logout" {
			s.Destroy()
			return
		}
		_ = s.Set("seen", r.URL.Path)
	}))
	for _, path := range []string{"/logout", "/logout", "/a", "/a", "/b", "/logout"} {
		req := b.request(path)
		req.Header.Set("Sec-Purpose", "prefetch")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	warns := f.log.lines(speculativeLine)
	if len(warns) != 3 {
		t.Fatalf("%d lines, want one for each of /logout, /a and /b; log:\n%s", len(warns), f.log)
	}
	for i, want := range []string{"path=/logout", "path=/a", "path=/b"} {
		if !strings.Contains(warns[i], want) {
			t.Errorf("line %d does not say %s: %s", i, want, warns[i])
		}
	}
}

// TestSpeculativeChangeLoadSave checks the line for a session from Load,
// saved by Save or committed by CommitHeader (a framework's adapter, a
// Lambda), which read the marker from the request they are given, and
// not for one CommitHeader gets no request for.
func TestSpeculativeChangeLoadSave(t *testing.T) {
	for _, how := range []string{"Save", "SaveHeader then CommitHeader", "CommitHeader without r"} {
		t.Run(how, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			b := signedIn(t, f)
			req := b.request("/logout")
			req.Header.Set("X-Sec-Purpose", "prefetch")
			s, err := f.m.Load(req)
			if err != nil {
				t.Fatal(err)
			}
			s.Destroy()
			h := http.Header{}
			switch how {
			case "Save":
				rec := httptest.NewRecorder()
				err = f.m.Save(rec, req, s)
				h = rec.Header()
			case "SaveHeader then CommitHeader":
				if err = f.m.SaveHeader(h, s); err == nil {
					err = f.m.CommitHeader(h, s, req)
				}
			default:
				err = f.m.CommitHeader(h, s, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			requireCleared(t, h, "session")
			want := map[bool]int{true: 1}[how != "CommitHeader without r"]
			if warns := f.log.lines(speculativeLine); len(warns) != want {
				t.Fatalf("%d lines, want %d; log:\n%s", len(warns), want, f.log)
			}
		})
	}
}

// textValue is v as slog's text handler writes it: quoted if it holds a
// space.
func textValue(v string) string {
	if strings.ContainsRune(v, ' ') {
		return strconv.Quote(v)
	}
	return v
}

// TestSpeculativeChangeOncePerPattern checks that, under a ServeMux, the
// line is logged once per route pattern, not per path: the prefetches of
// a list's links (/item/1, /item/2, ...) fill no memory and log once,
// naming the route, and another route is logged on its own.
func TestSpeculativeChangeOncePerPattern(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := signedIn(t, f)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		_ = sessionOf(t, r).Set("last_seen", r.PathValue("id"))
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Destroy() })
	h := f.m.Handler(mux)
	for i := range 100 {
		req := b.request("/item/" + strconv.Itoa(i))
		req.Header.Set("Sec-Purpose", "prefetch")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	req := b.request("/logout")
	req.Header.Set("Sec-Purpose", "prefetch")
	h.ServeHTTP(httptest.NewRecorder(), req)
	warns := f.log.lines(speculativeLine)
	if len(warns) != 2 {
		t.Fatalf("%d lines, want one for each route; log:\n%s", len(warns), f.log)
	}
	for i, want := range []string{`route="GET /item/{id}"`, `route="GET /logout"`} {
		if !strings.Contains(warns[i], want) || !strings.Contains(warns[i], "level=WARN") {
			t.Errorf("line %d does not say %s at Warn: %s", i, want, warns[i])
		}
	}
}
