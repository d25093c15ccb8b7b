package cookiesession_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// fixedNow is the fixed "now" of the codec tests: every time is injected through
// SealAt and OpenAt, so no test sleeps or depends on the wall clock.
var fixedNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// keySecret derives a test key's secret from its id, so that every test
// knows every secret that must never show up in an error or in fmt output.
func keySecret(id uint32) []byte {
	sum := sha256.Sum256(binary.BigEndian.AppendUint32([]byte("cookiesession test key "), id))
	return sum[:]
}

// usedSecrets records the secret of every key built by keyForID, for
// checkErrRules.
var usedSecrets sync.Map // uint32 -> []byte

func keyForID(tb testing.TB, id uint32) cookiesession.Key {
	tb.Helper()
	k, err := cookiesession.NewKey(id, keySecret(id))
	if err != nil {
		tb.Fatalf("NewKey(%08x): %v", id, err)
	}
	usedSecrets.Store(id, keySecret(id))
	return k
}

func ringOf(tb testing.TB, primary uint32, others ...uint32) *cookiesession.KeyRing {
	tb.Helper()
	var keys []cookiesession.Key
	for _, id := range others {
		keys = append(keys, keyForID(tb, id))
	}
	ring, err := cookiesession.NewKeyRing(keyForID(tb, primary), keys...)
	if err != nil {
		tb.Fatalf("NewKeyRing: %v", err)
	}
	return ring
}

func newTestCodec(tb testing.TB, ring *cookiesession.KeyRing, opts cookiesession.CodecOptions) *cookiesession.Codec {
	tb.Helper()
	if opts.Name == "" {
		opts.Name = "session"
	}
	c, err := cookiesession.NewCodec(ring, opts)
	if err != nil {
		tb.Fatalf("NewCodec(%+v): %v", opts, err)
	}
	return c
}

// secretForms lists the spellings in which a leaked secret would show up.
func secretForms(secret []byte) []string {
	return []string{
		string(secret),
		hex.EncodeToString(secret),
		strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret),
		base64.URLEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
	}
}

// assertNoSecret fails if text contains any test key's secret in any form.
func assertNoSecret(tb testing.TB, what, text string) {
	tb.Helper()
	usedSecrets.Range(func(id, secret any) bool {
		for _, form := range secretForms(secret.([]byte)) {
			if strings.Contains(text, form) {
				tb.Errorf("%s contains the secret of key %08x: %q", what, id, text)
				return false
			}
		}
		return true
	})
}

// checkErrRules asserts the rules every error of the package follows: the
// "cookiesession:" prefix and no key bytes.
func checkErrRules(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if !strings.HasPrefix(err.Error(), "cookiesession: ") {
		tb.Errorf("error %q lacks the cookiesession: prefix", err)
	}
	assertNoSecret(tb, "error", err.Error())
}

func setValue(tb testing.TB, v *cookiesession.Values, key string, val any) {
	tb.Helper()
	if err := v.Set(key, val); err != nil {
		tb.Fatalf("Set(%q, %#v): %v", key, val, err)
	}
}

func valuesOf(tb testing.TB, kv ...any) cookiesession.Values {
	tb.Helper()
	var v cookiesession.Values
	for i := 0; i < len(kv); i += 2 {
		setValue(tb, &v, kv[i].(string), kv[i+1])
	}
	return v
}

func sealAt(tb testing.TB, c *cookiesession.Codec, rec *cookiesession.Record, now time.Time) string {
	tb.Helper()
	token, err := c.SealAt(rec, now)
	if err != nil {
		tb.Fatalf("SealAt: %v", err)
	}
	return token
}

func openAt(tb testing.TB, c *cookiesession.Codec, token string, now time.Time) cookiesession.Record {
	tb.Helper()
	rec, err := c.OpenAt(token, now)
	if err != nil {
		tb.Fatalf("OpenAt: %v", err)
	}
	return rec
}

// sameValue reports how got differs from want, or "" if it does not. The
// dynamic types must match exactly; floats compare bit for bit (so NaN
// payloads and -0 count); times compare as instant plus zone offset.
func sameValue(got, want any) string {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return "type " + reflect.TypeOf(got).String() + ", want " + reflect.TypeOf(want).String()
	}
	switch w := want.(type) {
	case float32:
		if math.Float32bits(got.(float32)) != math.Float32bits(w) {
			return "float32 bits differ"
		}
	case float64:
		if math.Float64bits(got.(float64)) != math.Float64bits(w) {
			return "float64 bits differ"
		}
	case time.Time:
		g := got.(time.Time)
		_, gotOff := g.Zone()
		_, wantOff := w.Zone()
		if !g.Equal(w) || gotOff != wantOff {
			return "time " + g.String() + ", want " + w.String()
		}
	default:
		return cmp.Diff(want, got)
	}
	return ""
}

