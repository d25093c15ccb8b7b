package cookiesession_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// The Examples take two helpers from helpers_test.go: newRing, a ring of
// one fresh random key (a real service loads its ring with LoadKeyRingEnv
// or LoadKeyRingFile), and newClientCookies, whose do method plays a
// browser: it sends the cookies it holds and keeps those it is set.

func Example() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if err := s.Set("visits", s.GetInt("visits")+1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d", s.GetInt("visits"))
	})
	handler := sessions.Handler(mux) // http.ListenAndServe(addr, handler)

	b := newClientCookies()
	for range 3 {
		fmt.Println(b.do(handler, "GET", "/").Body)
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

// Log in with Renew, which changes the session id to defeat session
// fixation, and log out with Destroy, which expires the cookie.
func Example_loginLogout() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the credentials first; then:
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		_ = s.Set("user", r.FormValue("username"))
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if user := cookiesession.FromContext(r.Context()).GetString("user"); user != "" {
			fmt.Fprintf(w, "signed in as %s", user)
			return
		}
		fmt.Fprint(w, "signed out")
	})
	handler := sessions.Handler(mux)

	b := newClientCookies()
	fmt.Println(b.do(handler, "GET", "/").Body)
	b.do(handler, "POST", "/login?username=ada")
	fmt.Println(b.do(handler, "GET", "/").Body)
	b.do(handler, "POST", "/logout")
	fmt.Println(b.do(handler, "GET", "/").Body, len(b.vals))
	// Output:
	// signed out
	// signed in as ada
	// signed out 0
}

// Flash messages are read once.
func ExampleSession_AddFlash() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	handler := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.Method == http.MethodPost {
			s.AddFlash("Saved.")
			return
		}
		fmt.Fprintf(w, "%q", s.Flashes())
	}))

	b := newClientCookies()
	b.do(handler, "POST", "/")
	fmt.Println(b.do(handler, "GET", "/").Body)
	fmt.Println(b.do(handler, "GET", "/").Body)
	// Output:
	// ["Saved."]
	// []
}

// Rotate keys in three stages. Between the stages, the new ring must reach
// every instance of the fleet (a reloaded file, a redeploy with a new
// COOKIESESSION_KEYS, or the same AddScheduled time everywhere).
func ExampleKeyRing_rotation() {
	oldKey, _ := cookiesession.GenerateKey()
	ring, _ := cookiesession.NewKeyRing(oldKey)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ring.SetClock(func() time.Time { return now }) // the clock the stages run by
	codec, _ := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: "session"})
	var rec cookiesession.Record
	_ = rec.Values.Set("user", "ada")
	token, _ := codec.SealAt(&rec, now) // a user's cookie, sealed under the old key

	// 1. Add the new key, open-only, on every instance.
	newKey, _ := cookiesession.GenerateKey()
	if err := ring.Add(newKey); err != nil {
		log.Fatal(err)
	}
	// 2. Promote it. The old key still opens existing cookies, which the
	// middleware re-seals under the new key as users come back.
	if err := ring.Promote(newKey.ID()); err != nil {
		log.Fatal(err)
	}
	opened, err := codec.OpenAt(token, now)
	fmt.Println(opened.KeyID == oldKey.ID(), err)
	// 3. Once MaxAge (24h here) has passed, remove the old key: what it
	// sealed stops opening, and the refusal says when it was removed. A
	// Remove sooner is logged at Warn: it signs users out.
	now = now.Add(25 * time.Hour)
	if err := ring.Remove(oldKey.ID()); err != nil {
		log.Fatal(err)
	}
	_, err = codec.OpenAt(token, now)
	fmt.Println(strings.Replace(err.Error(), fmt.Sprintf("%08x", oldKey.ID()), "<old key id>", 1))
	// Output:
	// true <nil>
	// cookiesession: unknown key id <old key id> (removed from this ring at 2026-01-02T01:00:00Z)
}

// Without the middleware, as in a serverless function: Load at the start,
// Save before writing the body.
func ExampleManager_Save() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	handle := func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.Load(r)
		if err != nil {
			log.Printf("session cookie refused: %v", err) // the request still gets a fresh session
		}
		_ = s.Set("cart", []string{"apple", "pear"})
		if err := sessions.Save(w, r, s); err != nil {
			http.Error(w, "session too large", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%d items", len(s.GetStrings("cart")))
	}

	w := httptest.NewRecorder()
	handle(w, httptest.NewRequest("GET", "https://example.com/", nil))
	cookie := w.Result().Cookies()[0]
	fmt.Println(w.Body, cookie.Name, cookie.Secure, cookie.HttpOnly, cookie.SameSite == http.SameSiteLaxMode)
	// Output:
	// 2 items session true true true
}

