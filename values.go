package cookiesession

import (
	"encoding/binary"
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

// encodedLen returns the exact size of appendValues' output.
func (v *Values) encodedLen() int {
	if v.enc != "" {
		return uvarintLen(uint64(v.n)) + len(v.enc)
	}
	n := uvarintLen(uint64(len(v.entries)))
	for i := range v.entries {
		n += v.entries[i].encodedLen()
	}
	return n
}

func (e *entry) encodedLen() int {
	n := stringLen(e.key) + 1
	if size := fixedSize[e.kind]; size > 0 {
		return n + size
	}
	switch e.kind {
	case kindString, kindBytes, kindJSON:
		n += stringLen(e.str)
	case kindStrings:
		list := e.val.([]string)
		n += uvarintLen(uint64(len(list)))
		for _, s := range list {
			n += stringLen(s)
		}
	case kindStringMap:
		m := e.val.(map[string]string)
		n += uvarintLen(uint64(len(m)))
		for k, s := range m {
			n += stringLen(k) + stringLen(s)
		}
	}
	return n
}

func stringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(x uint64) int {
	if x < 0x80 {
		return 1
	}
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendValues writes the canonical encoding: a count, then the entries in
// ascending key order.
func (v *Values) appendTo(b []byte) []byte {
	if v.enc != "" {
		return append(binary.AppendUvarint(b, uint64(v.n)), v.enc...)
	}
	b = binary.AppendUvarint(b, uint64(len(v.entries)))
	for i := range v.entries {
		b = v.entries[i].appendTo(b)
	}
	return b
}

func (e *entry) appendTo(b []byte) []byte {
	b = appendString(b, e.key)
	b = append(b, byte(e.kind))
	switch e.kind {
	case kindNil:
	case kindString, kindBytes, kindJSON:
		b = appendString(b, e.str)
	case kindTime:
		w := e.val.(wireTime)
		b = binary.BigEndian.AppendUint64(b, uint64(w.sec))
		b = binary.BigEndian.AppendUint32(b, w.nsec)
		b = binary.BigEndian.AppendUint32(b, uint32(w.offset))
	case kindStrings:
		list := e.val.([]string)
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = appendString(b, s)
		}
	case kindStringMap:
		b = appendStringMap(b, e.val.(map[string]string))
	default:
		b = appendFixed(b, e.num, fixedSize[e.kind])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	if len(s) < 0x80 { // a one-byte length: most keys and values
		return append(append(b, byte(len(s))), s...)
	}
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendFixed(b []byte, x uint64, size int) []byte {
	for shift := (size - 1) * 8; shift >= 0; shift -= 8 {
		b = append(b, byte(x>>shift))
	}
	return b
}

// appendStringMap writes the map's entries in ascending key order so that
// the encoding is canonical.
func appendStringMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

// errValues is the root of every value-decoding failure.
var errValues = errors.New("bad values encoding")

// valueReader decodes the canonical encoding from a string, so that decoded
// strings are substrings of one backing copy and cost no allocation each.
// Every length is checked against what remains before anything is allocated.
type valueReader struct {
	s   string
	off int
}

func (r *valueReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errValues, r.off, fmt.Sprintf(format, args...))
}

func (r *valueReader) remaining() int { return len(r.s) - r.off }

// uvarint reads a minimally encoded LEB128 value.
func (r *valueReader) uvarint() (uint64, error) {
	if r.off < len(r.s) && r.s[r.off] < 0x80 { // the common one-byte case
		r.off++
		return uint64(r.s[r.off-1]), nil
	}
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.off >= len(r.s) {
			return 0, r.fail("truncated length")
		}
		c := r.s[r.off]
		r.off++
		if i == 9 && c > 1 {
			return 0, r.fail("length overflows 64 bits")
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, r.fail("non-minimal length")
			}
			return x, nil
		}
	}
	return 0, r.fail("length overflows 64 bits")
}

// count reads an element count and checks, before anything is allocated,
// that the remaining bytes can hold that many elements of minSize bytes.
func (r *valueReader) count(what string, minSize int) (int, error) {
	n, err := r.uvarint()
	if err == nil && n > uint64(r.remaining()/minSize) {
		err = r.countOverflow(what, n)
	}
	return int(n), err
}

func (r *valueReader) countOverflow(what string, n uint64) error {
	return r.fail("%s count %d cannot fit in the %d bytes that remain", what, n, r.remaining())
}

