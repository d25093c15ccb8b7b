package cookiesession_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Identifiers in this file carry a fleet or a reload prefix, which sets
// them apart from the shared helpers (helpers_test.go).

const (
	fleetInstances = 3
	fleetClients   = 500
	fleetMaxAge    = 4 * time.Hour
	fleetStep      = 15 * time.Minute // fake time between two rounds of requests
)

// fleetApp is the application every instance runs. /login?uid=N starts a
// session for user N, /logout destroys it, / answers the user id (401 when
// there is none) and with ?write=1 also changes the session.
func fleetApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		switch r.URL.Path {
		case "/login":
			uid, _ := strconv.Atoi(r.URL.Query().Get("uid"))
			s.Renew()
			_ = s.Set("uid", uid)
		case "/logout":
			s.Destroy()
			return
		}
		uid, ok := cookiesession.GetAs[int](s, "uid")
		if !ok {
			http.Error(w, "log in", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("write") != "" {
			_ = s.Set("hits", s.GetInt("hits")+1)
		}
		_, _ = io.WriteString(w, strconv.Itoa(uid))
	})
}

type fleetInstance struct {
	ring *cookiesession.KeyRing
	log  syncBuffer
	h    http.Handler
}

// fleetClient is one browser: its own cookies and the start of the session
// it believes it holds (zero when logged out).
type fleetClient struct {
	uid     int
	cookies *clientCookies
	created time.Time
	rng     *rand.Rand
	idle    bool
}

// fleetStats are the figures a scenario reports.
type fleetStats struct {
	requests, logins, lost, expired, zombies, mixups, fiveXX, reseals int
}

func (s fleetStats) String() string {
	return fmt.Sprintf("requests=%d logins=%d lost=%d expired-by-design=%d accepted-after-MaxAge=%d mixups=%d 5xx=%d key-reseals=%d",
		s.requests, s.logins, s.lost, s.expired, s.zombies, s.mixups, s.fiveXX, s.reseals)
}

// fleet is three instances behind a round-robin balancer and the clients
// that use them, all on one fake clock, which the Managers and the rings
// (for their scheduled promotions) read. Requests run one at a time in a
// seeded order, so a scenario's figures are reproducible.
type fleet struct {
	t       *testing.T
	clock   *fakeClock
	inst    []*fleetInstance
	next    int
	clients []*fleetClient
	rng     *rand.Rand
	stats   fleetStats
}

// newFleet parses the same ring JSON once per instance, so that every
// instance holds its own copy, as separate processes would.
func newFleet(t *testing.T, ringJSON []byte) *fleet {
	t.Helper()
	fl := &fleet{t: t, clock: newFakeClock(fixedNow), rng: rand.New(rand.NewPCG(6, 1))}
	for range fleetInstances {
		ring, err := cookiesession.ParseKeyRing(ringJSON)
		if err != nil {
			t.Fatal(err)
		}
		ring.SetClock(fl.clock.Now)
		in := &fleetInstance{ring: ring}
		m, err := cookiesession.New(ring, cookiesession.Options{MaxAge: fleetMaxAge, Now: fl.clock.Now, Logger: debugLogger(&in.log)})
		if err != nil {
			t.Fatal(err)
		}
		in.h = m.Handler(fleetApp())
		fl.inst = append(fl.inst, in)
	}
	for i := range fleetClients {
		fl.clients = append(fl.clients, &fleetClient{uid: i + 1, cookies: newClientCookies(), rng: rand.New(rand.NewPCG(uint64(i), 6))})
	}
	return fl
}

// ServeHTTP is the round-robin balancer.
func (fl *fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := fl.inst[fl.next%len(fl.inst)]
	fl.next++
	in.h.ServeHTTP(w, r)
}

// send makes one request with the client's cookies and applies the
// response's Set-Cookie lines to them.
func (fl *fleet) send(c *fleetClient, target string) (int, string, bool) {
	rec := httptest.NewRecorder()
	fl.ServeHTTP(rec, c.cookies.request(target))
	fl.stats.requests++
	if rec.Code >= 500 {
		fl.stats.fiveXX++
	}
	c.cookies.apply(fl.t, rec.Header())
	return rec.Code, rec.Body.String(), len(rec.Header().Values("Set-Cookie")) > 0
}

