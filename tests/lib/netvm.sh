# Helpers for network tests and benchmarks through a REAL driver VM (sourced
# after functions.sh, or by bench/net.sh).  Topology, all in namespaces made
# here, link-local addresses only:
#
#   netns $NV_NSC: $NV_FE (ddvm-tap's TAP)  $NV_IPC/16  fe80::$NV_NET:1
#       | ddvm-tap -> channel -> driver VM (ddvm_chan) -> emulated NIC
#   netns $NV_NSR: $NV_WIRE (QEMU's tap backend, the NIC's wire)  $NV_IPR/16  fe80::$NV_NET:2
#
#   netvm_requires TOOL...   root, python3 ($NV_PY) and the tools, or fail
#   netvm_init NET           names for this process; NET (1..254) picks 169.254.NET.x
#   netvm_conf MODEL [VMOPTS] [DEVOPTS]   config for one driver VM "nv" with one NIC
#                            (plus $NV_CONF_EXTRA, top-level settings, e.g. clients)
#   netvm_up MODEL [VMOPTS] [DEVOPTS]     wire tap, ddvm up -d, move both ends, addresses
#   netvm_start CONF WHAT    the same with a config of the test's own, the wire end only
#   netvm_down               ddvm down, remove namespaces and taps (also in cleanup)
#   inC / inR CMD...         run CMD in the client / remote namespace
#   nv_export JQ             jq on the VM's first export (status --json)
#   nv_carrier_is 0|1        the client TAP's carrier
#   ping_recv CMD...         "received" count of a ping run (0 if none)
# Requires: DDVM_RUNDIR set (new_rundir), ddvm(), fail(), wait_for() (functions.sh).

netvm_init() {
	NV_NET=$1
	NV_WIRE=nvw$$ NV_FE=nvf$$
	NV_NSC=ddvm-nvc-$$ NV_NSR=ddvm-nvr-$$
	NV_IPC=169.254.$NV_NET.1 NV_IPR=169.254.$NV_NET.2 NV_IPV=169.254.$NV_NET.3
	NV_LLC=fe80::$NV_NET:1 NV_LLR=fe80::$NV_NET:2
	NV_VM=nv
}

# netvm_requires TOOL...: root, python3 (NV_PY) and the tools, or fail clearly.
netvm_requires() {
	requires ip ping jq timeout qemu-system-x86_64 "$@"
	NV_PY=/usr/bin/python3
	[ -x "$NV_PY" ] || fail "required tool $NV_PY not found"
	[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
}

inC() { ip netns exec "$NV_NSC" "$@"; }
inR() { ip netns exec "$NV_NSR" "$@"; }
nv_export() { ddvm status --json | jq -er --arg n "$NV_VM" ".vms[] | select(.name == \$n) | .exports[0] | $1"; }
nv_carrier_is() { [ "$(inC cat "/sys/class/net/$NV_FE/carrier" 2>/dev/null)" = "$1" ]; }
ping_recv() { { "$@" 2>/dev/null || true; } | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }

# netvm_conf MODEL [VMOPTS] [DEVOPTS]: print the config path.
netvm_conf() {
	local model=$1 vmopts=${2:-} devopts=${3:-} conf=$DDVM_RUNDIR/nv.conf
	cat >"$conf" <<CONF
vms = ( { name = "$NV_VM"; memory = 128; $vmopts
  devices = ( { type = "$model"; net = "tap:$NV_WIRE"; $devopts } ); } );
${NV_CONF_EXTRA:-}
CONF
	echo "$conf"
}

# netvm_up MODEL [VMOPTS] [DEVOPTS]: DEVOPTS default: export through TAP $NV_FE.
# netvm_start CONF WHAT: the wire tap and both namespaces, ddvm up -d CONF
# (whose NIC's wire is tap:$NV_WIRE), the wire moved into R with R's addresses.
netvm_start() {
	ip tuntap add "$NV_WIRE" mode tap || fail "cannot create wire tap $NV_WIRE"
	ip netns add "$NV_NSR" || fail "cannot create netns $NV_NSR"
	ip netns add "$NV_NSC" || fail "cannot create netns $NV_NSC"
	ddvm up -d "$1" >"$DDVM_RUNDIR/up.out" 2>&1 || fail "ddvm up -d ($2) failed: $(cat "$DDVM_RUNDIR/up.out")"
	# QEMU's fd to the wire stays valid across the move.
	ip link set "$NV_WIRE" netns "$NV_NSR"
	inR ip link set lo up
	inR ip addr add "$NV_IPR/16" dev "$NV_WIRE"
	inR ip -6 addr add "$NV_LLR/64" dev "$NV_WIRE" nodad
	inR ip link set "$NV_WIRE" up
	inC ip link set lo up
}

netvm_up() {
	local model=$1 vmopts=${2:-} devopts=${3-tap = \"$NV_FE\";} conf exported=1
	case $devopts in *"export = false"*) exported=0 ;; esac
	conf=$(netvm_conf "$model" "$vmopts" "$devopts")
	netvm_start "$conf" "$model"
	[ "$exported" = 1 ] || return 0
	wait_for "front-end TAP $NV_FE" 30 ip link show "$NV_FE"
	[ "$(nv_export .tap)" = "$NV_FE" ] || fail "status names TAP '$(nv_export .tap)', expected $NV_FE"
	# ddvm-tap's carrier ioctl uses its fd, not the name: the move is safe.
	ip link set "$NV_FE" netns "$NV_NSC"
	inC ip addr add "$NV_IPC/16" dev "$NV_FE"
	inC ip -6 addr add "$NV_LLC/64" dev "$NV_FE" nodad
	inC ip link set "$NV_FE" up
	wait_for "carrier on $NV_FE ($model)" 30 nv_carrier_is 1
}

netvm_down() {
	ddvm down --timeout 20 >/dev/null 2>&1 || true
	ip netns del "$NV_NSC" 2>/dev/null || true
	ip -n "$NV_NSR" link del "$NV_WIRE" 2>/dev/null || true
	ip netns del "$NV_NSR" 2>/dev/null || true
	ip link del "$NV_WIRE" 2>/dev/null || true
	ip link del "$NV_FE" 2>/dev/null || true
}
