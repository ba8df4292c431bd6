// fopen: tries to read a host file through WASI and reports what happened.
#include <errno.h>
#include <stdio.h>
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	FILE *f = fopen("/etc/passwd", "r");
	int e = errno;
	char resp[128];
	snprintf(resp, sizeof resp, "{\"opened\":%s,\"errno\":%d,\"ENOENT\":%d,\"ENOTCAPABLE\":%d}",
		f ? "true" : "false", f ? 0 : e, ENOENT, ENOTCAPABLE);
	return ms_respond(resp);
}
