// nonzero: reports a handler error with code 7.
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return 7; }
