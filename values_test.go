package cookiesession_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// setValue sets key in v, failing the test on an error.
func setValue(tb testing.TB, v *cookiesession.Values, key string, val any) {
	tb.Helper()
	if err := v.Set(key, val); err != nil {
		tb.Fatalf("Set(%q, %#v): %v", key, val, err)
	}
}

// valuesOf returns Values holding the key/value pairs kv.
func valuesOf(tb testing.TB, kv ...any) cookiesession.Values {
	tb.Helper()
	var v cookiesession.Values
	for i := 0; i < len(kv); i += 2 {
		setValue(tb, &v, kv[i].(string), kv[i+1])
	}
	return v
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
		{"string of 127 bytes: the longest one-byte length", strings.Repeat("s", 127)},
		{"string of 128 bytes: the shortest two-byte length", strings.Repeat("s", 128)},
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
		{"strings 127 elements: the largest one-byte count", strings.Split(strings.Repeat(",", 126), ",")},
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

// TestManyValuesTokenLen: a values count of 128 or more takes a varint of
// two bytes or more, and sealing sizes the token from it: TokenLen must
// give the token's length, and the token must open to every value, on
// each side of a varint's byte boundaries.
func TestManyValuesTokenLen(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxTokenLen: 1 << 17})
	for _, n := range []int{127, 128, 16383, 16384} {
		// Built by hand, in one pass: n Sets would splice n times. Key i
		// is i in three bytes, big-endian, so the keys ascend; each holds nil.
		enc := binary.AppendUvarint(nil, uint64(n))
		for i := range n {
			enc = append(enc, 3, byte(i>>16), byte(i>>8), byte(i), 0)
		}
		v, err := cookiesession.DecodeValues(enc)
		if err != nil {
			t.Fatalf("%d values: DecodeValues: %v", n, err)
		}
		rec := cookiesession.Record{Values: v}
		want := c.TokenLen(&rec)
		token := sealAt(t, c, &rec, fixedNow)
		if opened := openAt(t, c, token, fixedNow); len(token) != want || opened.Values.Len() != n {
			t.Errorf("%d values: token of %d bytes, TokenLen %d; opened %d values", n, len(token), want, opened.Values.Len())
		}
	}
}

// TestValuesKeyEdges reads back from a token the smallest entry, the empty
// key holding nil (two bytes: the decoder bounds the count by it), and a
// key of 128 bytes, the first whose length takes two bytes; its last byte,
// 0x01, is the string tag a reader taking the length's first byte alone
// would see.
func TestValuesKeyEdges(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	long := strings.Repeat("k", 127) + "\x01"
	for _, pairs := range [][]any{{"", nil}, {long, "v", "z", "w"}} {
		v := valuesOf(t, pairs...)
		rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow), fixedNow)
		for i := 0; i < len(pairs); i += 2 {
			if got, ok := rec.Values.Get(pairs[i].(string)); !ok || got != pairs[i+1] {
				t.Errorf("key of %d bytes: Get = %#v, %v; want %#v", len(pairs[i].(string)), got, ok, pairs[i+1])
			}
		}
		if rec.Values.Len() != len(pairs)/2 {
			t.Errorf("opened %d values, want %d", rec.Values.Len(), len(pairs)/2)
		}
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
		{"uintptr", uintptr(1)},
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

// TestSetNamedTypeSaysHow checks that a named type of a kind the session
// carries (scs and gob took `type UserID int64` once registered) is
// refused with the conversion that stores it and the getter that reads it
// back, and that the fix works.
func TestSetNamedTypeSaysHow(t *testing.T) {
	for _, row := range []struct {
		val  any
		want string
	}{
		{namedString("admin"), "store string(v) and read it back with GetAs[cookiesession_test.namedString]"},
		{time.Month(3), "store int(v) and read it back with GetAs[time.Month]"},
		{struct{ A int }{1}, "store it with SetJSON or convert it to a supported type"},
	} {
		var v cookiesession.Values
		if err := v.Set("k", row.val); err == nil || !strings.HasSuffix(err.Error(), row.want) {
			t.Errorf("Set(%T) = %v, want it to end %q", row.val, err, row.want)
		}
	}
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	mustSet(t, s, "month", int(time.March))
	if got, ok := cookiesession.GetAs[time.Month](s, "month"); !ok || got != time.March {
		t.Errorf("GetAs[time.Month] = %v, %v; want March", got, ok)
	}
}

type (
	namedTags  []string
	namedBlob  []byte
	namedAttrs map[string]string
)

