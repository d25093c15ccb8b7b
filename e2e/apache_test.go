package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// apacheModules is where Debian's apache2 keeps its modules.
const apacheModules = "/usr/lib/apache2/modules"

// apachePath finds Debian's apache2, with its proxy module.
func apachePath(t *testing.T) string {
	path := toolPath(t, "apt-get install -y apache2", "apache2", "/usr/sbin/apache2")
	if _, err := os.Stat(filepath.Join(apacheModules, "mod_proxy_http.so")); err != nil {
		missingTool(t, "Debian's apache2 modules are not installed ("+err.Error()+"); install them with apt-get install -y apache2")
	}
	return path
}

// startApache runs Apache httpd in the foreground as a reverse proxy
// (mod_proxy_http) to backend on a free loopback port, with the
// directives in extra and otherwise its defaults. It returns the front's
// URL once a request for /get through it is answered. Run as root, its
// workers run as www-data (httpd refuses to serve as root).
func startApache(t *testing.T, apache, backend, extra string) string {
	t.Helper()
	addr := freeAddr(t)
	dir := t.TempDir()
	runAs := ""
	if os.Geteuid() == 0 {
		runAs = "User www-data\nGroup www-data"
	}
	conf := fmt.Sprintf(`ServerRoot %[1]s
ServerName 127.0.0.1
Listen %[2]s
PidFile %[1]s/httpd.pid
ErrorLog %[1]s/error.log
%[5]s
LoadModule mpm_event_module %[6]s/mod_mpm_event.so
LoadModule authz_core_module %[6]s/mod_authz_core.so
LoadModule proxy_module %[6]s/mod_proxy.so
LoadModule proxy_http_module %[6]s/mod_proxy_http.so
ProxyPass / http://%[3]s/
%[4]s
`, dir, addr, backend, extra, runAs, apacheModules)
	path := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return runFront(t, exec.Command(apache, "-f", path, "-D", "FOREGROUND"), dir, addr, 10*time.Second, "error.log", "httpd.conf")
}

// TestApacheHeaderLimits measures, as TestProxyHeaderLimits does for
// nginx, where Apache httpd in its default configuration (mod_proxy_http,
// no Limit* directive) starts refusing the session's headers. It takes
// the longest Cookie line LimitRequestFieldSize allows, and no response
// header limit stops a session the Manager writes: each Set-Cookie line
// is under the same 8,190 bytes. It asserts that Apache forwards every
// session the Manager writes with MaxChunks 8, and that the Manager warns
// of every Cookie line Apache refuses. It prints the figures README's
// "Header limits in front" quotes.
func TestApacheHeaderLimits(t *testing.T) {
	apache := apachePath(t)
	app := new(limitsApp)
	app.fresh(t)
	backend := httptest.NewServer(app)
	defer backend.Close()
	front := startApache(t, apache, backend.Listener.Addr().String(), "")

	resp, direct := app.measureResponse(t, front, backend.URL), app.measureResponse(t, backend.URL, backend.URL)
	if resp.passed != direct.passed || resp.refusedStatus != direct.refusedStatus {
		t.Errorf("Apache forwards a session of %d bytes of values and answers %d from %d; the Manager alone writes %d and answers %d from %d",
			resp.passed, resp.refusedStatus, resp.refused, direct.passed, direct.refusedStatus, direct.refused)
	}
	big, _ := app.setCookieBytes(t, backend.URL, resp.passed)
	t.Logf("Apache, response: forwards the largest session the Manager writes with MaxChunks 8, %d bytes of values (%d bytes of Set-Cookie); the Manager answers %d from %d",
		resp.passed, big, resp.refusedStatus, resp.refused)
	req := app.measureRequest(t, front)
	warnFrom := 0
	for _, p := range req.probes {
		if p.status != http.StatusOK && !p.warned {
			t.Errorf("a Cookie line of %d bytes: Apache answered %d, and the Manager did not warn", p.line, p.status)
		}
		if p.warned && warnFrom == 0 {
			warnFrom = p.line
		}
	}
	t.Logf("Apache, request: accepts a Cookie line of %d bytes (\"Cookie: \" included, CRLF not), answers %d from %d; the Manager warns from %d",
		req.passed, req.refusedStatus, req.refused, warnFrom)
}

// TestEarlyHintsThroughApache sends a 103 Early Hints, then the page with
// the session's cookie, through Apache httpd in its default configuration:
// it proxies with HTTP/1.1, so the middleware sends the 103, and Apache
// forwards it to the client before the page and the cookie.
func TestEarlyHintsThroughApache(t *testing.T) {
	apache := apachePath(t)
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{DisableSecure: true})
	if err != nil {
		t.Fatal(err)
	}
	protos := make(chan string, 10)
	backend := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/get" { // startApache's probe
			return
		}
		protos <- r.Proto
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		if err := cookiesession.FromContext(r.Context()).Set("user", "ada"); err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, "page")
	})))
	defer backend.Close()
	front := startApache(t, apache, backend.Listener.Addr().String(), "")

	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(t.Context(), trace), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, front+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("through Apache: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "page" || len(resp.Cookies()) != 1 {
		t.Errorf("through Apache: %d %q (%v), cookies %q; want 200 \"page\" with the session's cookie",
			resp.StatusCode, body, err, resp.Header.Values("Set-Cookie"))
	}
	if proto := <-protos; proto != "HTTP/1.1" {
		t.Errorf("Apache proxied with %s, want HTTP/1.1", proto)
	}
	if want := []string{"103 </a.css>; rel=preload"}; !slices.Equal(hints, want) {
		t.Errorf("the client got the interim responses %q, want %q", hints, want)
	}
}
