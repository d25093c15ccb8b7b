// Command benchtable turns the output of the peer benchmarks (go test
// -bench with -count and -benchmem) and of TestCookieSizes into
// BENCHMARKS.md. run.sh drives it; see there for the inputs.
//
// Every figure is the median of the runs, the same centre benchstat uses;
// benchstat's own table, with its confidence intervals, is appended.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
)

// id names one benchmark: Benchmark<op>/fixture=<fixture>/pkg=<pkg>.
type id struct{ op, fixture, pkg string }

// samples holds every measured value of one benchmark, by unit.
type samples map[string][]float64

// results are the parsed benchmark lines plus the header lines go test
// prints (goos, goarch, pkg, cpu).
type results struct {
	bench  map[id]samples
	header map[string]string
}

// size is one package's line from TestCookieSizes.
type size struct {
	smallToken, maxValue, maxValuesBytes int
}

type inputs struct {
	results
	sizes     map[string]size
	benchstat string
	machine   machine
	command   string

	scalingFile string             // the root module's BenchmarkScaling output, if run
	scaling     map[string]samples // by "<case>/gc=<on|off>"
	profiles    []profile
}

// profile is a CPU profile's pprof -top text, under a title.
type profile struct{ title, path, text string }

type machine struct {
	goVersion, nproc, cpu, date, load, revision string
}

func main() {
	benchFile := flag.String("bench", "", "go test -bench output")
	sizeFile := flag.String("sizes", "", "go test -v -run TestCookieSizes output")
	statFile := flag.String("benchstat", "", "benchstat output (optional)")
	out := flag.String("o", "BENCHMARKS.md", "file to write")
	var in inputs
	flag.StringVar(&in.command, "command", "", "the command that produced -bench")
	flag.StringVar(&in.machine.goVersion, "go", "", "go version output")
	flag.StringVar(&in.machine.nproc, "nproc", "", "nproc output")
	flag.StringVar(&in.machine.date, "date", "", "when the run started")
	flag.StringVar(&in.machine.load, "load", "", "load average when the run started")
	flag.StringVar(&in.machine.revision, "rev", "", "the cookiesession revision measured")
	flag.StringVar(&in.scalingFile, "scaling", "", "the root module's BenchmarkScaling output (optional)")
	flag.Func("profile", "title=file: a pprof -top listing to include (repeatable)", func(v string) error {
		title, path, ok := strings.Cut(v, "=")
		if !ok || title == "" || path == "" {
			return fmt.Errorf("want title=file, got %q", v)
		}
		in.profiles = append(in.profiles, profile{title: title, path: path})
		return nil
	})
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchtable: ")
	if err := run(&in, *benchFile, *sizeFile, *statFile, *out); err != nil {
		log.Fatal(err)
	}
}

func run(in *inputs, benchFile, sizeFile, statFile, out string) error {
	var err error
	if in.results, err = readWith(benchFile, parseBench); err != nil {
		return err
	}
	if len(in.bench) == 0 {
		return fmt.Errorf("%s holds no benchmark lines", benchFile)
	}
	if in.sizes, err = readWith(sizeFile, parseSizes); err != nil {
		return err
	}
	if statFile != "" {
		stat, err := os.ReadFile(statFile)
		if err != nil {
			return err
		}
		in.benchstat = string(stat)
	}
	if in.scalingFile != "" {
		if in.scaling, err = readWith(in.scalingFile, parseScaling); err != nil {
			return err
		}
	}
	for i := range in.profiles {
		text, err := os.ReadFile(in.profiles[i].path)
		if err != nil {
			return err
		}
		in.profiles[i].text = pprofTable(string(text))
	}
	in.machine.cpu = cpuModel(in.header["cpu"])
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	render(w, in)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readWith[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f)
}

