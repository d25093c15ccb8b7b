package cookiesession

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SetJSON stores v as JSON (encoding/json). Read it back with GetJSON or
// GetAs[json.RawMessage]. A v that encoding/json cannot encode (a NaN, a
// func or a channel) is refused with an error, and so is one holding text
// that is not UTF-8, which encoding/json would write as U+FFFD (a string),
// or which GetJSON would read as U+FFFD (the output of a json.Marshaler or
// a json.RawMessage): store raw bytes as a []byte, which JSON keeps exactly
// in base64. Such a refusal is logged at Warn, once per key and type, as
// Set's is.
func (s *Session) SetJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		err = checkJSONText(v, b)
	}
	if err != nil {
		err = fmt.Errorf("cookiesession: SetJSON %q: %w", key, err)
		s.lock()
		defer s.unlock()
		if s.mgr == nil {
			return err // the zero Session: no Manager to log through
		}
		s.logRefusedValue(&s.mgr.refusedJSON, key, v, err, "cookiesession: Session.SetJSON could not encode a value, which the session does not hold (logged once per key and type; past 64 of them, at warn level once a minute, the others at debug; SetJSON returns the error)",
			slog.String("fix", "check SetJSON's error; store only what encoding/json encodes (no NaN or infinite float, func or channel), and text as valid UTF-8 (raw bytes as a []byte)"))
		return err
	}
	return s.Set(key, json.RawMessage(b))
}

// checkJSONText refuses b, json.Marshal's encoding of v, if it does not
// carry v's text as GetJSON will read it: bytes that are not UTF-8, which a
// json.Marshaler or a json.RawMessage passed through, or a U+FFFD that
// encoding/json wrote in place of such a byte in one of v's strings, as a
// \ufffd escape or, under GOEXPERIMENT=jsonv2, as itself. Only an output
// holding either, rare, costs a walk of v to tell a replacement from a
// U+FFFD of v's own or a json.Marshaler's. The path to a string is cut as
// log lines cut text: a map's keys may come from a request, of any length.
func checkJSONText(v any, b []byte) error {
	if !utf8.Valid(b) {
		off := invalidUTF8At(string(b))
		return fmt.Errorf("the JSON holds the byte 0x%02x, at offset %d, which is not UTF-8: it came from a json.Marshaler or a json.RawMessage, and GetJSON would read it as U+FFFD; "+
			"make that value write valid UTF-8, and store raw bytes as a []byte, which JSON keeps exactly in base64", b[off], off)
	}
	if !bytes.Contains(b, []byte(`\ufffd`)) && !bytes.Contains(b, []byte("\ufffd")) {
		return nil
	}
	if path, str, ok := invalidString(reflect.ValueOf(v), "", map[visit]bool{}); ok {
		off := invalidUTF8At(str)
		return fmt.Errorf("the string at %s is not UTF-8 (the byte 0x%02x at offset %d), and encoding/json would store U+FFFD in its place: "+
			"store raw bytes as a []byte, which JSON keeps exactly in base64, or convert the text to valid UTF-8", logText(cmp.Or(path, ".")), str[off], off)
	}
	return nil // the U+FFFD is v's own, or a json.Marshaler's
}

// invalidUTF8At returns the offset of s's first byte that is not UTF-8.
func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}

var jsonMarshalerType = reflect.TypeFor[json.Marshaler]()

