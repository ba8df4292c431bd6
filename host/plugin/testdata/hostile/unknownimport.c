// unknownimport: imports a host function that does not exist.
#include "ms.h"
MS_ABI_V1
MS_IMPORT("spawn_process") int32_t ms_spawn_process(int32_t);
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return ms_spawn_process(len); }
