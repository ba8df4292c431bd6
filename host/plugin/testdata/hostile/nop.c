// nop: copies the event in and answers a constant response, so a benchmark
// of it measures the host's own cost per event.
#include "ms.h"
MS_ABI_V1
static char event[64 * 1024];
static const char resp[] = "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}";
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	if (ms_event_read(event, sizeof event) != len) return 1;
	return ms_response_write(resp, sizeof resp - 1);
}
