package cookiesession_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// vectorStrings returns every string stored under field anywhere in
// testdata/vectors.json, in a stable order, or nothing when the file does
// not exist. The file's layout is not assumed, so the fuzz targets keep
// working as it evolves.
func vectorStrings(tb testing.TB, field string) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		tb.Fatalf("testdata/vectors.json: %v", err)
	}
	var out []string
	collectStrings(doc, field, &out)
	slices.Sort(out)
	return slices.Compact(out)
}

func collectStrings(node any, field string, out *[]string) {
	switch node := node.(type) {
	case map[string]any:
		for name, child := range node {
			if s, ok := child.(string); ok && name == field {
				*out = append(*out, s)
				continue
			}
			collectStrings(child, field, out)
		}
	case []any:
		for _, child := range node {
			collectStrings(child, field, out)
		}
	}
}

// vectorValueEncodings returns the values section of every plaintext in
// the vectors: the plaintext minus its 32-byte header.
func vectorValueEncodings(tb testing.TB) [][]byte {
	var out [][]byte
	for _, plain := range vectorStrings(tb, "plaintext") {
		if b, err := hex.DecodeString(plain); err == nil && len(b) > 32 {
			out = append(out, b[32:])
		}
	}
	return out
}

// fuzzKeyID is the vectors' key id, so that vector tokens get past the key
// id check and reach authentication.
const fuzzKeyID = 0x1a2b3c4d

// FuzzOpen feeds arbitrary tokens to Open. Nothing may panic, every
// failure is a *TokenError, and a token opens only if this process sealed
// it: the secret comes from crypto/rand, so the fuzzer cannot know it.
func FuzzOpen(f *testing.F) {
	ring, secret := randomRing(f, fuzzKeyID)
	c := newTestCodec(f, ring, cookiesession.CodecOptions{})
	forms := secretForms(secret)
	genuine := sealFuzzSeeds(f, c)
	for token := range genuine {
		addTokenSeeds(f, token)
	}
	for _, token := range vectorStrings(f, "token") {
		f.Add(token)
	}
	for _, s := range []string{"", "A", strings.Repeat("A", cookiesession.MinTokenLen), strings.Repeat("_", 4096)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		rec, err := c.OpenAt(token, fixedNow)
		if err != nil {
			checkOpenError(t, err, forms)
			return
		}
		want, ok := genuine[token]
		if !ok {
			t.Fatalf("opened a token this process never sealed: %q", token)
		}
		if rec.ID != want.ID || !rec.Created.Equal(want.Created) || !rec.Expires.Equal(want.Expires) ||
			!bytes.Equal(rec.Values.AppendEncoded(nil), want.Values.AppendEncoded(nil)) {
			t.Fatalf("token opened to %+v, sealed %+v", rec, want)
		}
	})
}

// sealFuzzSeeds seals a few sessions, every kind included, and returns the
// tokens with what they carry.
func sealFuzzSeeds(f *testing.F, c *cookiesession.Codec) map[string]cookiesession.Record {
	var every cookiesession.Values
	for _, row := range roundTripRows() {
		setValue(f, &every, row.name, row.val)
	}
	genuine := map[string]cookiesession.Record{}
	for _, v := range []cookiesession.Values{
		{},
		valuesOf(f, "user_id", "u_8f3a2c", "role", "admin", "csrf", strings.Repeat("c", 32)),
		every,
	} {
		rec := cookiesession.Record{Values: v}
		token := sealAt(f, c, &rec, fixedNow)
		genuine[token] = rec
	}
	return genuine
}

// addTokenSeeds adds a genuine token and near misses of it.
func addTokenSeeds(f *testing.F, token string) {
	f.Add(token)
	f.Add(token[:len(token)-1])
	f.Add(token + "A")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		f.Fatal(err)
	}
	for _, i := range []int{0, 1, 5, 29, len(raw) - 1} {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 0x01
		f.Add(base64.RawURLEncoding.EncodeToString(flipped))
	}
}

func checkOpenError(t *testing.T, err error, secretForms []string) {
	var te *cookiesession.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("Open error %v (%T) is not a *TokenError", err, err)
	}
	if !errors.Is(err, cookiesession.ErrInvalid) && !errors.Is(err, cookiesession.ErrExpired) {
		t.Fatalf("Open error %v matches neither ErrInvalid nor ErrExpired", err)
	}
	for _, form := range secretForms {
		if strings.Contains(err.Error(), form) {
			t.Fatalf("Open error contains the secret: %v", err)
		}
	}
}

