#!/bin/sh
# Runs the peer benchmarks and the cookie-size test, compares runs with
# benchstat, and regenerates ../BENCHMARKS.md.
#
#   COUNT      runs per benchmark (default 10, what benchstat needs for
#              tight intervals)
#   BENCH      -bench pattern (default: all)
#   BENCHTIME  -benchtime (default: go test's 1s)
#   RAW        if set, a file to keep the raw go test output in
#
# The COUNT runs are made as COUNT rounds over the whole suite (-count 1
# each) rather than one -count COUNT pass: a burst of other work on the
# machine then hits every package a little instead of all samples of one,
# which keeps the ratios honest. One binary, built once, runs every round.
set -eu

cd "$(dirname "$0")"
COUNT=${COUNT:-10}
BENCH=${BENCH:-.}
BENCHTIME=${BENCHTIME:-1s}

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
benchstat="$gobin/benchstat"
if [ ! -x "$benchstat" ]; then
	echo "installing benchstat into $gobin" >&2
	GOBIN="$gobin" go install golang.org/x/perf/cmd/benchstat@latest
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

date=$(date -u '+%Y-%m-%d %H:%M UTC')
# Other work on the machine skews every figure, the parallel ones most.
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# The benchmarks build against the working tree (replace => ../), so name
# the commit and say whether the root's Go files had local changes.
rev=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C .. status --porcelain -- '*.go' ':!benchmarks' 2>/dev/null)" ]; then
	rev="$rev with uncommitted changes"
fi
flags="-test.run '^\$' -test.bench '$BENCH' -test.benchmem -test.benchtime $BENCHTIME -test.count 1 -test.timeout 0"
scaling="-test.run '^\$' -test.bench '^BenchmarkScaling\$' -test.count 1 -test.timeout 0"
cmd="go test -c -o peers.test . && (cd .. && go test -c -o benchmarks/root.test .) && for round in \$(seq $COUNT); do ./peers.test $flags; ./root.test $scaling; done"
echo "$cmd" >&2

go test -c -o "$tmp/peers.test" .
# The root module's BenchmarkScaling (the speed-up beside its controls)
# runs in the same rounds; its profiles show where Open's and a read-only
# request's time goes.
(cd .. && go test -c -o "$tmp/root.test" .)
# Each round's output goes to a file first, so that a failing benchmark
# stops the script (sh has no pipefail to catch it inside a pipe).
for round in $(seq "$COUNT"); do
	echo "round $round of $COUNT" >&2
	"$tmp/peers.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime "$BENCHTIME" \
		-test.count 1 -test.timeout 0 >"$tmp/round.txt"
	tee -a "$tmp/peers.txt" <"$tmp/round.txt"
	"$tmp/root.test" -test.run '^$' -test.bench '^BenchmarkScaling$' -test.count 1 -test.timeout 0 >"$tmp/round.txt"
	tee -a "$tmp/scaling.txt" <"$tmp/round.txt"
done
profile() { # name, benchmark pattern
	"$tmp/root.test" -test.run '^$' -test.bench "$2" -test.benchtime 3s -test.timeout 0 \
		-test.cpuprofile "$tmp/$1.prof" >/dev/null
	if ! go tool pprof -top -cum -nodecount 30 "$tmp/root.test" "$tmp/$1.prof" >"$tmp/$1.top" 2>"$tmp/pprof.err"; then
		cat "$tmp/pprof.err" >&2
		exit 1
	fi
}
profile open '^BenchmarkOpen$/^small$'
profile read '^BenchmarkMiddleware$/^small$/^read$'
go test -count 1 -v -run '^TestCookieSizes$' . >"$tmp/sizes.txt"
# benchstat labels its column with the file name, so give it a plain one.
(cd "$tmp" && "$benchstat" peers.txt >benchstat.txt)
[ -z "${RAW:-}" ] || cp "$tmp/peers.txt" "$RAW"

go run ./cmd/benchtable \
	-bench "$tmp/peers.txt" -sizes "$tmp/sizes.txt" -benchstat "$tmp/benchstat.txt" -scaling "$tmp/scaling.txt" \
	-profile "Codec.Open, small fixture (BenchmarkOpen/small)=$tmp/open.top" \
	-profile "A read-only request through the middleware (BenchmarkMiddleware/small/read)=$tmp/read.top" \
	-command "$cmd" -go "$(go version)" -nproc "$(nproc)" -date "$date" -load "$load" -rev "$rev" \
	-o ../BENCHMARKS.md
echo "wrote $(cd .. && pwd)/BENCHMARKS.md" >&2
