package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// demoBin is the demo server, built once for the whole run so that each
// test only starts a process.
var demoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cookiesession-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := buildAndRun(m, dir)
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAndRun(m *testing.M, dir string) int {
	demoBin = filepath.Join(dir, "demo")
	// go test puts its own go first on PATH, so this builds with the same
	// toolchain; the replace directive makes it the repository's code.
	build := exec.Command("go", "build", "-o", demoBin, "../examples/demo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building ../examples/demo:", err)
		return 1
	}
	return m.Run()
}
