package cookiesession_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// newSession returns a fresh session from Load on a request without cookies.
func newSession(t *testing.T, f *fixture) *cookiesession.Session {
	t.Helper()
	s, err := f.m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reload saves s into b's cookies and loads it back, as the next request
// would see it.
func reload(t *testing.T, f *fixture, b *clientCookies, s *cookiesession.Session) *cookiesession.Session {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := f.m.Save(rec, b.request("/"), s); err != nil {
		t.Fatal(err)
	}
	b.apply(t, rec.Header())
	next, err := f.m.Load(b.request("/"))
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// mustSet sets key in s and reports an error. It does not stop the test,
// so handlers on server goroutines may call it.
func mustSet(t testing.TB, s *cookiesession.Session, key string, v any) {
	t.Helper()
	if err := s.Set(key, v); err != nil {
		t.Errorf("Set(%q, %T): %v", key, v, err)
	}
}

// typedValues holds one value per typed getter, under the getter's name.
var typedValues = map[string]any{
	"string":   "alice",
	"int":      42,
	"int64":    int64(-7),
	"bool":     true,
	"float64":  2.5,
	"bytes":    []byte{0, 1, 0xff},
	"time":     time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC),
	"duration": 90 * time.Second,
	"strings":  []string{"a", "", "c"},
	"map":      map[string]string{"k": "v", "": "empty"},
}

// typedGetters reads key with each typed getter, by getter name.
func typedGetters(s *cookiesession.Session, key string) map[string]any {
	return map[string]any{
		"string":   s.GetString(key),
		"int":      s.GetInt(key),
		"int64":    s.GetInt64(key),
		"bool":     s.GetBool(key),
		"float64":  s.GetFloat64(key),
		"bytes":    s.GetBytes(key),
		"time":     s.GetTime(key),
		"duration": s.GetDuration(key),
		"strings":  s.GetStrings(key),
		"map":      s.GetStringMap(key),
	}
}

func zeroOf(getter string) any {
	return map[string]any{
		"string": "", "int": 0, "int64": int64(0), "bool": false, "float64": 0.0,
		"bytes": []byte(nil), "time": time.Time{}, "duration": time.Duration(0),
		"strings": []string(nil), "map": map[string]string(nil),
	}[getter]
}

func TestTypedGetters(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	s := newSession(t, f)
	for key, v := range typedValues {
		mustSet(t, s, key, v)
	}
	for _, sess := range []*cookiesession.Session{s, reload(t, f, b, s)} {
		if sess.Has("missing") {
			t.Error(`Has("missing") = true`)
		}
		for key, want := range typedValues {
			if !sess.Has(key) {
				t.Errorf("Has(%q) = false, IsNew %v", key, sess.IsNew())
			}
			for getter, got := range typedGetters(sess, key) {
				if numericGetters[getter] && numericGetters[key] {
					continue // conversions between numbers: TestNumericGetters
				}
				if getter == key {
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s getter on its own type (-want +got):\n%s", getter, diff)
					}
				} else if diff := cmp.Diff(zeroOf(getter), got); diff != "" {
					t.Errorf("%s getter on a %T: want the zero value (-want +got):\n%s", getter, want, diff)
				}
			}
		}
		for getter, got := range typedGetters(sess, "missing") {
			if diff := cmp.Diff(zeroOf(getter), got); diff != "" {
				t.Errorf("%s getter on a missing key (-want +got):\n%s", getter, diff)
			}
		}
	}
}

func TestGettersReturnCopies(t *testing.T) {
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	in := []string{"a"}
	mustSet(t, s, "list", in)
	in[0] = "changed by caller"
	out := s.GetStrings("list")
	out[0] = "changed by reader"
	if got := s.GetStrings("list"); got[0] != "a" {
		t.Errorf("stored slice aliased: %q", got)
	}
	mustSet(t, s, "bytes", []byte("a"))
	s.GetBytes("bytes")[0] = 'x'
	mustSet(t, s, "map", map[string]string{"k": "a"})
	s.GetStringMap("map")["k"] = "changed by reader"
	if got, m := s.GetBytes("bytes"), s.GetStringMap("map"); string(got) != "a" || m["k"] != "a" {
		t.Errorf("stored []byte or map aliased: %q, %q", got, m)
	}
}

func TestGetAs(t *testing.T) {
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	mustSet(t, s, "n", uint16(7))
	mustSet(t, s, "name", "alice")
	if v, ok := cookiesession.GetAs[uint16](s, "n"); !ok || v != 7 {
		t.Errorf("GetAs[uint16] = %v, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[int](s, "n"); !ok || v != 7 {
		t.Errorf("GetAs[int] on a uint16 7 = %v, %v; want 7, true", v, ok)
	}
	if v, ok := cookiesession.GetAs[int8](s, "name"); ok || v != 0 {
		t.Errorf("GetAs[int8] on a string = %v, %v; want 0, false", v, ok)
	}
	if v, ok := cookiesession.GetAs[string](s, "name"); !ok || v != "alice" {
		t.Errorf("GetAs[string] = %q, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[string](s, "missing"); ok || v != "" {
		t.Errorf("GetAs on a missing key = %q, %v", v, ok)
	}
	// GetString's "" for a missing key, another type and a stored "": GetAs
	// tells the stored one from the others, Get a missing key from a number.
	mustSet(t, s, "empty", "")
	if v, ok := cookiesession.GetAs[string](s, "empty"); !ok || v != "" {
		t.Errorf(`GetAs[string] on a stored "" = %q, %v; want "", true`, v, ok)
	}
	if v, ok := cookiesession.GetAs[string](s, "n"); ok || v != "" {
		t.Errorf(`GetAs[string] on a number = %q, %v; want "", false`, v, ok)
	}
	if _, missing := s.Get("missing"); missing {
		t.Error("Get reports a missing key present")
	}
	if v, present := s.Get("n"); !present || v != uint16(7) {
		t.Errorf("Get of a number = %v, %v; want 7, true", v, present)
	}
	if _, ok := cookiesession.GetAs[fmtStringer](s, "name"); ok {
		t.Error("GetAs to an interface the value does not implement succeeded")
	}
	mustSet(t, s, "none", nil)
	if v, ok := cookiesession.GetAs[any](s, "none"); !ok || v != nil {
		t.Errorf("GetAs[any] on a stored nil = %v, %v; want nil, true", v, ok)
	}
	if v, ok := cookiesession.GetAs[error](s, "none"); !ok || v != nil {
		t.Errorf("GetAs[error] on a stored nil = %v, %v; want nil, true", v, ok)
	}
	if _, ok := cookiesession.GetAs[*int](s, "none"); ok {
		t.Error("GetAs[*int] on a stored nil succeeded: a nil is not a *int")
	}
	// A missing key is not a stored nil, for an interface T too.
	if v, ok := cookiesession.GetAs[any](s, "missing"); ok || v != nil {
		t.Errorf("GetAs[any] on a missing key = %v, %v; want nil, false", v, ok)
	}
}

// TestGetAsNamedTypes checks that GetAs converts to a named type of the
// stored value's kind, as an application's ids and enums are declared.
func TestGetAsNamedTypes(t *testing.T) {
	type userID int64
	type level uint8
	type role string
	type flag bool
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	mustSet(t, s, "uid", int64(42))
	mustSet(t, s, "big", 300)
	mustSet(t, s, "json", 3.0) // as JSON decodes a number
	mustSet(t, s, "role", "admin")
	mustSet(t, s, "beta", true)
	if v, ok := cookiesession.GetAs[userID](s, "uid"); !ok || v != 42 {
		t.Errorf("GetAs[userID] on int64 42 = %v, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[level](s, "json"); !ok || v != 3 {
		t.Errorf("GetAs[level] on float64 3 = %v, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[level](s, "big"); ok || v != 0 {
		t.Errorf("GetAs[level] (a uint8) on 300 = %v, %v; want 0, false", v, ok)
	}
	if v, ok := cookiesession.GetAs[time.Month](s, "json"); !ok || v != time.March {
		t.Errorf("GetAs[time.Month] on 3 = %v, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[time.Duration](s, "uid"); ok || v != 0 {
		t.Errorf("GetAs[time.Duration] on int64 42 = %v, %v; a number has no unit", v, ok)
	}
	if v, ok := cookiesession.GetAs[role](s, "role"); !ok || v != "admin" {
		t.Errorf("GetAs[role] = %q, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[flag](s, "beta"); !ok || !bool(v) {
		t.Errorf("GetAs[flag] = %v, %v", v, ok)
	}
	if v, ok := cookiesession.GetAs[role](s, "uid"); ok || v != "" {
		t.Errorf("GetAs[role] on a number = %q, %v; want \"\", false", v, ok)
	}
	if v, ok := cookiesession.GetAs[userID](s, "role"); ok || v != 0 {
		t.Errorf("GetAs[userID] on a string = %v, %v; want 0, false", v, ok)
	}
	if v, ok := cookiesession.GetAs[role](s, "beta"); ok || v != "" {
		t.Errorf("GetAs[role] on a bool = %q, %v; want \"\", false: only a T of its kind gets it", v, ok)
	}
	if v, ok := cookiesession.GetAs[flag](s, "role"); ok || bool(v) {
		t.Errorf("GetAs[flag] on a string = %v, %v; want false, false", v, ok)
	}
}

type fmtStringer interface{ String() string }

func TestPopOnce(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	s := newSession(t, f)
	mustSet(t, s, "msg", "hello")
	mustSet(t, s, "n", 3)
	s = reload(t, f, b, s)

	if v, ok := s.Pop("n"); !ok || v != 3 {
		t.Errorf("Pop = %v, %v", v, ok)
	}
	if v, ok := s.Pop("n"); ok || v != nil {
		t.Errorf("second Pop = %v, %v", v, ok)
	}
	if got := s.PopString("msg"); got != "hello" {
		t.Errorf("PopString = %q", got)
	}
	if got := s.PopString("msg"); got != "" {
		t.Errorf("second PopString = %q", got)
	}
	mustSet(t, s, "num", 1)
	if got := s.PopString("num"); got != "" || !s.Has("num") {
		t.Errorf("PopString on an int returned %q and removed it: %v", got, !s.Has("num"))
	}
	if s = reload(t, f, b, s); s.Has("msg") || s.Has("n") {
		t.Errorf("popped values came back on the next request: %v", s.Keys())
	}
}

func TestFlashesShownOnceAcrossRequests(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		s.AddFlash("saved")
		s.AddFlash("welcome back")
	})
	var first, second []string
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { first = sessionOf(t, r).Flashes() })
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { second = sessionOf(t, r).Flashes() })
	if diff := cmp.Diff([]string{"saved", "welcome back"}, first); diff != "" {
		t.Errorf("first Flashes (-want +got):\n%s", diff)
	}
	if second != nil {
		t.Errorf("flashes shown twice: %q", second)
	}
}

type profile struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	Age   int      `json:"age"`
}

func TestSetJSONGetJSON(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	want := profile{Name: "alice", Roles: []string{"admin"}, Age: 30}
	if err := s.SetJSON("profile", want); err != nil {
		t.Fatal(err)
	}
	s = reload(t, f, newClientCookies(), s)
	var got profile
	if ok, err := s.GetJSON("profile", &got); !ok || err != nil {
		t.Fatalf("GetJSON = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetJSON (-want +got):\n%s", diff)
	}
	if raw, ok := cookiesession.GetAs[json.RawMessage](s, "profile"); !ok || !json.Valid(raw) {
		t.Errorf("GetAs[json.RawMessage] = %s, %v", raw, ok)
	}
	if v, ok := cookiesession.GetAs[profile](s, "profile"); ok {
		t.Errorf("GetAs[profile] of what SetJSON stored = %+v, true; a session holds no struct but time.Time", v)
	}
	if ok, err := s.GetJSON("missing", &got); ok || err != nil {
		t.Errorf("GetJSON(missing) = %v, %v; want false, nil", ok, err)
	}
	mustSet(t, s, "plain", "not json")
	if ok, err := s.GetJSON("plain", &got); !ok || err == nil {
		t.Errorf("GetJSON on a string = %v, %v; want true and an error", ok, err)
	}
	if err := s.SetJSON("bad", func() {}); err == nil {
		t.Error("SetJSON accepted a func")
	}
}

// TestGetJSONRefusesRoundedNumbers: encoding/json puts a number into an
// interface as a float64, which would turn the id 9007199254740993 into
// ...992 and 1e-400 into 0 without a word. GetJSON says so, as the
// JavaScript port's getJSON does, and typed fields still get them exactly.
func TestGetJSONRefusesRoundedNumbers(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	type ids struct {
		ID    int64       `json:"id"`
		Big   uint64      `json:"big"`
		Raw   json.Number `json:"raw"`
		Extra any         `json:"extra"`
	}
	tests := []struct {
		text    string
		into    func() any
		refused string // the number named in the error, or "" if it decodes
	}{
		{`{"id":9007199254740993}`, func() any { return new(any) }, "9007199254740993"},
		{`[1,[{"a":-18446744073709551615}]]`, func() any { return new([]any) }, "-18446744073709551615"},
		{`{"a":{"b":1e-400}}`, func() any { return new(map[string]any) }, "1e-400"},
		{`-0.0E-999999`, func() any { return new(any) }, ""},
		{`{"id":9007199254740993,"big":18446744073709551615,"raw":1e-400,"extra":1}`, func() any { return new(ids) }, ""},
		{`{"id":1,"extra":[9007199254740993]}`, func() any { return new(ids) }, "9007199254740993"},
		{`{"id":1,"extra":"9007199254740993 \" 1e-400"}`, func() any { return new(ids) }, ""},
		{`["\ud83c\udf6a \\ud800 \u00e9"]`, func() any { return new(any) }, ""},
		{`[9007199254740992, -9007199254740991, 0.1, 9007199254740993.0, 1e308, -0]`, func() any { return new(any) }, ""},
		{`[9007199254740993]`, func() any { return new([]float64) }, ""}, // a float64 asked for
		{`[-9223372036854775808, 9223372036854775808, 1e22]`, func() any { return new(any) }, ""},
		{`[-9223372036854775809]`, func() any { return new(any) }, "-9223372036854775809"},
	}
	for _, text := range []string{`"\ud800"`, `{"a\uDC00":1}`, `["\ud83c\ud83c"]`, `"\ud83c\u0041"`, `"\ud83c"`} {
		s := newSession(t, f)
		mustSet(t, s, "j", json.RawMessage(text))
		var v string
		if _, err := s.GetJSON("j", &v); err == nil || !strings.Contains(err.Error(), "a lone UTF-16 surrogate, which encoding/json would read as U+FFFD") {
			t.Errorf("GetJSON(%s) = %q, %v; want the lone surrogate named", text, v, err)
		}
	}
	for _, tt := range tests {
		s := newSession(t, f)
		mustSet(t, s, "j", json.RawMessage(tt.text))
		v := tt.into()
		ok, err := s.GetJSON("j", v)
		if tt.refused == "" {
			if !ok || err != nil {
				t.Errorf("GetJSON(%s, %T) = %v, %v; want it decoded", tt.text, v, ok, err)
			}
			continue
		}
		want := `cookiesession: GetJSON "j": the number ` + tt.refused + ` would decode into an interface as the float64 `
		if !ok || err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "decode it into an int64, a uint64 or a json.Number") {
			t.Errorf("GetJSON(%s, %T) = %v, %v; want an error starting %q", tt.text, v, ok, err, want)
		}
	}
	var got ids
	s := newSession(t, f)
	mustSet(t, s, "j", json.RawMessage(`{"id":9007199254740993,"big":18446744073709551615}`))
	if _, err := s.GetJSON("j", &got); err != nil || got.ID != 9007199254740993 || got.Big != math.MaxUint64 {
		t.Errorf("GetJSON into typed fields = %+v, %v; want them exact", got, err)
	}
}

