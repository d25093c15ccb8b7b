package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// headerWarning is what the Manager logs when its cookies pass a default
// proxy header limit.
const headerWarning = "pass a header limit of a proxy"

// TestProxyHeaderLimits puts nginx, in its default configuration, in
// front of a Manager and finds where it starts refusing the session's
// headers: the response whose header overflows proxy_buffer_size (502),
// and the request whose Cookie line overflows large_client_header_buffers
// (400). It asserts that the Manager's warning never fires for a response
// nginx forwards, and that it fires for the request exactly where nginx
// starts refusing. It then does the same measurements through HAProxy
// with the fleet test's configuration and asserts that HAProxy forwards
// more both ways, so that nginx's limits are the ones the Manager warns
// of. It prints the figures README's "Header limits in front" quotes.
func TestProxyHeaderLimits(t *testing.T) {
	nginx, haproxy := nginxPath(t), haproxyPath(t)
	app := new(limitsApp)
	app.fresh(t)
	backend := httptest.NewServer(app)
	defer backend.Close()
	addr := backend.Listener.Addr().String()

	front := startNginx(t, nginx, addr, "")
	resp := app.measureResponse(t, front, backend.URL)
	for _, p := range resp.probes {
		if p.warned && p.status == http.StatusOK {
			t.Errorf("%d bytes of values: the Manager warned, but nginx forwarded the response", p.n)
		}
	}
	if resp.refusedStatus != http.StatusBadGateway {
		t.Errorf("%d bytes of values: nginx answered %d, want 502", resp.refused, resp.refusedStatus)
	}
	warnFrom := resp.refused
	for ; warnFrom < resp.refused+200; warnFrom++ {
		if _, warned, _ := app.probe(t, front, warnFrom, ""); warned {
			break
		}
	}
	if warnFrom == resp.refused+200 {
		t.Errorf("the Manager never warned, up to %d bytes of values", warnFrom)
	}
	t.Logf("nginx, response: forwards a session of %d bytes of values, answers 502 from %d (%d bytes of Set-Cookie in %d cookie(s)); the Manager warns from %d",
		resp.passed, resp.refused, resp.setCookie, resp.chunks, warnFrom)
	req := app.measureRequest(t, front)
	for _, p := range req.probes {
		if refused := p.status != http.StatusOK; p.warned != refused {
			t.Errorf("a Cookie line of %d bytes: nginx answered %d, and the Manager warned %v", p.line, p.status, p.warned)
		}
	}
	t.Logf("nginx, request: accepts a Cookie line of %d bytes (\"Cookie: \" included, CRLF not), answers %d from %d; the Manager warns from the same length",
		req.passed, req.refusedStatus, req.refused)

	// The fix: nginx with its buffers raised forwards three full cookies
	// both ways.
	raised := startNginx(t, nginx, addr, raisedNginx)
	rresp, rreq := app.measureResponse(t, raised, backend.URL), app.measureRequest(t, raised)
	t.Logf("nginx with README's four lines, response: forwards a session of %d bytes of values, answers %d from %d (%d bytes of Set-Cookie in %d cookies)",
		rresp.passed, rresp.refusedStatus, rresp.refused, rresp.setCookie, rresp.chunks)
	t.Logf("nginx with README's four lines, request: accepts a Cookie line of %d bytes, answers %d from %d", rreq.passed, rreq.refusedStatus, rreq.refused)
	if threeFull := 3 * (len("session.1=") + 4096); rresp.chunks <= 3 || rreq.passed < len("Cookie: ")+threeFull+2*len("; ") {
		t.Errorf("nginx with README's four lines does not forward three full cookies both ways")
	}

	// The fleet test's HAProxy configuration, with no tune.* setting.
	hfront := startHAProxy(t, t.Context(), haproxy, []*fleetInstance{{name: "limits", addr: addr}})
	hresp, hreq := app.measureResponse(t, hfront, backend.URL), app.measureRequest(t, hfront)
	t.Logf("HAProxy, response: forwards a session of %d bytes of values, answers %d from %d (%d bytes of Set-Cookie in %d cookies)",
		hresp.passed, hresp.refusedStatus, hresp.refused, hresp.setCookie, hresp.chunks)
	t.Logf("HAProxy, request: accepts a Cookie line of %d bytes, answers %d from %d", hreq.passed, hreq.refusedStatus, hreq.refused)
	if hresp.passed <= resp.passed || hreq.passed <= req.passed {
		t.Errorf("HAProxy forwards less than nginx: the Manager warns of nginx's limits as the lowest")
	}
}

