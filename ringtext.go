package cookiesession

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed-ff2808ae/cookiesession/internal/secrettext"
)

// The key ring's text form (FORMAT.md section 6): written by MarshalJSON,
// read strictly by ParseKeyRing.

// ringJSON is the text form. It carries secrets: keep it in a secret store
// or a file with mode 0600.
type ringJSON struct {
	Version int       `json:"version"`
	Primary string    `json:"primary"`
	Keys    []keyJSON `json:"keys"`
}

type keyJSON struct {
	ID        string `json:"id"`
	Secret    string `json:"secret"`
	PromoteAt string `json:"promote_at,omitempty"` // RFC 3339
}

// MarshalJSON writes the ring's text form, secrets included:
//
//	{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"<base64>"},
//	 {"id":"5e6f7a8b","secret":"<base64>","promote_at":"2026-12-01T00:00:00Z"}]}
//
// Secrets are standard base64 (RFC 4648 section 4, padded), so a key made
// with `openssl rand -base64 32` can be pasted in.
func (r *KeyRing) MarshalJSON() ([]byte, error) {
	st := r.load()
	out := ringJSON{Version: 1, Primary: FormatKeyID(st.primary), Keys: make([]keyJSON, len(st.keys))}
	for i, k := range st.keys {
		out.Keys[i] = keyJSON{ID: FormatKeyID(k.id), Secret: base64.StdEncoding.EncodeToString(k.mat.secret[:])}
		if !k.promoteAt.IsZero() {
			out.Keys[i].PromoteAt = k.promoteAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return json.Marshal(out)
}

// maxRingKeys bounds a parsed ring; a real one holds two or three keys.
const maxRingKeys = 256

// ParseKeyRing reads the text form written by MarshalJSON, applying exactly
// the rules of FORMAT.md section 6: the members version (the number 1),
// primary and keys, each key's id, secret and optional promote_at, with
// names matched exactly and none repeated or unknown; lower-case hex ids;
// secrets in canonical padded standard base64, not all zero bytes; and a
// primary that is in the ring and has no promote_at. Errors never echo a
// secret.
//
// Data that holds a valid ring wrapped (inside quotes as a JSON string, in
// base64 once or twice, as a member of a JSON document such as a secret
// manager's response, as a whole .env line, or with its quotes or line
// breaks escaped) is refused with an error that names the wrapping and
// what to pass instead (the jq path of the member, the text decoded),
// rather than the parser's complaint about the first byte or member.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	st, err := parseRingState(data)
	if err != nil {
		// The text is never echoed: it may be a mangled secret.
		if wrapping := ringWrapping(string(data), fromText); wrapping != "" {
			return nil, errors.New("cookiesession: parsing key ring: the text holds the key ring " + wrapping)
		}
		if secret := oneSecret(string(data), fromText); secret != "" {
			return nil, errors.New("cookiesession: parsing key ring: the text " + secret)
		}
		if kind := unexpanded(string(data)); kind != "" {
			return nil, errors.New("cookiesession: parsing key ring: the text is a " + kind + " that nothing expanded (a configuration loader or a template that keeps it as written): pass the ring's text itself, expand it first (os.ExpandEnv), or load the ring with LoadKeyRingEnv or LoadKeyRingFile")
		}
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func parseRingState(data []byte) (*ringState, error) {
	doc, err := decodeRing(data)
	if err != nil {
		return nil, err
	}
	primary, err := ParseKeyID(doc.Primary)
	if err != nil {
		return nil, fmt.Errorf("%w (primary)", err)
	}
	keys := make([]ringKey, len(doc.Keys))
	for i, kj := range doc.Keys {
		if keys[i], err = kj.parse(i); err != nil {
			return nil, err
		}
	}
	return newRingState(keys, primary)
}

// ringDecoder reads the text form token by token. encoding/json's Unmarshal
// is laxer than the format: it matches member names in any case, keeps the
// last of duplicate members and reads 1.0 as the version 1.
type ringDecoder struct{ dec *json.Decoder }

// decodeRing checks the JSON structure of the text form; parseRingState
// checks the values.
func decodeRing(data []byte) (ringJSON, error) {
	if len(bytes.Trim(data, " \t\r\n")) == 0 {
		// "the text ends before the ring does" would not say that the whole
		// text is missing.
		return ringJSON{}, errors.New("cookiesession: parsing key ring: the text is empty (a truncated file, a shell redirect onto the file itself, a blank variable); a ring is the JSON object that cookiesession keygen writes")
	}
	if err := byteOrderMark(data); err != nil {
		return ringJSON{}, err
	}
	if hasConflictMarkers(data) {
		return ringJSON{}, errors.New("cookiesession: parsing key ring: the text holds a merge conflict's markers (<<<<<<<, =======, >>>>>>>): resolve the conflict into one ring that holds each key either side held")
	}
	if err := notJSON(data); err != nil {
		return ringJSON{}, err
	}
	d := ringDecoder{json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber() // keep the version's literal text
	var doc ringJSON
	err := d.object("the key ring", []string{"version", "primary", "keys"}, nil, func(name string) (err error) {
		switch name {
		case "version":
			return d.version()
		case "primary":
			doc.Primary, err = d.str("primary")
		default:
			doc.Keys, err = d.keys()
		}
		return err
	})
	if err != nil {
		return ringJSON{}, atPosition(err, data, d.dec.InputOffset())
	}
	if tok, err := d.dec.Token(); err != io.EOF {
		return ringJSON{}, dataAfterRing(tok)
	}
	return doc, nil
}

// dataAfterRing describes what follows the ring's object, tok the token
// read after it (nil if it is not JSON), with the fix.
func dataAfterRing(tok json.Token) error {
	if tok == json.Delim('{') {
		return errors.New("cookiesession: parsing key ring: data after the JSON object: a second object follows the ring (two rings joined, by a merge that kept both sides or by >> for >): a text holds one ring: merge the two into one, keeping each key either held")
	}
	return errors.New("cookiesession: parsing key ring: data after the JSON object: remove what follows the ring's closing brace (the text form has no comments)")
}

// notJSON names what a text that does not start as JSON starts with, when
// it is a comment or YAML, which the parser would call "a letter, digit or
// base64 sign where JSON allows none" at line 1, column 1. No value is
// echoed; a YAML member's name is, when it is a Kubernetes manifest's.
func notJSON(data []byte) error {
	text := strings.TrimLeft(string(data), " \t\r\n")
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimRight(first, " \t\r")
	name, value, isMember := strings.Cut(first, ":")
	// YAML's name: value has a space or the line's end after the colon: a
	// URL, a Windows path or an ARN has none.
	isMember = isMember && (value == "" || value[0] == ' ' || value[0] == '\t')
	switch {
	case strings.HasPrefix(text, "//"), strings.HasPrefix(text, "/*"), strings.HasPrefix(text, "#"):
		return errors.New("cookiesession: parsing key ring: the text starts with a comment (// or #), which the ring's JSON text form does not allow: remove it, so that the text starts with {")
	case !isMember || name == "" || strings.ContainsAny(name, " \t{\"'[") || strings.HasPrefix(text, "{"):
		return nil
	case name == "apiVersion" || name == "kind":
		return errors.New("cookiesession: parsing key ring: the text is a Kubernetes manifest (YAML), not the ring: mount the Secret as a volume and name the ring's file in it, or take the value of its stringData (or its data, decoded from base64)")
	}
	return errors.New("cookiesession: parsing key ring: the text is YAML (lines of name: value), not the ring's JSON text form: write the ring as JSON, as cookiesession keygen does (yq -o json converts it)")
}

// hasConflictMarkers reports whether data has a line that git (or diff3)
// writes around a merge conflict. No line of a ring's text starts so: ids
// are hex, and a secret ends with one "=" at most.
func hasConflictMarkers(data []byte) bool {
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(line, []byte("<<<<<<<")) || bytes.HasPrefix(line, []byte(">>>>>>>")) || string(line) == "=======" {
			return true
		}
	}
	return false
}

// byteOrderMark refuses text that starts with a byte-order mark, as
// FORMAT.md section 6 does, naming it: editors on Windows and PowerShell
// write one, and the JSON error ("invalid character 'ï'") does not say so.
func byteOrderMark(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return errors.New("cookiesession: parsing key ring: the text starts with a UTF-8 byte-order mark; save it without one")
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		return errors.New("cookiesession: parsing key ring: the text is UTF-16 (it starts with a byte-order mark); save it as UTF-8 without one")
	case isUTF16(data):
		return errors.New("cookiesession: parsing key ring: the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8 (in PowerShell, Set-Content -Encoding utf8NoBOM; iconv -f UTF-16LE -t UTF-8)")
	}
	return nil
}

// isUTF16 reports whether data starts as ASCII written in UTF-16, either
// byte order: a NUL byte beside each of its first characters. A ring's
// text holds no NUL.
func isUTF16(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	littleEndian := data[0] != 0 && data[1] == 0 && data[2] != 0 && data[3] == 0
	bigEndian := data[0] == 0 && data[1] != 0 && data[2] == 0 && data[3] != 0
	return littleEndian || bigEndian
}

// object reads a JSON object whose members are the required names and
// possibly the optional ones, each once, in any order, calling member to
// read each value.
func (d ringDecoder) object(what string, required, optional []string, member func(name string) error) error {
	names := slices.Concat(required, optional)
	if err := d.delim('{', what, "an object"); err != nil {
		return err
	}
	seen := make(map[string]bool, len(names))
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		name, _ := tok.(string) // inside an object, a token here is a member name
		switch {
		case !slices.Contains(names, name):
			return unknownMember(what, name, names)
		case seen[name]:
			return fmt.Errorf("cookiesession: parsing key ring: %s has the member %q twice", what, name)
		}
		seen[name] = true
		if err := member(name); err != nil {
			return err
		}
	}
	if err := d.delim('}', what, "an object"); err != nil {
		return err
	}
	for _, name := range required {
		if !seen[name] {
			return fmt.Errorf("cookiesession: parsing key ring: %s has no member %q", what, name)
		}
	}
	return nil
}

// unknownMember names a member that differs from a known one only in case;
// any other name is not echoed, since it may be a secret pasted as a name.
func unknownMember(what, name string, names []string) error {
	for _, known := range names {
		if strings.EqualFold(name, known) {
			return fmt.Errorf("cookiesession: parsing key ring: %s has a member %q; the name is %q", what, name, known)
		}
	}
	quoted := make([]string, len(names))
	for i, known := range names {
		quoted[i] = strconv.Quote(known)
	}
	return fmt.Errorf("cookiesession: parsing key ring: %s has an unknown member (of %d bytes); the members are %s", what, len(name), strings.Join(quoted, ", "))
}

func (d ringDecoder) delim(want json.Delim, what, kind string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if tok != want {
		return fmt.Errorf("cookiesession: parsing key ring: %s is not %s", what, kind)
	}
	return nil
}

// ringSyntaxError is a JSON syntax error in a ring's text, with the
// decoder's error when its text may be shown.
type ringSyntaxError struct {
	msg string
	err error
}

func (e *ringSyntaxError) Error() string { return e.msg }
func (e *ringSyntaxError) Unwrap() error { return e.err }

// atPosition adds to a syntax error in data, which the decoder met offset
// bytes in, the line and column (in bytes) where it is: a ring edited by
// hand that lacks a comma or has one too many is found by where. The
// error and its place are those of a decoder of the whole text, which
// names the byte at fault, and names the same one under GOEXPERIMENT=jsonv2
// (the ring's Token decoder may blame the start of the value it was
// reading, or under jsonv2 another byte); failing that, offset, the
// decoder's InputOffset.
func atPosition(err error, data []byte, offset int64) error {
	var syntax *ringSyntaxError
	if !errors.As(err, &syntax) || offset < 0 || offset > int64(len(data)) {
		return err
	}
	var whole *json.SyntaxError
	if errors.As(json.Unmarshal(data, new(any)), &whole) {
		if at := whole.Offset - namedByteShift(); 0 <= at && at < int64(len(data)) {
			if errors.As(syntaxError(whole), &syntax) {
				offset = at
			}
		}
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	column := len(before) - bytes.LastIndexByte(before, '\n')
	return &ringSyntaxError{fmt.Sprintf("%s, at line %d, column %d", syntax.msg, line, column), syntax.err}
}

// namedByteShift is how many bytes past the one it names a SyntaxError's
// Offset counts: 1 with encoding/json, which counts the bytes read, and 0
// under GOEXPERIMENT=jsonv2, which counts those before it.
var namedByteShift = sync.OnceValue(func() int64 {
	var probe *json.SyntaxError
	if errors.As(json.Unmarshal([]byte("x"), new(any)), &probe) {
		return probe.Offset
	}
	return 1
})

// syntaxError wraps the JSON decoder's err. Its "invalid character 'x'"
// would quote a byte of a secret written without its quotes (or of a
// secret given alone for the ring), so such a byte is not quoted.
func syntaxError(err error) error {
	var syntax *json.SyntaxError
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input" {
		// The last is what the decoder says under GOEXPERIMENT=jsonv2.
		return errRingTruncated
	}
	if !errors.As(err, &syntax) {
		return fmt.Errorf("cookiesession: parsing key ring: %w", err)
	}
	const quoted = "invalid character '" // then the byte, and "'"
	// A bad escape is inside a quoted string: its byte is no bare secret's.
	if msg := err.Error(); strings.HasPrefix(msg, quoted) && len(msg) > len(quoted)+1 && isSecretByte(msg[len(quoted)]) && msg[len(quoted)+1] == '\'' && !strings.HasSuffix(msg, "in string escape code") {
		return &ringSyntaxError{"cookiesession: parsing key ring: a letter, digit or base64 sign where JSON allows none: an id or a secret must be a quoted string", nil}
	}
	return &ringSyntaxError{"cookiesession: parsing key ring: " + err.Error(), err}
}

// errRingTruncated is the parser's error for a text that ends inside the
// ring; LoadKeyRingEnv gives a variable's causes instead.
var errRingTruncated = errors.New("cookiesession: parsing key ring: the text ends before the ring does: a truncated file, or one read while it was being written")

// isSecretByte reports whether b can be part of a secret in base64.
func isSecretByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '+' || b == '/' || b == '-' || b == '_' || b == '='
}

