package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// maxBody bounds every request body the demo reads: enough for a note that
// needs many chunks, small enough that nobody can make the server buffer
// gigabytes.
const maxBody = 1 << 20

// maxUsername keeps a user name short enough to show on one line.
const maxUsername = 64

// defaultRemember is how long a "remember me" login lasts unless the
// -remember flag says otherwise.
const defaultRemember = 30 * 24 * time.Hour

// config is what the flags choose; newApp turns it into Options.
type config struct {
	Name        string        // cookie name; "" means the library default
	MaxAge      time.Duration // absolute session lifetime
	IdleTimeout time.Duration // sliding idle window; 0 is off
	RememberFor time.Duration // lifetime of a "remember me" login; 0 means 30 days
	MaxChunks   int           // cookies a session may span
	Insecure    bool          // drop the Secure attribute
	Logger      *slog.Logger  // nil means slog.Default()
	// EphemeralRing says that the ring dies with the process (no -keys,
	// no COOKIESESSION_KEYS): /debug/vars shows it for as long as it
	// runs, since the startup warning scrolls away.
	EphemeralRing bool
}

type app struct {
	mgr *cookiesession.Manager
	cfg config
	log *slog.Logger
}

// newApp builds the whole demo: the session manager, the routes and the
// cross-origin check. main only adds flags, keys and a listener, so tests
// drive exactly what a user runs.
func newApp(ring *cookiesession.KeyRing, cfg config) (http.Handler, error) {
	cfg.RememberFor = cmp.Or(cfg.RememberFor, defaultRemember)
	if cfg.RememberFor < time.Second {
		// Found here, not by SetLifetime at every "remember me" login.
		return nil, fmt.Errorf("-remember %v: a remembered login must last at least 1s", cfg.RememberFor)
	}
	a := &app{cfg: cfg, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	mgr, err := cookiesession.New(ring, cookiesession.Options{
		Name:          cfg.Name,
		DisableSecure: cfg.Insecure,
		MaxAge:        cfg.MaxAge,
		IdleTimeout:   cfg.IdleTimeout,
		// The ceiling of every session's lifetime: a remembered login's,
		// or the default's if that is longer.
		// A zero MaxAge is the library's 24h: -max-age 0 -remember 1h
		// must not make a ceiling below it.
		MaxLifetime:  max(cfg.RememberFor, cmp.Or(cfg.MaxAge, 24*time.Hour)),
		MaxChunks:    cfg.MaxChunks,
		ErrorHandler: a.commitFailed,
		Logger:       a.log,
	})
	if err != nil {
		return nil, err
	}
	a.mgr = mgr
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /note", a.note)
	mux.HandleFunc("GET /api/session", a.getSession)
	mux.HandleFunc("POST /api/session", a.mergeSession)
	mux.HandleFunc("DELETE /api/session", a.deleteSession)
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /debug/vars", a.vars)
	// SameSite=Lax already keeps the session cookie off cross-site POSTs;
	// CrossOriginProtection also refuses them outright, before the session
	// is loaded, so a forged form cannot even log a user out.
	return http.NewCrossOriginProtection().Handler(keepDrafts(mgr.Handler(mux))), nil
}

// vars serves the session counters and the running key ring in expvar's
// form, so an operator can see which keys an instance holds, when an old
// key has stopped opening tokens, and whether a reload of -keys is
// failing (reload.error, reload.failures), which leaves the instance on
// its old keys, and whether the ring is ephemeral, which no other instance
// holds. The demo serves its own Manager's only: a real server
// would expvar.Publish(name, mgr.Var()) once. They name the key file and
// the ring, so only a client on this host gets them, even with -addr :8080.
func (a *app) vars(w http.ResponseWriter, r *http.Request) {
	if ip, _, _ := net.SplitHostPort(r.RemoteAddr); !net.ParseIP(ip).IsLoopback() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, "{\"cookiesession\": %s, \"ephemeral_ring\": %t}\n", a.mgr.Var(), a.cfg.EphemeralRing)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// commitFailed is the middleware's ErrorHandler. It runs before anything
// reached the client, so the browser keeps its previous cookie: a session
// that no longer fits loses the change, never the session. A note that
// does not fit comes back in the form, so the user loses no typing either.
func (a *app) commitFailed(w http.ResponseWriter, r *http.Request, err error) {
	api := strings.HasPrefix(r.URL.Path, "/api/")
	tooLarge := errors.Is(err, cookiesession.ErrTooLarge)
	w.Header().Del("Location")
	if tooLarge && !api {
		a.log.Info("session change refused", "path", r.URL.Path, "err", err)
		if d := draftOf(r); d != nil && d.set {
			d.page.Error = pageErrors["too-large"] + " Your text is still in the form: shorten it and save again."
			a.render(w, http.StatusRequestEntityTooLarge, d.page)
			return
		}
		if d := draftOf(r); d != nil && d.view {
			// A full session still shows its page, or the forms that can
			// shrink it (the note, log out) would be out of reach.
			d.page.Error = pageErrors["too-large"] + " This visit was not counted: shorten or clear your note."
			a.render(w, http.StatusOK, d.page)
			return
		}
	}
	switch {
	case tooLarge && api:
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{err.Error()})
	case tooLarge && r.Method == http.MethodPost:
		http.Redirect(w, r, "/?error=too-large", http.StatusSeeOther)
	case tooLarge:
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
	default:
		a.log.Error("saving session", "path", r.URL.Path, "err", err)
		if api {
			writeJSON(w, http.StatusInternalServerError, errorBody{"internal error"})
		} else {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

// draft is what the note form was sent and the page as it stood before
// the change, kept for commitFailed: it shows the typed note back when the
// session cannot hold it.
type draft struct {
	set  bool // the note form was sent
	view bool // the page was viewed: the visit count may not fit
	page pageData
}

type draftKey struct{}

// keepDrafts gives each request a place for its draft. It wraps the
// session middleware, so the ErrorHandler's request carries it too.
func keepDrafts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), draftKey{}, new(draft))))
	})
}

