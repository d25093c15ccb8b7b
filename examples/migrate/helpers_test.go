package migrate

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/seed-ff2808ae/cookiesession"
)

// profile is a struct the old app registered with gob.
type profile struct {
	Name  string
	Admin bool
}

func init() { gob.Register(profile{}) }

// logs is a slog.Logger's output, one JSON object a line, at Debug.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func newLogger() (*slog.Logger, *logs) {
	l := &logs{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// lines returns the lines whose msg starts with prefix.
func (l *logs) lines(t *testing.T, prefix string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, m)
		}
	}
	return out
}

func newManager(t *testing.T, opts cookiesession.Options) *cookiesession.Manager {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// app answers with what the session holds, as the ported app reads it.
var app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	var p profile
	if _, err := s.GetJSON("profile", &p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	flashes := s.Flashes()
	fmt.Fprintf(w, "user=%s visits=%d profile=%+v flashes=%q", s.GetString("user"), s.GetInt("visits"), p, flashes)
})

// answer is a response: its body and the cookies it sets, by name.
type answer struct {
	status  int
	body    string
	cookies map[string]*http.Cookie
}

// get sends GET https://example.com/ with cookies through h.
func get(t *testing.T, h http.Handler, cookies ...*http.Cookie) answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, body: string(body), cookies: map[string]*http.Cookie{}}
	for _, c := range res.Cookies() {
		if a.cookies[c.Name] != nil {
			t.Fatalf("two Set-Cookie lines for %q", c.Name)
		}
		a.cookies[c.Name] = c
	}
	return a
}

// TestReadmeSnippet keeps README.md true: its block that declares
// FromGorilla is gorilla.go, byte for byte.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("gorilla.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range strings.Split(string(readme), "```go\n")[1:] {
		if code, _, _ := strings.Cut(b, "```"); strings.Contains(code, "func FromGorilla(") {
			if code != string(src) {
				t.Error("README.md: the block that declares FromGorilla differs from examples/migrate/gorilla.go; paste gorilla.go into it")
			}
			return
		}
	}
	t.Error("README.md has no ```go block that declares FromGorilla")
}
