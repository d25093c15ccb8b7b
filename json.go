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
// in base64. So is a struct whose fields are all unexported, which
// encoding/json writes as {}, losing them (gob, which gorilla/sessions
// uses, refuses such a type too): export its fields, or give it
// MarshalJSON and UnmarshalJSON, or, for another package's type (an error,
// a *time.Location), store what it holds (err.Error()). Such a refusal is logged at Warn, once
// per key and type, as Set's is.
func (s *Session) SetJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		err = checkJSON(v, b)
	}
	if err != nil {
		err = fmt.Errorf("cookiesession: SetJSON %q: %w", key, err)
		s.lock()
		defer s.unlock()
		if s.mgr == nil {
			return err // the zero Session: no Manager to log through
		}
		s.logRefusedValue(&s.mgr.refusedJSON, key, v, err, "cookiesession: Session.SetJSON could not encode a value, which the session does not hold (logged once per key and type; past 64 of them, at warn level once a minute, the others at debug; SetJSON returns the error)",
			slog.String("fix", "check SetJSON's error; store only what encoding/json encodes (no NaN or infinite float, func or channel), and keeps: text as valid UTF-8 (raw bytes as a []byte), and structs with exported fields"))
		return err
	}
	return s.Set(key, json.RawMessage(b))
}

