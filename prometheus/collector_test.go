package promsession

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/seed-ff2808ae/cookiesession"
)

// key returns a key with a fixed id, so that the expected text can name it.
func key(t *testing.T, id uint32) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.NewKey(id, bytes.Repeat([]byte{byte(id)}, cookiesession.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// server is a Manager behind its middleware, with routes that store a
// small value, store one too large for the cookie, read, store after the
// response was committed, first read after it, and read for a page that
// a shared cache may store.
func server(t *testing.T, ring *cookiesession.KeyRing, name string) (*cookiesession.Manager, http.Handler) {
	t.Helper()
	m, err := cookiesession.New(ring, cookiesession.Options{Name: name, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Set("user", "ada")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Set("blob", strings.Repeat("x", 5000))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).GetString("user")
	})
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		cookiesession.FromContext(r.Context()).Set("user", "ada") // lost: the response was committed
	})
	mux.HandleFunc("/readlate", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
		cookiesession.FromContext(r.Context()).GetString("user") // read late: the page went out without Vary: Cookie
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600") // shared_store: only Vary: Cookie guards the page
		io.WriteString(w, "Hi "+cookiesession.FromContext(r.Context()).GetString("user"))
	})
	return m, m.Handler(mux)
}

// prefetch sends path as a browser's prefetch (Sec-Purpose: prefetch)
// with the cookie header.
func prefetch(t *testing.T, h http.Handler, path, cookie, name string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Sec-Purpose", "prefetch")
	if cookie != "" {
		req.Header.Set("Cookie", name+"="+cookie)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
}

// request sends path with the cookie header and returns the response's
// first Set-Cookie value for name, or "".
func request(t *testing.T, h http.Handler, path, cookie, name string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", name+"="+cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return rec.Code, c.Value
		}
	}
	return rec.Code, ""
}

