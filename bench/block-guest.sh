#!/bin/sh
# Runs inside the in-VM benchmark's driver VM (bench/block.sh puts it at
# /etc/ddvm/bench.sh; the image's /init starts it).  The kernel command line
# says what to run:
#   ddvm.bench=fio,DEV,SECONDS,SIZE_MB,NAME:rw:bs:qd,...
#   ddvm.bench=blkbench,DEV,SECONDS,NAME:rw:bs:qd,...
#   ddvm.bench=perf,DEV,SECONDS,NAME:rw:bs:qd,...   (profile the guest kernel
#       while the host drives DEV's export: per job, once I/O starts)
# Console protocol (read by bench/block.sh): blkbench prints its own
# "ddvm-bench: begin / result / done" lines; for fio, per job:
#   ddvm-bench: begin NAME      (fio starts)
#   ddvm-bench: end NAME        (fio finished)
#   ddvm-fio: ...               (fio's JSON report, line by line)
#   ddvm-bench: json NAME
# For perf, per job: "ddvm-bench: begin NAME" (I/O seen, perf starts),
# "ddvm-bench: end NAME" (perf stopped), "ddvm-perf: ..." lines (the
# profile), "ddvm-bench: report NAME".
# And finally "ddvm-bench: done".  "ddvm-bench: failed NAME: ..." on error.
run_fio() {
	dev=$1 secs=$2 size=$3
	shift 3
	for spec in "$@"; do
		name=${spec%%:*} rest=${spec#*:}
		rw=${rest%%:*} rest=${rest#*:}
		bs=${rest%%:*} qd=${rest#*:}
		echo "ddvm-bench: begin $name"
		if ! /usr/bin/fio --name="$name" --ioengine=libaio --direct=1 --filename="$dev" \
			--rw="$rw" --bs="$bs" --iodepth="$qd" --time_based --runtime="$secs" \
			--size="${size}M" --randrepeat=0 --norandommap --output-format=json \
			--output=/tmp/fio.json >/tmp/fio.err 2>&1; then
			echo "ddvm-bench: failed $name: $(tr '\n' ' ' </tmp/fio.err)"
			return 1
		fi
		echo "ddvm-bench: end $name"
		sed 's/^/ddvm-fio: /' /tmp/fio.json
		echo "ddvm-bench: json $name"
	done
	echo "ddvm-bench: done"
}

# I/Os completed on DEV so far (reads + writes, /sys/block/X/stat).
ios() {
	set -- $(cat "/sys/block/${1#/dev/}/stat")
	echo $(($1 + $5))
}

run_perf() {
	dev=$1 secs=$2
	shift 2
	export HOME=/tmp	# perf's ~/.debug
	for spec in "$@"; do
		name=${spec%%:*}
		base=$(ios "$dev") n=0
		while [ "$(ios "$dev")" = "$base" ]; do	# the host starts the job
			n=$((n + 1))
			[ $n -lt 3000 ] || { echo "ddvm-bench: failed $name: no I/O in 300 s"; return 1; }
			sleep 0.1
		done
		echo "ddvm-bench: begin $name"
		if ! /usr/bin/perf record -q -a -e cpu-clock -F 997 -o /tmp/perf.data -- sleep "$secs" >/tmp/perf.err 2>&1; then
			echo "ddvm-bench: failed $name: $(tr '\n' ' ' </tmp/perf.err)"
			return 1
		fi
		echo "ddvm-bench: end $name"
		{
			echo "by context:"
			/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort comm 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -8
			echo "top symbols:"
			/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort sym 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -25
		} | sed 's/^/ddvm-perf: /'
		echo "ddvm-bench: report $name"
	done
	echo "ddvm-bench: done"
}

for arg in $(cat /proc/cmdline); do
	case $arg in
	ddvm.bench=*)
		set -- $(echo "${arg#ddvm.bench=}" | tr , " ")
		tool=$1
		shift
		n=0
		while [ ! -b "$1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
		if [ "$tool" = fio ]; then
			run_fio "$@" 2>&1
		elif [ "$tool" = perf ]; then
			run_perf "$@" 2>&1
		else
			/bin/blkbench "$@" 2>&1
		fi ;;
	esac
done