// TestGetJSONFloatWrittenAsInteger: encoding/json writes a float64 below
// 1e21 without an exponent, so 9.999999999999999e20 is stored as
// 999999999999999900000, which JSON cannot tell from an integer that a
// float64 rounds. Into an interface GetJSON refuses it, as documented, and
// a float64 holds it exactly (found by FuzzSetJSONRoundTrip).
func TestGetJSONFloatWrittenAsInteger(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	want := math.Nextafter(1e21, 0)
	if err := s.SetJSON("j", []any{want}); err != nil {
		t.Fatal(err)
	}
	var l []any
	_, err := s.GetJSON("j", &l)
	if err == nil || !strings.Contains(err.Error(), "the number 999999999999999900000 would decode into an interface") {
		t.Errorf("GetJSON into []any = %v, %v; want the number named", l, err)
	}
	// The fix names a float64 too: an int64 would read another integer than was stored.
	if fix := "; if a float64 was stored, decode it into a float64, which reads these digits, the shortest encoding/json writes for it, exactly"; err == nil || !strings.HasSuffix(err.Error(), fix) {
		t.Errorf("GetJSON into []any = %v; want it to end %q", err, fix)
	}
	// Digits no float64 writes (an int64 id's) get no such hint.
	mustSet(t, s, "id", json.RawMessage(`[9007199254740993]`))
	if _, err := s.GetJSON("id", &l); err == nil || strings.Contains(err.Error(), "float64 was stored") {
		t.Errorf("GetJSON of an int64's digits into []any = %v; want an error without the float64 hint", err)
	}
	var floats []float64
	if _, err := s.GetJSON("j", &floats); err != nil || len(floats) != 1 || floats[0] != want {
		t.Errorf("GetJSON into []float64 = %v, %v; want [%v]", floats, err, want)
	}
}

type role string

func TestSetRefusesUnsupportedTypes(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	for _, v := range []any{role("admin"), profile{}, &profile{}, []int{1}, map[string]int{}, struct{}{}, json.RawMessage("{")} {
		s := newSession(t, f)
		err := s.Set("k", v)
		if err == nil {
			t.Errorf("Set(%T) accepted", v)
			continue
		}
		if _, isJSON := v.(json.RawMessage); !isJSON && !errors.Is(err, cookiesession.ErrUnsupportedType) {
			t.Errorf("Set(%T): %v, want ErrUnsupportedType", v, err)
		}
		if s.Has("k") || s.Len() != 0 {
			t.Errorf("Set(%T) failed but stored something", v)
		}
		rec := httptest.NewRecorder()
		if err := f.m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s); err != nil || len(rec.Header().Values("Set-Cookie")) != 0 {
			t.Errorf("after a refused Set(%T), Save = %v, Set-Cookie %q", v, err, rec.Header().Values("Set-Cookie"))
		}
	}
}