func (r *valueReader) str() (string, error) {
	n, err := r.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(r.remaining()) {
		return "", r.fail("string of %d bytes exceeds the %d that remain", n, r.remaining())
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

func (r *valueReader) fixed(size int) (uint64, error) {
	if size > r.remaining() {
		return 0, r.fail("truncated value")
	}
	var x uint64
	for _, c := range []byte(r.s[r.off : r.off+size]) {
		x = x<<8 | uint64(c)
	}
	r.off += size
	return x, nil
}

// decode validates the encoding s and sets v, which must be zero, to it:
// entries are built from it at the first change. It rejects keys that are not in
// strictly ascending order (which covers duplicates) and trailing bytes, so
// every accepted input is the canonical encoding of its result.
func (v *Values) decode(s string) error {
	r := valueReader{s: s}
	// Each entry takes at least two bytes: a key length and a tag.
	count, err := r.count("value", 2)
	if err != nil {
		return err
	}
	start := r.off
	var e entry
	prev := ""
	for i := range count {
		if err := r.entry(&e); err != nil {
			return err
		}
		if i > 0 && prev >= e.key {
			return r.fail("key %q out of order or repeated", e.key)
		}
		prev = e.key
	}
	if r.remaining() != 0 {
		return r.fail("%d trailing bytes", r.remaining())
	}
	if count > 0 {
		v.enc, v.n = s[start:], count
	}
	return nil
}

// entry reads one whole entry.
func (r *valueReader) entry(e *entry) error {
	if r.shortString(e) {
		return nil
	}
	if err := r.head(e); err != nil {
		return err
	}
	return r.payload(e)
}

// shortString reads the commonest entry, a key and a string or []byte
// shorter than 128 bytes each, whose lengths are single bytes and so always
// minimal varints. For anything else it reads nothing and returns false:
// head and payload check every rule and word the error.
func (r *valueReader) shortString(e *entry) bool {
	s, off := r.s, r.off
	if off >= len(s) || s[off] >= 0x80 {
		return false
	}
	tag := off + 1 + int(s[off])
	if tag+1 >= len(s) || (kind(s[tag]) != kindString && kind(s[tag]) != kindBytes) || s[tag+1] >= 0x80 {
		return false
	}
	end := tag + 2 + int(s[tag+1])
	if end > len(s) {
		return false
	}
	e.key, e.kind, e.str = s[off+1:tag], kind(s[tag]), s[tag+2:end]
	r.off = end
	return true
}

// head reads an entry's key and type tag.
func (r *valueReader) head(e *entry) error {
	key, err := r.str()
	if err != nil {
		return err
	}
	e.key = key
	if r.remaining() < 1 {
		return r.fail("truncated value")
	}
	tag := kind(r.s[r.off])
	r.off++
	if tag > kindMax {
		return r.fail("unknown type tag 0x%02x", byte(tag))
	}
	e.kind = tag
	return nil
}

func (r *valueReader) payload(e *entry) (err error) {
	switch e.kind {
	case kindNil:
	case kindString, kindBytes:
		e.str, err = r.str()
	case kindJSON:
		e.str, err = r.str()
		if err == nil && !json.Valid([]byte(e.str)) {
			err = r.fail("invalid JSON for key %q", e.key)
		}
	case kindTime:
		e.val, err = r.time()
	case kindStrings:
		e.val, err = r.strings()
	case kindStringMap:
		e.val, err = r.stringMap()
	default:
		e.num, err = r.fixed(fixedSize[e.kind])
		if err == nil {
			err = r.checkNumber(e)
		}
	}
	return err
}

// checkNumber refuses a bool byte other than 0 or 1, and an int or uint
// that does not fit this platform's int size (on 32-bit platforms).
func (r *valueReader) checkNumber(e *entry) error {
	switch {
	case e.kind == kindBool && e.num > 1:
		return r.fail("bool byte 0x%02x is not 0 or 1", e.num)
	case e.kind == kindInt && int64(int(int64(e.num))) != int64(e.num):
		return r.fail("int %d does not fit this platform's int", int64(e.num))
	case e.kind == kindUint && uint64(uint(e.num)) != e.num:
		return r.fail("uint %d does not fit this platform's uint", e.num)
	}
	return nil
}

// maxOffset bounds a time's zone offset: real offsets are within ±14h.
const maxOffset = 24 * 60 * 60

func (r *valueReader) time() (wireTime, error) {
	if r.remaining() < fixedSize[kindTime] {
		return wireTime{}, r.fail("truncated time")
	}
	sec, _ := r.fixed(8)
	nsec, _ := r.fixed(4)
	offset, _ := r.fixed(4)
	w := wireTime{sec: int64(sec), nsec: uint32(nsec), offset: int32(uint32(offset))}
	if w.nsec >= 1e9 {
		return wireTime{}, r.fail("nanoseconds %d out of range", w.nsec)
	}
	if w.offset <= -maxOffset || w.offset >= maxOffset {
		return wireTime{}, r.fail("zone offset %d out of range", w.offset)
	}
	return w, nil
}

func (r *valueReader) strings() ([]string, error) {
	// Each element takes at least its one-byte length.
	n, err := r.count("list element", 1)
	if err != nil {
		return nil, err
	}
	list := make([]string, n)
	for i := range n {
		str, err := r.str()
		if err != nil {
			return nil, err
		}
		list[i] = str
	}
	return list, nil
}

func (r *valueReader) stringMap() (map[string]string, error) {
	// Each pair takes at least two one-byte lengths.
	n, err := r.count("map entry", 2)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, n)
	prev := ""
	for i := range n {
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		if i > 0 && k <= prev {
			return nil, r.fail("map key %q out of order or repeated", k)
		}
		val, err := r.str()
		if err != nil {
			return nil, err
		}
		m[k] = val
		prev = k
	}
	return m, nil
}