// roundTripRows holds every supported kind with its edge values.
func roundTripRows() []struct {
	name string
	val  any
} {
	type row = struct {
		name string
		val  any
	}
	return []row{
		{"nil", nil},
		{"string empty", ""},
		{"string unicode", "héllo, 世界 🎉"},
		{"string invalid utf8", "\xff\xfe\xc3"},
		{"string nul", "a\x00b"},
		{"bytes empty", []byte{}},
		{"bytes binary", []byte{0, 1, 0xfe, 0xff}},
		{"bool true", true},
		{"bool false", false},
		{"int zero", 0},
		{"int min", math.MinInt},
		{"int max", math.MaxInt},
		{"int8 min", int8(math.MinInt8)},
		{"int8 max", int8(math.MaxInt8)},
		{"int16 min", int16(math.MinInt16)},
		{"int16 max", int16(math.MaxInt16)},
		{"int32 min", int32(math.MinInt32)},
		{"int32 max", int32(math.MaxInt32)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 max", int64(math.MaxInt64)},
		{"int64 minus one", int64(-1)},
		{"uint zero", uint(0)},
		{"uint max", uint(math.MaxUint)},
		{"uint8 max", uint8(math.MaxUint8)},
		{"uint16 max", uint16(math.MaxUint16)},
		{"uint32 max", uint32(math.MaxUint32)},
		{"uint64 max", uint64(math.MaxUint64)},
		{"float32 nan payload", math.Float32frombits(0x7fc00001)},
		{"float32 negative nan", math.Float32frombits(0xffc00000)},
		{"float32 +inf", float32(math.Inf(1))},
		{"float32 -inf", float32(math.Inf(-1))},
		{"float32 -0", float32(math.Copysign(0, -1))},
		{"float32 max", float32(math.MaxFloat32)},
		{"float32 denormal", float32(math.SmallestNonzeroFloat32)},
		{"float64 nan payload", math.Float64frombits(0x7ff8000000000001)},
		{"float64 signalling nan", math.Float64frombits(0x7ff0000000000001)},
		{"float64 +inf", math.Inf(1)},
		{"float64 -inf", math.Inf(-1)},
		{"float64 -0", math.Copysign(0, -1)},
		{"float64 max", math.MaxFloat64},
		{"float64 denormal", math.SmallestNonzeroFloat64},
		{"time zero", time.Time{}},
		{"time utc nanos", time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC)},
		{"time +05:30", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("IST", 5*3600+1800))},
		{"time -09:30", time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("MART", -(9*3600+1800)))},
		{"time before 1970", time.Date(1900, 6, 1, 0, 0, 0, 1, time.UTC)},
		{"time year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"time with monotonic", time.Now()},
		{"duration zero", time.Duration(0)},
		{"duration min", time.Duration(math.MinInt64)},
		{"duration max", time.Duration(math.MaxInt64)},
		{"strings", []string{"a", "", "é", "\xff"}},
		{"strings empty", []string{}},
		{"string map", map[string]string{"": "", "k": "v", "ключ": "\xff"}},
		{"string map empty", map[string]string{}},
		{"json object", json.RawMessage(`{"a":[1,2,{"b":null}]}`)},
		{"json null", json.RawMessage(`null`)},
		{"json with spaces", json.RawMessage(` [ 1 , "x" ] `)},
	}
}

// TestValuesRoundTrip stores every kind and edge value and reads it back
// three ways: straight from Values, through DecodeValues, and through a
// sealed and opened token. Each must come back as the same Go type.
func TestValuesRoundTrip(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, row := range roundTripRows() {
		t.Run(row.name, func(t *testing.T) {
			v := valuesOf(t, "k", row.val)
			decoded, err := cookiesession.DecodeValues(v.AppendEncoded(nil))
			if err != nil {
				t.Fatalf("DecodeValues: %v", err)
			}
			rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow), fixedNow)
			for path, vals := range map[string]*cookiesession.Values{"direct": &v, "decoded": &decoded, "token": &rec.Values} {
				got, ok := vals.Get("k")
				if !ok {
					t.Fatalf("%s: key missing", path)
				}
				if diff := sameValue(got, row.val); diff != "" {
					t.Errorf("%s: got %#v: %s", path, got, diff)
				}
			}
		})
	}
}

// TestValuesManyKindsInOneToken checks that all kinds coexist in one
// session, in key order, and that re-encoding a decoded Values is stable.
func TestValuesManyKindsInOneToken(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	var v cookiesession.Values
	rows := roundTripRows()
	for _, row := range rows {
		setValue(t, &v, row.name, row.val)
	}
	rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow), fixedNow)
	if diff := cmp.Diff(v.Keys(), rec.Values.Keys()); diff != "" {
		t.Fatalf("keys differ (-sealed +opened):\n%s", diff)
	}
	for _, row := range rows {
		got, _ := rec.Values.Get(row.name)
		if diff := sameValue(got, row.val); diff != "" {
			t.Errorf("%s: %s", row.name, diff)
		}
	}
	if a, b := v.AppendEncoded(nil), rec.Values.AppendEncoded(nil); string(a) != string(b) {
		t.Errorf("encoding changed across a round trip")
	}
}

// TestNilAndEmptyCollapse documents what the wire does not keep: a nil and
// an empty []byte, []string or map[string]string both come back from a
// token as an empty, non-nil value of the same type.
func TestNilAndEmptyCollapse(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	v := valuesOf(t,
		"bytes nil", []byte(nil), "bytes empty", []byte{},
		"strings nil", []string(nil), "strings empty", []string{},
		"map nil", map[string]string(nil), "map empty", map[string]string{},
	)
	rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow), fixedNow)
	for _, key := range rec.Values.Keys() {
		got, _ := rec.Values.Get(key)
		rv := reflect.ValueOf(got)
		if rv.IsNil() || rv.Len() != 0 {
			t.Errorf("%s: got %#v, want empty and non-nil", key, got)
		}
	}
	for _, pair := range [][2]string{{"bytes nil", "bytes empty"}, {"strings nil", "strings empty"}, {"map nil", "map empty"}} {
		a, _ := rec.Values.Get(pair[0])
		b, _ := rec.Values.Get(pair[1])
		if reflect.TypeOf(a) != reflect.TypeOf(b) {
			t.Errorf("%s and %s decode to different types %T and %T", pair[0], pair[1], a, b)
		}
	}
}