// invalidString returns the jq path, under path, of the first string in v
// that encoding/json writes and that is not UTF-8, and that string. It
// follows encoding/json's rules where they decide which strings are
// written (a json.Marshaler writes its own, a []byte is base64, an
// unexported field or one tagged "-" is left out, an encoding.TextMarshaler
// is written as its text, map keys too), but not the rules for embedded
// fields of one name, whose conflicts drop fields: a string such a field
// holds is checked as well. Such a field may hold a cycle, which
// json.Marshal never met: seen holds the pointers, maps and slices
// visited, each walked once.
func invalidString(v reflect.Value, path string, seen map[visit]bool) (at, str string, ok bool) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem() // encoding/json writes what it holds
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return "", "", false
	}
	if k := v.Kind(); k == reflect.Pointer || k == reflect.Map || k == reflect.Slice {
		at := visit{v.Type(), v.Pointer(), 0}
		if k == reflect.Slice {
			at.n = v.Len()
		}
		if seen[at] {
			return "", "", false // walked already, with nothing found
		}
		seen[at] = true
	}
	t := v.Type()
	if t.Implements(jsonMarshalerType) || v.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshalerType) {
		return "", "", false // its output was checked as it is
	}
	if text, ok := marshalText(v); ok {
		return path, text, !utf8.ValidString(text)
	}
	switch v.Kind() {
	case reflect.String:
		return path, v.String(), !utf8.ValidString(v.String())
	case reflect.Pointer:
		return invalidString(v.Elem(), path, seen)
	case reflect.Struct:
		return invalidField(v, path, seen)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "", "", false // base64, unless its elements marshal themselves, which is rare
		}
		for i := range v.Len() {
			if at, str, ok := invalidString(v.Index(i), path+"["+strconv.Itoa(i)+"]", seen); ok {
				return at, str, ok
			}
		}
	case reflect.Map:
		return invalidEntry(v, path, seen)
	}
	return "", "", false
}

// visit is a pointer, map or slice invalidString has walked: a slice by
// its type, first element and length, as encoding/json tells them.
type visit struct {
	typ reflect.Type
	ptr uintptr
	n   int
}

// marshalText returns the text of v's encoding.TextMarshaler, if it has
// one that encoding/json would call.
func marshalText(v reflect.Value) (string, bool) {
	if !v.CanInterface() {
		return "", false // read-only to reflect, as encoding/json leaves it out
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok && v.CanAddr() {
		m, ok = v.Addr().Interface().(encoding.TextMarshaler)
	}
	if !ok {
		return "", false
	}
	text, err := m.MarshalText()
	return string(text), err == nil
}

func invalidField(v reflect.Value, path string, seen map[visit]bool) (at, str string, ok bool) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if !f.IsExported() && (!f.Anonymous || ft.Kind() != reflect.Struct) {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitzero,") && fv.CanInterface() {
			if z, ok := fv.Interface().(interface{ IsZero() bool }); ok && z.IsZero() {
				continue
			}
		}
		at := path
		if name != "" || !f.Anonymous || ft.Kind() != reflect.Struct {
			at = jqMember(path, cmp.Or(name, f.Name)) // an embedded struct without a name lends its fields
		}
		if at, str, ok := invalidString(fv, at, seen); ok {
			return at, str, ok
		}
	}
	return "", "", false
}

func invalidEntry(v reflect.Value, path string, seen map[visit]bool) (at, str string, ok bool) {
	keys := v.MapKeys()
	if v.Type().Key().Kind() == reflect.String {
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	}
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k.Kind() == reflect.String {
			name = k.String()
		} else if text, ok := marshalText(k); ok {
			name = text
		}
		if !utf8.ValidString(name) {
			return cmp.Or(path, ".") + " (a key)", name, true
		}
		if at, str, ok := invalidString(v.MapIndex(k), jqMember(path, name), seen); ok {
			return at, str, ok
		}
	}
	return "", "", false
}

// GetJSON decodes the JSON value stored under key into v. It reports false
// if there is no value under key, and an error if the value is not JSON or
// does not decode into v. Into an interface (an any, a map[string]any), as
// encoding/json does, a number becomes a float64; one that a float64
// would change, an integer past 2^53 (an int64 id) or a non-zero number
// that reads as 0 (1e-400), is an error rather than a rounded number, as
// in the JavaScript port's getJSON. Decode such numbers into typed fields
// (int64, uint64, json.Number), which hold them exactly. JSON holding
// bytes that are not UTF-8 (a json.RawMessage given to Set, which keeps
// its bytes) is an error too, since encoding/json would read U+FFFD in
// their place; Get returns the bytes.
func (s *Session) GetJSON(key string, v any) (bool, error) {
	raw, ok := s.Get(key)
	if !ok {
		return false, nil
	}
	b, isJSON := raw.(json.RawMessage)
	if !isJSON {
		return true, fmt.Errorf("cookiesession: value %q is %T, not JSON", key, raw)
	}
	if err := unmarshalExact(b, v); err != nil {
		return true, fmt.Errorf("cookiesession: GetJSON %q: %w", key, err)
	}
	return true, nil
}

