// Command interop lets the JavaScript tests check the JS port against the Go
// package: it reads a JSON array of requests on stdin, runs each through the
// package's public API, and writes a JSON array of answers on stdout.
//
// Values travel in a lossless form: strings, keys, []byte and JSON as hex;
// integers and durations as decimal strings; floats as their IEEE bits in
// hex; times as unix seconds, nanoseconds and zone offset.
package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

type request struct {
	Op               string    `json:"op"`
	Ring             string    `json:"ring"`
	Name             string    `json:"name"`
	Now              int64     `json:"now"`
	Created          int64     `json:"created"`
	MaxAge           int64     `json:"max_age"`
	Idle             int64     `json:"idle"`
	MaxLifetime      int64     `json:"max_lifetime"`
	Lifetime         *lifetime `json:"lifetime"`
	KeyID            uint32    `json:"key_id"` // seal: an opened record's key id; 0 seals a new record
	BrowserSession   bool      `json:"browser_session"`
	MaxTokenLen      int       `json:"max_token_len"`
	MaxChunks        int       `json:"max_chunks"`
	RefreshThreshold float64   `json:"refresh_threshold"`
	MaxCookieSize    int       `json:"max_cookie_size"`
	Path             string    `json:"path"`
	Domain           string    `json:"domain"`
	DisableSecure    bool      `json:"disable_secure"`
	DisableHTTPOnly  bool      `json:"disable_http_only"`
	SameSite         string    `json:"same_site"`
	Partitioned      bool      `json:"partitioned"`
	Carry            *carry    `json:"carry"` // a Retired entry with Carry, for manager_*
	Token            string    `json:"token"`
	Cookie           string    `json:"cookie"`
	CookieLines      []string  `json:"cookie_lines"` // more Cookie header lines, after Cookie
	Hex              string    `json:"hex"`
	Values           []value   `json:"values"`
	ClearValues      bool      `json:"clear_values"` // manager_seal: Clear the loaded session before setting Values
}

// carry is an Options.Retired entry of another Name with Carry set: the
// cookie a renamed configuration still opens the session from.
type carry struct {
	Name      string `json:"name"`
	MaxChunks int    `json:"max_chunks"`
}

func (c *carry) retired() []cookiesession.RetiredCookie {
	if c == nil {
		return nil
	}
	return []cookiesession.RetiredCookie{{Name: c.Name, MaxChunks: c.MaxChunks, Carry: true}}
}

// lifetime is a session's own Lifetime, in whole seconds.
type lifetime struct {
	MaxAge         int64 `json:"max_age"`
	Idle           int64 `json:"idle"`
	BrowserSession bool  `json:"browser_session"`
}

func (l *lifetime) goLifetime() cookiesession.Lifetime {
	if l == nil {
		return cookiesession.Lifetime{}
	}
	return cookiesession.Lifetime{MaxAge: time.Duration(l.MaxAge) * time.Second,
		IdleTimeout: time.Duration(l.Idle) * time.Second, BrowserSession: l.BrowserSession}
}

func renderLifetime(l cookiesession.Lifetime) *lifetime {
	if l == (cookiesession.Lifetime{}) {
		return nil
	}
	return &lifetime{MaxAge: int64(l.MaxAge / time.Second), Idle: int64(l.IdleTimeout / time.Second), BrowserSession: l.BrowserSession}
}

type value struct {
	Key    string     `json:"key"`
	Type   string     `json:"type"`
	Hex    string     `json:"hex,omitempty"`
	Value  string     `json:"value,omitempty"`
	Bits   string     `json:"bits,omitempty"`
	Unix   string     `json:"unix,omitempty"`
	Nsec   int64      `json:"nsec,omitempty"`
	Offset int        `json:"offset,omitempty"`
	List   []string   `json:"list,omitempty"`
	Map    [][]string `json:"map,omitempty"`
}

