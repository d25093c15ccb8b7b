package cookiesession

import (
	"strings"
	"testing"
	"time"
)

// FuzzQuickEntry checks decodeValues' fast path against the full reader:
// whatever entry quickEntry accepts, entry must accept with the same key
// and end at the same byte.
func FuzzQuickEntry(f *testing.F) {
	f.Add("\x07user_id\x01\x08u_8f3a2c")
	f.Add("\x01k\x00")
	f.Add("\x01k\x02\x00")
	f.Add("\x00\x01\x00")
	f.Add("\x01k\x01\x05abc")
	f.Add("\x01k\x01\x80\x01" + string(make([]byte, 128)))
	f.Add("\x81\x00k\x01\x00")
	f.Add("\x01k\x03\x01")
	f.Fuzz(func(t *testing.T, s string) {
		quick := valueReader{s: s, mode: modeValidate}
		key, ok := quick.quickEntry()
		if !ok {
			if quick.off != 0 {
				t.Fatalf("quickEntry declined %q but moved to %d", s, quick.off)
			}
			return
		}
		full := valueReader{s: s, mode: modeValidate}
		var e entry
		if err := full.entry(&e); err != nil {
			t.Fatalf("quickEntry accepted %q, entry refuses it: %v", s, err)
		}
		if e.key != key || full.off != quick.off {
			t.Fatalf("quickEntry read key %q to byte %d, entry key %q to byte %d", key, quick.off, e.key, full.off)
		}
	})
}

// TestQuickEntryTakesTheCommonCase pins that the fast path is really taken
// for the entries sessions mostly hold, so a change that makes it decline
// everything fails here rather than only in a benchmark.
func TestQuickEntryTakesTheCommonCase(t *testing.T) {
	for _, in := range []string{"\x07user_id\x01\x08u_8f3a2c", "\x01k\x00", "\x01b\x02\x03abc", "\x00\x01\x00"} {
		r := valueReader{s: in, mode: modeValidate}
		if _, ok := r.quickEntry(); !ok || r.off != len(in) {
			t.Errorf("quickEntry(%q) = %v at byte %d, want the whole entry", in, ok, r.off)
		}
	}
	for _, in := range []string{"\x01k\x03\x01", "\x01k\x01\x80\x01x", "\x01k\x01\x05abc", "\x01k", "\x81\x00"} {
		r := valueReader{s: in, mode: modeValidate}
		if _, ok := r.quickEntry(); ok {
			t.Errorf("quickEntry(%q) accepted an entry it must leave to entry", in)
		}
	}
}

// FuzzValuesEdits applies one sequence of Sets and Deletes to a decoded
// Values, which rewrites its encoding in place for its first changes, and
// to the same values held as entries. After every step both must encode to
// the same bytes and agree on Len, Keys and each value.
func FuzzValuesEdits(f *testing.F) {
	f.Add([]byte{0, 1, 2}, []byte{0x01, 0x12, 0x83, 0x04, 0x25, 0x96, 0x07})
	f.Add([]byte{3, 4}, []byte{0x80, 0x81, 0x82, 0x83, 0x84})
	f.Add([]byte{}, []byte{0x00})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, []byte{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x90, 0x91})
	f.Add([]byte{9}, []byte{0x49, 0x49, 0x49, 0x49, 0x49, 0x49, 0x49})
	f.Fuzz(func(t *testing.T, start, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		var built Values
		for _, k := range start {
			mustSet(t, &built, editKey(k), editValue(k, 0))
		}
		decoded, err := decodeValues(string(built.appendTo(nil)))
		if err != nil {
			t.Fatal(err)
		}
		for step, op := range ops {
			key := editKey(op)
			if op&0x80 != 0 {
				if a, b := decoded.Delete(key), built.Delete(key); a != b {
					t.Fatalf("step %d: Delete(%q) = %v on the encoding, %v on entries", step, key, a, b)
				}
			} else {
				val := editValue(op, step)
				mustSet(t, &decoded, key, val)
				mustSet(t, &built, key, val)
			}
			if a, b := decoded.appendTo(nil), built.appendTo(nil); string(a) != string(b) {
				t.Fatalf("step %d: encodings differ:\n%x\n%x", step, a, b)
			}
			if decoded.Len() != built.Len() || strings.Join(decoded.Keys(), ",") != strings.Join(built.Keys(), ",") {
				t.Fatalf("step %d: keys %q, want %q", step, decoded.Keys(), built.Keys())
			}
			for _, k := range built.Keys() {
				a, _ := decoded.lookup(k)
				b, _ := built.lookup(k)
				if !a.equal(&b) {
					t.Fatalf("step %d: %q differs", step, k)
				}
			}
		}
		if _, err := decodeValues(string(decoded.appendTo(nil))); err != nil {
			t.Fatalf("the edited encoding does not decode: %v", err)
		}
	})
}