// version accepts the number 1 written as such: 1.0 and 1e0 are refused,
// so that the next version can rely on the spelling too.
func (d ringDecoder) version() error {
	tok, err := d.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if n, ok := tok.(json.Number); !ok || n != "1" {
		return versionError(tok)
	}
	return nil
}

// versionError refuses a ring's version token other than the number 1,
// saying what it is: "not 1" alone does not tell a ring from a newer
// release (upgrade) from a hand-written "1.0" or "1" (respell it). The
// number's text is not echoed beyond one digit: a secret in hex pasted
// there without quotes is read as a number up to its first letter but e
// (294e7398...), and its digits are the secret's.
func versionError(tok json.Token) error {
	const msg = "cookiesession: key ring version is not 1, the only version supported: "
	const respell = `; write "version": 1, as cookiesession keygen does`
	n, ok := tok.(json.Number)
	if !ok {
		return errors.New(msg + "it is not a number" + respell)
	}
	digits := strings.Trim(string(n), "0123456789") == ""
	switch f, _ := strconv.ParseFloat(string(n), 64); {
	case f == 1:
		return errors.New(msg + "it is 1 written with a fraction or an exponent (1.0, 1e0)" + respell)
	case f == 0:
		return errors.New(msg + "it is 0" + respell)
	case f < 0:
		return errors.New(msg + "it is negative" + respell)
	case digits && len(n) == 1:
		return errors.New(msg + "it is " + string(n) + ", a format this release does not read (written by a newer release?): upgrade this program to the release that wrote the ring")
	case digits:
		return fmt.Errorf(msg+"it is a number of %d digits, past any version a release writes"+respell, len(n))
	}
	return errors.New(msg + "it is a number other than 1 written with a fraction or an exponent" + respell)
}

