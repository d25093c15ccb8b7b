package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// demoHost is the host name the browser opens. The demo listens on
// 127.0.0.1; Chromium treats both it and localhost as secure contexts and
// keeps the demo's Secure cookie over plain HTTP (TestSecureCookieOverHTTP
// checks both). localhost is used because it is the name a user types.
const demoHost = "localhost"

// newKey makes a fresh random key or stops the test.
func newKey(t *testing.T) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeRing writes a key-ring file in the library's JSON form, the way an
// operator would hand it to the demo with -keys.
func writeRing(t *testing.T, path string, primary cookiesession.Key, others ...cookiesession.Key) {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(primary, others...)
	if err != nil {
		t.Fatal(err)
	}
	data, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ringFile writes a one-key ring into the test's temporary dir.
func ringFile(t *testing.T) (string, cookiesession.Key) {
	t.Helper()
	k := newKey(t)
	path := filepath.Join(t.TempDir(), "keys.json")
	writeRing(t, path, k)
	return path, k
}

// demo is one running demo process.
type demo struct {
	Addr string // 127.0.0.1:PORT, what it listens on
	URL  string // http://localhost:PORT/, what the browser opens

	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{} // closed when the process has exited
}

// logBuffer keeps the demo's log for the failure report.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(line)
	b.buf.WriteByte('\n')
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`demo listening on http://(127\.0\.0\.1:\d+)`)

// startDemo runs the demo on addr (use 127.0.0.1:0 for a free port) with
// the extra flags, waits until /healthz answers, and stops it when the test
// ends. Its log is printed if the test fails.
func startDemo(t *testing.T, ctx context.Context, addr string, args ...string) *demo {
	t.Helper()
	d := &demo{out: new(logBuffer), done: make(chan struct{})}
	d.cmd = exec.Command(demoBin, append([]string{"-addr", addr, "-debug"}, args...)...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = d.cmd.Stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("demo %s log:\n%s", d.Addr, d.out)
		}
	})
	found := make(chan string, 1)
	go d.read(stderr, found)
	select {
	case d.Addr = <-found:
	case <-d.done:
		t.Fatalf("demo exited before listening:\n%s", d.out)
	case <-ctx.Done():
		t.Fatalf("demo did not say where it listens: %v\n%s", ctx.Err(), d.out)
	}
	_, port, _ := net.SplitHostPort(d.Addr)
	d.URL = "http://" + net.JoinHostPort(demoHost, port) + "/"
	waitHealthy(t, ctx, "http://"+d.Addr+"/healthz")
	return d
}

// read copies the demo's log lines, reports the listening address once,
// and reaps the process when its output ends.
func (d *demo) read(stderr io.Reader, found chan<- string) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		d.out.add(line)
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case found <- m[1]:
			default:
			}
		}
	}
	d.cmd.Wait()
	close(d.done)
}

// stop asks the demo to shut down as a user's Ctrl-C would, and kills it
// if it does not. Calling it twice is harmless.
func (d *demo) stop(t *testing.T) {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Errorf("demo %s ignored SIGINT for 10s; killing it", d.Addr)
		d.cmd.Process.Kill()
		<-d.done
	}
}

// waitHealthy polls url until it answers 200 or ctx ends.
func waitHealthy(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered 200: last error %v", url, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
