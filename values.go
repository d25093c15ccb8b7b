package cookiesession

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// kind is the one-byte type tag that precedes every value on the wire.
// The numbers are part of wire format v1 (FORMAT.md) and never change.
type kind byte

const (
	kindNil       kind = 0x00
	kindString    kind = 0x01
	kindBytes     kind = 0x02
	kindBool      kind = 0x03
	kindInt       kind = 0x04
	kindInt8      kind = 0x05
	kindInt16     kind = 0x06
	kindInt32     kind = 0x07
	kindInt64     kind = 0x08
	kindUint      kind = 0x09
	kindUint8     kind = 0x0a
	kindUint16    kind = 0x0b
	kindUint32    kind = 0x0c
	kindUint64    kind = 0x0d
	kindFloat32   kind = 0x0e
	kindFloat64   kind = 0x0f
	kindTime      kind = 0x10
	kindDuration  kind = 0x11
	kindStrings   kind = 0x12
	kindStringMap kind = 0x13
	kindJSON      kind = 0x14
	kindMax            = kindJSON
)

// fixedSize is the payload width of the fixed-size kinds; 0 means variable.
var fixedSize = [kindMax + 1]int{
	kindBool: 1, kindInt: 8, kindInt8: 1, kindInt16: 2, kindInt32: 4, kindInt64: 8,
	kindUint: 8, kindUint8: 1, kindUint16: 2, kindUint32: 4, kindUint64: 8,
	kindFloat32: 4, kindFloat64: 8, kindTime: 16, kindDuration: 8,
}

// entry is one value decoded from the encoding, or about to be encoded.
// Strings, []byte and JSON live in str; numbers, bools and durations as raw
// bits in num; times, []string and map[string]string in val.
type entry struct {
	key  string
	kind kind
	str  string
	num  uint64
	val  any
}

// Values is an ordered set of typed values: the contents of a session. The
// zero value is empty and ready to use. Values is not safe for concurrent
// use; Session adds the locking. Reading it (Get, Keys, Len) never modifies
// it, so concurrent reads are safe.
//
// A value comes back as the exact Go type it was stored as. The supported
// types are string, []byte, bool, every int, uint and float type (not
// uintptr), time.Time, time.Duration, []string, map[string]string,
// json.RawMessage and nil. Any
// other type must be stored as JSON (see [Session.SetJSON]). Slices and maps
// are copied in and out, so a caller cannot change a stored value behind the
// session's back; a nil slice or map comes back empty, not nil. A time.Time
// keeps its instant and zone offset, not its Location's name nor its
// monotonic clock reading, so compare times with Equal.
//
// A Values has no JSON form: encoding/json would turn an int64 into a
// float64, so MarshalJSON and UnmarshalJSON fail, rather than write or read
// a Values (and so a Record) as {} without a word. Carry a Record as a
// token (see [Codec]), and store JSON inside one with [Session.SetJSON].
type Values struct {
	// enc is the canonical encoding of the n values, in ascending key
	// order (FORMAT.md section 4, less its leading count), and the only
	// form they are kept in: reads scan it, changes splice it, sealing
	// copies it, and opening validates it once. It is always valid, so the
	// scans need no checks. Every change builds a new string, so copies of
	// a Values never share a change.
	enc string
	n   int
}

var (
	_ json.Marshaler   = Values{}
	_ json.Unmarshaler = (*Values)(nil)
)

// errNoJSON is why a Values has no JSON form.
var errNoJSON = errors.New("cookiesession: a Values has no JSON form, which would not keep each value's Go type: " +
	"carry the Record as a token (Codec.Seal and Open), or copy the values out with Get")

// MarshalJSON fails: see [Values].
func (v Values) MarshalJSON() ([]byte, error) { return nil, errNoJSON }

// UnmarshalJSON fails: see [Values].
func (v *Values) UnmarshalJSON([]byte) error { return errNoJSON }