func (d ringDecoder) str(what string) (string, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return "", syntaxError(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("cookiesession: parsing key ring: %s is not a string", what)
	}
	return s, nil
}

func (d ringDecoder) keys() ([]keyJSON, error) {
	if err := d.delim('[', "keys", "an array"); err != nil {
		return nil, err
	}
	var keys []keyJSON
	for d.dec.More() {
		if len(keys) == maxRingKeys {
			return nil, errTooManyKeys
		}
		kj, err := d.key(fmt.Sprintf("keys[%d]", len(keys)))
		if err != nil {
			return nil, err
		}
		keys = append(keys, kj)
	}
	return keys, d.delim(']', "keys", "an array")
}

func (d ringDecoder) key(what string) (kj keyJSON, err error) {
	err = d.object(what, []string{"id", "secret"}, []string{"promote_at"}, func(name string) (err error) {
		switch name {
		case "id":
			kj.ID, err = d.str(what + ".id")
		case "secret":
			kj.Secret, err = d.str(what + ".secret")
		default:
			kj.PromoteAt, err = d.str(what + ".promote_at")
			if err == nil && kj.PromoteAt == "" {
				err = fmt.Errorf("cookiesession: parsing key ring: %s.promote_at is empty; leave it out instead", what)
			}
		}
		return err
	})
	return kj, err
}

