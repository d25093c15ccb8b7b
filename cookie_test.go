package cookiesession_test

import (
	stdcmp "cmp"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// Tests of the cookie transport (cookie.go, cachefields.go, shadowed.go): chunks, the Set-Cookie lines
// with their attributes, Vary and Cache-Control, and quoted values.

// chunkOptions give three 1 KiB cookies: a 1000-byte value needs two, a
// 2000-byte value three.
var chunkOptions = cookiesession.Options{MaxCookieSize: 1024, MaxChunks: 3}

func TestDestroyExpiresEveryChunk(t *testing.T) {
	f := newFixture(t, chunkOptions)
	b := newClientCookies()
	f.serve(b, setString(t, "big", strings.Repeat("a", 1000)))
	if diff := cmp.Diff([]string{"session", "session.1"}, b.names()); diff != "" {
		t.Fatalf("a 2-chunk session expected (-want +got):\n%s", diff)
	}
	kept := b.clone()
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Destroy() })
	requireCleared(t, resp.Header, "session", "session.1")

	// Values set after Destroy start a new session in one small cookie.
	var oldID, newID string
	resp = f.serve(kept, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		oldID = s.ID()
		s.Destroy()
		mustSet(t, s, "user", "bob")
		newID = s.ID()
	})
	got := ourCookies(t, resp.Header, "session")
	if got["session"] == nil || got["session.1"] == nil || got["session.1"].MaxAge >= 0 || len(got) != 2 {
		t.Fatalf("Destroy then Set: want a new session cookie and session.1 expired, got %v", got)
	}
	rec := f.open(got["session"].Value)
	if rec.ID.String() != newID || newID == oldID || rec.Values.Len() != 1 {
		t.Errorf("Destroy then Set: token id %v values %v; old id %s, new id %s", rec.ID, rec.Values.Keys(), oldID, newID)
	}
}

