package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// The fleet test runs key rotations the way operators do: three demo
// processes behind HAProxy, each reading its ring from a Kubernetes-style
// mounted secret, while hundreds of clients with cookie jars keep using
// their sessions.
const (
	fleetSize     = 3
	fleetClients  = 300
	fleetReaders  = 100 // the first clients only ever read after logging in
	fleetTimeout  = 3 * time.Minute
	fleetMaxCalls = 5000 // per client and scenario, a bound beside the time
	thinkMin      = 40 * time.Millisecond
	thinkMax      = 120 * time.Millisecond
	settleTime    = 2 * time.Second         // load before and after the rotation
	quietWindow   = 1500 * time.Millisecond // an idle key opens nothing for this long
	loadDeadline  = 15 * time.Second        // for an instance to load a ring
)

// TestFleet rotates keys across the fleet in three scenarios: the staged
// runbook, a scheduled promote_at, and a wrong-order control that shows
// the test can see lost sessions.
func TestFleet(t *testing.T) {
	haproxy := haproxyPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), fleetTimeout)
	defer cancel()
	start := time.Now()
	t.Run("runbook", func(t *testing.T) { fleetRunbook(t, ctx, haproxy) })
	t.Run("promote_at", func(t *testing.T) { fleetPromoteAt(t, ctx, haproxy) })
	t.Run("wrong_order", func(t *testing.T) { fleetWrongOrder(t, ctx, haproxy) })
	t.Logf("fleet test took %.1fs", time.Since(start).Seconds())
}

// fleetRunbook: add the new key open-only instance by instance, wait until
// every instance reports it, promote instance by instance, wait until the
// counters show the old key idle everywhere, then remove it.
func fleetRunbook(t *testing.T, ctx context.Context, haproxy string) {
	oldKey, newKey := newKey(t), newKey(t)
	f := startFleet(t, ctx, haproxy, ringText(t, oldKey))
	load := startLoad(t, ctx, f)
	load.stage("baseline", func() { sleepCtx(ctx, settleTime) })

	load.stage("add open-only, one by one", func() {
		for _, in := range f.instances {
			in.secret.update(t, ringText(t, oldKey, newKey))
			in.waitVars(t, ctx, "lists the new key", func(v cookiesession.Metrics) bool {
				return hasKey(v, newKey.ID())
			})
		}
		f.waitAll(t, ctx, "lists the new key", func(v cookiesession.Metrics) bool { return hasKey(v, newKey.ID()) })
	})
	load.stage("promote, one by one", func() {
		for _, in := range f.instances {
			in.secret.update(t, ringText(t, newKey, oldKey))
			in.waitVars(t, ctx, "seals with the new key", func(v cookiesession.Metrics) bool {
				return v.Primary == cookiesession.FormatKeyID(newKey.ID())
			})
		}
	})
	load.stage("wait until the old key is idle", func() { f.waitIdle(t, ctx, oldKey.ID()) })
	load.stage("remove the old key, one by one", func() {
		for _, in := range f.instances {
			in.secret.update(t, ringText(t, newKey))
			in.waitVars(t, ctx, "no longer holds the old key", func(v cookiesession.Metrics) bool {
				return !hasKey(v, oldKey.ID())
			})
		}
	})
	load.stage("after", func() { sleepCtx(ctx, settleTime) })
	res := load.stop()
	res.requireClean(t)
}

