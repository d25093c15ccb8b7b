package cookiesession_test

import (
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Identifiers in this file carry a load prefix, which sets them apart from
// the shared helpers (helpers_test.go).

const (
	loadClients = 16
	// loadHeapSlack is how much the live heap may grow over a load run.
	// Sessions live in cookies, so nothing should accumulate; the slack
	// covers connection buffers and the runtime's own bookkeeping.
	loadHeapSlack = 8 << 20
)

// loadDuration is 2s (CI runs it so, under -race too), 1s with -short, or
// COOKIESESSION_LOAD_SECONDS for a longer run by hand.
func loadDuration(t *testing.T) time.Duration {
	if s := os.Getenv("COOKIESESSION_LOAD_SECONDS"); s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs <= 0 {
			t.Fatalf("COOKIESESSION_LOAD_SECONDS=%q is not a positive number", s)
		}
		return time.Duration(secs * float64(time.Second))
	}
	if testing.Short() {
		return time.Second
	}
	return 2 * time.Second
}

// loadHist is a latency histogram with 16 buckets per power of two (about
// 6% resolution) in constant memory, so recording latencies does not
// itself grow the heap that the test watches.
type loadHist struct {
	counts [976]uint64
	n      uint64
}

func loadBucket(ns uint64) int {
	e := bits.Len64(ns)
	if e < 5 {
		return int(ns)
	}
	return (e-4)*16 + int(ns>>(e-5))&15
}

// loadBucketMax is the largest latency that falls into bucket i.
func loadBucketMax(i int) time.Duration {
	if i < 32 {
		return time.Duration(i)
	}
	e, sub := i/16+4, i%16
	return time.Duration((uint64(17+sub) << (e - 5)) - 1)
}

func (h *loadHist) add(d time.Duration) {
	h.counts[loadBucket(uint64(max(d, 0)))]++
	h.n++
}

func (h *loadHist) merge(o *loadHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns an upper bound of the q-quantile.
func (h *loadHist) quantile(q float64) time.Duration {
	rank := uint64(q * float64(h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return loadBucketMax(i)
		}
	}
	return loadBucketMax(len(h.counts) - 1)
}

// loadClient is one keep-alive client with its own cookie jar.
type loadClient struct {
	uid    int
	client *http.Client
	url    string
	hist   loadHist
	errors int
	first  error
}

func (c *loadClient) fail(err error) {
	c.errors++
	if c.first == nil {
		c.first = err
	}
}

// get makes one request and checks that the session is the client's own.
func (c *loadClient) get(target string) {
	start := time.Now()
	resp, err := c.client.Get(c.url + target)
	if err != nil {
		c.fail(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.hist.add(time.Since(start))
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != strconv.Itoa(c.uid) {
		c.fail(fmt.Errorf("%s: status %d, body %q, read error %v", target, resp.StatusCode, body, err))
	}
}

// run reads the session until the deadline, modifying it one time in ten.
func (c *loadClient) run(deadline time.Time) {
	for i := 0; time.Now().Before(deadline); i++ {
		target := "/"
		if i%10 == 9 {
			target = "/?write=1"
		}
		c.get(target)
	}
}

func loadHeapInuse() uint64 {
	runtime.GC()
	runtime.GC() // the second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func newLoadServer(t *testing.T) (*httptest.Server, *http.Transport) {
	t.Helper()
	clock := newFakeClock(fixedNow)
	opts := cookiesession.Options{DisableSecure: true, IdleTimeout: time.Hour, Now: clock.Now}
	m, err := cookiesession.New(ringOf(t, keyA), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(fleetApp()))
	t.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: loadClients}
	t.Cleanup(transport.CloseIdleConnections)
	return srv, transport
}

// TestLoad drives the middleware over loopback with 16 keep-alive clients
// for a fixed time and reports throughput, latency and heap. It asserts no
// errors (every answer names the client's own user) and a flat heap; the
// figures are logged, not asserted, since they depend on the machine.
func TestLoad(t *testing.T) {
	srv, transport := newLoadServer(t)
	clients := make([]*loadClient, loadClients)
	for i := range clients {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = &loadClient{uid: i + 1, url: srv.URL, client: &http.Client{Transport: transport, Jar: jar}}
		clients[i].get("/login?uid=" + strconv.Itoa(i+1))
	}
	before := loadHeapInuse()
	dur := loadDuration(t)
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.run(start.Add(dur)) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := loadHeapInuse()
	loadReport(t, clients, elapsed, before, after)
}

func loadReport(t *testing.T, clients []*loadClient, elapsed time.Duration, before, after uint64) {
	t.Helper()
	var all loadHist
	errs := 0
	for _, c := range clients {
		all.merge(&c.hist)
		errs += c.errors
		if c.first != nil {
			t.Errorf("client %d: %d errors, first: %v", c.uid, c.errors, c.first)
		}
	}
	t.Logf("load: %d req in %.1fs, %.0f req/s, p50 %v, p99 %v, errors %d, heap before/after %.1f/%.1f MiB",
		all.n, elapsed.Seconds(), float64(all.n)/elapsed.Seconds(), all.quantile(0.50), all.quantile(0.99),
		errs, float64(before)/(1<<20), float64(after)/(1<<20))
	if all.n == 0 {
		t.Fatal("no request completed")
	}
	if after > before+loadHeapSlack {
		t.Errorf("heap in use grew from %d to %d bytes, more than %d", before, after, loadHeapSlack)
	}
}
