package cookiesession

import (
	"math"
)

// A stored number reads back through any numeric getter that can hold it
// without loss: an int64 through GetInt, a uint8 through GetFloat64, an
// integral float64 (as JSON decodes numbers) through GetInt. Durations are
// not numbers here, and nothing converts to or from a bool or a string.

// number is a stored integer or float, widened without loss.
type number struct {
	kind byte // 's' signed, 'u' unsigned, 'f' float
	i    int64
	u    uint64
	f    float64
}

// asNumber widens e if it holds an integer or float kind.
func (e *entry) asNumber() (number, bool) {
	switch e.kind {
	case kindInt, kindInt64:
		return number{kind: 's', i: int64(e.num)}, true
	case kindInt8:
		return number{kind: 's', i: int64(int8(e.num))}, true
	case kindInt16:
		return number{kind: 's', i: int64(int16(e.num))}, true
	case kindInt32:
		return number{kind: 's', i: int64(int32(e.num))}, true
	case kindUint, kindUint8, kindUint16, kindUint32, kindUint64:
		return number{kind: 'u', u: e.num}, true
	case kindFloat32:
		return number{kind: 'f', f: float64(math.Float32frombits(uint32(e.num)))}, true
	case kindFloat64:
		return number{kind: 'f', f: math.Float64frombits(e.num)}, true
	}
	return number{}, false
}

// int64 returns n if it is an integer within [lo, hi].
func (n number) int64(lo, hi int64) (int64, bool) {
	switch n.kind {
	case 's':
		return n.i, n.i >= lo && n.i <= hi
	case 'u':
		return int64(n.u), n.u <= math.MaxInt64 && int64(n.u) <= hi
	}
	// An integral float within range; -2^63 is exact, 2^63 is not an int64.
	if n.f != math.Trunc(n.f) || n.f < -(1<<63) || n.f >= 1<<63 {
		return 0, false
	}
	i := int64(n.f)
	return i, i >= lo && i <= hi
}

// uint64 returns n if it is a non-negative integer at most hi.
func (n number) uint64(hi uint64) (uint64, bool) {
	switch n.kind {
	case 's':
		return uint64(n.i), n.i >= 0 && uint64(n.i) <= hi
	case 'u':
		return n.u, n.u <= hi
	}
	if n.f != math.Trunc(n.f) || n.f < 0 || n.f >= 1<<64 {
		return 0, false
	}
	u := uint64(n.f)
	return u, u <= hi
}

// float64 returns n if a float64 holds it exactly.
func (n number) float64() (float64, bool) {
	switch n.kind {
	case 's':
		f := float64(n.i)
		return f, f < 1<<63 && int64(f) == n.i
	case 'u':
		f := float64(n.u)
		return f, f < 1<<64 && uint64(f) == n.u
	}
	return n.f, true
}

// convertNumber converts n to T, a numeric type, without loss.
func convertNumber[T any](n number) (T, bool) {
	var out T
	ok := false
	switch p := any(&out).(type) {
	case *int:
		var x int64
		x, ok = n.int64(math.MinInt, math.MaxInt)
		*p = int(x)
	case *int8:
		var x int64
		x, ok = n.int64(math.MinInt8, math.MaxInt8)
		*p = int8(x)
	case *int16:
		var x int64
		x, ok = n.int64(math.MinInt16, math.MaxInt16)
		*p = int16(x)
	case *int32:
		var x int64
		x, ok = n.int64(math.MinInt32, math.MaxInt32)
		*p = int32(x)
	case *int64:
		*p, ok = n.int64(math.MinInt64, math.MaxInt64)
	case *uint:
		var x uint64
		x, ok = n.uint64(math.MaxUint)
		*p = uint(x)
	case *uint8:
		var x uint64
		x, ok = n.uint64(math.MaxUint8)
		*p = uint8(x)
	case *uint16:
		var x uint64
		x, ok = n.uint64(math.MaxUint16)
		*p = uint16(x)
	case *uint32:
		var x uint64
		x, ok = n.uint64(math.MaxUint32)
		*p = uint32(x)
	case *uint64:
		*p, ok = n.uint64(math.MaxUint64)
	case *float64:
		*p, ok = n.float64()
	case *float32:
		var f float64
		f, ok = n.float64()
		*p = float32(f)
		ok = ok && (float64(*p) == f || math.IsNaN(f))
	}
	if !ok {
		var zero T
		return zero, false
	}
	return out, true
}
