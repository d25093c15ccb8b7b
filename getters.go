package cookiesession

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
)

// lookupKind sets the caller's zero entry e to the one under key if it
// holds kind k, and leaves it zero otherwise, which getter, the caller,
// reports if key holds another kind (see wrongType).
func (s *Session) lookupKind(getter, key string, k kind, e *entry) bool {
	s.lock()
	defer s.unlock()
	if s.values.lookupInto(key, e) {
		if e.kind == k {
			return true
		}
		s.wrongType(getter, key, e)
	}
	*e = entry{}
	return false
}

// wrongType logs a getter that found under key a value it cannot return,
// e, and returned the zero value, as for a missing key: code that reads a
// key as another type than was stored (GetInt of a string, or of a key an
// older release stored as a string) would take a signed-in user for a
// guest, without a word. It is logged once per getter, key and stored
// kind (see causes): another key read with the wrong getter, in other
// code, is another mistake, and said too. The value is not logged. s's
// lock is held. A cause logged returns before the line is built: code
// that reads a key as the wrong type does so at every request.
func (s *Session) wrongType(getter, key string, e *entry) {
	level, ok := s.wrongReadLevel(getter, key, e)
	if !ok {
		return
	}
	s.logRefused(level, "cookiesession: Session."+getter+" found under the key a value it cannot return (another type, or a number its type cannot hold exactly), and returned the zero value, as for a missing key (logged once per getter, key and stored type; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("key", logText(key)), slog.String("holds", fmt.Sprintf("%T", e.value())),
		slog.String("fix", "read the key with the getter of the type it holds, or with Get, which returns it as stored; a key whose type changed between releases is read with GetAs for each type, which reports false for another type without this line, or given a new name"))
}

// wrongReadLevel returns the level at which to log a read by getter of
// key that found e and returned nothing, and false once its cause was
// logged (see causes) or for a session of no Manager. s's lock is held.
func (s *Session) wrongReadLevel(getter, key string, e *entry) (slog.Level, bool) {
	if s.mgr == nil {
		return 0, false
	}
	kept, size := logCut(key) // logText(key) would allocate for a long key
	return s.mgr.wrongTypes.level(wrongRead{getter, kept, size, e.kind}, slog.LevelWarn, s.mgr.opts.Now)
}

// wrongRead is a cause of wrongType's line: the getter, the key as its
// line shows it (the start logCut keeps, and the key's length) and the
// kind it holds.
type wrongRead struct {
	getter, key string
	size        int
	holds       kind
}

func (w wrongRead) detach() wrongRead {
	w.key = strings.Clone(w.key)
	return w
}

// The typed getters return the zero value when key is missing or holds a
// value they cannot return exactly, and a read of a value they cannot
// return is logged at Warn (without the value), once for each getter, key
// and stored type. The numeric ones (GetInt, GetInt64, GetUint64,
// GetFloat64) convert any stored integer or float that their type holds
// without loss; the others do not convert.

// GetString returns the string under key, or "" if key is missing or
// holds another type (Get tells the two apart; GetAs tells either from a
// stored "", but reports false for both).
func (s *Session) GetString(key string) string {
	var e entry
	s.lookupKind("GetString", key, kindString, &e)
	return e.str
}

// GetBytes returns a copy of the []byte under key, or nil if key is
// missing or holds another type.
func (s *Session) GetBytes(key string) []byte {
	var e entry
	if s.lookupKind("GetBytes", key, kindBytes, &e) {
		return []byte(e.str)
	}
	return nil
}

// GetBool returns the bool under key, or false if key is missing or holds
// another type.
func (s *Session) GetBool(key string) bool {
	var e entry
	s.lookupKind("GetBool", key, kindBool, &e)
	return e.num == 1
}

// GetInt returns the number under key as an int, or 0 if key is missing
// or holds a string, a non-number or a number an int cannot hold exactly.
func (s *Session) GetInt(key string) int { return getNumber[int](s, "GetInt", key) }

// GetInt64 returns the number under key as an int64, or 0 as GetInt does.
func (s *Session) GetInt64(key string) int64 { return getNumber[int64](s, "GetInt64", key) }

// GetUint64 returns the number under key as a uint64, or 0 as GetInt
// does (for a negative number, too).
func (s *Session) GetUint64(key string) uint64 { return getNumber[uint64](s, "GetUint64", key) }

// GetFloat64 returns the number under key as a float64, or 0 as GetInt
// does.
func (s *Session) GetFloat64(key string) float64 { return getNumber[float64](s, "GetFloat64", key) }

func getNumber[T any](s *Session, getter, key string) T {
	var e entry
	s.lock()
	defer s.unlock()
	if !s.values.lookupInto(key, &e) {
		var zero T
		return zero
	}
	n, ok := e.asNumber()
	t, converted := convertNumber[T](n)
	if !ok || !converted {
		s.wrongType(getter, key, &e)
		var zero T
		return zero
	}
	return t
}

// GetDuration returns the time.Duration under key, or 0 if key is missing
// or holds another type (a number has no unit).
func (s *Session) GetDuration(key string) time.Duration {
	var e entry
	s.lookupKind("GetDuration", key, kindDuration, &e)
	return time.Duration(e.num)
}

