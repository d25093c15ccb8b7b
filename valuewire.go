package cookiesession

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The values section's wire form (FORMAT.md section 4): the canonical
// writer, and the strict reader that checks every rule before it allocates.

// encodedLen returns the exact size of appendTo's output.
func (v *Values) encodedLen() int { return uvarintLen(uint64(v.n)) + len(v.enc) }

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

// appendTo writes the values section: the count, then the entries.
func (v *Values) appendTo(b []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(v.n)), v.enc...)
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
	switch size {
	case 1:
		return append(b, byte(x))
	case 2:
		return binary.BigEndian.AppendUint16(b, uint16(x))
	case 4:
		return binary.BigEndian.AppendUint32(b, uint32(x))
	}
	return binary.BigEndian.AppendUint64(b, x)
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
	for i := range binary.MaxVarintLen64 {
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
	if r.off < len(r.s) { // the usual one-byte count, read inline
		if n := int(r.s[r.off]); n < 0x80 && n*minSize <= len(r.s)-r.off-1 {
			r.off++
			return n, nil
		}
	}
	return r.longCount(what, minSize)
}

func (r *valueReader) longCount(what string, minSize int) (int, error) {
	n, err := r.uvarint()
	if left := uint64(r.remaining()); err == nil && (n > left || n*uint64(minSize) > left) {
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

// decode validates the encoding s and sets v, which must be zero, to it.
// It rejects keys that are not in strictly ascending order (which covers
// duplicates) and trailing bytes, so every accepted input is the canonical
// encoding of its result.
func (v *Values) decode(s string) error {
	r := valueReader{s: s}
	// Each entry takes at least two bytes: a key length and a tag.
	count, err := r.count("value", 2)
	if err != nil {
		return err
	}
	start, prev := r.off, ""
	for i := range count {
		key, end := shortString(s, r.off)
		if end > 0 {
			r.off = end
		} else {
			var e entry
			if err := r.entry(&e); err != nil {
				return err
			}
			key = e.key
		}
		// Most keys differ in their first byte.
		if i > 0 && (prev == "" || key == "" || prev[0] >= key[0]) && prev >= key {
			return r.fail("key %q out of order or repeated", key)
		}
		prev = key
	}
	if r.remaining() != 0 {
		return r.fail("%d trailing bytes", r.remaining())
	}
	if count > 0 {
		v.enc, v.n = s[start:], count
	}
	return nil
}

// shortString reads the commonest entry at off, a key and a string or
// []byte shorter than 128 bytes each, whose lengths are single bytes and so
// always minimal varints. It returns the key and the entry's end, or an end
// of 0 for anything else: head and payload check every rule and word the
// error.
func shortString(s string, off int) (key string, end int) {
	if off >= len(s) || s[off] >= 0x80 {
		return "", 0
	}
	tag := off + 1 + int(s[off])
	// kindString and kindBytes are 1 and 2: one unsigned comparison.
	if tag+1 >= len(s) || s[tag]-byte(kindString) > 1 || s[tag+1] >= 0x80 {
		return "", 0
	}
	if end = tag + 2 + int(s[tag+1]); end > len(s) {
		return "", 0
	}
	return s[off+1 : tag], end
}

// entry reads one whole entry.
func (r *valueReader) entry(e *entry) error {
	if key, end := shortString(r.s, r.off); end > 0 {
		tag := r.off + 1 + len(key)
		e.key, e.kind, e.str = key, kind(r.s[tag]), r.s[tag+2:end]
		r.off = end
		return nil
	}
	if err := r.head(e); err != nil {
		return err
	}
	return r.payload(e)
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
