// badjson: writes something that is not a JSON object.
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return ms_respond("{\"Actions\": [oops"); }
