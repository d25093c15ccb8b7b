package cookiesession

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-ff2808ae/cookiesession/internal/secrettext"
)

// How a ring's text arrives wrapped (quoted, escaped, in base64, as a .env
// line, inside a secret manager's JSON response, or a path where the text
// belongs), recognised so that the error names the wrapping and its fix.

// ringSource is where a ring's text came from, which decides the fix
// ringWrapping gives.
type ringSource int

const (
	fromEnv  ringSource = iota // LoadKeyRingEnv: a variable's value
	fromFile                   // LoadKeyRingFile: a file's text
	fromText                   // ParseKeyRing: bytes from a caller (an SDK, stdin)
)

// ringWrapping says how s, a ring's text from src, wraps a valid ring's
// text, with the fix for that source, or returns "". The parser's own
// error names only the first byte it refused. Only an unwrapping that
// parses is named, and the text is never echoed.
func ringWrapping(s string, src ringSource) string {
	s = strings.TrimSpace(s)
	for _, w := range ringWrappings {
		inner := w.unwrap(s)
		_, err := parseRingState(inner)
		clear(inner)
		if inner != nil && err == nil {
			return w.what + w.fix[src]
		}
	}
	if path, encoded := nestedRing(s); path != "" {
		return nestedFix(path, encoded, src)
	}
	return ""
}

// nestedFix names the member at path of a JSON document that holds the
// ring, its text or in base64 (encoded), with the fix for src.
func nestedFix(path string, encoded bool, src ringSource) string {
	if encoded {
		what := "in base64 as the value of " + path + " in a JSON document (a Kubernetes Secret read through its API, kubectl get secret -o json, whose data is in base64): "
		jq := "(jq -r '" + path + " | @base64d'"
		switch src {
		case fromFile:
			return what + "write that value decoded to the file " + jq + "; a Secret volume holds it decoded)"
		case fromText:
			return what + "pass that value decoded " + jq + ")"
		}
		return what + "set the variable to that value decoded " + jq + "; a secretKeyRef or a Secret volume decodes it)"
	}
	what := "as the value of " + path + " in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): "
	switch src {
	case fromFile:
		return what + "write that value alone to the file (jq -r '" + path + "'; a Vault Agent template names the field, not the whole secret)"
	case fromText:
		return what + "pass that value alone (jq -r '" + path + "'; from an SDK, the response's field, such as GetSecretValue's SecretString, not the whole response)"
	}
	return what + "set the variable to that value alone (jq -r '" + path + "'; ECS and EKS secret references can name the key of a key/value secret)"
}

// oneSecret says, with the fix for src, that s is a single secret (in
// base64 or hex, of 16 to 64 bytes) where a ring's text belongs, as other
// libraries take a key, or returns "". No byte of s is echoed. Random
// bytes in hex hold a digit and a letter, and in base64 a digit, an upper-
// and a lower-case letter: a path (/var/run/secrets/cookiesession), a
// UUID or a number, which may be in the same alphabet, are no secret.
func oneSecret(s string, src ringSource) string {
	s = strings.TrimSpace(s)
	if len(s) < 22 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-") != "" {
		return ""
	}
	var what string
	if isHex(s) {
		if len(s)%2 != 0 || len(s) < 32 || len(s) > 128 || !strings.ContainsAny(s, "0123456789") || !strings.ContainsAny(s, "abcdefABCDEF") {
			return ""
		}
		what = strconv.Itoa(len(s)/2) + " bytes in hex"
	} else if decoded := secrettext.Unbase64(s); len(decoded) >= 16 && len(decoded) <= 64 && !isPrintable(decoded) && mixedClasses(s) {
		what = strconv.Itoa(len(decoded)) + " bytes in base64"
		clear(decoded)
	} else {
		clear(decoded)
		return ""
	}
	head := "holds a single secret (" + what + "), not a key ring: a ring is the JSON text cookiesession keygen writes, which names each key by an id so that keys can rotate: "
	switch src {
	case fromFile:
		return head + "make one and write it to the file (cookiesession keygen -out FILE, with -force over this one)"
	case fromText:
		return head + "make one (cookiesession keygen) and pass it"
	}
	return head + "make one (cookiesession keygen -out ring.json) and set the variable to it (" + EnvKeys + "=\"$(cat ring.json)\")"
}