func (fl *fleet) login(c *fleetClient) {
	fl.stats.logins++
	c.created = time.Time{}
	if code, body, _ := fl.send(c, "/login?uid="+strconv.Itoa(c.uid)); code == http.StatusOK && body == strconv.Itoa(c.uid) {
		c.created = fl.clock.Now()
	}
}

// visit is one request by a client. A refusal counts as lost only while
// the session is within MaxAge; after that it expired by design.
func (fl *fleet) visit(c *fleetClient) {
	switch {
	case c.created.IsZero():
		fl.login(c)
		return
	case c.rng.IntN(40) == 0:
		fl.send(c, "/logout")
		c.created = time.Time{}
		return
	}
	valid := fl.clock.Now().Before(c.created.Add(fleetMaxAge))
	target := "/"
	if c.rng.IntN(10) == 0 {
		target = "/?write=1"
	}
	code, body, setCookie := fl.send(c, target)
	fl.account(c, valid, code, body)
	if code == http.StatusOK && target == "/" && setCookie {
		fl.stats.reseals++
	}
	if code != http.StatusOK {
		fl.login(c)
	}
}

func (fl *fleet) account(c *fleetClient, valid bool, code int, body string) {
	switch {
	case code == http.StatusOK && body != strconv.Itoa(c.uid):
		fl.stats.mixups++
	case code == http.StatusOK && !valid:
		fl.stats.zombies++
	case code == http.StatusUnauthorized && valid:
		fl.stats.lost++
	case code == http.StatusUnauthorized:
		fl.stats.expired++
	}
}

// rounds runs n rounds: every active client makes one request, in a
// shuffled order so that which instance a client reaches varies as it
// would behind a real balancer; then the clock moves on by fleetStep.
func (fl *fleet) rounds(n int) {
	for range n {
		fl.rng.Shuffle(len(fl.clients), func(i, j int) { fl.clients[i], fl.clients[j] = fl.clients[j], fl.clients[i] })
		for _, c := range fl.clients {
			if !c.idle {
				fl.visit(c)
			}
		}
		fl.clock.Advance(fleetStep)
	}
}

// roundsUntil runs rounds until the clock has reached t.
func (fl *fleet) roundsUntil(t time.Time) {
	for fl.clock.Now().Before(t) {
		fl.rounds(1)
	}
}

// setIdle makes every tenth client stop (or resume) making requests, so
// that some sessions are still under the old key when it is removed.
func (fl *fleet) setIdle(idle bool) {
	for _, c := range fl.clients {
		if c.uid%10 == 0 {
			c.idle = idle
		}
	}
}

// each applies op to every instance's ring, with a round of requests after
// each instance, as a rolling deploy does.
func (fl *fleet) each(t *testing.T, what string, op func(*cookiesession.KeyRing) error) {
	t.Helper()
	for i, in := range fl.inst {
		if err := op(in.ring); err != nil {
			t.Fatalf("%s on instance %d: %v", what, i, err)
		}
		fl.rounds(1)
	}
}

// fleetTokenKeyID reads the key id from a token's header (bytes 1 to 4).
func fleetTokenKeyID(t *testing.T, token string) uint32 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 5 {
		t.Fatalf("undecodable token %q: %v", token, err)
	}
	return binary.BigEndian.Uint32(raw[1:5])
}

// checkAllUnder asserts every logged-in client's cookie is sealed under id.
func (fl *fleet) checkAllUnder(t *testing.T, id uint32) {
	t.Helper()
	for _, c := range fl.clients {
		if token, ok := c.cookies.vals["session"]; ok {
			if got := fleetTokenKeyID(t, token); got != id {
				t.Errorf("client %d holds a token under key %08x, want %08x", c.uid, got, id)
			}
		}
	}
}

// fleetKeys returns the keys a rotation goes from and to, and the text of
// the ring every instance starts with: the first key alone.
func fleetKeys(t *testing.T) (k1, k2 cookiesession.Key, ringJSON []byte) {
	t.Helper()
	return keyForID(t, keyA), keyForID(t, keyB), marshalRing(t, ringOf(t, keyA))
}

