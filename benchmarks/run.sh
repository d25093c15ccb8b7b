#!/bin/sh
# Regenerates BENCHMARKS.md: benchmarks/run.sh >BENCHMARKS.md. Runs both modules' benchmarks COUNT times
# (default 10) for BENCHTIME (1s), keeps the output in benchmarks/out/, and prints benchstat's tables and the ratios.
set -eu
cd "$(dirname "$0")"
mkdir -p out
[ -x out/benchstat ] || GOBIN="$PWD/out" go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench="go test -run ^\$ -bench . -benchmem -count ${COUNT:-10} -benchtime ${BENCHTIME:-1s} ."
(cd .. && $bench) >out/root.txt
$bench >out/peers.txt
nogc="go test -run ^\$ -bench ^BenchmarkMiddleware\$/small/|^BenchmarkRawOpen\$/small -benchmem -count ${COUNT:-10} -benchtime 100000x ."
(cd .. && GOGC=off $nogc) >out/nogc.txt
go test -run '^TestCookieSizes$' -count 1 -v . >out/sizes.txt
for m in root peers; do out/benchstat -format csv out/$m.txt >out/$m.csv 2>/dev/null; done
# get MODULE UNIT NAME prints benchstat's median for benchmark NAME in UNIT.
get() { awk -F, -v u="$2" -v n="^$3(-[0-9]+)?\$" '$1 == "" {unit = $2} unit == u && $1 != "" && $1 ~ n {print $2}' out/$1.csv; }
x() { printf %.2f× "$(get root x-raw "VersusRaw/$1")"; }
allocs() { awk -v a="$(get root allocs/op "$1")" -v b="$(get root allocs/op "${2:-}")" 'BEGIN {printf "%.0f", a - b}'; }
peer() { awk -v a="$(get peers sec/op "$1/fixture=small/pkg=$2")" -v b="$(get peers sec/op "$1/fixture=small/pkg=cookiesession")" 'BEGIN {printf "%.1f×", a / b}'; }
size() { awk -v f="$1" '/small-fixture token/ {printf "%s%s", sep, $f; sep = " / "}' out/sizes.txt; }
rev=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- ':/*.go' || echo ', with uncommitted changes to Go files')
cat <<EOF
# Benchmarks

Written by \`benchmarks/run.sh >BENCHMARKS.md\` (COUNT=${COUNT:-10}, BENCHTIME=${BENCHTIME:-1s}) on commit $rev, with $(go version | cut -d' ' -f3-),
$(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2). Times depend on the machine and its load; quote the ratios.

| small fixture | cookiesession |
| --- | --- |
| Seal ÷ raw AEAD seal, clock read inside / caller's time (SealAt) | $(x seal) / $(x sealAt) |
| Open ÷ raw AEAD open, clock read inside / caller's time (OpenAt) | $(x open) / $(x openAt) |
| middleware over a bare handler, in raw AEAD opens: session untouched / read-only / modifying request | $(x untouched) / $(x read) / $(x modify) |
| the same requests on the Codec's public API, cut down to the steps no middleware can skip (\`byHand\`): read-only / modifying | $(x readByHand) / $(x modifyByHand) |
| allocations: Seal / Open / middleware over a bare handler, untouched / read-only / modifying | $(allocs Seal/small) / $(allocs Open/small) / $(allocs Middleware/small/untouched Middleware/small/bare) / $(allocs Middleware/small/read Middleware/small/bare) / $(allocs Middleware/small/modify Middleware/small/bare) |
| gorilla/securecookie (gob) time ÷ cookiesession's: encode / decode | $(peer Encode securecookie) / $(peer Decode securecookie) |
| gorilla/sessions CookieStore time ÷ cookiesession's per request: read-only / modifying | $(peer Read gorilla) / $(peer Write gorilla) |
| token characters; longest string value in one 4096-byte cookie: $(size 2) | $(size 5); $(size 12) |

Rows with "raw" are medians of x-raw below: \`BenchmarkVersusRaw\` times both sides in alternating blocks of one loop and reports
the median block pair's ratio, so the machine's drift cancels. Gorilla rows divide two sec/op medians, allocations are allocs/op
medians, and the last row is from the last command. The sec/op of \`BenchmarkMiddleware\`'s loops, which do little but
allocate, holds the collections of the test's small heap, one every few thousand requests; \`GOGC=off\` below shows the
same loops without them, close to x-raw.

\`\`\`
\$ $bench >benchmarks/out/root.txt; benchstat -filter '.fullname:/small|VersusRaw/' benchmarks/out/root.txt
$(out/benchstat -filter '.fullname:/small|VersusRaw/' out/root.txt)
\$ cd benchmarks; $bench >out/peers.txt; benchstat -filter /fixture:small out/peers.txt
$(out/benchstat -filter /fixture:small out/peers.txt)
\$ GOGC=off $nogc >benchmarks/out/nogc.txt; benchstat benchmarks/out/nogc.txt
$(out/benchstat out/nogc.txt)
\$ go test -run '^TestCookieSizes\$' -count 1 -v .
$(grep 'small-fixture token' out/sizes.txt)
\`\`\`
EOF
