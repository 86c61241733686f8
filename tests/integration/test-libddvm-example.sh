#!/bin/bash
# docs/libddvm.md's complete example block client (examples/libddvm/
# blk_example.c) works: against the fake driver VM it writes a block, flushes,
# reads it back, and the backing file holds the data.  The example in the
# document is the file, byte for byte.
source "$(dirname "$0")/../lib/functions.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires truncate cmp
nbd_build
nbd_tmpdir
EX=$TOP/build/examples/blk_example
[ -x "$EX" ] || fail "build first: make all (no $EX)"

# The document shows the file itself.
awk '/^```c blk_example.c$/ { on = 1; next } on && /^```$/ { exit } on' "$TOP/docs/libddvm.md" \
	>"$T/doc.c"
cmp -s "$T/doc.c" "$TOP/examples/libddvm/blk_example.c" ||
	fail "docs/libddvm.md's example differs from examples/libddvm/blk_example.c"

fake_start 1M
out=$(timeout 60 "$EX" "$T/iv.sock" 2>&1) || fail "the example failed: $out"
echo "$out" | sed 's/^/    example| /'
grep -q "^disk: 1048576 bytes, 512-byte blocks$" <<<"$out" || fail "the example did not describe the disk"
cmp -s <(head -c 4096 "$T/disk.img") <(head -c 4096 /dev/zero | tr '\0' d) ||
	fail "the backing file does not hold what the example wrote"
# Bad input: not a channel at all.
if out=$(timeout 20 "$EX" "$T/nothing.sock" 2>&1); then
	fail "the example succeeded without a channel"
fi
grep -q "nothing.sock" <<<"$out" || fail "no clear error for a missing channel: $out"
echo "PASS: $TEST_NAME"
