// unreachable: traps at once.
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	__builtin_trap(); // compiles to the unreachable instruction
}
