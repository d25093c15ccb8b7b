package cookiesession

// The key-ring vectors of testdata/vectors.json: texts of FORMAT.md
// section 6 that parse, with the keys they hold and the key that seals at
// given times, and texts that are refused, with the rule that refuses them.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

type vecRing struct {
	Case        string        `json:"case"`
	Description string        `json:"description"`
	Text        string        `json:"text"`
	Primary     string        `json:"primary,omitempty"`
	Keys        []vecRingKey  `json:"keys,omitempty"`
	Seals       []vecRingSeal `json:"seals,omitempty"`
	Error       string        `json:"error,omitempty"`
	Reason      string        `json:"reason,omitempty"`
}

type vecRingKey struct {
	ID                string `json:"id"`
	Secret            string `json:"secret"`                         // hex
	PromoteAtUnixNano string `json:"promote_at_unix_nano,omitempty"` // decimal
	Fingerprint       string `json:"fingerprint"`                    // FORMAT.md section 6
}

// vecRingSeal says which key seals at now (Unix seconds) plus nsec.
type vecRingSeal struct {
	Now   int64  `json:"now"`
	Nsec  int64  `json:"now_nsec"`
	KeyID string `json:"key_id"`
}

type vecRingCase struct {
	name, desc string
	text       string
	primary    string        // valid: the member primary
	keys       []vecRingK    // valid: the keys it holds, in order
	seals      []vecRingSeal // valid: which key seals when
	class      string        // must fail: the rule of section 6 that refuses the text
	reason     string
}

// The secrets of the ring cases, in the base64 the text holds.
var (
	vecRingS1 = base64.StdEncoding.EncodeToString(vecKey1.secret)
	vecRingS2 = base64.StdEncoding.EncodeToString(vecKey2.secret)
	// vecRingZero is 32 zero bytes: a placeholder, or a buffer never filled.
	vecRingZero = base64.StdEncoding.EncodeToString(make([]byte, KeySize))
)

// vecRingText is a ring's text with primary and the given key objects.
func vecRingText(primary string, keys ...string) string {
	return `{"version":1,"primary":"` + primary + `","keys":[` + strings.Join(keys, ",") + `]}`
}

func vecRingKeyText(id, secret, promoteAt string) string {
	if promoteAt != "" {
		promoteAt = `,"promote_at":"` + promoteAt + `"`
	}
	return `{"id":"` + id + `","secret":"` + secret + `"` + promoteAt + `}`
}

// vecRingK is a key of a valid ring case: its object in the text, and
// what a parser must make of it (promote, the instant, in Unix nanoseconds).
type vecRingK struct {
	id      string
	secret  []byte
	text    string // promote_at as the text writes it
	promote int64
}

func (k vecRingK) object() string {
	return vecRingKeyText(k.id, base64.StdEncoding.EncodeToString(k.secret), k.text)
}

