/* The libddvm client headers compile alone, freestanding. */
#include "ddvm/blk_client.h"
#include "ddvm/transport.h"

int header_libddvm_unused(void);
int header_libddvm_unused(void) { return (int)sizeof(struct ddvm_blkc); }
