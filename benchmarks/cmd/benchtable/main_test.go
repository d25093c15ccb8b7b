package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBenchLine(t *testing.T) {
	tests := []struct {
		line   string
		ok     bool
		name   id
		nsOp   float64
		allocs float64
	}{
		{"BenchmarkEncode/fixture=small/pkg=raw-2   \t 2000\t 855.9 ns/op\t 81.78 MB/s\t 196.0 token-chars\t 208 B/op\t 1 allocs/op",
			true, id{"Encode", "small", "raw"}, 855.9, 1},
		{"BenchmarkRead/fixture=3KB/pkg=gorilla-sessions 10 64004 ns/op 305 allocs/op",
			true, id{"Read", "3KB", "gorilla-sessions"}, 64004, 305},
		{"BenchmarkRead/fixture=1KB/pkg=bare-16 10 1 ns/op", true, id{"Read", "1KB", "bare"}, 1, 0},
		{"BenchmarkEncode/fixture=small/pkg=raw-2 --- FAIL", false, id{}, 0, 0},
		{"BenchmarkEncode/fixture=small/pkg=raw-2 10 x ns/op", false, id{}, 0, 0},
		{"BenchmarkEncode/fixture=small/pkg=raw-2 10 5 ns/op 3", false, id{}, 0, 0},
		{"PASS", false, id{}, 0, 0},
		{"ok  \tgithub.com/x/benchmarks\t1.2s", false, id{}, 0, 0},
		{"", false, id{}, 0, 0},
	}
	for _, tt := range tests {
		name, values, ok := parseBenchLine(tt.line)
		if ok != tt.ok || name != tt.name || values["ns/op"] != tt.nsOp || values["allocs/op"] != tt.allocs {
			t.Errorf("parseBenchLine(%q) = %v, %v, %v; want %v, ns/op %v, allocs %v",
				tt.line, name, values, ok, tt.name, tt.nsOp, tt.allocs)
		}
	}
}