func TestChunkedCookies(t *testing.T) {
	f := newFixture(t, chunkOptions)
	big := strings.Repeat("b", 2000)
	b := newClientCookies()
	resp := f.serve(b, setString(t, "user", big))
	got := ourCookies(t, resp.Header, "session")
	if diff := cmp.Diff([]string{"session", "session.1", "session.2"}, b.names()); diff != "" {
		t.Fatalf("chunk names (-want +got):\n%s", diff)
	}
	for name, c := range got {
		if n := len(name) + len(c.Value); n > chunkOptions.MaxCookieSize {
			t.Errorf("%s: name+value %d bytes, over %d", name, n, chunkOptions.MaxCookieSize)
		}
	}
	for _, order := range permutations([]string{"session", "session.1", "session.2"}) {
		shuffled := b.clone()
		shuffled.order = order
		var user string
		f.serve(shuffled, func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") })
		if user != big {
			t.Errorf("Cookie order %v: the session did not reassemble", order)
		}
	}
}

// TestManyChunks checks a session spread over more chunks than readToken
// keeps inline (four): it reassembles in any order, and a missing chunk
// past the fourth is a gap.
func TestManyChunks(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxCookieSize: 200, MaxChunks: 12})
	big := strings.Repeat("m", 1200)
	b := newClientCookies()
	f.serve(b, setString(t, "user", big))
	names := b.names()
	if len(names) < 8 {
		t.Fatalf("the session spans %d chunks %q; the test needs more than 4", len(names), names)
	}
	reversed := b.clone()
	reversed.order = slices.Clone(names)
	slices.Reverse(reversed.order)
	for _, c := range []*clientCookies{b, reversed} {
		var user string
		f.serve(c, func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") })
		if user != big {
			t.Errorf("Cookie order %v: the session did not reassemble", c.order)
		}
	}
	gap := b.clone()
	delete(gap.vals, "session.5")
	if s, err := f.m.Load(gap.request("/")); !errors.Is(err, cookiesession.ErrInvalid) || s.GetString("user") != "" {
		t.Errorf("without session.5: Load gave user of %d bytes, err %v; want a gap refused", len(s.GetString("user")), err)
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{slices.Clone(s)}
	}
	var out [][]string
	for i := range s {
		rest := slices.Concat(s[:i], s[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

func TestBrokenChunks(t *testing.T) {
	tests := []struct {
		name        string
		valueLen    int
		mangle      func(*clientCookies)
		wantCleared []string
	}{
		{"gap: session.1 missing", 2000, func(b *clientCookies) { delete(b.vals, "session.1") },
			[]string{"session", "session.1", "session.2"}},
		// Chunks without the first stay: a clear would expire session,
		// which reaches only a session a parallel response set
		// (TestLeftoverChunksKeepParallelLogin).
		{"first chunk missing", 1000, func(b *clientCookies) { delete(b.vals, "session") }, nil},
		{"first chunk missing of three", 2000, func(b *clientCookies) { delete(b.vals, "session") }, nil},
		// A garbage chunk above the session's own does not spoil it:
		// TestTossedChunkNames.
		{"last chunk swapped for another session's", 1000, nil, // filled in below
			[]string{"session", "session.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, chunkOptions)
			b := newClientCookies()
			f.serve(b, setString(t, "user", strings.Repeat("c", tt.valueLen)))
			if tt.mangle != nil {
				tt.mangle(b)
			} else {
				other := newClientCookies()
				f.serve(other, setString(t, "user", strings.Repeat("c", tt.valueLen)))
				b.vals["session.1"] = other.vals["session.1"]
			}
			var o observed
			resp := f.serve(b, observe(t, &o, http.StatusOK))
			if resp.StatusCode != http.StatusOK || !o.isNew || o.len != 0 {
				t.Errorf("status %d session %+v; want 200 and a fresh session", resp.StatusCode, o)
			}
			requireCleared(t, resp.Header, tt.wantCleared...)
		})
	}
}

// TestEvictedChunk checks what README's "Cookies beside the session's"
// says of a jar that evicts the session's cookies: without any of them the
// request is a new visitor's, and nothing is logged; without one chunk of
// three, the rest are refused at Debug and cleared, unless the one missing
// is the first, whose absence leaves the rest in place
// (TestLeftoverChunksKeepParallelLogin).
func TestEvictedChunk(t *testing.T) {
	for _, tc := range []struct {
		evicted []string
		refused bool
		cleared []string
	}{
		{[]string{"session", "session.1", "session.2"}, false, nil},
		{[]string{"session.2"}, true, []string{"session", "session.1"}},
		{[]string{"session.1"}, true, []string{"session", "session.1", "session.2"}},
		{[]string{"session"}, true, nil},
	} {
		f := newFixture(t, chunkOptions)
		b := newClientCookies()
		f.serve(b, setString(t, "user", strings.Repeat("c", 2000)))
		if got := b.names(); len(got) != 3 {
			t.Fatalf("the session is written as %v, want three chunks", got)
		}
		for _, name := range tc.evicted {
			delete(b.vals, name)
		}
		var o observed
		resp := f.serve(b, observe(t, &o, http.StatusOK))
		if !o.isNew || o.len != 0 {
			t.Errorf("%v evicted: session %+v, want a fresh one", tc.evicted, o)
		}
		requireCleared(t, resp.Header, tc.cleared...)
		refused := f.log.lines("session cookie refused")
		if len(refused) != map[bool]int{true: 1}[tc.refused] || tc.refused && !strings.Contains(refused[0], "level=DEBUG") {
			t.Errorf("%v evicted: refusals logged %q, want one at Debug: %v", tc.evicted, refused, tc.refused)
		}
		if !tc.refused && f.log.String() != "" {
			t.Errorf("%v evicted: logged %q, want nothing", tc.evicted, f.log)
		}
	}
}

// TestDestroyUnderCookieFlood checks a logout on a request that carries
// more cookies than net/http reads (a sibling host flooded the jar): its
// session cannot be seen, but the Destroy must still expire every chunk.
// It expired none, and the session came back once the flood was gone.
func TestDestroyUnderCookieFlood(t *testing.T) {
	f := newFixture(t, chunkOptions)
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	r := b.request("/logout")
	r.Header.Add("Cookie", strings.TrimSuffix(strings.Repeat("junk=1; ", 3001), "; "))
	rec := httptest.NewRecorder()
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessionOf(t, r).Destroy()
	})).ServeHTTP(rec, r)
	requireCleared(t, rec.Result().Header, "session", "session.1", "session.2")
	if lines := f.log.lines("request cookies ignored"); len(lines) != 1 || !strings.Contains(lines[0], "cookies, more than 3000") {
		t.Errorf("debug log %q, want one line saying the request's cookies were ignored", lines)
	}
}

// TestParallelResponsesKeepTheSession checks two parallel requests of one
// session over two chunks, one of which grows it to three. Whichever
// response lands last, the browser must hold that response's session: the
// one with two chunks expires the third, which its request did not carry.
// It expired only the chunks its request carried, so when it landed last
// the other's third chunk spoiled the token and the user was signed out.
func TestParallelResponsesKeepTheSession(t *testing.T) {
	for _, shorterLast := range []bool{true, false} {
		f := newFixture(t, chunkOptions)
		b := newClientCookies()
		f.serve(b, setString(t, "user", strings.Repeat("u", 1000)))
		grew, other := b.clone(), b.clone()
		grown := f.serve(grew, setString(t, "cart", strings.Repeat("c", 600)))
		kept := f.serve(other, setString(t, "theme", "dark"))
		if len(grew.vals) != 3 || len(other.vals) != 2 {
			t.Fatalf("cookies %v and %v, want three and two", grew.names(), other.names())
		}
		last, want := kept, "theme"
		if !shorterLast {
			grown, kept = kept, grown
			last, want = kept, "cart"
		}
		b.apply(t, grown.Header)
		b.apply(t, last.Header)
		var o observed
		f.serve(b, observe(t, &o, http.StatusOK))
		if o.isNew || o.user != strings.Repeat("u", 1000) {
			t.Fatalf("shorter last %t: browser holds %v, session %+v, want the one the last response set", shorterLast, b.names(), o)
		}
		rec := f.open(b.vals["session"] + b.vals["session.1"] + b.vals["session.2"])
		if _, ok := rec.Values.Get(want); !ok {
			t.Errorf("shorter last %t: the session lacks %q, which the last response stored", shorterLast, want)
		}
	}
}

// TestLeftoverChunksKeepParallelLogin: a logout that lands after a
// parallel response that grew the session leaves that response's higher
// chunks in the browser, without session. The next page signs in while a
// fetch of the page uses its session: both carry only those chunks. The
// fetch's answer expired them, and session with them, which its request
// never carried: when it landed after the login's, the user was signed
// out, whether the fetch read the session (refused as invalid), logged
// out, or stored a value, saved and emptied the session. Chunks without
// the first now stay, and the login stands whichever lands last, over one
// cookie or two; the login's answer expires them.
func TestLeftoverChunksKeepParallelLogin(t *testing.T) {
	fetches := map[string]func(f *fixture, o *observed) http.HandlerFunc{
		"reads": func(_ *fixture, o *observed) http.HandlerFunc { return observe(t, o, http.StatusOK) },
		"logs out": func(_ *fixture, o *observed) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				observe(t, o, http.StatusOK)(w, r)
				sessionOf(t, r).Destroy()
			}
		},
		"stores, saves and empties": func(f *fixture, o *observed) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				*o = observed{isNew: s.IsNew(), len: s.Len()}
				mustSet(t, s, "csrf", "t0k3n")
				if err := f.m.Save(w, r, s); err != nil {
					t.Errorf("Save: %v", err)
				}
				s.Clear()
			}
		},
	}
	for fetch, handler := range fetches {
		for _, loginSize := range []int{3, 900} {
			for _, fetchLast := range []bool{true, false} {
				f := newFixture(t, chunkOptions)
				b := newClientCookies()
				f.serve(b, setString(t, "user", "ada"))
				grew, out := b.clone(), b.clone()
				grown := f.serve(grew, setString(t, "cart", strings.Repeat("c", 900)))
				logout := f.serve(out, func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Destroy() })
				b.apply(t, grown.Header)
				b.apply(t, logout.Header)
				left := b.names()
				if len(left) == 0 || slices.Contains(left, "session") {
					t.Fatalf("after the grown session and the logout, cookies %v, want chunks without session", left)
				}
				login := f.serve(b.clone(), setString(t, "user", "bob"+strings.Repeat("b", loginSize)))
				var o observed
				answer := f.serve(b.clone(), handler(f, &o))
				if !o.isNew || o.len != 0 {
					t.Fatalf("%s: leftover chunks %v opened as a session: %+v", fetch, left, o)
				}
				requireCleared(t, answer.Header) // none
				first, last := login, answer
				if !fetchLast {
					first, last = answer, login
				}
				b.apply(t, first.Header)
				b.apply(t, last.Header)
				f.serve(b, observe(t, &o, http.StatusOK))
				if o.isNew || !strings.HasPrefix(o.user, "bob") {
					t.Errorf("fetch %s, login of %d bytes, fetch last %t: the browser holds %v, session %+v; want bob's", fetch, loginSize, fetchLast, b.names(), o)
				}
			}
		}
	}
}

