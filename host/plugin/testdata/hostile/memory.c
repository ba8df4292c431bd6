// memory: allocates until the host's memory cap refuses to grow, then aborts
// as a C program does on an allocation failure.
#include <stdlib.h>
#include "ms.h"
MS_ABI_V1
static char *volatile keep; // an observable store, so the allocations stay
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p) __builtin_trap();
		p[0] = 1;
		keep = p;
	}
}