// Structs travel as JSON.
func ExampleSession_SetJSON() {
	type cart struct {
		Items []string `json:"items"`
		Total int      `json:"total"`
	}
	sessions, _ := cookiesession.New(newRing(), cookiesession.Options{})
	s, _ := sessions.Load(httptest.NewRequest("GET", "/", nil))
	if err := s.SetJSON("cart", cart{Items: []string{"apple"}, Total: 3}); err != nil {
		log.Fatal(err)
	}
	var c cart
	ok, err := s.GetJSON("cart", &c)
	fmt.Println(ok, err, c.Items, c.Total)
	fmt.Println(s.Set("cart", c)) // a struct is refused at Set time
	// Output:
	// true <nil> [apple] 3
	// cookiesession: unsupported value type cookiesession_test.cart for key "cart": store it with SetJSON or convert it to a supported type
}

// express-session's req.session.cookie.maxAge in a login handler of an app
// with rolling: true. A Lifetime with a MaxAge alone keeps
// Options.IdleTimeout, so the cookie still lasts a day without a request;
// an IdleTimeout as long as its MaxAge turns the idle window off for this
// session. Durations take a unit: a bare 30*24*3600*1000 is 2.592s, and
// SetLifetime refuses it.
func ExampleSession_SetLifetime() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{
		MaxAge:      7 * 24 * time.Hour, // the absolute limit, which express's rolling lacks
		IdleTimeout: 24 * time.Hour,     // rolling: true, cookie: {maxAge: 86400000}
		MaxLifetime: 30 * 24 * time.Hour,
		Now:         func() time.Time { return time.Unix(1_700_000_000, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range []cookiesession.Lifetime{
		{MaxAge: 30 * 24 * time.Hour},
		{MaxAge: 30 * 24 * time.Hour, IdleTimeout: 30 * 24 * time.Hour},
		{BrowserSession: true}, // req.session.cookie.expires = false
	} {
		login := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			s.Renew()
			if err := errors.Join(s.Set("userId", "u1"), s.SetLifetime(l)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}))
		w := newClientCookies().do(login, "POST", "/login")
		fmt.Printf("%+v: Max-Age=%d\n", l, w.Result().Cookies()[0].MaxAge)
	}
	// Output:
	// {MaxAge:720h0m0s IdleTimeout:0s BrowserSession:false}: Max-Age=86400
	// {MaxAge:720h0m0s IdleTimeout:720h0m0s BrowserSession:false}: Max-Age=2592000
	// {MaxAge:0s IdleTimeout:0s BrowserSession:true}: Max-Age=0
}

// Log a user out everywhere: keep a generation counter per user in your
// database, copy it into the session at login, and compare the two in
// Validate. Bumping the counter refuses every session sealed before.
func ExampleOptions_validate() {
	var mu sync.Mutex
	generation := map[string]int{} // a column of your users table
	current := func(user string) int {
		mu.Lock()
		defer mu.Unlock()
		return generation[user]
	}
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{
		Validate: func(r *http.Request, s *cookiesession.Session) error {
			if user := s.GetString("user"); user != "" && s.GetInt("generation") != current(user) {
				return errors.New("logged out everywhere")
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("username") // after checking the credentials
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		_ = s.Set("user", user)
		_ = s.Set("generation", current(user))
	})
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		user := s.GetString("user") // opens the session: Validate runs here, outside mu
		mu.Lock()
		generation[user]++
		mu.Unlock()
		s.Destroy()
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if user := cookiesession.FromContext(r.Context()).GetString("user"); user != "" {
			fmt.Fprintf(w, "signed in as %s", user)
			return
		}
		fmt.Fprint(w, "signed out")
	})
	handler := sessions.Handler(mux)

	laptop := newClientCookies()
	phone := newClientCookies()
	laptop.do(handler, "POST", "/login?username=ada")
	phone.do(handler, "POST", "/login?username=ada")
	fmt.Println("laptop:", laptop.do(handler, "GET", "/").Body)
	phone.do(handler, "POST", "/logout-everywhere")
	fmt.Println("laptop:", laptop.do(handler, "GET", "/").Body, "- cookies left:", len(laptop.vals))
	// Output:
	// laptop: signed in as ada
	// laptop: signed out - cookies left: 0
}