type namedString string

// TestSetUnsupportedType checks that Set refuses every type outside the
// supported list, at Set time, and leaves the key as it was.
func TestSetUnsupportedType(t *testing.T) {
	s := "x"
	rows := []struct {
		name string
		val  any
	}{
		{"struct", struct{ A int }{1}},
		{"named string", namedString("admin")},
		{"named int", time.Month(3)},
		{"json.Number", json.Number("1")},
		{"pointer", &s},
		{"time pointer", &fixedNow},
		{"chan", make(chan int)},
		{"func", func() {}},
		{"int slice", []int{1}},
		{"int map", map[string]int{"a": 1}},
		{"any slice", []any{"a"}},
		{"array", [2]byte{1, 2}},
		{"complex", complex(1, 2)},
		{"error", errors.New("x")},
		{"Values", cookiesession.Values{}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			v := valuesOf(t, "k", "before")
			err := v.Set("k", row.val)
			checkErrRules(t, err)
			if !errors.Is(err, cookiesession.ErrUnsupportedType) {
				t.Fatalf("Set(%T) = %v, want ErrUnsupportedType", row.val, err)
			}
			if err := v.Set("other", row.val); err == nil {
				t.Fatalf("Set(%T) on a new key succeeded", row.val)
			}
			if got, _ := v.Get("k"); got != "before" || v.Len() != 1 {
				t.Errorf("after refused Set: k=%#v len=%d, want \"before\" and 1", got, v.Len())
			}
		})
	}
}

// TestTimeZoneOffsetExtremes checks that a time either round-trips with
// its offset or is refused at Set: never accepted by Set and then refused
// when the token is opened.
func TestTimeZoneOffsetExtremes(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, offset := range []int{
		14 * 3600, -12 * 3600, 24*3600 - 1, -(24*3600 - 1),
		24 * 3600, -24 * 3600, 100000, -100000, math.MaxInt32, math.MinInt32,
	} {
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", offset))
		var v cookiesession.Values
		if err := v.Set("t", at); err != nil {
			checkErrRules(t, err)
			if offset > -24*3600 && offset < 24*3600 {
				t.Errorf("offset %d: Set refused a real-world offset: %v", offset, err)
			}
			continue
		}
		token := sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow)
		rec, err := c.OpenAt(token, fixedNow)
		if err != nil {
			t.Errorf("offset %d: Set and Seal accepted the time, Open refused it: %v", offset, err)
			continue
		}
		got, _ := rec.Values.Get("t")
		if diff := sameValue(got, at); diff != "" {
			t.Errorf("offset %d: %s", offset, diff)
		}
	}
}

// TestSetInvalidJSON checks that a json.RawMessage is validated at Set.
func TestSetInvalidJSON(t *testing.T) {
	for _, raw := range []string{"", "{", `{"a":}`, "nul", "1 2", "\xff"} {
		v := valuesOf(t, "k", "before")
		err := v.Set("k", json.RawMessage(raw))
		checkErrRules(t, err)
		if err == nil {
			t.Errorf("Set(RawMessage(%q)) succeeded", raw)
		}
		if got, _ := v.Get("k"); got != "before" {
			t.Errorf("Set(RawMessage(%q)) changed the key to %#v", raw, got)
		}
	}
}

// TestValuesCopySemantics checks that slices and maps are copied on the way
// in and on the way out, so no caller can change a stored value in place.
func TestValuesCopySemantics(t *testing.T) {
	b := []byte("abc")
	list := []string{"a", "b"}
	m := map[string]string{"k": "v"}
	raw := json.RawMessage(`[1]`)
	v := valuesOf(t, "b", b, "list", list, "m", m, "raw", raw)
	b[0], list[0], m["k"], raw[1] = 'X', "X", "X", '2'
	m["new"] = "X"
	want := map[string]any{"b": []byte("abc"), "list": []string{"a", "b"}, "m": map[string]string{"k": "v"}, "raw": json.RawMessage(`[1]`)}
	check := func(when string) {
		t.Helper()
		for key, w := range want {
			got, _ := v.Get(key)
			if diff := sameValue(got, w); diff != "" {
				t.Errorf("%s: %s: %s", when, key, diff)
			}
		}
	}
	check("after mutating the originals")
	gb, _ := v.Get("b")
	gl, _ := v.Get("list")
	gm, _ := v.Get("m")
	gr, _ := v.Get("raw")
	gb.([]byte)[0], gl.([]string)[0], gm.(map[string]string)["k"], gr.(json.RawMessage)[1] = 'Y', "Y", "Y", '3'
	check("after mutating what Get returned")

	clone := v.Clone()
	setValue(t, &clone, "list", []string{"clone"})
	clone.Delete("b")
	check("after changing a clone")
}

