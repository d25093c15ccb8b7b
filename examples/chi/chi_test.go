package chiexample

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/seed-ff2808ae/cookiesession"
)

// newRouter is a chi app with r.Use(sessions.Handler), two cookies per
// session at most, and a 413 for a session that does not fit.
func newRouter(t *testing.T) http.Handler {
	sessions, _ := newSessions(t, cookiesession.Options{
		MaxChunks: 2,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, cookiesession.ErrTooLarge) {
				t.Errorf("ErrorHandler got %v", err)
			}
			http.Error(w, "session too large", http.StatusRequestEntityTooLarge)
		},
	})
	r := chi.NewRouter()
	r.Use(sessions.Handler)
	r.Post("/login/{user}", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		_ = s.Set("user", chi.URLParam(r, "user"))
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Post("/blob/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(chi.URLParam(r, "n"))
		_ = cookiesession.FromContext(r.Context()).Set("blob", strings.Repeat("x", n))
		fmt.Fprint(w, "stored")
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	})
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		fmt.Fprintf(w, "user=%s blob=%d", s.GetString("user"), len(s.GetString("blob")))
	})
	return r
}

func TestChiRecipe(t *testing.T) {
	srv := httptest.NewTLSServer(newRouter(t))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(method, path string) (status int, body string, setCookie []string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.Cookies() {
			setCookie = append(setCookie, fmt.Sprintf("%s expired=%t", c.Name, c.MaxAge < 0))
		}
		slices.Sort(setCookie)
		return resp.StatusCode, string(b), setCookie
	}

	if _, _, sc := do("POST", "/login/ada"); !slices.Equal(sc, []string{"session expired=false"}) {
		t.Fatalf("login: Set-Cookie %v", sc)
	}
	if _, body, _ := do("GET", "/"); body != "user=ada blob=0" {
		t.Fatalf("after login: %q", body)
	}
	if _, _, sc := do("POST", "/blob/5000"); !slices.Equal(sc, []string{"session expired=false", "session.1 expired=false"}) {
		t.Fatalf("chunked: Set-Cookie %v", sc)
	}
	if _, body, _ := do("GET", "/"); body != "user=ada blob=5000" {
		t.Fatalf("read from two chunks: %q", body)
	}
	if status, body, sc := do("POST", "/blob/7000"); status != 413 || body != "session too large\n" || sc != nil {
		t.Fatalf("too large: %d %q %v", status, body, sc)
	}
	if _, body, _ := do("GET", "/"); body != "user=ada blob=5000" {
		t.Fatalf("after too large: %q", body)
	}
	if _, _, sc := do("POST", "/logout"); !slices.Equal(sc, []string{"session expired=true", "session.1 expired=true"}) {
		t.Fatalf("logout: Set-Cookie %v", sc)
	}
	if _, body, _ := do("GET", "/"); body != "user= blob=0" {
		t.Fatalf("after logout: %q", body)
	}
}

// TestReadmeChi compiles the README's chi snippet against this module.
func TestReadmeChi(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, block := range strings.Split(string(readme), "```go\n")[1:] {
		if c, _, _ := strings.Cut(block, "```"); strings.Contains(c, "r.Use(sessions.Handler)") {
			code = c
			break
		}
	}
	if code == "" {
		t.Fatal("README.md has no ```go block with r.Use(sessions.Handler)")
	}
	// Not in the source tree, which may be read-only (go test all runs
	// this in the module cache): go vet of a file builds it in this
	// directory's module.
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "vet", path).CombinedOutput(); err != nil {
		t.Fatalf("README chi snippet does not compile: %v\n%s", err, out)
	}
}