func TestKeysSortedAndClear(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	for _, k := range []string{"zeta", "alpha", "Beta", "mid", "alpha"} {
		mustSet(t, s, k, k)
	}
	want := []string{"Beta", "alpha", "mid", "zeta"}
	if diff := cmp.Diff(want, s.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	s = reload(t, f, newClientCookies(), s)
	if diff := cmp.Diff(want, s.Keys()); diff != "" {
		t.Errorf("Keys after a round trip (-want +got):\n%s", diff)
	}
	id, created := s.ID(), s.CreatedAt()
	s.Clear()
	if s.Len() != 0 || len(s.Keys()) != 0 || s.Has("mid") {
		t.Errorf("after Clear: %v", s.Keys())
	}
	if s.ID() != id || !s.CreatedAt().Equal(created) {
		t.Error("Clear changed the session's id or lifetime")
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestIdentityAndLifetime(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: time.Hour})
	t0 := f.clock.Now()
	s := newSession(t, f)
	id := s.ID()
	if !hexID.MatchString(id) || s.ID() != id {
		t.Fatalf("ID %q (then %q): want a stable 32-digit hex id", id, s.ID())
	}
	if !s.IsNew() || !s.CreatedAt().Equal(t0) || !s.ExpiresAt().IsZero() || s.KeyID() != 0 {
		t.Errorf("new session: IsNew %v CreatedAt %v ExpiresAt %v KeyID %08x",
			s.IsNew(), s.CreatedAt(), s.ExpiresAt(), s.KeyID())
	}
	mustSet(t, s, "user", "alice")

	f.clock.Advance(10 * time.Minute)
	b := newClientCookies()
	next := reload(t, f, b, s)
	if next.ID() != id || next.IsNew() || !next.CreatedAt().Equal(t0) {
		t.Errorf("loaded session: ID %s IsNew %v CreatedAt %v; want %s false %v", next.ID(), next.IsNew(), next.CreatedAt(), id, t0)
	}
	if want := t0.Add(time.Hour); !next.ExpiresAt().Equal(want) || !s.ExpiresAt().Equal(want) {
		t.Errorf("ExpiresAt: saved %v, loaded %v; want %v", s.ExpiresAt(), next.ExpiresAt(), want)
	}
	if next.KeyID() != keyA {
		t.Errorf("KeyID %08x, want %08x", next.KeyID(), keyA)
	}
	// A MaxAge lowered since the cookie was sealed sets an earlier end.
	short := f.manager(cookiesession.Options{MaxAge: 30 * time.Minute})
	if cut, err := short.Load(b.request("/")); err != nil || !cut.ExpiresAt().Equal(t0.Add(30*time.Minute)) {
		t.Errorf("under a MaxAge lowered to 30m: ExpiresAt %v, %v; want %v", cut.ExpiresAt(), err, t0.Add(30*time.Minute))
	}
	// Renew and Destroy restart the session, which is new and unsaved,
	// and keep the id of the key its cookie was sealed with.
	for name, restart := range map[string]func(*cookiesession.Session){"Renew": (*cookiesession.Session).Renew, "Destroy": (*cookiesession.Session).Destroy} {
		loaded, err := f.m.Load(b.request("/"))
		if err != nil {
			t.Fatal(err)
		}
		restart(loaded)
		if !loaded.IsNew() || !loaded.ExpiresAt().IsZero() || loaded.KeyID() != keyA || loaded.ID() == id {
			t.Errorf("after %s: IsNew %v ExpiresAt %v KeyID %08x ID %s; want true, zero, %08x, not %s",
				name, loaded.IsNew(), loaded.ExpiresAt(), loaded.KeyID(), loaded.ID(), keyA, id)
		}
	}
	// CreatedAt is in whole seconds, as tokens carry it.
	f.clock.Advance(1500 * time.Millisecond)
	if got, want := newSession(t, f).CreatedAt(), f.clock.Now().Truncate(time.Second); !got.Equal(want) {
		t.Errorf("CreatedAt of a session begun at %v = %v, want %v", f.clock.Now(), got, want)
	}
}

func TestValuesSurviveRoundTrip(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	all := map[string]any{
		"nil": nil, "s": "x", "b": []byte("y"), "t": true, "i": -1, "i8": int8(-8), "i16": int16(-16),
		"i32": int32(-32), "i64": int64(-64), "u": uint(1), "u8": uint8(8), "u16": uint16(16), "u32": uint32(32),
		"u64": uint64(1 << 63), "f32": float32(0.5), "f64": 0.25, "d": time.Minute,
		"tm": time.Date(2026, 1, 1, 0, 0, 0, 1, time.FixedZone("", 3600)), "ss": []string{"a"},
		"m": map[string]string{"a": "b"}, "j": json.RawMessage(`{"a":1}`),
	}
	for k, v := range all {
		mustSet(t, s, k, v)
	}
	next := reload(t, f, newClientCookies(), s)
	got := map[string]any{}
	for _, k := range next.Keys() {
		got[k], _ = next.Get(k)
	}
	if diff := cmp.Diff(all, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("values after a round trip (-want +got):\n%s", diff)
	}
}

// TestSessionConcurrentUse runs goroutines that read, write, flash and
// touch one session at once, as a handler's helpers may. Each goroutine
// owns its keys, so the final state is known: every last write, every
// flash, the shared values unchanged; and the saved cookie carries it all.
// Under -race the run also checks the session's locking.
func TestSessionConcurrentUse(t *testing.T) {
	const workers, rounds, flashEvery = 8, 200, 50 // few enough flashes to fit the cookie
	f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "a", "1")
		mustSet(t, s, "b", []string{"x"})
		s.AddFlash("first")
	})
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				own, scratch := "k"+strconv.Itoa(i), "tmp"+strconv.Itoa(i)
				for j := range rounds {
					if err := s.Set(own, j); err != nil {
						t.Error(err)
						return
					}
					if err := s.Set(scratch, j); err != nil {
						t.Error(err)
						return
					}
					s.Delete(scratch)
					if j%flashEvery == 0 {
						s.AddFlash(own)
					}
					s.Touch()
					if got, ok := s.Get("a"); !ok || got != "1" || !slices.Equal(s.GetStrings("b"), []string{"x"}) || s.GetInt(own) != j {
						t.Errorf("%s round %d: a=%v b=%q own=%d", own, j, got, s.GetStrings("b"), s.GetInt(own))
						return
					}
					_ = s.Keys()
				}
			})
		}
		wg.Wait()
		_, _ = io.WriteString(w, "ok")
	})
	if resp.StatusCode != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("status %d, Set-Cookie %q; want 200 and the session saved", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	var keys, flashes []string
	var last []int
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		keys, flashes = s.Keys(), s.Flashes()
		for i := range workers {
			last = append(last, s.GetInt("k"+strconv.Itoa(i)))
		}
	})
	wantKeys := []string{"_flash", "a", "b"}
	for i := range workers {
		wantKeys = append(wantKeys, "k"+strconv.Itoa(i))
	}
	slices.Sort(wantKeys)
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("keys after concurrent use (-want +got):\n%s", diff)
	}
	for i, n := range last {
		if n != rounds-1 {
			t.Errorf("k%d = %d, want the last write %d", i, n, rounds-1)
		}
	}
	if want := 1 + workers*rounds/flashEvery; len(flashes) != want || flashes[0] != "first" {
		t.Errorf("%d flashes starting %q, want %d starting \"first\"", len(flashes), flashes[:min(len(flashes), 1)], want)
	}
}

// TestStructReadsBackThroughGetJSON pins README's gorilla row for a struct
// registered with gob: SetJSON stores it and GetJSON reads it back, while
// GetAs of the struct's type, the shape of gorilla's type assertion,
// reports false and a zero struct, since a session never holds a struct.
func TestStructReadsBackThroughGetJSON(t *testing.T) {
	type profile struct {
		Name  string
		Roles []string
	}
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	want := profile{Name: "ada", Roles: []string{"editor"}}
	if err := s.Set("profile", want); !errors.Is(err, cookiesession.ErrUnsupportedType) {
		t.Fatalf("Set of a struct: %v, want ErrUnsupportedType", err)
	}
	if err := s.SetJSON("profile", want); err != nil {
		t.Fatal(err)
	}
	s = reload(t, f, newClientCookies(), s)
	var got profile
	if ok, err := s.GetJSON("profile", &got); !ok || err != nil || !cmp.Equal(got, want) {
		t.Errorf("GetJSON: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if p, ok := cookiesession.GetAs[profile](s, "profile"); ok || !cmp.Equal(p, profile{}) {
		t.Errorf("GetAs[profile] = %+v, %v; want the zero profile and false", p, ok)
	}
}

// TestGetAsOfATypeNeverHeldLogged: GetAs of a type no session value
// becomes (a struct other than time.Time, a pointer, an array such as a
// UUID) can only report false, so code that reads with it what SetJSON
// stored takes a signed-in user for a guest at every request. Its first
// such read of a key that holds a value is logged at Warn, with the fix,
// GetJSON; a missing key, and a type GetAs can return, are not.
func TestGetAsOfATypeNeverHeldLogged(t *testing.T) {
	type profile struct {
		Name string `json:"name"`
	}
	const warn = "can never return"
	f := newFixture(t, cookiesession.Options{})
	step := 0
	srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if step == 0 {
			if _, ok := cookiesession.GetAs[profile](s, "user"); ok {
				t.Error("GetAs[profile] of a missing key reported true")
			}
			if err := s.SetJSON("user", profile{Name: "ada"}); err != nil {
				t.Error(err)
			}
			mustSet(t, s, "id", "u-1")
			return
		}
		for range 2 {
			if p, ok := cookiesession.GetAs[profile](s, "user"); ok || p != (profile{}) {
				t.Errorf("GetAs[profile] = %+v, %v; want the zero profile and false", p, ok)
			}
		}
		if _, ok := cookiesession.GetAs[*profile](s, "user"); ok {
			t.Error("GetAs[*profile] reported true")
		}
		if _, ok := cookiesession.GetAs[int](s, "id"); ok { // another type, which GetAs can return: its false says so
			t.Error("GetAs[int] of a string reported true")
		}
		var p profile
		if ok, err := s.GetJSON("user", &p); !ok || err != nil || p.Name != "ada" {
			t.Errorf("GetJSON = %+v, %v, %v", p, ok, err)
		}
	})))
	c := srv.client(t)
	for step = range 2 {
		if resp, _ := fetch(t, c, srv.URL); resp.StatusCode != http.StatusOK {
			t.Fatalf("step %d: status %d", step, resp.StatusCode)
		}
		if step == 0 && len(f.log.lines(warn)) != 0 {
			t.Errorf("a missing key was logged: %q", f.log.lines(warn))
		}
	}
	lines := f.log.lines(warn)
	if len(lines) != 2 {
		t.Fatalf("log lines %q, want one for GetAs[profile] and one for GetAs[*profile]", lines)
	}
	for i, getter := range []string{"GetAs[cookiesession_test.profile]", "GetAs[*cookiesession_test.profile]"} {
		for _, want := range []string{"level=WARN", "cookiesession: " + getter + " ", "key=user", "holds=", "GetJSON"} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("log line %q does not say %q", lines[i], want)
			}
		}
		if strings.Contains(lines[i], "ada") {
			t.Errorf("log line %q holds the value", lines[i])
		}
	}
}

// TestRememberMeKeepsOptionsIdleTimeout pins README's gorilla row for a
// per-session MaxAge: gorilla has no idle timeout, but here a Lifetime with
// only a MaxAge keeps Options.IdleTimeout, so "remember me for 30 days"
// gets a cookie of one hour and ends after an hour without requests. The
// Lifetime's own IdleTimeout lifts it.
func TestRememberMeKeepsOptionsIdleTimeout(t *testing.T) {
	for _, tc := range []struct {
		l       cookiesession.Lifetime
		maxAge  int  // the cookie's Max-Age at login
		after2h bool // still signed in after two hours without requests
	}{
		{cookiesession.Lifetime{MaxAge: 30 * day}, 3600, false},
		{cookiesession.Lifetime{MaxAge: 30 * day, IdleTimeout: 30 * day}, 30 * 86400, true},
	} {
		f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, IdleTimeout: time.Hour, MaxLifetime: 30 * day})
		b := newClientCookies()
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "ada")
			if err := s.SetLifetime(tc.l); err != nil {
				t.Fatal(err)
			}
		})
		if c := ourCookies(t, resp.Header, "session")["session"]; c == nil || c.MaxAge != tc.maxAge {
			t.Errorf("%+v: cookie %v, want Max-Age %d", tc.l, c, tc.maxAge)
		}
		f.clock.Advance(2 * time.Hour)
		var signedIn bool
		var lifetime cookiesession.Lifetime
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			signedIn, lifetime = sessionOf(t, r).Has("user"), sessionOf(t, r).Lifetime()
		})
		if signedIn != tc.after2h {
			t.Errorf("%+v: signed in after 2h without requests: %v, want %v", tc.l, signedIn, tc.after2h)
		}
		if signedIn && lifetime != tc.l {
			t.Errorf("%+v: Lifetime() = %+v after the restart", tc.l, lifetime)
		}
	}
}

