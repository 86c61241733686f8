#!/bin/sh
# Runs inside the in-VM benchmark's driver VM (bench/block.sh puts it at
# /etc/ddvm/bench.sh; the image's /init starts it).  The kernel command line
# says what to run:
#   ddvm.bench=fio,DEV,SECONDS,SIZE_MB,NAME:rw:bs:qd,...
#   ddvm.bench=blkbench,DEV,SECONDS,NAME:rw:bs:qd,...
# Console protocol (read by bench/block.sh): blkbench prints its own
# "ddvm-bench: begin / result / done" lines; for fio, per job:
#   ddvm-bench: begin NAME      (fio starts)
#   ddvm-bench: end NAME        (fio finished)
#   ddvm-fio: ...               (fio's JSON report, line by line)
#   ddvm-bench: json NAME
# and finally "ddvm-bench: done".  "ddvm-bench: failed NAME: ..." on error.
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
		else
			/bin/blkbench "$@" 2>&1
		fi ;;
	esac
done
