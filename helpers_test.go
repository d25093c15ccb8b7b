package cookiesession_test

// The helpers the package's black-box tests and Examples share: keys,
// rings and ring files, the fake clock, log capture, the cookie clients (a
// hand-driven one for httptest recorders, a TLS server with a net/http
// cookie jar, and a browser that withholds cookies by SameSite across
// sites), and a ResponseWriter that keeps nothing.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// ---- keys and rings ----------------------------------------------------

// keyA and keyB are the ids of the handler tests' keys: keyA seals, keyB
// is the one rotated to.
const (
	keyA = 0x1a2b3c4d
	keyB = 0x2b3c4d5e
)

// keySecret derives a test key's secret from its id, so that every test
// knows every secret that must never show up in an error or in fmt output.
func keySecret(id uint32) []byte {
	sum := sha256.Sum256(binary.BigEndian.AppendUint32([]byte("cookiesession test key "), id))
	return sum[:]
}

// usedSecrets records the secret of every key built by keyForID, for
// assertNoSecret.
var usedSecrets sync.Map // uint32 -> []byte

// keyForID returns the test key with the given id and keySecret(id).
func keyForID(tb testing.TB, id uint32) cookiesession.Key {
	tb.Helper()
	k, err := cookiesession.NewKey(id, keySecret(id))
	if err != nil {
		tb.Fatalf("NewKey(%08x): %v", id, err)
	}
	usedSecrets.Store(id, keySecret(id))
	return k
}

// ringOf returns a ring of test keys whose primary is primary. Rings with
// different ids cannot open each other's tokens.
func ringOf(tb testing.TB, primary uint32, others ...uint32) *cookiesession.KeyRing {
	tb.Helper()
	var keys []cookiesession.Key
	for _, id := range others {
		keys = append(keys, keyForID(tb, id))
	}
	ring, err := cookiesession.NewKeyRing(keyForID(tb, primary), keys...)
	if err != nil {
		tb.Fatalf("NewKeyRing: %v", err)
	}
	return ring
}

// randomRing returns a ring of one key with the given id and a random
// secret, and the secret. Its tokens open in no other process: a fuzz
// oracle that knows what this process sealed stays right when the fuzzer
// runs inputs made by another process, its coordinator.
func randomRing(tb testing.TB, id uint32) (*cookiesession.KeyRing, []byte) {
	tb.Helper()
	secret := make([]byte, cookiesession.KeySize)
	rand.Read(secret) // never fails since Go 1.24
	key, err := cookiesession.NewKey(id, secret)
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		tb.Fatal(err)
	}
	return ring, secret
}

// newRing is the Examples' ring: one fresh random key. Examples have no
// testing.TB; GenerateKey and NewKeyRing of one valid key cannot fail. A
// real service loads its ring with LoadKeyRingEnv or LoadKeyRingFile, so
// that sessions survive a restart.
func newRing() *cookiesession.KeyRing {
	key, err := cookiesession.GenerateKey()
	if err != nil {
		panic(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		panic(err)
	}
	return ring
}

// marshalRing returns the ring's text form.
func marshalRing(tb testing.TB, ring *cookiesession.KeyRing) []byte {
	tb.Helper()
	data, err := ring.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// writeFileAtomic replaces path the way a secret manager does: write a
// temporary file, set its mtime, rename it over path.
func writeFileAtomic(tb testing.TB, path string, data []byte, mtime time.Time) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// secretForms lists the spellings in which a leaked secret would show up.
func secretForms(secret []byte) []string {
	return []string{
		string(secret),
		hex.EncodeToString(secret),
		strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret),
		base64.URLEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
	}
}

// assertNoSecret fails if text contains any test key's secret in any form.
func assertNoSecret(tb testing.TB, what, text string) {
	tb.Helper()
	usedSecrets.Range(func(id, secret any) bool {
		for _, form := range secretForms(secret.([]byte)) {
			if strings.Contains(text, form) {
				tb.Errorf("%s contains the secret of key %08x: %q", what, id, text)
				return false
			}
		}
		return true
	})
}

// checkErrRules asserts the rules every error of the package follows: the
// "cookiesession:" prefix and no key bytes.
func checkErrRules(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if !strings.HasPrefix(err.Error(), "cookiesession: ") {
		tb.Errorf("error %q lacks the cookiesession: prefix", err)
	}
	assertNoSecret(tb, "error", err.Error())
}

// ---- the clock ---------------------------------------------------------

// fixedNow is the tests' "now": codec tests pass it to SealAt and OpenAt,
// and the fake clock starts there. It is a whole second, so that token
// times (kept in whole seconds) compare exactly with offsets from it.
var fixedNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is Options.Now for tests: time moves only when a test
// advances it, so expiry tests never sleep. It is safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(start time.Time) *fakeClock {
	c := new(fakeClock)
	c.ns.Store(start.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// watchFile runs ring.WatchFile on path until the test ends, and then
// checks that it returns once cancelled.
func watchFile(t *testing.T, ring *cookiesession.KeyRing, path string, interval time.Duration, report func(error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = ring.WatchFile(ctx, path, interval, report)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			t.Errorf("WatchFile did not return after cancel")
		}
	})
}

