// loop: never returns; the host must stop it at the deadline.
#include "ms.h"
MS_ABI_V1
static volatile int32_t spin;
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	for (;;) spin++;
	return 0;
}
