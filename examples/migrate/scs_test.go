package migrate

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/seed-ff2808ae/cookiesession"
)

// scsSession commits, in the old app's store, a session with the values
// gorillaCookie holds (a flash as scs apps keep one, a string) and its
// RememberMe, and returns the cookie that names it.
func scsSession(t *testing.T, sm *scs.SessionManager, remember bool) *http.Cookie {
	t.Helper()
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	sm.Put(ctx, "user", "ada")
	sm.Put(ctx, "visits", int64(7))
	sm.Put(ctx, "profile", profile{Name: "Ada", Admin: true})
	sm.Put(ctx, "phase", complex(1, 2))
	sm.RememberMe(ctx, remember)
	token, _, err := sm.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sm.Cookie.Name, Value: token}
}

// TestFromSCS: an scs session, under another cookie name (retired) or
// the Manager's own, is carried into the new session, a value the session
// cannot hold is logged at Warn, RememberMe(false) becomes a browser-session
// cookie, the old session ends in the store within carryGrace, and the old
// cookie is expired or replaced in the same response.
func TestFromSCS(t *testing.T) {
	for _, name := range []string{"scs_session", "session"} {
		for _, remember := range []bool{true, false} {
			logger, logs := newLogger()
			store := newEndingStore()
			sm := scs.New()
			sm.Store, sm.Cookie.Name, sm.Cookie.Persist = store, name, false
			old := scsSession(t, sm, remember)
			opts := cookiesession.Options{Logger: logger}
			if name != "session" {
				opts.Retired = []cookiesession.RetiredCookie{{Name: name}}
			}
			mgr := newManager(t, opts)
			h := mgr.Handler(FromSCS(mgr, sm, logger)(app))

			a := get(t, h, old)
			want := `user=ada visits=7 profile={Name:Ada Admin:true} flashes=[]`
			if a.body != want {
				t.Fatalf("%s: carried %q, want %q", name, a.body, want)
			}
			next := a.cookies["session"]
			if next == nil || next.Value == "" || (next.MaxAge > 0) != remember {
				t.Errorf("%s, remember %v: new cookie %+v", name, remember, next)
			}
			if c := a.cookies[name]; name != "session" && (c == nil || c.MaxAge >= 0) {
				t.Errorf("%s: old cookie not expired: %+v", name, c)
			}
			store.endsSoon(t, old.Value)
			warns := logs.lines(t, "cookiesession/migrate: a value of the old session was not carried")
			if len(warns) != 1 || warns[0]["key"] != "phase" || warns[0]["type"] != "complex128" {
				t.Errorf("%s: not carried, logged: %v; want phase (complex128)", name, warns)
			}
			if a = get(t, h, next, old); a.body != want || len(logs.lines(t, "cookiesession/migrate: scs session carried")) != 1 {
				t.Errorf("%s: next request %q, or carried twice", name, a.body)
			}
		}
	}
}

// endingStore is an scs memstore that records the expiry each token was
// last committed with.
type endingStore struct {
	*memstore.MemStore
	mu   sync.Mutex
	ends map[string]time.Time
}

func newEndingStore() *endingStore {
	return &endingStore{MemStore: memstore.NewWithCleanupInterval(0), ends: map[string]time.Time{}}
}

func (e *endingStore) Commit(token string, b []byte, expiry time.Time) error {
	e.mu.Lock()
	e.ends[token] = expiry
	e.mu.Unlock()
	return e.MemStore.Commit(token, b, expiry)
}

// endsSoon fails t unless the store holds token's session no longer than
// carryGrace from now: its token carries nothing after that.
func (e *endingStore) endsSoon(t *testing.T, token string) {
	t.Helper()
	e.mu.Lock()
	end := e.ends[token]
	e.mu.Unlock()
	if _, found, _ := e.Find(token); found && (end.IsZero() || end.After(time.Now().Add(carryGrace))) {
		t.Errorf("the old scs session stays in the store until %v, past carryGrace", end)
	}
}

// failingStore is an scs store that cannot be reached.
type failingStore struct{}

