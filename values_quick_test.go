package cookiesession

import "testing"

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
