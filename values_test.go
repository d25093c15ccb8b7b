package cookiesession_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestDecodedValuesBehaveLikeBuilt checks that a decoded Values, which keeps
// its encoding and builds entries only when changed, reads and changes
// exactly like one built with Set.
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