// ErrUnsupportedType is wrapped by the error Session.Set and Values.Set
// return for a value whose type the codec does not carry; match it with
// errors.Is. Store such values as JSON (Session.SetJSON).
var ErrUnsupportedType = errors.New("cookiesession: unsupported value type")

// Set stores val under key, replacing any earlier value. It returns an error
// wrapping [ErrUnsupportedType] if val's type cannot be stored, and leaves
// the Values unchanged in that case.
func (v *Values) Set(key string, val any) error {
	var e entry
	if err := e.set(key, val); err != nil {
		return err
	}
	v.put(&e)
	return nil
}

// put stores e and reports whether that changed the encoding: storing the
// value a key already holds, bit for bit, does not.
func (v *Values) put(e *entry) bool {
	var small [128]byte
	enc := e.appendTo(small[:0])
	start, end, found := v.span(e.key)
	if found && v.enc[start:end] == string(enc) {
		return false
	}
	v.splice(start, end, enc)
	if !found {
		v.n++
	}
	return true
}

// splice replaces the encoding's bytes [start, end) with enc.
func (v *Values) splice(start, end int, enc []byte) {
	var b strings.Builder
	b.Grow(len(v.enc) - (end - start) + len(enc))
	b.WriteString(v.enc[:start])
	b.Write(enc)
	b.WriteString(v.enc[end:])
	v.enc = b.String()
}

// span returns the byte range of key's entry in the encoding, or the
// empty range where an entry for key belongs.
func (v *Values) span(key string) (start, end int, found bool) {
	for off := 0; off < len(v.enc); off = end {
		// shortString, inlined, reads the commonest entry; next any.
		k, e := shortString(v.enc, off)
		if end = e; e == 0 {
			k, end = v.next(off)
		}
		// Most keys differ in their first byte: comparing it first saves a
		// call to the runtime's string comparison for each entry passed.
		if k != "" && key != "" && k[0] != key[0] {
			if k[0] > key[0] {
				return off, off, false // keys are in order: key's place is here
			}
			continue
		}
		switch strings.Compare(k, key) {
		case 0:
			return off, end, true
		case 1: // keys are in order: key's place is here
			return off, off, false
		}
	}
	return len(v.enc), len(v.enc), false
}

// adds reports whether v holds an entry, key and value, that orig does not:
// a Set since v was copied from orig.
func (v *Values) adds(orig *Values) bool {
	for off, end := 0, 0; off < len(v.enc); off = end {
		var key string
		key, end = v.next(off)
		start, origEnd, found := orig.span(key)
		if !found || orig.enc[start:origEnd] != v.enc[off:end] {
			return true
		}
	}
	return false
}

// next returns the key of the entry that starts at off, and where it ends.
// The encoding is valid, so nothing is checked.
func (v *Values) next(off int) (key string, end int) {
	s := v.enc
	key, off = stringAt(s, off)
	k := kind(s[off])
	off++
	switch k {
	case kindString, kindBytes, kindJSON:
		_, off = stringAt(s, off)
	case kindStrings, kindStringMap:
		var n uint64
		n, off = uvarintAt(s, off)
		if k == kindStringMap {
			n *= 2 // a key and a value each
		}
		for range n {
			_, off = stringAt(s, off)
		}
	default:
		off += fixedSize[k]
	}
	return key, off
}

// stringAt returns the string at off in a valid encoding, and where it
// ends.
func stringAt(s string, off int) (string, int) {
	n := uint64(s[off])
	if n < 0x80 { // a one-byte length: most keys and values
		off++
	} else {
		n, off = uvarintAt(s, off)
	}
	return s[off : off+int(n)], off + int(n)
}

// uvarintAt returns the varint at off in a valid encoding, and where it
// ends.
func uvarintAt(s string, off int) (uint64, int) {
	var x uint64
	for shift := 0; ; shift += 7 {
		c := s[off]
		off++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x, off
		}
	}
}

// Get returns the value stored under key and whether there was one.
func (v *Values) Get(key string) (any, bool) {
	var e entry
	if !v.lookupInto(key, &e) {
		return nil, false
	}
	return e.value(), true
}

