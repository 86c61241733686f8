/* The virtio_net_hdr <-> slot metadata header compiles alone, freestanding. */
#include "ddvm/net_offload.h"

int header_net_offload_unused(void);
int header_net_offload_unused(void) { return (int)sizeof(struct ddvm_net_hdr); }
