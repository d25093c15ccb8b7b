// Package benchmarks compares cookiesession with the raw AEAD it is built
// on and with gorilla/securecookie and gorilla/sessions, on the same
// fixtures and in the same run. It is a separate module so that importers
// of cookiesession never pull in gorilla.
package benchmarks

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/seed-ff2808ae/cookiesession"
)

// cookieName is the cookie every package writes, so that names bound into
// MACs and additional data cost the same everywhere.
const cookieName = "session"

// userID is the small fixture's user_id, which every handler reads back.
const userID = "u_8f3a2c"

// field is one session value. Every fixture holds strings only, the one
// type all the compared packages carry without registration or loss.
type field struct{ key, value string }

// fixture is one session shape, measured through every package.
type fixture struct {
	name   string
	fields []field
}

// fixtures are the sizes from DESIGN.md section 7 and issue 5: the small
// login session, then sessions whose serialized values reach about 1 KB
// and 3 KB.
var fixtures = []fixture{
	{name: "small", fields: smallFields()},
	{name: "1KB", fields: paddedFields(1024)},
	{name: "3KB", fields: paddedFields(3072)},
}

func smallFields() []field {
	return []field{
		{"user_id", userID},
		{"role", "admin"},
		{"csrf", "Zk3q9XbT0vLw2RmA7cYp4HsN1dGe8uJo"},
	}
}

// paddedFields extends the small fixture with filler values until the
// cookiesession encoding of the values is exactly target bytes. The filler
// is seeded pseudo-random text, so every run measures identical bytes and
// nothing benefits from repetition.
func paddedFields(target int) []field {
	rng := rand.New(rand.NewPCG(1, uint64(target)))
	fields := smallFields()
	for i := 0; ; i++ {
		key := "data" + strconv.Itoa(i)
		missing := target - encodedLen(append(fields, field{key, ""}))
		if missing <= 0 {
			return fields
		}
		n := min(missing, 200)
		// A length prefix grows from one to two bytes at 128: step back
		// if crossing it would overshoot.
		for n > 0 && encodedLen(append(fields, field{key, randomText(rng, n)})) > target {
			n--
		}
		fields = append(fields, field{key, randomText(rng, n)})
	}
}

func randomText(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func encodedLen(fields []field) int {
	v := mustValues(fields)
	return len(v.AppendEncoded(nil))
}

func mustValues(fields []field) cookiesession.Values {
	var v cookiesession.Values
	for _, f := range fields {
		if err := v.Set(f.key, f.value); err != nil {
			panic(err)
		}
	}
	return v
}

// stringMap is the fixture as gorilla/securecookie users commonly store it.
func (f fixture) stringMap() map[string]any {
	m := make(map[string]any, len(f.fields))
	for _, fl := range f.fields {
		m[fl.key] = fl.value
	}
	return m
}

// sessionValues is the fixture as gorilla/sessions stores it.
func (f fixture) sessionValues() map[any]any {
	m := make(map[any]any, len(f.fields))
	for _, fl := range f.fields {
		m[fl.key] = fl.value
	}
	return m
}

func (f fixture) values() cookiesession.Values { return mustValues(f.fields) }

// valuesLen is the size of the serialized values: the payload every
// package carries, used for b.SetBytes so MB/s compare like with like.
func (f fixture) valuesLen() int { return encodedLen(f.fields) }

// Keys are fixed so that every run seals the same way; they protect nothing.
var (
	hashKey  = fixedBytes(32, 0x11)
	blockKey = fixedBytes(32, 0x22)
)

func fixedBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

func newRing(tb testing.TB) *cookiesession.KeyRing {
	tb.Helper()
	key, err := cookiesession.NewKey(0x1a2b3c4d, fixedBytes(cookiesession.KeySize, 0x33))
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		tb.Fatal(err)
	}
	return ring
}
