package cookiesession

// The sealing vectors of testdata/vectors.json: the created and expires a
// writer puts in a token at a now with a fraction of a second, and the
// cookie's Max-Age (FORMAT.md sections 2 and 3).

import (
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type vecSeal struct {
	Case               string   `json:"case"`
	Description        string   `json:"description"`
	Key                string   `json:"key"`
	KeyID              string   `json:"key_id"`
	Name               string   `json:"name"`
	Now                int64    `json:"now"`
	NowNsec            int64    `json:"now_nsec"`
	MaxAgeSeconds      int64    `json:"max_age_seconds"`
	IdleTimeoutSeconds int64    `json:"idle_timeout_seconds,omitempty"`
	MaxLifetime        int64    `json:"max_lifetime_seconds,omitempty"`
	BrowserSession     bool     `json:"browser_session,omitempty"`
	SessionCreated     *int64   `json:"session_created,omitempty"`
	Lifetime           *vecLife `json:"lifetime,omitempty"`
	Created            int64    `json:"created"`
	Expires            int64    `json:"expires"`
	CookieMaxAge       *int64   `json:"cookie_max_age"`
}

type vecSealCase struct {
	name, desc        string
	nsec              int64 // now is vecNow + 12 h plus this
	maxAge, idle, max int64 // the writer's options, in seconds
	browser           bool
	created           int64 // an existing session's created, as an offset from now; 0: a new session
	life              *vecLife
	expires           int64  // offset from the whole second of now
	cookieMaxAge      *int64 // nil: no Max-Age
}

const vecSealNow = vecNow + 12*3600 // 2026-01-01T12:00:00Z

func vecSealCases() []vecSealCase {
	n := func(x int64) *int64 { return &x }
	const half = 500_000_000
	return []vecSealCase{
		{name: "new_whole_second", desc: "a new session at a whole second: Max-Age is MaxAge",
			maxAge: 3600, expires: 3600, cookieMaxAge: n(3600)},
		{name: "new_half_second", desc: "a new session at 12:00:00.5: created and expires from 12:00:00, Max-Age rounded down",
			nsec: half, maxAge: 3600, expires: 3600, cookieMaxAge: n(3599)},
		{name: "new_last_millisecond", desc: "a new session a millisecond before 12:00:01 still counts from 12:00:00",
			nsec: 999_000_000, maxAge: 3600, expires: 3600, cookieMaxAge: n(3599)},
		{name: "new_idle", desc: "IdleTimeout comes first: expires = sealed_at + IdleTimeout",
			nsec: half, maxAge: vecDay, idle: 1800, expires: 1800, cookieMaxAge: n(1799)},
		{name: "existing_idle", desc: "a session created 10 minutes ago keeps its created; expires slides with IdleTimeout",
			nsec: half, maxAge: vecDay, idle: 1800, created: -600, expires: 1800, cookieMaxAge: n(1799)},
		{name: "existing_age_first", desc: "created + MaxAge comes before sealed_at + IdleTimeout",
			nsec: half, maxAge: vecDay, idle: 1800, created: -vecDay + 400, expires: 400, cookieMaxAge: n(399)},
		{name: "max_age_at_least_1", desc: "half a second left: Max-Age is at least 1",
			nsec: half, maxAge: vecDay, created: -vecDay + 1, expires: 1, cookieMaxAge: n(1)},
		{name: "lifetime_remember", desc: "a session's own MaxAge of 30 days, under a MaxLifetime of 30 days",
			nsec: half, maxAge: 3600, max: 30 * vecDay, life: &vecLife{MaxAge: 30 * vecDay},
			expires: 30 * vecDay, cookieMaxAge: n(30*vecDay - 1)},
		{name: "lifetime_cut", desc: "an hour-old session's own MaxAge of 7 days, cut to a MaxLifetime of 2 days",
			nsec: half, maxAge: 3600, max: 2 * vecDay, created: -3600, life: &vecLife{MaxAge: 7 * vecDay},
			expires: 2*vecDay - 3600, cookieMaxAge: n(2*vecDay - 3600 - 1)},
		{name: "lifetime_idle_browser", desc: "a session's own idle timeout in a browser-session cookie: no Max-Age",
			nsec: half, maxAge: vecDay, life: &vecLife{Idle: 600, BrowserSession: true}, expires: 600},
		{name: "browser_option", desc: "the writer's BrowserSession, for a session without a lifetime of its own: no Max-Age",
			nsec: half, maxAge: 3600, browser: true, expires: 3600},
		{name: "lifetime_persistent", desc: "a session's lifetime without the flag is persistent under the writer's BrowserSession",
			nsec: half, maxAge: 3600, max: 2 * 3600, browser: true, life: &vecLife{MaxAge: 2 * 3600}, expires: 2 * 3600, cookieMaxAge: n(2*3600 - 1)},
	}
}

func vecGenSeal() []vecSeal {
	var out []vecSeal
	for _, c := range vecSealCases() {
		v := vecSeal{Case: c.name, Description: c.desc, Key: hex.EncodeToString(vecKey1.secret), KeyID: FormatKeyID(vecKey1.id),
			Name: vecCookie, Now: vecSealNow, NowNsec: c.nsec, MaxAgeSeconds: c.maxAge, IdleTimeoutSeconds: c.idle,
			MaxLifetime: c.max, BrowserSession: c.browser, Lifetime: c.life,
			Created: vecSealNow + c.created, Expires: vecSealNow + c.expires, CookieMaxAge: c.cookieMaxAge}
		if c.created != 0 {
			v.SessionCreated = &v.Created
		}
		out = append(out, v)
	}
	return out
}

func (v vecSeal) now() time.Time { return time.Unix(v.Now, v.NowNsec) }

// vecCheckSeal seals a vector's session with a Codec, then writes it with
// a Manager, and checks created, expires and Max-Age.
func vecCheckSeal(t *testing.T, v vecSeal) {
	ring := vecOneKeyRing(t, v.Key, v.KeyID)
	second := time.Second
	c, err := NewCodec(ring, CodecOptions{Name: v.Name, MaxAge: time.Duration(v.MaxAgeSeconds) * second,
		IdleTimeout: time.Duration(v.IdleTimeoutSeconds) * second, MaxLifetime: time.Duration(v.MaxLifetime) * second})
	if err != nil {
		t.Fatal(err)
	}
	// An existing session is an opened record (KeyID set), which SealAt
	// cuts to MaxLifetime as the Manager does (lifetime_cut); a new one's
	// Lifetime over MaxLifetime it refuses.
	rec := Record{Lifetime: v.Lifetime.lifetime()}
	if v.SessionCreated != nil {
		rec.Created, rec.KeyID = time.Unix(*v.SessionCreated, 0), vecParseKey(t, v.Key, v.KeyID).id
	}
	if _, err := c.SealAt(&rec, v.now()); err != nil {
		t.Fatalf("Codec.SealAt: %v", err)
	}
	if rec.Created.Unix() != v.Created || rec.Expires.Unix() != v.Expires {
		t.Errorf("Codec.SealAt: created %d, expires %d; want %d, %d", rec.Created.Unix(), rec.Expires.Unix(), v.Created, v.Expires)
	}

	now := v.now()
	m, err := New(ring, Options{Name: v.Name, MaxAge: time.Duration(v.MaxAgeSeconds) * second,
		IdleTimeout: time.Duration(v.IdleTimeoutSeconds) * second, MaxLifetime: time.Duration(v.MaxLifetime) * second,
		BrowserSession: v.BrowserSession, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	if v.SessionCreated != nil {
		// The session's token, sealed a second before now.
		old := Record{Created: time.Unix(*v.SessionCreated, 0), Lifetime: v.Lifetime.lifetime(), KeyID: rec.KeyID}
		token, err := c.SealAt(&old, time.Unix(v.Now-1, 0))
		if err != nil {
			t.Fatal(err)
		}
		r.AddCookie(&http.Cookie{Name: v.Name, Value: token})
	}
	s, err := m.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if v.Lifetime != nil && v.SessionCreated == nil {
		if err := s.SetLifetime(v.Lifetime.lifetime()); err != nil {
			t.Fatal(err)
		}
	}
	s.Set("a", "b")
	w := httptest.NewRecorder()
	if err := m.Save(w, r, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Save wrote %d cookies, want 1", len(cookies))
	}
	got, err := c.OpenAt(cookies[0].Value, now)
	if err != nil {
		t.Fatalf("the Manager's token: %v", err)
	}
	if got.Created.Unix() != v.Created || got.Expires.Unix() != v.Expires {
		t.Errorf("Manager: created %d, expires %d; want %d, %d", got.Created.Unix(), got.Expires.Unix(), v.Created, v.Expires)
	}
	switch header := w.Header().Get("Set-Cookie"); {
	case v.CookieMaxAge == nil && cookies[0].MaxAge != 0:
		t.Errorf("Manager: %s; want no Max-Age", header)
	case v.CookieMaxAge != nil && int64(cookies[0].MaxAge) != *v.CookieMaxAge:
		t.Errorf("Manager: %s; want Max-Age=%d", header, *v.CookieMaxAge)
	}
}