func TestShrinkingExpiresStaleChunks(t *testing.T) {
	f := newFixture(t, chunkOptions)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", setString(t, "user", strings.Repeat("d", 2000)))
	mux.HandleFunc("/small", setString(t, "user", "d"))
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sessionOf(t, r).GetString("user"))
	})
	srv := newTLSServer(t, f.m.Handler(mux))
	c := srv.client(t)
	fetch(t, c, srv.URL+"/big")
	if _, body := fetch(t, c, srv.URL+"/read"); len(body) != 2000 {
		t.Fatalf("3-chunk session read back as %d bytes", len(body))
	}
	resp, _ := fetch(t, c, srv.URL+"/small")
	got := ourCookies(t, resp.Header, "session")
	if len(got) != 3 || got["session"].MaxAge <= 0 || got["session.1"].MaxAge >= 0 || got["session.2"].MaxAge >= 0 {
		t.Errorf("shrinking to one chunk: want session set and session.1, session.2 expired; got %v", got)
	}
	if srv.jarValue(t, c, "session.1") != "" || srv.jarValue(t, c, "session.2") != "" {
		t.Error("the jar still holds stale chunks")
	}
	if _, body := fetch(t, c, srv.URL+"/read"); body != "d" {
		t.Errorf("after shrinking read %q, want d", body)
	}
	srv.checkNoSuperfluous(t)
}

