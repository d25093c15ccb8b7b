package cookiesession

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
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

// entry is one stored value in its wire-ready form. Strings, []byte and JSON
// live in str; numbers, bools and durations as raw bits in num; times,
// []string and map[string]string in val. Keeping the common kinds unboxed
// means decoding a token allocates nothing per string value.
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
// types are string, []byte, bool, every int, uint and float type, time.Time,
// time.Duration, []string, map[string]string, json.RawMessage and nil. Any
// other type must be stored as JSON (see [Session.SetJSON]). Slices and maps
// are copied in and out, so a caller cannot change a stored value behind the
// session's back.
type Values struct {
	// entries are sorted by key, keys unique. Every change builds a new
	// slice, so copies of a Values never share a change.
	entries []entry
	// A decoded Values keeps its validated encoding (n entries) instead:
	// reads scan it, changes splice it, and sealing copies it. Open then
	// makes one allocation, the copy of the values, and a request that
	// reads or changes a value re-seals without building entries; that is
	// what keeps the codec and the middleware within their cost targets.
	enc string
	n   int
}

// ErrUnsupportedType is returned by Set for a value whose type the codec
// does not carry. Store such values as JSON.
var ErrUnsupportedType = errors.New("cookiesession: unsupported value type")

func (v *Values) find(key string) (int, bool) {
	return slices.BinarySearchFunc(v.entries, key, func(e entry, k string) int {
		return strings.Compare(e.key, k)
	})
}

// Set stores val under key, replacing any earlier value. It returns an error
// wrapping [ErrUnsupportedType] if val's type cannot be stored, and leaves
// the Values unchanged in that case.
func (v *Values) Set(key string, val any) error {
	e, err := makeEntry(key, val)
	if err != nil {
		return err
	}
	v.put(e)
	return nil
}

// span returns the byte range of key's entry in the encoding, or the
// empty range where an entry for key belongs.
func (v *Values) span(key string) (start, end int, found bool) {
	r := valueReader{s: v.enc}
	var e entry
	for range v.n {
		start = r.off
		_ = r.entry(&e)
		switch {
		case e.key == key:
			return start, r.off, true
		case e.key > key: // keys are in order
			return start, start, false
		}
	}
	return len(v.enc), len(v.enc), false
}

// splice replaces the encoding's bytes [start, end) with e's encoding, or
// with nothing for a nil e.
func (v *Values) splice(start, end int, e *entry) {
	var small [128]byte
	var enc []byte
	if e != nil {
		enc = e.appendTo(small[:0])
	}
	var b strings.Builder
	b.Grow(len(v.enc) - (end - start) + len(enc))
	b.WriteString(v.enc[:start])
	b.Write(enc)
	b.WriteString(v.enc[end:])
	v.enc = b.String()
}

func (v *Values) put(e entry) {
	if v.enc != "" {
		start, end, found := v.span(e.key)
		v.splice(start, end, &e)
		if !found {
			v.n++
		}
		return
	}
	i, found := v.find(e.key)
	if found {
		v.entries = slices.Clone(v.entries)
		v.entries[i] = e
		return
	}
	v.entries = slices.Insert(slices.Clip(v.entries), i, e)
}

// Get returns the value stored under key and whether there was one.
func (v *Values) Get(key string) (any, bool) {
	e, ok := v.lookup(key)
	if !ok {
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
	if v.enc != "" {
		r := valueReader{s: v.enc}
		for range v.n {
			if r.entry(e) != nil || e.key > key { // keys are in order
				break
			}
			if e.key == key {
				return true
			}
		}
		*e = entry{}
		return false
	}
	i, found := v.find(key)
	if found {
		*e = v.entries[i]
	}
	return found
}

// Delete removes key and reports whether it was present.
func (v *Values) Delete(key string) bool {
	if v.enc != "" {
		start, end, found := v.span(key)
		switch {
		case !found:
		case v.n == 1:
			*v = Values{}
		default:
			v.splice(start, end, nil)
			v.n--
		}
		return found
	}
	i, found := v.find(key)
	if found {
		v.entries = slices.Delete(slices.Clone(v.entries), i, i+1)
	}
	return found
}

// Len returns the number of stored values.
func (v *Values) Len() int { return len(v.entries) + v.n }

// Keys returns the stored keys in ascending byte order.
func (v *Values) Keys() []string {
	keys := make([]string, 0, v.Len())
	for _, e := range v.entries {
		keys = append(keys, e.key)
	}
	r := valueReader{s: v.enc}
	for range v.n {
		var e entry
		_ = r.entry(&e)
		keys = append(keys, e.key)
	}
	return keys
}

// makeEntry converts a Go value to its stored form, copying anything mutable.
func makeEntry(key string, val any) (entry, error) {
	e := entry{key: key}
	switch x := val.(type) {
	case nil:
		e.kind = kindNil
	case string:
		e.kind, e.str = kindString, x
	case []byte:
		e.kind, e.str = kindBytes, string(x)
	case json.RawMessage:
		if !json.Valid(x) {
			return entry{}, fmt.Errorf("cookiesession: value for key %q is not valid JSON", key)
		}
		e.kind, e.str = kindJSON, string(x)
	case bool:
		e.kind = kindBool
		if x {
			e.num = 1
		}
	case time.Time:
		if _, offset := x.Zone(); offset <= -maxOffset || offset >= maxOffset {
			return entry{}, fmt.Errorf("cookiesession: time for key %q has zone offset %ds, outside ±24h", key, offset)
		}
		e.kind, e.val = kindTime, timeWire(x)
	case time.Duration:
		e.kind, e.num = kindDuration, uint64(x)
	case []string:
		e.kind, e.val = kindStrings, slices.Clone(x)
	case map[string]string:
		e.kind, e.val = kindStringMap, maps.Clone(x)
	default:
		return numericEntry(e, val)
	}
	return e, nil
}

func numericEntry(e entry, val any) (entry, error) {
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
		return entry{}, fmt.Errorf("%w %T for key %q: store it with SetJSON or convert it to a supported type",
			ErrUnsupportedType, val, e.key)
	}
	return e, nil
}

// equal reports whether two entries hold the same value (floats by bits).
func (e *entry) equal(o *entry) bool {
	if e.kind != o.kind || e.str != o.str || e.num != o.num {
		return false
	}
	switch e.kind {
	case kindTime:
		return e.val.(wireTime) == o.val.(wireTime)
	case kindStrings:
		return slices.Equal(e.val.([]string), o.val.([]string))
	case kindStringMap:
		return maps.Equal(e.val.(map[string]string), o.val.(map[string]string))
	}
	return true
}

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
