// cmd_echo: a WASI command (compatibility mode). Reads the event on stdin,
// answers on stdout, logs on stderr; "fail" in the event exits with 3.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char event[64 * 1024];
int main(void) {
	size_t n = fread(event, 1, sizeof event - 1, stdin);
	event[n] = 0;
	fprintf(stderr, "command got %zu bytes\n", n);
	if (strstr(event, "fail")) return 3;
	printf("{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"TransactionAttributes\":{\"len\":\"%zu\"}}\n", n);
	return 0;
}