// TestSetNamedCollectionSaysHow checks that a named type of a slice or map
// the session carries (type Tags []string) is refused with the conversion
// that stores it, as a named string is, and that GetAs reads it back as
// itself, before and after a round trip through the cookie, as a copy. A
// pointer to a type the session carries is refused with the dereference.
func TestSetNamedCollectionSaysHow(t *testing.T) {
	for _, row := range []struct {
		val  any
		want string
	}{
		{namedTags{"a"}, "store []string(v) and read it back with GetAs[cookiesession_test.namedTags]"},
		{namedBlob{1}, "store []byte(v) and read it back with GetAs[cookiesession_test.namedBlob]"},
		{namedAttrs{"k": "v"}, "store map[string]string(v) and read it back with GetAs[cookiesession_test.namedAttrs]"},
		{json.Number("1"), "store string(v) and read it back with GetAs[json.Number]"},
		{map[string]any{"k": 1}, "store it with SetJSON or convert it to a supported type"},
		{new(string), "store the value it points to (*p), or nil for a nil pointer: a session holds no pointer"},
		{(*int64)(nil), "store the value it points to (*p), or nil for a nil pointer: a session holds no pointer"},
		{&fixedNow, "store the value it points to (*p), or nil for a nil pointer: a session holds no pointer"},
		{&namedTags{}, "store it with SetJSON or convert it to a supported type"},
	} {
		var v cookiesession.Values
		if err := v.Set("k", row.val); err == nil || !strings.HasSuffix(err.Error(), row.want) {
			t.Errorf("Set(%T) = %v, want it to end %q", row.val, err, row.want)
		}
	}
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	mustSet(t, s, "tags", []string{"a", "b"})
	mustSet(t, s, "blob", []byte{1, 2})
	mustSet(t, s, "attrs", map[string]string{"k": "v"})
	for _, sess := range []*cookiesession.Session{s, reload(t, f, newClientCookies(), s)} {
		tags, ok := cookiesession.GetAs[namedTags](sess, "tags")
		if !ok || !reflect.DeepEqual(tags, namedTags{"a", "b"}) {
			t.Fatalf("GetAs[namedTags] = %#v, %v", tags, ok)
		}
		blob, ok := cookiesession.GetAs[namedBlob](sess, "blob")
		if !ok || !bytes.Equal(blob, []byte{1, 2}) {
			t.Fatalf("GetAs[namedBlob] = %#v, %v", blob, ok)
		}
		attrs, ok := cookiesession.GetAs[namedAttrs](sess, "attrs")
		if !ok || !reflect.DeepEqual(attrs, namedAttrs{"k": "v"}) {
			t.Fatalf("GetAs[namedAttrs] = %#v, %v", attrs, ok)
		}
		tags[0], blob[0], attrs["k"] = "changed", 9, "changed"
		if got := sess.GetStrings("tags")[0] + string(sess.GetBytes("blob")[:1]) + sess.GetStringMap("attrs")["k"]; got != "a\x01v" {
			t.Errorf("a change to what GetAs returned reached the session: %q", got)
		}
		// Another kind is still false: a []string is not a namedBlob, nor a json.RawMessage.
		if got, ok := cookiesession.GetAs[namedBlob](sess, "tags"); ok {
			t.Errorf("GetAs[namedBlob] of a []string = %#v, true", got)
		}
		if got, ok := cookiesession.GetAs[json.RawMessage](sess, "blob"); ok {
			t.Errorf("GetAs[json.RawMessage] of a []byte = %#v, true", got)
		}
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

// TestTimeKeepsOffsetNotLocation pins what README and Values promise of a
// time.Time: it comes back as the same instant in a zone of the same
// offset, but without its Location's name or its monotonic reading, so it
// is Equal to the time stored but not ==.
func TestTimeKeepsOffsetNotLocation(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, at := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("EST", -5*3600)),
		time.Now(), // with a monotonic reading
	} {
		rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: valuesOf(t, "t", at)}, fixedNow), fixedNow)
		got, _ := rec.Values.Get("t")
		g := got.(time.Time)
		name, offset := g.Zone()
		wantName, wantOffset := at.Zone()
		if !g.Equal(at) || offset != wantOffset {
			t.Errorf("%v came back as %v: another instant or offset", at, g)
		}
		if g == at || offset != 0 && name == wantName || g.Round(0) != g {
			t.Errorf("%v came back as %v (zone %q): want the Location's name and the monotonic reading gone, as documented", at, g, name)
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
		"second entry missing":      wireBytes(2, 0, str, 1, "x"),
		"string length missing":     wireBytes(1, 0, str),
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

// TestDecodedValuesBehaveLikeBuilt checks that a Values decoded from an
// encoding reads and changes exactly like the one built with Set that
// produced it, and that changing a copy leaves the original as it was.
func TestDecodedValuesBehaveLikeBuilt(t *testing.T) {
	var built cookiesession.Values
	for _, row := range roundTripRows() {
		setValue(t, &built, row.name, row.val)
	}
	decoded, err := cookiesession.DecodeValues(built.AppendEncoded(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(built.Keys(), decoded.Keys()); diff != "" || decoded.Len() != built.Len() {
		t.Fatalf("keys differ (-built +decoded):\n%s", diff)
	}
	for _, key := range built.Keys() {
		want, _ := built.Get(key)
		got, ok := decoded.Get(key)
		if diff := sameValue(want, got); !ok || diff != "" {
			t.Errorf("Get(%q) = %#v, %v; want %#v: %s", key, got, ok, want, diff)
		}
	}
	if _, ok := decoded.Get("no such key"); ok {
		t.Error("Get of a missing key reported a value")
	}
	for _, key := range built.Keys() {
		b, d := built.Clone(), decoded.Clone()
		b.Delete(key)
		if !d.Delete(key) || d.Delete(key) {
			t.Fatalf("Delete(%q) on the decoded copy did not report presence correctly", key)
		}
		setValue(t, &b, "zz-added", 7)
		setValue(t, &d, "zz-added", 7)
		if !bytes.Equal(b.AppendEncoded(nil), d.AppendEncoded(nil)) {
			t.Errorf("after Delete(%q) and Set, the decoded copy encodes differently", key)
		}
	}
	if !bytes.Equal(decoded.AppendEncoded(nil), built.AppendEncoded(nil)) {
		t.Error("changing clones changed the original decoded Values")
	}
}

// TestValuesHaveNoJSONForm: encoding/json sees no exported field in a
// Values, so without MarshalJSON it wrote a Values, and the one in a
// Record, as {} and read {"Values": {...}} back as empty, both without an
// error: a job that queued Records as JSON re-sealed them with no values.
func TestValuesHaveNoJSONForm(t *testing.T) {
	var v cookiesession.Values
	setValue(t, &v, "user", "bob")
	if b, err := json.Marshal(v); err == nil {
		t.Errorf("json.Marshal(Values) = %s, want an error", b)
	}
	rec := cookiesession.Record{Values: v}
	if b, err := json.Marshal(rec); err == nil || !strings.Contains(err.Error(), "Codec.Seal") {
		t.Errorf("json.Marshal(Record) = %s, %v; want an error that names Codec.Seal", b, err)
	}
	if b, err := json.Marshal(&rec); err == nil {
		t.Errorf("json.Marshal(&Record) = %s, want an error", b)
	}
	var back cookiesession.Record
	if err := json.Unmarshal([]byte(`{"Values": {"user": "bob"}}`), &back); err == nil {
		t.Errorf("json.Unmarshal into a Record's Values succeeded, holding %d values", back.Values.Len())
	}
}

// TestLargeIntegersExact: an int64 or uint64 past 2^53, which JSON
// numbers read as float64 round (gogf/gf#1249: 1265476890672672808 came
// back as 1265476890672672768), comes back exact and of its own type,
// stored with Set or, inside a struct, with SetJSON.
func TestLargeIntegersExact(t *testing.T) {
	type user struct{ ID int64 }
	const id = int64(1265476890672672808)
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	mustSet(t, s, "id", id)
	mustSet(t, s, "max", uint64(math.MaxUint64))
	if err := s.SetJSON("user", user{ID: id}); err != nil {
		t.Fatal(err)
	}
	s = reload(t, f, newClientCookies(), s)
	if v, _ := s.Get("id"); v != any(id) {
		t.Errorf("Get(id) = %T %v, want int64 %d", v, v, id)
	}
	if v, _ := s.Get("max"); v != any(uint64(math.MaxUint64)) {
		t.Errorf("Get(max) = %T %v, want uint64 %d", v, v, uint64(math.MaxUint64))
	}
	var got user
	if ok, err := s.GetJSON("user", &got); !ok || err != nil || got.ID != id {
		t.Errorf("GetJSON(user) = %+v, %v, %v; want ID %d", got, ok, err, id)
	}
}
