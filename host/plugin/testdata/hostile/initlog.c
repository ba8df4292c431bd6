// initlog: logs from _initialize (a constructor runs there), then answers
// every event.
#include "ms.h"
MS_ABI_V1
__attribute__((constructor)) static void start(void) { ms_logs(1, "starting up"); }
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	ms_logs(1, "handling");
	return ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
}
