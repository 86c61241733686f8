# Shared by the client-VM benchmarks (bench/client-*.sh), sourced after
# tests/lib/client_vm.sh.
#
# client_bench_extra DIR TOOL MODULE: DIR becomes an extra root for a client
# VM's initramfs (client_initrd NAME SCRIPT DIR): TOOL with its libraries at
# their host paths, and MODULE's closure from the driver image under
# /bench/mods, numbered in load order (the client image has no device
# drivers of its own; the native way insmods these).
client_bench_extra() {
	local dir=$1 tool=$2 mod=$3 rel i=0
	mkdir -p "$dir/bench/mods"
	copy_closure "$dir" "$(command -v "$tool")"
	rel=$(sed -n 's/^release = "\(.*\)";/\1/p' "$TOP/build/image/image.conf")
	modprobe -d "$TOP/build/image/initramfs.root" -S "$rel" --show-depends "$mod" |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
			cp "$ko" "$dir/bench/mods/$(printf %02d $i)-$(basename "$ko")"
			i=$((i + 1))
		done
}

# ticks PID...: their CPU time so far (utime + stime, clock ticks).
ticks() {
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo $t
}