// checkJSON refuses b, json.Marshal's encoding of v, if it does not carry
// v as GetJSON will read it: bytes that are not UTF-8, which a
// json.Marshaler or a json.RawMessage passed through; a U+FFFD that
// encoding/json wrote in place of such a byte in one of v's strings, as a
// \ufffd escape or, under GOEXPERIMENT=jsonv2, as itself; or a {} that
// encoding/json wrote for a struct whose fields are all unexported, which
// it leaves out (gob, which gorilla/sessions uses, refuses such a type).
// Only an output holding a U+FFFD or a {}, rare, costs a walk of v to
// tell a replacement from a U+FFFD of v's own or a json.Marshaler's, and
// such a struct from an empty map. The path is cut as log lines cut text:
// a map's keys may come from a request, of any length.
func checkJSON(v any, b []byte) error {
	if !utf8.Valid(b) {
		off := invalidUTF8At(string(b))
		return fmt.Errorf("the JSON holds the byte 0x%02x, at offset %d, which is not UTF-8: it came from a json.Marshaler or a json.RawMessage, and GetJSON would read it as U+FFFD; "+
			"make that value write valid UTF-8, and store raw bytes as a []byte, which JSON keeps exactly in base64", b[off], off)
	}
	w := lossWalk{
		texts:   bytes.Contains(b, []byte(`\ufffd`)) || bytes.Contains(b, []byte("\ufffd")),
		structs: bytes.Contains(b, []byte("{}")),
		seen:    map[visit]bool{},
		written: map[reflect.Type]map[string]bool{},
	}
	if !w.texts && !w.structs {
		return nil
	}
	loss, ok := w.value(reflect.ValueOf(v), "")
	switch {
	case !ok:
		return nil // the U+FFFD is v's own or a json.Marshaler's; the {} an empty map's or struct's
	case loss.hidden != nil && (reflect.PointerTo(loss.hidden).Implements(jsonMarshalerType) || reflect.PointerTo(loss.hidden).Implements(textMarshalerType)):
		return fmt.Errorf("the %v at %s is written as {}, its unexported fields left out: its MarshalJSON or MarshalText has a pointer receiver, which encoding/json calls only on a value it can take the address of, not one given by value nor a map's; "+
			"store a pointer to it (&v, or a map of *%[1]v)", loss.hidden, logText(cmp.Or(loss.path, ".")))
	case loss.hidden != nil:
		return fmt.Errorf("the %v at %s has only unexported fields, which encoding/json leaves out: it would store {} and lose them; "+
			"export the fields that hold data, or give %[1]v MarshalJSON and UnmarshalJSON methods; for a type of another package, which you cannot change, store what it holds in a field of your own: err.Error(), loc.String(), u.String(); "+
			"a field that holds nothing to keep (a sync.Mutex) can be tagged `json:\"-\"`", loss.hidden, logText(cmp.Or(loss.path, ".")))
	default:
		off := invalidUTF8At(loss.text)
		return fmt.Errorf("the string at %s is not UTF-8 (the byte 0x%02x at offset %d), and encoding/json would store U+FFFD in its place: "+
			"store raw bytes as a []byte, which JSON keeps exactly in base64, or convert the text to valid UTF-8", logText(cmp.Or(loss.path, ".")), loss.text[off], off)
	}
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

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// lossWalk walks a value as encoding/json writes it, for what checkJSON
// looks for. It follows encoding/json's rules where they decide what is
// written (a json.Marshaler writes its own, a []byte is base64, an
// unexported field or one tagged "-" is left out, an
// encoding.TextMarshaler is written as its text, map keys too, and of
// fields of one name, the one of fewest embeddings, or the one tagged
// with it, wins, and a tie drops them all: see writtenFields). seen holds
// the pointers, maps and slices visited, each walked once, but for an
// embedded pointer, walked for only the fields it lends.
type lossWalk struct {
	texts   bool // look for a string that is not UTF-8
	structs bool // look for a struct written as {} that holds unexported fields
	seen    map[visit]bool
	written map[reflect.Type]map[string]bool // writtenFields of each struct type met
	object  map[string]bool                  // writtenFields of the struct whose fields are walked
	index   []int                            // the index of the embedded struct walked in it
}

// jsonLoss is what lossWalk found, at path (jq's syntax): text, a string
// that is not UTF-8, or hidden, a struct type whose fields are all left out.
type jsonLoss struct {
	path   string
	text   string
	hidden reflect.Type
}

// visit is a pointer, map or slice lossWalk has walked: a slice by its
// type, first element and length, as encoding/json tells them.
type visit struct {
	typ reflect.Type
	ptr uintptr
	n   int
}

func (w *lossWalk) value(v reflect.Value, path string) (jsonLoss, bool) {
	return w.walk(v, path, false)
}

// walk is value, of a struct whose fields are promoted, if promoted: an
// embedded struct without a name in its tag, which encoding/json does not
// write as an object of its own, so that it is not written as {}.
func (w *lossWalk) walk(v reflect.Value, path string, promoted bool) (jsonLoss, bool) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem() // encoding/json writes what it holds
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return jsonLoss{}, false
	}
	// An embedded pointer is walked for the fields it lends, those of its
	// struct the outer one writes: a field holding it too writes them all.
	// Its walk ends, as only embedded structs leading to a written field
	// are followed (see writtenFields).
	if k := v.Kind(); !promoted && (k == reflect.Pointer || k == reflect.Map || k == reflect.Slice) {
		at := visit{v.Type(), v.Pointer(), 0}
		if k == reflect.Slice {
			at.n = v.Len()
		}
		if w.seen[at] {
			return jsonLoss{}, false // walked already, with nothing found
		}
		w.seen[at] = true
	}
	t := v.Type()
	if t.Implements(jsonMarshalerType) || v.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshalerType) {
		return jsonLoss{}, false // its output was checked as it is
	}
	if text, ok := marshalText(v); ok {
		return w.text(text, path)
	}
	switch v.Kind() {
	case reflect.String:
		return w.text(v.String(), path)
	case reflect.Pointer:
		return w.walk(v.Elem(), path, promoted)
	case reflect.Struct:
		if promoted {
			return w.fields(v, path)
		}
		if w.structs && hiddenFields(t, 0) {
			return jsonLoss{path: path, hidden: t}, true
		}
		object, index := w.object, w.index
		if w.object = w.written[t]; w.object == nil {
			w.object = writtenFields(t)
			w.written[t] = w.object
		}
		w.index = nil
		loss, ok := w.fields(v, path)
		w.object, w.index = object, index
		return loss, ok
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return jsonLoss{}, false // base64, unless its elements marshal themselves, which is rare
		}
		for i := range v.Len() {
			if loss, ok := w.value(v.Index(i), cmp.Or(path, ".")+"["+strconv.Itoa(i)+"]"); ok {
				return loss, ok
			}
		}
	case reflect.Map:
		return w.entries(v, path)
	}
	return jsonLoss{}, false
}