// TestCollector drives a Manager through a write, opens, a tampered
// cookie, a session too large and a rotation, and compares what the
// collector exports.
func TestCollector(t *testing.T) {
	oldKey, newKey, later := key(t, 0x0a), key(t, 0x0b), key(t, 0x0c)
	ring, err := cookiesession.NewKeyRing(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	m, h := server(t, ring, "sid")
	c := NewCollector(m, "app")

	_, token := request(t, h, "/set", "", "sid") // written 1
	if token == "" {
		t.Fatal("no cookie after /set")
	}
	request(t, h, "/get", token, "sid") // opened 1
	i, swap := len(token)-10, "A"       // inside the tag: authentication fails
	if token[i] == 'A' {
		swap = "B"
	}
	tampered := token[:i] + swap + token[i+1:]
	request(t, h, "/get", tampered, "sid") // refused auth_failed, cleared
	if code, _ := request(t, h, "/big", token, "sid"); code != http.StatusInternalServerError {
		t.Fatalf("/big answered %d, want the default ErrorHandler's 500", code) // opened 2, too_large 1
	}
	foreign, err := cookiesession.NewKeyRing(key(t, 0x0d))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(foreign, cookiesession.CodecOptions{Name: "sid"})
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := codec.Seal(&cookiesession.Record{})
	if err != nil {
		t.Fatal(err)
	}
	request(t, h, "/get", unknown, "sid")  // refused unknown_key, unknown_key_ids 1
	request(t, h, "/late", "", "sid")      // lost after_commit 1
	request(t, h, "/readlate", "", "sid")  // read_late 1
	prefetch(t, h, "/set", "", "sid")      // speculative_changes 1, written 2
	request(t, h, "/cached", token, "sid") // opened 3, shared_store 1
	promoteAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, err := range []error{ring.Add(newKey), ring.AddScheduled(later, promoteAt), ring.Promote(newKey.ID())} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, moved := request(t, h, "/get", token, "sid"); moved == "" { // opened 4, resealed 1, written 3
		t.Fatal("a token under the old key was not re-sealed")
	}

	const want = `
# HELP app_cookiesession_carried_total Sessions opened from a retired cookie of another name (RetiredCookie.Carry), each also under opened_total, and under written_total once written under this name.
# TYPE app_cookiesession_carried_total counter
app_cookiesession_carried_total{cookie="sid"} 0
# HELP app_cookiesession_cleared_total Responses that expired the client's session cookies.
# TYPE app_cookiesession_cleared_total counter
app_cookiesession_cleared_total{cookie="sid"} 1
# HELP app_cookiesession_dropped_total Responses that set a session cookie browsers drop, by reason.
# TYPE app_cookiesession_dropped_total counter
app_cookiesession_dropped_total{cookie="sid",reason="cross_site"} 0
app_cookiesession_dropped_total{cookie="sid",reason="domain"} 0
app_cookiesession_dropped_total{cookie="sid",reason="plain_http"} 4
# HELP app_cookiesession_key_info Each key of the running ring (never its secret): 1, with whether it is the primary, its scheduled promotion and its secret's fingerprint.
# TYPE app_cookiesession_key_info gauge
app_cookiesession_key_info{cookie="sid",fingerprint="2c58fcfdeb77",key_id="0000000a",primary="false",promote_at=""} 1
app_cookiesession_key_info{cookie="sid",fingerprint="6e12e04da67a",key_id="0000000b",primary="true",promote_at=""} 1
app_cookiesession_key_info{cookie="sid",fingerprint="02725a896478",key_id="0000000c",primary="false",promote_at="2030-01-02T03:04:05Z"} 1
# HELP app_cookiesession_keyring_last_reload_successful Whether the key ring holds its file's keys: 0 while a reload fails and the old keys stay in force, or while the file is not watched (WatchFile stopped or refused its interval).
# TYPE app_cookiesession_keyring_last_reload_successful gauge
app_cookiesession_keyring_last_reload_successful{cookie="sid"} 1
# HELP app_cookiesession_keyring_reload_failures_total Reloads of the key ring from its file that failed, each retry counted.
# TYPE app_cookiesession_keyring_reload_failures_total counter
app_cookiesession_keyring_reload_failures_total{cookie="sid"} 0
# HELP app_cookiesession_lost_total Sessions whose change the client never got, by reason, each at most once per reason.
# TYPE app_cookiesession_lost_total counter
app_cookiesession_lost_total{cookie="sid",reason="after_commit"} 1
app_cookiesession_lost_total{cookie="sid",reason="after_panic"} 0
app_cookiesession_lost_total{cookie="sid",reason="unsaved"} 0
# HELP app_cookiesession_opened_total Session tokens opened, by the id of the key that sealed them.
# TYPE app_cookiesession_opened_total counter
app_cookiesession_opened_total{cookie="sid",key_id="0000000a"} 4
# HELP app_cookiesession_read_late_total Sessions first read once their response had gone out without Vary: Cookie, which a shared cache may serve to every user.
# TYPE app_cookiesession_read_late_total counter
app_cookiesession_read_late_total{cookie="sid"} 1
# HELP app_cookiesession_refused_total Session cookies refused, by reason.
# TYPE app_cookiesession_refused_total counter
app_cookiesession_refused_total{cookie="sid",reason="auth_failed"} 1
app_cookiesession_refused_total{cookie="sid",reason="bad_encoding"} 0
app_cookiesession_refused_total{cookie="sid",reason="clock_skew"} 0
app_cookiesession_refused_total{cookie="sid",reason="expired"} 0
app_cookiesession_refused_total{cookie="sid",reason="unknown_key"} 1
app_cookiesession_refused_total{cookie="sid",reason="validate"} 0
# HELP app_cookiesession_resealed_total Tokens re-sealed only to move them from an old key to the primary.
# TYPE app_cookiesession_resealed_total counter
app_cookiesession_resealed_total{cookie="sid"} 1
# HELP app_cookiesession_shared_store_total Responses whose handler used the session, with no cookie, that a field lets a shared cache store: only Vary: Cookie, which some CDNs ignore, keeps them from other users.
# TYPE app_cookiesession_shared_store_total counter
app_cookiesession_shared_store_total{cookie="sid"} 1
# HELP app_cookiesession_speculative_changes_total Responses carrying a change a handler made to its session (sign-out, renew, flash consumed, values) on a GET sent ahead of a click (a prefetch or prerender), which the user may never open.
# TYPE app_cookiesession_speculative_changes_total counter
app_cookiesession_speculative_changes_total{cookie="sid"} 1
# HELP app_cookiesession_too_large_total Sessions that did not fit the cookie size limit.
# TYPE app_cookiesession_too_large_total counter
app_cookiesession_too_large_total{cookie="sid"} 1
# HELP app_cookiesession_unknown_key_ids Different unknown key ids refused in the last minute, at most 32: one or two for a key removed too early or missing here, many for forged cookies.
# TYPE app_cookiesession_unknown_key_ids gauge
app_cookiesession_unknown_key_ids{cookie="sid"} 1
# HELP app_cookiesession_written_total Session tokens sealed into a response.
# TYPE app_cookiesession_written_total counter
app_cookiesession_written_total{cookie="sid"} 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

// TestCollectorCarried: a session carried from a retired cookie of
// another name (RetiredCookie.Carry) counts in carried_total, once: the
// request after reads the new cookie. One that the request carrying it
// ends (a logout) counts too, and is not written.
func TestCollectorCarried(t *testing.T) {
	ring, err := cookiesession.NewKeyRing(key(t, 0x0a))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{Name: "__Host-sid", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retired: []cookiesession.RetiredCookie{{Name: "sid", Carry: true}}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
	}))
	_, h2 := server(t, ring, "sid")
	_, old := request(t, h2, "/set", "", "sid")
	req := httptest.NewRequest("GET", "/get", nil)
	req.Header.Set("Cookie", "sid="+old)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var carried string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-sid" {
			carried = c.Value
		}
	}
	if rec.Body.String() != "ada" || carried == "" {
		t.Fatalf("the session under sid: %q, __Host-sid %q; want ada, written under __Host-sid", rec.Body.String(), carried)
	}
	request(t, h, "/get", carried, "__Host-sid")
	_, old = request(t, h2, "/set", "", "sid")
	logout := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	}))
	if _, got := request(t, logout, "/logout", old, "sid"); got != "" {
		t.Fatalf("the logout wrote %q under sid", got)
	}
	const want = `
# HELP app_cookiesession_carried_total Sessions opened from a retired cookie of another name (RetiredCookie.Carry), each also under opened_total, and under written_total once written under this name.
# TYPE app_cookiesession_carried_total counter
app_cookiesession_carried_total{cookie="__Host-sid"} 2
# HELP app_cookiesession_written_total Session tokens sealed into a response.
# TYPE app_cookiesession_written_total counter
app_cookiesession_written_total{cookie="__Host-sid"} 1
`
	if err := testutil.CollectAndCompare(NewCollector(m, "app"), strings.NewReader(want), "app_cookiesession_carried_total", "app_cookiesession_written_total"); err != nil {
		t.Error(err)
	}
}

// TestCollectorReload: a ring loaded from a file reports when it was
// read, a failing reload turns the gauge to 0 and counts each try, the
// keys staying as they were, and the next good reload turns it back.
func TestCollectorReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.json")
	writeRing := func(data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first, err := cookiesession.NewKeyRing(key(t, 0x0a))
	if err != nil {
		t.Fatal(err)
	}
	text, err := first.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	writeRing(text)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	ring.SetClock(func() time.Time { return now })
	m, _ := server(t, ring, "sid")
	c := NewCollector(m, "")
	names := []string{"cookiesession_keyring_reload_failures_total", "cookiesession_keyring_last_reload_successful",
		"cookiesession_keyring_last_reload_success_timestamp_seconds", "cookiesession_key_info"}
	const help = `
# HELP cookiesession_key_info Each key of the running ring (never its secret): 1, with whether it is the primary, its scheduled promotion and its secret's fingerprint.
# TYPE cookiesession_key_info gauge
cookiesession_key_info{cookie="sid",fingerprint="2c58fcfdeb77",key_id="0000000a",primary="true",promote_at=""} 1
# HELP cookiesession_keyring_last_reload_success_timestamp_seconds When the keys in force were read from the key ring's file.
# TYPE cookiesession_keyring_last_reload_success_timestamp_seconds gauge
# HELP cookiesession_keyring_last_reload_successful Whether the key ring holds its file's keys: 0 while a reload fails and the old keys stay in force, or while the file is not watched (WatchFile stopped or refused its interval).
# TYPE cookiesession_keyring_last_reload_successful gauge
# HELP cookiesession_keyring_reload_failures_total Reloads of the key ring from its file that failed, each retry counted.
# TYPE cookiesession_keyring_reload_failures_total counter
`
	if err := ring.ReloadFile(path); err != nil { // read at now
		t.Fatal(err)
	}
	writeRing([]byte(`{"version":1`))
	for range 2 {
		if err := ring.ReloadFile(path); err == nil {
			t.Fatal("a torn file reloaded")
		}
	}
	const failing = help + `
cookiesession_keyring_last_reload_success_timestamp_seconds{cookie="sid"} 1.8935534455e+09
cookiesession_keyring_last_reload_successful{cookie="sid"} 0
cookiesession_keyring_reload_failures_total{cookie="sid"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(failing), names...); err != nil {
		t.Errorf("while the file is torn: %v", err)
	}

	now = now.Add(time.Minute)
	writeRing(text)
	if err := ring.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	const recovered = help + `
cookiesession_keyring_last_reload_success_timestamp_seconds{cookie="sid"} 1.8935535055e+09
cookiesession_keyring_last_reload_successful{cookie="sid"} 1
cookiesession_keyring_reload_failures_total{cookie="sid"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(recovered), names...); err != nil {
		t.Errorf("after the file was fixed: %v", err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

// TestTwoManagersOneRegistry: the cookie label keeps two Managers'
// metrics apart in one registry.
func TestTwoManagersOneRegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	for _, name := range []string{"auth", "prefs"} {
		ring, err := cookiesession.NewKeyRing(key(t, 0x01))
		if err != nil {
			t.Fatal(err)
		}
		m, h := server(t, ring, name)
		_, token := request(t, h, "/set", "", name)
		request(t, h, "/get", token, name)
		if err := reg.Register(NewCollector(m, "")); err != nil {
			t.Fatalf("registering %s: %v", name, err)
		}
	}
	const want = `
# HELP cookiesession_opened_total Session tokens opened, by the id of the key that sealed them.
# TYPE cookiesession_opened_total counter
cookiesession_opened_total{cookie="auth",key_id="00000001"} 1
cookiesession_opened_total{cookie="prefs",key_id="00000001"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cookiesession_opened_total"); err != nil {
		t.Error(err)
	}
}

// TestSharedRingReloadShownPerManager checks what README and the package
// documentation say of a ring two Managers share: one failed reload shows
// under each Manager's cookie label, the same count, so a sum over cookie
// counts it twice.
func TestSharedRingReloadShownPerManager(t *testing.T) {
	ring, path := fileRing(t, key(t, 0x0a))
	reg := prometheus.NewPedanticRegistry()
	for _, name := range []string{"auth", "prefs"} {
		m, _ := server(t, ring, name)
		reg.MustRegister(NewCollector(m, ""))
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ring.ReloadFile(path); err == nil {
		t.Fatal("ReloadFile of a torn ring succeeded")
	}
	const want = `
# HELP cookiesession_keyring_reload_failures_total Reloads of the key ring from its file that failed, each retry counted.
# TYPE cookiesession_keyring_reload_failures_total counter
cookiesession_keyring_reload_failures_total{cookie="auth"} 1
cookiesession_keyring_reload_failures_total{cookie="prefs"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cookiesession_keyring_reload_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestSameCookieNameNeedsNamespaces checks what the package documentation
// says of two Managers of one cookie name (Paths apart) on one registry:
// the second collector is refused, and is taken under a namespace of its
// own.
func TestSameCookieNameNeedsNamespaces(t *testing.T) {
	ring, err := cookiesession.NewKeyRing(key(t, 0x01))
	if err != nil {
		t.Fatal(err)
	}
	var managers []*cookiesession.Manager
	for _, path := range []string{"/", "/admin"} {
		m, err := cookiesession.New(ring, cookiesession.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		managers = append(managers, m)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(managers[0], "")); err != nil {
		t.Fatal(err)
	}
	var dup prometheus.AlreadyRegisteredError
	if err := reg.Register(NewCollector(managers[1], "")); !errors.As(err, &dup) {
		t.Errorf("second Manager of cookie %q under the same namespace: %v, want AlreadyRegisteredError", managers[1].CookieNames()[0], err)
	}
	if err := reg.Register(NewCollector(managers[1], "admin")); err != nil {
		t.Errorf("second Manager under its own namespace: %v", err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Error(err)
	}
}

// TestNilManagerRefused checks that a nil Manager (New's error dropped)
// panics naming the fix, not with a nil dereference.
func TestNilManagerRefused(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "New returns with an error") {
			t.Errorf("NewCollector(nil) panicked with %q, want the fix", msg)
		}
	}()
	NewCollector(nil, "")
}

// TestReadmeDocumentsEveryMetric keeps README's table of metrics
// (section "Operators") whole: each metric the collector exports, in the
// row that names it, with its labels and the values of reason; and each
// field of the /debug/vars JSON.
func TestReadmeDocumentsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rowOf := func(name string) string {
		for line := range strings.Lines(string(readme)) {
			if strings.HasPrefix(line, "| ") && (strings.Contains(line, "`"+name+"`") || strings.Contains(line, "`"+name+"{")) {
				return line
			}
		}
		return ""
	}
	ring, path := fileRing(t, key(t, 0x0a))
	m, h := server(t, ring, "sid")
	_, token := request(t, h, "/set", "", "sid")
	request(t, h, "/get", token, "sid") // so that opened_total has a row
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m, ""))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 17 {
		t.Errorf("%d metrics gathered, want all 17", len(families))
	}
	for _, f := range families {
		row := rowOf(f.GetName())
		if row == "" {
			t.Errorf("README's Operators table has no row for %s", f.GetName())
			continue
		}
		for _, l := range f.GetMetric()[0].GetLabel() {
			if l.GetName() != "cookie" && !strings.Contains(row, l.GetName()) {
				t.Errorf("README's row for %s does not name its label %s", f.GetName(), l.GetName())
			}
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "reason" && !strings.Contains(row, "`"+l.GetValue()+"`") {
					t.Errorf("README's row for %s does not name the reason %s", f.GetName(), l.GetValue())
				}
			}
		}
	}
	// A failed reload, so that the JSON also holds reload.error, which
	// is absent while reloads succeed.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ring.ReloadFile(path); err == nil {
		t.Fatal("ReloadFile of a torn ring succeeded")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(m.Var().String()), &fields); err != nil {
		t.Fatal(err)
	}
	var reload map[string]json.RawMessage
	if err := json.Unmarshal(fields["reload"], &reload); err != nil {
		t.Fatal(err)
	}
	for name := range reload {
		fields["reload."+name] = nil
	}
	delete(fields, "reload")
	for name := range fields {
		if rowOf(name) == "" {
			t.Errorf("README's Operators table has no row for the /debug/vars field %s", name)
		}
	}
}