func TestNoDuplicateSetCookie(t *testing.T) {
	tests := []struct {
		name string
		h    func(t *testing.T, f *fixture) http.HandlerFunc
		want string
	}{
		{"handler sets our name first", func(t *testing.T, _ *fixture) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "handler"})
				mustSet(t, sessionOf(t, r), "user", "mw")
			}
		}, "mw"},
		{"Save then change", func(t *testing.T, f *fixture) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "user", "first")
				if err := f.m.Save(w, r, s); err != nil {
					t.Errorf("Save: %v", err)
				}
				mustSet(t, s, "user", "second")
				_, _ = io.WriteString(w, "x")
			}
		}, "second"},
		{"Save twice then change", func(t *testing.T, f *fixture) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "user", "first")
				for range 2 {
					if err := f.m.Save(w, r, s); err != nil {
						t.Errorf("Save: %v", err)
					}
				}
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "handler"})
				mustSet(t, s, "user", "third")
			}
		}, "third"},
		{"handler sets our name after Save", func(t *testing.T, f *fixture) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "user", "saved")
				if err := f.m.Save(w, r, s); err != nil {
					t.Errorf("Save: %v", err)
				}
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "handler"})
			}
		}, "saved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "other", Value: "kept"})
				tt.h(t, f)(w, r)
			})
			got := ourCookies(t, resp.Header, "session")["session"]
			if got == nil {
				t.Fatalf("no session cookie: %q", resp.Header.Values("Set-Cookie"))
			}
			if got.Value == "handler" {
				t.Fatalf("the handler's cookie replaced the session: %q", resp.Header.Values("Set-Cookie"))
			}
			if v, _ := f.userIn(got.Value); v != tt.want {
				t.Errorf("cookie holds user %v, want %s", v, tt.want)
			}
			if !slices.Contains(resp.Header.Values("Set-Cookie"), "other=kept") {
				t.Errorf("the handler's own cookie was dropped: %q", resp.Header.Values("Set-Cookie"))
			}
		})
	}
}