func vecRingCases() []vecRingCase {
	k1 := vecRingKeyText("1a2b3c4d", vecRingS1, "")
	one := vecRingText("1a2b3c4d", k1)
	at := func(sec, nsec int64, id string) vecRingSeal { return vecRingSeal{sec, nsec, id} }
	bad := func(name, desc, text, class, reason string) vecRingCase {
		return vecRingCase{name: name, desc: desc, text: text, class: class, reason: reason}
	}
	key1 := vecRingK{id: "1a2b3c4d", secret: vecKey1.secret}
	key2 := func(text string, promote time.Time) vecRingK {
		return vecRingK{"5e6f7a8b", vecKey2.secret, text, promote.UnixNano()}
	}
	key3 := func(text string, promote time.Time) vecRingK {
		return vecRingK{"6a6b6c6d", vecBytes("key/ring3", KeySize), text, promote.UnixNano()}
	}
	// valid is a case whose text holds keys, with the primary 1a2b3c4d;
	// text, if given, is that ring written another way.
	valid := func(name, desc string, seals []vecRingSeal, text string, keys ...vecRingK) vecRingCase {
		if text == "" {
			objects := make([]string, len(keys))
			for i, k := range keys {
				objects[i] = k.object()
			}
			text = vecRingText("1a2b3c4d", objects...)
		}
		return vecRingCase{name: name, desc: desc, text: text, primary: "1a2b3c4d", keys: keys, seals: seals}
	}
	jan1 := time.Unix(vecNow, 0)
	return []vecRingCase{
		valid("one_key", "one key, the form of FORMAT.md section 6", []vecRingSeal{at(vecNow, 0, "1a2b3c4d")},
			"", key1),
		valid("open_only", "two keys, the primary listed second: it seals, the other only opens", []vecRingSeal{at(vecNow, 0, "1a2b3c4d")},
			"", key2("", time.Time{}), key1),
		valid("members_any_order", "members in another order, and a name written with a JSON escape", []vecRingSeal{at(vecNow, 0, "1a2b3c4d")},
			`{"keys":[{"secret":"`+vecRingS1+`","\u0069d":"1a2b3c4d"}],"primary":"1a2b3c4d","version":1}`, key1),
		valid("whitespace_crlf", "JSON whitespace (space, tab, CR, LF) around the object and between its tokens", []vecRingSeal{at(vecNow, 0, "1a2b3c4d")},
			" \r\n{\r\n\t\"version\" : 1 ,\r\n\t\"primary\":\"1a2b3c4d\",\r\n\t\"keys\":[ "+k1+" ]\r\n}\r\n\t ", key1),
		valid("promote_scheduled", "a key that becomes the primary at 2026-01-01T00:00:00Z, not a millisecond before",
			[]vecRingSeal{at(vecNow-1, 999_000_000, "1a2b3c4d"), at(vecNow, 0, "5e6f7a8b")},
			"", key1, key2("2026-01-01T00:00:00Z", jan1)),
		valid("promote_fraction_offset", "promote_at with a fraction and an offset: 2026-01-01T01:00:00.5+01:00 is half a second after 2026-01-01T00:00:00Z",
			[]vecRingSeal{at(vecNow, 0, "1a2b3c4d"), at(vecNow, 499_000_000, "1a2b3c4d"), at(vecNow, 500_000_000, "5e6f7a8b")},
			"", key1, key2("2026-01-01T01:00:00.5+01:00", jan1.Add(500*time.Millisecond))),
		valid("promote_latest_passed", "two times passed: the later one's key seals, whatever the order of keys",
			[]vecRingSeal{at(vecNow-vecDay-1, 0, "1a2b3c4d"), at(vecNow-vecDay, 0, "5e6f7a8b"), at(vecNow, 0, "6a6b6c6d")},
			"", key3("2025-12-31T12:00:00Z", jan1.Add(-12*time.Hour)), key1, key2("2025-12-31T00:00:00Z", jan1.Add(-24*time.Hour))),
		valid("promote_same_instant", "two keys due at one instant, written differently: the one listed last seals",
			[]vecRingSeal{at(vecNow-1, 0, "1a2b3c4d"), at(vecNow, 0, "5e6f7a8b")},
			"", key1, key3("2026-01-01T01:00:00+01:00", jan1), key2("2026-01-01T00:00:00Z", jan1)),

		bad("empty", "only whitespace", " \r\n", "json", "the text is empty"),
		bad("bom", "a UTF-8 byte-order mark before the object", "\ufeff"+one, "json", "byte-order mark"),
		bad("trailing_data", "a second value after the object", one+" {}", "json", "data after the JSON object: a second object follows the ring"),
		bad("trailing_comment", "a comment after the object", one+"\n# rotated in May\n", "json", "data after the JSON object: remove what follows the ring's closing brace"),
		bad("merge_conflict", "a merge conflict's markers around two rings", "<<<<<<< HEAD\n"+one+"\n=======\n"+one+"\n>>>>>>> rotate\n", "json", "merge conflict's markers"),
		bad("utf16_no_bom", "the text in UTF-16 (little-endian) without a byte-order mark", vecUTF16LE(one), "json", "the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8"),
		bad("utf16be_no_bom", "the text in UTF-16 (big-endian) without a byte-order mark", "\x00"+strings.Join(strings.Split(one, ""), "\x00"), "json", "the text is UTF-16 without a byte-order mark"),
		bad("leading_comment", "a comment before the object", "// rotated in May\n"+one, "json", "the text starts with a comment (// or #), which the ring's JSON text form does not allow"),
		bad("yaml", "the ring written as YAML", "version: 1\nprimary: \"1a2b3c4d\"\nkeys:\n  - id: \"1a2b3c4d\"\n    secret: \""+vecRingS1+"\"\n", "json", "the text is YAML (lines of name: value), not the ring's JSON text form"),
		bad("kubernetes_manifest", "a Kubernetes Secret's manifest, the ring in its stringData", "apiVersion: v1\nkind: Secret\nstringData:\n  ring.json: |\n    "+one+"\n", "json", "the text is a Kubernetes manifest (YAML), not the ring: "),
		bad("single_secret", "one key's secret alone, as other libraries take a key", vecRingS1+"\n", "json", "holds a single secret (32 bytes in base64), not a key ring: a ring is the JSON text cookiesession keygen writes"),
		bad("single_secret_hex", "one key's secret alone, in hex", hex.EncodeToString(vecKey1.secret), "json", "holds a single secret (32 bytes in hex), not a key ring"),
		bad("ring_in_base64_member", "a Kubernetes Secret read through its API (kubectl get secret -o json): the ring in base64 as a member's value",
			`{"apiVersion":"v1","data":{"ring.json":"`+base64.StdEncoding.EncodeToString([]byte(one))+`"},"kind":"Secret","metadata":{"name":"ring"},"type":"Opaque"}`,
			"json", `holds the key ring in base64 as the value of .data["ring.json"] in a JSON document (a Kubernetes Secret read through its API, kubectl get secret -o json, whose data is in base64): `),
		bad("not_json", "the object cut short", one[:len(one)-1], "json", "parsing key ring"),
		bad("unknown_member", "a member the format does not have", strings.Replace(one, `"version":1`, `"version":1,"comment":"x"`, 1), "json", "unknown member"),
		bad("member_case", "names are case-sensitive", strings.Replace(one, `"version"`, `"Version"`, 1), "json", `the name is "version"`),
		bad("member_twice", "a member given twice", strings.Replace(one, `"version":1`, `"version":1,"version":1`, 1), "json", "twice"),
		bad("missing_primary", "no primary", `{"version":1,"keys":[`+k1+`]}`, "json", `no member "primary"`),
		bad("key_unknown_member", "a key with a member the format does not have", vecRingText("1a2b3c4d", strings.Replace(k1, `}`, `,"note":"x"}`, 1)), "json", "unknown member"),
		bad("version_float", "version written 1.0", strings.Replace(one, `"version":1`, `"version":1.0`, 1), "version", "version is not 1"),
		bad("version_string", `version written "1"`, strings.Replace(one, `"version":1`, `"version":"1"`, 1), "version", "version is not 1"),
		bad("version_2", "version 2", strings.Replace(one, `"version":1`, `"version":2`, 1), "version", "version is not 1"),
		bad("id_upper", "an id in upper case", vecRingText("1A2B3C4D", vecRingKeyText("1A2B3C4D", vecRingS1, "")), "id", "lower-case hex"),
		bad("id_short", "an id of 7 digits", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8", vecRingS2, "")), "id", "lower-case hex"),
		bad("id_zero", "the reserved id 00000000", vecRingText("1a2b3c4d", k1, vecRingKeyText("00000000", vecRingS2, "")), "id", "reserved"),
		bad("no_keys", "an empty keys array", vecRingText("1a2b3c4d"), "keys", "no keys"),
		bad("keys_not_array", "keys is an object", `{"version":1,"primary":"1a2b3c4d","keys":`+k1+`}`, "keys", "keys is not an array"),
		bad("too_many_keys", "257 keys", vecRingText("1a2b3c4d", vecManyKeys(257)...), "keys", "more than 256 keys"),
		bad("duplicate_id", "two keys with one id", vecRingText("1a2b3c4d", k1, vecRingKeyText("1a2b3c4d", vecRingS2, "")), "keys", "duplicate key id 1a2b3c4d"),
		bad("secret_short", "a secret of 31 bytes", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", base64.StdEncoding.EncodeToString(vecKey1.secret[:31]), "")), "secret", "it decodes to 31 bytes, and a key is 32 bytes"),
		bad("secret_long", "a secret of 33 bytes", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", base64.StdEncoding.EncodeToString(append(vecKey1.secret[:32:32], 0)), "")), "secret", "it decodes to 33 bytes, and a key is 32 bytes"),
		bad("secret_bad_char", "a secret with a character outside base64", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", "*"+vecRingS1[1:], "")), "secret", "it holds a character outside standard base64"),
		bad("secret_url_safe", "a secret in the URL-safe alphabet", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingS2URL(), "")), "secret", "it is in base64's URL-safe alphabet (- and _): write + for each - and / for each _"),
		bad("secret_unpadded", "a secret without its =", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", strings.TrimSuffix(vecRingS1, "="), "")), "secret", "it lacks the = that ends it"),
		bad("secret_crlf", `a secret with \r\n inside`, vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingS1[:20]+`\r\n`+vecRingS1[20:], "")), "secret", "it holds a space, tab or line break (pasted with one): remove it"),
		bad("secret_unused_bits", "a secret whose last character before = has its unused bits set", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingS1[:42]+"9=", "")), "secret", "its last character before the = has bits set that base64 never writes"),
		bad("secret_hex", "a secret in hex, as openssl rand -hex 32 writes it", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", hex.EncodeToString(vecKey1.secret), "")), "secret", "it is 64 hex digits, the 32 bytes in hex"),
		bad("secret_trailing_space", "a secret pasted with a space after it", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingS1+" ", "")), "secret", "it holds a space, tab or line break (pasted with one): remove it"),
		bad("secret_base64_twice", "a secret's base64 text in base64 again", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", base64.StdEncoding.EncodeToString([]byte(vecRingS1)), "")), "secret", "it is encoded twice (base64 of the secret's text)"),
		bad("secret_empty", `secret ""`, vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", "", "")), "secret", "(44 characters, nothing else): it is empty"),
		bad("secret_zero", "a secret of 32 zero bytes, which anyone can seal under", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingZero, "")), "secret", "secret is all zero bytes"),
		bad("secret_zero_open_only", "an open-only key whose secret is 32 zero bytes", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingZero, "")), "secret", "secret is all zero bytes"),
		bad("id_space", "an id with a space after it", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b ", vecRingS2, "")), "id", "it has a space or a line end around it"),
		bad("id_0x", "an id written with 0x", vecRingText("0x1a2b3c4d", k1), "id", "it starts with 0x: write the 8 hex digits alone (primary)"),
		bad("id_quoted", "an id inside quotes that are part of it", vecRingText("1a2b3c4d", k1, vecRingKeyText("'5e6f7a8b'", vecRingS2, "")), "id", "it is inside quotes that are part of it"),
		bad("id_fingerprint", "a key's fingerprint given for its id", vecRingText("1a2b3c4d", k1, vecRingKeyText(vecFingerprint(vecKey2.secret), vecRingS2, "")), "id", "it has 12 hex digits, as a key's fingerprint does"),
		bad("primary_missing_key", "a primary that is not among the keys", vecRingText("5e6f7a8b", k1), "primary", "is not in the ring"),
		bad("primary_promote_at", "a primary with a promote_at", vecRingText("1a2b3c4d", vecRingKeyText("1a2b3c4d", vecRingS1, "2026-01-01T00:00:00Z")), "primary", "cannot have a promotion time"),
		bad("promote_at_empty", `promote_at ""`, vecRingText("1a2b3c4d", k1, `{"id":"5e6f7a8b","secret":"`+vecRingS2+`","promote_at":""}`), "promote_at", "promote_at is empty"),
		bad("promote_at_lower_t", "promote_at with a lower-case t", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "2026-01-01t00:00:00Z")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_no_zone", "promote_at without Z or offset", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "2026-01-01T00:00:00")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_leap_second", "promote_at at :60", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "2026-12-31T23:59:60Z")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_ten_digits", "a fraction of 10 digits", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "2026-01-01T00:00:00.0000000001Z")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_offset_24", "an offset of +24:00", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "2026-01-01T00:00:00+24:00")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_before_1970", "an instant before 1970 in UTC", vecRingText("1a2b3c4d", k1, vecRingKeyText("5e6f7a8b", vecRingS2, "1970-01-01T00:30:00+01:00")), "promote_at", "promote_at is not an RFC 3339 time"),
		bad("promote_at_null", "promote_at null", vecRingText("1a2b3c4d", k1, `{"id":"5e6f7a8b","secret":"`+vecRingS2+`","promote_at":null}`), "promote_at", "promote_at is not a string"),
	}
}

