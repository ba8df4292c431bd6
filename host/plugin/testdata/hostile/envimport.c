// envimport: imports from a module the host does not provide.
#include "ms.h"
MS_ABI_V1
__attribute__((import_module("env"), import_name("system"))) int32_t env_system(int32_t);
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return env_system(len); }