// TestValuesOrderAndDelete checks the ordered-map surface of Values.
func TestValuesOrderAndDelete(t *testing.T) {
	v := valuesOf(t, "b", 1, "a", 2, "c", 3, "a", 4)
	if diff := cmp.Diff([]string{"a", "b", "c"}, v.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if got, _ := v.Get("a"); got != 4 {
		t.Errorf("a = %#v, want the later value 4", got)
	}
	if !v.Delete("b") || v.Delete("b") || v.Len() != 2 {
		t.Errorf("Delete did not remove b exactly once")
	}
	if _, ok := v.Get("b"); ok {
		t.Errorf("b still present after Delete")
	}
}

// sealedToken returns a codec with one key and a token it sealed at fixedNow.
func sealedToken(t *testing.T) (*cookiesession.Codec, string) {
	t.Helper()
	c := newTestCodec(t, ringOf(t, 0x00ab12cd), cookiesession.CodecOptions{})
	v := valuesOf(t, "user_id", "u_8f3a2c", "role", "admin", "n", 42)
	return c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow)
}

func mustDecodeToken(t *testing.T, token string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	return raw
}

// openFails asserts that token is refused as invalid and returns the
// *TokenError.
func openFails(t *testing.T, c *cookiesession.Codec, token string) *cookiesession.TokenError {
	t.Helper()
	_, err := c.OpenAt(token, fixedNow)
	checkErrRules(t, err)
	var te *cookiesession.TokenError
	if !errors.As(err, &te) || !errors.Is(err, cookiesession.ErrInvalid) {
		t.Fatalf("OpenAt(%q) = %v, want a *TokenError matching ErrInvalid", token, err)
	}
	return te
}

// TestOpenRejectsEveryRawBitFlip flips each bit of the decoded token and
// re-encodes it. The header fails on version or key id; every other region
// fails with the one opaque authentication error.
func TestOpenRejectsEveryRawBitFlip(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	for i := range raw {
		for bit := range 8 {
			flipped := append([]byte(nil), raw...)
			flipped[i] ^= 1 << bit
			te := openFails(t, c, base64.RawURLEncoding.EncodeToString(flipped))
			var want string
			switch {
			case i == 0:
				want = "unknown format version"
			case i < 5:
				want = "unknown key id " + hex.EncodeToString(flipped[1:5])
			default:
				want = "authentication failed"
			}
			if !strings.HasPrefix(te.Reason, want) {
				t.Errorf("byte %d bit %d: reason %q, want %q", i, bit, te.Reason, want)
			}
		}
	}
}

// TestOpenRejectsEveryCharBitFlip flips each bit of each token character,
// including flips that leave the alphabet and flips of unused trailing bits.
func TestOpenRejectsEveryCharBitFlip(t *testing.T) {
	c, token := sealedToken(t)
	for i := range len(token) {
		for bit := range 8 {
			b := []byte(token)
			b[i] ^= 1 << bit
			openFails(t, c, string(b))
		}
	}
}

// TestOpenRejectsTruncation cuts the token and its raw bytes at every
// length, from the end and from the front, and appends to both.
func TestOpenRejectsTruncation(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	for n := range len(token) {
		openFails(t, c, token[:n])
		openFails(t, c, token[n+1:])
	}
	for n := range len(raw) {
		openFails(t, c, base64.RawURLEncoding.EncodeToString(raw[:n]))
		openFails(t, c, base64.RawURLEncoding.EncodeToString(raw[n+1:]))
	}
	for _, extra := range []string{"A", "AA", "AAA", "AAAA"} {
		openFails(t, c, token+extra)
	}
	openFails(t, c, base64.RawURLEncoding.EncodeToString(append(raw, 0)))
}

// TestOpenRejectsWrongName checks that a token is bound to its cookie name.
func TestOpenRejectsWrongName(t *testing.T) {
	c, token := sealedToken(t)
	ring := ringOf(t, 0x00ab12cd)
	for _, name := range []string{"session.1", "Session", "session ", "sessio", "__Host-session", "sessionsession"} {
		other := newTestCodec(t, ring, cookiesession.CodecOptions{Name: name})
		if te := openFails(t, other, token); te.Reason != "authentication failed" {
			t.Errorf("name %q: reason %q, want the opaque authentication failure", name, te.Reason)
		}
	}
	if _, err := c.OpenAt(token, fixedNow); err != nil {
		t.Errorf("the right name no longer opens: %v", err)
	}
}

// TestOpenUnknownKey checks a removed key and a key never held: the error
// matches ErrUnknownKey and ErrInvalid, names the id in 8 hex digits and
// sets KeyID.
func TestOpenUnknownKey(t *testing.T) {
	const oldID, newID = 0x00ab12cd, 0x5e6f7a8b
	ring := ringOf(t, oldID, newID)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	token := sealAt(t, c, &cookiesession.Record{Values: valuesOf(t, "a", "b")}, fixedNow)
	if err := ring.Promote(newID); err != nil {
		t.Fatal(err)
	}
	if err := ring.Remove(oldID); err != nil {
		t.Fatal(err)
	}
	foreign := newTestCodec(t, ringOf(t, 0x0000fffe), cookiesession.CodecOptions{})
	foreignToken := sealAt(t, foreign, &cookiesession.Record{}, fixedNow)
	for _, tc := range []struct {
		token string
		id    uint32
	}{{token, oldID}, {foreignToken, 0x0000fffe}} {
		_, err := c.OpenAt(tc.token, fixedNow)
		checkErrRules(t, err)
		if !errors.Is(err, cookiesession.ErrUnknownKey) || !errors.Is(err, cookiesession.ErrInvalid) {
			t.Errorf("err = %v, want ErrUnknownKey and ErrInvalid", err)
		}
		if errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("err = %v also matches ErrExpired", err)
		}
		name := hex.EncodeToString(binary.BigEndian.AppendUint32(nil, tc.id))
		if err == nil || !strings.Contains(err.Error(), "unknown key id "+name) {
			t.Errorf("err = %v, want it to name key id %s", err, name)
		}
		var te *cookiesession.TokenError
		if !errors.As(err, &te) || te.KeyID != tc.id {
			t.Errorf("TokenError = %+v, want KeyID %08x", te, tc.id)
		}
	}
}