// mixedClasses reports whether s holds a digit, an upper-case and a
// lower-case letter, as random bytes in base64 of 22 characters or more
// do but for about one in forty (one in a thousand from 43).
func mixedClasses(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz")
}

// isPrintable reports whether b is printable ASCII: text in base64 (a
// wrapping of something else), where random bytes are not.
func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// ringWrappings are the ways ringWrapping tries, each with its fix for
// each ringSource, which starts with ": " or " (".
var ringWrappings = []struct {
	unwrap func(string) []byte
	what   string
	fix    [3]string // by ringSource: a variable, a file, bytes passed
}{
	{unassignRing, "as a whole .env line (" + EnvKeys + "=..., perhaps after export)", [3]string{
		": set the variable to the value alone (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file)",
		": write the value alone to the ring file (an EnvironmentFile= or --env-file reads the .env line)",
		": pass the value alone, without the name, the = and any quotes around it (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable)"}},
	{func(s string) []byte { return strayQuoteRing(envValue(s)) }, "as a whole .env line (" + EnvKeys + "=..., perhaps after export) whose value has a stray quote at its start or end, a quote opened and not closed or closed and not opened", [3]string{
		": set the variable to the value alone, without the stray quote (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file; in the .env file, quote the value at both ends or at neither)",
		": write the value alone to the ring file, without the stray quote, so that the file starts with { and ends with } (an EnvironmentFile= or --env-file reads the .env line; there, quote the value at both ends or at neither)",
		": pass the value alone, without the name, the = and the stray quote, so that the text starts with { and ends with } (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, quote the value at both ends or at neither)"}},
	{quotedLineRing, "as a whole .env line inside quotes, name and all (\"" + EnvKeys + "={...}\", perhaps after export)", [3]string{
		": set the variable to the value alone, without the name, the = and the quotes around the line (in a .env file, quote the value alone: " + EnvKeys + "='{...}'; a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file)",
		": write the value alone to the ring file, without the name, the = and the quotes around the line, so that the file starts with { (an EnvironmentFile= or --env-file reads a .env line, whose value alone is quoted: " + EnvKeys + "='{...}')",
		": pass the value alone, without the name, the = and the quotes around the line, so that the text starts with { (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, quote the value alone: " + EnvKeys + "='{...}')"}},
	{strayLineQuoteRing, "as a whole .env line with a stray quote before its name, a quote opened and not closed (\"" + EnvKeys + "={..., perhaps after export)", [3]string{
		": set the variable to the value alone, without the stray quote, the name and the = (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file; in the .env file, a line starts with the name, and only the value may be quoted: " + EnvKeys + "='{...}')",
		": write the value alone to the ring file, without the stray quote, the name and the =, so that the file starts with { (an EnvironmentFile= or --env-file reads a .env line, which starts with the name, and only its value may be quoted: " + EnvKeys + "='{...}')",
		": pass the value alone, without the stray quote, the name and the =, so that the text starts with { (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, a line starts with the name, and only the value may be quoted: " + EnvKeys + "='{...}')"}},
	{unquoteRing, "inside quotes that are part of the value", [3]string{
		" (docker run --env-file keeps them, jq without -r adds them): remove them, so that the value starts with {",
		" (jq without -r, or aws --query without --output text, writes a JSON string): write the string's content (jq -r, --output text), so that the file starts with {",
		" (a JSON string: jq without -r, aws --query without --output text, or a JSON encoder given the text writes one): pass the string's content (jq -r, --output text; in Go, json.Unmarshal into a string), so that the text starts with {"}},
	{strayQuoteRing, "with a stray quote at its start or end, a quote opened and not closed or closed and not opened", [3]string{
		" (a .env file, an Environment= line or a YAML value quoted on one side only keeps it as part of the value): remove it, so that the value starts with { and ends with }",
		" (an editor or a script that wrote the ring's text with a quote on one side): remove it, so that the file starts with { and ends with }",
		": remove it, so that the text starts with { and ends with }"}},
	{unescapeRing, `with its quotes escaped as \"`, [3]string{
		`: remove the backslashes (in a shell, ` + EnvKeys + `="$(cat ring.json)")`,
		`: remove the backslashes`,
		`: remove the backslashes (the text was escaped once more than it was unescaped)`}},
	{unescapeLineBreaks, `with its line breaks written as \n`, [3]string{
		" (the text of a JSON or YAML string kept without its quotes: a SAM or CloudFormation template's single-quoted value, a CLI's JSON output): set it to the ring's text itself, without quotes around it, with real line breaks or on one line",
		" (the text of a JSON or YAML string kept without its quotes): write the ring's text itself, with real line breaks or on one line",
		" (the text of a JSON or YAML string kept without its quotes): pass the string's content, with real line breaks or on one line (jq -r; in Go, json.Unmarshal into a string)"}},
	{requoteRing, "with every double quote removed", [3]string{
		" (a shell removes them from a value not in single quotes, or from one in double quotes, where each \" ends the quoted part; systemd from an Environment= line): put the ring's text in single quotes (" + EnvKeys + "='{...}'), or set it from the file (" + EnvKeys + "=\"$(cat ring.json)\"; systemd: EnvironmentFile= with the ring on one line, or LoadCredential= and LoadKeyRingFile)",
		" (a shell's echo or printf of the text not in single quotes): write the ring's text as it is (cookiesession keygen -out FILE, or the text in single quotes)",
		" (a shell or a unit file removed them on the way): pass the ring's text as cookiesession keygen wrote it, quotes and all"}},
	{secrettext.Unbase64, "encoded in base64", [3]string{
		": set it to the decoded JSON text; a Kubernetes Secret's data is decoded before it reaches the environment, so encode the ring once (or use stringData)",
		": write the decoded JSON text (base64 -d); a Kubernetes Secret's data is decoded before it is mounted, so encode the ring once (or put it in stringData as it is)",
		": decode it and pass the JSON text (base64 -d; in Go, base64.StdEncoding.DecodeString); a Kubernetes Secret's data read through its API (kubectl get secret -o jsonpath) is in base64"}},
	{func(s string) []byte { return secrettext.Unbase64(string(secrettext.Unbase64(s))) }, "encoded in base64 twice", [3]string{
		": set it to the JSON text, decoded twice; a Kubernetes Secret's data is decoded once before it reaches the environment, so encode the ring once (or use stringData)",
		": write the JSON text, decoded twice (base64 -d | base64 -d); a Kubernetes Secret's data is decoded once before it is mounted, so encode the ring once (or put it in stringData as it is)",
		": decode it twice and pass the JSON text (base64 -d | base64 -d); a ring stored encoded twice (a Kubernetes Secret's data encoded once more than it needs) is best stored encoded once"}},
	{func(s string) []byte { return secrettext.Unbase64(string(unquoteRing(s))) }, "encoded in base64 inside quotes that are part of the value", [3]string{
		" (docker run --env-file keeps a .env value's quotes, jq without -r adds them): set it to the decoded JSON text, without the quotes",
		" (jq without -r writes a JSON string): write the string's content decoded (jq -r, then base64 -d)",
		": pass the string's content decoded (jq -r, then base64 -d)"}},
}