// parseBench reads go test -bench output. Lines it does not recognise
// (PASS, ok, log output) are skipped.
func parseBench(r io.Reader) (results, error) {
	res := results{bench: map[id]samples{}, header: map[string]string{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.Contains(k, " ") {
			res.header[k] = strings.TrimSpace(v)
			continue
		}
		name, s, ok := parseBenchLine(line)
		if !ok {
			continue
		}
		if res.bench[name] == nil {
			res.bench[name] = samples{}
		}
		for unit, v := range s {
			res.bench[name][unit] = append(res.bench[name][unit], v)
		}
	}
	return res, sc.Err()
}

// parseBenchLine splits "BenchmarkOp/fixture=f/pkg=p-2 N v unit v unit...".
func parseBenchLine(line string) (id, map[string]float64, bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || len(fields)%2 != 0 || !strings.HasPrefix(fields[0], "Benchmark") {
		return id{}, nil, false
	}
	parts := strings.Split(strings.TrimPrefix(trimProcs(fields[0]), "Benchmark"), "/")
	b := id{op: parts[0]}
	for _, p := range parts[1:] {
		switch k, v, _ := strings.Cut(p, "="); k {
		case "fixture":
			b.fixture = v
		case "pkg":
			b.pkg = v
		}
	}
	values := map[string]float64{}
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return id{}, nil, false
		}
		values[fields[i+1]] = v
	}
	return b, values, true
}

// trimProcs drops the -N suffix go test adds to a benchmark's name when
// GOMAXPROCS is above 1; a name without one (control-sha256 at
// GOMAXPROCS 1) is left whole.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// parseScaling reads the root module's BenchmarkScaling lines, named
// Scaling/<fixture>/<case>/gc=<on|off>, keyed by "<case>/gc=<on|off>".
func parseScaling(r io.Reader) (map[string]samples, error) {
	res := map[string]samples{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "BenchmarkScaling/") {
			continue
		}
		_, values, ok := parseBenchLine(line)
		if !ok {
			continue
		}
		name := trimProcs(strings.Fields(line)[0])
		parts := strings.Split(name, "/")
		if len(parts) != 4 {
			return nil, fmt.Errorf("unexpected scaling benchmark %q", name)
		}
		key := parts[2] + "/" + parts[3]
		if res[key] == nil {
			res[key] = samples{}
		}
		for unit, v := range values {
			res[key][unit] = append(res[key][unit], v)
		}
	}
	return res, sc.Err()
}

// pprofTable keeps the table of a pprof -top listing, from its "Showing
// nodes" line on, and drops the header (file, build id, date).
func pprofTable(text string) string {
	if i := strings.Index(text, "Showing nodes"); i >= 0 {
		text = text[i:]
	}
	return strings.TrimRight(text, "\n")
}

// parseSizes reads the "SIZE pkg=... key=value" lines TestCookieSizes logs.
func parseSizes(r io.Reader) (map[string]size, error) {
	sizes := map[string]size{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), "SIZE ")
		if !ok {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		var s size
		var errs [3]error
		s.smallToken, errs[0] = strconv.Atoi(kv["small_token"])
		s.maxValue, errs[1] = strconv.Atoi(kv["max_value"])
		s.maxValuesBytes, errs[2] = strconv.Atoi(kv["max_values_bytes"])
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("bad SIZE line %q: %w", sc.Text(), err)
			}
		}
		sizes[kv["pkg"]] = s
	}
	return sizes, sc.Err()
}

// cpuModel prefers /proc/cpuinfo's model name, which names the exact part,
// over the shorter cpu line go test prints.
func cpuModel(fallback string) string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return fallback
}

// median returns the middle value of b's samples in unit.
func (r results) median(b id, unit string) (float64, bool) {
	return medianOf(r.bench[b][unit])
}

// medianOf returns the middle value of vs, and false if there is none.
func medianOf(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[len(s)/2], true
}

// runs returns how many times each benchmark ran (the -count).
func (r results) runs() int {
	n := 0
	for _, s := range r.bench {
		n = max(n, len(s["ns/op"]))
	}
	return n
}

// fixtures lists the fixtures in the order the benchmarks ran them.
func (r results) fixtures() []string {
	seen := map[string]bool{}
	var order []string
	for _, b := range r.order() {
		if !seen[b.fixture] {
			seen[b.fixture] = true
			order = append(order, b.fixture)
		}
	}
	return order
}

// order sorts benchmark ids by fixture size, then name, for stable output.
func (r results) order() []id {
	rank := map[string]int{"small": 0, "1KB": 1, "3KB": 2}
	ids := make([]id, 0, len(r.bench))
	for b := range r.bench {
		ids = append(ids, b)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if rank[a.fixture] != rank[b.fixture] {
			return rank[a.fixture] < rank[b.fixture]
		}
		return a.op+a.pkg < b.op+b.pkg
	})
	return ids
}