// TestOpenExpiry steps the clock over a token's MaxAge deadline.
func TestOpenExpiry(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	deadline := fixedNow.Add(time.Hour)
	for _, step := range []struct {
		at      time.Time
		expired bool
	}{
		{fixedNow, false},
		{fixedNow.Add(-cookiesession.ClockSkew), false}, // a clock running behind
		{deadline.Add(-time.Second), false},
		{deadline.Add(-time.Nanosecond), false},
		{deadline, true},
		{deadline.Add(time.Nanosecond), true},
		{deadline.AddDate(10, 0, 0), true},
	} {
		_, err := c.OpenAt(token, step.at)
		checkErrRules(t, err)
		if got := errors.Is(err, cookiesession.ErrExpired); got != step.expired || (!step.expired && err != nil) {
			t.Errorf("OpenAt(%v) = %v, want expired=%v", step.at, err, step.expired)
			continue
		}
		if step.expired {
			assertExpiredAt(t, err, deadline, 0x1a2b3c4d)
		}
	}
}

func assertExpiredAt(t *testing.T, err error, deadline time.Time, keyID uint32) {
	t.Helper()
	var te *cookiesession.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err %v is not a *TokenError", err)
	}
	if !te.Expired.Equal(deadline) || te.KeyID != keyID {
		t.Errorf("TokenError{Expired: %v, KeyID: %08x}, want %v and %08x", te.Expired, te.KeyID, deadline, keyID)
	}
	if errors.Is(err, cookiesession.ErrInvalid) {
		t.Errorf("expired error %v also matches ErrInvalid", err)
	}
}

// TestCodecShortenedMaxAge opens a token sealed under a long MaxAge
// with a codec whose MaxAge is now shorter: the token's own deadline is not
// trusted past the current policy.
func TestCodecShortenedMaxAge(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	long := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: 24 * time.Hour})
	short := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour})
	token := sealAt(t, long, &cookiesession.Record{}, fixedNow)
	openAt(t, short, token, fixedNow.Add(59*time.Minute))
	_, err := short.OpenAt(token, fixedNow.Add(time.Hour))
	if !errors.Is(err, cookiesession.ErrExpired) {
		t.Fatalf("short codec at fixedNow+1h: %v, want ErrExpired", err)
	}
	assertExpiredAt(t, err, fixedNow.Add(time.Hour), 0x1a2b3c4d)
	if rec := openAt(t, long, token, fixedNow.Add(time.Hour)); !rec.Expires.Equal(fixedNow.Add(24 * time.Hour)) {
		t.Errorf("long codec: Expires %v, want %v", rec.Expires, fixedNow.Add(24*time.Hour))
	}
}

// TestOpenCreatedInFuture checks the ClockSkew bound on a token's creation
// time, with the boundary rows.
func TestOpenCreatedInFuture(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, row := range []struct {
		ahead time.Duration
		ok    bool
	}{
		{0, true},
		{time.Second, true},
		{cookiesession.ClockSkew, true},
		{cookiesession.ClockSkew + time.Second, false},
		{time.Hour, false},
		{100 * 365 * 24 * time.Hour, false},
	} {
		rec := &cookiesession.Record{Created: fixedNow.Add(row.ahead)}
		token := sealAt(t, c, rec, fixedNow)
		_, err := c.OpenAt(token, fixedNow)
		checkErrRules(t, err)
		if row.ok != (err == nil) {
			t.Errorf("created %v ahead: err %v, want ok=%v", row.ahead, err, row.ok)
		}
		if !row.ok && (!errors.Is(err, cookiesession.ErrInvalid) || errors.Is(err, cookiesession.ErrExpired)) {
			t.Errorf("created %v ahead: err %v, want ErrInvalid only", row.ahead, err)
		}
	}
}

// TestOpenLengthLimitBeforeDecoding checks that an over-long token is
// refused for its length, whatever it contains.
func TestOpenLengthLimitBeforeDecoding(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxTokenLen: 200})
	for _, token := range []string{
		strings.Repeat("!", 201),
		strings.Repeat("A", 201),
		strings.Repeat("\x00", 1<<20),
	} {
		te := openFails(t, c, token)
		if !strings.Contains(te.Reason, "exceeds the limit of 200") {
			t.Errorf("len %d: reason %q, want the length limit", len(token), te.Reason)
		}
	}
	te := openFails(t, c, strings.Repeat("!", 200))
	if strings.Contains(te.Reason, "exceeds") {
		t.Errorf("a token of exactly MaxTokenLen was refused for its length: %q", te.Reason)
	}
}

// tokenWithTrailingBits seals tokens of growing size until one has unused
// bits in its last character, so non-canonical encodings can be built.
func tokenWithTrailingBits(t *testing.T, c *cookiesession.Codec, mod int) string {
	t.Helper()
	for n := range 3 {
		v := valuesOf(t, "pad", strings.Repeat("x", n))
		token := sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow)
		if len(token)%4 == mod {
			return token
		}
	}
	t.Fatalf("no token with length %% 4 == %d", mod)
	return ""
}

