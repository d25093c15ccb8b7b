package cookiesession

import (
	"math"
	"reflect"
	"time"
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

// convertNumber converts n to T without loss. T is any type whose kind
// is an integer or a float, so named ones (type UserID int64) convert
// too, except time.Duration: a number carries no unit.
func convertNumber[T any](n number) (T, bool) {
	var out T
	v := reflect.ValueOf(&out).Elem()
	ok := false
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, fits := n.int64(math.MinInt64, math.MaxInt64)
		if ok = fits && !v.OverflowInt(x) && v.Type() != durationType; ok {
			v.SetInt(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, fits := n.uint64(math.MaxUint64)
		if ok = fits && !v.OverflowUint(x); ok {
			v.SetUint(x)
		}
	case reflect.Float32, reflect.Float64:
		f, fits := n.float64()
		// A float32 holds f if f survives the round trip; NaN never
		// equals itself but is held.
		exact := v.Kind() == reflect.Float64 || float64(float32(f)) == f || math.IsNaN(f)
		if ok = fits && exact; ok {
			v.SetFloat(f)
		}
	}
	if !ok {
		var zero T
		return zero, false
	}
	return out, true
}

var durationType = reflect.TypeFor[time.Duration]()