type answer struct {
	Token     string    `json:"token,omitempty"`
	ID        string    `json:"id,omitempty"`
	Created   int64     `json:"created,omitempty"`
	Expires   int64     `json:"expires,omitempty"`
	KeyID     uint32    `json:"key_id,omitempty"`
	Lifetime  *lifetime `json:"lifetime,omitempty"`
	Values    []value   `json:"values"`
	SetCookie []string  `json:"set_cookie,omitempty"`
	Valid     bool      `json:"valid,omitempty"`
	IsNew     bool      `json:"is_new,omitempty"`
	Error     string    `json:"error,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	JSON      string    `json:"json,omitempty"`
}

func main() {
	var reqs []request
	if err := json.NewDecoder(os.Stdin).Decode(&reqs); err != nil {
		fmt.Fprintln(os.Stderr, "interop: reading requests:", err)
		os.Exit(2)
	}
	answers := make([]answer, len(reqs))
	for i, req := range reqs {
		a, err := run(req)
		if err != nil {
			a = failure(err)
		}
		answers[i] = a
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		fmt.Fprintln(os.Stderr, "interop: writing answers:", err)
		os.Exit(2)
	}
}

func run(req request) (answer, error) {
	switch req.Op {
	case "json_valid":
		b, err := hex.DecodeString(req.Hex)
		return answer{Valid: err == nil && json.Valid(b)}, err
	case "ring":
		return ringAnswer(req)
	case "seal", "open":
		return codecAnswer(req)
	case "manager_seal", "manager_open", "manager_read":
		return managerAnswer(req)
	case "get_json":
		return getJSONAnswer(req)
	}
	return answer{}, fmt.Errorf("unknown op %q", req.Op)
}

// failure renders an error with its class: the sentinel it matches.
func failure(err error) answer {
	a := answer{Error: "other", Reason: err.Error()}
	var te *cookiesession.TokenError
	if errors.As(err, &te) {
		a.Reason = te.Reason
	}
	switch {
	case errors.Is(err, cookiesession.ErrUnknownKey):
		a.Error = "unknown_key"
	case errors.Is(err, cookiesession.ErrInvalid):
		a.Error = "invalid"
	case errors.Is(err, cookiesession.ErrExpired):
		a.Error = "expired"
	case errors.Is(err, cookiesession.ErrTooLarge):
		a.Error = "too_large"
	}
	return a
}

// ringAnswer parses a ring and reports its primary at now, found by sealing.
func ringAnswer(req request) (answer, error) {
	ring, err := cookiesession.ParseKeyRing([]byte(req.Ring))
	if err != nil {
		return answer{}, err
	}
	codec, err := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: "probe"})
	if err != nil {
		return answer{}, err
	}
	rec := cookiesession.Record{}
	if _, err := codec.SealAt(&rec, time.Unix(req.Now, 0)); err != nil {
		return answer{}, err
	}
	return answer{KeyID: rec.KeyID}, nil
}

func codecAnswer(req request) (answer, error) {
	ring, err := cookiesession.ParseKeyRing([]byte(req.Ring))
	if err != nil {
		return answer{}, err
	}
	codec, err := cookiesession.NewCodec(ring, cookiesession.CodecOptions{
		Name: req.Name, MaxAge: time.Duration(req.MaxAge) * time.Second,
		IdleTimeout: time.Duration(req.Idle) * time.Second, MaxTokenLen: req.MaxTokenLen,
		MaxLifetime: time.Duration(req.MaxLifetime) * time.Second,
	})
	if err != nil {
		return answer{}, err
	}
	now := time.Unix(req.Now, 0)
	if req.Op == "open" {
		rec, err := codec.OpenAt(req.Token, now)
		if err != nil {
			return answer{}, err
		}
		return recordAnswer(rec), nil
	}
	rec := cookiesession.Record{Lifetime: req.Lifetime.goLifetime(), KeyID: req.KeyID}
	if req.Created != 0 {
		rec.Created = time.Unix(req.Created, 0)
	}
	for _, v := range req.Values {
		if err := set(&rec.Values, v); err != nil {
			return answer{}, err
		}
	}
	token, err := codec.SealAt(&rec, now)
	if err != nil {
		return answer{}, err
	}
	a := recordAnswer(rec)
	a.Token = token
	return a, nil
}

func recordAnswer(rec cookiesession.Record) answer {
	a := answer{ID: rec.ID.String(), Created: rec.Created.Unix(), Expires: rec.Expires.Unix(), KeyID: rec.KeyID,
		Lifetime: renderLifetime(rec.Lifetime), Values: []value{}}
	for _, k := range rec.Values.Keys() {
		v, _ := rec.Values.Get(k)
		a.Values = append(a.Values, render(k, v))
	}
	return a
}

// managerAnswer seals values into Set-Cookie lines, or reads a Cookie
// header, through a Manager: Go's own chunking.
func managerAnswer(req request) (answer, error) {
	ring, err := cookiesession.ParseKeyRing([]byte(req.Ring))
	if err != nil {
		return answer{}, err
	}
	now := time.Unix(req.Now, 0)
	m, err := cookiesession.New(ring, cookiesession.Options{
		Name: req.Name, MaxAge: time.Duration(req.MaxAge) * time.Second, MaxChunks: req.MaxChunks,
		MaxCookieSize: req.MaxCookieSize, Now: func() time.Time { return now },
		MaxLifetime: time.Duration(req.MaxLifetime) * time.Second, BrowserSession: req.BrowserSession,
		IdleTimeout: time.Duration(req.Idle) * time.Second, RefreshThreshold: req.RefreshThreshold, Path: req.Path, Domain: req.Domain,
		DisableSecure: req.DisableSecure, DisableHttpOnly: req.DisableHTTPOnly, SameSite: sameSite[req.SameSite],
		Partitioned: req.Partitioned, Retired: req.Carry.retired(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return answer{}, err
	}
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	if req.Cookie != "" {
		r.Header.Set("Cookie", req.Cookie)
	}
	for _, line := range req.CookieLines {
		r.Header.Add("Cookie", line)
	}
	s, err := m.Load(r)
	if req.Op == "manager_read" {
		return readAnswer(m, r, s, err), nil
	}
	if req.Op == "manager_open" {
		if err != nil {
			return answer{}, err
		}
		a := answer{IsNew: s.IsNew(), Created: s.CreatedAt().Unix(), Expires: s.ExpiresAt().Unix(), Values: []value{}}
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			a.Values = append(a.Values, render(k, v))
		}
		return a, nil
	}
	if req.ClearValues {
		s.Clear()
	}
	if req.Lifetime != nil {
		if err := s.SetLifetime(req.Lifetime.goLifetime()); err != nil {
			return answer{}, err
		}
	}
	for _, v := range req.Values {
		goValue, err := build(v)
		if err != nil {
			return answer{}, err
		}
		if err := s.Set(mustHex(v.Key), goValue); err != nil {
			return answer{}, err
		}
	}
	w := httptest.NewRecorder()
	if err := m.Save(w, r, s); err != nil {
		return answer{}, err
	}
	return answer{SetCookie: w.Header()["Set-Cookie"]}, nil
}

// getJSONAnswer stores the JSON text in Hex in a session and reads it
// back with GetJSON into an any, as a handler that reads a JSON value set
// at the edge would: the value, written again as JSON, or GetJSON's error.
func getJSONAnswer(req request) (answer, error) {
	ring, err := cookiesession.ParseKeyRing([]byte(req.Ring))
	if err != nil {
		return answer{}, err
	}
	m, err := cookiesession.New(ring, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return answer{}, err
	}
	s, err := m.Load(httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	if err != nil {
		return answer{}, err
	}
	if err := s.Set("j", json.RawMessage(mustHex(req.Hex))); err != nil {
		return answer{}, err
	}
	var v any
	if _, err := s.GetJSON("j", &v); err != nil {
		return answer{}, err
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return answer{}, err
	}
	return answer{JSON: strings.TrimSuffix(out.String(), "\n")}, nil
}

// readAnswer gives the session Load opened (or its error) and the
// Set-Cookie lines Save then writes for it unchanged: what a Manager
// decides for the request's cookie.
func readAnswer(m *cookiesession.Manager, r *http.Request, s *cookiesession.Session, err error) answer {
	a := answer{Values: []value{}}
	if err != nil {
		a = failure(err)
	} else if !s.IsNew() {
		a.ID, a.KeyID = s.ID(), s.KeyID()
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			a.Values = append(a.Values, render(k, v))
		}
	}
	w := httptest.NewRecorder()
	if err := m.Save(w, r, s); err != nil {
		return failure(err)
	}
	a.SetCookie = w.Header()["Set-Cookie"]
	return a
}

// sameSite maps the JS option's spelling to Go's mode; "" is Go's default.
var sameSite = map[string]http.SameSite{"lax": http.SameSiteLaxMode, "strict": http.SameSiteStrictMode, "none": http.SameSiteNoneMode}

func set(vals *cookiesession.Values, v value) error {
	goValue, err := build(v)
	if err != nil {
		return err
	}
	return vals.Set(mustHex(v.Key), goValue)
}

func mustHex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("interop: bad hex " + s)
	}
	return string(b)
}

// build makes the Go value a rendering describes.
func build(v value) (any, error) {
	switch v.Type {
	case "nil":
		return nil, nil
	case "string":
		return mustHex(v.Hex), nil
	case "[]byte":
		return []byte(mustHex(v.Hex)), nil
	case "json.RawMessage":
		return json.RawMessage(mustHex(v.Hex)), nil
	case "bool":
		return v.Value == "true", nil
	case "float32":
		bits, err := strconv.ParseUint(v.Bits, 16, 32)
		return math.Float32frombits(uint32(bits)), err
	case "float64":
		bits, err := strconv.ParseUint(v.Bits, 16, 64)
		return math.Float64frombits(bits), err
	case "time.Time":
		sec, err := strconv.ParseInt(v.Unix, 10, 64)
		t := time.Unix(sec, v.Nsec)
		if v.Offset == 0 {
			return t.UTC(), err
		}
		return t.In(time.FixedZone("", v.Offset)), err
	case "[]string":
		list := make([]string, len(v.List))
		for i, s := range v.List {
			list[i] = mustHex(s)
		}
		return list, nil
	case "map[string]string":
		m := make(map[string]string, len(v.Map))
		for _, kv := range v.Map {
			m[mustHex(kv[0])] = mustHex(kv[1])
		}
		return m, nil
	}
	return buildInt(v)
}

func buildInt(v value) (any, error) {
	signed := map[string]int{"int": 64, "int8": 8, "int16": 16, "int32": 32, "int64": 64, "time.Duration": 64}
	if bits, ok := signed[v.Type]; ok {
		n, err := strconv.ParseInt(v.Value, 10, bits)
		switch v.Type {
		case "int":
			return int(n), err
		case "int8":
			return int8(n), err
		case "int16":
			return int16(n), err
		case "int32":
			return int32(n), err
		case "int64":
			return n, err
		}
		return time.Duration(n), err
	}
	unsigned := map[string]int{"uint": 64, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}
	bits, ok := unsigned[v.Type]
	if !ok {
		return nil, fmt.Errorf("unknown type %q", v.Type)
	}
	n, err := strconv.ParseUint(v.Value, 10, bits)
	switch v.Type {
	case "uint":
		return uint(n), err
	case "uint8":
		return uint8(n), err
	case "uint16":
		return uint16(n), err
	case "uint32":
		return uint32(n), err
	}
	return n, err
}

// render describes a Go value losslessly, with its Go type.
func render(key string, x any) value {
	v := value{Key: hex.EncodeToString([]byte(key))}
	switch x := x.(type) {
	case nil:
		v.Type = "nil"
	case string:
		v.Type, v.Hex = "string", hex.EncodeToString([]byte(x))
	case []byte:
		v.Type, v.Hex = "[]byte", hex.EncodeToString(x)
	case json.RawMessage:
		v.Type, v.Hex = "json.RawMessage", hex.EncodeToString(x)
	case bool:
		v.Type, v.Value = "bool", strconv.FormatBool(x)
	case float32:
		v.Type, v.Bits = "float32", fmt.Sprintf("%08x", math.Float32bits(x))
	case float64:
		v.Type, v.Bits = "float64", fmt.Sprintf("%016x", math.Float64bits(x))
	case time.Time:
		_, offset := x.Zone()
		v.Type, v.Unix, v.Nsec, v.Offset = "time.Time", strconv.FormatInt(x.Unix(), 10), int64(x.Nanosecond()), offset
	case time.Duration:
		v.Type, v.Value = "time.Duration", strconv.FormatInt(int64(x), 10)
	case []string:
		v.Type, v.List = "[]string", make([]string, len(x))
		for i, s := range x {
			v.List[i] = hex.EncodeToString([]byte(s))
		}
	case map[string]string:
		v.Type, v.Map = "map[string]string", [][]string{}
		for k, s := range x {
			v.Map = append(v.Map, []string{hex.EncodeToString([]byte(k)), hex.EncodeToString([]byte(s))})
		}
	default:
		v.Type, v.Value = fmt.Sprintf("%T", x), fmt.Sprint(x)
	}
	return v
}
