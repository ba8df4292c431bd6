// noresp: returns success without writing a response.
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return 0; }
