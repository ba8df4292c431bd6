// twice: writes a response, then tries a second one and logs the code.
#include <stdio.h>
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	int32_t first = ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"TransactionAttributes\":{\"n\":\"first\"}}");
	int32_t second = ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"TransactionAttributes\":{\"n\":\"second\"}}");
	char line[64];
	snprintf(line, sizeof line, "first=%d second=%d", (int)first, (int)second);
	ms_logs(1, line);
	return 0;
}
