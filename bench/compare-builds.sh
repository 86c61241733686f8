#!/bin/bash
# Old build versus this one, on the ddvm path only, alternating runs:
#   bench/compare-builds.sh OLD_TREE [ROUNDS]      (default 3 rounds)
# OLD_TREE is another checkout of ddvm (e.g. `git worktree add /tmp/old REV`);
# each round runs bench/block.sh (WAYS=ddvm) and bench/net.sh in both trees,
# old first in odd rounds and new first in even ones, so that drift on a
# shared machine falls on both sides.  Prints, per metric, each side's median
# and its spread (max / min over the rounds: the run-to-run noise) and the
# ratio new / old of the medians.  A change is within noise when the ratio
# lies inside the larger spread.
#   SECONDS_PER_JOB=6 (block), NET_MODEL=virtio-net (net), SKIP_NET=1, SKIP_BLOCK=1
set -eu
cd "$(dirname "$0")/.."

# report OLD NEW RESULTS: the table from a results file.
report() {
	echo
	echo "old: $1 ($(git -C "$1" log -1 --format=%h)), new: $2 ($(git -C "$2" log -1 --format=%h)), $(date +%F)"
	printf '%-34s %10s %7s %10s %7s %9s\n' metric old spread new spread new/old
	awk -F '\t' '
	function median(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function spread(list,   n, a, i, lo, hi) {
		n = split(list, a, " "); lo = hi = a[1] + 0
		for (i = 2; i <= n; i++) { if (a[i] + 0 < lo) lo = a[i] + 0; if (a[i] + 0 > hi) hi = a[i] + 0 }
		return lo > 0 ? hi / lo : 0
	}
	{ v[$1, $3] = v[$1, $3] " " $4; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
	END {
		for (i = 1; i <= n; i++) { m = order[i]
			if (!(("old", m) in v) || !(("new", m) in v)) continue
			o = median(v["old", m]); w = median(v["new", m])
			printf "%-34s %10.1f %7.2f %10.1f %7.2f %9.2f\n", m, o, spread(v["old", m]), w,
				spread(v["new", m]), (o > 0 ? w / o : 0) }
	}' "$3"
}
# bench/compare-builds.sh --report OLD NEW RESULTS.tsv: the table again.
if [ "${1:-}" = --report ]; then
	report "$2" "$3" "$4"
	exit 0
fi
NEW=$PWD
OLD=${1:?usage: bench/compare-builds.sh OLD_TREE [ROUNDS]}
ROUNDS=${2:-3}
SECS=${SECONDS_PER_JOB:-6}
OLD=$(cd "$OLD" && pwd)
[ -x "$OLD/bench/block.sh" ] && [ -x "$OLD/bench/net.sh" ] || { echo "$OLD is not a ddvm tree" >&2; exit 1; }
OUT=$(mktemp -d /tmp/ddvm-cmp.XXXXXX)
RES=$OUT/results.tsv	# side round metric value
: >"$RES"

# block SIDE TREE ROUND: the ddvm rows of bench/block.sh -> RES
block() {
	local log=$OUT/block-$1-$3.log
	(cd "$2" && WAYS=ddvm NO_PERF=1 GUEST_PROFILE="" bench/block.sh "$SECS") >"$log" 2>&1 ||
		{ echo "block run failed ($1, round $3): see $log" >&2; return 1; }
	awk -v s="$1" -v r="$3" '$2 == "ddvm" && NF == 7 && $3 ~ /^[0-9.]+$/ {
		printf "%s\t%s\tblock %s MB/s\t%s\n", s, r, $1, $3
		printf "%s\t%s\tblock %s p50 us\t%s\n", s, r, $1, $5 }' "$log" >>"$RES"
}

# net SIDE TREE ROUND: the ddvm column of bench/net.sh -> RES
net() {
	local log=$OUT/net-$1-$3.log
	(cd "$2" && bench/net.sh) >"$log" 2>&1 || { echo "net run failed ($1, round $3): see $log" >&2; return 1; }
	awk -v s="$1" -v r="$3" -F '  +' '
		/^TCP host->remote Mbit\/s/ || /^TCP remote->host Mbit\/s/ || /^UDP 64 B received\/s/ ||
		/^UDP echo RTT p50 us/ { gsub(/^ +| +$/, "", $2); printf "%s\t%s\tnet %s\t%s\n", s, r, $1, $2 }' \
		"$log" >>"$RES"
}

for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
	for side in $order; do
		tree=$NEW
		[ "$side" = old ] && tree=$OLD
		echo "round $r: $side ($tree)"
		[ -n "${SKIP_BLOCK:-}" ] || block "$side" "$tree" "$r"
		[ -n "${SKIP_NET:-}" ] || net "$side" "$tree" "$r"
	done
done

report "$OLD" "$NEW" "$RES"
echo "($ROUNDS rounds; raw results and logs: $OUT)"
