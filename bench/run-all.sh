#!/bin/bash
# Run every benchmark in bench/ (long: not part of `make test`).
set -eu
cd "$(dirname "$0")"
for b in foundation.sh block.sh net.sh recovery.sh; do
	echo "== bench/$b"
	./"$b"
done
