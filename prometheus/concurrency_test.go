package promsession

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestCollectDuringReloads scrapes while the ring is swapped back and
// forth and requests seal and open, for -race: every scrape shows one
// ring, with exactly one key marked primary.
func TestCollectDuringReloads(t *testing.T) {
	const scrapes = 200
	a, b := key(t, 0x0a0a0a0a), key(t, 0x0b0b0b0b)
	ringA, err := cookiesession.NewKeyRing(a, b)
	if err != nil {
		t.Fatal(err)
	}
	ringB, err := cookiesession.NewKeyRing(b, a)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := cookiesession.NewKeyRing(a, b)
	m, h := server(t, ring, "session")
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(m, "app"))
	done := make(chan struct{})
	var wg sync.WaitGroup
	// Stopped and joined however the test ends: after a t.Fatal below, the
	// swapper would spin on and the requests' handlers would run after the
	// test had returned.
	defer func() {
		close(done)
		wg.Wait()
	}()
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			_ = ring.Replace([2]*cookiesession.KeyRing{ringA, ringB}[i%2])
		}
	})
	wg.Go(func() {
		for range scrapes {
			_, cookie := request(t, h, "/set", "", "session")
			request(t, h, "/get", cookie, "session")
		}
	})
	for range scrapes {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		primaries := 0
		for _, f := range families {
			if f.GetName() != "app_cookiesession_key_info" {
				continue
			}
			for _, metric := range f.GetMetric() {
				for _, l := range metric.GetLabel() {
					if l.GetName() == "primary" && l.GetValue() == "true" {
						primaries++
					}
				}
			}
		}
		if primaries != 1 {
			t.Fatalf("a scrape marks %d keys primary, want 1", primaries)
		}
	}
}