// lookup returns the entry under key.
func (v *Values) lookup(key string) (e entry, ok bool) {
	ok = v.lookupInto(key, &e)
	return e, ok
}

// lookupInto is lookup filling in the caller's zero entry, which saves
// copying one on the way out of each getter.
func (v *Values) lookupInto(key string, e *entry) bool {
	start, end, found := v.span(key)
	if found {
		r := valueReader{s: v.enc[:end], off: start}
		_ = r.entry(e) // valid: it was checked when it was decoded or set
	}
	return found
}

// Delete removes key and reports whether it was present.
func (v *Values) Delete(key string) bool {
	start, end, found := v.span(key)
	if found {
		v.splice(start, end, nil)
		v.n--
	}
	return found
}

// Len returns the number of stored values.
func (v *Values) Len() int { return v.n }

// Keys returns the stored keys in ascending byte order.
func (v *Values) Keys() []string {
	keys := make([]string, 0, v.n)
	for off := 0; off < len(v.enc); {
		var key string
		key, off = v.next(off)
		keys = append(keys, key)
	}
	return keys
}

// set makes e, which must be zero, hold val under key, in its stored
// form. It is encoded before Set returns, so mutable values need no copy.
func (e *entry) set(key string, val any) error {
	e.key = key
	switch x := val.(type) {
	case nil:
		e.kind = kindNil
	case string:
		e.kind, e.str = kindString, x
	case []byte:
		e.kind, e.str = kindBytes, string(x)
	case json.RawMessage:
		if !json.Valid(x) {
			return fmt.Errorf("cookiesession: value for key %q is not valid JSON: %s", key, setFix(val, key))
		}
		e.kind, e.str = kindJSON, string(x)
	case bool:
		e.kind = kindBool
		if x {
			e.num = 1
		}
	case time.Time:
		if _, offset := x.Zone(); offset <= -maxOffset || offset >= maxOffset {
			return fmt.Errorf("cookiesession: time for key %q has zone offset %ds, outside ±24h: %s", key, offset, setFix(val, key))
		}
		e.kind, e.val = kindTime, timeWire(x)
	case time.Duration:
		e.kind, e.num = kindDuration, uint64(x)
	case []string:
		e.kind, e.val = kindStrings, x
	case map[string]string:
		e.kind, e.val = kindStringMap, x
	default:
		return e.setNumber(val)
	}
	return nil
}

func (e *entry) setNumber(val any) error {
	switch x := val.(type) {
	case int:
		e.kind, e.num = kindInt, uint64(x)
	case int8:
		e.kind, e.num = kindInt8, uint64(uint8(x))
	case int16:
		e.kind, e.num = kindInt16, uint64(uint16(x))
	case int32:
		e.kind, e.num = kindInt32, uint64(uint32(x))
	case int64:
		e.kind, e.num = kindInt64, uint64(x)
	case uint:
		e.kind, e.num = kindUint, uint64(x)
	case uint8:
		e.kind, e.num = kindUint8, uint64(x)
	case uint16:
		e.kind, e.num = kindUint16, uint64(x)
	case uint32:
		e.kind, e.num = kindUint32, uint64(x)
	case uint64:
		e.kind, e.num = kindUint64, x
	case float32:
		e.kind, e.num = kindFloat32, uint64(math.Float32bits(x))
	case float64:
		e.kind, e.num = kindFloat64, math.Float64bits(x)
	default:
		return unsupported(val, e.key)
	}
	return nil
}

// unsupported is Set's error for val, of a type it does not carry.
func unsupported(val any, key string) error {
	return fmt.Errorf("%w %T for key %q: %s", ErrUnsupportedType, val, key, setFix(val, key))
}

// setFix returns how to store val, which Set refused: its error ends
// with it, and the Warn of the refusal gives it, so the two never differ.
func setFix(val any, key string) string {
	switch val.(type) {
	case json.RawMessage:
		return "pass the text json.Marshal returns, or store the value itself with SetJSON"
	case time.Time:
		return "store t.UTC(), or the time in a zone whose offset is within ±24h"
	}
	if fix := conversionFix(val, key); fix != "" {
		return fix
	}
	return "store it with SetJSON or convert it to a supported type"
}