func TestMedian(t *testing.T) {
	b := id{"Encode", "small", "raw"}
	r := results{bench: map[id]samples{b: {"ns/op": {5, 1, 3}, "B/op": {4, 1, 3, 2}}}}
	for unit, want := range map[string]float64{"ns/op": 3, "B/op": 2.5} {
		if got, ok := r.median(b, unit); !ok || got != want {
			t.Errorf("median %s = %v, %v; want %v", unit, got, ok, want)
		}
	}
	if _, ok := r.median(b, "allocs/op"); ok {
		t.Error("median of an unmeasured unit reported ok")
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 0.5: "0.50", 999: "999", 1234.4: "1,234", 27012: "27,012", 1234567: "1,234,567"} {
		if got := number(v); got != want {
			t.Errorf("number(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestRun renders a document from a small input and checks the figures
// that depend on arithmetic: ratios, overheads and the target verdicts.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	bench := `goos: linux
cpu: Test CPU
BenchmarkEncode/fixture=small/pkg=raw-2 100 1000 ns/op 208 B/op 1 allocs/op
BenchmarkEncode/fixture=small/pkg=cookiesession-2 100 1200 ns/op 208 B/op 1 allocs/op
BenchmarkEncode/fixture=small/pkg=securecookie-gob-2 100 24000 ns/op 4468 B/op 44 allocs/op
BenchmarkDecode/fixture=small/pkg=raw-2 100 500 ns/op 0 B/op 0 allocs/op
BenchmarkDecode/fixture=small/pkg=cookiesession-2 100 1000 ns/op 272 B/op 2 allocs/op
BenchmarkDecode/fixture=small/pkg=securecookie-gob-2 100 25000 ns/op 9672 B/op 191 allocs/op
BenchmarkRead/fixture=small/pkg=bare-2 100 500 ns/op 752 B/op 5 allocs/op
BenchmarkRead/fixture=small/pkg=cookiesession-2 100 1500 ns/op 1864 B/op 13 allocs/op
BenchmarkRead/fixture=small/pkg=gorilla-sessions-2 100 30000 ns/op 11584 B/op 210 allocs/op
PASS
`
	sizes := "    size_test.go:107: SIZE pkg=cookiesession small_token=196 max_value=2983 max_values_bytes=2989\n"
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	out := filepath.Join(dir, "BENCHMARKS.md")
	in := inputs{command: "go test -bench .", machine: machine{goVersion: "go version test"}}
	if err := run(&in, write("bench.txt", bench), write("sizes.txt", sizes), "", out); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Seal ÷ raw AEAD | ≤ 1.3× | 1.20× | yes |",
		"| Open ÷ raw AEAD | ≤ 1.3× | 2.00× | **no** |",
		"| securecookie gob encode ÷ Seal | ≥ 10× | 20.00× | yes |",
		"| securecookie gob decode ÷ Open | ≥ 30× | 25.00× | **no** |",
		"| gorilla/sessions ÷ middleware, read-only request | ≥ 8× | 20.00× | yes |",
		"| middleware over bare handler, read-only | ≤ 1,500 ns | 1,000 ns | yes |",
		"| middleware allocations over bare, read-only | ≤ 8 | 8 | yes |",
		"| gorilla/sessions ÷ middleware, modifying request | ≥ 8× | not measured | – |",
		"| cookiesession | 196 | 2,983 | 2,989 |",
		"| securecookie-json | – | – | – |",
		"| cookiesession | 1,500 | 1,864 | 13 | – | – | – | 1,000 ns, 8 allocs |",
		"go test -bench .",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("document:\n%s", doc)
	}
}

// TestRunPrefersPairs checks that the ratio and overhead targets come from
// BenchmarkPaired lines when they are present: the ratio is the median of
// the pair's own ratios, the overhead the median of its per-run
// differences, not quotients of the separate benchmarks' medians.
func TestRunPrefersPairs(t *testing.T) {
	bench := `BenchmarkEncode/fixture=small/pkg=raw-2 100 1000 ns/op 208 B/op 1 allocs/op
BenchmarkEncode/fixture=small/pkg=cookiesession-2 100 2000 ns/op 208 B/op 1 allocs/op
BenchmarkPaired/fixture=small/pkg=seal÷raw-2 100 2100 ns/op 1000 den-ns/op 1100 num-ns/op 1.10 x
BenchmarkPaired/fixture=small/pkg=seal÷raw-2 100 2100 ns/op 900 den-ns/op 1080 num-ns/op 1.20 x
BenchmarkPaired/fixture=small/pkg=seal÷raw-2 100 2100 ns/op 1200 den-ns/op 1500 num-ns/op 1.25 x
BenchmarkPaired/fixture=small/pkg=read÷bare-2 100 2100 ns/op 500 den-ns/op 1500 num-ns/op 3 x
BenchmarkPaired/fixture=small/pkg=read÷bare-2 100 2100 ns/op 900 den-ns/op 2000 num-ns/op 2.2 x
BenchmarkPaired/fixture=small/pkg=read÷bare-2 100 2100 ns/op 700 den-ns/op 2000 num-ns/op 2.9 x
BenchmarkPaired/fixture=small/pkg=gob-encode÷raw-2 100 2100 ns/op 500 den-ns/op 4500 num-ns/op 9 x
BenchmarkPaired/fixture=small/pkg=gob-decode÷raw-2 100 2100 ns/op 500 den-ns/op 20000 num-ns/op 40 x
BenchmarkPaired/fixture=small/pkg=clock÷raw-seal-2 100 600 ns/op 500 den-ns/op 50 num-ns/op 0.125 x
BenchmarkPaired/fixture=small/pkg=clock÷raw-open-2 100 600 ns/op 500 den-ns/op 50 num-ns/op 0.25 x
`
	doc := renderDoc(t, &inputs{}, bench)
	for _, want := range []string{
		"| Seal ÷ raw AEAD | ≤ 1.3× | 1.20× | yes |",                                // not 2000/1000
		"| middleware over bare handler, read-only | ≤ 1,500 ns | 1,100 ns | yes |", // differences 1000, 1100, 1300
		"raw AEAD alone (no codec work at all) was 9.00× faster than securecookie gob to encode and 40.00× faster",
		// 9 / 1.125 and 40 / 1.25
		"`time.Now` alone took 0.12× of a raw seal and 0.25× of a raw open: no codec that does can be more than 8.00× " +
			"faster than gob to encode or 32.00× to decode here.",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("document:\n%s", doc)
	}
}

func TestRunRejectsEmptyInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("PASS\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(&inputs{}, empty, empty, "", filepath.Join(dir, "out.md"))
	if err == nil || !strings.Contains(err.Error(), "no benchmark lines") {
		t.Fatalf("run on an empty input: %v, want a no-benchmark-lines error", err)
	}
}

// TestRunScalingAndProfiles checks the sections fed by the root module:
// the speed-up table takes medians per case and collector setting, and a
// profile keeps its table without pprof's header.
func TestRunScalingAndProfiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bench := write("bench.txt", "BenchmarkEncode/fixture=small/pkg=raw-2 100 1000 ns/op\n")
	sizes := write("sizes.txt", "")
	in := inputs{
		scalingFile: write("scaling.txt", `goos: linux
BenchmarkScaling/small/read/gc=on-2 50 1100 ns/op 768.0 B/req 900 parallel-ns/op 1400 serial-ns/op 1.40 x-serial
BenchmarkScaling/small/read/gc=on-2 50 1100 ns/op 768.0 B/req 900 parallel-ns/op 1500 serial-ns/op 1.50 x-serial
BenchmarkScaling/small/read/gc=on-2 50 1100 ns/op 768.0 B/req 900 parallel-ns/op 1300 serial-ns/op 1.60 x-serial
BenchmarkScaling/small/read/gc=off-2 50 1100 ns/op 768.0 B/req 900 parallel-ns/op 1400 serial-ns/op 1.85 x-serial
BenchmarkScaling/small/control-allocs/gc=on-2 50 1100 ns/op 768.0 B/req 900 parallel-ns/op 1500 serial-ns/op 1.52 x-serial
PASS
`),
		profiles: []profile{{title: "Codec.Open", path: write("open.txt", `File: root.test
Build ID: 1234
Type: cpu
Showing nodes accounting for 1.95s, 77.69% of 2.51s total
      flat  flat%   sum%        cum   cum%
     0.04s  1.59%  1.59%      2.38s 94.82%  github.com/x/cookiesession.(*Codec).Open
`)}},
	}
	out := filepath.Join(dir, "BENCHMARKS.md")
	if err := run(&in, bench, sizes, "", out); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| read-only request through the middleware | 768 | 1,400 | 1.50× | 1.85× |",
		"| control: the read-only request's allocations around SHA-256, none of this package's code | 768 | 1,500 | 1.52× | – |",
		"| control: SHA-256 of 1 KiB, nothing allocated | – | – | – | – |",
		"read-only request does scaled 1.52× and the read-only request 1.50×",
		"<summary>Codec.Open</summary>\n\n```\nShowing nodes accounting for 1.95s",
		"(*Codec).Open\n```",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	if strings.Contains(string(doc), "Build ID") {
		t.Error("BENCHMARKS.md keeps pprof's header")
	}
	if t.Failed() {
		t.Logf("document:\n%s", doc)
	}
}

// TestParseScalingWithoutProcs reads lines from a GOMAXPROCS=1 run, which
// carry no -N suffix, though case names have hyphens of their own.
func TestParseScalingWithoutProcs(t *testing.T) {
	got, err := parseScaling(strings.NewReader(
		"BenchmarkScaling/small/control-sha256/gc=on 10 5 ns/op 1.00 x-serial\n" +
			"BenchmarkScaling/small/control-sha256/gc=off-16 10 5 ns/op 7.5 x-serial\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v := got["control-sha256/gc=on"]["x-serial"]; len(v) != 1 || v[0] != 1 {
		t.Errorf("control-sha256/gc=on: %v, want [1]", v)
	}
	if v := got["control-sha256/gc=off"]["x-serial"]; len(v) != 1 || v[0] != 7.5 {
		t.Errorf("control-sha256/gc=off: %v, want [7.5]", v)
	}
}

func TestParseScalingRejectsOtherNames(t *testing.T) {
	_, err := parseScaling(strings.NewReader("BenchmarkScaling/small/read-2 10 5 ns/op 1.5 x-serial\n"))
	if err == nil {
		t.Fatal("a scaling line without a collector setting was accepted")
	}
}

// TestRunMachineSpeed checks that the middleware's overheads are restated
// in units of the same run's raw open, and at the reference machine's
// speed.
func TestRunMachineSpeed(t *testing.T) {
	bench := `BenchmarkPaired/fixture=small/pkg=open÷raw-2 100 1300 ns/op 600 den-ns/op 780 num-ns/op 1.30 x
BenchmarkPaired/fixture=small/pkg=open÷raw-2 100 1300 ns/op 840 den-ns/op 1092 num-ns/op 1.30 x
BenchmarkPaired/fixture=small/pkg=read÷bare-2 100 2100 ns/op 300 den-ns/op 1740 num-ns/op 5.8 x
BenchmarkPaired/fixture=small/pkg=read÷bare-2 100 2100 ns/op 300 den-ns/op 1740 num-ns/op 5.8 x
BenchmarkPaired/fixture=small/pkg=write÷bare-2 100 2100 ns/op 300 den-ns/op 3180 num-ns/op 10.6 x
BenchmarkPaired/fixture=small/pkg=write÷bare-2 100 2100 ns/op 300 den-ns/op 3180 num-ns/op 10.6 x
`
	doc := renderDoc(t, &inputs{}, bench)
	// Raw open: the median of 600 and 840 is 720 ns. Overheads 1,440 and
	// 2,880 ns are 2.00 and 4.00 raw opens: 840 and 1,680 ns at 420 ns each.
	want := "the raw AEAD open of the small fixture took 720 ns here, against about 420 ns on the machine the " +
		"microsecond targets were set on. In units of that raw open, the middleware over the bare handler costs " +
		"2.00× read-only and 4.00× modifying: 840 ns and 1,680 ns at the reference machine's speed."
	if !strings.Contains(string(doc), want) {
		t.Errorf("BENCHMARKS.md lacks %q\ndocument:\n%s", want, doc)
	}
}

// renderDoc runs benchtable on bench, with no sizes, and returns the
// document it wrote.
func renderDoc(t *testing.T, in *inputs, bench string) []byte {
	t.Helper()
	dir := t.TempDir()
	benchPath := filepath.Join(dir, "bench.txt")
	sizesPath := filepath.Join(dir, "sizes.txt")
	for path, text := range map[string]string{benchPath: bench, sizesPath: ""} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "BENCHMARKS.md")
	if err := run(in, benchPath, sizesPath, "", out); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