// TestSetRefusalLogged: code ported from gorilla/sessions or gin-contrib,
// whose Set takes any value, drops Set's error, and the value would be
// lost unseen; a refusal is logged at Warn, with the key and type, once.
func TestSetRefusalLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	type cart struct{ Items []string }
	_ = s.Set("cart", cart{Items: []string{"book"}})
	_ = s.Set("cart", cart{Items: []string{"pen"}})
	got := f.log.lines("Session.Set refused")
	if len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "key=cart") || !strings.Contains(got[0], "cookiesession_test.cart") {
		t.Errorf("log lines about the refused Set: %q, want one Warn naming the key and type", got)
	}
	if s.Has("cart") {
		t.Error("the refused value is held")
	}
	// Once per key and type, as README's gin-contrib table says: the same
	// type under another key, and another type under the same key, get a
	// Warn each.
	_ = s.Set("saved", cart{Items: []string{"ink"}})
	_ = s.Set("cart", []int{1})
	_ = s.Set("cart", []int{2})
	got = f.log.lines("Session.Set refused")
	if len(got) != 3 || !strings.Contains(got[1], "key=saved") || !strings.Contains(got[2], "type=[]int") {
		t.Errorf("log lines after another key and another type: %q, want a Warn for each", got)
	}
}

// TestRefusalLineCutsLongKey: a key built from request data may be as
// long as the request. The lines of a value Set or SetJSON refused cut it
// to what a line carries, in the error they quote as in the key, since
// every such key may get a line of its own; the error returned keeps it.
func TestRefusalLineCutsLongKey(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	key := "note:" + strings.Repeat("x", 64<<10)
	type note struct{ Score float64 }
	setErr := s.Set(key, note{})
	jsonErr := s.SetJSON(key, note{Score: math.NaN()})
	for _, err := range []error{setErr, jsonErr} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("the error returned does not name the key in full: %.300v", err)
		}
	}
	for _, line := range []string{"Session.Set refused", "SetJSON could not"} {
		got := f.log.lines(line)
		if len(got) != 1 {
			t.Errorf("%d lines %q, want one", len(got), line)
			continue
		}
		if len(got[0]) > 4*cookiesession.MaxLogText+1000 || strings.Count(got[0], "bytes)") != 2 {
			t.Errorf("a line of %d bytes for a %d-byte key, which it should cut in the key and the error: %.600s", len(got[0]), len(key), got[0])
		}
	}
}

// TestSetJSONLongPathCut: SetJSON names the string that is not UTF-8 by
// its path in the value, made of map keys that may come from a request.
// A 64 KB key made a 64 KB error, logged once per key and type; the path
// is cut as log lines cut text.
func TestSetJSONLongPathCut(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	err := s.SetJSON("form", map[string]string{strings.Repeat("k", 64<<10): "caf\xe9"})
	if err == nil || len(err.Error()) > 2*cookiesession.MaxLogText+1000 || !strings.Contains(err.Error(), "bytes)") {
		t.Errorf("SetJSON error of %d bytes for a 64 KB path, want it cut: %.300v", len(fmt.Sprint(err)), err)
	}
	if got := f.log.lines("SetJSON could not"); len(got) != 1 || len(got[0]) > 4*cookiesession.MaxLogText+1000 {
		t.Errorf("log lines %.600q, want one, cut", got)
	}
}

// TestSetJSONRefusalLogged: SetJSON's error, dropped as Set's is by code
// ported from a store that takes any value, was logged nowhere: a value
// encoding/json cannot encode (a NaN average, a func field) was lost
// unseen. The first is logged at Warn, with the key and type, whatever
// Set logged before.
func TestSetJSONRefusalLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	_ = s.Set("tags", []int{1})
	type stats struct{ Mean float64 }
	for range 2 {
		if err := s.SetJSON("stats", stats{Mean: math.NaN()}); err == nil {
			t.Fatal("SetJSON of a NaN: nil error")
		}
	}
	got := f.log.lines("SetJSON could not")
	if len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "key=stats") ||
		!strings.Contains(got[0], "cookiesession_test.stats") || !strings.Contains(got[0], "fix=") {
		t.Errorf("log lines about the refused SetJSON: %q, want one Warn naming the key and type, with the fix", got)
	}
}

// TestSetLifetimeRefusalLogged: a remember-me ported from fiber's
// SetIdleTimeout or scs's RememberMe, which return nothing, drops
// SetLifetime's error; the first refusal is logged at Warn.
func TestSetLifetimeRefusalLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	month := cookiesession.Lifetime{IdleTimeout: 30 * 24 * time.Hour} // over the default MaxAge
	if err := s.SetLifetime(month); err == nil {
		t.Fatal("SetLifetime of an IdleTimeout over MaxAge: nil error")
	}
	_ = s.SetLifetime(month)
	got := f.log.lines("SetLifetime refused")
	if len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "IdleTimeout") {
		t.Errorf("log lines about the refused SetLifetime: %q, want one Warn with the error", got)
	}
	// Once per Lifetime, as README's fiber table says: another refused
	// Lifetime (another route's remember-me) gets a Warn of its own.
	week := cookiesession.Lifetime{IdleTimeout: 7 * 24 * time.Hour}
	_ = s.SetLifetime(week)
	_ = s.SetLifetime(week)
	got = f.log.lines("SetLifetime refused")
	if len(got) != 2 || !strings.Contains(got[1], "level=WARN") || !strings.Contains(got[1], "idle_timeout=168h0m0s") {
		t.Errorf("log lines after a second refused Lifetime: %q, want a second Warn, for it", got)
	}
	if s.Lifetime() != (cookiesession.Lifetime{}) {
		t.Errorf("the session took the refused lifetime: %+v", s.Lifetime())
	}
}

// TestWrongTypeLogged: a typed getter returns the zero value for a key of
// another type, as for a missing one, so code that reads a key as another
// type than was stored (an older release stored user_id as a string)
// takes a signed-in user for a guest. The Manager's first such read is
// logged at Warn, naming the getter, the key and the stored type, not the
// value; a missing key, the stored type and a number read without loss
// are not.
func TestWrongTypeLogged(t *testing.T) {
	const warn = "a value it cannot return"
	const secret = "s3cr3t-value"
	for _, c := range []struct {
		getter string
		stored any
		read   func(*cookiesession.Session) any
		holds  string // "": nothing logged
	}{
		{"GetString", 42, func(s *cookiesession.Session) any { return s.GetString("k") }, "int"},
		{"GetString", []byte(secret), func(s *cookiesession.Session) any { return s.GetString("k") }, "[]uint8"},
		{"GetBytes", secret, func(s *cookiesession.Session) any { return s.GetBytes("k") }, "string"},
		{"GetBool", "true", func(s *cookiesession.Session) any { return s.GetBool("k") }, "string"},
		{"GetInt", secret, func(s *cookiesession.Session) any { return s.GetInt("k") }, "string"},
		{"GetInt", 2.5, func(s *cookiesession.Session) any { return s.GetInt("k") }, "float64"},
		{"GetInt64", true, func(s *cookiesession.Session) any { return s.GetInt64("k") }, "bool"},
		{"GetUint64", -1, func(s *cookiesession.Session) any { return s.GetUint64("k") }, "int"},
		{"GetFloat64", secret, func(s *cookiesession.Session) any { return s.GetFloat64("k") }, "string"},
		{"GetDuration", int64(5), func(s *cookiesession.Session) any { return s.GetDuration("k") }, "int64"},
		{"GetTime", int64(5), func(s *cookiesession.Session) any { return s.GetTime("k") }, "int64"},
		{"GetStrings", secret, func(s *cookiesession.Session) any { return s.GetStrings("k") }, "string"},
		{"GetStringMap", []string{secret}, func(s *cookiesession.Session) any { return s.GetStringMap("k") }, "[]string"},
		{"PopString", 7, func(s *cookiesession.Session) any { return s.PopString("k") }, "int"},
		// Not logged: the stored type, and numbers read without loss.
		{"GetString", secret, func(s *cookiesession.Session) any { return s.GetString("k") }, ""},
		{"GetInt", int64(5), func(s *cookiesession.Session) any { return s.GetInt("k") }, ""},
		{"GetFloat64", 3, func(s *cookiesession.Session) any { return s.GetFloat64("k") }, ""},
		{"GetAs[int]", 41.0, func(s *cookiesession.Session) any { v, _ := cookiesession.GetAs[int](s, "k"); return v }, ""},
		{"GetAs[any]", nil, func(s *cookiesession.Session) any { v, _ := cookiesession.GetAs[any](s, "k"); return v }, ""},
		// GetAs's false says another type: code that reads a key as
		// either of two types calls it for each.
		{"GetAs[int]", secret, func(s *cookiesession.Session) any { v, _ := cookiesession.GetAs[int](s, "k"); return v }, ""},
		{"GetAs[time.Time]", nil, func(s *cookiesession.Session) any { v, _ := cookiesession.GetAs[time.Time](s, "k"); return v }, ""},
		{"GetAs[json.RawMessage]", secret, func(s *cookiesession.Session) any { v, _ := cookiesession.GetAs[json.RawMessage](s, "k"); return v }, ""},
	} {
		t.Run(fmt.Sprintf("%s of %T", c.getter, c.stored), func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			s := newSession(t, f)
			mustSet(t, s, "k", c.stored)
			got := c.read(s)
			c.read(s) // once per Manager
			lines := f.log.lines(warn)
			if c.holds == "" {
				if len(lines) != 0 {
					t.Errorf("log lines %q, want none", lines)
				}
				return
			}
			if got != nil && !reflect.ValueOf(got).IsZero() {
				t.Errorf("%s returned %v, want the zero value", c.getter, got)
			}
			if len(lines) != 1 {
				t.Fatalf("log lines %q, want one", lines)
			}
			for _, want := range []string{"level=WARN", "Session." + c.getter + " found", "key=k", "holds=" + c.holds, "fix="} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("log line %q does not say %q", lines[0], want)
				}
			}
			if strings.Contains(lines[0], secret) {
				t.Errorf("log line %q holds the value", lines[0])
			}
			if c.getter == "PopString" && !s.Has("k") {
				t.Error("PopString deleted a value of another type")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		s := newSession(t, f)
		typedGetters(s, "missing") // calls every typed getter
		s.PopString("missing")
		s.Flashes()
		cookiesession.GetAs[int](s, "missing")
		if lines := f.log.lines(warn); len(lines) != 0 {
			t.Errorf("log lines %q, want none", lines)
		}
	})
	t.Run("flashes", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		s := newSession(t, f)
		mustSet(t, s, "_flash", "saved")
		if got := s.Flashes(); got != nil || !s.Has("_flash") {
			t.Errorf("Flashes of a string: %q, and the key kept: %v; want nil, and kept", got, s.Has("_flash"))
		}
		if lines := f.log.lines(warn); len(lines) != 1 || !strings.Contains(lines[0], "Session.Flashes found") || !strings.Contains(lines[0], "key=_flash") {
			t.Errorf("log lines %q, want one naming Flashes and _flash", lines)
		}
		s.AddFlash("welcome") // replaces what is not a list of messages
		if got := s.Flashes(); !slices.Equal(got, []string{"welcome"}) || s.Has("_flash") {
			t.Errorf("AddFlash over a string, then Flashes: %q, and the key kept: %v; want [welcome], and gone", got, s.Has("_flash"))
		}
		// The value AddFlash replaced is lost: that is said, without the value, once per stored type.
		const replaced = "level=WARN msg=\"cookiesession: Session.AddFlash replaced the value under the key, which was not its list of messages, and that value is lost"
		lines := f.log.lines(replaced)
		if len(lines) != 1 || !strings.Contains(lines[0], "key=_flash") || !strings.Contains(lines[0], "holds=string") || strings.Contains(lines[0], "saved") {
			t.Errorf("log lines %q, want one naming AddFlash, _flash and string, without the value", lines)
		}
		mustSet(t, s, "_flash", "again")
		s.AddFlash("welcome")
		s.AddFlash("back") // a list of messages now: nothing replaced
		if lines := f.log.lines(replaced); len(lines) != 1 {
			t.Errorf("log lines %q, want the AddFlash line once for a string", lines)
		}
	})
	t.Run("in a request", func(t *testing.T) {
		// A release that stored user_id as a string, then one that reads it
		// as an int: the user is a guest, and the line says where.
		f := newFixture(t, cookiesession.Options{})
		b := newClientCookies()
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, cookiesession.FromContext(r.Context()), "user_id", "1042")
		})
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id := cookiesession.FromContext(r.Context()).GetInt("user_id"); id != 0 {
				t.Errorf("GetInt of a string: %d", id)
			}
		})).ServeHTTP(rec, b.request("/account"))
		lines := f.log.lines(warn)
		if len(lines) != 1 || !strings.Contains(lines[0], "path=/account") || !strings.Contains(lines[0], "holds=string") || strings.Contains(lines[0], "1042") {
			t.Errorf("log lines %q, want one with the path and the stored type, not the value", lines)
		}
	})
}