// Make logout stick: Destroy expires the cookie in this browser, but a copy
// taken before (a stolen cookie, a saved request) still opens until its
// deadline, since no store says it ended. Keep the ids of ended sessions
// in your database until they would have expired, and refuse them in
// Validate. The id is the same in every cookie of one session, whatever
// was re-sealed; Renew draws a new one.
func ExampleOptions_validateLogout() {
	const maxAge = 8 * time.Hour
	var mu sync.Mutex
	ended := map[string]time.Time{} // session id -> when to forget it: a table with a TTL
	isEnded := func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := ended[id]
		return ok
	}
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{
		MaxAge: maxAge,
		Validate: func(r *http.Request, s *cookiesession.Session) error {
			if isEnded(s.ID()) {
				return errors.New("session ended by logout")
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		_ = s.Set("user", r.FormValue("username")) // after checking the credentials
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if s.Has("user") { // opens the session: Validate runs here, outside mu
			mu.Lock()
			ended[s.ID()] = s.CreatedAt().Add(maxAge) // no cookie of it opens after that
			mu.Unlock()
		}
		s.Destroy()
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%q", cookiesession.FromContext(r.Context()).GetString("user"))
	})
	handler := sessions.Handler(mux)

	browser := newClientCookies()
	browser.do(handler, "POST", "/login?username=ada")
	stolen := browser.clone() // the cookie as it was before the logout
	browser.do(handler, "POST", "/logout")
	fmt.Println("browser:", browser.do(handler, "GET", "/").Body)
	fmt.Println("stolen copy:", stolen.do(handler, "GET", "/").Body)
	// Output:
	// browser: user=""
	// stolen copy: user=""
}

// ErrorHandler answers a request whose session does not fit, before
// anything reaches the client, and the client keeps its previous cookie.
func ExampleOptions_errorHandler() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, cookiesession.ErrTooLarge) {
				http.Error(w, "that note is too long to keep", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "internal error", http.StatusInternalServerError)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.Method == http.MethodPost {
			_ = s.Set("note", r.FormValue("note"))
			fmt.Fprint(w, "saved") // or the ErrorHandler's answer
			return
		}
		fmt.Fprintf(w, "note: %q", s.GetString("note"))
	}))

	b := newClientCookies()
	fmt.Println(b.do(handler, "POST", "/?note=short").Body)
	w := b.do(handler, "POST", "/?note="+strings.Repeat("x", 5000))
	fmt.Print(w.Code, " ", w.Body)
	fmt.Println(b.do(handler, "GET", "/").Body)
	// Output:
	// saved
	// 413 that note is too long to keep
	// note: "short"
}

// Test a handler that uses sessions with httptest: wrap it in the
// middleware and pass one response's Set-Cookie back on the next request,
// as a browser would. The requests go to https:// targets, which set
// Request.TLS: a browser drops the Secure cookie sent in answer to plain
// HTTP, and the middleware logs a warning when it sees that. A handler can
// also be tested alone, with a session put in its request's context.
func Example_testing() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	app := http.NewServeMux()
	app.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_ = s.Set("items", s.GetInt("items")+1)
		w.WriteHeader(http.StatusNoContent)
	})
	app.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d items", cookiesession.FromContext(r.Context()).GetInt("items"))
	})
	handler := sessions.Handler(app)

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/cart", nil))
	cookies := rec.Result().Cookies()
	fmt.Println(rec.Code, len(cookies), cookies[0].Name)

	req := httptest.NewRequest("GET", "https://example.com/cart", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Body)

	req = httptest.NewRequest("GET", "https://example.com/cart", nil)
	s, _ := sessions.Load(req)
	_ = s.Set("items", 3)
	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, req.WithContext(cookiesession.NewContext(req.Context(), s)))
	fmt.Println(rec.Body)
	// Output:
	// 204 1 session
	// 1 items
	// 3 items
}