// conversionFix returns how to store val, of a type Set refuses, without
// JSON, or "" if there is no such way. A named type of a kind the session
// carries (type UserID int64), or of a slice or map type it carries (type
// Tags []string), gets the conversion that stores it, and the getter that
// reads it back as itself; a pointer to a type it carries (*string), the
// dereference.
func conversionFix(val any, key string) string {
	var pointee entry
	t := reflect.TypeOf(val)
	switch {
	case t == nil:
		return ""
	case t.Kind() == reflect.Pointer && pointee.set(key, reflect.Zero(t.Elem()).Interface()) == nil:
		return "store the value it points to (*p), or nil for a nil pointer: a session holds no pointer"
	case t.PkgPath() == "":
		return ""
	}
	if k := t.Kind(); k == reflect.Bool || k == reflect.String || (k >= reflect.Int && k <= reflect.Float64 && k != reflect.Uintptr) {
		return fmt.Sprintf("store %s(v) and read it back with GetAs[%s]", k, t)
	}
	if c := collectionOf(t); c != nil {
		return fmt.Sprintf("store %s(v) and read it back with GetAs[%s]", strings.Replace(c.String(), "uint8", "byte", 1), t)
	}
	return ""
}

// collections are the slice and map types a session carries, which a
// named type of one (type Tags []string) converts to and from.
var collections = []reflect.Type{reflect.TypeFor[[]string](), reflect.TypeFor[[]byte](), reflect.TypeFor[map[string]string]()}

// collectionOf returns the one of collections that t is underneath, or nil.
// json.RawMessage, a []byte underneath, is JSON, not bytes.
func collectionOf(t reflect.Type) reflect.Type {
	if t == rawMessageType {
		return nil
	}
	for _, c := range collections {
		if t.Kind() == c.Kind() && t.ConvertibleTo(c) {
			return c
		}
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// value rebuilds the Go value. Mutable values are copied so the caller owns
// what it gets.
func (e *entry) value() any {
	switch e.kind {
	case kindNil:
		return nil
	case kindString:
		return e.str
	case kindBytes:
		return []byte(e.str)
	case kindJSON:
		return json.RawMessage(e.str)
	case kindBool:
		return e.num == 1
	case kindTime:
		return e.val.(wireTime).time()
	case kindDuration:
		return time.Duration(e.num)
	case kindStrings:
		return slices.Clone(e.val.([]string))
	case kindStringMap:
		return maps.Clone(e.val.(map[string]string))
	}
	return e.number()
}

func (e *entry) number() any {
	switch e.kind {
	case kindInt:
		return int(int64(e.num))
	case kindInt8:
		return int8(e.num)
	case kindInt16:
		return int16(e.num)
	case kindInt32:
		return int32(e.num)
	case kindInt64:
		return int64(e.num)
	case kindUint:
		return uint(e.num)
	case kindUint8:
		return uint8(e.num)
	case kindUint16:
		return uint16(e.num)
	case kindUint32:
		return uint32(e.num)
	case kindUint64:
		return e.num
	case kindFloat32:
		return math.Float32frombits(uint32(e.num))
	case kindFloat64:
		return math.Float64frombits(e.num)
	}
	panic("cookiesession: unreachable: bad kind in entry")
}

// wireTime is a time.Time reduced to what the wire carries: the instant and
// the zone offset. The location's name and the monotonic reading are lost.
type wireTime struct {
	sec    int64
	nsec   uint32
	offset int32
}

func timeWire(t time.Time) wireTime {
	_, offset := t.Zone()
	return wireTime{sec: t.Unix(), nsec: uint32(t.Nanosecond()), offset: int32(offset)}
}

func (w wireTime) time() time.Time {
	t := time.Unix(w.sec, int64(w.nsec))
	if w.offset == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(w.offset)))
}
