// initloop: its _initialize never finishes.
#include "ms.h"
MS_ABI_V1
static volatile int spin = 1;
__attribute__((constructor)) static void start(void) {
	ms_logs(1, "starting up forever");
	while (spin) {
	}
}
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return ms_respond("{}"); }