func TestVaryCookie(t *testing.T) {
	tests := []struct {
		name  string
		vary  []string
		write bool
		want  []string
	}{
		{"none, untouched", nil, false, nil},
		{"none, cookie set", nil, true, []string{"Cookie"}},
		{"other field", []string{"Accept-Encoding"}, true, []string{"Accept-Encoding", "Cookie"}},
		{"already Cookie", []string{"Cookie"}, true, []string{"Cookie"}},
		{"already in a list, lower case", []string{"accept-encoding, cookie"}, true, []string{"accept-encoding, cookie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
				for _, v := range tt.vary {
					w.Header().Add("Vary", v)
				}
				if tt.write {
					mustSet(t, sessionOf(t, r), "user", "alice")
				}
				_, _ = io.WriteString(w, "x")
			})
			if diff := cmp.Diff(tt.want, resp.Header.Values("Vary")); diff != "" {
				t.Errorf("Vary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheControlOnSetCookie(t *testing.T) {
	tests := []struct {
		name  string
		cc    string
		write bool
		want  string
	}{
		{"none", "", true, "no-store"},
		{"public", "public, max-age=60", true, "no-store"},
		{"private", "private", true, "private"},
		{"no-store", "no-store", true, "no-store"},
		{"public, no cookie sent", "public, max-age=60", false, "public, max-age=60"},
		{"none, no cookie sent", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "alice"))
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				if tt.cc != "" {
					w.Header().Set("Cache-Control", tt.cc)
				}
				if tt.write {
					mustSet(t, sessionOf(t, r), "user", "bob")
				}
				_, _ = io.WriteString(w, "x")
			})
			if got := resp.Header.Values("Set-Cookie"); (len(got) > 0) != tt.write {
				t.Fatalf("Set-Cookie %q", got)
			}
			if got := strings.Join(resp.Header.Values("Cache-Control"), ", "); got != tt.want {
				t.Errorf("Cache-Control %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name string
		opts cookiesession.Options
		want http.Cookie // Name, Value, Raw and MaxAge are not compared
		age  int         // Max-Age of the issued cookie; 0 = none
	}{
		{"defaults", cookiesession.Options{},
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}, 86400},
		{"strict, scripts may read", cookiesession.Options{SameSite: http.SameSiteStrictMode, DisableHttpOnly: true},
			http.Cookie{Path: "/", Secure: true, SameSite: http.SameSiteStrictMode}, 86400},
		{"insecure", cookiesession.Options{DisableSecure: true, MaxAge: 2 * time.Hour},
			http.Cookie{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}, 7200},
		{"none, partitioned", cookiesession.Options{SameSite: http.SameSiteNoneMode, Partitioned: true},
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true}, 86400},
		{"domain and path", cookiesession.Options{Domain: "example.com", Path: "/app"},
			http.Cookie{Path: "/app", Domain: "example.com", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}, 86400},
		{"browser session", cookiesession.Options{BrowserSession: true},
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}, 0},
		{"__Host- name", cookiesession.Options{Name: "__Host-sid"},
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}, 86400},
		// Left out, to each browser's own default (README, Options).
		{"SameSite default mode", cookiesession.Options{SameSite: http.SameSiteDefaultMode},
			http.Cookie{Path: "/", Secure: true, HttpOnly: true}, 86400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			name := stdcmp.Or(tt.opts.Name, "session")
			b := newClientCookies()
			resp := f.serve(b, setString(t, "user", "alice"))
			issued := ourCookies(t, resp.Header, name)[name]
			checkAttributes(t, "issued", issued, tt.want, tt.age)
			if tt.age == 0 && strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age") {
				t.Errorf("browser-session cookie has Max-Age: %s", resp.Header.Get("Set-Cookie"))
			}
			if tt.want.SameSite == 0 && strings.Contains(resp.Header.Get("Set-Cookie"), "SameSite") {
				t.Errorf("SameSite left to the browser, but the line has one: %s", resp.Header.Get("Set-Cookie"))
			}
			// The clearing cookie must carry the same scope, or the browser
			// keeps the original.
			resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Destroy() })
			checkAttributes(t, "cleared", ourCookies(t, resp.Header, name)[name], tt.want, -1)
		})
	}
}

func checkAttributes(t *testing.T, what string, got *http.Cookie, want http.Cookie, maxAge int) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no cookie", what)
	}
	if got.MaxAge != maxAge {
		t.Errorf("%s: Max-Age %d, want %d", what, got.MaxAge, maxAge)
	}
	g := *got
	g.Name, g.Value, g.Raw, g.MaxAge, g.Quoted = "", "", "", 0, false
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("%s: attributes (-want +got):\n%s", what, diff)
	}
}

// TestQuotedCookieValue: RFC 6265 allows a cookie-value in double quotes,
// so a client may send session="<token>", one chunk or each chunk quoted.
// The token inside is genuine: the session loads, through Load and through
// the middleware, and is not re-issued. Quotes that do not enclose the
// whole value are not stripped, and the cookie is refused.
func TestQuotedCookieValue(t *testing.T) {
	quote := func(v string) string { return `"` + v + `"` }
	tests := []struct {
		name    string
		valueOf int // bytes of the stored value: 10 fits one cookie, 1000 needs two
		edit    func(string) string
		ok      bool
	}{
		{"quoted", 10, quote, true},
		{"each chunk quoted", 1000, quote, true},
		{"open quote only", 10, func(v string) string { return `"` + v }, false},
		{"close quote only", 10, func(v string) string { return v + `"` }, false},
		{"quoted twice", 10, func(v string) string { return quote(quote(v)) }, false},
		{"a lone quote", 10, func(string) string { return `"` }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, chunkOptions)
			b := newClientCookies()
			f.serve(b, setString(t, "user", strings.Repeat("q", tt.valueOf)))
			for name, v := range b.vals {
				b.vals[name] = tt.edit(v)
			}
			s, err := f.m.Load(b.request("/"))
			if got := s.GetString("user"); tt.ok != (err == nil) || tt.ok != (len(got) == tt.valueOf) {
				t.Fatalf("Cookie %.60q...: Load gave %d bytes of user, err %v; want loaded: %v",
					b.request("/").Header.Get("Cookie"), len(got), err, tt.ok)
			}
			sent := b.names()
			var o observed
			resp := f.serve(b, observe(t, &o, http.StatusOK))
			if !tt.ok {
				requireCleared(t, resp.Header, sent...)
				return
			}
			if o.isNew || len(o.user) != tt.valueOf || len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("middleware: session %+v, Set-Cookie %q; want the stored session, not re-issued",
					o, resp.Header.Values("Set-Cookie"))
			}
		})
	}
}

