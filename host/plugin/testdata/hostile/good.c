// good: echoes the event's Sequence in TransactionAttributes, so concurrent
// callers can check they got the response to their own event.
#include <stdio.h>
#include "ms.h"

MS_ABI_V1

static char event[64 * 1024];
static char resp[256];

MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	if (len >= (int32_t)sizeof event) return 1;
	if (ms_event_read(event, sizeof event) != len) return 2;
	event[len] = 0;
	const char *seq = strstr(event, "\"Sequence\":");
	long n = -1;
	if (seq) sscanf(seq + 11, " %ld", &n);
	snprintf(resp, sizeof resp,
		"{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"TransactionAttributes\":{\"seq\":\"%ld\",\"len\":\"%d\"}}", n, (int)len);
	return ms_respond(resp);
}