// probeResult is one probe: n bytes of values, the status of the last
// request, whether the Manager warned, and the Cookie line sent back.
type probeResult struct {
	n, status int
	warned    bool
	line      int
}

// limits is where a proxy stops forwarding: the largest size it passes,
// the smallest it refuses and the status it refuses with, and the probes.
type limits struct {
	passed, refused, refusedStatus int
	setCookie, chunks              int // at refused, straight from the backend
	probes                         []probeResult
}

// measureResponse finds, by bisection, the largest session (in bytes of
// values, set from a cookieless request) whose response front forwards.
func (a *limitsApp) measureResponse(t *testing.T, front, backend string) limits {
	var l limits
	lo, hi := 100, 40000
	for hi-lo > 1 {
		n := (lo + hi) / 2
		status, warned, _ := a.probe(t, front, n, "")
		l.probes = append(l.probes, probeResult{n: n, status: status, warned: warned})
		if status == http.StatusOK {
			lo = n
		} else {
			hi = n
		}
	}
	l.passed, l.refused = lo, hi
	l.refusedStatus, _, _ = a.probe(t, front, hi, "")
	l.setCookie, l.chunks = a.setCookieBytes(t, backend, hi)
	return l
}

// measureRequest finds, by bisection, the longest Cookie line front
// accepts: a session of 1,000 bytes beside another cookie of the site,
// whose size is swept; the response that sets the session goes through
// front too. It probes each size around the edge, and returns lengths of
// the Cookie line.
func (a *limitsApp) measureRequest(t *testing.T, front string) limits {
	var l limits
	lo, hi := 1000, 30000
	for hi-lo > 1 {
		k := (lo + hi) / 2
		if status, _, _ := a.probe(t, front, 1000, strings.Repeat("a", k)); status == http.StatusOK {
			lo = k
		} else {
			hi = k
		}
	}
	for k := lo - 2; k <= hi+2; k++ {
		status, warned, line := a.probe(t, front, 1000, strings.Repeat("a", k))
		l.probes = append(l.probes, probeResult{n: 1000, status: status, warned: warned, line: line})
		switch k {
		case lo:
			l.passed = line
		case hi:
			l.refused, l.refusedStatus = line, status
		}
	}
	return l
}

// limitsApp serves the probes: /set?n=N stores N bytes of values, /get
// reads them back. Each probe gets a new Manager, so that its warning,
// logged once per Manager, is its own.
type limitsApp struct {
	handler atomic.Pointer[http.Handler]
	log     syncLog
}

type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) reset() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

func (a *limitsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*a.handler.Load()).ServeHTTP(w, r)
}

// fresh installs a new Manager, MaxChunks 8 over plain HTTP, and clears
// the log.
func (a *limitsApp) fresh(t *testing.T) {
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{MaxChunks: 8, DisableSecure: true, Logger: slog.New(slog.NewTextHandler(&a.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.FormValue("n"))
		if err := cookiesession.FromContext(r.Context()).Set("note", strings.Repeat("x", n)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/healthz", func(http.ResponseWriter, *http.Request) {}) // startHAProxy's probe
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, len(cookiesession.FromContext(r.Context()).GetString("note")))
	})
	var h http.Handler = m.Handler(mux)
	a.handler.Store(&h)
	a.log.reset()
}