func (failingStore) Find(string) ([]byte, bool, error) {
	return nil, false, errors.New("connection refused")
}
func (failingStore) Commit(string, []byte, time.Time) error { return errors.New("connection refused") }
func (failingStore) Delete(string) error                    { return errors.New("connection refused") }

// TestSCSStoreDown: while the old store fails, the request is answered
// 503 with no Set-Cookie, so the old cookie stays for the next try, and
// the failure is logged at Error.
func TestSCSStoreDown(t *testing.T) {
	logger, logs := newLogger()
	sm := scs.New()
	sm.Store, sm.Cookie.Name = failingStore{}, "scs_session"
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
	h := mgr.Handler(FromSCS(mgr, sm, logger)(app))
	a := get(t, h, &http.Cookie{Name: "scs_session", Value: "0123456789012345678901234567890123456789012"})
	if a.status != http.StatusServiceUnavailable || len(a.cookies) != 0 {
		t.Errorf("store down: %d, cookies %v; want 503 and none", a.status, a.cookies)
	}
	if errs := logs.lines(t, "cookiesession/migrate: scs store failed"); len(errs) != 1 || errs[0]["level"] != "ERROR" {
		t.Errorf("store failure logged as %v, want one Error", errs)
	}
}

// TestSCSSignedInSkipsLookup: a request whose new cookie the Manager
// opens looks nothing up in the old store, so a store that fails answers
// no 503 to users the new app signed in who still send the old cookie (an
// old instance serving beside the new one sets it again).
func TestSCSSignedInSkipsLookup(t *testing.T) {
	logger, logs := newLogger()
	store := &switchStore{MemStore: memstore.NewWithCleanupInterval(0)}
	sm := scs.New()
	sm.Store, sm.Cookie.Name = store, "scs_session"
	old := scsSession(t, sm, true)
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
	h := mgr.Handler(FromSCS(mgr, sm, logger)(app))
	a := get(t, h, old)
	ours := a.cookies["session"]
	if a.status != http.StatusOK || !strings.HasPrefix(a.body, "user=ada") || ours == nil {
		t.Fatalf("carry: %d %q, cookies %v", a.status, a.body, a.cookies)
	}
	store.down.Store(true)
	a = get(t, h, ours, old)
	if a.status != http.StatusOK || !strings.HasPrefix(a.body, "user=ada") {
		t.Errorf("signed in, with the old store down: %d %q, want 200 and the user", a.status, a.body)
	}
	if errs := logs.lines(t, "cookiesession/migrate: scs store failed"); len(errs) != 0 {
		t.Errorf("the old store was looked up: %v", errs)
	}
}

// switchStore is an scs memstore that fails once down is set.
type switchStore struct {
	*memstore.MemStore
	down atomic.Bool
}

func (s *switchStore) Find(token string) ([]byte, bool, error) {
	if s.down.Load() {
		return nil, false, errors.New("connection refused")
	}
	return s.MemStore.Find(token)
}

// cart is a struct the old app registered with gob under its own name.
type cart struct{ Items []string }

func init() { gob.RegisterName("oldapp.cart", cart{}) }