// parse checks the values of keys[i]. Messages name the key by its id only
// once the id is known to be well formed, by its place before.
func (kj keyJSON) parse(i int) (ringKey, error) {
	id, err := ParseKeyID(kj.ID)
	if err != nil {
		return ringKey{}, fmt.Errorf("%w (keys[%d].id)", err, i)
	}
	secret, ok := parseSecret(kj.Secret)
	if !ok {
		return ringKey{}, fmt.Errorf("cookiesession: key %s: secret is not %d bytes in padded standard base64 (44 characters, nothing else): %s", kj.ID, KeySize, secretProblem(kj.Secret))
	}
	k, err := NewKey(id, secret) // id and length are checked: it fails for zero bytes only
	clear(secret)
	if err != nil {
		return ringKey{}, fmt.Errorf("cookiesession: key %s: secret is all zero bytes (a placeholder, or a buffer never filled), and anyone could seal tokens under it: replace the key with one made by cookiesession add (a new id), or make a new ring with cookiesession keygen", kj.ID)
	}
	rk := ringKey{Key: k}
	if kj.PromoteAt != "" {
		if rk.promoteAt, ok = parsePromoteAt(kj.PromoteAt); !ok {
			return ringKey{}, fmt.Errorf("cookiesession: key %s: promote_at is not an RFC 3339 time such as 2026-12-01T00:00:00Z", kj.ID)
		}
	}
	return rk, nil
}

