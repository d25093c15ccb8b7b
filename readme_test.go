package cookiesession_test

import (
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
