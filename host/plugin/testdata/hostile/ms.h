// ms.h: the ABI v1 imports and exports for the test fixtures.
#ifndef MS_H
#define MS_H
#include <stdint.h>
#include <string.h>

#define MS_IMPORT(n) __attribute__((import_module("mediaserver"), import_name(n)))
#define MS_EXPORT(n) __attribute__((export_name(n)))

MS_IMPORT("event_read") int32_t ms_event_read(void *buf, int32_t buf_len);
MS_IMPORT("response_write") int32_t ms_response_write(const void *ptr, int32_t len);
MS_IMPORT("log") void ms_log(int32_t level, const void *ptr, int32_t len);
MS_IMPORT("kv_get") int32_t ms_kv_get(const void *key, int32_t key_len, void *buf, int32_t buf_len);
MS_IMPORT("kv_set") int32_t ms_kv_set(const void *key, int32_t key_len, const void *val, int32_t val_len);
MS_IMPORT("kv_delete") int32_t ms_kv_delete(const void *key, int32_t key_len);

#define MS_ABI_V1 MS_EXPORT("mediaserver_abi_v1") void mediaserver_abi_v1(void) {}

static inline int32_t ms_respond(const char *s) { return ms_response_write(s, (int32_t)strlen(s)); }
static inline void ms_logs(int32_t level, const char *s) { ms_log(level, s, (int32_t)strlen(s)); }

#endif