// nestedRing returns the jq path of a member of the JSON object s whose
// value is a ring (its text in a string, that text in base64, or the
// object itself), at most three objects deep, or "", and whether the
// value is in base64. The names on that path are echoed; no value is.
func nestedRing(s string) (path string, encoded bool) {
	if !strings.HasPrefix(s, "{") {
		return "", false
	}
	var doc map[string]any
	if json.Unmarshal([]byte(s), &doc) != nil {
		return "", false
	}
	return findRing(doc, "", 3)
}

func findRing(doc map[string]any, path string, depth int) (string, bool) {
	for _, name := range slices.Sorted(maps.Keys(doc)) {
		at := ringMember(path, name)
		switch v := doc[name].(type) {
		case string:
			if _, err := parseRingState([]byte(v)); err == nil {
				return at, false
			}
			if inner := secrettext.Unbase64(v); inner != nil {
				_, err := parseRingState(inner)
				clear(inner)
				if err == nil {
					return at, true
				}
			}
		case map[string]any:
			if text, err := json.Marshal(v); err == nil {
				if _, err := parseRingState(text); err == nil {
					return at, false
				}
			}
			if depth > 1 {
				if found, encoded := findRing(v, at, depth-1); found != "" {
					return found, encoded
				}
			}
		}
	}
	return "", false
}

