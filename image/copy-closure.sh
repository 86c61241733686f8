# SPDX-License-Identifier: MIT
# copy_closure ROOT BIN...: each host binary BIN and its shared-library
# closure as ldd names it (the dynamic loader included), at their host
# paths under ROOT.  Sourced by image/build.sh (host tools in the client
# image) and bench/lib/bench-image.sh (fio, perf in bench overlays).
copy_closure() {
	local root=$1 bin f
	shift
	for bin in "$@"; do
		# One binary per ldd call: with several, ldd prints "BIN:" headers.
		for f in "$bin" $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
		done
	done
}