// vecUTF16LE is s, ASCII, in UTF-16 little-endian without a byte-order mark.
func vecUTF16LE(s string) string {
	return strings.Join(strings.Split(s, ""), "\x00") + "\x00"
}

func vecRingS2URL() string { return base64.URLEncoding.EncodeToString(vecRingSecretURL()) }

// vecRingSecretURL is a secret whose standard base64 holds both + and /.
func vecRingSecretURL() []byte {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = 0xfb
	}
	return b
}

// vecManyKeys is n key objects with the ids 1 to n.
func vecManyKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = vecRingKeyText(FormatKeyID(uint32(i+1)), vecRingS1, "")
	}
	keys[0] = vecRingKeyText("1a2b3c4d", vecRingS1, "")
	return keys
}

func vecGenRing() []vecRing {
	var out []vecRing
	for _, c := range vecRingCases() {
		v := vecRing{Case: c.name, Description: c.desc, Text: c.text, Seals: c.seals, Error: c.class, Reason: c.reason}
		if c.class == "" {
			v.Primary = c.primary
		}
		for _, k := range c.keys {
			rk := vecRingKey{ID: k.id, Secret: hex.EncodeToString(k.secret), Fingerprint: vecFingerprint(k.secret)}
			if k.text != "" {
				rk.PromoteAtUnixNano = strconv.FormatInt(k.promote, 10)
			}
			v.Keys = append(v.Keys, rk)
		}
		out = append(out, v)
	}
	return out
}

