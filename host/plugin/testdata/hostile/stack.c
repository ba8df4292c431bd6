// stack: unbounded recursion through a function pointer (no tail call, no
// locals in linear memory) until the Wasm call stack overflows.
#include "ms.h"
MS_ABI_V1
static int32_t deep(int32_t n);
static int32_t (*volatile next)(int32_t) = deep;
static int32_t deep(int32_t n) { return next(n + 1) + 1; }
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) { return deep(len); }
