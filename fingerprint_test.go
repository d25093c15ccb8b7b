package cookiesession_test

import (
	"strings"
	"testing"

	"github.com/seed-ff2808ae/cookiesession"
)

// The fingerprints below are SHA-256("cookiesession key fingerprint
// v1\x00" || secret)[:6] in hex (FORMAT.md section 6), computed apart
// from the package: keySecret(keyA) and keySecret(otherSecret).
const (
	fingerprintA     = "a29385f00e67"
	otherSecret      = 0x0badbeef
	fingerprintOther = "c212aafffa4a"
)

// TestFingerprintVector checks the fingerprint against values computed
// apart from the package, and that neither it nor what shows it (String,
// the JSON of Keys and Metrics) shows the secret.
func TestFingerprintVector(t *testing.T) {
	ring := ringOf(t, keyA, keyB)
	other := keyWithSecretOf(t, keyA, otherSecret)
	otherRing, err := cookiesession.NewKeyRing(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ring *cookiesession.KeyRing
		want string
	}{
		{ring, fingerprintA},
		{otherRing, fingerprintOther},
	} {
		if got := c.ring.Keys()[0].Fingerprint; got != c.want {
			t.Errorf("fingerprint of %s: %s, want %s", c.ring, got, c.want)
		}
	}
	if got := ring.Keys()[1].Fingerprint; got != "23d79fe23408" { // keySecret(keyB)
		t.Errorf("fingerprint of key %08x: %s", keyB, got)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"String": ring.String() + otherRing.String(), "Metrics": m.Var().String()} {
		if !strings.Contains(text, fingerprintA) {
			t.Errorf("%s lacks the fingerprint %s: %s", what, fingerprintA, text)
		}
		assertNoSecret(t, what, text)
	}
}

// keyWithSecretOf returns a key with id and the secret of the test key
// secretOf, which assertNoSecret then looks for.
func keyWithSecretOf(t *testing.T, id, secretOf uint32) cookiesession.Key {
	t.Helper()
	keyForID(t, secretOf) // records the secret for assertNoSecret
	k, err := cookiesession.NewKey(id, keySecret(secretOf))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
