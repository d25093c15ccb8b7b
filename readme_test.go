package cookiesession_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStartCompiles keeps the README's quick start true: its
// `package main` block must compile and vet against this module.
func TestReadmeQuickStartCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := goBlockWith(string(readme), "package main")
	if code == "" {
		t.Fatal("README.md has no ```go block with package main")
	}
	// Not in the source tree, which may be read-only (go test all runs
	// this in the module cache): go vet of a file builds it in this
	// directory's module.
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "vet", path).CombinedOutput()
	if err != nil {
		t.Fatalf("README quick start does not compile: %v\n%s", err, out)
	}
}

// TestReadmeSessionsInPracticeSnippets runs the code of README's
// "Sessions in practice": the remember-me login writes a 7-day Max-Age
// when the box is ticked and a browser-session cookie when not, and
// unwrapTo finds, under the middleware's writer, an interface that writer
// lacks, whose assertion without ok panics naming the writer and the
// method.
func TestReadmeSessionsInPracticeSnippets(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	remember := goBlockWith(string(readme), "MaxLifetime: 30 * 24 * time.Hour, // the longest")
	setup, login, ok := strings.Cut(remember, "// in the login handler, after Renew:")
	unwrapTo := goBlockWith(string(readme), "func unwrapTo[T any]")
	if !ok || unwrapTo == "" {
		t.Fatal("README.md has no remember-me block split by its login comment, or no unwrapTo block")
	}
	program := fmt.Sprintf(`package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

%s

type settingser interface{ Settings() string }

type h3Writer struct{ http.ResponseWriter }

func (h3Writer) Settings() string { return "found" }

func main() {
	key, err := cookiesession.GenerateKey()
	if err != nil {
		panic(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		panic(err)
	}
%s
	app := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		var err error
		if err := s.Set("user", "ada"); err != nil {
			panic(err)
		}
%s
		if err != nil {
			panic(err)
		}
	}))
	for _, box := range []string{"on", ""} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/login?remember="+box, nil))
		c := rec.Result().Cookies()
		if len(c) != 1 {
			panic(fmt.Sprint(c))
		}
		fmt.Printf("remember=%%q: 7 days %%v, no Max-Age %%v\n", box, c[0].MaxAge == 604799 || c[0].MaxAge == 604800,
			c[0].MaxAge == 0 && !strings.Contains(rec.Result().Header.Get("Set-Cookie"), "Max-Age"))
	}

	sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		found, ok := unwrapTo[settingser](w)
		fmt.Println("unwrapTo:", ok && found.Settings() == "found")
		defer func() { fmt.Println("assertion:", recover()) }()
		_ = w.(settingser)
	})).ServeHTTP(h3Writer{httptest.NewRecorder()}, httptest.NewRequest("GET", "https://example.com/", nil))
}
`, unwrapTo, setup, login)
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	// go run runs what it builds: build for this machine, not for the
	// GOARCH the tests were built for (CI's 32-bit step runs them under
	// qemu-arm, which cannot start a child built for arm).
	cmd := exec.Command("go", "run", path)
	cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README's snippets do not run: %v\n%s\n%s", err, out, program)
	}
	want := `remember="on": 7 days true, no Max-Age false
remember="": 7 days false, no Max-Age true
unwrapTo: true
assertion: interface conversion: *cookiesession.responseWriter is not main.settingser: missing method Settings
`
	if string(out) != want {
		t.Errorf("README's snippets printed\n%s\nwant\n%s", out, want)
	}
}

// goBlockWith returns the first ```go fenced block that contains marker.
func goBlockWith(markdown, marker string) string {
	for _, block := range strings.Split(markdown, "```go\n")[1:] {
		code, _, _ := strings.Cut(block, "```")
		if strings.Contains(code, marker) {
			return code
		}
	}
	return ""
}

// TestReadmeServersHaveTimeouts keeps the README's programs, and the
// package doc's quick start (doc.go), fit to copy: every one that starts a
// server bounds how long a client may take to send its headers. Without
// it, net/http and fasthttp wait forever, and a few slow clients
// (Slowloris) hold every connection open.
func TestReadmeServersHaveTimeouts(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	pkgDoc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	starts := regexp.MustCompile(`.*(ListenAndServe\(|\.Run\("|\.Start\("|\.Listen\(").*`)
	timeout := regexp.MustCompile(`ReadHeaderTimeout|ReadTimeout`)
	for _, block := range append(strings.Split(string(readme), "```go\n")[1:], string(pkgDoc)) {
		code, _, _ := strings.Cut(block, "```")
		if start := starts.FindString(code); start != "" && !timeout.MatchString(code) {
			t.Errorf("a README or doc.go program starts a server with no read timeout: %s", strings.TrimSpace(start))
		}
	}
}

// TestReadmeSecuritySnippetsCompile keeps the fragments in README's
// "Security model and limits" compiling: the Validate that refuses ended
// sessions (ExampleOptions_validateLogout runs its logic) and the
// ReverseProxy Rewrite that drops the session's cookies
// (TestReverseProxyForwardsTheToken runs it), each inside the little
// program it assumes.
func TestReadmeSecuritySnippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for marker, program := range map[string]string{
		"endedSessions.Contains": `package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/seed-ff2808ae/cookiesession"
)

var endedSessions interface {
	Contains(ctx context.Context, id string) bool
}

var _ = cookiesession.Options{
%s}

func main() {}
`,
		"pr.SetURL(upstream)": `package main

import (
	"net/http/httputil"
	"net/url"
	"slices"

	"github.com/seed-ff2808ae/cookiesession"
)

func proxyTo(sessions *cookiesession.Manager, upstream *url.URL) *httputil.ReverseProxy {
%s	return proxy
}

func main() {}
`,
	} {
		code := goBlockWith(string(readme), marker)
		if code == "" {
			t.Errorf("README.md has no ```go block with %q", marker)
			continue
		}
		path := filepath.Join(t.TempDir(), "main.go")
		if err := os.WriteFile(path, []byte(strings.Replace(program, "%s", code, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("go", "vet", path).CombinedOutput(); err != nil {
			t.Errorf("README's block with %q does not compile: %v\n%s", marker, err, out)
		}
	}
}