// TestOpenRejectsNonCanonicalEncoding is the hostile table for the base64
// layer: padding, whitespace, the standard alphabet and unused bits.
func TestOpenRejectsNonCanonicalEncoding(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, mod := range []int{2, 3} {
		token := tokenWithTrailingBits(t, c, mod)
		openAt(t, c, token, fixedNow)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, token[len(token)-1])
		mid := len(token) / 2
		rows := map[string]string{
			"one pad":          token + "=",
			"two pads":         token + "==",
			"leading space":    " " + token,
			"trailing space":   token + " ",
			"trailing newline": token + "\n",
			"crlf inside":      token[:mid] + "\r\n" + token[mid:],
			"newline inside":   token[:mid] + "\n" + token[mid:],
			"tab inside":       token[:mid] + "\t" + token[mid:],
			"nul inside":       token[:mid] + "\x00" + token[mid:],
			"quoted":           `"` + token + `"`,
			"std alphabet":     strings.NewReplacer("-", "+", "_", "/").Replace(token + "-_"),
			"unused bit set":   token[:len(token)-1] + string(alphabet[last^1]),
			"percent encoded":  token[:mid] + "%41" + token[mid:],
			"empty":            "",
			"non-ascii":        token[:mid] + "é" + token[mid:],
			"version 2":        withVersion(t, token, 2),
			"version 0":        withVersion(t, token, 0),
		}
		for name, bad := range rows {
			if bad == token {
				t.Fatalf("%s: row equals the genuine token", name)
			}
			t.Run(name, func(t *testing.T) { openFails(t, c, bad) })
		}
	}
}

func withVersion(t *testing.T, token string, version byte) string {
	raw := mustDecodeToken(t, token)
	raw[0] = version
	return base64.RawURLEncoding.EncodeToString(raw)
}

// TestSealTooLarge checks the MaxTokenLen boundary on the sealing side and
// that TokenLen predicts the token's exact length.
func TestSealTooLarge(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	v := valuesOf(t, "blob", strings.Repeat("z", 1000))
	probe := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: 8192})
	limit := probe.TokenLen(&cookiesession.Record{Values: v})

	exact := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: limit})
	token := sealAt(t, exact, &cookiesession.Record{Values: v}, fixedNow)
	if len(token) != limit {
		t.Errorf("len(token) = %d, TokenLen said %d", len(token), limit)
	}
	openAt(t, exact, token, fixedNow)

	tight := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: limit - 1})
	_, err := tight.SealAt(&cookiesession.Record{Values: v}, fixedNow)
	checkErrRules(t, err)
	if !errors.Is(err, cookiesession.ErrTooLarge) {
		t.Errorf("SealAt over the limit = %v, want ErrTooLarge", err)
	}
	openFails(t, tight, token)
}

// TestTokenSizeTargets checks the sizes DESIGN.md section 7 promises: the
// small fixture's token length, and 2,900 bytes of values in one default
// 4096-byte token.
func TestTokenSizeTargets(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	small := valuesOf(t, "user_id", "u_8f3a2c", "role", "admin", "csrf", strings.Repeat("c", 32))
	if n := c.TokenLen(&cookiesession.Record{Values: small}); n > 210 {
		t.Errorf("small fixture token is %d characters, want <= 210", n)
	}
	big := valuesOf(t, "blob", strings.Repeat("b", 2900-len("blob")-5))
	if n := len(big.AppendEncoded(nil)); n < 2900 {
		t.Fatalf("fixture is %d bytes, want >= 2900", n)
	}
	sealAt(t, c, &cookiesession.Record{Values: big}, fixedNow)
}

// TestIdleTimeoutExpiry checks expires = min(created+MaxAge,
// sealedAt+IdleTimeout), through Expiry and through a sealed token.
func TestIdleTimeoutExpiry(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: 8 * time.Hour, IdleTimeout: time.Hour})
	for _, row := range []struct {
		sealedAfter time.Duration
		want        time.Duration
	}{
		{0, time.Hour},
		{500 * time.Millisecond, time.Hour},
		{3 * time.Hour, 4 * time.Hour},
		{7 * time.Hour, 8 * time.Hour},
		{7*time.Hour + 30*time.Minute, 8 * time.Hour},
	} {
		sealedAt := fixedNow.Add(row.sealedAfter)
		want := fixedNow.Add(row.want)
		if got := c.Expiry(fixedNow, sealedAt); !got.Equal(want) {
			t.Errorf("Expiry(fixedNow, fixedNow+%v) = %v, want %v", row.sealedAfter, got, want)
		}
		token := sealAt(t, c, &cookiesession.Record{Created: fixedNow}, sealedAt)
		rec := openAt(t, c, token, want.Add(-time.Second))
		if !rec.Expires.Equal(want) || !rec.Created.Equal(fixedNow) {
			t.Errorf("sealed at fixedNow+%v: Created %v Expires %v, want %v and %v", row.sealedAfter, rec.Created, rec.Expires, fixedNow, want)
		}
		if _, err := c.OpenAt(token, want); !errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("sealed at fixedNow+%v, opened at its deadline: %v, want ErrExpired", row.sealedAfter, err)
		}
	}
}