// parseSecret accepts only the canonical encoding of 32 bytes: the
// decoder alone would skip CR and LF inside the text.
func parseSecret(s string) ([]byte, bool) {
	secret, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(secret) != KeySize || base64.StdEncoding.EncodeToString(secret) != s {
		clear(secret)
		return nil, false
	}
	return secret, true
}

// secretProblem says how s, a secret parseSecret refused, differs from
// the canonical form, and the fix: a secret made by another tool (openssl
// rand -hex, a URL-safe encoder) or pasted by hand is refused by a rule
// the operator cannot see in it. No byte of s is echoed.
func secretProblem(s string) string {
	joined := strings.Join(strings.Fields(s), "")
	switch {
	case s == "":
		return "it is empty: copy the key's secret from the ring it came from, or make a key with cookiesession add (a new id)"
	case joined != s:
		if _, ok := parseSecret(joined); ok {
			return "it holds a space, tab or line break (pasted with one): remove it"
		}
		return "it holds a space, tab or line break, and more is wrong with it: copy it again from where it came from"
	case len(s) == 2*KeySize && isHex(s):
		return "it is 64 hex digits, the 32 bytes in hex (as openssl rand -hex 32 writes them): write the same bytes in standard base64 (echo HEX | xxd -r -p | base64), or make a key with cookiesession add (a new id)"
	case strings.ContainsAny(s, "-_") && decodesToKey(s, base64.URLEncoding, base64.RawURLEncoding):
		return "it is in base64's URL-safe alphabet (- and _): write + for each - and / for each _, and end it with = (44 characters)"
	case decodesToKey(s, base64.RawStdEncoding):
		return "it lacks the = that ends it: add it (44 characters)"
	case decodesToKey(s, base64.StdEncoding):
		return "its last character before the = has bits set that base64 never writes for 32 bytes (a character changed by hand): copy the secret again from where it came from"
	}
	decoded := secrettext.Unbase64(s)
	defer clear(decoded)
	switch {
	case decoded == nil && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == "":
		return fmt.Sprintf("it is %d characters of standard base64, where a key's secret is 44 ending in one = (a character lost or added in the copy, or an = out of place): copy it again from where it came from", len(s))
	case decoded == nil:
		return "it holds a character outside standard base64 (A-Z, a-z, 0-9, + and /, then =)"
	case len(decoded) == 2*KeySize && isHex(string(decoded)) || decodesToKey(string(decoded), base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding):
		return "it is encoded twice (base64 of the secret's text): write the text it decodes to (base64 -d)"
	}
	return fmt.Sprintf("it decodes to %d bytes, and a key is 32 bytes from a random source (a secret made for another library or purpose): make a key with cookiesession add (a new id)", len(decoded))
}

