/* helpers.c: exports the JSON helpers of mediaserver.h to the Go tests
 * (helpers_test.go), which drive them through a shared buffer. */
#include "mediaserver.h"

static char area[1 << 20];
static size_t out_len;

__attribute__((export_name("area"))) char *area_ptr(void) { return area; }
__attribute__((export_name("out_len"))) int32_t get_out_len(void) { return (int32_t)out_len; }

/* get_string: json at area[0:json_len], NUL-terminated path at
 * area[path_off:], output at area[out_off:out_off+cap]. */
__attribute__((export_name("get_string"))) int32_t get_string(int32_t json_len, int32_t path_off, int32_t out_off,
                                                                int32_t cap) {
    out_len = 0;
    return ms_json_get_string(area, (size_t)json_len, area + path_off, area + out_off, (size_t)cap, &out_len);
}

/* get_raw: ms_json_get on the same layout; the value's offset in area and
 * its length go to area[out_off:] as two little-endian int32. */
__attribute__((export_name("get_raw"))) int32_t get_raw(int32_t json_len, int32_t path_off, int32_t out_off) {
    const char *v;
    size_t n;
    int rc = ms_json_get(area, (size_t)json_len, area + path_off, &v, &n);
    if (rc == MS_OK) {
        int32_t off = (int32_t)(v - area), len = (int32_t)n;
        memcpy(area + out_off, &off, 4);
        memcpy(area + out_off + 4, &len, 4);
    }
    return rc;
}

/* escape: ms_buf_strn of area[0:in_len] into a growing buffer, copied to
 * area[out_off:]; returns the length. */
__attribute__((export_name("escape"))) int32_t escape(int32_t in_len, int32_t out_off) {
    char small[8]; /* tiny on purpose: exercises the move to malloc */
    ms_buf b;
    ms_buf_init(&b, small, sizeof small);
    ms_buf_strn(&b, area, (size_t)in_len);
    ms_buf_raw(&b, ",");
    ms_buf_int(&b, -9223372036854775807LL - 1);
    if (b.err) return -1;
    memcpy(area + out_off, b.data, b.len);
    int32_t n = (int32_t)b.len;
    ms_buf_free(&b);
    return n;
}