// TestSealFillsRecord checks the fields Seal fills in on a zero Record.
func TestSealFillsRecord(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour})
	now := fixedNow.Add(1500 * time.Millisecond)
	var rec cookiesession.Record
	token := sealAt(t, c, &rec, now)
	want := fixedNow.Add(time.Second)
	if rec.ID == (cookiesession.SessionID{}) || len(rec.ID.String()) != 32 {
		t.Errorf("ID = %v, want a random 32-hex id", rec.ID)
	}
	if !rec.Created.Equal(want) || !rec.Expires.Equal(want.Add(time.Hour)) || rec.KeyID != 0x1a2b3c4d {
		t.Errorf("filled %+v, want Created %v, Expires +1h, KeyID 1a2b3c4d", rec, want)
	}
	opened := openAt(t, c, token, now)
	if opened.ID != rec.ID || !opened.Created.Equal(rec.Created) || !opened.Expires.Equal(rec.Expires) || opened.KeyID != rec.KeyID {
		t.Errorf("opened %+v, sealed %+v", opened, rec)
	}
	var other cookiesession.Record
	sealAt(t, c, &other, now)
	if other.ID == rec.ID {
		t.Errorf("two sessions got the same id %v", rec.ID)
	}
	if t2 := sealAt(t, c, &rec, now); t2 == token {
		t.Errorf("re-sealing gave the same token: the nonce was not fresh")
	}
}

// TestSealRefusesBadRecords covers records Seal must not produce tokens for.
func TestSealRefusesBadRecords(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	_, err := c.SealAt(&cookiesession.Record{Created: time.Unix(-1, 0)}, fixedNow)
	checkErrRules(t, err)
	if err == nil {
		t.Errorf("sealing a session created before 1970 succeeded")
	}
	_, err = c.SealAt(&cookiesession.Record{Created: fixedNow.Add(-time.Hour), Expires: fixedNow}, fixedNow)
	checkErrRules(t, err)
	if !errors.Is(err, cookiesession.ErrExpired) {
		t.Errorf("sealing an expired record = %v, want ErrExpired", err)
	}
}

// TestResealKeepsIdentity re-seals an opened record under a newly promoted
// key, as the middleware does for old-key tokens.
func TestResealKeepsIdentity(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour, IdleTimeout: 10 * time.Minute})
	first := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: valuesOf(t, "k", "v")}, fixedNow), fixedNow)
	if err := ring.Promote(0x5e6f7a8b); err != nil {
		t.Fatal(err)
	}
	later := fixedNow.Add(5 * time.Minute)
	resealed := first
	again := openAt(t, c, sealAt(t, c, &resealed, later), later)
	if again.ID != first.ID || !again.Created.Equal(first.Created) || !again.Expires.Equal(first.Expires) {
		t.Errorf("re-seal changed identity: %+v, was %+v", again, first)
	}
	if again.KeyID != 0x5e6f7a8b || first.KeyID != 0x1a2b3c4d {
		t.Errorf("KeyID %08x then %08x, want 1a2b3c4d then 5e6f7a8b", first.KeyID, again.KeyID)
	}
	if got, _ := again.Values.Get("k"); got != "v" {
		t.Errorf("values lost in re-seal: %#v", got)
	}
}

// TestNewCodecOptions is the hostile table for NewCodec.
func TestNewCodecOptions(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	for name, opts := range map[string]cookiesession.CodecOptions{
		"no name":          {},
		"negative MaxAge":  {Name: "s", MaxAge: -time.Second},
		"negative idle":    {Name: "s", IdleTimeout: -time.Second},
		"negative len":     {Name: "s", MaxTokenLen: -1},
		"sub-second age":   {Name: "s", MaxAge: time.Millisecond},
		"sub-second idle":  {Name: "s", IdleTimeout: time.Millisecond},
		"len below a seal": {Name: "s", MaxTokenLen: cookiesession.MinTokenLen - 1},
	} {
		_, err := cookiesession.NewCodec(ring, opts)
		checkErrRules(t, err)
		if err == nil {
			t.Errorf("%s: NewCodec(%+v) succeeded", name, opts)
		}
	}
	if _, err := cookiesession.NewCodec(nil, cookiesession.CodecOptions{Name: "s"}); err == nil {
		t.Errorf("NewCodec(nil ring) succeeded")
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{Name: "s", MaxTokenLen: cookiesession.MinTokenLen})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	if len(token) != cookiesession.MinTokenLen || c.Name() != "s" {
		t.Errorf("empty session token is %d long, MinTokenLen %d", len(token), cookiesession.MinTokenLen)
	}
}

// wireBytes builds value encodings for the hostile decoder table: a uint64 is
// written as a uvarint, a string or []byte as is, an int as a single byte.
func wireBytes(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case uint64:
			b = binary.AppendUvarint(b, p)
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		case int:
			b = append(b, byte(p))
		}
	}
	return b
}

// wireTagOf learns the wire tag of val's type from the encoder itself: the
// encoding of {"k": val} is count, key length, 'k', tag, payload.
func wireTagOf(val any) int {
	var v cookiesession.Values
	if err := v.Set("k", val); err != nil {
		panic(err)
	}
	return int(v.AppendEncoded(nil)[3])
}

