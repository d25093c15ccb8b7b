package migrate

import (
	"context"
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
)

// draft is a struct the old app registered with gob: HTML, which
// encoding/json escapes (< becomes \u003c), so that it grows when carried.
type draft struct{ Body string }

func init() { gob.Register(draft{}) }

// fullGorillaCookie is gorillaCookie with a draft as large as gorilla's
// 4096-byte cookie still takes.
func fullGorillaCookie(t *testing.T, store *sessions.CookieStore, name string) *http.Cookie {
	t.Helper()
	var last *http.Cookie
	for n := 1; ; n++ {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		r.AddCookie(gorillaCookie(t, store, name))
		sess, err := store.Get(r, name)
		if err != nil {
			t.Fatal(err)
		}
		sess.Values["draft"] = draft{Body: strings.Repeat("<li>a</li>", n)}
		w := httptest.NewRecorder()
		if err := sess.Save(r, w); err != nil { // securecookie: the value is too long
			if last == nil {
				t.Fatal(err)
			}
			return last
		}
		last = w.Result().Cookies()[0]
	}
}

// bigSCSSession is scsSession with 20 KB more: a report the old app kept
// in its server-side store.
func bigSCSSession(t *testing.T, sm *scs.SessionManager) *http.Cookie {
	t.Helper()
	c := scsSession(t, sm, true)
	ctx, err := sm.Load(context.Background(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	sm.Put(ctx, "report", strings.Repeat("0123456789", 2048))
	if _, _, err := sm.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOldSessionTooLarge: an old session that does not fit the new
// cookie (a 20 KB scs session, a full gorilla cookie whose struct grows
// as JSON) is carried without its largest values, each logged at Warn
// with its key and size, beside one Warn that names the fix; the user
// gets the page and a new cookie, and the old cookie is retired. Without
// it the Manager answered 500 and kept the old cookie, on every request.
func TestOldSessionTooLarge(t *testing.T) {
	gorillaStore := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	sm := scs.New()
	store := newEndingStore()
	sm.Store, sm.Cookie.Name = store, "scs_session"
	oldSCS := bigSCSSession(t, sm)
	for _, tc := range []struct {
		from, cookie, dropped, want string
		counted                     uint64 // by the Manager's TooLarge
		old                         *http.Cookie
		migrate                     func(*cookiesession.Manager, *slog.Logger) func(http.Handler) http.Handler
	}{{
		from: "gorilla", cookie: "app-session", dropped: "draft", want: carried, counted: 1,
		old: fullGorillaCookie(t, gorillaStore, "app-session"),
		migrate: func(mgr *cookiesession.Manager, logger *slog.Logger) func(http.Handler) http.Handler {
			return FromGorilla(mgr, gorillaStore, "app-session", logger)
		},
	}, {
		from: "scs", cookie: "scs_session", dropped: "report",
		want: `user=ada visits=7 profile={Name:Ada Admin:true} flashes=[]`,
		old:  oldSCS, // the report, larger than a cookie holds, is left out before Save

		migrate: func(mgr *cookiesession.Manager, logger *slog.Logger) func(http.Handler) http.Handler {
			return FromSCS(mgr, sm, logger)
		},
	}} {
		logger, logs := newLogger()
		mgr := newManager(t, cookiesession.Options{Logger: logger, MaxChunks: 1,
			Retired: []cookiesession.RetiredCookie{{Name: tc.cookie}}})
		h := mgr.Handler(tc.migrate(mgr, logger)(app))

		a := get(t, h, tc.old)
		if a.status != http.StatusOK || a.body != tc.want {
			t.Errorf("%s: %d %q, want 200 %q", tc.from, a.status, a.body, tc.want)
			continue
		}
		next := a.cookies["session"]
		if next == nil || next.MaxAge <= 0 {
			t.Errorf("%s: no new session cookie: %+v", tc.from, a.cookies)
		}
		if c := a.cookies[tc.cookie]; c == nil || c.MaxAge >= 0 {
			t.Errorf("%s: old cookie not expired: %+v", tc.from, c)
		}
		dropped := map[string]bool{}
		for _, l := range logs.lines(t, "cookiesession/migrate: a value of the old session was not carried") {
			if err, _ := l["error"].(string); strings.Contains(err, "too large") {
				dropped[l["key"].(string)] = l["level"] == "WARN" && l["bytes"].(float64) > 2048
			}
		}
		if len(dropped) != 1 || !dropped[tc.dropped] {
			t.Errorf("%s: dropped %v, want %s at Warn with its size", tc.from, dropped, tc.dropped)
		}
		warns := logs.lines(t, "cookiesession/migrate: the old session is too large for the new cookie")
		if len(warns) != 1 || warns[0]["level"] != "WARN" || !strings.Contains(warns[0]["fix"].(string), "raise Options.MaxChunks (now 1), unless Options.Partitioned") {
			t.Errorf("%s: operator told %v, want one Warn with the fix", tc.from, warns)
		}
		if l := logs.lines(t, "cookiesession: cannot save session"); len(l) != 0 || mgr.Metrics().TooLarge != tc.counted {
			t.Errorf("%s: the Manager logged %v, counted %d too large; want nothing and %d", tc.from, l, mgr.Metrics().TooLarge, tc.counted)
		}
		if a = get(t, h, next, tc.old); a.status != http.StatusOK || len(a.cookies) != 0 {
			t.Errorf("%s: next request %d, cookies %v", tc.from, a.status, a.cookies)
		}
	}
	store.endsSoon(t, oldSCS.Value)

	// Partitioned, three chunks take what browsers keep: the fix must not
	// promise that more would hold the report.
	logger, logs := newLogger()
	mgr := newManager(t, cookiesession.Options{Logger: logger, Partitioned: true, MaxChunks: 3,
		Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
	if a := get(t, mgr.Handler(FromSCS(mgr, sm, logger)(app)), bigSCSSession(t, sm)); a.status != http.StatusOK {
		t.Errorf("partitioned: %d %q", a.status, a.body)
	}
	warns := logs.lines(t, "cookiesession/migrate: the old session is too large for the new cookie")
	// Nor that more would not, below that: one chunk holds 4096 bytes.
	if len(warns) != 1 || !strings.Contains(warns[0]["fix"].(string), "unless Options.Partitioned and its chunks already take the 10240 bytes browsers keep") {
		t.Errorf("partitioned: operator told %v, want the fix with the Partitioned limit", warns)
	}
}

// TestManySCSValues: an scs session of 20000 values, far more than a
// cookie holds, is carried with work that grows with the number of
// values, not its square: each value of a session is stored in one
// encoding that every Set and Delete goes through, so carrying them all
// and dropping them one by one took seconds of CPU (8.6 s here before the
// fix). The work is measured in bytes allocated, which a slow or busy
// machine does not change: about 1.3 KB a value here, 409 KB before the
// fix. Each value left out is logged.
func TestManySCSValues(t *testing.T) {
	logger, logs := newLogger()
	sm := scs.New()
	sm.Store, sm.Cookie.Name = memstore.NewWithCleanupInterval(0), "scs_session"
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for i := range n {
		sm.Put(ctx, fmt.Sprintf("k%05d", i), fmt.Sprintf("value %05d", i))
	}
	token, _, err := sm.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "scs_session"}}})
	var kept int
	h := mgr.Handler(FromSCS(mgr, sm, logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = cookiesession.FromContext(r.Context()).Len()
	})))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a := get(t, h, &http.Cookie{Name: "scs_session", Value: token})
	runtime.ReadMemStats(&after)
	if perValue := (after.TotalAlloc - before.TotalAlloc) / n; a.status != http.StatusOK || perValue > 16<<10 {
		t.Errorf("%d after allocating %d bytes a value, want 200 and at most 16 KiB a value", a.status, perValue)
	}
	left := logs.lines(t, "cookiesession/migrate: a value of the old session was not carried")
	if kept == 0 || a.cookies["session"] == nil || kept+len(left) != n {
		t.Errorf("kept %d, logged %d left out, of %d; cookie %v", kept, len(left), n, a.cookies["session"])
	}
	// Each at Debug past the first 20, and one Warn with the fix that counts them.
	warns := 0
	for _, l := range left {
		if l["level"] == "WARN" {
			warns++
		}
	}
	summary := logs.lines(t, "cookiesession/migrate: the old session is too large")
	if warns != 20 || len(summary) != 1 || summary[0]["left_out"] != float64(len(left)) || len(summary[0]["keys"].([]any)) != 20 {
		t.Errorf("%d of %d left-out values at Warn, summary %v; want 20, and one Warn counting them all", warns, len(left), summary)
	}
}