// TestSaveThenChangeExpiresStaleChunks: a response that commits twice (an
// explicit Save after the session shrank, then the middleware after a
// further change) must still expire the chunks the client holds beyond
// the final token, or the next request finds a gap and loses the session.
func TestSaveThenChangeExpiresStaleChunks(t *testing.T) {
	shrink := map[string]func(*cookiesession.Session){
		"Delete":  func(s *cookiesession.Session) { s.Delete("big") },
		"Destroy": (*cookiesession.Session).Destroy,
	}
	for name, act := range shrink {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxChunks: 3, MaxCookieSize: 300})
			b := newClientCookies()
			f.serve(b, setString(t, "big", strings.Repeat("x", 450)))
			if diff := cmp.Diff([]string{"session", "session.1", "session.2"}, b.names()); diff != "" {
				t.Fatalf("a 3-chunk session expected (-want +got):\n%s", diff)
			}
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				act(s)
				if err := f.m.Save(w, r, s); err != nil {
					t.Errorf("Save: %v", err)
				}
				mustSet(t, s, "user", "bob") // after Save: the middleware commits again
			})
			got := ourCookies(t, resp.Header, "session")
			if len(got) != 3 || got["session"] == nil || got["session"].MaxAge <= 0 ||
				got["session.1"] == nil || got["session.1"].MaxAge >= 0 || got["session.2"] == nil || got["session.2"].MaxAge >= 0 {
				t.Errorf("want session set and session.1, session.2 expired; got %v", got)
			}
			var o observed
			if f.serve(b, observe(t, &o, http.StatusOK)); o.isNew || o.user != "bob" {
				t.Errorf("next request: %+v with cookies %v; want the session holding bob", o, b.names())
			}
		})
	}
}

// TestHeadersAfterSaveNotShared: the middleware lends the response its
// one-line Vary, Cache-Control and Set-Cookie values from per-request
// state. A handler that adds to those headers after a Save, and a second
// commit after a further change, must leave every header exactly as if
// each value had been allocated on its own.
func TestHeadersAfterSaveNotShared(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	var afterSave http.Header
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "alice")
		if err := f.m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
		afterSave = w.Header().Clone()
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Add("Cache-Control", "private")
		w.Header().Add("Set-Cookie", "theme=dark")
		mustSet(t, s, "user", "bob") // a second commit follows, when the handler returns
	})
	h := resp.Header
	if got := h["Vary"]; !slices.Equal(got, []string{"Cookie", "Accept-Encoding"}) {
		t.Errorf("Vary %q", got)
	}
	if got := h["Cache-Control"]; !slices.Equal(got, []string{"no-store", "private"}) {
		t.Errorf("Cache-Control %q", got)
	}
	lines := h["Set-Cookie"]
	if len(lines) != 2 || lines[0] != "theme=dark" || !strings.HasPrefix(lines[1], "session=") {
		t.Fatalf("Set-Cookie %q, want theme then one session line", lines)
	}
	if lines[1] == afterSave["Set-Cookie"][0] {
		t.Error("the second commit did not replace the first session line")
	}
	s, err := f.m.Load(b.request("/"))
	if err != nil || s.GetString("user") != "bob" {
		t.Errorf("the final cookie holds %q (%v), want bob", s.GetString("user"), err)
	}
}

// TestCookieNameSpacing checks that a cookie is found as net/http finds
// it: whitespace around a cookie-pair and around its name is trimmed, and
// of two cookies with one name the first wins.
func TestCookieNameSpacing(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	token := func(user string) string {
		b := newClientCookies()
		f.serve(b, setString(t, "user", user))
		return b.vals["session"]
	}
	a, b := token("alice"), token("bob")
	for _, header := range []string{
		"session =" + a + "; session=" + b,
		"session\t=" + a,
		" \tsession=" + a + " ",
		"other=1;session=" + a + ";session=" + b,
		"session=" + a + "; session =" + b,
		"; session=" + a,
		"=x;;session=" + a,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", header)
		c, err := req.Cookie("session")
		if err != nil || c.Value != a {
			t.Fatalf("Cookie %q: net/http reads %v, %v; the test expects the first token", header, c, err)
		}
		s, err := f.m.Load(req)
		if got := s.GetString("user"); err != nil || got != "alice" {
			t.Errorf("Cookie %q: Load gave user %q, err %v; want alice, as net/http reads it", header, got, err)
		}
	}
}

