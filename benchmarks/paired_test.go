package benchmarks

import (
	"testing"
	"time"
)

// BenchmarkPaired measures each ratio the targets name in one loop:
// every iteration runs a block of one side and a block of the other, in
// alternating order, timing each block. A shared machine drifts by ±20%
// between separate benchmarks, so a quotient of two of them can move by
// half that; both halves of a pair see the same machine, so the reported
// ratio holds steady. Each line reports num-ns/op and den-ns/op (one
// operation of each side) and x, num ÷ den; ns/op is one of each.
func BenchmarkPaired(b *testing.B) {
	fx := fixtures[0] // the targets are set for the small fixture
	encs := map[string]encoder{}
	for _, enc := range encoders(fx) {
		encs[enc.pkg] = enc
	}
	encode := func(b *testing.B, pkg string) func() {
		f := encs[pkg].encode(b)
		return func() { _ = f() }
	}
	decode := func(b *testing.B, pkg string) func() {
		return encs[pkg].decode(b, encs[pkg].encode(b)())
	}
	reqs := map[string]requestBench{}
	for _, rb := range requestBenches(b, fx) {
		reqs[rb.pkg] = rb
	}
	read := func(pkg string) func() { return newServer(reqs[pkg].read, reqs[pkg].request) }
	write := func(pkg string) func() { return newServer(reqs[pkg].write, reqs[pkg].request) }
	pairs := []struct {
		name     string
		num, den func(b *testing.B) func()
	}{
		// cookiesession ÷ raw AEAD: at most 1.3.
		{"seal÷raw", func(b *testing.B) func() { return encode(b, pkgOurs) }, func(b *testing.B) func() { return encode(b, pkgRaw) }},
		{"open÷raw", func(b *testing.B) func() { return decode(b, pkgOurs) }, func(b *testing.B) func() { return decode(b, pkgRaw) }},
		// gorilla ÷ cookiesession: how many times faster this package is.
		{"gob-encode÷seal", func(b *testing.B) func() { return encode(b, pkgGob) }, func(b *testing.B) func() { return encode(b, pkgOurs) }},
		{"gob-decode÷open", func(b *testing.B) func() { return decode(b, pkgGob) }, func(b *testing.B) func() { return decode(b, pkgOurs) }},
		// gorilla ÷ raw AEAD: the most any codec built on the AEAD could
		// reach in the two rows above.
		{"gob-encode÷raw", func(b *testing.B) func() { return encode(b, pkgGob) }, func(b *testing.B) func() { return encode(b, pkgRaw) }},
		{"gob-decode÷raw", func(b *testing.B) func() { return decode(b, pkgGob) }, func(b *testing.B) func() { return decode(b, pkgRaw) }},
		// time.Now ÷ raw AEAD: what reading the clock, which Seal and
		// Open must do to set and check expiry, adds to the raw AEAD.
		{"clock÷raw-seal", func(*testing.B) func() { return readClock }, func(b *testing.B) func() { return encode(b, pkgRaw) }},
		{"clock÷raw-open", func(*testing.B) func() { return readClock }, func(b *testing.B) func() { return decode(b, pkgRaw) }},
		{"gorilla-read÷read", func(*testing.B) func() { return read(pkgGorilla) }, func(*testing.B) func() { return read(pkgOurs) }},
		{"gorilla-write÷write", func(*testing.B) func() { return write(pkgGorilla) }, func(*testing.B) func() { return write(pkgOurs) }},
		// cookiesession's request ÷ the bare handler's: the middleware's
		// own cost is num-ns/op minus den-ns/op.
		{"read÷bare", func(*testing.B) func() { return read(pkgOurs) }, func(*testing.B) func() { return read(pkgBare) }},
		{"write÷bare", func(*testing.B) func() { return write(pkgOurs) }, func(*testing.B) func() { return write(pkgBare) }},
	}
	for _, p := range pairs {
		b.Run("fixture="+fx.name+"/pkg="+p.name, func(b *testing.B) {
			pairedBlocks(b, p.num(b), p.den(b))
		})
	}
}

// clockSink keeps readClock's result alive.
var clockSink time.Time

func readClock() { clockSink = time.Now() }

// pairedBlocks runs num and den in alternating blocks and reports their
// per-operation times and ratio. The two clock reads around a block of 32
// operations cost well under 1% of it.
func pairedBlocks(b *testing.B, num, den func()) {
	const block = 32
	run := func(f func()) time.Duration {
		start := time.Now()
		for range block {
			f()
		}
		return time.Since(start)
	}
	var tn, td time.Duration
	ops := 0
	for b.Loop() {
		if ops%(2*block) == 0 {
			tn += run(num)
			td += run(den)
		} else {
			td += run(den)
			tn += run(num)
		}
		ops += block
	}
	b.ReportMetric(float64(tn.Nanoseconds())/float64(ops), "num-ns/op")
	b.ReportMetric(float64(td.Nanoseconds())/float64(ops), "den-ns/op")
	b.ReportMetric(float64(tn)/float64(td), "x")
	b.ReportMetric(float64((tn+td).Nanoseconds())/float64(ops), "ns/op")
}

// Package names as the encoders and request benches spell them.
const (
	pkgRaw     = "raw"
	pkgOurs    = "cookiesession"
	pkgGob     = "securecookie-gob"
	pkgGorilla = "gorilla-sessions"
	pkgBare    = "bare"
)