// maxShownMember bounds a member name ringMember echoes: a name that long
// is no secret manager's field, and a megabyte of name would make a
// megabyte of error.
const maxShownMember = 64

// ringMember returns the jq path of the member name of the object at
// path in a document that holds a ring, as jqMember does, but a name
// longer than maxShownMember, or one that may be a secret (a secret
// pasted as a field's name), is not echoed: the path says its length in
// its place.
func ringMember(path, name string) string {
	if len(name) > maxShownMember || secrettext.Maybe(name) {
		return cmp.Or(path, ".") + "[<a member name of " + strconv.Itoa(len(name)) + " bytes, not shown>]"
	}
	return jqMember(path, name)
}

// jqMember returns the jq path of the member name of the object at path.
// A name that is not an identifier is quoted, the empty one too: ".a."
// is no path, and "." is the whole document.
func jqMember(path, name string) string {
	plain := name != ""
	for i, c := range name {
		plain = plain && (c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9')
	}
	if plain {
		return path + "." + name
	}
	if path == "" {
		path = "."
	}
	// A name that holds the package's prefix would repeat it in the
	// message (errors carry it once): its colon is escaped, as jq reads.
	return path + "[" + strings.ReplaceAll(strconv.Quote(name), "cookiesession:", `cookiesession\u003a`) + "]"
}

// unquoteRing returns s without one pair of surrounding quotes, JSON
// string escapes undone (a ring encoded as a JSON string), or nil.
func unquoteRing(s string) []byte {
	if len(s) < 2 || s[0] != s[len(s)-1] || s[0] != '"' && s[0] != '\'' {
		return nil
	}
	var text string
	if s[0] == '"' && json.Unmarshal([]byte(s), &text) == nil {
		return []byte(text)
	}
	return []byte(s[1 : len(s)-1])
}

// strayQuoteRing returns s without a quote at its start or end that has
// no match at the other end, or nil: a pair is unquoteRing's.
func strayQuoteRing(s string) []byte {
	if len(s) < 2 {
		return nil
	}
	first, last := s[0], s[len(s)-1]
	isQuote := func(c byte) bool { return c == '"' || c == '\'' }
	switch {
	case isQuote(first) && isQuote(last) && first == last:
		return nil
	case isQuote(first) && isQuote(last):
		return []byte(s[1 : len(s)-1])
	case isQuote(first):
		return []byte(s[1:])
	case isQuote(last):
		return []byte(s[:len(s)-1])
	}
	return nil
}

// unassignRing returns the value of a .env line that sets EnvKeys,
// unquoted, or nil.
func unassignRing(s string) []byte {
	value := envValue(s)
	if value == "" {
		return nil
	}
	if inner := unquoteRing(value); inner != nil {
		return inner
	}
	return []byte(value)
}

// quotedLineRing returns the value of a .env line that sets EnvKeys,
// written inside quotes as a whole ("EnvKeys={...}", as a systemd
// Environment= line or a compose file's list writes a variable; perhaps
// after export, as a shell reads export 'EnvKeys={...}'), unquoted, or
// nil.
func quotedLineRing(s string) []byte {
	line := unquoteRing(strings.TrimPrefix(s, "export "))
	if line == nil {
		return nil
	}
	defer clear(line)
	return unassignRing(string(line))
}

// strayLineQuoteRing returns the value of a .env line that sets EnvKeys,
// perhaps after export, with a quote before the name that is never
// closed (such a line quoted whole, its closing quote lost), unquoted,
// or nil. A line quoted at both ends is quotedLineRing's; a quote closed
// at its end and never opened is the value's stray quote.
func strayLineQuoteRing(s string) []byte {
	s = strings.TrimPrefix(s, "export ")
	if len(s) < 2 || s[0] != '"' && s[0] != '\'' {
		return nil
	}
	return unassignRing(s[1:])
}

// envValue returns the value of a .env line that sets EnvKeys, as it is
// written, or "" if s is no such line.
func envValue(s string) string {
	value, ok := strings.CutPrefix(strings.TrimPrefix(s, "export "), EnvKeys+"=")
	if !ok {
		return ""
	}
	return value
}

// unescapeRing returns s with \" made ", or nil if it has none.
func unescapeRing(s string) []byte {
	if !strings.Contains(s, `\"`) {
		return nil
	}
	return []byte(strings.ReplaceAll(s, `\"`, `"`))
}

// unescapeLineBreaks returns s without one pair of surrounding quotes
// (docker run --env-file keeps them), with a JSON or YAML string's escapes
// of line breaks, tabs and quotes undone, or nil if s holds no \n. A
// ring's text holds no other backslash.
func unescapeLineBreaks(s string) []byte {
	if !strings.Contains(s, `\n`) {
		return nil
	}
	if len(s) > 1 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		s = s[1 : len(s)-1]
	}
	return []byte(stringEscapes.Replace(s))
}