// probe stores a session of n bytes through front, beside another cookie
// of value other if that is not empty, and then, if the response was
// forwarded and other is set, sends the cookies back through front. It
// returns the status nginx gave the last request, whether the Manager
// warned, and the length of the Cookie line sent back, "Cookie: "
// included.
func (a *limitsApp) probe(t *testing.T, front string, n int, other string) (status int, warned bool, line int) {
	t.Helper()
	a.fresh(t)
	cookies := map[string]string{}
	if other != "" {
		cookies["analytics"] = other
	}
	resp := send(t, front+"/set?n="+strconv.Itoa(n), cookies)
	status = resp.StatusCode
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 { // a chunk above the token's, expired
			delete(cookies, c.Name)
			continue
		}
		cookies[c.Name] = c.Value
	}
	warned = strings.Contains(a.log.reset(), headerWarning)
	if status == http.StatusOK && other != "" {
		status = send(t, front+"/get", cookies).StatusCode
		line = len("Cookie: ") + len(cookieHeader(cookies))
	}
	return status, warned, line
}

// setCookieBytes returns the bytes of the Set-Cookie lines, "Set-Cookie: "
// and CRLF included, a session of n bytes of values takes straight from
// the backend (with the lines that expire the chunks above its token), and
// how many cookies it spans.
func (a *limitsApp) setCookieBytes(t *testing.T, backend string, n int) (size, chunks int) {
	a.fresh(t)
	resp := send(t, backend+"/set?n="+strconv.Itoa(n), nil)
	for _, line := range resp.Header["Set-Cookie"] {
		size += len("Set-Cookie: ") + len(line) + len("\r\n")
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 {
			chunks++
		}
	}
	return size, chunks
}

func cookieHeader(cookies map[string]string) string {
	pairs := make([]string, 0, len(cookies))
	for name, value := range cookies {
		pairs = append(pairs, name+"="+value)
	}
	return strings.Join(pairs, "; ")
}

// proxyClient bounds each probe, so that a proxy that does not answer
// fails the test rather than hanging it.
var proxyClient = &http.Client{Timeout: 10 * time.Second}

// send GETs target with cookies in one Cookie header and reads the body.
func send(t *testing.T, target string, cookies map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", cookieHeader(cookies))
	}
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// nginxPath finds Debian's nginx.
func nginxPath(t *testing.T) string {
	return toolPath(t, "apt-get install -y nginx", "nginx", "/usr/sbin/nginx")
}

// nginxBefore reports whether the nginx at path is older than major.minor,
// from what nginx -v prints ("nginx version: nginx/1.22.1").
func nginxBefore(t *testing.T, path string, major, minor int) bool {
	t.Helper()
	out, err := exec.Command(path, "-v").CombinedOutput()
	_, version, found := strings.Cut(string(out), "nginx/")
	var gotMajor, gotMinor int
	if _, scanErr := fmt.Sscanf(version, "%d.%d", &gotMajor, &gotMinor); err != nil || !found || scanErr != nil {
		t.Fatalf("%s -v: %v, %q: no version", path, err, out)
	}
	return gotMajor < major || gotMajor == major && gotMinor < minor
}

// raisedNginx is the fix README and the Manager's warning give for
// nginx, for sessions of up to three cookies.
const raisedNginx = `proxy_buffer_size 16k;
		proxy_buffers 8 16k;
		proxy_busy_buffers_size 32k;
		large_client_header_buffers 4 16k;`

// TestReadmeNginxLines keeps README's nginx block, the four lines it says
// TestProxyHeaderLimits measured, the directives of raisedNginx.
func TestReadmeNginxLines(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, found := strings.Cut(string(readme), "```nginx\n")
	block, _, _ = strings.Cut(block, "```")
	directives := func(text string) []string {
		var out []string
		for line := range strings.Lines(text) {
			line, _, _ = strings.Cut(line, "#")
			if line = strings.Join(strings.Fields(line), " "); line != "" {
				out = append(out, line)
			}
		}
		return out
	}
	if got, want := directives(block), directives(raisedNginx); !found || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's nginx block has %q, want raisedNginx's %q", got, want)
	}
}