func hostileValueEncodings() map[string][]byte {
	str, bytes, strs, smap := wireTagOf(""), wireTagOf([]byte{}), wireTagOf([]string{}), wireTagOf(map[string]string{})
	js, b, i64, tm := wireTagOf(json.RawMessage("1")), wireTagOf(true), wireTagOf(int64(0)), wireTagOf(time.Time{})
	huge := uint64(1) << 40
	return map[string][]byte{
		"empty input":               {},
		"count without entries":     wireBytes(1),
		"count 2^40":                wireBytes(huge, 1, "k", str, 0),
		"key length 2^40":           wireBytes(1, huge, "k", str, 0),
		"string length 2^40":        wireBytes(1, 1, "k", str, huge, "abc"),
		"bytes length 2^40":         wireBytes(1, 1, "k", bytes, huge, "abc"),
		"json length 2^40":          wireBytes(1, 1, "k", js, huge, "1"),
		"strings count 2^40":        wireBytes(1, 1, "k", strs, huge, 1, "a"),
		"map count 2^40":            wireBytes(1, 1, "k", smap, huge, 1, "a", 1, "b"),
		"string element 2^40":       wireBytes(1, 1, "k", strs, 1, huge, "a"),
		"count max uint64":          wireBytes(uint64(math.MaxUint64), 0),
		"varint 11 bytes":           wireBytes(1, strings.Repeat("\x80", 10), 1, 1, "k", str, 0),
		"varint tenth byte 2":       wireBytes(strings.Repeat("\xff", 9), 2),
		"varint unterminated":       wireBytes(1, 0x80),
		"non-minimal count":         wireBytes(0x81, 0, 1, "k", str, 0),
		"non-minimal zero count":    wireBytes(0x80, 0),
		"non-minimal key length":    wireBytes(1, 0x81, 0, "k", str, 0),
		"duplicate key":             wireBytes(2, 1, "k", str, 0, 1, "k", str, 0),
		"keys out of order":         wireBytes(2, 1, "b", str, 0, 1, "a", str, 0),
		"trailing byte":             wireBytes(1, 1, "k", str, 0, 0),
		"empty then trailing":       wireBytes(0, 0),
		"unknown tag 0x15":          wireBytes(1, 1, "k", 0x15),
		"unknown tag 0xff":          wireBytes(1, 1, "k", 0xff),
		"missing tag":               wireBytes(1, 1, "k"),
		"bool 2":                    wireBytes(1, 1, "k", b, 2),
		"bool 0xff":                 wireBytes(1, 1, "k", b, 0xff),
		"truncated int64":           wireBytes(1, 1, "k", i64, "\x00\x00\x00\x00\x00\x00\x00"),
		"truncated time":            wireBytes(1, 1, "k", tm, strings.Repeat("\x00", 15)),
		"time nanoseconds 1e9":      wireBytes(1, 1, "k", tm, strings.Repeat("\x00", 8), "\x3b\x9a\xca\x00", "\x00\x00\x00\x00"),
		"time offset +24h":          wireBytes(1, 1, "k", tm, strings.Repeat("\x00", 12), "\x00\x01\x51\x80"),
		"time offset -24h":          wireBytes(1, 1, "k", tm, strings.Repeat("\x00", 12), "\xff\xfe\xae\x80"),
		"invalid json":              wireBytes(1, 1, "k", js, 1, "{"),
		"empty json":                wireBytes(1, 1, "k", js, 0),
		"map keys out of order":     wireBytes(1, 1, "k", smap, 2, 1, "b", 0, 1, "a", 0),
		"map duplicate key":         wireBytes(1, 1, "k", smap, 2, 1, "a", 0, 1, "a", 0),
		"map value truncated":       wireBytes(1, 1, "k", smap, 1, 1, "a", 5, "x"),
		"strings element truncated": wireBytes(1, 1, "k", strs, 2, 1, "a"),
	}
}

// TestDecodeValuesHostile feeds malformed encodings to DecodeValues: each
// must fail with an error, never a panic.
func TestDecodeValuesHostile(t *testing.T) {
	for name, in := range hostileValueEncodings() {
		t.Run(name, func(t *testing.T) {
			v, err := cookiesession.DecodeValues(in)
			checkErrRules(t, err)
			if err == nil {
				t.Fatalf("DecodeValues(%x) = %d values, want an error", in, v.Len())
			}
		})
	}
	v, err := cookiesession.DecodeValues([]byte{0})
	if err != nil || v.Len() != 0 {
		t.Errorf("DecodeValues(00) = %d values, %v; want the empty set", v.Len(), err)
	}
}

// TestDecodeValuesHugeLengthAllocatesNothing checks that a length prefix
// claiming 2^40 bytes is refused before anything is allocated for it: the
// decode costs a bounded, small number of small allocations (the error).
func TestDecodeValuesHugeLengthAllocatesNothing(t *testing.T) {
	for name, in := range hostileValueEncodings() {
		if !strings.Contains(name, "2^40") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var before, after runtimeMem
			before.read()
			allocs := testing.AllocsPerRun(100, func() { _, _ = cookiesession.DecodeValues(in) })
			after.read()
			if allocs > 16 {
				t.Errorf("%.0f allocations per decode, want at most 16", allocs)
			}
			if perRun := (after.total - before.total) / 101; perRun > 4096 {
				t.Errorf("%d bytes allocated per decode, want at most 4096", perRun)
			}
		})
	}
}

// runtimeMem reads the bytes allocated so far by the whole program.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// TestTokenErrorFields checks the *TokenError fields for each stage.
func TestTokenErrorFields(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	raw[len(raw)-1] ^= 1
	for _, row := range []struct {
		name  string
		token string
		keyID uint32
	}{
		{"bad encoding", "!" + token[1:], 0},
		{"too short", token[:cookiesession.MinTokenLen-1], 0},
		{"forged tag", base64.RawURLEncoding.EncodeToString(raw), 0x00ab12cd},
	} {
		te := openFails(t, c, row.token)
		if te.KeyID != row.keyID || te.Reason == "" || te.Error() != "cookiesession: "+te.Reason {
			t.Errorf("%s: %+v, want KeyID %08x and a reason", row.name, te, row.keyID)
		}
	}
}