// wrongTypeLine is the text of every line of a getter that found a value
// it cannot return.
const wrongTypeLine = "a value it cannot return"

// TestSecondWrongTypeLogged: the line of a key read as the wrong type was
// logged once per Manager, so the first mistake, logged at deploy time,
// hid a second one, in another handler, for good. Each getter, key and
// stored type is now logged once, in any session of the Manager; a
// repeat is not.
func TestSecondWrongTypeLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	read := func(values map[string]any, reads func(*cookiesession.Session)) {
		s := newSession(t, f) // a request of its own, on the same Manager
		for k, v := range values {
			mustSet(t, s, k, v)
		}
		reads(s)
	}
	// The handler deployed first reads user_id, stored as a string, as an int.
	read(map[string]any{"user_id": "1042"}, func(s *cookiesession.Session) { s.GetInt("user_id"); s.GetInt("user_id") })
	// Next month, another handler reads plan, a string, as a bool; another
	// reads user_id through GetInt64; a third stores user_id as an int64
	// and reads it as a string.
	read(map[string]any{"user_id": "1042", "plan": "pro"}, func(s *cookiesession.Session) {
		s.GetInt("user_id") // the first mistake again
		s.GetBool("plan")
		s.GetInt64("user_id")
	})
	read(map[string]any{"user_id": int64(1042)}, func(s *cookiesession.Session) { s.GetString("user_id") })
	// All of them again, in another request: nothing new.
	read(map[string]any{"user_id": "1042", "plan": "pro"}, func(s *cookiesession.Session) {
		s.GetBool("plan")
		s.GetInt64("user_id")
		s.GetInt("user_id")
	})
	read(map[string]any{"user_id": int64(1042)}, func(s *cookiesession.Session) { s.GetString("user_id") })

	lines := f.log.lines(wrongTypeLine)
	want := [][]string{
		{"Session.GetInt found", "key=user_id", "holds=string"},
		{"Session.GetBool found", "key=plan", "holds=string"},
		{"Session.GetInt64 found", "key=user_id", "holds=string"},
		{"Session.GetString found", "key=user_id", "holds=int64"},
	}
	if len(lines) != len(want) {
		t.Fatalf("log lines %q, want %d: one per getter, key and stored type", lines, len(want))
	}
	for i, parts := range want {
		for _, part := range append(parts, "level=WARN", "once per getter, key and stored type") {
			if !strings.Contains(lines[i], part) {
				t.Errorf("line %d %q does not say %q", i, lines[i], part)
			}
		}
	}
}

// TestSecondRefusalLogged: a value Set or SetJSON refused, and a Lifetime
// SetLifetime refused, were logged once per Manager, so a second such
// mistake, in other code, went unsaid. Each key and type (each Lifetime)
// is now logged once; a repeat is not.
func TestSecondRefusalLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	type cart struct{ Items []string }
	type stats struct{ Mean float64 }
	month := cookiesession.Lifetime{IdleTimeout: 30 * 24 * time.Hour} // over the default MaxAge
	fractional := cookiesession.Lifetime{MaxAge: 1500 * time.Millisecond}
	// A cause of its own, refused for the same reason: its line says
	// what it was, so that it does not read as month's line logged twice.
	monthBrowser := cookiesession.Lifetime{IdleTimeout: month.IdleTimeout, BrowserSession: true}
	for range 2 { // the second round repeats every mistake, in another session
		s := newSession(t, f)
		for _, set := range []struct {
			key string
			v   any
		}{{"cart", cart{}}, {"cart", cart{Items: []string{"book"}}}, {"tags", []int{1}}, {"cart", []int{2}}} {
			if err := s.Set(set.key, set.v); err == nil {
				t.Fatalf("Set(%q, %T): nil error", set.key, set.v)
			}
		}
		for _, key := range []string{"stats", "stats", "average"} {
			if err := s.SetJSON(key, stats{Mean: math.NaN()}); err == nil {
				t.Fatalf("SetJSON(%q) of a NaN: nil error", key)
			}
		}
		for _, l := range []cookiesession.Lifetime{month, month, fractional, monthBrowser} {
			if err := s.SetLifetime(l); err == nil {
				t.Fatalf("SetLifetime(%+v): nil error", l)
			}
		}
	}
	for _, c := range []struct {
		line  string
		want  [][]string
		cause string
	}{
		{"Session.Set refused", [][]string{{"key=cart", "type=cookiesession_test.cart"}, {"key=tags", "type=[]int"}, {"key=cart", "type=[]int"}}, "once per key and type"},
		{"Session.SetJSON could not", [][]string{{"key=stats"}, {"key=average"}}, "once per key and type"},
		{"Session.SetLifetime refused", [][]string{
			{"IdleTimeout 720h0m0s", "idle_timeout=720h0m0s", "browser_session=false"},
			{"MaxAge", "1.5s", "max_age=1.5s"},
			{"IdleTimeout 720h0m0s", "browser_session=true"},
		}, "once per Lifetime"},
	} {
		lines := f.log.lines(c.line)
		if len(lines) != len(c.want) {
			t.Errorf("%s: log lines %q, want %d", c.line, lines, len(c.want))
			continue
		}
		for i, parts := range c.want {
			for _, part := range append(parts, "level=WARN", c.cause) {
				if !strings.Contains(lines[i], part) {
					t.Errorf("%s: line %d %q does not say %q", c.line, i, lines[i], part)
				}
			}
		}
	}
}

// TestWrongTypeCausesBounded: keys built from request data could make
// every read a cause of its own. The Manager remembers at most
// MaxCauses of them; past that, lines are rated (one at Warn a minute,
// the others at Debug), not dropped, and a remembered cause is still not
// logged again.
func TestWrongTypeCausesBounded(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	const n = 3 * cookiesession.MaxCauses
	for i := range n {
		mustSet(t, s, "cart:"+strconv.Itoa(i), "from a form")
	}
	for i := range n {
		s.GetInt("cart:" + strconv.Itoa(i))
	}
	if got := f.m.WrongTypeCauses(); got != cookiesession.MaxCauses {
		t.Errorf("%d causes remembered after %d distinct ones, want %d", got, n, cookiesession.MaxCauses)
	}
	count := func() (warn, debug int) {
		for _, line := range f.log.lines(wrongTypeLine) {
			switch {
			case strings.Contains(line, "level=WARN"):
				warn++
			case strings.Contains(line, "level=DEBUG"):
				debug++
			default:
				t.Errorf("line %q is neither Warn nor Debug", line)
			}
		}
		return warn, debug
	}
	// Each remembered cause once at Warn, then the first past the bound;
	// the rest of the minute at Debug.
	if warn, debug := count(); warn != cookiesession.MaxCauses+1 || debug != n-cookiesession.MaxCauses-1 {
		t.Errorf("%d lines at Warn and %d at Debug, want %d and %d", warn, debug, cookiesession.MaxCauses+1, n-cookiesession.MaxCauses-1)
	}
	s.GetInt("cart:0") // remembered: not logged
	s.GetInt("cart:" + strconv.Itoa(n-1))
	if warn, debug := count(); warn != cookiesession.MaxCauses+1 || debug != n-cookiesession.MaxCauses {
		t.Errorf("after a remembered cause and one more past the bound: %d at Warn and %d at Debug, want %d and %d",
			warn, debug, cookiesession.MaxCauses+1, n-cookiesession.MaxCauses)
	}
	f.clock.Advance(time.Minute)
	s.GetInt("cart:" + strconv.Itoa(n-1))
	if warn, _ := count(); warn != cookiesession.MaxCauses+2 {
		t.Errorf("a minute later, %d lines at Warn, want %d", warn, cookiesession.MaxCauses+2)
	}
	if got := f.m.WrongTypeCauses(); got != cookiesession.MaxCauses {
		t.Errorf("%d causes remembered at the end, want %d", got, cookiesession.MaxCauses)
	}
}

