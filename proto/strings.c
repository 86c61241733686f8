// SPDX-License-Identifier: MIT
/*
 * The protocol's code-to-text tables, shared unchanged by the driver VM's
 * modules (their console lines), libddvm and the host (logs and status),
 * so a reason reads the same everywhere.  Freestanding.
 */
#include "ddvm/region.h"

const char *ddvm_refusal_str(uint32_t refusal)
{
	switch (refusal) {
	case DDVM_REFUSE_NONE: return "accepted";
	case DDVM_REFUSE_MAGIC: return "bad magic";
	case DDVM_REFUSE_VERSION: return "unsupported protocol version";
	case DDVM_REFUSE_LAYOUT: return "invalid layout";
	case DDVM_REFUSE_STATE: return "region not ready";
	default: return "unknown refusal";
	}
}

const char *ddvm_layout_str(uint32_t why)
{
	switch (why) {
	case DDVM_LAYOUT_OK: return "ok";
	case DDVM_LAYOUT_SIZE: return "region size disagrees with the mapping";
	case DDVM_LAYOUT_QTABLE: return "queue table out of bounds";
	case DDVM_LAYOUT_PCI: return "PCI table out of bounds";
	case DDVM_LAYOUT_RING: return "a ring is out of bounds, misaligned or not 2^n slots";
	case DDVM_LAYOUT_DATA: return "data area out of bounds";
	case DDVM_LAYOUT_OVERLAP: return "areas overlap";
	case DDVM_LAYOUT_KIND: return "unknown queue kind";
	default: return "unknown layout error";
	}
}

const char *ddvm_guest_state_str(uint32_t state)
{
	switch (state) {
	case DDVM_GUEST_ABSENT: return "absent";
	case DDVM_GUEST_ATTACHING: return "attaching";
	case DDVM_GUEST_READY: return "ready";
	case DDVM_GUEST_REFUSED: return "refused";
	case DDVM_GUEST_STOPPING: return "stopping";
	default: return "bogus";
	}
}