// ---- log capture -------------------------------------------------------

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // if not nil, closed at the next Write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

// await returns the lines that contain substr as soon as there are any,
// written by another goroutine; it fails the test after a minute.
func (b *syncBuffer) await(t testing.TB, substr string) []string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		b.mu.Lock()
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written // taken before the check, so no Write is missed
		b.mu.Unlock()
		if lines := b.lines(substr); len(lines) > 0 {
			return lines
		}
		select {
		case <-written:
		case <-timeout:
			t.Fatalf("no log line %q in a minute; log:\n%s", substr, b)
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the lines that contain substr.
func (b *syncBuffer) lines(substr string) []string {
	var out []string
	for line := range strings.Lines(b.String()) {
		if strings.Contains(line, substr) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// defaultLogs makes slog's default logger write text into the buffer it
// returns, until the test and the cleanups registered after this call (a
// watcher's stop, which logs) have ended, and then restores the log
// package's output and flags as well as slog's default. slog.SetDefault
// sends the log package's output to the new handler, and setting the
// previous default back does not undo that: every later log.Print, and
// every panic net/http logs for a server without an ErrorLog, went on into
// the buffer of the first test that had captured the default, for the rest
// of the run. Among those panics is the one that names a test whose
// handler called t.Errorf after the test had returned, the only trace of
// an otherwise bare FAIL.
func defaultLogs(t *testing.T) *syncBuffer {
	t.Helper()
	return defaultLogsAt(t, slog.LevelInfo)
}

// defaultLogsAt is defaultLogs with a default handler set to level.
func defaultLogsAt(t *testing.T, level slog.Level) *syncBuffer {
	t.Helper()
	logs := new(syncBuffer)
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	})
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})))
	return logs
}

// debugLogger writes every record, debug included, as text to w. With
// io.Discard it still runs the logging path on every refusal.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ---- a Manager on the fake clock ---------------------------------------

// fixture is a Manager over ringOf(keyA) on a fake clock, whose logger
// writes everything, debug included, into log.
type fixture struct {
	t     *testing.T
	clock *fakeClock
	ring  *cookiesession.KeyRing
	log   *syncBuffer
	m     *cookiesession.Manager
}

func newFixture(t *testing.T, opts cookiesession.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newFakeClock(fixedNow), ring: ringOf(t, keyA), log: new(syncBuffer)}
	f.m = f.manager(opts)
	return f
}

// manager builds another Manager on the fixture's ring, clock and log.
func (f *fixture) manager(opts cookiesession.Options) *cookiesession.Manager {
	f.t.Helper()
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = debugLogger(f.log)
	}
	m, err := cookiesession.New(f.ring, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// advanceTo moves the clock to start+offset.
func (f *fixture) advanceTo(start time.Time, offset time.Duration) {
	f.clock.Advance(start.Add(offset).Sub(f.clock.Now()))
}

// open opens a token with the fixture's codec at the current time.
func (f *fixture) open(token string) cookiesession.Record {
	f.t.Helper()
	rec, err := f.m.Codec().OpenAt(token, f.clock.Now())
	if err != nil {
		f.t.Fatalf("open the issued token: %v", err)
	}
	return rec
}

// userIn returns the "user" value sealed in token.
func (f *fixture) userIn(token string) (any, bool) {
	f.t.Helper()
	rec := f.open(token)
	return rec.Values.Get("user")
}

// serve runs h behind f.m for a request carrying b's cookies, then lets b
// take the response's cookies.
func (f *fixture) serve(b *clientCookies, h http.HandlerFunc) *http.Response {
	f.t.Helper()
	return serveWith(f.t, f.m, b, h)
}

func serveWith(t *testing.T, m *cookiesession.Manager, b *clientCookies, h http.HandlerFunc) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, b.request("/"))
	resp := rec.Result()
	b.apply(t, resp.Header)
	return resp
}