// FuzzDecodeValues feeds arbitrary bytes to DecodeValues. Nothing may
// panic; whatever decodes must be canonical (re-encoding gives the input
// back exactly) and must survive Get followed by Set unchanged.
func FuzzDecodeValues(f *testing.F) {
	var every cookiesession.Values
	for _, row := range roundTripRows() {
		v := valuesOf(f, "k", row.val)
		f.Add(v.AppendEncoded(nil))
		setValue(f, &every, row.name, row.val)
	}
	f.Add(every.AppendEncoded(nil))
	for _, in := range hostileValueEncodings() {
		f.Add(in)
	}
	for _, in := range vectorValueEncodings(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := cookiesession.DecodeValues(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cookiesession: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if out := v.AppendEncoded(nil); !bytes.Equal(out, in) {
			t.Fatalf("not canonical: decoded %x, re-encoded %x", in, out)
		}
		var rebuilt cookiesession.Values
		for _, key := range v.Keys() {
			val, _ := v.Get(key)
			if err := rebuilt.Set(key, val); err != nil {
				t.Fatalf("Set(%q, Get(%q)): %v", key, key, err)
			}
		}
		if out := rebuilt.AppendEncoded(nil); !bytes.Equal(out, in) {
			t.Fatalf("Get then Set changed the encoding: %x, was %x", out, in)
		}
		// A change undone, again and again, must give the same bytes back.
		const probe = "\xff\xff\xff probe"
		if _, had := v.Get(probe); !had {
			changed := v.Clone()
			for round := range 8 {
				if err := changed.Set(probe, true); err != nil || !changed.Delete(probe) {
					t.Fatalf("round %d: Set/Delete of a probe key failed: %v", round, err)
				}
				if out := changed.AppendEncoded(nil); !bytes.Equal(out, in) || changed.Len() != v.Len() {
					t.Fatalf("round %d: a change undone changed the encoding: %x, was %x", round, out, in)
				}
			}
		}
	})
}

// FuzzParseKeyRing feeds arbitrary text to ParseKeyRing, and as a ring
// file's text and (without a NUL) as COOKIESESSION_KEYS to the loaders'
// parsers. Nothing may panic; every error carries the prefix once, is of
// bounded length and holds no secret the text holds (ringSecretsIn: in
// base64 or hex, bare or inside a base64 wrapping) in any form; a ring
// ParseKeyRing accepts must marshal, and parsing that gives back the same
// text.
func FuzzParseKeyRing(f *testing.F) {
	three := ringOf(f, 0x1a2b3c4d, 0x5e6f7a8b)
	if err := three.AddScheduled(keyForID(f, 0x00c0ffee), farFuture); err != nil {
		f.Fatal(err)
	}
	for _, ring := range []*cookiesession.KeyRing{ringOf(f, 0x1a2b3c4d), three} {
		data, err := ring.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, doc := range hostileRingDocs() {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		secrets := ringSecretsIn(data)
		if !bytes.Contains(data, []byte{0}) {
			t.Setenv(cookiesession.EnvKeys, string(data))
			if _, err := cookiesession.LoadKeyRingEnv(); err != nil {
				checkRingError(t, "LoadKeyRingEnv", err, data, secrets)
			}
		}
		if err := cookiesession.ParseRingFileText(data, "/run/secrets/ring.json"); err != nil {
			checkRingError(t, "LoadKeyRingFile", err, data, secrets)
		}
		ring, err := cookiesession.ParseKeyRing(data)
		if err != nil {
			checkRingError(t, "ParseKeyRing", err, data, secrets)
			return
		}
		out, err := ring.MarshalJSON()
		if err != nil {
			t.Fatalf("ParseKeyRing accepted %q but MarshalJSON fails: %v", data, err)
		}
		again, err := cookiesession.ParseKeyRing(out)
		if err != nil {
			t.Fatalf("ParseKeyRing(MarshalJSON()) = %v for %s", err, out)
		}
		if out2, _ := again.MarshalJSON(); !bytes.Equal(out, out2) {
			t.Fatalf("marshal round trip differs:\n%s\n%s", out, out2)
		}
	})
}

// maxRingError bounds the length of a ring loader's error: its messages
// are fixed text, ids, counts, a file's path and the jq path of a member
// (whose names logText cuts), never the text.
const maxRingError = 2048

