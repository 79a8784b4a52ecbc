#!/bin/sh
# bench/lib/report.sh OUT — turn a bench run's raw results into
#   OUT/results.json      [{"name","unit","hearth","baseline","baseline_name","ratio"}]
#                         (numbers are JSON numbers, missing ones null)
#   OUT/latency_cdf_*.png latency CDFs from OUT/data/lat_<group>_<target>.txt
#   OUT/throughput.png    requests/s vs connections from OUT/data/tput_<target>.dat
#   OUT/cold_start.png    cold-start bars from OUT/data/cold.dat
#   OUT/summary.md        the headline rows as a Markdown table
# and print the skipped sections. Plots need gnuplot; without it they are
# skipped with a note.
set -eu
OUT=${1:-bench/out}
DATA=$OUT/data

jq -R -s '
	def num: if . == "" then null else (tonumber? // .) end;
	split("\n") | map(select(length > 0) | split("\t"))
	| map(select(.[1] != "skipped"))
	| map({name: .[0], unit: .[1], hearth: (.[2] | num), baseline: (.[3] | num),
	       baseline_name: (if .[4] == "" then null else .[4] end), ratio: (.[5] // "" | num)})
' "$OUT/results.tsv" >"$OUT/results.json"
printf '  %s: %s results\n' "$OUT/results.json" "$(jq length "$OUT/results.json")"

# The headline rows, as a Markdown table for the README's results section.
{
	printf '| metric | hearth | baseline | ratio |\n|---|---|---|---|\n'
	jq -r '.[] | select(.name | test("overhead p(50|99)$|^tput c(1|16|64) (req/s vs nginx|per-round ratio)|prewarm hit p50|create\\+init vs runc|^agent resume p99 vs|^invoke after suspend p50|RSS .* 8 thr|per s$|^idle CPU|cold-start fraction|^mixed latency p99|containers per GB|^http 1 thr c32 req/s$"))
		| "| \(.name) (\(.unit)) | \(.hearth // "-") | \(.baseline // "-") \(.baseline_name // "") | \(.ratio // "-") |"' "$OUT/results.json"
} >"$OUT/summary.md"
printf '  %s: the headline rows (Markdown)\n' "$OUT/summary.md"

if [ -s "$OUT/skipped.tsv" ]; then
	printf '  skipped:\n'
	awk -F '\t' '{printf "    %-40s %s\n", $1, $3}' "$OUT/skipped.tsv"
fi

if ! command -v gnuplot >/dev/null 2>&1; then
	printf '  plots skipped: gnuplot is not installed (deploy/deps.sh bench)\n'
	exit 0
fi

# Latency CDFs: one plot per group (e.g. nodejs, native), one line per target.
for g in $(ls "$DATA" 2>/dev/null | sed -n 's/^lat_\([^_]*\)_.*\.txt$/\1/p' | sort -u); do
	plots=""
	for f in "$DATA"/lat_"$g"_*.txt; do
		t=$(basename "$f" .txt)
		t=${t#lat_"$g"_}
		sort -n "$f" | awk '{v[NR]=$1} END {for (i = 1; i <= NR; i++) if (i == NR || i % int(NR/500 + 1) == 0) print v[i], i / NR}' >"$DATA/cdf_${g}_$t.dat"
		plots="$plots${plots:+, }'$DATA/cdf_${g}_$t.dat' using 1:2 with lines lw 2 title '$t'"
	done
	gnuplot <<GP
set terminal png size 900,560
set output '$OUT/latency_cdf_$g.png'
set title 'warm invoke latency, $g (sequential, one connection)'
set xlabel 'latency (us, log scale)'
set ylabel 'fraction of requests'
set logscale x
set key bottom right
set grid
plot $plots
GP
	printf '  %s\n' "$OUT/latency_cdf_$g.png"
done

# Throughput vs connections.
if ls "$DATA"/tput_*.dat >/dev/null 2>&1; then
	plots=""
	for f in "$DATA"/tput_*.dat; do
		t=$(basename "$f" .dat)
		plots="$plots${plots:+, }'$f' using 1:2 with linespoints lw 2 title '${t#tput_}'"
	done
	gnuplot <<GP
set terminal png size 900,560
set output '$OUT/throughput.png'
set title 'throughput vs connections (noop nodejs action)'
set xlabel 'connections'
set ylabel 'requests/s'
set logscale x 2
set key top left
set grid
plot $plots
GP
	printf '  %s\n' "$OUT/throughput.png"
fi

# Cold starts: label p50 p95 (ms), clustered bars.
if [ -s "$DATA/cold.dat" ]; then
	gnuplot <<GP
set terminal png size 1000,560
set output '$OUT/cold_start.png'
set title 'cold start: first invoke of a new action, and its parts (ms)'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'ms'
set xtics rotate by -30
set grid y
set key top left
plot '$DATA/cold.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p95'
GP
	printf '  %s\n' "$OUT/cold_start.png"
fi
