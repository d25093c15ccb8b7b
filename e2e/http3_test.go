package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	"github.com/seed-ff2808ae/cookiesession"
)

// HTTP/3 through Manager.Handler: quic-go's http3.Server on 127.0.0.1
// and its http3.Transport with a cookie jar.

// h3Server serves h3App over HTTP/3 behind one Manager whose log the test
// reads.
type h3Server struct {
	url    string
	client *http.Client
	log    syncLog
	read   chan struct{} // the client has read /stream's first line
}

func newH3Server(t *testing.T) *h3Server {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := &h3Server{read: make(chan struct{})}
	sessions, err := cookiesession.New(ring, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&hs.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// httptest's certificate, for 127.0.0.1, taken from a TLS server that
	// serves nothing.
	donor := httptest.NewUnstartedServer(http.NotFoundHandler())
	donor.StartTLS()
	donor.Close()
	roots := x509.NewCertPool()
	roots.AddCert(donor.Certificate())

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http3.Server{
		Handler:   sessions.Handler(hs.app()),
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: donor.TLS.Certificates}),
	}
	go func() { _ = srv.Serve(conn) }()
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hs.url, hs.client = "https://"+conn.LocalAddr().String(), &http.Client{Transport: tr, Jar: jar, Timeout: testTimeout}
	t.Cleanup(func() {
		tr.Close()
		srv.Close()
		conn.Close()
	})
	return hs
}

// unwrapTo finds, under w and the writers it unwraps to, the first that is
// a T: README's recipe for http3.HTTPStreamer and http3.Settingser.
func unwrapTo[T any](w http.ResponseWriter) (T, bool) {
	for range 16 { // a writer whose Unwrap returns itself ends the search
		if found, ok := w.(T); ok {
			return found, true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	var zero T
	return zero, false
}

func (hs *h3Server) app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
		fmt.Fprintf(w, "proto=%s", r.Proto)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_ = s.Set("user", "dave")
		fmt.Fprintln(w, "first")
		fmt.Fprintf(w, "flush=%v\n", http.NewResponseController(w).Flush())
		select {
		case <-hs.read:
		case <-time.After(testTimeout):
		}
		_ = s.Set("user", "erin") // after the headers: logged, not saved
		fmt.Fprintln(w, "second")
	})
	mux.HandleFunc("/reach", func(w http.ResponseWriter, r *http.Request) {
		_, streamer := w.(http3.HTTPStreamer)
		_, settingser := w.(http3.Settingser)
		st, unwrapped := unwrapTo[http3.Settingser](w)
		_, streamerUnwrapped := unwrapTo[http3.HTTPStreamer](w)
		datagrams := "unknown"
		if unwrapped {
			select {
			case <-st.ReceivedSettings():
				datagrams = fmt.Sprint(st.Settings().EnableDatagrams)
			case <-time.After(testTimeout):
			}
		}
		fmt.Fprintf(w, "direct=%t,%t unwrapped=%t,%t datagrams=%s", streamer, settingser, streamerUnwrapped, unwrapped, datagrams)
	})
	mux.HandleFunc("/takeover", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "frank")
		w.WriteHeader(http.StatusOK) // through the middleware: the cookie goes with it
		streamer, _ := unwrapTo[http3.HTTPStreamer](w)
		str, err := streamer.HTTPStream()
		if err != nil {
			panic(err)
		}
		str.Close()
	})
	return mux
}

func (hs *h3Server) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := hs.client.Get(hs.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, string(body)
}

// TestHTTP3 checks the cookie over HTTP/3: set and read back, sent with
// a stream's headers at its flush, and with a handler's WriteHeader before
// it takes the stream over; a change after the flush is logged. quic-go's
// writer's own interfaces, http3.HTTPStreamer and http3.Settingser, are
// not the middleware's writer's, which cannot name quic-go's types: the
// handler finds them through Unwrap, as README says.
func TestHTTP3(t *testing.T) {
	hs := newH3Server(t)
	resp, body := hs.get(t, "/login")
	if body != "proto=HTTP/3.0" || sessionCookie(t, resp, true) == nil {
		t.Fatalf("login: %q, want proto=HTTP/3.0 and the cookie", body)
	}
	if _, user := hs.get(t, "/whoami"); user != "alice" {
		t.Errorf("whoami %q, want alice", user)
	}

	resp, err := hs.client.Get(hs.url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	sessionCookie(t, resp, true)
	lines := make([]byte, 0, 64)
	buf := make([]byte, 64)
	for !strings.Contains(string(lines), "flush=") || !strings.HasSuffix(string(lines), "\n") {
		n, err := resp.Body.Read(buf)
		lines = append(lines, buf[:n]...)
		if err != nil {
			t.Fatalf("the first lines %q: %v", lines, err)
		}
	}
	close(hs.read) // the flushed lines arrived before the handler went on
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(lines) + string(rest); err != nil || got != "first\nflush=<nil>\nsecond\n" {
		t.Errorf("stream %q, %v", got, err)
	}
	if log := hs.log.reset(); !strings.Contains(log, "session changed after the response was committed") {
		t.Errorf("the change after the flush was not logged:\n%s", log)
	}
	if _, user := hs.get(t, "/whoami"); user != "dave" {
		t.Errorf("whoami %q, want dave: erin came after the headers", user)
	}

	if _, got := hs.get(t, "/reach"); got != "direct=false,false unwrapped=true,true datagrams=false" {
		t.Errorf("reach: %s", got)
	}
	if resp, _ := hs.get(t, "/takeover"); sessionCookie(t, resp, true) == nil {
		t.Error("takeover: no cookie")
	}
	if _, user := hs.get(t, "/whoami"); user != "frank" {
		t.Errorf("whoami %q, want frank", user)
	}
}
