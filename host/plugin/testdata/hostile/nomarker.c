// nomarker: a reactor without the mediaserver_abi_v1 marker.
#include "ms.h"
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return 0; }