// startNginx runs nginx in the foreground as a reverse proxy to backend
// on a free loopback port, with the directives in extra and otherwise its
// defaults. It returns the front's URL once a request through it is
// answered. A listen directive in extra names the address of a listener
// in held, which startNginx closes only once it has picked its own port:
// the kernel may hand out a port just closed again, and nginx refuses
// two listen directives for one address.
func startNginx(t *testing.T, nginx, backend, extra string, held ...net.Listener) string {
	t.Helper()
	addr := freeAddr(t)
	for _, l := range held {
		l.Close()
	}
	dir := t.TempDir()
	// The cache that extra may turn on with proxy_cache cache. Its
	// workers, which run as nobody under a root master, must reach it.
	cacheDir := workerDir(t, "cookiesession-nginx-cache-")
	if err := os.Chmod(cacheDir, 0o711); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	proxy_cache_path %[5]s/cache keys_zone=cache:1m use_temp_path=off;
	server {
		listen %[2]s;
		%[4]s
		location / { proxy_pass http://%[3]s; }
	}
}
`, dir, addr, backend, extra, cacheDir)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return runFront(t, exec.Command(nginx, "-p", dir, "-c", path, "-g", "daemon off;"), dir, addr, 10*time.Second, "error.log")
}

// workerDir makes a directory, removed when the test ends, that the
// workers of a root master (nginx's nobody, Apache's www-data) can reach:
// not under t.TempDir, whose directories only their owner may enter, but
// under TMPDIR, or under /tmp when root's TMPDIR is a directory others
// cannot enter (one made under umask 077).
func workerDir(t *testing.T, prefix string) string {
	t.Helper()
	parent := os.TempDir()
	if os.Geteuid() == 0 && !othersCanEnter(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// othersCanEnter says whether every directory on path lets others
// search it.
func othersCanEnter(path string) bool {
	for dir := filepath.Clean(path); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}

// TestEarlyHintsThroughNginx sends a 103 Early Hints, then the answer
// with the session's cookie, through nginx to a client over HTTP/2 (h2c).
// In its default configuration nginx proxies with HTTP/1.0: net/http sends
// a 1xx to an HTTP/1.0 request too, and nginx took it for the final
// answer, so the client got a 103, then neither page nor cookie. The
// middleware sends no 1xx to HTTP/1.0. With proxy_http_version 1.1 the
// 103 goes out, and nginx before 1.29 takes it for the answer all the
// same before nginx 1.29.0, which reads a backend's 103 (its CHANGES
// file): the test pins that, as README says it.
func TestEarlyHintsThroughNginx(t *testing.T) {
	nginx := nginxPath(t)
	before129 := nginxBefore(t, nginx, 1, 29)
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{DisableSecure: true})
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		if err := cookiesession.FromContext(r.Context()).Set("user", "ada"); err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, "page")
	})))
	defer backend.Close()
	for _, tt := range []struct {
		config string
		broken bool // nginx takes the 103 for the answer
	}{
		{"", false},
		{"proxy_http_version 1.1;", before129},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h2c := ln.Addr().String()
		startNginx(t, nginx, backend.Listener.Addr().String(), "listen "+h2c+" http2; "+tt.config, ln)
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		defer tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h2c+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if tt.broken {
			if err == nil || !strings.Contains(err.Error(), "PROTOCOL_ERROR") {
				t.Errorf("nginx with %q: %v, want the stream error of a 103 taken for the answer (README says so)", tt.config, err)
			}
			if err == nil {
				resp.Body.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("through nginx over HTTP/2: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != "page" || len(resp.Cookies()) != 1 {
			t.Errorf("through nginx over %s: %d %q (%v), cookies %q; want 200 \"page\" with the session's cookie",
				resp.Proto, resp.StatusCode, body, err, resp.Header.Values("Set-Cookie"))
		}
	}
}