// fleetPromoteAt: every instance gets the new key with a promotion time a
// few seconds ahead, and nothing else is done.
func fleetPromoteAt(t *testing.T, ctx context.Context, haproxy string) {
	oldKey, newKey := newKey(t), newKey(t)
	f := startFleet(t, ctx, haproxy, ringText(t, oldKey))
	load := startLoad(t, ctx, f)
	load.stage("baseline", func() { sleepCtx(ctx, settleTime) })

	at := time.Now().Add(5 * time.Second).Truncate(time.Second)
	scheduled := ringWith(t, oldKey, func(r *cookiesession.KeyRing) error { return r.AddScheduled(newKey, at) })
	load.stage("add with promote_at, all at once", func() {
		for _, in := range f.instances {
			in.secret.update(t, scheduled)
		}
		f.waitAll(t, ctx, "lists the new key with its promote_at", func(v cookiesession.Metrics) bool {
			return slices.ContainsFunc(v.Keys, func(k cookiesession.KeyInfo) bool {
				return k.ID == newKey.ID() && k.PromoteAt.Equal(at)
			})
		})
		if now := time.Now(); !now.Before(at) {
			t.Fatalf("the instances loaded the ring only at %s, after its promote_at %s: nothing was tested",
				now.Format(time.RFC3339Nano), at.Format(time.RFC3339))
		}
	})
	load.stage("until promote_at", func() { sleepCtx(ctx, time.Until(at)) })
	load.stage("after promote_at", func() {
		f.waitAll(t, ctx, "seals with the new key", func(v cookiesession.Metrics) bool {
			return v.Primary == cookiesession.FormatKeyID(newKey.ID())
		})
		sleepCtx(ctx, settleTime)
	})
	res := load.stop()
	res.requireClean(t)
	var opened uint64
	for _, in := range f.instances {
		opened += in.vars(t, ctx).Opened[cookiesession.FormatKeyID(newKey.ID())]
	}
	if opened == 0 {
		t.Error("no instance opened a token under the new key after promote_at")
	}
}

// fleetWrongOrder promotes the new key on one instance while the others do
// not hold it yet. Requests routed to the lagging instances are answered
// without their session, which proves the test can see losses; the lagging
// instances warn with the key id; and once they load the key, the clients
// that only read there have their sessions back.
func fleetWrongOrder(t *testing.T, ctx context.Context, haproxy string) {
	oldKey, newKey := newKey(t), newKey(t)
	newID := cookiesession.FormatKeyID(newKey.ID())
	f := startFleet(t, ctx, haproxy, ringText(t, oldKey))
	load := startLoad(t, ctx, f)
	load.stage("baseline", func() { sleepCtx(ctx, settleTime) })

	first := f.instances[0]
	wrong := load.stage("promote on one instance only", func() {
		first.secret.update(t, ringText(t, newKey, oldKey))
		first.waitVars(t, ctx, "seals with the new key", func(v cookiesession.Metrics) bool { return v.Primary == newID })
		sleepCtx(ctx, settleTime)
	})
	load.stage("the others catch up", func() {
		for _, in := range f.instances[1:] {
			in.secret.update(t, ringText(t, newKey, oldKey))
		}
		f.waitAll(t, ctx, "seals with the new key", func(v cookiesession.Metrics) bool { return v.Primary == newID })
		// Answers to requests sent before the last reload are counted here.
		load.drain(t, ctx)
	})
	after := load.stage("after", func() { sleepCtx(ctx, settleTime) })
	res := load.stop()

	if res.fiveXX != 0 || res.failed != 0 {
		t.Errorf("%d responses were 5xx and %d requests failed; a refused cookie must give a fresh session", res.fiveXX, res.failed)
	}
	if wrong.lost == 0 {
		t.Error("promoting on one instance first lost no session: the test cannot see losses")
	}
	if after.lost != 0 {
		t.Errorf("%d requests were answered without their session after every instance held the key", after.lost)
	}
	for _, in := range f.instances[1:] {
		line := in.warning(newID)
		if line == "" {
			t.Errorf("%s never logged a Warn naming key id %s:\n%s", in.name, newID, in.log.tail(20))
			continue
		}
		t.Logf("%s: %s", in.name, line)
	}
	// Every reader, hit or not, must now read its session from every
	// instance: the lagging ones answered without it but did not clear it.
	hit, back := 0, 0
	for _, c := range load.clients[:fleetReaders] {
		if c.hit.Load() > 0 {
			hit++
		}
		if err := c.readEverywhere(ctx); err != nil {
			t.Errorf("%s after every instance loaded the key: %v", c.user, err)
		} else if c.hit.Load() > 0 {
			back++
		}
	}
	if hit == 0 {
		t.Error("no reader was answered without its session by a lagging instance")
	}
	t.Logf("wrong order: %d of %d readers were answered without their session, %d of them read it back from every instance afterwards; writers logged in again %d times",
		hit, fleetReaders, back, res.relogins)
}