// checkRingError fails if err, from parsing data, lacks the prefix or
// repeats it, is longer than maxRingError or holds one of secrets in any
// form.
func checkRingError(t *testing.T, what string, err error, data []byte, secrets [][]byte) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "cookiesession: ") || strings.Count(msg, "cookiesession:") != 1 {
		t.Fatalf("%s error %q lacks the prefix or repeats it", what, msg)
	}
	if len(msg) > maxRingError {
		t.Fatalf("%s error is %d bytes long (%.200q...) for %d bytes of text", what, len(msg), msg, len(data))
	}
	for _, secret := range secrets {
		for _, form := range secretForms(secret) {
			if strings.Contains(msg, form) {
				t.Fatalf("%s error holds the secret %x (as %q): %s", what, secret, form, msg)
			}
		}
	}
}

// ringSecretsIn returns every 32-byte secret data holds in the forms an
// operator writes one: a run of base64 characters, of any alphabet,
// padded or not, or of 64 hex digits, that decodes to 32 bytes; also in
// the text data decodes to when it is base64 as a whole, once or twice (a
// ring stored encoded, which the loaders unwrap to name the wrapping). It
// is linear in data's length, for the fuzzer's speed.
func ringSecretsIn(data []byte) [][]byte {
	var out [][]byte
	text := string(data)
	for range 3 {
		out = appendSecrets(out, text)
		joined := strings.Join(strings.Fields(text), "")
		decoded := ""
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(joined); err == nil {
				decoded = string(b)
				break
			}
		}
		if decoded == "" {
			break
		}
		text = decoded
	}
	return out
}