// checkClean asserts what every correct rotation must give: nothing lost,
// and no instance ever refused a token under the new key.
func (fl *fleet) checkClean(t *testing.T, k1, k2 cookiesession.Key) {
	t.Helper()
	old := 0
	for i, in := range fl.inst {
		if lines := in.log.lines(fmt.Sprintf("unknown key id %08x", k2.ID())); len(lines) != 0 {
			t.Errorf("instance %d refused tokens under the new key: %s", i, lines[0])
		}
		old += len(in.log.lines(fmt.Sprintf("unknown key id %08x", k1.ID())))
	}
	t.Logf("tokens under the removed key refused (all past MaxAge): %d", old)
	s := fl.stats
	if s.lost != 0 || s.zombies != 0 || s.mixups != 0 || s.fiveXX != 0 {
		t.Errorf("want lost=0 accepted-after-MaxAge=0 mixups=0 5xx=0; got %v", s)
	}
	if s.expired == 0 {
		t.Errorf("no session reached MaxAge: the scenario did not test removal after MaxAge")
	}
}

// TestFleetRotationStaged: add k2 everywhere, promote it one instance at a
// time, wait MaxAge, remove k1 one instance at a time. No session is lost.
func TestFleetRotationStaged(t *testing.T) {
	k1, k2, ringJSON := fleetKeys(t)
	fl := newFleet(t, ringJSON)
	fl.rounds(2)
	fl.each(t, "add k2", func(r *cookiesession.KeyRing) error { return r.Add(k2) })
	fl.setIdle(true)
	fl.each(t, "promote k2", func(r *cookiesession.KeyRing) error { return r.Promote(k2.ID()) })
	fl.roundsUntil(fl.clock.Now().Add(fleetMaxAge))
	fl.setIdle(false)
	fl.each(t, "remove k1", func(r *cookiesession.KeyRing) error { return r.Remove(k1.ID()) })
	fl.rounds(2)
	t.Logf("staged rotation: %v", fl.stats)
	fl.checkClean(t, k1, k2)
	fl.checkAllUnder(t, k2.ID())
}

// TestFleetRotationScheduled: k2 is added everywhere with a promote_at
// time; every instance switches when the shared clock reaches it.
func TestFleetRotationScheduled(t *testing.T) {
	k1, k2, ringJSON := fleetKeys(t)
	fl := newFleet(t, ringJSON)
	fl.rounds(2)
	promoteAt := fl.clock.Now().Add(6 * fleetStep)
	fl.each(t, "add k2 scheduled", func(r *cookiesession.KeyRing) error { return r.AddScheduled(k2, promoteAt) })
	fl.setIdle(true)
	fl.roundsUntil(promoteAt)
	for i, in := range fl.inst {
		if got := in.ring.PrimaryAt(fl.clock.Now()); got != k2.ID() {
			t.Fatalf("instance %d: primary at promote_at is %08x, want k2 %08x", i, got, k2.ID())
		}
	}
	fl.roundsUntil(promoteAt.Add(fleetMaxAge))
	fl.setIdle(false)
	fl.each(t, "remove k1", func(r *cookiesession.KeyRing) error { return r.Remove(k1.ID()) })
	fl.rounds(2)
	t.Logf("scheduled rotation: %v", fl.stats)
	fl.checkClean(t, k1, k2)
	fl.checkAllUnder(t, k2.ID())
}