// unmarshalExact is json.Unmarshal, except that it refuses a number that
// would land in an interface as a float64 other than the one written, and
// bytes that are not UTF-8 and a lone surrogate escape, which
// encoding/json reads as U+FFFD. It costs a
// scan of b, and a second decode only when b holds such a number.
func unmarshalExact(b []byte, v any) error {
	if !utf8.Valid(b) { // Set keeps a json.RawMessage's bytes, as Get returns them
		off := invalidUTF8At(string(b))
		return fmt.Errorf("the JSON holds the byte 0x%02x, at offset %d, which is not UTF-8, and encoding/json would read it as U+FFFD: read its bytes with Get, or store the text as valid UTF-8", b[off], off)
	}
	inexact, lone := scanJSONLoss(b)
	if lone != "" {
		return fmt.Errorf("a string holds the escape %s, a lone UTF-16 surrogate, which encoding/json would read as U+FFFD: store the text with whole surrogate pairs", lone)
	}
	if inexact {
		if n := inexactInInterface(b, v); n != "" {
			f, _ := strconv.ParseFloat(n, 64)
			return fmt.Errorf("the number %s would decode into an interface as the float64 %v: decode it into an int64, a uint64 or a json.Number, or store it as a string", n, f)
		}
	}
	return json.Unmarshal(b, v)
}

// scanJSONLoss reports whether the valid JSON text b holds a number that
// inexactFloat refuses, and the first lone surrogate escape in its
// strings (\ud800 not followed by a low one, or a low one alone), or "".
func scanJSONLoss(b []byte) (inexact bool, lone string) {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			if b[i+1] != 'u' {
				i++ // the escaped byte cannot end the string
				continue
			}
			if r := escapedRune(b[i:]); utf16.IsSurrogate(r) {
				if r >= 0xdc00 || utf16.DecodeRune(r, escapedRune(b[i+6:])) == utf8.RuneError {
					return inexact, string(b[i : i+6])
				}
				i += 6
			}
			i += 5
		case c == '"':
			inString = !inString
		case !inString && (c == '-' || c >= '0' && c <= '9'):
			end := i
			for end < len(b) && strings.IndexByte("+-.0123456789eE", b[end]) >= 0 {
				end++
			}
			inexact = inexact || inexactFloat(string(b[i:end]))
			i = end - 1
		}
	}
	return inexact, ""
}

// escapedRune returns the rune of the \uXXXX escape b begins with, or -1.
func escapedRune(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	r, err := strconv.ParseUint(string(b[2:6]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(r)
}

// inexactFloat reports whether the JSON number text reads as a float64
// other than itself: an integer a float64 cannot hold, or a non-zero
// number that underflows to 0. A fraction is rounded, as a float64 rounds
// it; a number beyond a float64's range encoding/json refuses itself.
func inexactFloat(text string) bool {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return false
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(text), "e")
	if f == 0 {
		return strings.ContainsAny(mantissa, "123456789")
	}
	if strings.ContainsAny(text, ".eE") {
		return false
	}
	return strconv.FormatFloat(f, 'f', 0, 64) != text // the exact digits of an integral f
}

// inexactInInterface decodes b, with UseNumber, into a new value of the
// type v points to, and returns the first number inexactFloat refuses
// that landed in an interface, or "". Typed fields hold their numbers
// exactly or fail to decode, which json.Unmarshal then reports.
func inexactInInterface(b []byte, v any) string {
	ptr := reflect.ValueOf(v)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		return "" // json.Unmarshal says why it cannot decode into v
	}
	fresh := reflect.New(ptr.Type().Elem())
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(fresh.Interface()) != nil {
		return ""
	}
	return inexactIn(fresh.Elem())
}

var jsonNumberType = reflect.TypeFor[json.Number]()

func inexactIn(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		if e := v.Elem(); v.Kind() == reflect.Interface && e.Type() == jsonNumberType {
			if inexactFloat(e.String()) {
				return e.String()
			}
			return ""
		}
		return inexactIn(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if n := inexactIn(v.Field(i)); n != "" {
				return n
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if n := inexactIn(v.Index(i)); n != "" {
				return n
			}
		}
	case reflect.Map:
		for iter := v.MapRange(); iter.Next(); {
			if n := inexactIn(iter.Value()); n != "" {
				return n
			}
		}
	}
	return ""
}
