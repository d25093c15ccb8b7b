package cookiesession_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seed-ff2808ae/cookiesession"
)

// FuzzSetJSONRoundTrip builds values of many shapes from the fuzz input
// (strings that are not UTF-8 or hold escape text, []byte, integers near
// ±2^53 and at the extremes, floats down to subnormals and -0,
// json.Number, json.RawMessage, a json.Marshaler writing arbitrary bytes,
// maps, slices, structs and pointers, a struct whose fields are all
// unexported, holding data, which encoding/json writes as {}, and a map
// keyed by pointers whose MarshalText reads through them, one of them
// nil), stores each with SetJSON, beside a
// few plain values stored with Set, and reads them back, for some inputs
// after a trip through the cookie. The property: SetJSON returns an
// error, or GetJSON does, or the value read is the value stored, as
// encoding/json round-trips that type (see fzDiff and fzDiffAny). What
// encoding/json changes without a word and cookiesession promises to
// refuse (text that is not UTF-8 read as U+FFFD, a lone surrogate escape,
// an integer a float64 rounds or a number that underflows to 0, into an
// interface) counts as a change. Each refusal must be one encoding/json
// gives cause for, and Get returns exactly what Set stored.
func FuzzSetJSONRoundTrip(f *testing.F) {
	m, err := cookiesession.New(ringOf(f, keyA), cookiesession.Options{
		MaxChunks: 8,
		Now:       newFakeClock(fixedNow).Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range fzSeeds() {
		f.Add(seed.shape, seed.text, seed.n, seed.u, seed.fl, seed.raw)
	}
	f.Fuzz(func(t *testing.T, shape []byte, text string, n int64, u uint64, fl float64, raw []byte) {
		g := &fzGen{shape: shape, text: text, n: n, u: u, fl: fl, raw: raw, budget: 40}
		wire := g.next()&1 == 1
		var stored []fzStored
		for i := 0; i < 3 && (i == 0 || len(g.shape) > 0); i++ {
			stored = append(stored, fzStored{key: fmt.Sprintf("j%d", i), v: g.value(0)})
		}
		plain := g.plainValues()
		s, err := m.Load(httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
		if err != nil {
			t.Fatal(err)
		}
		for i := range stored {
			stored[i].setErr = s.SetJSON(stored[i].key, stored[i].v)
			checkSetJSON(t, &stored[i])
		}
		for key, v := range plain {
			if err := s.Set(key, v); err != nil {
				delete(plain, key) // only a json.RawMessage that is not JSON may be refused
				if _, isRaw := v.(json.RawMessage); !isRaw || json.Valid(v.(json.RawMessage)) {
					t.Fatalf("Set(%q, %#v): %v", key, v, err)
				}
			}
		}
		if wire {
			if s = fzReload(t, m, s); s == nil {
				return // too large for the cookies: Save said so
			}
		}
		for i := range stored {
			if stored[i].setErr == nil {
				checkGetJSON(t, s, &stored[i])
			}
		}
		checkPlain(t, s, plain)
		checkEmbedded(t, s, g.embedded())
	})
}

// Named types of the kinds GetAs converts to: a string, a bool, and the
// collections []string, []byte and map[string]string.
type (
	fzName   string
	fzFlag   bool
	fzTags   []string
	fzBlob   []byte
	fzLabels map[string]string
)

// checkGetAs checks GetAs of key, whose value Get read as got, as each
// named type: it converts exactly when got's type is that type's
// underlying one (a json.RawMessage is not a []byte to it), gives got's
// contents, and gives a copy, which the caller may change.
func checkGetAs(t *testing.T, s *cookiesession.Session, key string, got any) {
	t.Helper()
	check := func(as string, conv any, ok bool, under reflect.Type, mutate func()) {
		t.Helper()
		if want := reflect.TypeOf(got) == under; ok != want {
			t.Fatalf("GetAs[%s](%q) of a %T: ok %v, want %v", as, key, got, ok, want)
		}
		if !ok {
			return
		}
		back := reflect.ValueOf(conv).Convert(under).Interface()
		if fzDiff(".", reflect.ValueOf(got), reflect.ValueOf(back)) != "" && !(reflect.ValueOf(got).Len() == 0 && reflect.ValueOf(back).Len() == 0) {
			t.Fatalf("GetAs[%s](%q) = %#v, Get = %#v", as, key, conv, got)
		}
		mutate()
		if again, _ := s.Get(key); fzDiff(".", reflect.ValueOf(got), reflect.ValueOf(again)) != "" {
			t.Fatalf("changing what GetAs[%s](%q) gave changed the session: %#v, was %#v", as, key, again, got)
		}
	}
	name, ok := cookiesession.GetAs[fzName](s, key)
	check("fzName", name, ok, reflect.TypeFor[string](), func() {})
	flag, ok := cookiesession.GetAs[fzFlag](s, key)
	check("fzFlag", flag, ok, reflect.TypeFor[bool](), func() {})
	tags, ok := cookiesession.GetAs[fzTags](s, key)
	check("fzTags", tags, ok, reflect.TypeFor[[]string](), func() {
		for i := range tags {
			tags[i] += "!"
		}
	})
	blob, ok := cookiesession.GetAs[fzBlob](s, key)
	check("fzBlob", blob, ok, reflect.TypeFor[[]byte](), func() {
		for i := range blob {
			blob[i]++
		}
	})
	labels, ok := cookiesession.GetAs[fzLabels](s, key)
	check("fzLabels", labels, ok, reflect.TypeFor[map[string]string](), func() {
		for k := range labels {
			labels[k] += "!"
		}
		labels["\xff added"] = ""
	})
}

// fzEmbedded embeds structs as encoding/json resolves them: a pointer to
// one that lends fields (nil or not), one field of it overridden by the
// outer struct's, and two structs that each lend the same two fields at
// one depth, which encoding/json leaves out. Those it leaves out may hold
// what SetJSON refuses when written (text that is not UTF-8, a counter
// whose IsZero reads through a nil pointer) and must not be read. Hid,
// when set, is a struct of unexported fields, which SetJSON refuses.
type fzEmbedded struct {
	*FzLender
	fzTieL
	fzTieR
	Over  int       `json:"over,omitzero"`
	Count fzCounter `json:"count,omitzero"`
	Also  *FzLender `json:"also,omitempty"`
	Hid   *fzHidden `json:"hid,omitempty"`
}

// FzLender is exported: encoding/json cannot read into a nil embedded
// pointer to an unexported struct type.
type FzLender struct {
	S     string    `json:"s"`
	Over  string    `json:"over"`           // shadowed by fzEmbedded.Over
	Count fzCounter `json:"count,omitzero"` // shadowed by fzEmbedded.Count, nil
}

type (
	fzTieL struct{ fzTied }
	fzTieR struct{ fzTied }
	fzTied struct {
		Label string    `json:"label"`
		Count fzCounter `json:"count,omitzero"`
	}
)

// fzCounter is zero by the count it points at: its IsZero panics on a nil
// pointer.
type fzCounter struct {
	N int `json:"n"`
	p *int
}

func (c fzCounter) IsZero() bool { return *c.p == 0 }

// embedded builds an fzEmbedded: its tied fields always hold a nil
// counter and may hold text that is not UTF-8.
func (g *fzGen) embedded() fzEmbedded {
	one := 1
	e := fzEmbedded{Over: int(g.int64()), Count: fzCounter{N: g.pick(3), p: &one}}
	e.fzTieL.Label, e.fzTieR.Label = g.str(), g.str()
	lender := func() *FzLender { return &FzLender{S: g.str(), Over: g.str()} }
	mask := g.next()
	if mask&1 != 0 {
		e.FzLender = lender()
	}
	if mask&2 != 0 {
		e.Also = lender()
		e.Also.Count.p = &one // written: encoding/json calls its IsZero
	}
	if mask&4 != 0 {
		zero := 0
		e.Count.p = &zero // left out by omitzero
	}
	if mask&8 != 0 {
		e.Hid = &fzHidden{n: g.int64()}
	}
	return e
}

// checkEmbedded stores e with SetJSON: it must not panic; it must refuse
// e exactly when what encoding/json writes of it holds a struct of
// unexported fields (SetJSON refuses the type) or text that is not
// UTF-8, and otherwise read back as encoding/json reads what it writes.
func checkEmbedded(t *testing.T, s *cookiesession.Session, e fzEmbedded) {
	t.Helper()
	refuse := e.Hid != nil
	for _, l := range []*FzLender{e.FzLender, e.Also} {
		refuse = refuse || l != nil && !utf8.ValidString(l.S)
	}
	refuse = refuse || e.Also != nil && !utf8.ValidString(e.Also.Over) // nothing shadows it there
	err := s.SetJSON("embedded", e)
	switch {
	case err != nil && !refuse:
		t.Fatalf("SetJSON(%#v) = %v; encoding/json writes it whole", e, err)
	case err == nil && refuse:
		t.Fatalf("SetJSON(%#v) stored it; want a refusal", e)
	case err != nil:
		if !strings.HasPrefix(err.Error(), `cookiesession: SetJSON "embedded": `) {
			t.Fatalf("SetJSON error %q lacks its prefix", err)
		}
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var want, got fzEmbedded
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetJSON("embedded", &got); err != nil {
		t.Fatalf("GetJSON of %s: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetJSON read %#v, encoding/json %#v, of %s", got, want, b)
	}
}

// fzStored is one value stored with SetJSON.
type fzStored struct {
	key    string
	v      any
	setErr error
}

// checkSetJSON fails if SetJSON refused a value that encoding/json writes
// and reads back unchanged, or accepted one it cannot write.
func checkSetJSON(t *testing.T, st *fzStored) {
	t.Helper()
	b, err := json.Marshal(st.v)
	switch {
	case err != nil && st.setErr == nil:
		t.Fatalf("SetJSON(%#v) stored a value json.Marshal refuses: %v", st.v, err)
	case err != nil || st.setErr == nil:
		return
	}
	if !strings.HasPrefix(st.setErr.Error(), "cookiesession: SetJSON ") {
		t.Fatalf("SetJSON error %q lacks its prefix", st.setErr)
	}
	if !utf8.Valid(b) || st.v == nil {
		return
	}
	ref := reflect.New(reflect.TypeOf(st.v))
	if json.Unmarshal(b, ref.Interface()) != nil {
		return
	}
	if fzDiff(".", reflect.ValueOf(st.v), ref.Elem()) == "" {
		t.Fatalf("SetJSON(%#v) = %v, but encoding/json writes %s and reads it back unchanged", st.v, st.setErr, b)
	}
}

// checkGetJSON reads st back into a new value of its type and into an
// any, and compares each with what was stored.
func checkGetJSON(t *testing.T, s *cookiesession.Session, st *fzStored) {
	t.Helper()
	b, _ := json.Marshal(st.v)
	if stored, _ := cookiesession.GetAs[json.RawMessage](s, st.key); !bytes.Equal(stored, b) {
		t.Fatalf("SetJSON(%#v) stored %s, json.Marshal writes %s", st.v, stored, b)
	}
	if st.v != nil {
		got := reflect.New(reflect.TypeOf(st.v))
		ok, err := s.GetJSON(st.key, got.Interface())
		if !ok {
			t.Fatalf("GetJSON(%q) found nothing", st.key)
		}
		if err == nil {
			if diff := fzDiff(".", reflect.ValueOf(st.v), got.Elem()); diff != "" {
				t.Fatalf("GetJSON(%T) of %s: %s", st.v, b, diff)
			}
		} else {
			checkRefusal(t, st.v, b, err)
		}
	}
	var got any
	if _, err := s.GetJSON(st.key, &got); err != nil {
		if st.v == nil {
			t.Fatalf("GetJSON(any) of null: %v", err)
		}
		if fzMustRefuse(b) == "" && json.Unmarshal(b, new(any)) == nil {
			t.Fatalf("GetJSON(any) of %s refused, though encoding/json reads it exactly: %v", b, err)
		}
		return
	}
	if why := fzMustRefuse(b); why != "" {
		t.Fatalf("GetJSON(any) of %s read %#v without an error: %s", b, got, why)
	}
	if st.v == nil && got != nil {
		t.Fatalf("GetJSON(any) of null read %#v", got)
	}
	if diff := fzDiffAny(".", reflect.ValueOf(st.v), got); st.v != nil && diff != "" {
		t.Fatalf("GetJSON(any) of %s: %s", b, diff)
	}
}

// checkRefusal fails if GetJSON refused, into v's own type, JSON that
// encoding/json reads back as v without changing it, unless it holds a
// lone surrogate escape, which GetJSON refuses wherever it is.
func checkRefusal(t *testing.T, v any, b []byte, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "cookiesession: GetJSON ") {
		t.Fatalf("GetJSON error %q lacks its prefix", err)
	}
	ref := reflect.New(reflect.TypeOf(v))
	if json.Unmarshal(b, ref.Interface()) != nil || fzLoneSurrogate(b) != "" {
		return
	}
	if fzDiff(".", reflect.ValueOf(v), ref.Elem()) == "" {
		t.Fatalf("GetJSON(%T) of %s = %v, though encoding/json reads it back unchanged", v, b, err)
	}
}

// checkPlain reads back what Set stored: Get returns it exactly, and
// GetJSON of a json.RawMessage reads it as encoding/json does, or refuses
// what encoding/json would read as another value.
func checkPlain(t *testing.T, s *cookiesession.Session, plain map[string]any) {
	t.Helper()
	for key, want := range plain {
		got, ok := s.Get(key)
		same := reflect.TypeOf(got) == reflect.TypeOf(want)
		switch want.(type) {
		case string, []byte, json.RawMessage:
			same = same && bytes.Equal(fzBytes(got), fzBytes(want)) // a nil []byte comes back empty
		default:
			same = same && fzDiff(".", reflect.ValueOf(want), reflect.ValueOf(got)) == ""
		}
		if !ok || !same {
			t.Fatalf("Set(%q, %#v), then Get = %#v, %v", key, want, got, ok)
		}
		checkGetAs(t, s, key, got)
		raw, isJSON := want.(json.RawMessage)
		if !isJSON {
			continue
		}
		var v any
		_, err := s.GetJSON(key, &v)
		why := fzMustRefuse(raw)
		if !utf8.Valid(raw) {
			why = "it is not UTF-8"
		}
		switch {
		case err == nil && why != "":
			t.Fatalf("GetJSON(any) of the json.RawMessage %q read %#v without an error: %s", raw, v, why)
		case err != nil && why == "" && json.Unmarshal(raw, new(any)) == nil:
			t.Fatalf("GetJSON(any) of the json.RawMessage %q refused, though encoding/json reads it exactly: %v", raw, err)
		case err == nil:
			if diff := fzTextDiff(".", raw, v); diff != "" {
				t.Fatalf("GetJSON(any) of the json.RawMessage %q: %s", raw, diff)
			}
		}
	}
}

// fzBytes returns the bytes of a string, []byte or json.RawMessage.
func fzBytes(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	case json.RawMessage:
		return v
	}
	return nil
}

// fzReload saves s into cookies and loads it from a request carrying
// them, or returns nil if the session is too large for them.
func fzReload(t *testing.T, m *cookiesession.Manager, s *cookiesession.Session) *cookiesession.Session {
	t.Helper()
	h := http.Header{}
	if err := m.SaveHeader(h, s); errors.Is(err, cookiesession.ErrTooLarge) {
		return nil
	} else if err != nil {
		t.Fatalf("SaveHeader: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	for _, c := range parseSetCookies(t, h) {
		r.AddCookie(c)
	}
	next, err := m.Load(r)
	if err != nil || next.IsNew() {
		t.Fatalf("Load of the saved session: %v (new: %v)", err, next.IsNew())
	}
	return next
}

// ---- the values ----------------------------------------------------------

// fzRecord is a struct of the field types GetJSON must keep.
type fzRecord struct {
	S    string            `json:"s"`
	B    []byte            `json:"b"`
	Raw  json.RawMessage   `json:"raw,omitempty"`
	N    json.Number       `json:"n,omitempty"`
	I    int64             `json:"i"`
	U    uint64            `json:"u"`
	F    float64           `json:"f"`
	F32  float32           `json:"f32"`
	P    *string           `json:"p"`
	M    map[string]string `json:"m,omitempty"`
	Any  any               `json:"any"`
	Mar  fzRaw             `json:"mar"`
	Next *fzRecord         `json:"next,omitempty"`
}

// fzRaw is a json.Marshaler that writes its bytes as they are, and reads
// back what it is given.
type fzRaw struct{ text []byte }

func (r fzRaw) MarshalJSON() ([]byte, error) { return r.text, nil }

func (r *fzRaw) UnmarshalJSON(b []byte) error {
	r.text = bytes.Clone(b)
	return nil
}

// fzHidden is a struct whose fields are all unexported: SetJSON refuses
// it, since encoding/json writes it as {}.
type fzHidden struct{ n int64 }

// fzKey is a map key whose MarshalText, of its pointer, reads through it:
// encoding/json writes a nil one as "" without calling it.
type fzKey struct{ name string }

func (k *fzKey) MarshalText() ([]byte, error) { return []byte(k.name), nil }

// fzFragments are the hostile pieces strings are built from.
var fzFragments = []string{
	"", "\xff", "\xe9", "caf\xe9", "\uFFFD", `\ufffd`, `\ud800`, `\udc00\ud83c`, "\x00", "<", ">", "&",
	"\u2028", "\u2029", "é", "\U0001F36A", `"`, `\`, "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80",
	"\xf0\x9f\x8d", "\x7f", "a\tb\n", "</script>",
}

// fzNumbers are number texts at the edges of what a float64 holds.
var fzNumbers = []string{
	"0", "-0", "1e-400", "-0.0E-999999", "9007199254740993", "-9007199254740993", "9007199254740992",
	"1e400", "0.1", "3e-324", "2e-324", "4.9e-324", "1E+2", "9007199254740993.0", "1e23",
	"100000000000000000000000", "18446744073709551615", "-9223372036854775808", "1.7976931348623157e308", "",
}

// fzTexts are JSON texts for json.RawMessage and fzRaw.
var fzTexts = []string{
	`{"a":1e-400}`, `"\ud800"`, "\"caf\xe9\"", `[9007199254740993]`, `"\ufffd"`, `null`, ` { "a" : "<&>" } `,
	`"\ud83c\udf6a"`, `{"\ud800":1}`, `[1,2.5,-0,5e-324]`, `"\u2028"`, `{"x":"\\ud800"}`, `123456789012345678901234567890`,
	`"` + "\u2028\xff" + `"`, `[]`, `{}`, `true`, `"\u0000"`,
}

// fzGen builds values from the fuzz input: shape chooses, the other
// inputs supply the contents.
type fzGen struct {
	shape  []byte
	text   string
	n      int64
	u      uint64
	fl     float64
	raw    []byte
	budget int // values left to build
}

func (g *fzGen) next() byte {
	if len(g.shape) == 0 {
		return 0
	}
	b := g.shape[0]
	g.shape = g.shape[1:]
	return b
}

// pick returns an index below n.
func (g *fzGen) pick(n int) int { return int(g.next()) % n }

func (g *fzGen) str() string {
	switch b := g.next(); b % 4 {
	case 0: // a piece of the text, which may cut a rune in two
		i, j := g.pick(len(g.text)+1), g.pick(len(g.text)+1)
		return g.text[min(i, j):max(i, j)]
	case 1:
		return g.text
	case 2:
		return fzFragments[int(b/4)%len(fzFragments)]
	default:
		return fzFragments[g.pick(len(fzFragments))] + g.text + fzFragments[g.pick(len(fzFragments))]
	}
}

func (g *fzGen) bytes() []byte {
	switch g.pick(4) {
	case 0:
		return nil
	case 1:
		return bytes.Clone(g.raw)
	}
	return []byte(g.str())
}

func (g *fzGen) int64() int64 {
	b, d := g.next(), int64(int8(g.next()))
	switch b % 6 {
	case 0:
		return g.n
	case 1:
		return 1<<53 + d
	case 2:
		return -(1 << 53) + d
	case 3:
		return math.MaxInt64 - int64(uint8(d))
	case 4:
		return math.MinInt64 + int64(uint8(d))
	}
	return g.n >> (b / 6 % 64)
}

func (g *fzGen) uint64() uint64 {
	b, d := g.next(), uint64(g.next())
	switch b % 5 {
	case 0:
		return g.u
	case 1:
		return 1<<53 + d
	case 2:
		return math.MaxUint64 - d
	case 3:
		return 1<<63 + d - 128
	}
	return g.u >> (b / 5 % 64)
}

func (g *fzGen) float64() float64 {
	b, d := g.next(), g.next()
	switch b % 10 {
	case 0:
		return g.fl
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.Float64frombits(uint64(d) + 1) // a subnormal
	case 3:
		return -math.Float64frombits(g.u & (1<<52 - 1)) // a subnormal, or -0
	case 4:
		return math.Float64frombits(g.u) // any bits: NaN and ±Inf too
	case 5:
		return float64(1<<53 + 2*int64(d))
	case 6:
		return math.Nextafter(1e21, float64(int(d)-128)) // where encoding/json changes format
	case 7:
		return math.MaxFloat64
	case 8:
		return float64(g.int64())
	}
	return g.fl * math.Pow10(int(int8(d))%40)
}

func (g *fzGen) number() json.Number {
	switch b := g.next(); b % 5 {
	case 0:
		return json.Number(strconv.FormatInt(g.int64(), 10))
	case 1:
		return json.Number(strconv.FormatUint(g.uint64(), 10) + strings.Repeat("0", int(b/5%3)))
	case 2:
		return json.Number(strconv.FormatFloat(g.float64(), 'g', -1, 64)) // NaN is no number
	case 3:
		return json.Number(g.raw)
	default:
		return json.Number(fzNumbers[int(b/5)%len(fzNumbers)])
	}
}

func (g *fzGen) jsonText() []byte {
	switch b := g.next(); b % 3 {
	case 0:
		return bytes.Clone(g.raw)
	case 1:
		return []byte(fzTexts[int(b/3)%len(fzTexts)])
	default:
		return []byte(strconv.Quote(g.str())) // Go's escapes are not all JSON's
	}
}

func (g *fzGen) value(depth int) any {
	g.budget--
	b := g.next()
	if depth > 4 || g.budget <= 0 {
		b = b - b%16 + b%8 // no containers
	}
	switch b % 16 {
	case 0:
		return g.str()
	case 1:
		return g.bytes()
	case 2:
		return g.int64()
	case 3:
		return g.uint64()
	case 4:
		return g.float64()
	case 5:
		return g.number()
	case 6:
		return g.leaf(b / 16)
	case 7:
		return fzRaw{g.jsonText()}
	case 8:
		m := map[string]any{}
		for range g.pick(4) {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	case 9:
		var l []any
		for range g.pick(4) {
			l = append(l, g.value(depth+1))
		}
		return l
	case 10:
		return g.record(depth)
	case 11:
		r := g.record(depth)
		return &r
	case 12:
		if b&16 != 0 {
			return fzHidden{n: g.int64() | 1} // holds data encoding/json leaves out
		}
		m := map[*fzKey]string{nil: g.str()}
		for i := range g.pick(3) {
			m[&fzKey{strconv.Itoa(i) + g.str()}] = g.str() // names of one text would be one member
		}
		return m
	}
	return g.typed(b/16, depth)
}

// leaf returns one of the other scalar kinds.
func (g *fzGen) leaf(b byte) any {
	switch b % 8 {
	case 0:
		return nil
	case 1:
		return b&8 != 0
	case 2:
		return json.RawMessage(g.jsonText())
	case 3:
		return float32(g.float64())
	case 4:
		return math.Float32frombits(uint32(g.u))
	case 5:
		return int8(g.n)
	case 6:
		s := g.str()
		return &s
	}
	return uint32(g.u)
}

// typed returns a container of one element type.
func (g *fzGen) typed(b byte, depth int) any {
	n := g.pick(4)
	switch b % 8 {
	case 0:
		return fzSlice(n, g.int64)
	case 1:
		return fzSlice(n, g.float64)
	case 2:
		return fzSlice(n, g.str)
	case 3:
		return fzSlice(n, g.number)
	case 4:
		return fzSlice(n, func() json.RawMessage { return g.jsonText() })
	case 5:
		m := map[string][]byte{}
		for range n {
			m[g.str()] = g.bytes()
		}
		return m
	case 6:
		m := map[string]uint64{}
		for range n {
			m[g.str()] = g.uint64()
		}
		return m
	}
	return [2]any{g.value(depth + 1), fzRaw{g.jsonText()}}
}

func fzSlice[T any](n int, elem func() T) []T {
	var out []T
	for range n {
		out = append(out, elem())
	}
	return out
}

func (g *fzGen) record(depth int) fzRecord {
	r := fzRecord{S: g.str(), B: g.bytes(), I: g.int64(), U: g.uint64(), F: g.float64(), F32: float32(g.float64()), Mar: fzRaw{g.jsonText()}}
	mask := g.next()
	if mask&1 != 0 {
		r.Raw = g.jsonText()
	}
	if mask&2 != 0 {
		r.N = g.number()
	}
	if mask&4 != 0 {
		s := g.str()
		r.P = &s
	}
	if mask&8 != 0 {
		r.M = map[string]string{g.str(): g.str()}
	}
	if mask&16 != 0 {
		r.Any = g.value(depth + 1)
	}
	if mask&32 != 0 && depth < 4 {
		next := g.record(depth + 1)
		r.Next = &next
	}
	return r
}

// plainValues returns values for Set, by key.
func (g *fzGen) plainValues() map[string]any {
	return map[string]any{
		"s":            g.str(),
		"b":            g.bytes(),
		"i":            g.int64(),
		"u":            g.uint64(),
		"f":            g.float64(),
		"r":            json.RawMessage(g.jsonText()),
		"k" + g.str():  g.text,
		"raw":          json.RawMessage(bytes.Clone(g.raw)),
		"strings":      []string{g.str(), g.text},
		"map" + g.text: map[string]string{g.str(): g.str()},
	}
}

// ---- what comes back -----------------------------------------------------

var (
	fzRawMessageType = reflect.TypeFor[json.RawMessage]()
	fzNumberType     = reflect.TypeFor[json.Number]()
	fzRawType        = reflect.TypeFor[fzRaw]()
	fzHiddenType     = reflect.TypeFor[fzHidden]()
)

// fzDiff describes how got, read into want's own type, differs from
// want, or returns "". A value comes back exactly, but for what
// encoding/json itself changes: a JSON text (a json.RawMessage's, a
// json.Marshaler's) comes back compacted and its escapes respelled, an
// empty json.Number as 0, a nil json.RawMessage as null, and a number in
// an interface as a float64 (see fzDiffAny).
func fzDiff(path string, want, got reflect.Value) string {
	switch t := want.Type(); t {
	case fzRawMessageType:
		if want.Len() == 0 && (got.Len() == 0 || string(got.Bytes()) == "null") {
			return ""
		}
		return fzSameText(path, want.Bytes(), got.Bytes())
	case fzRawType:
		return fzSameText(path, want.Interface().(fzRaw).text, got.Interface().(fzRaw).text)
	case fzHiddenType:
		if w, g := want.Field(0).Int(), got.Field(0).Int(); w != g {
			return fmt.Sprintf("%s: a struct of unexported fields holding %d read as one holding %d", path, w, g)
		}
		return ""
	case fzNumberType:
		if w := cmpOr(want.String(), "0"); got.String() != w && !(want.String() == "" && got.String() == "") { // omitempty
			return fmt.Sprintf("%s: json.Number %q read as %q", path, w, got.String())
		}
		return ""
	}
	switch want.Kind() {
	case reflect.Interface:
		if want.IsNil() || got.IsNil() { // a nil slice, map or pointer held reads as nil
			return fzDiffAny(path, want, got.Interface())
		}
		return fzDiffAny(path, want.Elem(), got.Elem().Interface())
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			return fzNil(path, want.IsNil(), got.IsNil())
		}
		return fzDiff(path, want.Elem(), got.Elem())
	case reflect.Slice, reflect.Map:
		if want.IsNil() != got.IsNil() || want.Len() != got.Len() {
			return fmt.Sprintf("%s: %d elements (nil: %v) read as %d (nil: %v)", path, want.Len(), want.IsNil(), got.Len(), got.IsNil())
		}
		return fzDiffElems(path, want, got)
	case reflect.Array:
		return fzDiffElems(path, want, got)
	case reflect.Struct:
		for i := range want.NumField() {
			if d := fzDiff(path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i)); d != "" {
				return d
			}
		}
		return ""
	}
	return fzScalar(path, want, got)
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

func fzNil(path string, wantNil, gotNil bool) string {
	if wantNil == gotNil {
		return ""
	}
	return fmt.Sprintf("%s: nil %v read as nil %v", path, wantNil, gotNil)
}

func fzDiffElems(path string, want, got reflect.Value) string {
	if want.Kind() == reflect.Map {
		for it := want.MapRange(); it.Next(); {
			g := got.MapIndex(it.Key())
			if !g.IsValid() {
				return fmt.Sprintf("%s: key %q missing", path, it.Key())
			}
			if d := fzDiff(fmt.Sprintf("%s[%q]", path, it.Key()), it.Value(), g); d != "" {
				return d
			}
		}
		return ""
	}
	for i := range want.Len() {
		if d := fzDiff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i)); d != "" {
			return d
		}
	}
	return ""
}

// fzScalar compares strings, bytes, bools and numbers exactly; a float's
// sign of zero too.
func fzScalar(path string, want, got reflect.Value) string {
	same := false
	switch want.Kind() {
	case reflect.String:
		same = want.String() == got.String()
	case reflect.Bool:
		same = want.Bool() == got.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		same = want.Int() == got.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		same = want.Uint() == got.Uint()
	case reflect.Float32, reflect.Float64:
		same = math.Float64bits(want.Float()) == math.Float64bits(got.Float())
	default:
		return fmt.Sprintf("%s: cannot compare a %s", path, want.Type())
	}
	if !same {
		return fmt.Sprintf("%s: %#v read as %#v", path, want.Interface(), got.Interface())
	}
	return ""
}

// fzDiffAny describes how got, what encoding/json read into an interface,
// differs from want, or returns "". Strings come back exactly, a []byte
// as its base64, a number as the float64 that reads its text, and that
// float64 must equal an integer exactly: GetJSON refuses to round one.
func fzDiffAny(path string, want reflect.Value, got any) string {
	if !want.IsValid() {
		return fzNil(path, true, got == nil)
	}
	for want.Kind() == reflect.Interface && !want.IsNil() {
		want = want.Elem()
	}
	switch want.Type() {
	case fzRawMessageType:
		if want.Len() == 0 {
			return fzNil(path, true, got == nil)
		}
		return fzTextDiff(path, want.Bytes(), got)
	case fzRawType:
		return fzTextDiff(path, want.Interface().(fzRaw).text, got)
	case fzNumberType:
		return fzTextDiff(path, []byte(cmpOr(want.String(), "0")), got)
	}
	switch want.Kind() {
	case reflect.Interface, reflect.Pointer:
		if want.IsNil() || got == nil {
			return fzNil(path, want.IsNil(), got == nil)
		}
		return fzDiffAny(path, want.Elem(), got)
	case reflect.String:
		return fzSameAny(path, want.String(), got)
	case reflect.Bool:
		return fzSameAny(path, want.Bool(), got)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fzSameNumber(path, new(big.Float).SetInt64(want.Int()), got)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fzSameNumber(path, new(big.Float).SetUint64(want.Uint()), got)
	case reflect.Float32, reflect.Float64:
		return fzSameFloat(path, want, got)
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return fzDiffAnyComposite(path, want, got)
	}
	return fmt.Sprintf("%s: cannot compare a %s", path, want.Type())
}

func fzDiffAnyComposite(path string, want reflect.Value, got any) string {
	if (want.Kind() == reflect.Slice || want.Kind() == reflect.Map) && want.IsNil() {
		return fzNil(path, true, got == nil)
	}
	switch want.Kind() {
	case reflect.Slice, reflect.Array:
		if want.Type().Elem().Kind() == reflect.Uint8 && want.Kind() == reflect.Slice {
			return fzSameAny(path, base64.StdEncoding.EncodeToString(want.Bytes()), got)
		}
		l, ok := got.([]any)
		if !ok || len(l) != want.Len() {
			return fmt.Sprintf("%s: %d elements read as %#v", path, want.Len(), got)
		}
		for i := range l {
			if d := fzDiffAny(fmt.Sprintf("%s[%d]", path, i), want.Index(i), l[i]); d != "" {
				return d
			}
		}
	case reflect.Map:
		m, ok := got.(map[string]any)
		if !ok || len(m) != want.Len() {
			return fmt.Sprintf("%s: %d entries read as %#v", path, want.Len(), got)
		}
		for it := want.MapRange(); it.Next(); {
			name := it.Key().String()
			if k, isKey := it.Key().Interface().(*fzKey); isKey {
				name = ""
				if k != nil {
					name = k.name
				}
			}
			member, found := m[name]
			if !found {
				return fmt.Sprintf("%s: key %q missing", path, it.Key())
			}
			if d := fzDiffAny(fmt.Sprintf("%s[%q]", path, it.Key()), it.Value(), member); d != "" {
				return d
			}
		}
	case reflect.Struct:
		if want.Type() == fzHiddenType {
			return fmt.Sprintf("%s: a struct of unexported fields read as %#v", path, got)
		}
		return fzDiffAnyRecord(path, want.Interface().(fzRecord), got)
	}
	return ""
}

// fzDiffAnyRecord compares a record with the object it reads as, minus
// the members omitempty leaves out.
func fzDiffAnyRecord(path string, want fzRecord, got any) string {
	m, ok := got.(map[string]any)
	if !ok {
		return fmt.Sprintf("%s: a struct read as %#v", path, got)
	}
	fields := reflect.ValueOf(want)
	for i := range fields.NumField() {
		f := fields.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		member, present := m[name]
		if fv := fields.Field(i); opts == "omitempty" && (fv.IsZero() || fv.Kind() != reflect.Pointer && fv.Len() == 0) {
			if present {
				return fmt.Sprintf("%s.%s: omitted, but read as %#v", path, name, member)
			}
			continue
		}
		if !present {
			return fmt.Sprintf("%s.%s: missing", path, name)
		}
		if d := fzDiffAny(path+"."+name, fields.Field(i), member); d != "" {
			return d
		}
	}
	return ""
}

func fzSameAny[T comparable](path string, want T, got any) string {
	g, ok := got.(T)
	if f, isFloat := any(want).(float64); isFloat && ok {
		ok = math.Float64bits(f) == math.Float64bits(any(g).(float64))
	} else {
		ok = ok && g == want
	}
	if !ok {
		return fmt.Sprintf("%s: %#v read as %#v", path, want, got)
	}
	return ""
}

// fzSameFloat checks that a float read into an interface is the float64
// its JSON text reads as: want itself, or a float32's shortest decimal.
// A text encoding/json writes without fraction or exponent (below 1e21)
// that a float64 does not hold exactly is refused by GetJSON as any such
// integer is, though it reads back as the float64 stored: JSON cannot tell
// it from an int64 id.
func fzSameFloat(path string, want reflect.Value, got any) string {
	text, err := json.Marshal(want.Interface())
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	if why := fzMustRefuse(text); why != "" {
		return fmt.Sprintf("%s: read %v into an interface as %#v without an error: %s", path, want, got, why)
	}
	f, _ := strconv.ParseFloat(string(text), 64)
	return fzSameAny(path, f, got)
}

// fzSameNumber checks that an integer read into an interface is the
// float64 of exactly its value.
func fzSameNumber(path string, want *big.Float, got any) string {
	f, ok := got.(float64)
	if !ok || big.NewFloat(f).Cmp(want) != 0 {
		return fmt.Sprintf("%s: the integer %s read as %#v", path, want.Text('f', 0), got)
	}
	return ""
}

// fzSameText describes how the JSON text got differs from want, or
// returns "": the same tokens, whatever the spacing and the spelling of
// escapes, with the same number texts.
func fzSameText(path string, want, got []byte) string {
	w, werr := fzTokens(want)
	g, gerr := fzTokens(got)
	if werr != nil || gerr != nil || !reflect.DeepEqual(w, g) {
		return fmt.Sprintf("%s: the JSON %q read as %q", path, want, got)
	}
	return ""
}

func fzTokens(text []byte) ([]json.Token, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var out []json.Token
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
}

// fzTextDiff compares got, what GetJSON read into an interface, with the
// JSON text want: GetJSON must have refused what fzMustRefuse names, and
// must read the rest as encoding/json does.
func fzTextDiff(path string, want []byte, got any) string {
	if why := fzMustRefuse(want); why != "" {
		return fmt.Sprintf("%s: read %q into an interface without an error: %s", path, want, why)
	}
	var ref any
	if err := json.Unmarshal(want, &ref); err != nil {
		return fmt.Sprintf("%s: read %q, which encoding/json refuses (%v), as %#v", path, want, err, got)
	}
	if !fzSameJSON(ref, got) {
		return fmt.Sprintf("%s: %q read as %#v, encoding/json reads %#v", path, want, got, ref)
	}
	return ""
}

// fzSameJSON is reflect.DeepEqual for decoded JSON, but tells -0 from 0.
func fzSameJSON(a, b any) bool {
	switch a := a.(type) {
	case float64:
		f, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(f)
	case []any:
		l, ok := b.([]any)
		if !ok || len(l) != len(a) {
			return false
		}
		for i := range a {
			if !fzSameJSON(a[i], l[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		m, ok := b.(map[string]any)
		if !ok || len(m) != len(a) {
			return false
		}
		for k, v := range a {
			if w, found := m[k]; !found || !fzSameJSON(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

// fzMustRefuse names what in the JSON text b encoding/json would read
// into an interface as another value, without a word, and GetJSON
// promises to refuse: a lone surrogate escape (read as U+FFFD), an
// integer written without fraction or exponent that a float64 does not
// hold, or a non-zero number that reads as 0. It returns "" for none.
func fzMustRefuse(b []byte) string {
	if esc := fzLoneSurrogate(b); esc != "" {
		return "the lone surrogate " + esc
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		n, ok := tok.(json.Number)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			continue // beyond a float64's range: encoding/json refuses it itself
		}
		mantissa, _, _ := strings.Cut(strings.ToLower(string(n)), "e")
		if f == 0 && strings.ContainsAny(mantissa, "123456789") {
			return "the number " + string(n) + ", which underflows to 0"
		}
		if strings.ContainsAny(string(n), ".eE") {
			continue // a fraction or an exponent: rounded, as documented
		}
		exact, _ := new(big.Int).SetString(string(n), 10)
		if asInt, _ := big.NewFloat(f).Int(nil); asInt.Cmp(exact) != 0 {
			return "the integer " + string(n) + ", which a float64 rounds"
		}
	}
}

// fzLoneSurrogate returns the first \u escape in b's strings that is half
// of a UTF-16 surrogate pair without its other half, or "". It collects
// each run of \u escapes and decodes it as UTF-16: a lone half decodes to
// U+FFFD, which an escape of U+FFFD itself accounts for otherwise.
func fzLoneSurrogate(b []byte) string {
	inString := false
	var run []uint16
	var runText []string
	for i := 0; i < len(b); i++ {
		if esc := fzEscape(b, i); inString && esc >= 0 {
			run, runText = append(run, uint16(esc)), append(runText, string(b[i:i+6]))
			i += 5
			continue
		}
		if lone := fzLoneIn(run, runText); lone != "" {
			return lone
		}
		run, runText = run[:0], runText[:0]
		switch {
		case inString && b[i] == '\\':
			i++
		case b[i] == '"':
			inString = !inString
		}
	}
	return fzLoneIn(run, runText)
}

// fzEscape returns the code unit of a \uXXXX escape at b[i], or -1.
func fzEscape(b []byte, i int) int {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return -1
	}
	u, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	if err != nil {
		return -1
	}
	return int(u)
}

func fzLoneIn(run []uint16, text []string) string {
	replaced := 0
	for _, r := range utf16.Decode(run) {
		if r == utf8.RuneError {
			replaced++
		}
	}
	for i, u := range run {
		if u == utf8.RuneError {
			replaced--
		} else if utf16.IsSurrogate(rune(u)) && replaced > 0 {
			return text[i]
		}
	}
	return ""
}

// ---- seeds ---------------------------------------------------------------

type fzSeed struct {
	shape []byte
	text  string
	n     int64
	u     uint64
	fl    float64
	raw   []byte
}

// fzSeeds cover each shape fzGen builds at least once.
func fzSeeds() []fzSeed {
	var seeds []fzSeed
	texts := []string{"caf\xe9", "\uFFFD" + `\ufffd`, `\ud800<>&` + "\u2028\x00", "🍪 ok", ""}
	raws := []string{`{"id":9007199254740993}`, "\"caf\xe9\"", `[1e-400]`, `"\ud800"`, `{"a": [1, "x"]}`, `not json`}
	for i := range 64 {
		shape := []byte{byte(i), byte(i), byte(i * 7), byte(i * 13), byte(i >> 1), byte(i * 3), byte(i*5 + 1), 0xff, byte(i), 6, 16 * byte(i%8), 9, 2, 8, 3}
		seeds = append(seeds, fzSeed{shape, texts[i%len(texts)], 1<<53 + int64(i), math.MaxUint64 - uint64(i), 5e-324 * float64(i), []byte(raws[i%len(raws)])})
	}
	return seeds
}

// TestSetJSONEmbeddedShapes runs checkEmbedded, FuzzSetJSONRoundTrip's
// property for embedded structs, on each shape: a lender nil or not,
// holding hidden data or text that is not UTF-8 where it is written or
// where it is shadowed, and tied fields holding a nil counter.
func TestSetJSONEmbeddedShapes(t *testing.T) {
	m, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{Now: newFakeClock(fixedNow).Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for mask := range 64 {
		g := &fzGen{text: "caf\xe9", budget: 40}
		e := g.embedded()
		e.fzTieL.Label, e.fzTieR.Label = "\xff", "ok"
		if mask&1 != 0 {
			e.FzLender = &FzLender{S: "s", Over: "\xff shadowed"}
		}
		if mask&2 != 0 {
			one := 1
			e.Also = &FzLender{S: "also", Over: "over", Count: fzCounter{N: 2, p: &one}}
		}
		if mask&4 != 0 {
			e.Hid = &fzHidden{}
		}
		if mask&8 != 0 && e.Also != nil {
			e.Also.S = "\xfe"
		}
		if mask&16 != 0 {
			zero := 0
			e.Count.p = &zero
		}
		if mask&32 != 0 && e.FzLender != nil {
			e.FzLender.S = "\xfd"
		}
		s, err := m.Load(httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strconv.Itoa(mask), func(t *testing.T) { checkEmbedded(t, s, e) })
	}
}