// TestWrongTypeConcurrentReads: requests on several goroutines read keys
// of another type at once (run it with -race). A cause remembered is
// logged once, whichever goroutine saw it first; the reads past the bound
// are rated, one at Warn in the minute, the others at Debug.
func TestWrongTypeConcurrentReads(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	const goroutines, keys = 8, cookiesession.MaxCauses + 36
	var wg sync.WaitGroup
	for range goroutines {
		s := newSession(t, f) // one request each, on one Manager
		for k := range keys {
			mustSet(t, s, "k"+strconv.Itoa(k), "text")
		}
		wg.Go(func() {
			for k := range keys {
				s.GetInt("k" + strconv.Itoa(k))
			}
		})
	}
	wg.Wait()
	keyOf := regexp.MustCompile(`key=(k\d+)`)
	warned := map[string]int{}
	warn, debug := 0, 0
	for _, line := range f.log.lines(wrongTypeLine) {
		key := keyOf.FindStringSubmatch(line)
		switch {
		case key == nil:
			t.Errorf("line %q names no key", line)
		case strings.Contains(line, "level=WARN"):
			warned[key[1]]++
			warn++
		default:
			debug++
		}
	}
	// Each remembered key once at Warn, and none again; of the reads of
	// the others, the first at Warn, the rest at Debug.
	past := goroutines * (keys - cookiesession.MaxCauses)
	if warn != cookiesession.MaxCauses+1 || debug != past-1 {
		t.Errorf("%d lines at Warn and %d at Debug, want %d and %d", warn, debug, cookiesession.MaxCauses+1, past-1)
	}
	for key, n := range warned {
		if n != 1 {
			t.Errorf("%s logged at Warn %d times, want once", key, n)
		}
	}
	if got := f.m.WrongTypeCauses(); got != cookiesession.MaxCauses {
		t.Errorf("%d causes remembered, want %d", got, cookiesession.MaxCauses)
	}
}

// latin1Name marshals itself as a JSON string holding a Latin-1 byte, as a
// json.Marshaler that copies text it did not check writes.
type latin1Name struct{}

func (latin1Name) MarshalJSON() ([]byte, error) { return []byte("\"caf\xe9\""), nil }

// ownEscape marshals itself with a \ufffd escape it means.
type ownEscape struct{}

func (ownEscape) MarshalJSON() ([]byte, error) { return []byte(`"caf\ufffd"`), nil }

// latin1Text is an encoding.TextMarshaler whose text is not UTF-8.
type latin1Text struct{}

func (latin1Text) MarshalText() ([]byte, error) { return []byte("caf\xe9"), nil }

// hidden is embedded unexported: encoding/json writes its exported fields.
type hidden struct {
	T    latin1Text `json:"t"` // reached through the unexported field, as encoding/json reaches it
	Name string     `json:"name"`
}

// TestSetJSONRefusesInvalidUTF8: SetJSON of a value holding a string that
// is not UTF-8 (Latin-1 text read from a legacy database) stored JSON in
// which encoding/json had written \ufffd in place of the byte, and GetJSON
// returned "caf\uFFFD" for "caf\xe9", with nothing said; a json.RawMessage
// or a json.Marshaler writing such bytes was stored as it was, and GetJSON
// read U+FFFD in their place. SetJSON now refuses both, naming the key,
// the string's path and the byte's offset, with the fix, and the refusal
// is logged at Warn, once per type; a real U+FFFD, and a \ufffd escape that a
// json.Marshaler writes, are kept.
func TestSetJSONRefusesInvalidUTF8(t *testing.T) {
	type user struct {
		Name  string            `json:"name"`
		Tags  []string          `json:"tags,omitempty"`
		Attrs map[string]string `json:"attrs,omitempty"`
		Skip  string            `json:"-"`
		Raw   []byte            `json:"raw"`
		hid   string
	}
	type wrapper struct {
		user
		Own any `json:"own,omitempty"`
	}
	refused := []struct {
		name string
		v    any
		want string
	}{
		{"a map's value", map[string]string{"name": "caf\xe9"}, `the string at .name is not UTF-8 (the byte 0xe9 at offset 3)`},
		{"a struct field", user{Name: "caf\xe9"}, `the string at .name is not UTF-8 (the byte 0xe9 at offset 3)`},
		{"a slice element", &user{Name: "ok", Tags: []string{"a", "\xffb"}}, `the string at .tags[1] is not UTF-8 (the byte 0xff at offset 0)`},
		{"a map key", user{Attrs: map[string]string{"k\xc3": "v"}}, `the string at .attrs (a key) is not UTF-8 (the byte 0xc3 at offset 1)`},
		{"an odd member name", map[string]any{"a b": []any{"x", "y\xe9"}}, `the string at .["a b"][1] is not UTF-8 (the byte 0xe9 at offset 1)`},
		{"an embedded struct's field", wrapper{user: user{Name: "caf\xe9"}}, `the string at .name is not UTF-8`},
		{"an unexported embedded struct's TextMarshaler", struct{ hidden }{hidden{Name: "caf\xe9", T: latin1Text{}}}, `the string at .t is not UTF-8`},
		{"the value itself", "caf\xe9", `the string at . is not UTF-8 (the byte 0xe9 at offset 3)`},
		{"a TextMarshaler", map[string]any{"t": latin1Text{}}, `the string at .t is not UTF-8 (the byte 0xe9 at offset 3)`},
		{"a json.RawMessage", map[string]any{"r": json.RawMessage("\"caf\xe9\"")}, `the JSON holds the byte 0xe9, at offset 9, which is not UTF-8: it came from a json.Marshaler or a json.RawMessage`},
		{"a json.Marshaler", []any{latin1Name{}}, `the JSON holds the byte 0xe9, at offset 5, which is not UTF-8`},
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range refused {
		s := newSession(t, f)
		err := s.SetJSON("profile", tt.v)
		if err == nil || !strings.HasPrefix(err.Error(), `cookiesession: SetJSON "profile": `+tt.want) || !strings.Contains(err.Error(), "as a []byte") {
			t.Errorf("%s: SetJSON = %v, want %q and the fix", tt.name, err, tt.want)
		}
		if s.Has("profile") {
			t.Errorf("%s: the refused value was stored", tt.name)
		}
	}
	types := map[reflect.Type]bool{} // logged once per key and type
	for _, tt := range refused {
		types[reflect.TypeOf(tt.v)] = true
	}
	lines := f.log.lines("SetJSON could not")
	if len(lines) != len(types) {
		t.Errorf("log lines about the refused SetJSON: %q, want %d, one per type", lines, len(types))
	}
	for _, line := range lines {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "key=profile") || !strings.Contains(line, "UTF-8") {
			t.Errorf("log line about the refused SetJSON: %q, want a Warn naming the key and UTF-8", line)
		}
	}

	kept := []struct {
		name string
		v    any
		want string // what GetJSON reads into a string at the path .name, or the whole JSON
	}{
		{"a real U+FFFD", user{Name: "caf\uFFFD", Skip: "\xff", hid: "\xff", Raw: []byte("caf\xe9")}, `{"name":"caf` + "\uFFFD" + `","raw":"Y2Fm6Q=="}`},
		{"a Marshaler's own escape", map[string]any{"name": ownEscape{}, "other": "x"}, `{"name":"caf\ufffd","other":"x"}`},
		{"an escaped backslash", map[string]string{"name": `\ufffd`}, `{"name":"\\ufffd"}`},
		{"strings encoding/json leaves out", wrapper{user: user{Name: "ok", Skip: "\xff", hid: "\xff"}, Own: ownEscape{}}, `{"name":"ok","raw":null,"own":"caf\ufffd"}`},
	}
	for _, tt := range kept {
		s := newSession(t, f)
		if err := s.SetJSON("profile", tt.v); err != nil {
			t.Errorf("%s: SetJSON = %v, want it stored", tt.name, err)
			continue
		}
		if got, _ := cookiesession.GetAs[json.RawMessage](s, "profile"); string(got) != tt.want {
			t.Errorf("%s: stored %s, want %s", tt.name, got, tt.want)
		}
	}

	// Raw bytes stored as a []byte come back exactly.
	s := newSession(t, f)
	type blob struct{ Name []byte }
	if err := s.SetJSON("profile", blob{Name: []byte("caf\xe9")}); err != nil {
		t.Fatal(err)
	}
	var got blob
	if _, err := s.GetJSON("profile", &got); err != nil || string(got.Name) != "caf\xe9" {
		t.Errorf("GetJSON of a []byte = %q, %v; want the bytes", got.Name, err)
	}
}

// TestGetJSONRefusesInvalidUTF8: Set keeps a json.RawMessage's bytes,
// which Get returns, but GetJSON read a byte that is not UTF-8 as U+FFFD,
// with nothing said. It now returns an error naming the byte and its
// offset; Get still returns the bytes.
func TestGetJSONRefusesInvalidUTF8(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	s := newSession(t, f)
	raw := json.RawMessage("{\"name\":\"caf\xe9\"}")
	mustSet(t, s, "j", raw)
	s = reload(t, f, b, s)
	var v map[string]string
	ok, err := s.GetJSON("j", &v)
	if !ok || err == nil || !strings.Contains(err.Error(), "the byte 0xe9, at offset 12, which is not UTF-8, and encoding/json would read it as U+FFFD") {
		t.Errorf("GetJSON = %v, %v, %q; want the byte named", ok, err, v)
	}
	if got, _ := cookiesession.GetAs[json.RawMessage](s, "j"); string(got) != string(raw) {
		t.Errorf("Get = %q, want the bytes stored, %q", got, raw)
	}
}

// ring is a list that loops back on itself.
type ring struct{ Next *ring }

// leftLoops and rightLoops lend the same fields to whatever embeds both:
// encoding/json drops them all, and never follows them.
type (
	leftLoops struct {
		Ring *ring
		Map  map[string]any
		List []any
	}
	rightLoops leftLoops
)