func draftOf(r *http.Request) *draft {
	d, _ := r.Context().Value(draftKey{}).(*draft)
	return d
}

// seeOther redirects to the page, with an error code the page explains.
func seeOther(w http.ResponseWriter, r *http.Request, errCode string) {
	target := "/"
	if errCode != "" {
		target += "?error=" + errCode
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// stored redirects to the page after a change that left values in the
// session, saying so: if the browser then sends no cookie, the page can
// tell the user why. The page's script then drops ?stored from the
// address: a later visit without a cookie (Back after a logout) is no
// sign of a lost one.
func stored(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/?stored=1", http.StatusSeeOther)
}

// parseForm reads a bounded urlencoded body. A body over the limit is
// reported like a session that does not fit: the note was too large.
func parseForm(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	err := r.ParseForm()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return "too-large"
	case err != nil:
		return "bad-form"
	}
	return ""
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if code := parseForm(w, r); code != "" {
		seeOther(w, r, code)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("username"))
	if name == "" || len(name) > maxUsername {
		seeOther(w, r, "bad-username")
		return
	}
	s := cookiesession.FromContext(r.Context())
	// A new id at login defeats session fixation; the values are kept.
	s.Renew()
	// Unchecked, the cookie dies with the browser (the server still ends
	// the session after MaxAge); checked, it persists for RememberFor.
	life := cookiesession.Lifetime{BrowserSession: true}
	if r.PostForm.Get("remember") != "" {
		life = cookiesession.Lifetime{MaxAge: a.cfg.RememberFor}
		if a.cfg.IdleTimeout > 0 {
			// "Remember me for 30 days" must not end after the idle timeout.
			life.IdleTimeout = a.cfg.RememberFor
		}
	}
	if err := s.SetLifetime(life); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := s.Set("user", name); err != nil {
		a.fail(w, r, err)
		return
	}
	s.AddFlash("Welcome, " + name)
	stored(w, r)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	cookiesession.FromContext(r.Context()).Destroy()
	seeOther(w, r, "")
}

func (a *app) note(w http.ResponseWriter, r *http.Request) {
	if code := parseForm(w, r); code != "" {
		seeOther(w, r, code)
		return
	}
	s := cookiesession.FromContext(r.Context())
	note := r.PostForm.Get("note")
	if d := draftOf(r); d != nil {
		d.page, d.set = a.view(r, s), true
		d.page.Draft = note
	}
	if note == "" {
		s.Delete("note")
	} else if err := s.Set("note", note); err != nil {
		a.fail(w, r, err)
		return
	}
	// A note too large for the cookie fails at commit, in commitFailed.
	if s.Len() == 0 {
		seeOther(w, r, "")
		return
	}
	stored(w, r)
}

// fail answers an error that should not happen with valid input.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	// The page shows the session as the cookie brought it, then counts
	// this visit, which the response's new cookie carries.
	p := a.view(r, s)
	p.Flashes = s.Flashes()
	p.Error = pageErrors[r.URL.Query().Get("error")]
	p.CookieLost = r.URL.Query().Has("stored") && len(p.Cookies) == 0
	if p.Live {
		if d := draftOf(r); d != nil {
			d.page, d.view = p, true // for commitFailed, if the count does not fit
		}
		// Counting only live sessions keeps a first visit cookie-free:
		// nothing is stored, so nothing is sent. A count posted at the
		// largest int stays there rather than wrap negative.
		if p.Visits < math.MaxInt {
			p.Visits++
		}
		if err := s.Set("visits", p.Visits); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.render(w, http.StatusOK, p)
}

// sessionBody is the JSON form of a session. Types names the Go type each
// value comes back as, to show that an int stays an int.
type sessionBody struct {
	ID      string            `json:"id"`
	Created time.Time         `json:"created"`
	Expires time.Time         `json:"expires"`
	Values  map[string]any    `json:"values"`
	Types   map[string]string `json:"types"`
	Refused string            `json:"refused,omitempty"` // why a new session replaced the cookie sent
}

// refusedBody answers GET /api/session when the request carried a session
// cookie the server could not open: without it, the reply would be the
// same {} as for a client that sent none.
type refusedBody struct {
	Refused string `json:"refused"`
}

// refusedNote is what the API says about a session cookie it could not
// open, as the page's refused-cookie note does.
const refusedNote = "the server could not open the session cookie this request carried: it expired, was changed, " +
	"or was sealed with a key this instance does not hold; the server log says which (at debug level with -debug, " +
	"at warning level for an unknown key)"

// refused reports whether the request brought a session cookie that did
// not open. Call it before the handler changes the session.
func (a *app) refused(r *http.Request, s *cookiesession.Session) bool {
	return s.IsNew() && len(a.received(r)) > 0
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func (a *app) getSession(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	if a.refused(r, s) {
		writeJSON(w, http.StatusOK, refusedBody{refusedNote})
		return
	}
	if s.IsNew() {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	writeJSON(w, http.StatusOK, sessionJSON(s, s.ExpiresAt()))
}

func sessionJSON(s *cookiesession.Session, expires time.Time) sessionBody {
	body := sessionBody{
		ID: s.ID(),
		// The token stores whole seconds; show what the cookie holds.
		Created: s.CreatedAt().UTC().Truncate(time.Second),
		Expires: expires.UTC(),
		Values:  map[string]any{},
		Types:   map[string]string{},
	}
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		body.Values[k] = v
		body.Types[k] = fmt.Sprintf("%T", v)
	}
	return body
}

func (a *app) mergeSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	fields, err := decodeObject(r.Body)
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, errorBody{err.Error()})
		return
	}
	s := cookiesession.FromContext(r.Context())
	refused := a.refused(r, s)
	for _, f := range fields {
		if err := f.store(s); err != nil {
			a.log.Error("storing value", "key", f.key, "err", err)
			writeJSON(w, http.StatusInternalServerError, errorBody{"internal error"})
			return
		}
	}
	// The merge changed the session: save it now, so that the reply shows
	// the new token's deadline, and a session that no longer fits is
	// answered as the middleware would.
	if err := a.mgr.Save(w, r, s); err != nil {
		a.commitFailed(w, r, err)
		return
	}
	body := sessionJSON(s, s.ExpiresAt())
	if refused {
		body.Refused = refusedNote + "; these values start a new session"
	}
	writeJSON(w, http.StatusOK, body)
}