// appendSecrets appends to out the secrets the maximal runs of base64 or
// hex characters in text decode to.
func appendSecrets(out [][]byte, text string) [][]byte {
	isB64 := func(c byte) bool {
		return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("+/-_=", c) >= 0
	}
	for i := 0; i < len(text); {
		if !isB64(text[i]) {
			i++
			continue
		}
		end := i
		for end < len(text) && isB64(text[end]) {
			end++
		}
		run := text[i:end]
		i = end
		if len(run) == 64 {
			if b, err := hex.DecodeString(run); err == nil {
				out = append(out, b)
			}
		}
		if len(run) < 43 || len(run) > 44 {
			continue
		}
		// Base64 of letters of one case is not a random secret's, but one
		// time in 10^9: the loaders echo a member name so written
		// (COOKIESESSION_KEYS_PRODUCTION_2024 decodes to 32 bytes).
		if run == strings.ToLower(run) || run == strings.ToUpper(run) {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(run); err == nil && len(b) == 32 {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// FuzzSealOpen seals fuzzed keys and values of several kinds and checks
// that opening the token gives back every value with its exact type.
func FuzzSealOpen(f *testing.F) {
	c := newTestCodec(f, ringOf(f, 0x1a2b3c4d), cookiesession.CodecOptions{MaxTokenLen: 1 << 16})
	f.Add("user_id", "u_8f3a2c", "n", int64(42), "u", uint64(7), "b", []byte("raw"), "f", 1.5)
	f.Add("", "", "", int64(0), "", uint64(0), "", []byte(nil), "", 0.0)
	f.Add("k", "\xff\xfe", "k", int64(math.MinInt64), "é", uint64(math.MaxUint64), "\x00", []byte{0}, "z", math.NaN())
	f.Add("a", strings.Repeat("x", 5000), "b", int64(-1), "c", uint64(1<<63), "d", bytes.Repeat([]byte{0xff}, 300), "e", math.Inf(-1))
	f.Fuzz(func(t *testing.T, k1, s, k2 string, i int64, k3 string, u uint64, k4 string, b []byte, k5 string, fl float64) {
		var v cookiesession.Values
		want := map[string]any{}
		set := func(key string, val any) {
			if err := v.Set(key, val); err != nil {
				t.Fatalf("Set(%q, %T): %v", key, val, err)
			}
			want[key] = val
		}
		// Set may refuse a time it cannot carry (an absurd zone offset);
		// what it accepts must open.
		setTime := func(key string, val time.Time) {
			if v.Set(key, val) == nil {
				want[key] = val
			}
		}
		set(k1, s)
		set(k2, i)
		set(k3, u)
		set(k4, append([]byte{}, b...)) // nil and empty both open as empty
		set(k5, fl)
		set(k1+"/int", int(i))
		set(k2+"/int8", int8(i))
		set(k3+"/uint16", uint16(u))
		set(k4+"/float32", float32(fl))
		set(k5+"/duration", time.Duration(i))
		set(k1+"/strings", []string{s, string(b)})
		set(k2+"/map", map[string]string{s: string(b), k1: s})
		setTime(k3+"/time", time.Unix(i, int64(u%1e9)).In(time.FixedZone("", int(int32(u>>32)))))
		setTime(k4+"/time", time.Unix(i>>20, 0).In(time.FixedZone("", int(int32(u)%(15*3600)))))
		checkSealOpen(t, c, &v, want)
	})
}

func checkSealOpen(t *testing.T, c *cookiesession.Codec, v *cookiesession.Values, want map[string]any) {
	rec := cookiesession.Record{Values: *v}
	wantLen := c.TokenLen(&rec)
	token, err := c.SealAt(&rec, fixedNow)
	if errors.Is(err, cookiesession.ErrTooLarge) && wantLen > 1<<16 {
		return
	}
	if err != nil {
		t.Fatalf("SealAt: %v (TokenLen %d)", err, wantLen)
	}
	if len(token) != wantLen {
		t.Fatalf("token is %d long, TokenLen said %d", len(token), wantLen)
	}
	opened, err := c.OpenAt(token, fixedNow)
	if err != nil {
		t.Fatalf("OpenAt of a fresh token: %v", err)
	}
	if opened.Values.Len() != len(want) {
		t.Fatalf("opened %d values, sealed %d", opened.Values.Len(), len(want))
	}
	for key, w := range want {
		got, ok := opened.Values.Get(key)
		if !ok {
			t.Fatalf("key %q missing after open", key)
		}
		if diff := sameValue(got, w); diff != "" {
			t.Fatalf("key %q: got %#v: %s", key, got, diff)
		}
	}
}

// FuzzValuesEdits applies one sequence of Sets and Deletes to a Values,
// which splices its encoding, and to a map. After every step the Values
// must agree with the map on Len, Keys and every value, and its encoding
// must pass the strict decoder (keys in order, no duplicates, nothing
// trailing) and decode to the same bytes.
func FuzzValuesEdits(f *testing.F) {
	f.Add([]byte{0, 1, 2}, []byte{0x01, 0x12, 0x83, 0x04, 0x25, 0x96, 0x07})
	f.Add([]byte{3, 4}, []byte{0x80, 0x81, 0x82, 0x83, 0x84})
	f.Add([]byte{9}, []byte{0x49, 0x89, 0x49})
	f.Fuzz(func(t *testing.T, start, ops []byte) {
		var v cookiesession.Values
		model := map[string]any{}
		set := func(key string, val any) {
			if err := v.Set(key, val); err != nil {
				t.Fatal(err)
			}
			model[key] = val
		}
		for _, k := range start {
			set(editKey(k), editValue(k, 0))
		}
		for step, op := range ops[:min(len(ops), 64)] {
			key := editKey(op)
			if op&0x80 != 0 {
				_, had := model[key]
				if deleted := v.Delete(key); deleted != had {
					t.Fatalf("step %d: Delete(%q) = %v, want %v", step, key, deleted, had)
				}
				delete(model, key)
			} else {
				set(key, editValue(op, step))
			}
			keys := slices.Sorted(maps.Keys(model))
			if !slices.Equal(v.Keys(), keys) || v.Len() != len(keys) {
				t.Fatalf("step %d: keys %q (Len %d), want %q", step, v.Keys(), v.Len(), keys)
			}
			for _, k := range keys {
				if got, _ := v.Get(k); !reflect.DeepEqual(got, model[k]) {
					t.Fatalf("step %d: %q is %#v, want %#v", step, k, got, model[k])
				}
			}
			enc := v.AppendEncoded(nil)
			decoded, err := cookiesession.DecodeValues(enc)
			if err != nil {
				t.Fatalf("step %d: the spliced encoding is not canonical: %v\n%x", step, err, enc)
			}
			if again := decoded.AppendEncoded(nil); !bytes.Equal(again, enc) {
				t.Fatalf("step %d: re-encoding differs:\n%x\n%x", step, enc, again)
			}
		}
	})
}

// editKey picks one of 16 keys; one is long enough that its length takes
// two bytes.
func editKey(b byte) string {
	if b&0x0f == 15 {
		return strings.Repeat("long", 40)
	}
	return string(rune('a' + b&0x0f))
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
		return strings.Repeat("big", 60+n) // past the splice's stack buffer
	case 5:
		return time.Unix(int64(n), 5).UTC()
	case 6:
		return nil
	}
	return []byte{byte(n)}
}