// GetTime returns the time.Time under key, or the zero Time if key is
// missing or holds another type.
func (s *Session) GetTime(key string) time.Time {
	var e entry
	if s.lookupKind("GetTime", key, kindTime, &e) {
		return e.val.(wireTime).time()
	}
	return time.Time{}
}

// GetStrings returns a copy of the []string under key, or nil if key is
// missing or holds another type.
func (s *Session) GetStrings(key string) []string {
	var e entry
	if s.lookupKind("GetStrings", key, kindStrings, &e) {
		return slices.Clone(e.val.([]string))
	}
	return nil
}

// GetStringMap returns a copy of the map[string]string under key, or nil
// if key is missing or holds another type.
func (s *Session) GetStringMap(key string) map[string]string {
	var e entry
	if s.lookupKind("GetStringMap", key, kindStringMap, &e) {
		return e.value().(map[string]string)
	}
	return nil
}

// GetAs returns the value under key as a T. It reports false if the key is
// missing or holds another type, except that:
//   - a T whose kind is a number, named ones such as type UserID int64
//     included, gets any stored integer or float it holds without loss, as
//     GetInt does; time.Duration gets only a stored Duration;
//   - a T whose kind is string (type Role string) gets a stored string,
//     and one whose kind is bool a stored bool;
//   - a T that is a []string, []byte or map[string]string underneath
//     (type Tags []string) gets a stored value of that type, as a copy;
//     json.RawMessage gets only JSON, and a []byte never gets JSON;
//   - an interface T (such as any) gets a stored nil.
//
// A session holds no struct but time.Time, so any other struct T always
// reports false: read what SetJSON stored with GetJSON. Unlike the typed
// getters, GetAs logs nothing for a value of another type: its false says
// so, and code that reads a key as either of two types calls it for each.
// A T that no stored value ever becomes (such a struct, a pointer, an
// array) is a mistake, though: GetAs of one that finds a value under key
// logs it at Warn, with the fix, once per T, key and stored type, as the
// typed getters log theirs.
func GetAs[T any](s *Session, key string) (T, bool) {
	var e entry
	s.lock()
	found := s.values.lookupInto(key, &e)
	s.unlock()
	if !found {
		var zero T
		return zero, false
	}
	v := e.value()
	if t, ok := v.(T); ok {
		return t, true
	}
	if v == nil && any(*new(T)) == nil { // a stored nil is the zero value of an interface T
		var zero T
		return zero, true
	}
	var t T
	var ok bool
	if n, isNumber := e.asNumber(); isNumber {
		t, ok = convertNumber[T](n)
	} else {
		t, ok = convertKind[T](v)
	}
	if !ok && neverHeld(reflect.TypeFor[T]()) {
		s.neverHeldRead(reflect.TypeFor[T](), key, &e)
	}
	return t, ok
}

// neverHeld reports whether GetAs never returns a t, whatever is stored:
// t is not an interface, a number, string or bool kind, time.Time, or a
// slice or map type a session holds (a struct, a pointer, an array).
func neverHeld(t reflect.Type) bool {
	switch k := t.Kind(); {
	case k == reflect.Interface, k == reflect.Bool, k == reflect.String, k >= reflect.Int && k <= reflect.Float64:
		return false
	case t == timeType, t == rawMessageType, collectionOf(t) != nil:
		return false
	}
	return true
}

var timeType = reflect.TypeFor[time.Time]()

// neverHeldRead logs a GetAs of t that found under key a value, e, and
// reported false, for a t that neverHeld: its false does not say another
// type, as GetAs's does, but that the code can never read the key, most
// often a struct SetJSON stored, so a signed-in user is taken for a guest
// at every request. It is logged as wrongType logs a getter's read.
func (s *Session) neverHeldRead(t reflect.Type, key string, e *entry) {
	s.lock()
	defer s.unlock()
	getter := "GetAs[" + t.String() + "]"
	level, ok := s.wrongReadLevel(getter, key, e)
	if !ok {
		return
	}
	s.logRefused(level, "cookiesession: "+getter+" can never return a value, since a session holds no such type (a struct only as the JSON SetJSON stores), and reported false, as for a missing key (logged once per type, key and stored type; past 64 causes, at warn level once a minute, the others at debug)",
		slog.String("key", logText(key)), slog.String("holds", fmt.Sprintf("%T", e.value())),
		slog.String("fix", "read what SetJSON stored with GetJSON(key, &v), and what Set stored with Get or the getter of its type"))
}

// convertKind converts v, a string or a bool, to T if T is of that kind,
// and a []string, []byte or map[string]string (a copy: see value) to T if
// T is that type underneath.
func convertKind[T any](v any) (T, bool) {
	var out T
	dst := reflect.ValueOf(&out).Elem()
	switch src := reflect.ValueOf(v); src.Kind() {
	case reflect.String, reflect.Bool:
		if dst.Kind() == src.Kind() {
			dst.Set(src.Convert(dst.Type()))
			return out, true
		}
	case reflect.Slice, reflect.Map:
		if collectionOf(dst.Type()) == src.Type() {
			dst.Set(src.Convert(dst.Type()))
			return out, true
		}
	}
	return out, false
}