// ---- the cookie clients ------------------------------------------------

// clientCookies is a minimal client cookie store for hand-built requests:
// exact control over which cookies are sent, and in which order.
type clientCookies struct {
	vals  map[string]string
	order []string // overrides the sorted order of the Cookie header
}

func newClientCookies() *clientCookies { return &clientCookies{vals: map[string]string{}} }

func (b *clientCookies) clone() *clientCookies {
	c := newClientCookies()
	maps.Copy(c.vals, b.vals)
	return c
}

func (b *clientCookies) names() []string {
	if b.order != nil {
		return b.order
	}
	names := make([]string, 0, len(b.vals))
	for name := range b.vals {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// request returns a GET request for target carrying the cookies, all in
// one Cookie header.
func (b *clientCookies) request(target string) *http.Request {
	return b.requestMethod(http.MethodGet, target)
}

func (b *clientCookies) requestMethod(method, target string) *http.Request {
	r := httptest.NewRequest(method, "https://example.com"+target, nil)
	var pairs []string
	for _, name := range b.names() {
		pairs = append(pairs, name+"="+b.vals[name])
	}
	if len(pairs) > 0 {
		r.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	return r
}

// apply stores or deletes cookies as a browser would on Set-Cookie,
// failing on a line that does not parse.
func (b *clientCookies) apply(t testing.TB, h http.Header) {
	t.Helper()
	b.take(parseSetCookies(t, h))
}

func (b *clientCookies) take(set []*http.Cookie) {
	for _, c := range set {
		if c.MaxAge < 0 {
			delete(b.vals, c.Name)
		} else {
			b.vals[c.Name] = c.Value
		}
	}
	b.order = nil
}

// do is a browser's round trip for the Examples, which have no testing.TB:
// h serves method and target with the cookies, which then take the
// response's Set-Cookie lines.
func (b *clientCookies) do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, b.requestMethod(method, target))
	b.take(w.Result().Cookies())
	return w
}

func parseSetCookies(t testing.TB, h http.Header) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		out = append(out, c)
	}
	return out
}

// ourCookies returns the Set-Cookie lines for name and its chunk names
// (name.1, name.2, ...) by name, failing on a duplicate.
func ourCookies(t testing.TB, h http.Header, name string) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, c := range parseSetCookies(t, h) {
		if !isChunkOf(c.Name, name) {
			continue
		}
		if _, dup := out[c.Name]; dup {
			t.Errorf("duplicate Set-Cookie for %s: %q", c.Name, h.Values("Set-Cookie"))
		}
		out[c.Name] = c
	}
	return out
}

func isChunkOf(cookie, name string) bool {
	if cookie == name {
		return true
	}
	n, ok := strings.CutPrefix(cookie, name+".")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// requireCleared checks that the response expires exactly the cookies in
// names.
func requireCleared(t testing.TB, h http.Header, names ...string) {
	t.Helper()
	got := ourCookies(t, h, "session")
	var cleared []string
	for name, c := range got {
		if c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("%s not cleared: %s", name, c)
		}
		cleared = append(cleared, name)
	}
	slices.Sort(cleared)
	if diff := cmp.Diff(names, cleared); diff != "" {
		t.Errorf("cleared cookies (-want +got):\n%s", diff)
	}
}

// tlsServer is an httptest TLS server whose http.Server error log is kept,
// so that tests can check it never saw a superfluous WriteHeader. Its
// clients keep cookies in a net/http cookie jar, as a browser does.
type tlsServer struct {
	*httptest.Server
	errLog *syncBuffer
}

