#!/bin/bash
# Foundation benchmark: time from `ddvm up` to ready, doorbell round-trip
# latency, and host CPU / RSS of one idle driver VM (from /proc of its QEMU).
#   bench/foundation.sh [BOOTS] [IDLE_SECONDS]     (defaults 5 and 60)
# Prints a table and a Markdown row set to paste into docs/benchmarks.md.
set -eu
cd "$(dirname "$0")/.."
BOOTS=${1:-5}
IDLE=${2:-60}
DDVM=$PWD/build/bin/ddvm
export DDVM_RUNDIR=$(mktemp -d /tmp/ddvm-bench.XXXXXX)
trap '"$DDVM" down >/dev/null 2>&1 || true; rm -rf "$DDVM_RUNDIR"' EXIT
conf=$DDVM_RUNDIR/demo.conf
sed "s|\"\\.\\./build/demo/nvme.img\"|\"$DDVM_RUNDIR/nvme.img\"|" examples/demo.conf >"$conf"
"$DDVM" image build >/dev/null

now_ms() { date +%s%3N; }
# CPU nanoseconds of all threads of the given processes (schedstat, exact).
cpu_ns() { local p; for p in "$@"; do cat /proc/"$p"/task/*/schedstat; done | awk '{s += $1} END {printf "%.0f", s}'; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

times=()
for i in $(seq 1 "$BOOTS"); do
	t0=$(now_ms)
	"$DDVM" up -d "$conf" >/dev/null
	t1=$(now_ms)
	times+=($((t1 - t0)))
	[ "$i" -lt "$BOOTS" ] && "$DDVM" down >/dev/null
done
accel=$("$DDVM" status --json | jq -r '.vms[0].accel')
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

ping=$("$DDVM" ping demo -n 2000 --json)
st=$("$DDVM" status --json)
pid=$(echo "$st" | jq -r '.vms[0].pid')
fe=$(echo "$st" | jq -r '[.vms[0].exports[]?.frontend_pid | select(. != null and . > 0)] | join(" ")')
# Let the guest settle after boot and the ping burst, then measure idle.
c0=$(cpu_ns "$pid"); f0=$(cpu_ns $fe); t0=$(now_ms)
sleep "$IDLE"   # the measurement window itself, not a wait for an event
c1=$(cpu_ns "$pid"); f1=$(cpu_ns $fe); t1=$(now_ms)
rss=$(rss_kib "$pid")
pct() { awk -v ns="$1" -v ms=$((t1 - t0)) 'BEGIN {printf "%.3f", 100 * ns / 1e6 / ms}'; }
cpu_pct=$(pct $((c1 - c0)))
fe_pct=$(pct $((f1 - f0)))

echo "accelerator:          $accel"
echo "up -> ready (ms):     median $median   all: $sorted"
echo "doorbell round trip:  $(echo "$ping" | jq -r '"p50 \(.p50_us) us  p99 \(.p99_us) us  min \(.min_us) us  max \(.max_us) us  (n=\(.count))"')"
echo "idle QEMU over ${IDLE}s: CPU ${cpu_pct}% of one core, RSS $((rss / 1024)) MiB"
echo "idle front-ends (nbdkit, ddvm-tap: ${fe:-none}): CPU ${fe_pct}% of one core"
echo
echo "| $(date +%F) | $accel | $median ms | $(echo "$ping" | jq -r '"\(.p50_us) / \(.p99_us) us"') | ${cpu_pct} % | $((rss / 1024)) MiB |"