// fleetInstance is one demo process and its mounted secret.
type fleetInstance struct {
	name   string // HAProxy's server name
	addr   string // 127.0.0.1:PORT
	secret *mountedSecret
	log    *fleetLog
	cmd    *exec.Cmd
	done   chan struct{}
}

// fleet is the running fleet and its load balancer.
type fleet struct {
	instances []*fleetInstance
	url       string // HAProxy's frontend, http://127.0.0.1:PORT
}

var fleetListening = regexp.MustCompile(`demo listening on http://(127\.0\.0\.1:\d+)`)

// startFleet starts fleetSize demos, each on the ring text given in its
// own mounted secret, and HAProxy in front of them. Everything stops when
// the test ends, HAProxy first.
func startFleet(t *testing.T, ctx context.Context, haproxy string, ring []byte) *fleet {
	t.Helper()
	f := &fleet{}
	for i := range fleetSize {
		in := &fleetInstance{name: fmt.Sprintf("demo%d", i), log: new(fleetLog), done: make(chan struct{})}
		in.secret = newMountedSecret(t, ring)
		in.start(t, ctx)
		f.instances = append(f.instances, in)
	}
	f.url = startHAProxy(t, ctx, haproxy, f.instances)
	return f
}

func (in *fleetInstance) start(t *testing.T, ctx context.Context) {
	t.Helper()
	// No -debug: the Warn about an unknown key id must show at the default level.
	in.cmd = exec.Command(demoBin, "-addr", "127.0.0.1:0", "-insecure", "-keys", in.secret.path())
	out, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	in.cmd.Stdout = in.cmd.Stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopProcess(t, in.cmd, in.done, in.name)
		if t.Failed() {
			t.Logf("%s (%s) log:\n%s", in.name, in.addr, in.log.tail(40))
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			in.log.add(sc.Text())
			if m := fleetListening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		in.cmd.Wait()
		close(in.done)
	}()
	select {
	case in.addr = <-found:
	case <-in.done:
		t.Fatalf("%s exited before listening:\n%s", in.name, in.log.tail(40))
	case <-ctx.Done():
		t.Fatalf("%s did not say where it listens: %v", in.name, ctx.Err())
	}
	waitHealthy(t, ctx, "http://"+in.addr+"/healthz")
}

// stopProcess sends SIGINT, then kills the process after 10 s.
func stopProcess(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, name string) {
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s ignored SIGINT for 10s; killing it", name)
		cmd.Process.Kill()
		<-done
	}
}