// TestSetJSONLoopEncodingJSONSkips: a value whose conflicting embedded
// fields encoding/json leaves out holds a cycle that json.Marshal never
// walks (so it reports none), and a string that is not UTF-8 sent SetJSON
// down its walk for the string, which followed the cycle until the
// goroutine's stack ran out: a fatal error no recover stops, which took
// the whole server down. The walk visits each pointer, map and slice once.
func TestSetJSONLoopEncodingJSONSkips(t *testing.T) {
	type dropped struct {
		leftLoops
		rightLoops
		Name string `json:"name"`
	}
	loop := &ring{}
	loop.Next = loop
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	looped := []any{nil}
	looped[0] = looped
	f := newFixture(t, cookiesession.Options{})
	for name, loops := range map[string]leftLoops{"a pointer": {Ring: loop}, "a map": {Map: cyclic}, "a slice": {List: looped}} {
		v := dropped{loops, rightLoops(loops), "caf\xe9"}
		err := newSession(t, f).SetJSON("profile", v)
		if err == nil || !strings.Contains(err.Error(), "the string at .name is not UTF-8") {
			t.Errorf("SetJSON beside %s that loops: %v, want the string refused", name, err)
		}
	}
}

// cart keeps its items in an unexported field, which encoding/json leaves
// out.
type cart struct{ items []string }

// TestJSONRefusesHiddenFields: a struct whose fields are all unexported
// (a Go newcomer's first type, or one with a sync.Mutex in it) was stored
// by SetJSON as {}, with nothing said: the cart was empty on the next
// request. gob, which gorilla/sessions uses, refuses such a type; SetJSON
// now does, naming its type and path with the fix, and a struct that
// holds nothing is still stored.
func TestJSONRefusesHiddenFields(t *testing.T) {
	type id int
	type order struct {
		ID   int  `json:"id"`
		Cart cart `json:"cart"`
	}
	type locked struct {
		Mu   sync.Mutex
		Name string `json:"name"`
	}
	type marked struct {
		_    [0]func()
		_    int
		mark struct{}
	}
	refused := []struct {
		name string
		v    any
		want string
	}{
		{"the value itself", cart{items: []string{"book"}}, "the cookiesession_test.cart at . has only unexported fields"},
		{"a pointer", &cart{}, "the cookiesession_test.cart at . has only unexported fields"},
		{"a field", order{ID: 1}, "the cookiesession_test.cart at .cart has only unexported fields"},
		{"a slice element", []any{"x", cart{}}, "the cookiesession_test.cart at .[1] has only unexported fields"},
		{"a map value", map[string]any{"c": cart{}}, "the cookiesession_test.cart at .c has only unexported fields"},
		{"an embedded int", struct{ id }{7}, "the struct { cookiesession_test.id } at . has only unexported fields"},
		{"an exported sync.Mutex", &locked{Name: "a"}, "the sync.Mutex at .Mu has only unexported fields"},
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range refused {
		s := newSession(t, f)
		err := s.SetJSON("c", tt.v)
		if err == nil || !strings.HasPrefix(err.Error(), `cookiesession: SetJSON "c": `+tt.want) || !strings.Contains(err.Error(), "export the fields that hold data") {
			t.Errorf("%s: SetJSON = %v, want %q and the fix", tt.name, err, tt.want)
		}
		if s.Has("c") {
			t.Errorf("%s: the refused value was stored", tt.name)
		}
	}
	if lines := f.log.lines("SetJSON could not"); len(lines) != len(refused) || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "structs with exported fields") {
		t.Errorf("log lines about the refused SetJSON: %q, want %d Warns with the fix", lines, len(refused))
	}

	kept := []struct {
		name string
		v    any
		want string
	}{
		{"an empty struct", struct{}{}, `{}`},
		{"an empty map", map[string]int{}, `{}`},
		{"{} as text", "{}", `"{}"`},
		{"blank fields and fields that take no space", marked{mark: struct{}{}}, `{}`},
		{"a struct with an exported field too", profile{Name: "a"}, `{"name":"a","roles":null,"age":0}`},
		{"the Mutex left out", struct {
			Mu   sync.Mutex `json:"-"`
			Name string     `json:"name"`
		}{Name: "a"}, `{"name":"a"}`},
		{"a nil pointer", (*cart)(nil), `null`},
		{"a time.Time", time.Unix(0, 0).UTC(), `"1970-01-01T00:00:00Z"`},
	}
	for _, tt := range kept {
		s := newSession(t, f)
		if err := s.SetJSON("c", tt.v); err != nil {
			t.Errorf("%s: SetJSON = %v, want it stored", tt.name, err)
		} else if got, _ := cookiesession.GetAs[json.RawMessage](s, "c"); string(got) != tt.want {
			t.Errorf("%s: stored %s, want %s", tt.name, got, tt.want)
		}
	}
}

// handle is a map key whose MarshalText, of its pointer, reads through
// the pointer: encoding/json writes a nil one as "" without calling it.
type handle struct{ name string }

func (h *handle) MarshalText() ([]byte, error) { return []byte(h.name), nil }

// TestSetJSONNilKeyNoPanic: a map keyed by a pointer whose MarshalText
// reads through it, holding a nil key, made SetJSON panic when the
// encoding held a {} or a U+FFFD, which cost a walk of the value that
// called MarshalText on the nil key. encoding/json writes that key as ""
// without calling it; so does the walk now.
func TestSetJSONNilKeyNoPanic(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	if err := s.SetJSON("k", map[*handle]any{nil: map[string]int{}, {"a"}: 1}); err != nil {
		t.Errorf("SetJSON of a map with a nil key = %v, want it stored", err)
	} else if got, _ := cookiesession.GetAs[json.RawMessage](s, "k"); string(got) != `{"":{},"a":1}` {
		t.Errorf("stored %s, want {\"\":{},\"a\":1}", got)
	}
	err := s.SetJSON("t", map[*handle]string{nil: "caf\xe9"})
	if err == nil || !strings.Contains(err.Error(), `the string at .[""] is not UTF-8`) {
		t.Errorf("SetJSON of text that is not UTF-8 under a nil key = %v, want it refused", err)
	}
}

// zeroByPointer reports it is zero by a method of its pointer, which
// encoding/json calls for omitzero on a value too.
type zeroByPointer struct{ n int }

func (z *zeroByPointer) IsZero() bool { return z.n == 0 }

// TestJSONHiddenFieldsNotRefused: what encoding/json writes and reads in
// full, or that holds nothing, is not refused as a struct whose fields are
// all unexported. An embedded struct lends its fields and is not written
// as {} (a sync.Mutex embedded beside exported fields was refused when an
// empty map elsewhere put a {} in the encoding, and GetJSON always refused
// it); one named in its tag is written under that name, exported or not;
// a field tagged omitzero that encoding/json leaves out loses nothing, and
// a nil *time.Time so tagged made SetJSON panic (calling IsZero on nil).
// A field that encoding/json leaves out because another of its name wins
// (one embedded less deep: a type overriding its embedded base's field)
// holds nothing that is written: a struct of unexported fields or a
// string that is not UTF-8 in it was refused, naming the path of the
// field written in its place, whenever a {} or a U+FFFD stood elsewhere
// in the encoding. A struct whose MarshalJSON has a pointer receiver,
// given by value, is written as {}: the error names the fix, a pointer.
func TestJSONHiddenFieldsNotRefused(t *testing.T) {
	type inner struct {
		X    int            `json:"x"`
		Tags map[string]int `json:"tags"`
	}
	type prefs struct {
		sync.Mutex
		Theme string         `json:"theme"`
		Tags  map[string]int `json:"tags"`
	}
	type withCart struct {
		cart
		ID   int            `json:"id"`
		Tags map[string]int `json:"tags"`
	}
	type Base struct {
		Cart cart   `json:"cart"`
		Name string `json:"name"`
		ID   int    `json:"id"`
	}
	type page struct {
		Base
		Cart []string       `json:"cart"`
		Name string         `json:"name"`
		Tags map[string]int `json:"tags"`
	}
	stamp := time.Unix(0, 0).UTC()
	kept := []struct {
		name string
		v    any
		want string
	}{
		{"an embedded sync.Mutex beside exported fields", &prefs{Theme: "dark", Tags: map[string]int{}}, `{"theme":"dark","tags":{}}`},
		{"an embedded struct of unexported fields beside exported ones", withCart{cart: cart{items: []string{"book"}}, ID: 1, Tags: map[string]int{}}, `{"id":1,"tags":{}}`},
		{"an unexported embedded struct named in its tag", struct {
			inner `json:"in"`
		}{inner{1, map[string]int{}}}, `{"in":{"x":1,"tags":{}}}`},
		{"a nil *time.Time tagged omitzero", struct {
			At   *time.Time     `json:"at,omitzero"`
			Tags map[string]int `json:"tags"`
		}{Tags: map[string]int{}}, `{"tags":{}}`},
		{"a *time.Time tagged omitzero", struct {
			At   *time.Time     `json:"at,omitzero"`
			Tags map[string]int `json:"tags"`
		}{At: &stamp, Tags: map[string]int{}}, `{"at":"1970-01-01T00:00:00Z","tags":{}}`},
		{"a zero struct of unexported fields tagged omitzero", struct {
			C cart `json:"c,omitzero"`
		}{}, `{}`},
		{"an embedded base's fields overridden", page{Base: Base{Cart: cart{items: []string{"old"}}, Name: "caf\xe9", ID: 1}, Cart: []string{"book"}, Name: "\uFFFD", Tags: map[string]int{}},
			"{\"id\":1,\"cart\":[\"book\"],\"name\":\"\uFFFD\",\"tags\":{}}"},
		{"a struct zero by its pointer's IsZero, tagged omitzero", struct {
			Z    zeroByPointer  `json:"z,omitzero"`
			Tags map[string]int `json:"tags"`
		}{Tags: map[string]int{}}, `{"tags":{}}`},
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range kept {
		s := newSession(t, f)
		if err := s.SetJSON("c", tt.v); err != nil {
			t.Errorf("%s: SetJSON = %v, want it stored", tt.name, err)
		} else if got, _ := cookiesession.GetAs[json.RawMessage](s, "c"); string(got) != tt.want {
			t.Errorf("%s: stored %s, want %s", tt.name, got, tt.want)
		}
	}

	for _, v := range []any{*big.NewInt(5), map[string]big.Int{"n": *big.NewInt(5)}} {
		err := newSession(t, f).SetJSON("n", v)
		if err == nil || !strings.Contains(err.Error(), "the big.Int at ") || !strings.Contains(err.Error(), "has a pointer receiver") || !strings.Contains(err.Error(), "store a pointer to it (&v, or a map of *big.Int)") {
			t.Errorf("SetJSON of %T = %v, want a pointer named as the fix", v, err)
		}
	}
	if err := newSession(t, f).SetJSON("n", big.NewInt(5)); err != nil {
		t.Errorf("SetJSON of a *big.Int = %v, want it stored", err)
	}
}

// lent lends its fields to a struct that embeds it; its C may be
// overridden there.
type lent struct {
	Name string `json:"name"`
	C    cart   `json:"c"`
}

// meta is embedded twice, through left and right, at one depth: its
// fields are ambiguous there, and encoding/json writes none of them.
type meta struct {
	Note string `json:"note"`
	C    cart   `json:"c"`
}
type left struct{ meta }
type right struct{ meta }

// TestJSONEmbeddedWalkedAsWritten: SetJSON's check walks an embedded
// struct as encoding/json writes it. A pointer embedded and also held by
// a field (a parent's node, a shared cart) was walked once, as the
// embedded struct lending its fields, whose overridden ones were passed
// over: the field writing it in full was then skipped as walked already,
// and its struct of unexported fields was stored as {} with nothing
// said. A struct embedded twice at one depth lends nothing
// (encoding/json drops its ambiguous fields): what it held was refused.
func TestJSONEmbeddedWalkedAsWritten(t *testing.T) {
	type overriding struct {
		*lent
		C     int   `json:"c"`
		Other *lent `json:"other"`
	}
	type sharing struct {
		*cart
		Other *cart `json:"other"`
	}
	shared := &lent{Name: "n", C: cart{items: []string{"book"}}}
	basket := &cart{items: []string{"book"}}
	refused := []struct {
		name string
		v    any
		want string
	}{
		{"a pointer embedded, its field overridden, and held by a field", overriding{lent: shared, C: 1, Other: shared}, "the cookiesession_test.cart at .other.c has only unexported fields"},
		{"a pointer to a struct of unexported fields embedded and held by a field", sharing{cart: basket, Other: basket}, "the cookiesession_test.cart at .other has only unexported fields"},
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range refused {
		err := newSession(t, f).SetJSON("c", tt.v)
		if err == nil || !strings.HasPrefix(err.Error(), `cookiesession: SetJSON "c": `+tt.want) {
			t.Errorf("%s: SetJSON = %v, want %q", tt.name, err, tt.want)
		}
	}

	type diamond struct {
		left
		right
		Tags map[string]int `json:"tags"`
	}
	v := diamond{left{meta{"a", cart{items: []string{"book"}}}}, right{meta{"b\xff", cart{}}}, map[string]int{}}
	s := newSession(t, f)
	if err := s.SetJSON("c", v); err != nil {
		t.Errorf("SetJSON of a struct embedded twice at one depth = %v, want it stored as encoding/json writes it", err)
	} else if got, _ := cookiesession.GetAs[json.RawMessage](s, "c"); string(got) != `{"tags":{}}` {
		t.Errorf("stored %s, want {\"tags\":{}}", got)
	}
}

// counter is zero by a count it reads through a pointer: its IsZero
// panics on a counter that points at nothing, which encoding/json calls
// only for a field tagged omitzero that it writes.
type counter struct{ n *int }

func (c counter) IsZero() bool                 { return *c.n == 0 }
func (c counter) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(*c.n)), nil }

