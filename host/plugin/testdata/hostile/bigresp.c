// bigresp: tries a 300 KiB response (over the 256 KiB cap), logs the code it
// got and returns 0 without a response.
#include <stdio.h>
#include "ms.h"
MS_ABI_V1
static char big[300 * 1024];
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[sizeof big - 1] = '}';
	char line[64];
	snprintf(line, sizeof line, "response_write: %d", (int)ms_response_write(big, sizeof big));
	ms_logs(2, line);
	return 0;
}