func newTLSServer(t *testing.T, h http.Handler) *tlsServer {
	t.Helper()
	return startTLS(t, h, false)
}

// newH2Server is newTLSServer over HTTP/2, which its clients speak too.
func newH2Server(t *testing.T, h http.Handler) *tlsServer {
	t.Helper()
	return startTLS(t, h, true)
}

func startTLS(t *testing.T, h http.Handler, h2 bool) *tlsServer {
	t.Helper()
	errLog := new(syncBuffer)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.MultiWriter(errLog, lateTestCalls{}), "", 0)
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &tlsServer{Server: srv, errLog: errLog}
}

// lateTestCalls passes on to stderr a server's log line of a handler's
// panic in a t method called after its test had returned ("Fail in
// goroutine after TestX has completed"). The testing package has then
// failed the package's root test, which go test shows as a bare FAIL that
// names no test; net/http recovers the panic and logs it, with the test's
// name and the handler's stack, to the server's ErrorLog, which startTLS
// keeps in a buffer that no one reads once the test is over.
type lateTestCalls struct{}

func (lateTestCalls) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(" has completed")) {
		_, _ = os.Stderr.Write(p)
	}
	return len(p), nil
}

// client returns a client with its own cookie jar.
func (s *tlsServer) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *s.Client()
	c.Jar = jar
	return &c
}

// checkNoSuperfluous closes the server, which waits for every handler, and
// checks its error log.
func (s *tlsServer) checkNoSuperfluous(t *testing.T) {
	t.Helper()
	s.Close()
	if log := s.errLog.String(); strings.Contains(log, "superfluous") {
		t.Errorf("http.Server logged a superfluous WriteHeader:\n%s", log)
	}
}

// jarValue returns the value c's jar holds for the cookie name.
func (s *tlsServer) jarValue(t *testing.T, c *http.Client, name string) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// newH2CServer serves h over HTTP/2 without TLS (h2c, prior knowledge) on
// 127.0.0.1, and returns a client that speaks only that, with a cookie jar.
func newH2CServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, &http.Client{Transport: tr, Jar: jar}
}

// rawHTTP writes request on a new TCP connection to addr and returns all
// the server sends until it closes the connection, as a client library
// would not show it: every interim response, the header as sent.
func rawHTTP(t *testing.T, addr, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("%q: %v after %q", request, err, got)
	}
	return string(got)
}

// fetch GETs target and returns the response with its whole body.
func fetch(t *testing.T, c *http.Client, target string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// fetch1xx GETs target with c and returns the headers of the 1xx
// responses that came before the final one, with that one (its body read
// and closed).
func fetch1xx(t *testing.T, c *http.Client, target string) ([]textproto.MIMEHeader, *http.Response) {
	t.Helper()
	var mu sync.Mutex
	var hints []textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		hints = append(hints, h)
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	return hints, resp
}

// ---- a ResponseWriter that keeps nothing -------------------------------

// discardWriter keeps nothing but its header map, so that benchmarks and
// allocation counts measure the handler, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// serve handles req with h as a server would: one fresh header map per
// response (cleared, not reallocated).
func (w *discardWriter) serve(h http.Handler, req *http.Request) {
	clear(w.h)
	h.ServeHTTP(w, req)
}

// hijackWrapper wraps a ResponseWriter as an access log's wrapper does
// (chi's middleware.WrapResponseWriter): its Hijack passes the call on.
type hijackWrapper struct{ http.ResponseWriter }

func (w hijackWrapper) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// statusWriter records every status written to it, 1xx ones included,
// as a serverless adapter's writer may take them.
type statusWriter struct {
	discardWriter
	codes []int
}

func (w *statusWriter) WriteHeader(code int) { w.codes = append(w.codes, code) }

// sessionLogHandler adds the id of the request's session to every record,
// as a handler that tags log lines with the user's session does: it calls
// into the session from inside the Manager's own logging.
type sessionLogHandler struct{ slog.Handler }

func (h sessionLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if s := cookiesession.FromContext(ctx); s != nil {
		r.AddAttrs(slog.String("session", s.ID()))
	}
	return h.Handler.Handle(ctx, r)
}

// finishes runs f and fails the test if it has not returned within a
// few seconds: a deadlock fails instead of hanging the run.
func finishes(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // as the other guards: a loaded machine under -race is slow
		t.Fatalf("%s: deadlock: not done after 30s", what)
	}
}

