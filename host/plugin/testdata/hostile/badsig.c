// badsig: imports the log host function with the wrong signature.
#include "ms.h"
MS_ABI_V1
MS_IMPORT("log") int32_t ms_log_wrong(int32_t level);
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return ms_log_wrong(len); }
