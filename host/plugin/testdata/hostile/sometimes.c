// sometimes: answers at once, except that an event with "Sequence":99
// never returns; the host must stop it even when the instance's deadline
// timer was armed by an earlier, quick event.
#include "ms.h"
MS_ABI_V1
static char event[64 * 1024];
static volatile int32_t spin;
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	int32_t n = ms_event_read(event, sizeof event - 1);
	if (n < 0 || n >= (int32_t)sizeof event) return 1;
	event[n] = 0;
	if (strstr(event, "\"Sequence\":99,")) for (;;) spin++;
	return ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
}