// checkMetrics checks that a snapshot shows one ring.
func checkMetrics(t *testing.T, got cookiesession.Metrics) {
	t.Helper()
	primaries := 0
	for _, k := range got.Keys {
		if k.Primary {
			primaries++
			if cookiesession.FormatKeyID(k.ID) != got.Primary {
				t.Errorf("Metrics: Primary %s, but Keys mark %s primary: %+v", got.Primary, cookiesession.FormatKeyID(k.ID), got.Keys)
			}
		}
	}
	if primaries != 1 {
		t.Errorf("Metrics: Keys %+v mark %d keys primary, want 1", got.Keys, primaries)
	}
}

// tossedRequest returns a request whose Cookie header holds header, as a
// browser that holds a tossed cookie sends it.
func tossedRequest(header string) *http.Request {
	r := httptest.NewRequest("GET", "https://www.example.com/account", nil)
	r.Header.Set("Cookie", header)
	return r
}

// loginToken returns the token of a signed-in session for user.
func loginToken(t *testing.T, f *fixture, user string) string {
	t.Helper()
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("user", user); err != nil {
			t.Fatal(err)
		}
	})
	if b.vals["session"] == "" {
		t.Fatal("no session cookie issued")
	}
	return b.vals["session"]
}

// ---- a browser across sites --------------------------------------------

// browser is a client that sends cookies as browsers do across sites,
// which a cookie jar alone does not: net/http/cookiejar ignores SameSite.
// It reaches httptest TLS servers under host names of different sites
// (two ports of 127.0.0.1 are one site), sends Sec-Fetch-Site, -Mode and
// -Dest and a POST's Origin, and leaves out of a cross-site request every
// cookie its SameSite withholds: Strict ones always, Lax and unset ones
// (Chrome's default) unless the request is a top-level GET. Every request
// is a top-level navigation, the way a user or a redirect moves a tab.
type browser struct {
	t       *testing.T
	client  *http.Client
	servers map[string]*httptest.Server
	addrs   map[string]string // host name → the server's 127.0.0.1 address
	ports   map[string]string // host name → the server's port

	mu       sync.Mutex
	sameSite map[string]http.SameSite // host + " " + cookie name → its attribute
}

// newBrowser returns a browser that reaches each server under its host
// name, such as "app.example.com". The servers share httptest's
// certificate, which names example.com.
func newBrowser(t *testing.T, servers map[string]*httptest.Server) *browser {
	t.Helper()
	b := &browser{t: t, servers: servers, addrs: map[string]string{}, ports: map[string]string{}, sameSite: map[string]http.SameSite{}}
	var base *http.Transport
	for host, srv := range servers {
		u, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b.addrs[host], b.ports[host] = u.Host, u.Port()
		base = srv.Client().Transport.(*http.Transport).Clone()
	}
	base.TLSClientConfig.ServerName = "example.com"
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return new(net.Dialer).DialContext(ctx, network, b.addrs[host])
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.client = &http.Client{Transport: browserTransport{b, base}, Jar: jar}
	t.Cleanup(base.CloseIdleConnections)
	return b
}

// another returns a second browser, another device, on the same servers.
func (b *browser) another() *browser { return newBrowser(b.t, b.servers) }

// url returns the address of path on host.
func (b *browser) url(host, path string) string {
	return "https://" + net.JoinHostPort(host, b.ports[host]) + path
}

// navigate sends a top-level request for target from the page at from
// ("" for an address the user types), with form as a POST's body, follows
// redirects, and returns the last response with its body.
func (b *browser) navigate(from, method, target string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.WithValue(context.Background(), initiatorKey{}, from), method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(text)
}