// largestSession fills a session under m with as many bytes as it will
// write, and returns the Set-Cookie lines of that session; one byte more
// is ErrTooLarge.
func largestSession(t *testing.T, m *cookiesession.Manager) []*http.Cookie {
	t.Helper()
	save := func(n int) (http.Header, error) {
		s, _ := m.Load(httptest.NewRequest("GET", "/", nil))
		if err := s.Set("pad", strings.Repeat("p", n)); err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		return h, m.SaveHeader(h, s)
	}
	lo, hi := 0, 64*4096 // lo fits, hi does not
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; func() bool { _, err := save(mid); return err == nil }() {
			lo = mid
		} else {
			hi = mid
		}
	}
	if _, err := save(hi); !errors.Is(err, cookiesession.ErrTooLarge) {
		t.Fatalf("%d bytes of value: %v, want ErrTooLarge", hi, err)
	}
	h, err := save(lo)
	if err != nil {
		t.Fatal(err)
	}
	return parseSetCookies(t, h)
}

// TestChunkBudget pins what the largest session takes of the browser's
// limits: each cookie's name and value within MaxCookieSize, and for
// Partitioned cookies all of them within the 10240 bytes Chromium keeps
// of one site's in a partition (past that it evicts the first chunk:
// e2e's TestBrowserCookieLimits). MaxChunks 4 holds no more than 3 then.
func TestChunkBudget(t *testing.T) {
	cases := []struct {
		opts  cookiesession.Options
		sizes []int // name + value of each cookie written
	}{
		{cookiesession.Options{}, []int{4096}},
		{cookiesession.Options{MaxChunks: 3}, []int{4096, 4096, 4096}},
		{cookiesession.Options{MaxChunks: 2, Partitioned: true}, []int{4096, 4096}},
		{cookiesession.Options{MaxChunks: 3, Partitioned: true}, []int{4096, 4096, 2048}},
		{cookiesession.Options{MaxChunks: 4, Partitioned: true}, []int{4096, 4096, 2048}},
		{cookiesession.Options{MaxChunks: 4, Partitioned: true, Name: "__Host-s"}, []int{4096, 4096, 2048}},
		{cookiesession.Options{MaxChunks: 4, Partitioned: true, MaxCookieSize: 3000}, []int{3000, 3000, 3000, 1240}},
	}
	for _, c := range cases {
		c.opts.Logger = debugLogger(io.Discard) // the proxy header warning
		m, err := cookiesession.New(newRing(), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		req := httptest.NewRequest("GET", "/", nil)
		for _, ck := range largestSession(t, m) {
			if ck.MaxAge >= 0 {
				sizes = append(sizes, len(ck.Name)+len(ck.Value))
				req.AddCookie(ck)
			}
		}
		// The largest session loads back, its token as long as the chunks
		// hold (MaxTokenLen itself, where that is a token's length).
		if s, err := m.Load(req); err != nil || s.IsNew() {
			t.Errorf("MaxChunks %d, Partitioned %t: the largest session does not load back: %v", c.opts.MaxChunks, c.opts.Partitioned, err)
		}
		// A token's length is never 4k+1 (base64url of whole bytes, no
		// padding), so the last cookie may end a byte short.
		ok := len(sizes) == len(c.sizes)
		for i := 0; ok && i < len(sizes); i++ {
			short := c.sizes[i] - sizes[i]
			ok = short == 0 || short == 1 && i == len(sizes)-1
		}
		if !ok {
			t.Errorf("MaxChunks %d, Partitioned %t, Name %q, MaxCookieSize %d: the largest session is written as cookies of %v bytes (name and value), want %v",
				c.opts.MaxChunks, c.opts.Partitioned, c.opts.Name, c.opts.MaxCookieSize, sizes, c.sizes)
		}
	}
}

// TestChunksPastResponseHeader: Chromium fails a response whose header
// passes 256 KiB (e2e's TestBrowserCookieLimits finds 62 full chunks
// load, 63 not). Each full chunk's line takes 4169 bytes with the
// default attributes ("Set-Cookie: ", 4096 of name and value, "=",
// "; Max-Age=34560000", "; Path=/; HttpOnly; Secure; SameSite=Lax",
// CRLF): 62 take 258478, 63 take 262647.
func TestChunksPastResponseHeader(t *testing.T) {
	for _, n := range []int{62, 64} {
		opts := cookiesession.Options{MaxChunks: n}
		if n == 64 {
			opts.MaxCookieSize = 4000
		}
		if _, err := cookiesession.New(newRing(), opts); err != nil {
			t.Errorf("MaxChunks %d, MaxCookieSize %d: %v", n, opts.MaxCookieSize, err)
		}
	}
	_, err := cookiesession.New(newRing(), cookiesession.Options{MaxChunks: 63})
	if err == nil || !strings.Contains(err.Error(), "up to 262647 bytes, more than the 262144") {
		t.Errorf("MaxChunks 63: %v, want a refusal for 262647 bytes of Set-Cookie lines", err)
	}
	checkErrRules(t, err)
}

// TestPartitionedTooLargeFix: the default ErrorHandler's fix for a
// Partitioned session over its budget does not say to raise MaxChunks,
// which would hold no more.
func TestPartitionedTooLargeFix(t *testing.T) {
	var log strings.Builder
	m, err := cookiesession.New(newRing(), cookiesession.Options{Partitioned: true, MaxChunks: 3, Logger: debugLogger(&log)})
	if err != nil {
		t.Fatal(err)
	}
	pad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("pad", strings.Repeat("p", 12000)); err != nil {
			t.Fatal(err)
		}
	})
	rec := httptest.NewRecorder()
	m.Handler(pad).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(log.String(), "10240 bytes of a site's Partitioned cookies") || strings.Contains(log.String(), "raise Options.MaxChunks") {
		t.Errorf("status %d, log %q: want 500 and a fix that names the Partitioned budget, not MaxChunks", rec.Code, log.String())
	}
	// Three chunks of 3413 bytes leave 1 byte of the budget, too few for
	// a fourth chunk's name: raising MaxChunks would add nothing.
	log.Reset()
	if m, err = cookiesession.New(newRing(), cookiesession.Options{Partitioned: true, MaxChunks: 3, MaxCookieSize: 3413, Logger: debugLogger(&log)}); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	m.Handler(pad).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(log.String(), "10240 bytes of a site's Partitioned cookies") || strings.Contains(log.String(), "raise Options.MaxChunks") {
		t.Errorf("3 chunks of 3413 bytes: status %d, log %q: want a fix that names the Partitioned budget, not MaxChunks", rec.Code, log.String())
	}
}

