#!/bin/bash
# The man pages ddvm(1), ddvm.conf(5) and nbdkit-ddvm-plugin(1) build with
# `make man` (pod2man, errors fatal), their POD is clean (podchecker) and
# they render with man(1) without a warning; and they are complete: every
# command of `ddvm --help` and every environment variable it names is in
# ddvm(1), every config key the loader accepts (each *_keys[] array in
# host/config*.c) is an item of ddvm.conf(5), every plugin parameter
# (frontends/nbdkit-ddvm-plugin.c) an item of nbdkit-ddvm-plugin(1).
# `make install` puts them in MANDIR (checked by test-install.sh).  No VM.
. "$(dirname "$0")/../lib/functions.sh"
requires pod2man podchecker man perl make
new_rundir
d=$DDVM_RUNDIR
cd "$TOP"

make --no-print-directory MAN_DIR="$d/man" man >"$d/make.log" 2>&1 || fail "make man failed: $(cat "$d/make.log")"
for p in ddvm.1 ddvm.conf.5 nbdkit-ddvm-plugin.1; do
	[ -s "$d/man/$p" ] || fail "make man did not build $p"
done
for pod in docs/man/ddvm.1.pod docs/man/ddvm.conf.5.pod frontends/nbdkit-ddvm-plugin.pod; do
	podchecker "$pod" >"$d/pc.out" 2>&1 || fail "podchecker $pod: $(cat "$d/pc.out")"
	! grep -q WARNING "$d/pc.out" || fail "podchecker $pod: $(cat "$d/pc.out")"
done
# render: text for the checks below; groff's warnings are failures
for p in ddvm.1 ddvm.conf.5 nbdkit-ddvm-plugin.1; do
	MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$d/man/$p" 2>"$d/$p.err" | col -b >"$d/$p.txt"
	[ ! -s "$d/$p.err" ] || fail "man -l $p warns: $(cat "$d/$p.err")"
	grep -q "^NAME" "$d/$p.txt" || fail "$p has no NAME section"
	grep -q "^SEE ALSO" "$d/$p.txt" || fail "$p has no SEE ALSO section"
done
grep -q "ddvm - run unmodified Linux device drivers" "$d/ddvm.1.txt" || fail "ddvm(1) NAME line"
grep -q "^DDVM.CONF(5)" "$d/ddvm.conf.5.txt" || fail "ddvm.conf(5) header"

# Every command of the usage (and the usage names every command main() runs).
"$DDVM_BIN" --help >"$d/usage.txt"
cmds=$(sed -n '/^commands:/,/^$/p' "$d/usage.txt" | grep -E '^  [a-z]' | awk '{ print $1 }' | sort -u)
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || fail "too few commands parsed from the usage: $cmds"
dispatched=$(grep -oE 'strcmp\(cmd, "[a-z-]+"\)' host/main.c | grep -oE '"[a-z-]+"' | tr -d '"' | sort -u)
for c in $dispatched; do
	echo "$cmds" | grep -qx "$c" || fail "command '$c' is run by main() but not in the usage"
done
for c in $cmds; do
	grep -qE "^=item B<$c[ >]" docs/man/ddvm.1.pod || fail "command '$c' has no =item in ddvm.1.pod"
	grep -qE "^       $c( |$)" "$d/ddvm.1.txt" || fail "command '$c' is not an item of the rendered ddvm(1)"
	"$DDVM_BIN" help "$c" >/dev/null || fail "ddvm help $c fails"
done
note "commands: $(echo $cmds)"
# Options the commands take, and the environment.
for o in --rundir --detach --bind --quiet --json --timeout --count --virtio --client --version; do
	grep -q -- "$o" "$d/ddvm.1.txt" || fail "option $o is not in ddvm(1)"
done
envs=$(grep -oE 'DDVM_[A-Z_]+' "$d/usage.txt" | sort -u)
for e in $envs DDVM_RUNDIR NOTIFY_SOCKET; do
	grep -qE "^=item B<([A-Z_]+>, B<)?$e>" docs/man/ddvm.1.pod || fail "environment variable $e is not an item of ddvm(1)"
done
note "environment: $(echo $envs)"

# Every config key the loader accepts.
keys=$(perl -0ne 'while (/_keys\[\]\s*=\s*\{(.*?)\}/sg) { my $l = $1; print "$1\n" while $l =~ /"([^"]+)"/g }' \
	host/config*.c | sort -u)
narrays=$(cat host/config*.c | grep -c '_keys\[\] = ')
[ "$narrays" -ge 8 ] || fail "found only $narrays *_keys[] arrays in host/config*.c"
for k in $keys; do
	grep -qE "^=item B<$k>" docs/man/ddvm.conf.5.pod || fail "config key '$k' is not an item of ddvm.conf.5.pod"
	grep -qE "^       $k( |$)" "$d/ddvm.conf.5.txt" || fail "config key '$k' is not an item of the rendered ddvm.conf(5)"
done
note "$narrays key arrays, $(echo "$keys" | wc -l) keys: $(echo $keys)"
# Every device type.
types=$(perl -0ne 'print "$1\n" while /cfg_type_names\[DEV_NTYPES\]\s*=\s*\{(.*?)\}/sg' host/config.c |
	grep -oE '"[a-z0-9-]+"' | tr -d '"')
[ "$(echo $types | wc -w)" -ge 8 ] || fail "device types not found in host/config.c: $types"
for t in $types; do
	grep -q "\"$t\"" docs/man/ddvm.conf.5.pod || fail "device type '$t' is not in ddvm.conf(5)"
done

# Every plugin parameter.
params=$(grep -oE 'strcmp\(key, "[a-z_]+"\)' frontends/nbdkit-ddvm-plugin.c | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
[ -n "$params" ] || fail "no plugin parameters found"
for k in $params; do
	grep -qE "^=item B<$k=>" frontends/nbdkit-ddvm-plugin.pod || fail "plugin parameter '$k' is not in nbdkit-ddvm-plugin(1)"
done
grep -q "nbdkit -U NBD.sock ddvm socket=" "$d/nbdkit-ddvm-plugin.1.txt" || fail "the plugin page does not show 'nbdkit ddvm' by name"
note "plugin parameters: $(echo $params)"
echo ok
