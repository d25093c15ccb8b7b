package cookiesession

import (
	"crypto/sha256"
	"encoding/hex"
)

// A key's fingerprint tells whether two instances hold one secret under a
// key id, without either showing it. Tokens name their key by id alone,
// so instances that hold different secrets under one id refuse each
// other's cookies as forged ones, and sign out every user the balancer
// moves between them.

// fingerprintLabel comes before the secret in the hash, so that the
// fingerprint is a digest of the secret under this package's own label:
// it is no hash of the secret that anything else computes, and no key
// material (the package derives none: the secret is the AEAD's key).
const fingerprintLabel = "cookiesession key fingerprint v1\x00"

// fingerprintSize is how many bytes of the digest a fingerprint keeps: 48
// bits tell two secrets apart with certainty in practice, and are not
// mistaken for a key id, which has 8 hex digits.
const fingerprintSize = 6

// fingerprint returns the first fingerprintSize bytes of
// SHA-256(fingerprintLabel || secret) in lower-case hex (FORMAT.md section
// 6). It is one-way: what it tells of a secret a token under the key tells
// too.
func (m *keyMaterial) fingerprint() string {
	var buf [len(fingerprintLabel) + KeySize]byte
	copy(buf[copy(buf[:], fingerprintLabel):], m.secret[:])
	sum := sha256.Sum256(buf[:])
	clear(buf[:])
	return hex.EncodeToString(sum[:fingerprintSize])
}
