// args: answers {"argc":N,"argv0":"…"} from WASI's args_get, which the
// host fills with the plugin's name.
#include <stdio.h>
#include <wasi/api.h>
#include "ms.h"
MS_ABI_V1
static char resp[512];
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	size_t argc = 0, size = 0;
	if (__wasi_args_sizes_get(&argc, &size) != 0 || argc > 8 || size > 256) return 1;
	uint8_t *argv[8];
	uint8_t buf[256];
	if (__wasi_args_get(argv, buf) != 0) return 2;
	snprintf(resp, sizeof resp, "{\"argc\":%d,\"argv0\":\"%s\"}", (int)argc, argc > 0 ? (char *)argv[0] : "");
	return ms_respond(resp);
}