func (w *lossWalk) text(s, path string) (jsonLoss, bool) {
	return jsonLoss{path: path, text: s}, w.texts && !utf8.ValidString(s)
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

func (w *lossWalk) fields(v reflect.Value, path string) (jsonLoss, bool) {
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
		index := append(w.index[:len(w.index):len(w.index)], i)
		if !w.object[indexKey(index)] {
			continue // another field of its name is written in its place, or none is; or it lends none written
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitzero,") && omittedZero(fv) {
			continue // asked only of a field written, as encoding/json asks: its IsZero may panic elsewhere
		}
		promoted := name == "" && f.Anonymous && ft.Kind() == reflect.Struct // it lends its fields
		if promoted {
			outer := w.index
			w.index = index
			loss, ok := w.walk(fv, path, true)
			w.index = outer
			if ok {
				return loss, ok
			}
			continue
		}
		if loss, ok := w.walk(fv, jqMember(path, cmp.Or(name, f.Name)), false); ok {
			return loss, ok
		}
	}
	return jsonLoss{}, false
}

// writtenFields returns the fields of struct type t that encoding/json
// writes, by indexKey of their index, and the embedded structs that lend
// them, following its rules for fields of one name, which Go's for
// selectors underlie: the one of fewest embeddings wins, and of several
// of that depth, the one whose tag names it; a tie leaves them all out,
// as does a struct embedded more than once at one depth for its own.
// Embedded structs are followed a few levels deep, each type once.
func writtenFields(t reflect.Type) map[string]bool {
	type field struct {
		index  []int
		tagged bool
	}
	type embedded struct {
		typ   reflect.Type
		index []int
	}
	byName := map[string][]field{} // the fields of each name at its least depth
	depthOf := map[string]int{}
	visited := map[reflect.Type]bool{}
	level := []embedded{{t, nil}}
	var count map[reflect.Type]int // how often each type of level is embedded at its depth
	for depth := 0; len(level) > 0 && depth <= 8; depth++ {
		var next []embedded
		nextCount := map[reflect.Type]int{}
		for _, e := range level {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				f := e.typ.Field(i)
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				tag := f.Tag.Get("json")
				if !f.IsExported() && (!f.Anonymous || ft.Kind() != reflect.Struct) || tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(e.index[:len(e.index):len(e.index)], i)
				if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
					if nextCount[ft]++; nextCount[ft] == 1 {
						next = append(next, embedded{ft, index})
					}
					continue
				}
				name = cmp.Or(name, f.Name)
				if d, ok := depthOf[name]; ok && d < depth {
					continue
				}
				depthOf[name] = depth
				one := field{index, tag != "" && !strings.HasPrefix(tag, ",")}
				byName[name] = append(byName[name], one)
				if count[e.typ] > 1 {
					byName[name] = append(byName[name], one) // a tie with the copies not followed
				}
			}
		}
		level, count = next, nextCount
	}
	written := map[string]bool{}
	for _, fields := range byName {
		tagged := 0
		for _, f := range fields {
			if f.tagged {
				tagged++
			}
		}
		for _, f := range fields {
			if len(fields) == 1 || tagged == 1 && f.tagged {
				for n := range f.index {
					written[indexKey(f.index[:n+1])] = true // and the embedded structs lending it
				}
			}
		}
	}
	return written
}

