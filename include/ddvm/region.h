/* SPDX-License-Identifier: MIT */
/*
 * Region validation shared by every side.  Freestanding.
 *
 * Each function copies what it reads from shared memory exactly once into a
 * private, CPU-endian structure and validates the copy; callers use only the
 * copy.  Nothing here trusts a value because the other side "should" have
 * written it correctly.
 */
#ifndef DDVM_REGION_H
#define DDVM_REGION_H

#include "proto.h"

/* One queue, validated, in CPU byte order. */
struct ddvm_queue_info {
	uint16_t kind, index;
	uint32_t nslots;
	uint64_t req_ring_off, resp_ring_off;
	uint64_t data_off, data_size;
	uint16_t req_vector, resp_vector;
};

/* The host's layout of a region, validated. */
struct ddvm_layout {
	uint64_t region_size;
	uint16_t host_peer_id;
	uint32_t nqueues;
	uint64_t pci_table_off;
	uint32_t pci_table_max;
	uint32_t heartbeat_period_ms;
	struct ddvm_queue_info q[DDVM_MAX_QUEUES];
};

/*
 * Driver-VM side: check the header the host wrote in a mapping of
 * mapped_size bytes.  Returns DDVM_REFUSE_NONE and fills *out, or the
 * DDVM_REFUSE_* reason with *detail saying what was wrong.
 */
uint32_t ddvm_region_check(const volatile void *base, uint64_t mapped_size,
			   struct ddvm_layout *out, uint32_t *detail);

/* Validate a layout (also used by the host before it publishes one). */
uint32_t ddvm_layout_validate(const struct ddvm_layout *l);

/* Driver-VM state as the host sees it, validated. */
struct ddvm_guest_view {
	uint32_t generation;
	uint32_t state;			/* DDVM_GUEST_*, or DDVM_GUEST_BOGUS */
	uint32_t refusal, refusal_detail;
	uint32_t guest_version;
	uint64_t heartbeat;
	uint16_t peer_id;
	char kernel_release[65];	/* printable ASCII, NUL-terminated */
};
#define DDVM_GUEST_BOGUS 0xffffffffu	/* state word held an unknown value */

/* Host side: snapshot the driver VM's fields of the header. */
void ddvm_guest_read(const volatile void *base, struct ddvm_guest_view *out);

/* One PCI table entry, validated: strings NUL-terminated, printable. */
struct ddvm_pci_info {
	uint16_t domain;
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsystem_vendor, subsystem_device;
	uint32_t class_code;
	uint8_t revision;
	char driver[33];
	char names[77];
};

#define DDVM_PCI_OK	0
#define DDVM_PCI_BUSY	(-1)	/* table kept changing while read: try later */
#define DDVM_PCI_BAD	(-2)	/* pci_count exceeds the table */

/*
 * Host side: copy up to max entries of the PCI table.  *count gets the
 * number copied.  Retries a few times while the driver VM rewrites it.
 */
int ddvm_pci_read(const volatile void *base, const struct ddvm_layout *l,
		  struct ddvm_pci_info *out, uint32_t max, uint32_t *count);

/* A queue's device state, validated (host / client side). */
struct ddvm_queue_state_info {
	uint32_t state, error;		/* DDVM_QS_*, DDVM_QE_* (unknown -> ERROR) */
	uint64_t capacity;		/* block: multiple of logical_block_size */
	uint32_t logical_block_size, physical_block_size, max_transfer, features;
	uint32_t flags;			/* DDVM_QF_* */
	uint8_t mac[6];
	uint32_t link_up, mtu;
	char dev_name[17];
};

/*
 * Client side: copy and validate queue i's state.  For a READY block queue
 * whose parameters are impossible (block sizes not 2^n in [512, 65536],
 * physical < logical, capacity not a multiple of the logical block size,
 * max_transfer 0, not a multiple of it, or larger than the data area), for a
 * READY net queue with a zero or multicast MAC or an MTU out of range
 * (ddvm_net_params_check), or an unknown state, the copy says
 * DDVM_QS_ERROR / DDVM_QE_BOGUS; the other fields are copied as published.
 * Returns 0, or -1 if i is out of range.
 */
int ddvm_queue_state_read(const volatile void *base, const struct ddvm_layout *l, uint32_t i,
			  struct ddvm_queue_state_info *out);

/*
 * Host side: copy queue i's counters (struct ddvm_queue_stats, minor 3), for
 * display only: anyone on the channel may have written them.  Zeroes if i is
 * beyond the table or the driver VM speaks minor < 3.
 */
struct ddvm_queue_stats_info {
	uint64_t rd_ops, rd_bytes, wr_ops, wr_bytes, other_ops, errors;
};
void ddvm_queue_stats_read(const volatile void *base, uint32_t i,
			   struct ddvm_queue_stats_info *out);

/* Driver side: copy queue i's target string (NUL-terminated, printable). */
void ddvm_queue_target_read(const volatile void *base, uint32_t i, char out[65]);

/* Copy a fixed-size, possibly unterminated string; non-printables -> '?'. */
void ddvm_copy_str(char *dst, const volatile char *src, uint32_t n);

/* Text for a DDVM_REFUSE_*, DDVM_LAYOUT_*, DDVM_GUEST_* code (proto/strings.c). */
const char *ddvm_refusal_str(uint32_t refusal);
const char *ddvm_layout_str(uint32_t why);
const char *ddvm_guest_state_str(uint32_t state);

#endif /* DDVM_REGION_H */
