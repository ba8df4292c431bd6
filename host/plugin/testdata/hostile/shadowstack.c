// shadowstack: unbounded recursion with locals in memory until the C stack runs below address 0.
#include "ms.h"
MS_ABI_V1
__attribute__((noinline)) static int32_t deep(volatile int32_t n) {
	volatile char pad[64];
	pad[n & 63] = (char)n;
	return deep(n + 1) + pad[0];
}
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return deep(len); }