// indexKey is a field's index, as a map key.
func indexKey(index []int) string {
	var b strings.Builder
	for _, i := range index {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('.')
	}
	return b.String()
}

var isZeroerType = reflect.TypeFor[interface{ IsZero() bool }]()

// omittedZero reports whether encoding/json leaves out fv, a field tagged
// omitzero: a nil pointer or interface, a value whose IsZero method (of the
// field's type, or of a pointer to it) says so, or else a zero value.
func omittedZero(fv reflect.Value) bool {
	t := fv.Type()
	if k := t.Kind(); (k == reflect.Pointer || k == reflect.Interface) && fv.IsNil() {
		return true // IsZero is not called on nil, which may panic (a nil *time.Time)
	}
	if !fv.CanInterface() {
		return fv.IsZero()
	}
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		if e := fv.Elem(); e.Kind() == reflect.Pointer && e.IsNil() {
			return true
		}
		return fv.Interface().(interface{ IsZero() bool }).IsZero()
	case t.Kind() != reflect.Interface && t.Implements(isZeroerType):
		return fv.Interface().(interface{ IsZero() bool }).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType):
		if !fv.CanAddr() {
			boxed := reflect.New(t)
			boxed.Elem().Set(fv)
			fv = boxed.Elem()
		}
		return fv.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return fv.IsZero()
}

func (w *lossWalk) entries(v reflect.Value, path string) (jsonLoss, bool) {
	keys := v.MapKeys()
	if v.Type().Key().Kind() == reflect.String {
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	}
	for _, k := range keys {
		name := fmt.Sprint(k)
		switch {
		case k.Kind() == reflect.String:
			name = k.String()
		case k.Kind() == reflect.Pointer && k.IsNil():
			name = "" // as encoding/json writes it, not calling its MarshalText, which may read through it
		default:
			if text, ok := marshalText(k); ok {
				name = text
			}
		}
		if loss, ok := w.text(name, cmp.Or(path, ".")+" (a key)"); ok {
			return loss, ok
		}
		if loss, ok := w.value(v.MapIndex(k), jqMember(path, name)); ok {
			return loss, ok
		}
	}
	return jsonLoss{}, false
}

// hiddenFields reports whether encoding/json writes a struct of type t,
// not a json.Marshaler, as {} whatever it holds, and it can hold something:
// none of its fields is written (exported and not tagged "-", or promoted
// from an embedded struct), and one is unexported and takes space (not a
// blank _ nor a struct{}). Embedded structs are followed a few levels deep,
// past which a field counts as written.
func hiddenFields(t reflect.Type, depth int) bool {
	written, hidden := jsonFields(t, depth)
	return !written && hidden
}

func jsonFields(t reflect.Type, depth int) (written, hidden bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Name == "_" || f.Tag.Get("json") == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			if depth >= 8 {
				return true, hidden
			}
			w, h := jsonFields(ft, depth+1) // its fields are promoted
			written, hidden = written || w, hidden || h
		case f.IsExported() || f.Anonymous && ft.Kind() == reflect.Struct:
			written = true // an embedded struct named in its tag is written under that name, exported or not
		case f.Type.Size() > 0:
			hidden = true
		}
	}
	return written, hidden
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
			// A float64 past 2^53 is written as its shortest digits, which an
			// int64 would read as another integer: 2^60 as ...847000.
			stored := ""
			if strconv.FormatFloat(f, 'f', -1, 64) == n {
				stored = "; if a float64 was stored, decode it into a float64, which reads these digits, the shortest encoding/json writes for it, exactly"
			}
			return fmt.Errorf("the number %s would decode into an interface as the float64 %v: decode it into an int64, a uint64 or a json.Number, or store it as a string%s", n, f, stored)
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
// that landed in an interface, or "". An integer field holds its number
// exactly or fails to decode, which json.Unmarshal then reports; a float
// field asked for the nearest float, and gets it, as from encoding/json.
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