// TestFleetRotationWrongOrder promotes k2 on instance 0 before instances 1
// and 2 hold it. Sessions re-sealed under k2 are refused by the others:
// the test counts them, shows the log line that tells an operator why,
// then adds k2 to the others and checks the losses stop.
func TestFleetRotationWrongOrder(t *testing.T) {
	_, k2, ringJSON := fleetKeys(t)
	fl := newFleet(t, ringJSON)
	fl.rounds(2)
	if err := fl.inst[0].ring.Add(k2); err != nil {
		t.Fatal(err)
	}
	if err := fl.inst[0].ring.Promote(k2.ID()); err != nil {
		t.Fatal(err)
	}
	fl.rounds(4)
	wrong := fl.stats
	t.Logf("wrong order, 4 rounds with k2 primary on 1 of 3 instances: %v", wrong)
	if wrong.lost == 0 {
		t.Errorf("promoting before every instance holds the key lost no session; the scenario is not testing what it claims")
	}
	want := "unknown key id " + fmt.Sprintf("%08x", k2.ID())
	for i, in := range fl.inst[1:] {
		lines := in.log.lines(want)
		if len(lines) == 0 {
			t.Fatalf("instance %d logged no %q line", i+1, want)
		}
		if !strings.Contains(lines[0], "level=WARN") {
			t.Errorf("instance %d logged the refusal below WARN: %s", i+1, lines[0])
		}
		t.Logf("instance %d logged %d refusals naming k2, e.g.: %s", i+1, len(lines), lines[0])
	}
	fl.stats = fleetStats{}
	fl.each(t, "repair: add k2", func(r *cookiesession.KeyRing) error {
		if r.Has(k2.ID()) {
			return nil
		}
		return r.Add(k2)
	})
	t.Logf("during the repair (k2 added to instances 1 and 2, a round after each): %v", fl.stats)
	fl.stats = fleetStats{}
	fl.rounds(4)
	t.Logf("after k2 reached every instance: %v", fl.stats)
	if fl.stats.lost != 0 || fl.stats.fiveXX != 0 || fl.stats.mixups != 0 {
		t.Errorf("sessions still lost after the repair: %v", fl.stats)
	}
}

// reloadWorkers are the concurrent clients of the reload test.
type reloadWorkers struct {
	client   *http.Client
	url      string
	done     atomic.Int64  // requests completed
	progress chan struct{} // a token after each completed request, for waitMore
	failures atomic.Int64
	fiveXX   atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	firstErr string
}

func (w *reloadWorkers) fail(format string, args ...any) {
	w.failures.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.firstErr == "" {
		w.firstErr = fmt.Sprintf(format, args...)
	}
}

// run is one client: log in, then read (and one time in ten write) its
// session until told to stop. Every answer must name the client's user.
func (w *reloadWorkers) run(uid int) {
	defer w.wg.Done()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: w.client.Transport, Jar: jar}
	w.get(client, uid, "/login?uid="+strconv.Itoa(uid))
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		target := "/"
		if i%10 == 9 {
			target = "/?write=1"
		}
		w.get(client, uid, target)
	}
}