// TestSCSSessionNotReadable: an scs session the store returns but scs
// cannot decode (a type the old app registered with gob and this one does
// not) is not a store that fails: a 503 would answer that user at every
// request until the old session's deadline. The user gets the page, signed
// out, the old cookie is expired, and the fix is logged at Warn, once a
// minute, at Debug in between.
func TestSCSSessionNotReadable(t *testing.T) {
	logger, logs := newLogger()
	store := memstore.NewWithCleanupInterval(0)
	sm := scs.New()
	sm.Store, sm.Cookie.Name = store, "scs_session"
	old := scsSession(t, sm, true)
	ctx, err := sm.Load(context.Background(), old.Value)
	if err != nil {
		t.Fatal(err)
	}
	sm.Put(ctx, "cart", cart{Items: []string{"book"}})
	if _, _, err := sm.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b, _, _ := store.Find(old.Value)
	renamed := bytes.Replace(b, []byte("oldapp.cart"), []byte("oldapp.cxrt"), 1) // registered by the old app alone
	if err := store.Commit(old.Value, renamed, time.Now().Add(time.Hour)); err != nil || bytes.Equal(b, renamed) {
		t.Fatalf("store entry not renamed (%v)", err)
	}
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
	h := mgr.Handler(FromSCS(mgr, sm, logger)(app))

	a := get(t, h, old)
	if a.status != http.StatusOK || !strings.HasPrefix(a.body, "user= visits=0") {
		t.Errorf("undecodable session: %d %q, want 200, signed out", a.status, a.body)
	}
	if c := a.cookies["scs_session"]; c == nil || c.MaxAge >= 0 {
		t.Errorf("old cookie not expired: %+v", c)
	}
	warns := logs.lines(t, "cookiesession/migrate: scs session not readable")
	if len(warns) != 1 || warns[0]["level"] != "WARN" || !strings.Contains(warns[0]["fix"].(string), "gob.Register") {
		t.Errorf("undecodable session logged as %v, want one Warn naming gob.Register", warns)
	}
	// Within the minute, the next such session is logged at Debug, so that
	// a flood of them cannot fill the log.
	get(t, h, old)
	if lines := logs.lines(t, "cookiesession/migrate: scs session not readable"); len(lines) != 2 || lines[1]["level"] != "DEBUG" {
		t.Errorf("a second undecodable session within the minute logged as %v, want Debug", lines)
	}
	if errs := logs.lines(t, "cookiesession/migrate: scs store failed"); len(errs) != 0 {
		t.Errorf("logged as a store failure: %v", errs)
	}
}

// TestSCSRequestsSentTogether: a page's requests leave the browser
// together, each with the old scs cookie. The first carries the session;
// one answered after it must carry it too, not find it deleted from the
// store and answer signed out, which under the Manager's Name is a line
// that clears the cookie the first answer set, should the browser take it
// last: the user is signed out. The old session ends within carryGrace.
func TestSCSRequestsSentTogether(t *testing.T) {
	for _, name := range []string{"session", "scs_session"} {
		logger, _ := newLogger()
		store := newEndingStore()
		sm := scs.New()
		sm.Store, sm.Cookie.Name = store, name
		old := scsSession(t, sm, true)
		opts := cookiesession.Options{Logger: logger}
		if name != "session" {
			opts.Retired = []cookiesession.RetiredCookie{{Name: name}}
		}
		mgr := newManager(t, opts)
		h := mgr.Handler(FromSCS(mgr, sm, logger)(app))
		first, second := get(t, h, old), get(t, h, old)
		for i, a := range []answer{first, second} {
			if !strings.HasPrefix(a.body, "user=ada visits=7 ") {
				t.Errorf("%s: request %d of two sent together: %q, want the user signed in", name, i+1, a.body)
			}
			if c := a.cookies["session"]; c == nil || c.MaxAge <= 0 {
				t.Errorf("%s: request %d of two sent together sets %+v, want the carried session", name, i+1, c)
			}
		}
		store.endsSoon(t, old.Value)
	}
}

// TestSCSRememberMeAloneNotCarried: an scs session whose only value is
// RememberMe's (a logout that removed the user id kept it) carries no
// cookie: its Lifetime alone would be saved.
func TestSCSRememberMeAloneNotCarried(t *testing.T) {
	for _, remember := range []bool{true, false} {
		logger, _ := newLogger()
		sm := scs.New()
		sm.Store, sm.Cookie.Name = newEndingStore(), "scs_session"
		ctx, err := sm.Load(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		sm.RememberMe(ctx, remember)
		token, _, err := sm.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mgr := newManager(t, cookiesession.Options{Logger: logger, Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
		a := get(t, mgr.Handler(FromSCS(mgr, sm, logger)(app)), &http.Cookie{Name: "scs_session", Value: token})
		if a.cookies["session"] != nil {
			t.Errorf("remember %v: RememberMe alone carried into %v", remember, a.cookies["session"])
		}
		if c := a.cookies["scs_session"]; c == nil || c.MaxAge >= 0 {
			t.Errorf("remember %v: old cookie not expired: %v", remember, a.cookies)
		}
	}
}