// decodesToKey reports whether s decodes to KeySize bytes in one of encs.
func decodesToKey(s string, encs ...*base64.Encoding) bool {
	for _, enc := range encs {
		if b, err := enc.DecodeString(s); err == nil {
			clear(b)
			if len(b) == KeySize {
				return true
			}
		}
	}
	return false
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// parsePromoteAt reads YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 9
// digits, then Z or ±HH:MM. time.Parse alone also takes a comma before the
// fraction, more than 9 digits and offsets such as +24:00.
func parsePromoteAt(s string) (time.Time, bool) {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(head) || !hasShape(s[:len(head)], head) {
		return time.Time{}, false
	}
	zone := s[len(head):]
	if fraction, ok := strings.CutPrefix(zone, "."); ok {
		zone = strings.TrimLeft(fraction, "0123456789")
		if digits := len(fraction) - len(zone); digits < 1 || digits > 9 {
			return time.Time{}, false
		}
	}
	if zone != "Z" && !validOffset(zone) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if y := t.UTC().Year(); err != nil || y < 1970 || y > 9999 {
		return time.Time{}, false // MarshalJSON writes UTC, in 4 digits
	}
	return t, true
}

// validOffset reports whether zone is ±HH:MM with HH <= 23 and MM <= 59.
func validOffset(zone string) bool {
	if len(zone) != 6 || zone[0] != '+' && zone[0] != '-' || !hasShape(zone[1:], "dd:dd") {
		return false
	}
	return zone[1:3] <= "23" && zone[4:6] <= "59"
}

// hasShape reports whether s matches pattern, where 'd' is an ASCII digit
// and any other byte stands for itself.
func hasShape(s, pattern string) bool {
	if len(s) != len(pattern) {
		return false
	}
	for i := range len(s) {
		if pattern[i] == 'd' && (s[i] < '0' || s[i] > '9') || pattern[i] != 'd' && s[i] != pattern[i] {
			return false
		}
	}
	return true
}