var stringEscapes = strings.NewReplacer(`\n`, "\n", `\r`, "\r", `\t`, "\t", `\"`, `"`)

// requoteRing returns s, a ring's text with every double quote removed (by
// a shell, or by systemd's Environment=), with quotes put back around each
// member's name and each value but the version's, or nil if s holds a
// quote or is no object. A value runs to the next comma, bracket, brace or
// space, so a promote_at keeps its colons.
func requoteRing(s string) []byte {
	if strings.Contains(s, `"`) || !strings.HasPrefix(s, "{") {
		return nil
	}
	var b strings.Builder
	name, inValue := "", false
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case strings.IndexByte("{}[], \t\r\n", c) >= 0:
			inValue = inValue && c != ',' && c != '{'
			b.WriteByte(c)
			i++
			continue
		case c == ':' && !inValue:
			inValue = true
			b.WriteByte(c)
			i++
			continue
		}
		stop := "{}[],: \t\r\n"
		if inValue {
			stop = "{}[], \t\r\n"
		}
		end := i
		for end < len(s) && strings.IndexByte(stop, s[end]) < 0 {
			end++
		}
		word := s[i:end]
		if inValue && name == "version" {
			b.WriteString(word)
		} else {
			b.WriteString(strconv.Quote(word))
		}
		if !inValue {
			name = word
		}
		i = end
	}
	return []byte(b.String())
}

// looksLikePath reports whether s, which is not a key ring, is a file's
// path: one line, not JSON, with a path separator or a .json name. A
// secret in standard base64 may hold a slash, but it ends with '='.
func looksLikePath(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "{}\"\n") || strings.HasSuffix(s, "=") {
		return false
	}
	return strings.ContainsAny(s, `/\`) || strings.HasSuffix(strings.ToLower(s), ".json")
}