// counted holds a counter tagged omitzero, which a struct embedding it
// may override, beside a label it lends.
type counted struct {
	Label string  `json:"label"`
	Hits  counter `json:"hits,omitzero"`
}

// TestSetJSONUnwrittenOmitzeroNoPanic: SetJSON called the IsZero of a
// field tagged omitzero that encoding/json does not write (of a struct
// embedded twice at one depth, which it leaves out as ambiguous, or one an
// embedding struct overrides), and
// panicked where that IsZero cannot run, when the encoding held a {} or
// a U+FFFD. It asks only of fields that are written.
func TestSetJSONUnwrittenOmitzeroNoPanic(t *testing.T) {
	type viaLeft struct{ counted }
	type viaRight struct{ counted }
	type tie struct {
		viaLeft
		viaRight
		Tags map[string]int `json:"tags"`
	}
	type overriding struct {
		counted
		Hits int            `json:"hits"`
		Tags map[string]int `json:"tags"`
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"a struct embedded twice at one depth", tie{Tags: map[string]int{}}, `{"tags":{}}`},
		{"an embedded field overridden", overriding{Hits: 1, Tags: map[string]int{}}, `{"label":"","hits":1,"tags":{}}`},
	} {
		s := newSession(t, f)
		if err := s.SetJSON("c", tt.v); err != nil {
			t.Errorf("%s: SetJSON = %v, want it stored", tt.name, err)
		} else if got, _ := cookiesession.GetAs[json.RawMessage](s, "c"); string(got) != tt.want {
			t.Errorf("%s: stored %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestJSONHiddenFieldsOfAnotherPackage: a struct of unexported fields
// from another package (an error, a *time.Location, a URL's user) cannot
// be given fields or methods by the caller: the refusal names what to
// store in its place. The fix it named (export the fields, or give the
// type MarshalJSON) could not be done.
func TestJSONHiddenFieldsOfAnotherPackage(t *testing.T) {
	type visit struct {
		Err  error          `json:"err"`
		Zone *time.Location `json:"zone"`
		Back *url.URL       `json:"back"`
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range []struct {
		v    any
		want string
	}{
		{visit{Err: errors.New("boom")}, "the errors.errorString at .err has only unexported fields"},
		{visit{Zone: time.UTC}, "the time.Location at .zone has only unexported fields"},
		{visit{Back: &url.URL{Scheme: "https", User: url.UserPassword("u", "p"), Host: "example.com"}}, "the url.Userinfo at .back.User has only unexported fields"},
	} {
		err := newSession(t, f).SetJSON("c", tt.v)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "of another package, which you cannot change, store what it holds in a field of your own: err.Error(), loc.String(), u.String()") {
			t.Errorf("SetJSON = %v, want %q and what to store in its place", err, tt.want)
		}
	}
}

// TestFlashBeforeDestroyLogged: a logout written as AddFlash("Signed out")
// then Destroy drops the message it has just added, and the next page shows
// none. The Warn names the line and the fix, once per line of code; a
// flash added after Destroy, or one the request's cookie brought, and a
// Destroy after Flashes took the messages, are not logged.
func TestFlashBeforeDestroyLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	logout := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.AddFlash("Signed out")
		s.Destroy() // the mistake: the flash goes with the session
	}
	const msg = "dropped the flash messages"
	for range 2 {
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		})
		f.serve(b, logout)
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			if got := cookiesession.FromContext(r.Context()).Flashes(); got != nil {
				t.Errorf("flashes after the logout: %q, want none", got)
			}
		})
	}
	got := f.log.lines(msg)
	if len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "session_test.go") || !strings.Contains(got[0], "call AddFlash after Destroy") {
		t.Fatalf("lines about the dropped flash: %q, want one Warn naming the line and the fix", got)
	}
	// Not logged: a flash added after Destroy, a flash the cookie brought,
	// or one taken before Destroy.
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Destroy()
		s.AddFlash("Signed out")
	})
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Destroy() })
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.AddFlash("Saved")
		_ = s.Flashes()
		s.Destroy()
	})
	if got := f.log.lines(msg); len(got) != 1 {
		t.Errorf("lines about a dropped flash: %q, want only the first", got)
	}
	// Clear drops it as Destroy does.
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.AddFlash("Signed out")
		s.Clear()
	})
	if got := f.log.lines(msg); len(got) != 2 || !strings.Contains(got[1], "Session.Clear") || !strings.Contains(got[1], "call AddFlash after Clear") {
		t.Errorf("lines about a dropped flash: %q, want a second one for Clear", got)
	}
}

// TestSetRefusalLogNamesTheConversion: the Warn of a refused Set gives the
// fix the error gives. A named string (type Role string) or a pointer is
// stored converted or dereferenced; the line told the operator to store a
// struct with SetJSON, beside an error that said otherwise.
func TestSetRefusalLogNamesTheConversion(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	role := "admin"
	for key, v := range map[string]any{"role": namedString(role), "name": &role, "tags": namedTags{"a"}} {
		err := s.Set(key, v)
		got := f.log.lines("key=" + key + " ")
		if err == nil || len(got) != 1 {
			t.Fatalf("Set(%q, %T): %v, lines %q; want an error and one line", key, v, err, got)
		}
		_, fix, _ := strings.Cut(err.Error(), ": store ")
		if strings.Contains(got[0], "store a struct") || !strings.Contains(got[0], `fix="check Set's error; store `+fix) {
			t.Errorf("Set(%q, %T): line %q, want its fix to be the error's, %q", key, v, got[0], fix)
		}
	}
}

// TestSetRefusalLogFixIsTheErrors: whatever Set refuses, its Warn's fix
// is the one its error ends with. A json.RawMessage that is not JSON, a
// time at an offset past ±24h and an unnamed []int were logged with
// "store a struct with SetJSON, or its fields one by one", which fits
// none of them, and the first two errors named no fix at all.
func TestSetRefusalLogFixIsTheErrors(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	type cart struct{ Items []string }
	fixAttr := regexp.MustCompile(`fix=("(?:[^"\\]|\\.)*")`)
	for key, tt := range map[string]struct {
		v    any
		want string
	}{
		"raw":  {json.RawMessage(`{"a":`), "pass the text json.Marshal returns"},
		"when": {time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)), "store t.UTC()"},
		"ids":  {[]int{1}, "store it with SetJSON"},
		"cart": {cart{}, "store it with SetJSON"},
		"role": {namedString("admin"), "store string(v)"},
	} {
		err := s.Set(key, tt.v)
		got := f.log.lines("key=" + key + " ")
		if err == nil || len(got) != 1 {
			t.Fatalf("Set(%q, %T): %v, lines %q; want an error and one line", key, tt.v, err, got)
		}
		m := fixAttr.FindStringSubmatch(got[0])
		if m == nil {
			t.Fatalf("Set(%q, %T): line %q has no fix", key, tt.v, got[0])
		}
		fix, _ := strconv.Unquote(m[1])
		fix, ok := strings.CutPrefix(fix, "check Set's error; ")
		if !ok || !strings.HasSuffix(err.Error(), ": "+fix) || !strings.Contains(fix, tt.want) {
			t.Errorf("Set(%q, %T): error %q, log's fix %q; want the error to end with the fix, which says %q", key, tt.v, err, fix, tt.want)
		}
	}
}
