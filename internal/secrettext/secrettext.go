// Package secrettext tells key material apart from the paths, names and
// words an operator means to give, for the key ring loaders and the CLI,
// so that neither echoes a secret in an error, a log line or a metric.
package secrettext

import (
	"encoding/base64"
	"strings"
)

// Ring reports whether s holds a key ring's text, as is or in base64 (a
// Kubernetes Secret's data): an object with a secret field, its quotes
// kept or not, so one key copied out of a ring too.
func Ring(s string) bool {
	return ringWords(s) || ringWords(string(Unbase64(s)))
}

func ringWords(s string) bool {
	return strings.Contains(s, "{") && fieldName(s, "secret")
}

// fieldName reports whether word occurs in s as a field's name: followed
// by a colon, past a closing quote (escaped or not) and spaces. A path's
// keys\secret.json, or C:\ in a Windows path, is none.
func fieldName(s, word string) bool {
	for {
		i := strings.Index(s, word)
		if i < 0 {
			return false
		}
		s = s[i+len(word):]
		if strings.HasPrefix(strings.TrimLeft(s, "\"'\\ \t\r\n"), ":") {
			return true
		}
	}
}

// Secret reports whether s is a key's secret as a ring holds it: 32 bytes
// in padded standard base64, of letters of both cases.
func Secret(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	clear(b)
	return err == nil && len(b) == 32 && Maybe(s)
}

// Maybe reports whether s may be a secret of 16 to 64 bytes: 32 to 128
// hex digits, or base64 (of any alphabet, padded or not) of letters of
// both cases, as random bytes give, that decodes to as many. A name such
// as COOKIESESSION_KEYS_PRODUCTION, cookiesession_ring_v2 or
// _hjsessionuser_1234567890 is of one case.
func Maybe(s string) bool {
	if len(s) < 22 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-") != "" {
		return false
	}
	if strings.Trim(s, "0123456789abcdefABCDEF") == "" {
		return len(s) >= 32 && len(s) <= 128
	}
	if s == strings.ToLower(s) || s == strings.ToUpper(s) {
		return false
	}
	decoded := Unbase64(s)
	defer clear(decoded)
	return len(decoded) >= 16 && len(decoded) <= 64
}

// Unbase64 decodes s, wrapped in lines or not, from any base64 alphabet,
// padded or not, or returns nil.
func Unbase64(s string) []byte {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err := enc.DecodeString(s); err == nil {
			return data
		}
	}
	return nil
}