// vecRingClass names the rule of FORMAT.md section 6 that a Go message
// (or the JS port's: js/test/vectors.test.js has the same function)
// refuses a text by. A text that holds a ring wrapped, or a single secret
// rather than a ring, is not one object of the members named there: json,
// though its fix may speak of a secret.
func vecRingClass(msg string) string {
	switch {
	case strings.Contains(msg, "holds the key ring"), strings.Contains(msg, "not a key ring"), strings.Contains(msg, "member"):
		return "json"
	case strings.Contains(msg, "promote_at"):
		return "promote_at"
	case strings.Contains(msg, "secret"):
		return "secret"
	case strings.Contains(msg, "version"):
		return "version"
	case strings.Contains(msg, "duplicate key id"), strings.Contains(msg, "keys is not"), strings.Contains(msg, " keys"):
		return "keys"
	case strings.Contains(msg, "key id"):
		return "id"
	case strings.Contains(msg, "primary"):
		return "primary"
	}
	return "json"
}

// vecCheckRing parses a ring vector's text and checks the keys and which
// one seals when, or the refusal.
func vecCheckRing(t *testing.T, v vecRing) {
	r, err := ParseKeyRing([]byte(v.Text))
	if v.Error != "" {
		if err == nil || !strings.Contains(err.Error(), v.Reason) || vecRingClass(err.Error()) != v.Error {
			t.Errorf("ParseKeyRing: %v; want class %s, reason %q", err, v.Error, v.Reason)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseKeyRing: %v", err)
	}
	if got := FormatKeyID(r.load().primary); got != v.Primary {
		t.Errorf("primary %s, want %s", got, v.Primary)
	}
	infos := r.keysAt(time.Unix(0, 0))
	if len(infos) != len(v.Keys) {
		t.Fatalf("%d keys, want %d", len(infos), len(v.Keys))
	}
	c, err := NewCodec(r, CodecOptions{Name: vecCookie})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range v.Keys {
		want := vecParseKey(t, k.Secret, k.ID)
		if infos[i].ID != want.id {
			t.Errorf("keys[%d] is %s, want %s", i, FormatKeyID(infos[i].ID), k.ID)
		}
		if got := vecUnixNano(infos[i].PromoteAt); got != k.PromoteAtUnixNano {
			t.Errorf("keys[%d].promote_at %q, want %q", i, got, k.PromoteAtUnixNano)
		}
		if infos[i].Fingerprint != k.Fingerprint {
			t.Errorf("keys[%d].fingerprint %q, want %q", i, infos[i].Fingerprint, k.Fingerprint)
		}
		// The ring opens a token sealed with the expected secret.
		token, err := want.codec(t, vecCookie, vecDay, 0).SealAt(&Record{}, time.Unix(vecNow, 0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.OpenAt(token, time.Unix(vecNow, 0)); err != nil {
			t.Errorf("keys[%d]: the ring does not open a token sealed with its secret: %v", i, err)
		}
	}
	for _, s := range v.Seals {
		if got := FormatKeyID(r.primaryAt(time.Unix(s.Now, s.Nsec))); got != s.KeyID {
			t.Errorf("at %d.%09d key %s seals, want %s", s.Now, s.Nsec, got, s.KeyID)
		}
	}
}

// vecFingerprint is a key's fingerprint as FORMAT.md section 6 defines
// it, written out here apart from the package's.
func vecFingerprint(secret []byte) string {
	sum := sha256.Sum256(append([]byte("cookiesession key fingerprint v1\x00"), secret...))
	return hex.EncodeToString(sum[:6])
}

func vecUnixNano(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}