// In a test, build a request that already carries a session: store the
// values in a new session from Load, write its cookie with SaveHeader, and
// add that cookie to the request. Serve it with the same Manager, or one
// on the same ring: a Manager with a key of its own refuses the cookie
// (unknown key id, at Warn), and the handler gets a new, empty session.
func ExampleManager_SaveHeader() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := sessions.Load(httptest.NewRequest("GET", "https://example.com/", nil))
	if err := s.Set("role", "admin"); err != nil {
		log.Fatal(err)
	}
	h := http.Header{}
	if err := sessions.SaveHeader(h, s); err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest("GET", "https://example.com/admin", nil)
	for _, line := range h["Set-Cookie"] {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			log.Fatal(err)
		}
		req.AddCookie(c)
	}
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "role %q\n", cookiesession.FromContext(r.Context()).GetString("role"))
	})

	rec := httptest.NewRecorder()
	sessions.Handler(admin).ServeHTTP(rec, req)
	fmt.Printf("%s%d Set-Cookie lines\n", rec.Body, len(rec.Result().Header["Set-Cookie"]))

	other, err := cookiesession.New(newRing(), cookiesession.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	rec = httptest.NewRecorder()
	other.Handler(admin).ServeHTTP(rec, req)
	fmt.Print(rec.Body)
	// Output:
	// role "admin"
	// 0 Set-Cookie lines
	// role ""
}

// Follow a key-ring file while the server runs: a mounted secret, or a
// file the CLI rewrites. WatchFile reloads it when its content changes and
// reports each reload, and each failure once; the ring keeps its keys
// until a good file arrives.
func ExampleKeyRing_WatchFile() {
	dir, err := os.MkdirTemp("", "ring")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ring.json")
	first, _ := cookiesession.GenerateKey()
	ring, _ := cookiesession.NewKeyRing(first)
	writeRing(path, ring)

	ring, err = cookiesession.LoadKeyRingFile(path) // what the server starts with
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	reports := make(chan error, 4)
	go ring.WatchFile(ctx, path, 10*time.Millisecond, func(err error) { reports <- err })

	// Rotation, step 1: the new ring adds a key that only opens.
	second, _ := cookiesession.GenerateKey()
	next, _ := cookiesession.LoadKeyRingFile(path)
	_ = next.Add(second)
	writeRing(path, next)
	fmt.Println("reloaded:", <-reports == nil, "new key loaded:", ring.Has(second.ID()))

	os.WriteFile(path, []byte("{not json"), 0o600) // a bad file is refused
	fmt.Println("bad file refused:", <-reports != nil, "keys kept:", len(ring.Keys()))
	stop()
	// Output:
	// reloaded: true new key loaded: true
	// bad file refused: true keys kept: 2
}

// writeRing writes ring's text form to path atomically, as the CLI does.
func writeRing(path string, ring *cookiesession.KeyRing) {
	text, err := json.Marshal(ring)
	if err != nil {
		log.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, text, 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		log.Fatal(err)
	}
}

// "Remember me" on a login form: unchecked, the cookie lives for the
// browser session and the Manager's short MaxAge; checked, the session
// gets its own 30-day lifetime and a persistent cookie. MaxLifetime is the
// ceiling every session's own lifetime must fit under.
func ExampleSession_SetLifetime_rememberMe() {
	sessions, err := cookiesession.New(newRing(), cookiesession.Options{
		MaxAge:         12 * time.Hour,
		BrowserSession: true,
		MaxLifetime:    30 * 24 * time.Hour,
		Now:            func() time.Time { return time.Unix(1_700_000_000, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}
	login := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context()) // after checking the credentials
		s.Renew()
		err := s.Set("user", "ada")
		if r.FormValue("remember") == "on" {
			err = errors.Join(err, s.SetLifetime(cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour}))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))

	for _, target := range []string{"/login", "/login?remember=on"} {
		cookie := newClientCookies().do(login, "POST", target).Result().Cookies()[0]
		fmt.Printf("%s: Max-Age=%d\n", target, cookie.MaxAge)
	}
	// Output:
	// /login: Max-Age=0
	// /login?remember=on: Max-Age=2592000
}

