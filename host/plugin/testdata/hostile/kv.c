// kv: runs one store command taken from the event text ("set KEY VALUE",
// "get KEY", "del KEY") and answers {"code":N,"value":"…"}.
#include <stdio.h>
#include "ms.h"
MS_ABI_V1
static char event[1024], val[512], resp[1024];
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	if (len >= (int32_t)sizeof event || ms_event_read(event, sizeof event) != len) return 1;
	event[len] = 0;
	char op[8] = {0}, key[300] = {0}, arg[300] = {0};
	sscanf(event, "%7s %299s %299s", op, key, arg);
	int32_t code = -100;
	val[0] = 0;
	if (!strcmp(op, "set")) {
		code = ms_kv_set(key, strlen(key), arg, strlen(arg));
	} else if (!strcmp(op, "get")) {
		code = ms_kv_get(key, strlen(key), val, sizeof val - 1);
		if (code >= 0 && code < (int32_t)sizeof val) val[code] = 0;
	} else if (!strcmp(op, "del")) {
		code = ms_kv_delete(key, strlen(key));
	} else if (!strcmp(op, "badptr")) {
		code = ms_kv_get((const void *)0x7fffffff, 16, val, sizeof val);
	}
	snprintf(resp, sizeof resp, "{\"code\":%d,\"value\":\"%s\"}", (int)code, val);
	return ms_respond(resp);
}