func mustSet(t *testing.T, v *Values, key string, val any) {
	t.Helper()
	if err := v.Set(key, val); err != nil {
		t.Fatal(err)
	}
}

// editKey picks one of 16 keys; two of them are long enough that an entry
// needs more than one byte to encode its length.
func editKey(b byte) string {
	switch k := b & 0x0f; k {
	case 14:
		return strings.Repeat("long", 40)
	case 15:
		return ""
	default:
		return string(rune('a' + k))
	}
}

// editValue picks a value of a type chosen by b's bits 4 to 6, varied by n.
func editValue(b byte, n int) any {
	switch (b >> 4) & 0x07 {
	case 0:
		return "v" + strings.Repeat("x", n)
	case 1:
		return n
	case 2:
		return []string{"a", strings.Repeat("b", n)}
	case 3:
		return map[string]string{"k": "v", "z": strings.Repeat("y", n)}
	case 4:
		return strings.Repeat("big", 120+n) // past the small stack buffer
	case 5:
		return time.Unix(int64(n), 5).UTC()
	case 6:
		return nil
	default:
		return []byte{byte(n)}
	}
}

// TestSetKeepsSmallEncoding pins when a decoded Values edits its encoding
// in place and when it builds entries.
func TestSetKeepsSmallEncoding(t *testing.T) {
	var v Values
	mustSet(t, &v, "user_id", "u_8f3a2c")
	mustSet(t, &v, "role", "admin")
	decoded, err := decodeValues(string(v.appendTo(nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxSplices {
		mustSet(t, &decoded, "n", i)
		if !decoded.encoded() {
			t.Fatalf("change %d built entries; the first %d should edit the encoding", i+1, maxSplices)
		}
	}
	mustSet(t, &decoded, "n", -1)
	if decoded.encoded() {
		t.Fatalf("change %d still edits the encoding", maxSplices+1)
	}
	big, err := decodeValues(string(v.appendTo(nil)))
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, &big, "data", strings.Repeat("d", maxSpliceLen))
	if big.encoded() {
		t.Fatalf("a change past %d bytes edited the encoding", maxSpliceLen)
	}
	enc := string(v.appendTo(nil))
	allocs := testing.AllocsPerRun(100, func() {
		d, _ := decodeValues(enc)
		if !d.Delete("role") || d.Len() != 1 {
			t.Fatal("Delete failed")
		}
	})
	if allocs != 0 {
		t.Errorf("deleting the first entry allocated %v times", allocs)
	}
}

// TestLookupFastPathAgrees checks the encoded lookup's shortcut for short
// strings, []byte and nil against the entries the full reader builds.
func TestLookupFastPathAgrees(t *testing.T) {
	var v Values
	for i, val := range []any{"s", []byte("b"), nil, strings.Repeat("long", 40), 7, "", []byte{}} {
		mustSet(t, &v, string(rune('a'+i)), val)
	}
	mustSet(t, &v, strings.Repeat("k", 200), "long key")
	decoded, err := decodeValues(string(v.appendTo(nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range v.Keys() {
		got, ok1 := decoded.lookup(key)
		want, ok2 := v.lookup(key)
		if !ok1 || !ok2 || !got.equal(&want) || got.key != want.key {
			t.Errorf("lookup(%q) = %+v, want %+v", key, got, want)
		}
	}
	if _, ok := decoded.lookup("zz"); ok {
		t.Error("lookup of a missing key succeeded")
	}
}
