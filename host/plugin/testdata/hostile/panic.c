// panic: writes a Go panic report to stderr the way Go's runtime does (a
// write per piece), logs a line of its own in between, then traps.
#include <unistd.h>
#include "ms.h"
MS_ABI_V1
static void say(const char *s) { write(2, s, strlen(s)); }
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	say("before the panic\n");
	say("panic: ");
	say("boom");
	say("\n\ngoroutine 1 [running]:\n");
	ms_logs(1, "a log line meanwhile");
	say("main.handle(...)\n\t/src/main.go:12 +0x3\n");
	say("main.main()\n\t/src/main.go:20 +0x9\n");
	__builtin_trap();
}
