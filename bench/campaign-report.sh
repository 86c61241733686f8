#!/bin/bash
# The report of a fault-injection campaign from its output, also when it ran
# in parts: a campaign that stopped (a machine's session ended) is resumed
# with SEED=its seed FROM=the next round (bench/campaign.sh), and this sums
# the round lines of every part's output into one table, the same as
# campaign.sh prints at its end:
#
#   bench/campaign-report.sh OUT...     each the stdout of a bench/campaign.sh run
#
# A round is counted once (a round that appears in two outputs: the later
# one's line); a part's rounds must follow on from the previous part's.  Per
# fault: injections, recovery p50/p99/max, write and read EIO; in all: lost
# writes, wrong reads, host crashes ("a host process died" lines),
# driver-VM restarts (the generations each round went through), broken TCP
# streams, unexpected client errors (EIO outside poison/ioerr rounds, failed
# injections, rounds without recovery).  Last line:
#   N injections, L lost writes, W wrong reads, C host crashes
# Exit 0 iff none lost, wrong, crashed, broken or unexpected; 2 on bad input.
set -eu
[ $# -ge 1 ] || { echo "usage: bench/campaign-report.sh CAMPAIGN-OUTPUT..." >&2; exit 2; }
for f; do [ -r "$f" ] || { echo "campaign-report: cannot read $f" >&2; exit 2; }; done
awk '
function pct(list, p,    n, a, i, j, t, k) {
	n = split(list, a, " ")
	if (!n) return "-"
	for (i = 2; i <= n; i++)	# insertion sort (mawk has no asort)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	k = int((n * p + 99) / 100); if (k < 1) k = 1
	return a[k]
}
FNR == 1 { file++ }
/^campaign: [0-9]+ injections, seed / {
	x = $5; sub(/,$/, "", x); seed[x] = 1
	accel = $0; sub(/.*accelerator /, "", accel); sub(/,.*/, "", accel)
}
/^round [0-9]+\/[0-9]+ / {
	split($2, rn, "/"); r = rn[1] + 0
	if (r in kind) dup++
	kind[r] = $3
	rec[r] = ($5 == "ms") ? "" : $5
	line = $0
	sub(/.*fio: /, "", line)
	split(line, w, /[ ,]+/)		# L lost W wrong WE write EIO RE read EIO tcp X gen a -> b
	lost[r] = w[1]; wrong[r] = w[3]; we[r] = w[5]; re[r] = w[8]
	tcp[r] = $0 ~ / tcp ok / ? "ok" : "BROKEN"
	ga = $(NF - 2); gb = $NF
	gens[r] = (gb ~ /^[0-9]+$/ && ga ~ /^[0-9]+$/) ? gb - ga : 0
	next
}
/^round [0-9]+: .*a host process died/ { crashes++; next }
/^round [0-9]+: .*(inject .* failed|no recovery)/ { unexpected++; next }
END {
	for (r in kind) {
		k = kind[r]; n++
		cnt[k]++
		if (rec[r] != "") recs[k] = recs[k] " " rec[r]
		wes[k] += we[r]; res[k] += re[r]
		L += lost[r]; W += wrong[r]; restarts += gens[r]
		if (tcp[r] != "ok") broken++
		if (k != "poison" && k != "ioerr") unexpected += we[r] + re[r]
		if (lo == "" || r + 0 < lo) lo = r + 0
		if (r + 0 > hi) hi = r + 0
	}
	if (!n) { print "campaign-report: no round lines found" > "/dev/stderr"; exit 2 }
	s = ""; for (x in seed) s = s (s ? " " : "") x
	printf "campaign, %s, seed %s, rounds %d..%d%s, accelerator %s, %d driver-VM restarts\n", \
		file == 1 ? "1 part" : file " parts", s, lo, hi, (hi - lo + 1 == n) ? "" : " (with gaps: " (hi - lo + 1 - n) " missing)", accel, restarts
	printf "%-8s %6s %10s %10s %10s %12s %12s\n", "fault", "count", "rec p50", "rec p99", "rec max", "write EIO", "read EIO"
	split("kill panic hang oops poison ioerr link storm", order, " ")
	for (i = 1; i <= 8; i++) {
		k = order[i]
		if (!(k in cnt)) continue
		printf "%-8s %6d %10s %10s %10s %12d %12d\n", k, cnt[k], pct(recs[k], 50), pct(recs[k], 99), \
			pct(recs[k], 100), wes[k], res[k]
	}
	print "(recovery in ms: the fault until the first client request completed after it)"
	printf "client-visible errors: %d unexpected (EIO outside poison/ioerr rounds, failed injections, " \
		"rounds without recovery), %d TCP streams broken or corrupted\n", unexpected, broken
	printf "%d injections, %d lost writes, %d wrong reads, %d host crashes\n", n, L, W, crashes
	exit (L || W || crashes || unexpected || broken) ? 1 : 0
}' "$@"
