/* The libddvm net client header compiles alone, freestanding. */
#include "ddvm/net_client.h"

int header_net_client_unused(void);
int header_net_client_unused(void) { return (int)sizeof(struct ddvm_netc); }