// Reading typed values. Get returns the exact type stored; the numeric
// getters and GetAs convert any number that fits without loss, such as
// the float64 encoding/json decodes into; a missing key or another type
// reads as the zero value, and GetAs's bool tells that from a stored zero.
func ExampleGetAs() {
	type UserID int64
	sessions, _ := cookiesession.New(newRing(), cookiesession.Options{})
	s, _ := sessions.Load(httptest.NewRequest("GET", "/", nil))

	var body map[string]any
	_ = json.Unmarshal([]byte(`{"visits": 41, "user": 7}`), &body)
	for k, v := range body {
		_ = s.Set(k, v) // stored as float64
	}
	_ = s.Set("since", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))

	v, _ := s.Get("visits")
	fmt.Printf("%T %d\n", v, s.GetInt("visits")+1)
	id, ok := cookiesession.GetAs[UserID](s, "user")
	fmt.Println(id, ok)
	since, ok := cookiesession.GetAs[time.Time](s, "since")
	fmt.Println(since.Year(), ok)
	name, ok := cookiesession.GetAs[string](s, "user") // a number is not a string
	fmt.Printf("%q %v %q\n", name, ok, s.GetString("missing"))
	// Output:
	// float64 42
	// 7 true
	// 2025 true
	// "" false ""
}

// A Codec seals and opens tokens without the middleware or net/http, for
// a token carried elsewhere (a header, a queue message). The ...At
// methods take the time, so expiry is testable; errors.Is tells why a
// token was refused, and errors.As gives the operator's detail.
func ExampleCodec() {
	codec, err := cookiesession.NewCodec(newRing(), cookiesession.CodecOptions{Name: "job", MaxAge: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	sealedAt := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	var rec cookiesession.Record
	_ = rec.Values.Set("user", "ada")
	token, err := codec.SealAt(&rec, sealedAt)
	if err != nil {
		log.Fatal(err) // errors.Is(err, cookiesession.ErrTooLarge) past MaxTokenLen
	}

	opened, err := codec.OpenAt(token, sealedAt.Add(time.Minute))
	user, _ := opened.Values.Get("user")
	fmt.Println(user, opened.ID == rec.ID, err)

	_, err = codec.OpenAt(token, sealedAt.Add(2*time.Hour))
	var te *cookiesession.TokenError
	fmt.Println(errors.Is(err, cookiesession.ErrExpired), errors.As(err, &te) && te.Expired.Equal(sealedAt.Add(time.Hour)))
	flipped := []byte(token) // one character changed
	flipped[40] = 'A'
	if token[40] == 'A' {
		flipped[40] = 'B'
	}
	_, err = codec.OpenAt(string(flipped), sealedAt)
	fmt.Println(errors.Is(err, cookiesession.ErrInvalid), err)
	// Output:
	// ada true <nil>
	// true true
	// true cookiesession: authentication failed
}

// Rotate keys through a ring file, as the CLI writes it (cookiesession
// add, promote, remove) and every instance reads it: ReloadFile (or
// WatchFile) takes each stage in. Until the old key is removed, cookies
// sealed under it open and are re-sealed under the new primary.
func ExampleKeyRing_ReloadFile() {
	dir, err := os.MkdirTemp("", "ring")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ring.json")
	oldKey, _ := cookiesession.GenerateKey()
	file, _ := cookiesession.NewKeyRing(oldKey) // the file's contents, as the CLI edits them
	writeRing(path, file)

	ring, err := cookiesession.LoadKeyRingFile(path) // the server's ring
	if err != nil {
		log.Fatal(err)
	}
	codec, _ := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: "session"})
	token, _ := codec.Seal(&cookiesession.Record{}) // a user's cookie, under the old key

	newKey, _ := cookiesession.GenerateKey()
	for _, stage := range []struct {
		name   string
		change func() error
	}{
		{"add", func() error { return file.Add(newKey) }},
		{"promote", func() error { return file.Promote(newKey.ID()) }},
		{"remove", func() error { return file.Remove(oldKey.ID()) }},
	} {
		if err := stage.change(); err != nil {
			log.Fatal(err)
		}
		writeRing(path, file)
		if err := ring.ReloadFile(path); err != nil {
			log.Fatal(err) // the ring keeps its keys
		}
		_, err := codec.Open(token)
		fmt.Printf("%s: new key primary %v, old cookie opens %v, unknown key %v\n",
			stage.name, ring.Primary() == newKey.ID(), err == nil, errors.Is(err, cookiesession.ErrUnknownKey))
	}
	// Output:
	// add: new key primary false, old cookie opens true, unknown key false
	// promote: new key primary true, old cookie opens true, unknown key false
	// remove: new key primary true, old cookie opens false, unknown key true
}
