// logflood: 10000 log lines and 10000 stdout lines, then a valid response.
#include <stdio.h>
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	for (int i = 0; i < 10000; i++) {
		ms_logs(1, "flooding the log host function");
		printf("flooding stdout %d\n", i);
	}
	fflush(stdout);
	return ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
}