// TestHeadlessChunksKeptWithoutMiddleware: chunks sent without the first
// stay whatever a handler without the middleware does short of writing a
// session, when Save or CommitHeader is given the request they were read
// from (FORMAT.md section 5): a line for session would reach only a login
// answered beside it. SaveHeader, which has no request, cannot tell, and
// clears them as before.
func TestHeadlessChunksKeptWithoutMiddleware(t *testing.T) {
	save := func(t *testing.T, f *fixture, s *cookiesession.Session, r *http.Request, h http.Header) {
		if err := f.m.Save(&discardWriter{h: h}, r, s); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(t *testing.T, f *fixture, s *cookiesession.Session, r *http.Request, h http.Header) {
		if err := f.m.CommitHeader(h, s, r); err != nil {
			t.Fatal(err)
		}
	}
	saveHeader := func(t *testing.T, f *fixture, s *cookiesession.Session, _ *http.Request, h http.Header) {
		if err := f.m.SaveHeader(h, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name        string
		first, last func(t *testing.T, f *fixture, s *cookiesession.Session, r *http.Request, h http.Header)
		wantCleared []string
	}{
		{"Destroy, Save", nil, save, nil},
		{"Destroy, CommitHeader", nil, commit, nil},
		{"Set, Save, Clear, Save", save, save, nil},
		{"Set, SaveHeader, Clear, CommitHeader", saveHeader, commit, nil},
		{"Destroy, SaveHeader", nil, saveHeader, []string{"session", "session.1", "session.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chunkOptions)
			b := newClientCookies()
			f.serve(b, setString(t, "user", strings.Repeat("c", 1500)))
			delete(b.vals, "session")
			r := b.request("/")
			s, err := f.m.Load(r)
			if err == nil || !s.IsNew() {
				t.Fatalf("Load of session.1 and session.2 without session: %v, new %v; want a refusal and a fresh session", err, s.IsNew())
			}
			h := http.Header{}
			if tc.first != nil {
				mustSet(t, s, "csrf", "t0k3n")
				tc.first(t, f, s, r, h)
				s.Clear()
			} else {
				s.Destroy()
			}
			tc.last(t, f, s, r, h)
			requireCleared(t, h, tc.wantCleared...)
		})
	}
}