func mustRing(t *testing.T, k cookiesession.Key) *cookiesession.KeyRing {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// TestCollectorAgreesWithVar drives one Manager through opens under two
// keys, each kind of refusal a test can cause here, a session too large, a
// lost change, two late reads, two changes on prefetches, three pages a
// shared cache may store, a re-key and a dropped cookie, with a promotion scheduled at a fraction of
// a second, and checks that the collector exports exactly what /debug/vars
// shows for the same moment: every field, the same key ids, reasons and
// promote_at, the same values, and no series beyond them.
func TestCollectorAgreesWithVar(t *testing.T) {
	ring, _ := fileRing(t, key(t, 0x0a))
	m, h := server(t, ring, "sid")
	_, token := request(t, h, "/set", "", "sid")
	request(t, h, "/get", token, "sid")
	request(t, h, "/get", token[:len(token)-4]+"AAAA", "sid")                 // auth_failed
	request(t, h, "/get", "!"+strings.Repeat("A", 150), "sid")                // bad_encoding
	request(t, h, "/get", sealFor(t, key(t, 0x0d), "sid", time.Now()), "sid") // unknown_key
	request(t, h, "/get", sealFor(t, key(t, 0x0a), "sid", time.Now().Add(time.Hour)), "sid")
	request(t, h, "/big", token, "sid") // too_large
	request(t, h, "/late", "", "sid")   // lost after_commit
	request(t, h, "/readlate", "", "sid")
	request(t, h, "/readlate", "", "sid") // read_late 2
	prefetch(t, h, "/set", "", "sid")
	prefetch(t, h, "/set", "", "sid") // speculative_changes 2
	prefetch(t, h, "/get", token, "sid")
	request(t, h, "/cached", "", "sid")
	request(t, h, "/cached", token, "sid")
	prefetch(t, h, "/cached", token, "sid") // shared_store 3
	promoteAt := time.Date(2030, 1, 2, 3, 4, 5, 250_000_000, time.UTC)
	for _, err := range []error{ring.Add(key(t, 0x0b)), ring.AddScheduled(key(t, 0x0c), promoteAt), ring.Promote(0x0b)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, moved := request(t, h, "/get", token, "sid") // re-keyed to 0000000b
	request(t, h, "/get", moved, "sid")

	var vars struct {
		Opened        map[string]uint64 `json:"opened"`
		Refused       map[string]uint64 `json:"refused"`
		UnknownKeyIDs uint64            `json:"unknown_key_ids"`
		Resealed      uint64            `json:"resealed"`
		Written       uint64            `json:"written"`
		Cleared       uint64            `json:"cleared"`
		TooLarge      uint64            `json:"too_large"`
		Carried       uint64            `json:"carried"`
		Dropped       map[string]uint64 `json:"dropped"`
		Lost          map[string]uint64 `json:"lost"`
		ReadLate      uint64            `json:"read_late"`
		Speculative   uint64            `json:"speculative_changes"`
		SharedStore   uint64            `json:"shared_store"`
		Primary       string            `json:"primary"`
		Keys          []struct {
			ID          string `json:"id"`
			Primary     bool   `json:"primary"`
			PromoteAt   string `json:"promote_at"`
			Fingerprint string `json:"fingerprint"`
		} `json:"keys"`
		Reload struct {
			LastSuccess time.Time `json:"last_success"`
			Error       string    `json:"error"`
			Failures    uint64    `json:"failures"`
		} `json:"reload"`
	}
	dec := json.NewDecoder(strings.NewReader(m.Var().String()))
	dec.DisallowUnknownFields() // a field /debug/vars gains needs a metric too
	if err := dec.Decode(&vars); err != nil {
		t.Fatalf("/debug/vars: %v\n%s", err, m.Var())
	}
	want := map[string]float64{}
	add := func(name string, v float64, labels ...string) {
		want["cookiesession_"+name+"{"+strings.Join(labels, ",")+"}"] = v
	}
	for id, n := range vars.Opened {
		add("opened_total", float64(n), "key_id="+id)
	}
	for reason, n := range vars.Refused {
		add("refused_total", float64(n), "reason="+reason)
	}
	for reason, n := range vars.Dropped {
		add("dropped_total", float64(n), "reason="+reason)
	}
	for reason, n := range vars.Lost {
		add("lost_total", float64(n), "reason="+reason)
	}
	add("unknown_key_ids", float64(vars.UnknownKeyIDs))
	add("resealed_total", float64(vars.Resealed))
	add("written_total", float64(vars.Written))
	add("cleared_total", float64(vars.Cleared))
	add("too_large_total", float64(vars.TooLarge))
	add("carried_total", float64(vars.Carried))
	add("read_late_total", float64(vars.ReadLate))
	add("speculative_changes_total", float64(vars.Speculative))
	add("shared_store_total", float64(vars.SharedStore))
	primaries := 0
	for _, k := range vars.Keys {
		add("key_info", 1, "fingerprint="+k.Fingerprint, "key_id="+k.ID, "primary="+strconv.FormatBool(k.Primary), "promote_at="+k.PromoteAt)
		if k.Primary {
			primaries++
			if k.ID != vars.Primary {
				t.Errorf("/debug/vars: primary %s, but keys mark %s", vars.Primary, k.ID)
			}
		}
	}
	if primaries != 1 {
		t.Errorf("/debug/vars: %d keys marked primary", primaries)
	}
	add("keyring_reload_failures_total", float64(vars.Reload.Failures))
	add("keyring_last_reload_successful", map[bool]float64{true: 1, false: 0}[vars.Reload.Error == ""])
	add("keyring_last_reload_success_timestamp_seconds", float64(vars.Reload.LastSuccess.UnixNano())/1e9)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m, ""))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				if l.GetName() != "cookie" {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
			}
			got[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = metric.GetCounter().GetValue() + metric.GetGauge().GetValue()
		}
	}
	for series, v := range want {
		if g, ok := got[series]; !ok {
			t.Errorf("/debug/vars shows %s %v; Prometheus has no such series", series, v)
		} else if g != v {
			t.Errorf("%s: /debug/vars %v, Prometheus %v", series, v, g)
		}
	}
	for series, g := range got {
		if _, ok := want[series]; !ok {
			t.Errorf("Prometheus exports %s %v, which /debug/vars does not show", series, g)
		}
	}
	// The events above moved what they name, so the comparison is not of zeros.
	if vars.Opened["0000000a"] != 6 || vars.Opened["0000000b"] != 1 || vars.Reload.LastSuccess.IsZero() || vars.Resealed != 1 || vars.TooLarge != 1 || vars.UnknownKeyIDs != 1 ||
		vars.Refused["auth_failed"] != 1 || vars.Refused["bad_encoding"] != 1 || vars.Refused["unknown_key"] != 1 || vars.Refused["clock_skew"] != 1 ||
		vars.Lost["after_commit"] != 1 || vars.ReadLate != 2 || vars.Speculative != 2 || vars.SharedStore != 3 {
		t.Errorf("/debug/vars after the events: %s", m.Var())
	}
}

// sealFor seals an empty session for cookie name under k alone, as of now.
func sealFor(t *testing.T, k cookiesession.Key, name string, now time.Time) string {
	t.Helper()
	codec, err := cookiesession.NewCodec(mustRing(t, k), cookiesession.CodecOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	token, err := codec.SealAt(&cookiesession.Record{}, now)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// fileRing returns a ring of k loaded from a file, as a server loads one
// (its reload status is exported too), and the file's path.
func fileRing(t *testing.T, k cookiesession.Key) (*cookiesession.KeyRing, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ring.json")
	text, err := mustRing(t, k).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ring, path
}