func (w *reloadWorkers) get(client *http.Client, uid int, target string) {
	defer func() {
		w.done.Add(1)
		select {
		case w.progress <- struct{}{}:
		default: // waitMore has a token to take already
		}
	}()
	resp, err := client.Get(w.url + target)
	if err != nil {
		w.fail("uid %d %s: %v", uid, target, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		w.fiveXX.Add(1)
	}
	if resp.StatusCode != http.StatusOK || string(body) != strconv.Itoa(uid) {
		w.fail("uid %d %s: status %d, body %q", uid, target, resp.StatusCode, body)
	}
}

// waitMore blocks until n more requests have completed, so that every ring
// change happens with traffic before and after it. It wakes on the
// workers' progress tokens, not on a timer.
func (w *reloadWorkers) waitMore(t *testing.T, n int64) {
	t.Helper()
	target := w.done.Load() + n
	stalled := time.After(time.Minute)
	for w.done.Load() < target {
		select {
		case <-w.progress:
		case <-stalled:
			t.Fatalf("requests stalled at %d of %d", w.done.Load(), target)
		}
	}
}

// reloadReport waits for WatchFile's next report.
func reloadReport(t *testing.T, reports <-chan error) error {
	t.Helper()
	select {
	case err := <-reports:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("WatchFile reported nothing within 30s")
		return nil
	}
}

// reloadEnv is the server under test and the ring file it watches.
type reloadEnv struct {
	clock   *fakeClock
	ring    *cookiesession.KeyRing
	path    string     // the ring file
	writes  int        // atomic rewrites of the file so far
	log     syncBuffer // the Manager's log and the reload reports
	logger  *slog.Logger
	reports chan error
}

func newReloadEnv(t *testing.T, primary uint32) *reloadEnv {
	t.Helper()
	e := &reloadEnv{clock: newFakeClock(fixedNow), path: filepath.Join(t.TempDir(), "keys.json"), reports: make(chan error, 16)}
	e.logger = debugLogger(&e.log)
	e.write(t, marshalRing(t, ringOf(t, primary)))
	ring, err := cookiesession.LoadKeyRingFile(e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.ring = ring
	return e
}

// write replaces the ring file atomically. Each write gets a later mtime,
// as a real rewrite would.
func (e *reloadEnv) write(t *testing.T, data []byte) {
	t.Helper()
	e.writes++
	writeFileAtomic(t, e.path, data, fixedNow.Add(time.Duration(e.writes)*time.Second))
}

// logResult logs a reload's outcome, as a service's WatchFile report
// function would.
func (e *reloadEnv) logResult(err error) {
	if err != nil {
		e.logger.Error("key ring reload failed; keeping the current keys", "error", err)
	} else {
		e.logger.Info("key ring reloaded", "keys", e.ring.String())
	}
}

// report is the function given to WatchFile.
func (e *reloadEnv) report(err error) {
	e.logResult(err)
	e.reports <- err
}

func (e *reloadEnv) startServer(t *testing.T) *reloadWorkers {
	t.Helper()
	m, err := cookiesession.New(e.ring, cookiesession.Options{DisableSecure: true, Now: e.clock.Now, Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(fleetApp()))
	t.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(transport.CloseIdleConnections)
	return &reloadWorkers{client: &http.Client{Transport: transport}, url: srv.URL, stop: make(chan struct{}), progress: make(chan struct{}, 1)}
}

// The keys of the reload test: the ring starts with reloadK1, gains
// reloadK2 and promotes it, then gains reloadK3.
const (
	reloadK1 = keyA
	reloadK2 = keyB
	reloadK3 = 0x5e6f7a8b
)

// TestReloadUnderLoad rewrites the key-ring file while eight clients make
// requests: an added key, a corrupt (truncated) file, a promotion, all
// written atomically and picked up by WatchFile; then a non-atomic rewrite
// read half-written. No request may fail; the bad files must be refused,
// reported and logged, and the ring must keep its keys. Each of the six
// steps waits for 200 more requests, so every ring change has traffic
// before and after it: at least 1,200 requests in all.
func TestReloadUnderLoad(t *testing.T) {
	e := newReloadEnv(t, reloadK1)
	w := e.startServer(t)
	for uid := 1; uid <= 8; uid++ {
		w.wg.Add(1)
		go w.run(uid)
	}
	// Stopped however the test ends: after a t.Fatal in a phase, the
	// clients would otherwise request on against the closed server for
	// the rest of the run.
	stopWorkers := sync.OnceFunc(func() {
		close(w.stop)
		w.wg.Wait()
	})
	defer stopWorkers()
	e.watchPhase(t, w)
	e.tornPhase(t, w)
	stopWorkers()
	refused := e.log.lines("session cookie refused")
	t.Logf("reload under load: %d requests, %d failed, %d 5xx, %d cookies refused; reload log:\n%s",
		w.done.Load(), w.failures.Load(), w.fiveXX.Load(), len(refused), strings.Join(e.log.lines("key ring"), "\n"))
	if got := len(e.log.lines("key ring reload failed")); got != 2 {
		t.Errorf("%d reload failures logged, want 2 (the truncated file and the torn read)", got)
	}
	if w.failures.Load() != 0 || w.fiveXX.Load() != 0 || len(refused) != 0 {
		t.Errorf("failed requests: %d (first: %s), 5xx: %d, refused cookies: %v", w.failures.Load(), w.firstErr, w.fiveXX.Load(), refused)
	}
}

// watchPhase: add reloadK2, write a truncated file, promote reloadK2;
// WatchFile reloads.
func (e *reloadEnv) watchPhase(t *testing.T, w *reloadWorkers) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.ring.WatchFile(ctx, e.path, 2*time.Millisecond, e.report)
	}()
	defer func() { cancel(); <-stopped }()
	w.waitMore(t, 200)

	e.write(t, marshalRing(t, ringOf(t, reloadK1, reloadK2)))
	if err := reloadReport(t, e.reports); err != nil || !e.ring.Has(reloadK2) {
		t.Fatalf("adding reloadK2: report %v, ring %v", err, e.ring)
	}
	w.waitMore(t, 200)

	promoted := marshalRing(t, ringOf(t, reloadK2, reloadK1))
	e.write(t, promoted[:len(promoted)/2])
	if err := reloadReport(t, e.reports); err == nil {
		t.Fatalf("a truncated key-ring file was accepted")
	}
	e.checkRing(t, reloadK1, reloadK1, reloadK2)
	w.waitMore(t, 200)

	e.write(t, promoted)
	if err := reloadReport(t, e.reports); err != nil {
		t.Fatalf("promoting reloadK2: %v", err)
	}
	e.checkRing(t, reloadK2, reloadK1, reloadK2)
	w.waitMore(t, 200)
}

// tornPhase rewrites the file in place (truncate, then write in two parts)
// and reloads between the parts: the torn file is refused, not half used.
func (e *reloadEnv) tornPhase(t *testing.T, w *reloadWorkers) {
	next := marshalRing(t, ringOf(t, reloadK2, reloadK1, reloadK3))
	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(next[:len(next)*2/3]); err != nil {
		t.Fatal(err)
	}
	torn := e.ring.ReloadFile(e.path)
	e.logResult(torn)
	if torn == nil {
		t.Fatalf("a half-written key-ring file was accepted")
	}
	e.checkRing(t, reloadK2, reloadK1, reloadK2)
	w.waitMore(t, 200)

	if _, err := f.Write(next[len(next)*2/3:]); err != nil {
		t.Fatal(err)
	}
	err = e.ring.ReloadFile(e.path)
	e.logResult(err)
	if err != nil {
		t.Fatalf("the completed file was refused: %v", err)
	}
	e.checkRing(t, reloadK2, reloadK1, reloadK2, reloadK3)
	w.waitMore(t, 200)
}

// checkRing asserts the ring's primary and that it holds exactly the keys
// with these ids.
func (e *reloadEnv) checkRing(t *testing.T, primary uint32, keys ...uint32) {
	t.Helper()
	if got := e.ring.PrimaryAt(e.clock.Now()); got != primary {
		t.Errorf("primary %08x, want %08x (ring %v)", got, primary, e.ring)
	}
	if got := len(e.ring.Keys()); got != len(keys) {
		t.Errorf("ring holds %d keys, want %d (ring %v)", got, len(keys), e.ring)
	}
	for _, id := range keys {
		if !e.ring.Has(id) {
			t.Errorf("ring lost key %08x (ring %v)", id, e.ring)
		}
	}
}

// TestCodecResealsUnderIncomingKey: FORMAT.md section 6's rule holds for
// the Codec too, not only the Manager. An instance whose clock is behind
// re-seals a record opened under the key due within 60 s under that key,
// not under the outgoing primary, so the cookie does not flip; a new
// record, and one under a key due later than that, get the primary.
func TestCodecResealsUnderIncomingKey(t *testing.T) {
	promoteAt := fixedNow.Add(time.Hour)
	ring := ringOf(t, keyA)
	if err := ring.AddScheduled(keyForID(t, keyB), promoteAt); err != nil {
		t.Fatal(err)
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	begun := &cookiesession.Record{Created: promoteAt.Add(-time.Hour)}
	token := sealAt(t, c, begun, promoteAt.Add(time.Second)) // by a clock ahead
	for _, tt := range []struct {
		behind time.Duration
		want   uint32
	}{{30 * time.Second, keyB}, {60 * time.Second, keyB}, {61 * time.Second, keyA}} {
		now := promoteAt.Add(-tt.behind)
		rec := openAt(t, c, token, now)
		rec.Values.Set("n", 1)
		sealAt(t, c, &rec, now)
		if rec.KeyID != tt.want {
			t.Errorf("%v before promote_at: re-sealed under %08x, want %08x", tt.behind, rec.KeyID, tt.want)
		}
		fresh := cookiesession.Record{}
		if sealAt(t, c, &fresh, now); fresh.KeyID != keyA {
			t.Errorf("%v before promote_at: a new record sealed under %08x, want the primary", tt.behind, fresh.KeyID)
		}
	}
}
