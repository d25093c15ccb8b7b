// Package benchmarks compares cookiesession with gorilla/securecookie and
// gorilla/sessions on the same sessions. It is a module of its own so that
// importers of cookiesession never pull in gorilla. The comparison with the
// raw AEAD is in the root module's bench_test.go.
package benchmarks

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"

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

// fixtures are a login session, then sessions whose values section
// (FORMAT.md section 4) is 1 KiB and 3 KiB.
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

// paddedFields extends the small fixture with seeded pseudo-random values
// until its values section is exactly target bytes.
func paddedFields(target int) []field {
	rng := rand.New(rand.NewPCG(1, uint64(target)))
	fields := smallFields()
	for i := 0; ; i++ {
		key := "data" + strconv.Itoa(i)
		missing := target - valuesLen(append(fields, field{key, ""}))
		if missing <= 0 {
			return fields
		}
		n := min(missing, 200)
		// A length prefix grows from one byte to two at 128: step back
		// if crossing it would overshoot.
		for n > 0 && valuesLen(append(fields, field{key, randomText(rng, n)})) > target {
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

// valuesLen is the size of the values section cookiesession seals for
// fields, read off a token: FORMAT.md makes the raw token 45 bytes
// (header, nonce, tag) plus the plaintext, which is 32 bytes (created,
// expires, id) plus the values section.
func valuesLen(fields []field) int {
	return base64.RawURLEncoding.DecodedLen(len(sealFields(fields))) - 45 - 32
}

// codec seals every cookiesession token here. Its limit fits the 3KB
// fixture, which needs two cookies in real use; the codec's cost does not
// depend on the limit.
var codec = newCodec()

func newCodec() *cookiesession.Codec {
	c, err := cookiesession.NewCodec(newRing(), cookiesession.CodecOptions{Name: cookieName, MaxTokenLen: 8192})
	if err != nil {
		panic(err)
	}
	return c
}

func sealFields(fields []field) string {
	token, err := codec.Seal(&cookiesession.Record{Values: mustValues(fields)})
	if err != nil {
		panic(err)
	}
	return token
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

func newRing() *cookiesession.KeyRing {
	key, err := cookiesession.NewKey(0x1a2b3c4d, fixedBytes(cookiesession.KeySize, 0x33))
	if err != nil {
		panic(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		panic(err)
	}
	return ring
}
