// inittrap: its _initialize logs, then traps.
#include "ms.h"
MS_ABI_V1
__attribute__((constructor)) static void start(void) {
	ms_logs(3, "no configuration");
	__builtin_trap();
}
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return ms_respond("{}"); }
