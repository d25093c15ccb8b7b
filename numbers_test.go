package cookiesession_test

import (
	"math"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// numericGetters are the typed getters that convert between numbers.
var numericGetters = map[string]bool{"int": true, "int64": true, "float64": true}

// TestNumericGetters checks that a stored number reads back through every
// numeric getter that holds it without loss, and as zero through the ones
// that cannot, before and after a round trip through the cookie.
func TestNumericGetters(t *testing.T) {
	type want struct {
		i     int64 // GetInt's result, as an int64: on a 32-bit platform it is 0 outside int32
		i64   int64
		u64   uint64
		f64   float64
		asI8  int8
		okI8  bool
		asF32 float32
		okF32 bool
	}
	tests := []struct {
		name string
		v    any
		want want
	}{
		{"int64 5", int64(5), want{5, 5, 5, 5, 5, true, 5, true}},
		{"int32 -3", int32(-3), want{-3, -3, 0, -3, -3, true, -3, true}},
		{"int8 -7", int8(-7), want{-7, -7, 0, -7, -7, true, -7, true}},
		{"int16 -300", int16(-300), want{-300, -300, 0, -300, 0, false, -300, true}},
		{"uint8 200", uint8(200), want{200, 200, 200, 200, 0, false, 200, true}},
		{"uint64 max", uint64(math.MaxUint64), want{0, 0, math.MaxUint64, 0, 0, false, 0, false}},
		{"int64 min", int64(math.MinInt64), want{math.MinInt64, math.MinInt64, 0, -(1 << 63), 0, false, -(1 << 63), true}},
		{"int64 2^53+1", int64(1<<53 + 1), want{1<<53 + 1, 1<<53 + 1, 1<<53 + 1, 0, 0, false, 0, false}},
		{"float64 41 (as JSON decodes)", 41.0, want{41, 41, 41, 41, 41, true, 41, true}},
		{"float64 2.5", 2.5, want{0, 0, 0, 2.5, 0, false, 2.5, true}},
		{"float64 -1", -1.0, want{-1, -1, 0, -1, -1, true, -1, true}},
		{"float64 2^63", math.Pow(2, 63), want{0, 0, 1 << 63, math.Pow(2, 63), 0, false, float32(math.Pow(2, 63)), true}},
		{"float64 0.1", 0.1, want{0, 0, 0, 0.1, 0, false, 0, false}},
		{"float64 NaN", math.NaN(), want{0, 0, 0, 0, 0, false, 0, false}},
		{"float32 1.5", float32(1.5), want{0, 0, 0, 1.5, 0, false, 1.5, true}},
		{"duration", time.Second, want{}},
		{"bool", true, want{}},
		{"string", "5", want{}},
	}
	f := newFixture(t, cookiesession.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, f)
			mustSet(t, s, "n", tt.v)
			for _, sess := range []*cookiesession.Session{s, reload(t, f, newClientCookies(), s)} {
				got := want{i: int64(sess.GetInt("n")), i64: sess.GetInt64("n"), u64: sess.GetUint64("n"), f64: sess.GetFloat64("n")}
				got.asI8, got.okI8 = cookiesession.GetAs[int8](sess, "n")
				got.asF32, got.okF32 = cookiesession.GetAs[float32](sess, "n")
				if tt.name == "float64 NaN" {
					if !math.IsNaN(got.f64) {
						t.Errorf("GetFloat64(NaN) = %v", got.f64)
					}
					got.f64 = 0
					if f, ok := cookiesession.GetAs[float64](sess, "n"); !ok || !math.IsNaN(f) {
						t.Errorf("GetAs[float64](NaN) = %v, %v", f, ok)
					}
					tt.want.okF32, got.asF32 = got.okF32, 0 // float32 NaN: either way
				}
				if int64(int(tt.want.i)) != tt.want.i { // the int does not hold it here
					tt.want.i = 0
				}
				if got != tt.want {
					t.Errorf("stored %T %v: got %+v, want %+v", tt.v, tt.v, got, tt.want)
				}
			}
		})
	}
}

// TestGetExactType checks that Get still returns the stored type, not a
// converted one.
func TestGetExactType(t *testing.T) {
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	mustSet(t, s, "n", int64(5))
	if v, _ := s.Get("n"); v != any(int64(5)) {
		t.Errorf("Get = %T %v, want int64 5", v, v)
	}
	if v, ok := cookiesession.GetAs[int64](s, "n"); !ok || v != 5 {
		t.Errorf("GetAs[int64] = %v, %v", v, ok)
	}
}