// cookie returns the value the browser holds for the cookie name of host.
func (b *browser) cookie(host, name string) string {
	u, err := url.Parse(b.url(host, "/"))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

type initiatorKey struct{}

type browserTransport struct {
	b    *browser
	base http.RoundTripper
}

// site is the part of a host name that SameSite compares: its last two
// labels, which is right for the names tests use.
func site(host string) string {
	labels := strings.Split(host, ".")
	return strings.Join(labels[max(len(labels)-2, 0):], ".")
}

func (bt browserTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The chain: the page that started the navigation, then each URL that
	// redirected. One of another site makes the request cross-site.
	chain := []string{}
	if from, _ := req.Context().Value(initiatorKey{}).(string); from != "" {
		chain = append(chain, from)
	}
	for prev := req.Response; prev != nil; prev = prev.Request.Response {
		chain = append(chain, prev.Request.URL.String())
	}
	fetchSite := "none"
	if len(chain) > 0 {
		fetchSite = "same-origin"
	}
	for _, link := range chain {
		u, err := url.Parse(link)
		if err != nil {
			return nil, err
		}
		switch {
		case site(u.Hostname()) != site(req.URL.Hostname()):
			fetchSite = "cross-site"
		case u.Host != req.URL.Host && fetchSite == "same-origin":
			fetchSite = "same-site"
		}
	}
	out := req.Clone(req.Context())
	out.Header.Set("Sec-Fetch-Site", fetchSite)
	out.Header.Set("Sec-Fetch-Mode", "navigate")
	out.Header.Set("Sec-Fetch-Dest", "document")
	if req.Method == http.MethodPost && len(chain) > 0 {
		if u, err := url.Parse(chain[len(chain)-1]); err == nil {
			out.Header.Set("Origin", u.Scheme+"://"+u.Host)
		}
	}
	if fetchSite == "cross-site" {
		out.Header.Del("Cookie")
		for _, c := range req.Cookies() {
			if bt.b.sends(req.URL.Hostname(), c.Name, req.Method) {
				out.AddCookie(c)
			}
		}
	}
	resp, err := bt.base.RoundTrip(out)
	if err == nil {
		bt.b.mu.Lock()
		for _, c := range resp.Cookies() {
			bt.b.sameSite[req.URL.Hostname()+" "+c.Name] = c.SameSite
		}
		bt.b.mu.Unlock()
	}
	return resp, err
}

// sends reports whether a browser sends host's cookie name with a
// cross-site top-level request of method.
func (b *browser) sends(host, name, method string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.sameSite[host+" "+name] {
	case http.SameSiteNoneMode:
		return true
	case http.SameSiteStrictMode:
		return false
	}
	return method == http.MethodGet || method == http.MethodHead
}

// askedContext counts the look-ups that reach it.
type askedContext struct {
	context.Context
	asked int
}

func (c *askedContext) Value(key any) any {
	c.asked++
	return c.Context.Value(key)
}

// callerLine returns the line it is called from: a test puts it on the
// line of the call a log line should name.
func callerLine() int {
	_, _, line, _ := runtime.Caller(1)
	return line
}

// checkCallSites checks that log holds one Warn for each line of
// callsite_test.go in want, in order, naming it as the caller.
func checkCallSites(t *testing.T, log []string, want ...int) {
	t.Helper()
	if len(log) != len(want) {
		t.Fatalf("%d lines, want one for each of the call sites at lines %v:\n%s", len(log), want, strings.Join(log, "\n"))
	}
	for i, line := range want {
		if at := fmt.Sprintf("callsite_test.go:%d)", line); !strings.Contains(log[i], "level=WARN") || !strings.Contains(log[i], at) {
			t.Errorf("line %d: %s\nwant a Warn naming the call at %s", i, log[i], at)
		}
	}
}

// sealAtWant seals rec with c at fixedNow and checks the outcome against
// want, a substring of the error, or "" for a record that must seal and
// then open. It returns the record as SealAt left it, and the error.
func sealAtWant(t *testing.T, c *cookiesession.Codec, name string, rec cookiesession.Record, want string) (cookiesession.Record, error) {
	t.Helper()
	token, err := c.SealAt(&rec, fixedNow)
	checkErrRules(t, err)
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: SealAt: %v", name, err)
	case want == "":
		if _, err := c.OpenAt(token, fixedNow); err != nil {
			t.Errorf("%s: the sealed token does not open: %v", name, err)
		}
	case err == nil || !strings.Contains(err.Error(), want):
		t.Errorf("%s: SealAt = %q, %v; want an error with %q", name, token, err, want)
	}
	return rec, err
}