func (a *app) deleteSession(w http.ResponseWriter, r *http.Request) {
	cookiesession.FromContext(r.Context()).Destroy()
	w.WriteHeader(http.StatusNoContent)
}

// field is one member of a POSTed object, already converted, so that a bad
// member is found before anything is stored.
type field struct {
	key    string
	value  any
	asJSON bool
}

func (f field) store(s *cookiesession.Session) error {
	if f.asJSON {
		return s.SetJSON(f.key, f.value)
	}
	return s.Set(f.key, f.value)
}

// decodeObject reads one JSON object and converts its members, sorted by
// key. A body that is not exactly one object, or that sets "user", is an
// error.
func decodeObject(body io.Reader) ([]field, error) {
	dec := json.NewDecoder(body)
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	if members == nil {
		return nil, errors.New("body is not a JSON object: null")
	}
	switch _, err := dec.Token(); {
	case err == io.EOF:
	case err != nil:
		return nil, fmt.Errorf("body has invalid JSON after the object: %w", err)
	default:
		return nil, errors.New("body holds more than one JSON value")
	}
	if _, ok := members["user"]; ok {
		// Only POST /login signs in: it checks the name and renews the id.
		return nil, errors.New(`"user" is set by logging in, not through the API`)
	}
	fields := make([]field, 0, len(members))
	for key, raw := range members {
		f, err := convert(key, raw)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
	return fields, nil
}

// convert maps a JSON value onto a type the session stores natively:
// string, bool, nil, []string, and numbers as int64 when the literal is an
// integer that fits, else float64. Anything else (objects, mixed arrays)
// is kept as JSON through SetJSON.
func convert(key string, raw json.RawMessage) (field, error) {
	f := field{key: key}
	var err error
	switch raw[0] {
	case '"':
		var s string
		err = json.Unmarshal(raw, &s)
		f.value = s
	case 't', 'f':
		f.value = raw[0] == 't'
	case 'n':
		f.value = nil
	case '[':
		f.value, f.asJSON = stringsOrJSON(raw)
	case '{':
		f.value, f.asJSON = raw, true
	default:
		f.value, err = number(string(raw))
	}
	if err != nil {
		return field{}, fmt.Errorf("value of %q: %w", key, err)
	}
	return f, nil
}

// stringsOrJSON returns an array of strings as []string, and any other
// array as its JSON text.
func stringsOrJSON(raw json.RawMessage) (any, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return raw, true
	}
	list := make([]string, len(items))
	for i, item := range items {
		if item[0] != '"' || json.Unmarshal(item, &list[i]) != nil {
			return raw, true
		}
	}
	return list, false
}

func number(lit string) (any, error) {
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s is out of range", lit)
	}
	return f, nil
}