// vars reads the instance's /debug/vars directly, not through HAProxy.
func (in *fleetInstance) vars(t *testing.T, ctx context.Context) cookiesession.Metrics {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.addr+"/debug/vars", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s /debug/vars: %v", in.name, err)
	}
	defer resp.Body.Close()
	var body struct {
		Metrics cookiesession.Metrics `json:"cookiesession"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s /debug/vars: status %d, %v", in.name, resp.StatusCode, err)
	}
	return body.Metrics
}

// waitVars polls the instance's counters until ok holds, for at most
// loadDeadline: the demo checks its ring file once a second.
func (in *fleetInstance) waitVars(t *testing.T, ctx context.Context, what string, ok func(cookiesession.Metrics) bool) {
	t.Helper()
	deadline := time.Now().Add(loadDeadline)
	for {
		v := in.vars(t, ctx)
		if ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never %s within %s: running ring %+v (its file: %s)", in.name, what, loadDeadline, v.Keys, in.secret.path())
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// waitAll is waitVars on every instance.
func (f *fleet) waitAll(t *testing.T, ctx context.Context, what string, ok func(cookiesession.Metrics) bool) {
	t.Helper()
	for _, in := range f.instances {
		in.waitVars(t, ctx, what, ok)
	}
}

// waitIdle waits until no instance opens a token under key id for a quiet
// window while every instance keeps opening tokens: the counters' proof that
// no client still holds a cookie under it.
func (f *fleet) waitIdle(t *testing.T, ctx context.Context, id uint32) {
	t.Helper()
	hex := cookiesession.FormatKeyID(id)
	deadline := time.Now().Add(loadDeadline)
	snapshot := func() (old, all []uint64) {
		for _, in := range f.instances {
			v := in.vars(t, ctx)
			var sum uint64
			for _, n := range v.Opened {
				sum += n
			}
			old, all = append(old, v.Opened[hex]), append(all, sum)
		}
		return old, all
	}
	for {
		oldBefore, allBefore := snapshot()
		sleepCtx(ctx, quietWindow)
		oldAfter, allAfter := snapshot()
		busy := true
		for i := range allAfter {
			busy = busy && allAfter[i] > allBefore[i]
		}
		if busy && slices.Equal(oldBefore, oldAfter) {
			t.Logf("key %s idle: opened %v times on the instances, unchanged over %s while they opened %v more tokens",
				hex, oldAfter, quietWindow, deltas(allBefore, allAfter))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %s never went idle: opened %v then %v on the instances; all keys %v then %v",
				hex, oldBefore, oldAfter, allBefore, allAfter)
		}
	}
}

func deltas(before, after []uint64) []uint64 {
	d := make([]uint64, len(after))
	for i := range after {
		d[i] = after[i] - before[i]
	}
	return d
}

func hasKey(v cookiesession.Metrics, id uint32) bool {
	return slices.ContainsFunc(v.Keys, func(k cookiesession.KeyInfo) bool { return k.ID == id })
}

// warning returns the instance's first Warn about unknown key id hex, or "".
func (in *fleetInstance) warning(hex string) string {
	for _, line := range in.log.lines() {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "key_id="+hex) &&
			strings.Contains(line, "unknown key id "+hex) {
			return line
		}
	}
	return ""
}

// fleetLog keeps a process's output lines.
type fleetLog struct {
	mu  sync.Mutex
	all []string
}

func (l *fleetLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, line)
}

func (l *fleetLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

func (l *fleetLog) tail(n int) string {
	lines := l.lines()
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// mountedSecret is a directory laid out as the kubelet mounts a Secret:
// ring.json -> ..data/ring.json, ..data -> ..<timestamp>. An update writes
// a new timestamped directory and swaps ..data to it with one rename.
type mountedSecret struct {
	dir     string
	current string // the timestamped directory ..data points to
}

func newMountedSecret(t *testing.T, ring []byte) *mountedSecret {
	t.Helper()
	s := &mountedSecret{dir: t.TempDir()}
	s.update(t, ring)
	if err := os.Symlink(filepath.Join("..data", "ring.json"), s.path()); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *mountedSecret) path() string { return filepath.Join(s.dir, "ring.json") }

// update publishes ring as the kubelet does: the new version is complete in
// its own directory before ..data points to it.
func (s *mountedSecret) update(t *testing.T, ring []byte) {
	t.Helper()
	name := time.Now().UTC().Format("..2006_01_02_15_04_05.000000000")
	if err := os.Mkdir(filepath.Join(s.dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name, "ring.json"), ring, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.dir, "..data_tmp")
	if err := os.Symlink(name, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if s.current != "" {
		if err := os.RemoveAll(filepath.Join(s.dir, s.current)); err != nil {
			t.Fatal(err)
		}
	}
	s.current = name
}

// ringText is the text form of a ring whose primary is primary and whose
// other keys open only.
func ringText(t *testing.T, primary cookiesession.Key, others ...cookiesession.Key) []byte {
	t.Helper()
	return ringWith(t, primary, func(r *cookiesession.KeyRing) error {
		for _, k := range others {
			if err := r.Add(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ringWith is the text form of a ring made from primary by change.
func ringWith(t *testing.T, primary cookiesession.Key, change func(*cookiesession.KeyRing) error) []byte {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(primary)
	if err != nil {
		t.Fatal(err)
	}
	if err := change(ring); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// haproxyPath finds Debian's haproxy.
func haproxyPath(t *testing.T) string {
	return toolPath(t, "apt-get install -y haproxy", "haproxy")
}

// startHAProxy runs HAProxy in the foreground with a generated config:
// plain HTTP on a free loopback port, round robin over the instances, and
// the answering server's name in X-Fleet-Server. It returns the frontend's
// URL once a request through it is answered.
func startHAProxy(t *testing.T, ctx context.Context, haproxy string, instances []*fleetInstance) string {
	t.Helper()
	front := freeAddr(t)
	var cfg bytes.Buffer
	fmt.Fprintf(&cfg, `global
	maxconn 2048

defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s

frontend fleet
	bind %s
	default_backend demos

backend demos
	balance roundrobin
	http-response set-header X-Fleet-Server %%[srv_name]
`, front)
	for _, in := range instances {
		fmt.Fprintf(&cfg, "\tserver %s %s\n", in.name, in.addr)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, cfg.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-f", path, "-db")
	log := new(fleetLog)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.add(sc.Text())
		}
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("haproxy log:\n%s\nconfig:\n%s", log.tail(40), cfg.String())
		}
	})
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-hctx.Done():
		}
	}()
	waitHealthy(t, hctx, "http://"+front+"/healthz")
	return "http://" + front
}

// fleetLoad is the client population and its counters.
type fleetLoad struct {
	t       *testing.T
	ctx     context.Context
	cancel  context.CancelFunc
	clients []*fleetClient
	wg      sync.WaitGroup

	base *url.URL // HAProxy's frontend

	requests, fiveXX, failed, lost, relogins atomic.Int64
	logged                                   atomic.Int64 // problems logged, to keep the log short
}

// fleetCounts are the load's counters at one moment, or between two.
type fleetCounts struct {
	requests, fiveXX, failed, lost, relogins int64
	hits                                     []int64 // per client: requests answered without the session
}

// fleetClient is one user: a cookie jar, a name, and what its session must
// hold.
type fleetClient struct {
	load   *fleetLoad
	http   *http.Client
	user   string
	reader bool         // only reads after logging in
	n      int64        // the last value of "n" it wrote; -1 before the first write
	hit    atomic.Int64 // requests answered without the session
	// calls and answered count run's requests begun and those whose
	// answer was checked and counted; drain waits for the second to catch up.
	calls, answered atomic.Int64
}

// startLoad logs every client in, then lets them all run until stop.
func startLoad(t *testing.T, ctx context.Context, f *fleet) *fleetLoad {
	t.Helper()
	l := &fleetLoad{t: t}
	l.ctx, l.cancel = context.WithCancel(ctx)
	transport := &http.Transport{MaxIdleConns: 2 * fleetClients, MaxIdleConnsPerHost: 2 * fleetClients}
	t.Cleanup(transport.CloseIdleConnections)
	base, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	l.base = base
	var logins sync.WaitGroup
	errs := make(chan error, fleetClients)
	for i := range fleetClients {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &fleetClient{
			load:   l,
			http:   &http.Client{Jar: jar, Transport: transport, Timeout: 20 * time.Second},
			user:   fmt.Sprintf("user%03d", i),
			reader: i < fleetReaders,
			n:      -1,
		}
		l.clients = append(l.clients, c)
		logins.Go(func() {
			if err := c.login(); err != nil {
				errs <- fmt.Errorf("%s: logging in: %w", c.user, err)
			}
		})
	}
	logins.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A test that stops early stops its clients before the fleet.
	t.Cleanup(func() { l.cancel(); l.wg.Wait() })
	for _, c := range l.clients {
		l.wg.Go(func() {
			c.run()
		})
	}
	return l
}

// stage runs do while the clients keep going, logs its time and what the
// clients saw meanwhile, and returns the latter.
func (l *fleetLoad) stage(name string, do func()) fleetCounts {
	l.t.Helper()
	start, before := time.Now(), l.current()
	do()
	d := l.current().minus(before)
	l.t.Logf("%-32s %5.2fs  requests %6d  5xx %d  failed %d  lost %d (clients %d)",
		name, time.Since(start).Seconds(), d.requests, d.fiveXX, d.failed, d.lost, d.clientsHit())
	return d
}

// note logs a problem a client met, the first few times only.
func (l *fleetLoad) note(format string, args ...any) {
	if l.logged.Add(1) <= 10 {
		l.t.Logf(format, args...)
	}
}

// current reads the counters.
func (l *fleetLoad) current() fleetCounts {
	c := fleetCounts{
		requests: l.requests.Load(), fiveXX: l.fiveXX.Load(), failed: l.failed.Load(),
		lost: l.lost.Load(), relogins: l.relogins.Load(),
	}
	for _, cl := range l.clients {
		c.hits = append(c.hits, cl.hit.Load())
	}
	return c
}

// minus is what happened between o and c.
func (c fleetCounts) minus(o fleetCounts) fleetCounts {
	d := fleetCounts{
		requests: c.requests - o.requests, fiveXX: c.fiveXX - o.fiveXX, failed: c.failed - o.failed,
		lost: c.lost - o.lost, relogins: c.relogins - o.relogins,
	}
	for i := range c.hits {
		d.hits = append(d.hits, c.hits[i]-o.hits[i])
	}
	return d
}

// clientsHit counts the clients answered at least once without their
// session.
func (c fleetCounts) clientsHit() int {
	n := 0
	for _, h := range c.hits {
		if h > 0 {
			n++
		}
	}
	return n
}

// stop ends the load and returns the totals.
func (l *fleetLoad) stop() fleetCounts {
	l.cancel()
	l.wg.Wait()
	total := l.current()
	l.t.Logf("total: %d requests, %d 5xx, %d failed, %d answered without their session, %d clients hit",
		total.requests, total.fiveXX, total.failed, total.lost, total.clientsHit())
	return total
}

// requireClean is the verdict of a correct rotation.
func (c fleetCounts) requireClean(t *testing.T) {
	t.Helper()
	if c.requests < fleetClients {
		t.Errorf("only %d requests were made", c.requests)
	}
	if c.fiveXX != 0 || c.failed != 0 || c.lost != 0 {
		t.Errorf("%d 5xx, %d failed requests, %d requests answered without their session (%d clients): want none",
			c.fiveXX, c.failed, c.lost, c.clientsHit())
	}
}

// sessionReply is the part of GET/POST /api/session the clients check.
type sessionReply struct {
	Values struct {
		User string `json:"user"`
		N    *int64 `json:"n"`
	} `json:"values"`
}

// run makes requests until the load stops: readers read their session,
// writers also write it and load the page.
func (c *fleetClient) run() {
	ctx := c.load.ctx
	for range fleetMaxCalls {
		if !sleepCtx(ctx, thinkMin+rand.N(thinkMax-thinkMin)) {
			return
		}
		c.calls.Add(1)
		switch p := rand.IntN(4); {
		case c.reader || p < 2:
			c.read()
		case p == 2:
			c.write()
		default:
			c.page()
		}
		c.answered.Add(1)
	}
}

// drain waits until every request the clients had begun has been
// answered and counted, so that the stage that calls it counts them.
func (l *fleetLoad) drain(t *testing.T, ctx context.Context) {
	t.Helper()
	begun := make([]int64, len(l.clients))
	for i, c := range l.clients {
		begun[i] = c.calls.Load()
	}
	for i, c := range l.clients {
		for c.answered.Load() < begun[i] {
			if !sleepCtx(ctx, 10*time.Millisecond) {
				t.Fatalf("%s: a request begun before the reload is not answered: %v", c.user, ctx.Err())
			}
		}
	}
}

// do sends one request and counts it. It returns nil when the request did
// not get a 2xx answer (counted as failed or 5xx), or was cut by the end
// of the load.
func (c *fleetClient) do(req *http.Request) (*http.Response, []byte) {
	l := c.load
	resp, err := c.http.Do(req)
	if err != nil {
		if l.ctx.Err() == nil {
			l.requests.Add(1)
			l.failed.Add(1)
			l.note("%s %s %s: %v", c.user, req.Method, req.URL.Path, err)
		}
		return nil, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && l.ctx.Err() != nil {
		return nil, nil
	}
	l.requests.Add(1)
	switch {
	case resp.StatusCode >= 500:
		l.fiveXX.Add(1)
		l.note("%s %s %s: %s from %s: %.200s", c.user, req.Method, req.URL.Path, resp.Status, resp.Header.Get("X-Fleet-Server"), body)
		return nil, nil
	case resp.StatusCode >= 300 || err != nil:
		l.failed.Add(1)
		l.note("%s %s %s: %s: %v", c.user, req.Method, req.URL.Path, resp.Status, err)
		return nil, nil
	}
	return resp, body
}

func (c *fleetClient) login() error {
	form := url.Values{"username": {c.user}}
	req, err := http.NewRequestWithContext(c.load.ctx, http.MethodPost, c.load.base.JoinPath("/login").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The redirect to the page is followed; the page must show the user.
	resp, body := c.do(req)
	if resp == nil {
		return fmt.Errorf("no 2xx answer")
	}
	if want := `<strong id="user">` + c.user + `</strong>`; !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("the page after login does not show %s", want)
	}
	return nil
}

// lose counts a request answered without the session it should have had.
func (c *fleetClient) lose(req *http.Request, resp *http.Response, what string) {
	c.load.lost.Add(1)
	c.hit.Add(1)
	c.load.note("%s %s %s answered by %s: %s", c.user, req.Method, req.URL.Path, resp.Header.Get("X-Fleet-Server"), what)
}

// check compares a session reply with what the client stored.
func (c *fleetClient) check(got sessionReply) string {
	switch {
	case got.Values.User != c.user:
		return fmt.Sprintf("user %q, want %q", got.Values.User, c.user)
	case c.n >= 0 && (got.Values.N == nil || *got.Values.N != c.n):
		return fmt.Sprintf("n %v, want %d", got.Values.N, c.n)
	}
	return ""
}

func (c *fleetClient) read() {
	req, err := http.NewRequestWithContext(c.load.ctx, http.MethodGet, c.load.base.JoinPath("/api/session").String(), nil)
	if err != nil {
		panic(err)
	}
	resp, body := c.do(req)
	if resp == nil {
		return
	}
	var got sessionReply
	if err := json.Unmarshal(body, &got); err != nil {
		c.load.failed.Add(1)
		return
	}
	if what := c.check(got); what != "" {
		c.lose(req, resp, what)
	}
}

// write stores n+1. A write answered without the user has replaced the
// session with a new one: the client logs in again.
func (c *fleetClient) write() {
	next := c.n + 1
	if next == 0 {
		next = 1
	}
	req, err := http.NewRequestWithContext(c.load.ctx, http.MethodPost, c.load.base.JoinPath("/api/session").String(),
		strings.NewReader(fmt.Sprintf(`{"n": %d}`, next)))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, body := c.do(req)
	if resp == nil {
		return
	}
	var got sessionReply
	if err := json.Unmarshal(body, &got); err != nil {
		c.load.failed.Add(1)
		return
	}
	c.n = next
	if what := c.check(got); what != "" {
		c.lose(req, resp, what)
		c.load.relogins.Add(1)
		if err := c.login(); err != nil && c.load.ctx.Err() == nil {
			c.load.note("%s: logging in again: %v", c.user, err)
		}
	}
}

// page loads the demo's page, which counts visits in the session.
func (c *fleetClient) page() {
	req, err := http.NewRequestWithContext(c.load.ctx, http.MethodGet, c.load.base.JoinPath("/").String(), nil)
	if err != nil {
		panic(err)
	}
	resp, body := c.do(req)
	if resp == nil {
		return
	}
	if want := `<strong id="user">` + c.user + `</strong>`; !bytes.Contains(body, []byte(want)) {
		c.lose(req, resp, "the page does not show the user")
	}
}

// readEverywhere reads the session until every instance has answered,
// and reports the first answer without it.
func (c *fleetClient) readEverywhere(ctx context.Context) error {
	seen := map[string]bool{}
	for range 20 * fleetSize {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.load.base.JoinPath("/api/session").String(), nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %v", resp.Status, err)
		}
		var got sessionReply
		if err := json.Unmarshal(body, &got); err != nil {
			return err
		}
		server := resp.Header.Get("X-Fleet-Server")
		if what := c.check(got); what != "" {
			return fmt.Errorf("%s answered %s", server, what)
		}
		if seen[server] = true; len(seen) == fleetSize {
			return nil
		}
	}
	return fmt.Errorf("only %d of %d instances answered in %d reads", len(seen), fleetSize, 20*fleetSize)
}

// sleepCtx sleeps for d or until ctx ends, and reports whether it slept
// the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
