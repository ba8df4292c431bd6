/*
 * mediaserver.h: the C SDK for media server plugins (ABI v1), for clang and
 * wasi-libc. One header, no library: include it in the one source file of
 * the plugin.
 *
 *   #include "mediaserver.h"
 *   static int handle(const char *event, size_t len) {
 *       return ms_respond_str("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
 *   }
 *   MEDIASERVER_HANDLER(handle)
 *
 * Reactor (ABI v1, one export call per event):
 *   clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mexec-model=reactor -o plugin.wasm plugin.c
 * WASI command (compatibility mode: event on stdin, response on stdout):
 *   clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -DMEDIASERVER_COMMAND -o plugin-cmd.wasm plugin.c
 * -msimd128 and -mbulk-memory are optional (without them the scanners use
 * 8-byte words and memcpy is a loop) but make lookups several times faster.
 *
 * The handler gets the event JSON (not NUL-terminated; valid during the
 * call), writes its response once with ms_respond and returns 0, or returns
 * non-zero for a handler error. The JSON helpers find values by a dotted
 * path and build JSON strings with escaping.
 */
#ifndef MEDIASERVER_H
#define MEDIASERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status codes: the ABI's ErrCode values, plus the helpers' own. */
#define MS_OK 0
#define MS_ERR_TOO_LARGE (-1)
#define MS_ERR_ALREADY_WRITTEN (-2)
#define MS_ERR_BAD_POINTER (-3)
#define MS_ERR_NOT_FOUND (-4)
#define MS_ERR_QUOTA (-5)
#define MS_ERR_UNAVAILABLE (-6)
#define MS_ERR_INTERNAL (-7)
#define MS_ERR_SYNTAX (-100) /* malformed JSON (helpers only) */
#define MS_ERR_TYPE (-101)   /* the value at the path is not a string */
#define MS_ERR_NOMEM (-102)  /* malloc failed */

/* Log levels. */
#define MS_LOG_DEBUG 0
#define MS_LOG_INFO 1
#define MS_LOG_WARN 2
#define MS_LOG_ERROR 3

/* Objects and arrays nest at most this deep in the JSON helpers. */
#define MS_JSON_MAX_DEPTH 64

/* The initial event buffer; larger events are read into malloc'ed memory. */
#ifndef MS_EVENT_BUF_SIZE
#define MS_EVENT_BUF_SIZE 16384
#endif

#define MS__IMPORT(n) __attribute__((import_module("mediaserver"), import_name(n)))
#define MS__EXPORT(n) __attribute__((export_name(n)))
#define MS__API static __attribute__((unused))

/* ---- Scanning primitives. ----
 *
 * Performance note: the host stops runaway guests with a check on every loop
 * iteration (a call out of the compiled code, ~30 ns), so loop iterations,
 * not bytes, are what a lookup costs. The scanners below therefore test a
 * whole block per iteration (16 bytes with -msimd128, else 8 with SWAR bit
 * tricks) and jump to the first byte of interest; copies use memcpy, which
 * clang lowers to memory.copy with -mbulk-memory.
 *
 * Blocks are loaded aligned: an aligned block that holds one byte of the
 * buffer cannot cross the end of linear memory (a multiple of 64 KiB), so
 * the few bytes past the buffer it may contain are read but never used.
 */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define MS__BLOCK 16
#define MS__IDX_SHIFT 0 /* bit i of a mask is byte i */
static inline uint64_t ms__mask_quote_bs_ctl(const char *b) {
    v128_t v = wasm_v128_load(b);
    v128_t m = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('"')), wasm_i8x16_eq(v, wasm_i8x16_splat('\\'))),
                            wasm_u8x16_lt(v, wasm_i8x16_splat(0x20)));
    return (uint64_t)wasm_i8x16_bitmask(m);
}
/* '"', '{', '}', '[', ']': '[' and ']' are '{' and '}' without bit 0x20. */
static inline uint64_t ms__mask_struct(const char *b) {
    v128_t v = wasm_v128_load(b);
    v128_t l = wasm_v128_or(v, wasm_i8x16_splat(0x20));
    v128_t m = wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('"')),
                            wasm_v128_or(wasm_i8x16_eq(l, wasm_i8x16_splat('{')), wasm_i8x16_eq(l, wasm_i8x16_splat('}'))));
    return (uint64_t)wasm_i8x16_bitmask(m);
}
static inline uint64_t ms__mask_nul(const char *b) {
    return (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(b), wasm_i8x16_splat(0)));
}
static inline uint64_t ms__mask_nul_dot(const char *b) {
    v128_t v = wasm_v128_load(b);
    return (uint64_t)wasm_i8x16_bitmask(wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat(0)), wasm_i8x16_eq(v, wasm_i8x16_splat('.'))));
}
#else
#define MS__BLOCK 8
#define MS__IDX_SHIFT 3 /* bit 8i+7 of a mask is byte i */
#define MS__ONES 0x0101010101010101ULL
#define MS__LOWS 0x7F7F7F7F7F7F7F7FULL
/* ms__zero flags the zero bytes of x exactly (no borrow across bytes), see
 * https://graphics.stanford.edu/~seander/bithacks.html#ZeroInWord */
static inline uint64_t ms__zero(uint64_t x) { return ~(((x & MS__LOWS) + MS__LOWS) | x | MS__LOWS); }
static inline uint64_t ms__load8(const char *b) {
    uint64_t x;
    memcpy(&x, b, 8);
    return x;
}
static inline uint64_t ms__mask_quote_bs_ctl(const char *b) {
    uint64_t x = ms__load8(b);
    return ms__zero(x ^ (MS__ONES * '"')) | ms__zero(x ^ (MS__ONES * '\\')) | ms__zero(x & (MS__ONES * 0xE0));
}
static inline uint64_t ms__mask_struct(const char *b) {
    uint64_t x = ms__load8(b), l = x | (MS__ONES * 0x20);
    return ms__zero(x ^ (MS__ONES * '"')) | ms__zero(l ^ (MS__ONES * '{')) | ms__zero(l ^ (MS__ONES * '}'));
}
static inline uint64_t ms__mask_nul(const char *b) { return ms__zero(ms__load8(b)); }
static inline uint64_t ms__mask_nul_dot(const char *b) {
    uint64_t x = ms__load8(b);
    return ms__zero(x) | ms__zero(x ^ (MS__ONES * '.'));
}
#endif

#define MS__ALIGN_DOWN(p) ((const char *)((uintptr_t)(p) & ~(uintptr_t)(MS__BLOCK - 1)))
#define MS__FROM(p, b) (~(uint64_t)0 << ((uint64_t)((p) - (b)) << MS__IDX_SHIFT))

/* ms__find_quote_bs_ctl returns the first '"', '\\' or control character in
 * [p, end), or end. */
static inline const char *ms__find_quote_bs_ctl(const char *p, const char *end) {
    if (p >= end) return end;
    const char *b = MS__ALIGN_DOWN(p);
    uint64_t m = ms__mask_quote_bs_ctl(b) & MS__FROM(p, b);
#pragma clang loop unroll_count(2)
    while (!m) {
        b += MS__BLOCK;
        if (b >= end) return end;
        m = ms__mask_quote_bs_ctl(b);
    }
    const char *q = b + (__builtin_ctzll(m) >> MS__IDX_SHIFT);
    return q < end ? q : end;
}

/* ms__find_struct returns the first '"', '{', '}', '[' or ']' in [p, end),
 * or end. */
static inline const char *ms__find_struct(const char *p, const char *end) {
    if (p >= end) return end;
    const char *b = MS__ALIGN_DOWN(p);
    uint64_t m = ms__mask_struct(b) & MS__FROM(p, b);
#pragma clang loop unroll_count(2)
    while (!m) {
        b += MS__BLOCK;
        if (b >= end) return end;
        m = ms__mask_struct(b);
    }
    const char *q = b + (__builtin_ctzll(m) >> MS__IDX_SHIFT);
    return q < end ? q : end;
}

/* ms__strlen is strlen a block at a time (wasi-libc's is a word loop). */
static inline size_t ms__strlen(const char *s) {
    const char *b = MS__ALIGN_DOWN(s);
    uint64_t m = ms__mask_nul(b) & MS__FROM(s, b);
    while (!m) {
        b += MS__BLOCK;
        m = ms__mask_nul(b);
    }
    return (size_t)(b + (__builtin_ctzll(m) >> MS__IDX_SHIFT) - s);
}

/* ms__seg_len is the length of the path segment at s (up to '.' or NUL). */
static inline size_t ms__seg_len(const char *s) {
    const char *b = MS__ALIGN_DOWN(s);
    uint64_t m = ms__mask_nul_dot(b) & MS__FROM(s, b);
    while (!m) {
        b += MS__BLOCK;
        m = ms__mask_nul_dot(b);
    }
    return (size_t)(b + (__builtin_ctzll(m) >> MS__IDX_SHIFT) - s);
}

/* ms__eq compares a[0:n] with b[0:n] with whole-word loads: no loop up to
 * 16 bytes (wasi-libc's memcmp is a byte loop). */
static inline int ms__eq(const char *a, const char *b, size_t n) {
    uint64_t x, y, x2, y2;
    uint32_t u, v, u2, v2;
    if (n >= 8) {
        while (n > 16) {
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if (x != y) return 0;
            a += 8, b += 8, n -= 8;
        }
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&x2, a + n - 8, 8);
        memcpy(&y2, b + n - 8, 8);
        return ((x ^ y) | (x2 ^ y2)) == 0;
    }
    if (n >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        memcpy(&u2, a + n - 4, 4);
        memcpy(&v2, b + n - 4, 4);
        return ((u ^ v) | (u2 ^ v2)) == 0;
    }
    if (n == 0) return 1;
    return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1];
}

/* ---- Host functions (module "mediaserver"). ---- */

MS__IMPORT("event_read") int32_t ms_host_event_read(void *buf, int32_t buf_len);
MS__IMPORT("response_write") int32_t ms_host_response_write(const void *ptr, int32_t len);
MS__IMPORT("log") void ms_host_log(int32_t level, const void *ptr, int32_t len);
MS__IMPORT("kv_get") int32_t ms_host_kv_get(const void *key, int32_t key_len, void *buf, int32_t buf_len);
MS__IMPORT("kv_set") int32_t ms_host_kv_set(const void *key, int32_t key_len, const void *val, int32_t val_len);
MS__IMPORT("kv_delete") int32_t ms_host_kv_delete(const void *key, int32_t key_len);

/* ---- Per-module state (one event at a time per instance). ---- */

static char ms__event_static[MS_EVENT_BUF_SIZE];
static char *ms__event_buf = ms__event_static;
static size_t ms__event_cap = sizeof ms__event_static;
#ifdef MEDIASERVER_COMMAND
#define ms__command 1 /* a compile-time constant keeps stdio out of reactors */
#else
#define ms__command 0
#endif
static int ms__responded;

/* ms_respond writes the response JSON: once per event. */
MS__API int ms_respond(const char *json, size_t len) {
    if (len > INT32_MAX) return MS_ERR_TOO_LARGE;
    if (ms__command) {
        if (ms__responded) return MS_ERR_ALREADY_WRITTEN;
        ms__responded = 1;
        return fwrite(json, 1, len, stdout) == len && fflush(stdout) == 0 ? MS_OK : MS_ERR_INTERNAL;
    }
    return ms_host_response_write(json, (int32_t)len);
}

/* ms_respond_str writes a NUL-terminated response JSON. */
MS__API int ms_respond_str(const char *json) { return ms_respond(json, ms__strlen(json)); }

/* ms_respond_lit writes a string literal response; its length is known at
 * compile time. */
#define ms_respond_lit(lit) ms_respond("" lit, sizeof(lit) - 1)

/* ms_log sends one log line (stderr in a command build). */
MS__API void ms_log(int level, const char *msg, size_t len) {
    if (ms__command) {
        static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
        fprintf(stderr, "%s %.*s\n", level >= 0 && level <= 3 ? names[level] : "LOG", (int)len, msg);
        return;
    }
    ms_host_log(level, msg, (int32_t)(len > INT32_MAX ? INT32_MAX : len));
}

/* ms_log_str logs a NUL-terminated line. */
MS__API void ms_log_str(int level, const char *msg) { ms_log(level, msg, ms__strlen(msg)); }

/* ms_kv_get copies the value of key into buf if it fits and returns its full
 * length, or MS_ERR_NOT_FOUND / another negative status. */
MS__API int32_t ms_kv_get(const char *key, void *buf, size_t buf_len) {
    return ms_host_kv_get(key, (int32_t)ms__strlen(key), buf, (int32_t)(buf_len > INT32_MAX ? INT32_MAX : buf_len));
}

/* ms_kv_set stores val under key in the tenant's store. */
MS__API int32_t ms_kv_set(const char *key, const void *val, size_t val_len) {
    return ms_host_kv_set(key, (int32_t)ms__strlen(key), val, (int32_t)val_len);
}

/* ms_kv_delete removes key; MS_ERR_NOT_FOUND if absent. */
MS__API int32_t ms_kv_delete(const char *key) { return ms_host_kv_delete(key, (int32_t)ms__strlen(key)); }

/* ms__reserve makes the event buffer hold n bytes. */
MS__API int ms__reserve(size_t n) {
    if (n <= ms__event_cap) return MS_OK;
    char *p = (char *)malloc(n);
    if (!p) return MS_ERR_NOMEM;
    if (ms__event_buf != ms__event_static) free(ms__event_buf);
    ms__event_buf = p;
    ms__event_cap = n;
    return MS_OK;
}

/* ms__read_event pulls the current event into the buffer. event_read always
 * returns the full length, so a second read gets an event larger than the
 * buffer. */
MS__API int ms__read_event(int32_t hint, size_t *len) {
    if (hint > 0 && ms__reserve((size_t)hint) != MS_OK) return MS_ERR_NOMEM;
    int32_t n = ms_host_event_read(ms__event_buf, (int32_t)ms__event_cap);
    if (n < 0) return n;
    if ((size_t)n > ms__event_cap) {
        if (ms__reserve((size_t)n) != MS_OK) return MS_ERR_NOMEM;
        n = ms_host_event_read(ms__event_buf, (int32_t)ms__event_cap);
        if (n < 0) return n;
        if ((size_t)n > ms__event_cap) return MS_ERR_TOO_LARGE;
    }
    *len = (size_t)n;
    return MS_OK;
}

/* ms__read_stdin reads the whole of stdin into the buffer (command mode). */
MS__API int ms__read_stdin(size_t *len) {
    size_t n = 0;
    for (;;) {
        if (n == ms__event_cap) {
            size_t cap = ms__event_cap * 2;
            char *p = (char *)malloc(cap);
            if (!p) return MS_ERR_NOMEM;
            memcpy(p, ms__event_buf, n);
            if (ms__event_buf != ms__event_static) free(ms__event_buf);
            ms__event_buf = p;
            ms__event_cap = cap;
        }
        size_t got = fread(ms__event_buf + n, 1, ms__event_cap - n, stdin);
        n += got;
        if (got == 0) break;
    }
    if (ferror(stdin)) return MS_ERR_INTERNAL;
    *len = n;
    return MS_OK;
}

/*
 * MEDIASERVER_HANDLER(fn) defines the module's entry points around
 * int fn(const char *event, size_t len). By default: the ABI v1 exports
 * (mediaserver_abi_v1, handle_event). With -DMEDIASERVER_COMMAND: main(),
 * reading the event on stdin and writing the response on stdout.
 */
#ifdef MEDIASERVER_COMMAND
#define MEDIASERVER_HANDLER(fn)                                   \
    int main(void) {                                              \
        size_t ms_len = 0;                                        \
        if (ms__read_stdin(&ms_len) != MS_OK) return 2;           \
        int ms_rc = fn(ms__event_buf, ms_len);                    \
        if (ms_rc == 0 && !ms__responded) return 3;               \
        return ms_rc;                                             \
    }
#else
#define MEDIASERVER_HANDLER(fn)                                   \
    MS__EXPORT("mediaserver_abi_v1") void mediaserver_abi_v1(void) {} \
    MS__EXPORT("handle_event") int32_t handle_event(int32_t ms_hint) { \
        size_t ms_len = 0;                                        \
        int ms_rc = ms__read_event(ms_hint, &ms_len);             \
        if (ms_rc != MS_OK) {                                     \
            ms_log_str(MS_LOG_ERROR, "event_read failed");        \
            return 1;                                             \
        }                                                         \
        return fn(ms__event_buf, ms_len);                         \
    }
#endif

/* ms_eqn reports whether a[0:an] equals b[0:bn]. */
MS__API int ms_eqn(const char *a, size_t an, const char *b, size_t bn) { return an == bn && ms__eq(a, b, an); }

/* ms_eq_lit reports whether a[0:an] equals a string literal. */
#define ms_eq_lit(a, an, lit) ms_eqn((a), (an), "" lit, sizeof(lit) - 1)

/* ---- JSON reading. ---- */

static inline const char *ms__ws(const char *p, const char *end) {
    /* The host sends compact JSON: test once before looping. */
    if (p < end && (unsigned char)*p > ' ') return p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int ms__hex4(const char *p, const char *end) {
    if (end - p < 4) return -1;
    int r = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else return -1;
        r = r << 4 | v;
    }
    return r;
}

static size_t ms__utf8(char *out, uint32_t r) {
    if (r < 0x80) { out[0] = (char)r; return 1; }
    if (r < 0x800) { out[0] = (char)(0xC0 | r >> 6); out[1] = (char)(0x80 | (r & 0x3F)); return 2; }
    if (r < 0x10000) {
        out[0] = (char)(0xE0 | r >> 12); out[1] = (char)(0x80 | (r >> 6 & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | r >> 18); out[1] = (char)(0x80 | (r >> 12 & 0x3F));
    out[2] = (char)(0x80 | (r >> 6 & 0x3F)); out[3] = (char)(0x80 | (r & 0x3F)); return 4;
}

/* ms__put copies src[0:k] to out at len, as far as cap allows. */
static inline void ms__put(char *out, size_t cap, size_t len, const char *src, size_t k) {
    if (out && len < cap) memcpy(out + len, src, cap - len < k ? cap - len : k);
}

/*
 * ms__string reads the string starting at *p (its opening quote). With
 * out != NULL it writes the unescaped bytes there (at most cap; *n gets the
 * full length, so the caller sees truncation). Lone surrogates become
 * U+FFFD. Returns the position after the closing quote, or NULL. Plain runs
 * are found a block at a time and copied whole: one loop iteration per
 * escape, not per byte.
 */
static const char *ms__string(const char *p, const char *end, char *out, size_t cap, size_t *n) {
    size_t len = 0;
    if (p >= end || *p != '"') return NULL;
    p++;
    for (;;) {
        const char *q = ms__find_quote_bs_ctl(p, end);
        if (q >= end) return NULL;
        ms__put(out, cap, len, p, (size_t)(q - p));
        len += (size_t)(q - p);
        p = q;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if (n) *n = len;
            return p + 1;
        }
        if (c < 0x20 || end - p < 2) return NULL;
        char tmp[4];
        size_t k = 1;
        switch (p[1]) {
        case '"': case '\\': case '/': tmp[0] = p[1]; break;
        case 'b': tmp[0] = '\b'; break;
        case 'f': tmp[0] = '\f'; break;
        case 'n': tmp[0] = '\n'; break;
        case 'r': tmp[0] = '\r'; break;
        case 't': tmp[0] = '\t'; break;
        case 'u': {
            int r = ms__hex4(p + 2, end);
            if (r < 0) return NULL;
            uint32_t cp = (uint32_t)r;
            p += 4; /* with the += 2 below: past \uXXXX */
            if (r >= 0xD800 && r <= 0xDFFF) {
                int lo = -1;
                if (r < 0xDC00 && end - p >= 8 && p[2] == '\\' && p[3] == 'u') lo = ms__hex4(p + 4, end);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + (((uint32_t)r - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            }
            k = ms__utf8(tmp, cp);
            break;
        }
        default: return NULL;
        }
        p += 2;
        ms__put(out, cap, len, tmp, k);
        len += k;
    }
}

static const char *ms__literal(const char *p, const char *end, const char *lit, size_t n) {
    if ((size_t)(end - p) < n || !ms__eq(p, lit, n)) return NULL;
    return p + n;
}

static const char *ms__number(const char *p, const char *end) {
    const char *s = p;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (p < end && *p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') p++;
    else return NULL;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    return p > s ? p : NULL;
}

/*
 * ms__skip_container skips the object or array at p, which sits at nesting
 * depth `depth`. It jumps from one '"', '{', '}', '[' or ']' to the next,
 * checking string syntax, bracket matching and MS_JSON_MAX_DEPTH; the
 * grammar between brackets (commas, colons, scalars) is not checked: the
 * host only sends valid JSON, and what a lookup returns is checked.
 */
static const char *ms__skip_container(const char *p, const char *end, int depth) {
    int maxrel = MS_JSON_MAX_DEPTH - depth, r = 0;
    if (maxrel <= 0) return NULL;
    uint64_t objs = *p == '{'; /* bit r: the container at relative depth r is an object */
    p++;
    for (;;) {
        const char *q = ms__find_struct(p, end);
        if (q >= end) return NULL;
        char c = *q;
        if (c == '"') {
            p = ms__string(q, end, NULL, 0, NULL);
            if (!p) return NULL;
            continue;
        }
        p = q + 1;
        if ((c | 0x20) == '{') {
            if (++r >= maxrel) return NULL;
            objs = (objs & ~((uint64_t)1 << r)) | ((uint64_t)(c == '{') << r);
            continue;
        }
        if ((int)((objs >> r) & 1) != (c == '}')) return NULL;
        if (r-- == 0) return p;
    }
}

/* ms__skip skips one value; NULL on malformed JSON. Scalars are validated. */
static const char *ms__skip(const char *p, const char *end, int depth) {
    p = ms__ws(p, end);
    if (p >= end) return NULL;
    switch (*p) {
    case '{': case '[': return ms__skip_container(p, end, depth);
    case '"': return ms__string(p, end, NULL, 0, NULL);
    case 't': return ms__literal(p, end, "true", 4);
    case 'f': return ms__literal(p, end, "false", 5);
    case 'n': return ms__literal(p, end, "null", 4);
    default: return ms__number(p, end);
    }
}

/* ms__key reads the key at p (its opening quote), sets *after past its
 * closing quote (NULL on malformed JSON) and reports whether it equals
 * name[0:n]. A key without escapes is compared in place. */
static int ms__key(const char *p, const char *end, const char *name, size_t n, const char **after) {
    if (p >= end || *p != '"') {
        *after = NULL;
        return 0;
    }
    const char *q = ms__find_quote_bs_ctl(p + 1, end);
    if (q < end && *q == '"') {
        *after = q + 1;
        return (size_t)(q - p - 1) == n && ms__eq(p + 1, name, n);
    }
    char buf[256];
    size_t len = 0;
    *after = ms__string(p, end, buf, sizeof buf, &len);
    return *after && len == n && len <= sizeof buf && ms__eq(buf, name, n);
}

/* ms__find positions *val at the value of path; MS_OK, MS_ERR_NOT_FOUND or
 * MS_ERR_SYNTAX. Members after the match are not read: the host writes the
 * envelope in a fixed order (SchemaVersion, Sequence, InvocationEventType,
 * ActionData, CallDetails), so most lookups end within the first few
 * hundred bytes. That is a speed note only: any order is found. */
static int ms__find(const char *json, size_t len, const char *path, const char **val) {
    const char *p = json, *end = json + len;
    const char *seg = path;
    for (;;) {
        size_t seglen = ms__seg_len(seg);
        int last = seg[seglen] == 0;
        p = ms__ws(p, end);
        if (p >= end) return MS_ERR_SYNTAX;
        if (*p == '[') {
            /* A numeric segment indexes an array. */
            if (seglen == 0 || strspn(seg, "0123456789") < seglen) return MS_ERR_NOT_FOUND;
            long idx = strtol(seg, NULL, 10);
            p = ms__ws(p + 1, end);
            if (p < end && *p == ']') return MS_ERR_NOT_FOUND;
            for (long i = 0; i < idx; i++) {
                p = ms__skip(p, end, 1);
                if (!p) return MS_ERR_SYNTAX;
                p = ms__ws(p, end);
                if (p >= end) return MS_ERR_SYNTAX;
                if (*p == ']') return MS_ERR_NOT_FOUND;
                if (*p != ',') return MS_ERR_SYNTAX;
                p = ms__ws(p + 1, end);
            }
        } else {
            if (*p != '{') return MS_ERR_NOT_FOUND;
            p = ms__ws(p + 1, end);
            if (p < end && *p == '}') return MS_ERR_NOT_FOUND;
            for (;;) {
                const char *after;
                int match = ms__key(p, end, seg, seglen, &after);
                if (!after) return MS_ERR_SYNTAX;
                p = ms__ws(after, end);
                if (p >= end || *p != ':') return MS_ERR_SYNTAX;
                p = ms__ws(p + 1, end);
                if (match) break;
                p = ms__skip(p, end, 1);
                if (!p) return MS_ERR_SYNTAX;
                p = ms__ws(p, end);
                if (p >= end) return MS_ERR_SYNTAX;
                if (*p == '}') return MS_ERR_NOT_FOUND;
                if (*p != ',') return MS_ERR_SYNTAX;
                p = ms__ws(p + 1, end);
            }
        }
        if (p >= end) return MS_ERR_SYNTAX;
        if (last) {
            *val = p;
            return MS_OK;
        }
        seg += seglen + 1;
    }
}

/*
 * ms_json_get finds the value at path in json: member names separated by
 * '.', such as "ActionData.Parameters.Arguments.JoinToken"; a number
 * indexes an array ("CallDetails.Participants.0.From"). On success *val
 * points at the value's first byte and *val_len is its length. Returns
 * MS_OK, MS_ERR_NOT_FOUND or MS_ERR_SYNTAX. The first matching member wins.
 */
MS__API int ms_json_get(const char *json, size_t len, const char *path, const char **val, size_t *val_len) {
    const char *v;
    int rc = ms__find(json, len, path, &v);
    if (rc != MS_OK) return rc;
    const char *after = ms__skip(v, json + len, 1);
    if (!after) return MS_ERR_SYNTAX;
    *val = v;
    *val_len = (size_t)(after - v);
    return MS_OK;
}

/*
 * ms_json_get_string copies the unescaped string at path into out and
 * NUL-terminates it; *out_len (if not NULL) gets its length. Returns MS_OK,
 * MS_ERR_NOT_FOUND (absent or null), MS_ERR_TYPE (not a string),
 * MS_ERR_TOO_LARGE (out too small) or MS_ERR_SYNTAX.
 */
MS__API int ms_json_get_string(const char *json, size_t len, const char *path, char *out, size_t cap,
                               size_t *out_len) {
    const char *v, *end = json + len;
    size_t n;
    int rc = ms__find(json, len, path, &v);
    if (rc != MS_OK) return rc;
    if (*v == '"') {
        if (!ms__string(v, end, out, cap, &n)) return MS_ERR_SYNTAX;
        if (n >= cap) return MS_ERR_TOO_LARGE;
        out[n] = 0;
        if (out_len) *out_len = n;
        return MS_OK;
    }
    if (!ms__skip(v, end, 1)) return MS_ERR_SYNTAX;
    return *v == 'n' ? MS_ERR_NOT_FOUND : MS_ERR_TYPE;
}

/* ms_json_equals reports whether the string at path equals s. */
MS__API int ms_json_equals(const char *json, size_t len, const char *path, const char *s) {
    char buf[256];
    size_t n;
    return ms_json_get_string(json, len, path, buf, sizeof buf, &n) == MS_OK && n == ms__strlen(s) && ms__eq(buf, s, n);
}

/* ---- JSON writing. ---- */

/* ms_buf builds a response. It starts in caller storage (or none) and moves
 * to malloc'ed memory when it grows; err records a failed allocation. */
typedef struct {
    char *data;
    size_t len, cap;
    int owned, err;
} ms_buf;

/* ms_buf_init starts b in storage[cap] (storage may be NULL, cap 0). */
MS__API void ms_buf_init(ms_buf *b, char *storage, size_t cap) {
    b->data = storage;
    b->len = 0;
    b->cap = storage ? cap : 0;
    b->owned = 0;
    b->err = 0;
}

MS__API void ms_buf_free(ms_buf *b) {
    if (b->owned) free(b->data);
    ms_buf_init(b, NULL, 0);
}

static int ms__grow_slow(ms_buf *b, size_t extra) {
    if (b->err) return 0;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + extra) cap *= 2;
    char *p = (char *)malloc(cap);
    if (!p) {
        b->err = MS_ERR_NOMEM;
        return 0;
    }
    if (b->len) memcpy(p, b->data, b->len);
    if (b->owned) free(b->data);
    b->data = p;
    b->cap = cap;
    b->owned = 1;
    return 1;
}

static inline int ms__grow(ms_buf *b, size_t extra) {
    if (!b->err && b->len + extra <= b->cap) return 1;
    return ms__grow_slow(b, extra);
}

/* ms_buf_rawn appends bytes verbatim (JSON syntax, numbers). */
MS__API void ms_buf_rawn(ms_buf *b, const char *s, size_t n) {
    if (!ms__grow(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

MS__API void ms_buf_raw(ms_buf *b, const char *s) { ms_buf_rawn(b, s, ms__strlen(s)); }

/* ms_buf_lit appends a string literal verbatim; its length is known at
 * compile time. */
#define ms_buf_lit(b, lit) ms_buf_rawn((b), "" lit, sizeof(lit) - 1)

/* ms_buf_strn appends s[0:n] as a quoted JSON string, escaping '"', '\\' and
 * control characters. Runs without such bytes are found a block at a time
 * and copied whole. */
MS__API void ms_buf_strn(ms_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const char *p = s, *end = s + n;
    if (!ms__grow(b, n + 2)) return;
    b->data[b->len++] = '"';
    for (;;) {
        const char *q = ms__find_quote_bs_ctl(p, end);
        ms_buf_rawn(b, p, (size_t)(q - p));
        if (q >= end) break;
        unsigned char c = (unsigned char)*q;
        char esc[6] = {'\\', 0, '0', '0', hex[c >> 4], hex[c & 15]};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: esc[1] = 'u'; k = 6;
        }
        ms_buf_rawn(b, esc, k);
        p = q + 1;
    }
    ms_buf_rawn(b, "\"", 1);
}

MS__API void ms_buf_str(ms_buf *b, const char *s) { ms_buf_strn(b, s, ms__strlen(s)); }

/* ms_buf_int appends a decimal integer. */
MS__API void ms_buf_int(ms_buf *b, long long v) {
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[--i] = '-';
    ms_buf_rawn(b, tmp + i, sizeof tmp - i);
}

/* ms_buf_respond writes the built response (MS_ERR_NOMEM if building failed). */
MS__API int ms_buf_respond(ms_buf *b) {
    if (b->err) return b->err;
    return ms_respond(b->data ? b->data : "", b->len);
}

/* ---- iotcomms callbacks (ABI SPEC section 16). ----
 *
 * An iotcomms plugin gets each callback's body as its event, with the
 * callback's name in the member "callback", and answers with an answer
 * object (newCall, callEvent), an IVR command (getIvrCommand) or {} (the
 * informational callbacks). The names below are abi/iotcomms.go's; sdk/gen's
 * tests fail when they disagree.
 */

/* The callbacks (the "callback" member). */
#define MS_IOT_CALLBACK_NEW_CALL "newCall"
#define MS_IOT_CALLBACK_CALL_NOTIFY "callNotify"
#define MS_IOT_CALLBACK_CALL_ANSWERED "callAnswered"
#define MS_IOT_CALLBACK_CALL_EVENT "callEvent"
#define MS_IOT_CALLBACK_GET_IVR_COMMAND "getIvrCommand"
#define MS_IOT_CALLBACK_SESSION_COMPLETED "sessionCompleted"
#define MS_IOT_CALLBACK_RECORDING_READY "recordingReady"

/* ms_iot_callback's results, for a switch. */
#define MS_IOT_CB_UNKNOWN 0
#define MS_IOT_CB_NEW_CALL 1
#define MS_IOT_CB_CALL_NOTIFY 2
#define MS_IOT_CB_CALL_ANSWERED 3
#define MS_IOT_CB_CALL_EVENT 4
#define MS_IOT_CB_GET_IVR_COMMAND 5
#define MS_IOT_CB_SESSION_COMPLETED 6
#define MS_IOT_CB_RECORDING_READY 7

/* Events of callEvent and callNotify (the "event" member). */
#define MS_IOT_EVENT_CALLING_PARTY_DROP "callingPartyDrop"
#define MS_IOT_EVENT_CALLED_PARTY_DROP "calledPartyDrop"
#define MS_IOT_EVENT_CALLER_CONNECTION_SPLIT "callerConnectionSplit"
#define MS_IOT_EVENT_CALLEE_CONNECTION_SPLIT "calleeConnectionSplit"
#define MS_IOT_EVENT_CALL_FAILED "callFailed"
#define MS_IOT_NOTIFY_TRYING "trying"
#define MS_IOT_NOTIFY_RINGING "ringing"

/* Why digit collection ended ("dtmfParams.reason"). */
#define MS_IOT_DTMF_MAX_DIGITS "maxDigits"
#define MS_IOT_DTMF_TERMINATOR "terminator"
#define MS_IOT_DTMF_INTER_DIGIT "interDigitTimeout"
#define MS_IOT_DTMF_TIMEOUT "timeout"
#define MS_IOT_DTMF_INTERRUPTED "interrupted"

/* Actions of an answer, and phrase formats. */
#define MS_IOT_DROP "drop"
#define MS_IOT_CALL "call"
#define MS_IOT_IVR "ivr"
#define MS_IOT_CONNECT "connect"
#define MS_IOT_JOIN_CONFERENCE_CONNECTION "joinconferenceconnection"
#define MS_IOT_PHRASE_FILE "file"
#define MS_IOT_PHRASE_URL "url"
#define MS_IOT_PHRASE_AWS_TTS "awstts"

/* The members of a callback body, as paths for ms_iot_get (or
 * ms_json_get_string): the participant it is about, the connection, the
 * digits the previous IVR command collected, … */
#define MS_IOT_REQ_CALLBACK "callback"
#define MS_IOT_REQ_SESSION_ID "sessionId"
#define MS_IOT_REQ_TENANT_ID "tenantId"
#define MS_IOT_REQ_APPLICATION_ID "applicationId"
#define MS_IOT_REQ_PARTICIPANT_ID "participantId"
#define MS_IOT_REQ_USER "user"
#define MS_IOT_REQ_FROM "from"
#define MS_IOT_REQ_TO "to"
#define MS_IOT_REQ_DIRECTION "direction"
#define MS_IOT_REQ_HEADERS "headers" /* an object: ms_json_get "headers.X-Name" */
#define MS_IOT_REQ_EVENT "event"
#define MS_IOT_REQ_CODE "code" /* a number: ms_iot_get_int */
#define MS_IOT_REQ_CONNECTION_ID "connectionId"
#define MS_IOT_REQ_CALLER_PARTICIPANT_ID "callerParticipantId"
#define MS_IOT_REQ_CALLEE_PARTICIPANT_ID "calleeParticipantId"
#define MS_IOT_REQ_CONFERENCE_CONNECTION "conferenceConnection" /* true or false */
#define MS_IOT_REQ_REPLY_ID "replyId"
#define MS_IOT_REQ_PREVIOUS_COMMAND_FAILED "previousCommandFailed"
#define MS_IOT_REQ_DTMF_PARAMS "dtmfParams" /* an object, absent when no digits were collected */
#define MS_IOT_REQ_DTMF_MATCH "dtmfParams.dtmfMatch"
#define MS_IOT_REQ_DTMF_REASON "dtmfParams.reason"
#define MS_IOT_REQ_FILE_NAME "fileName"
#define MS_IOT_REQ_LOCATION "location"
#define MS_IOT_REQ_DURATION_SECONDS "durationSeconds" /* a number: ms_iot_get_int */

/* ms_iot_get copies the string member at path (an MS_IOT_REQ_ path) into
 * out, NUL-terminated. An absent or null member is MS_ERR_NOT_FOUND with out
 * set to "", so a plugin may ignore that status; other errors are
 * ms_json_get_string's (MS_ERR_TOO_LARGE, MS_ERR_TYPE, MS_ERR_SYNTAX). */
MS__API int ms_iot_get(const char *json, size_t len, const char *path, char *out, size_t cap) {
    int rc = ms_json_get_string(json, len, path, out, cap, NULL);
    if (rc != MS_OK && cap > 0) out[0] = 0;
    return rc;
}

/* ms_iot_get_int reads the integer member at path (code, durationSeconds)
 * into *out: MS_OK, MS_ERR_NOT_FOUND (absent or null), MS_ERR_TYPE (not an
 * integer) or MS_ERR_SYNTAX. */
MS__API int ms_iot_get_int(const char *json, size_t len, const char *path, long long *out) {
    const char *v;
    size_t n;
    int rc = ms_json_get(json, len, path, &v, &n);
    if (rc != MS_OK) return rc;
    if (n == 4 && ms__eq(v, "null", 4)) return MS_ERR_NOT_FOUND;
    size_t i = v[0] == '-';
    if (i == n || n - i > 18) return MS_ERR_TYPE;
    long long r = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return MS_ERR_TYPE;
        r = r * 10 + (v[i] - '0');
    }
    *out = v[0] == '-' ? -r : r;
    return MS_OK;
}

/* ms_iot_callback returns the event's callback: MS_IOT_CB_NEW_CALL, …, or
 * MS_IOT_CB_UNKNOWN (absent, or a name this header does not know). */
MS__API int ms_iot_callback(const char *json, size_t len) {
    static const char *const names[] = {MS_IOT_CALLBACK_NEW_CALL, MS_IOT_CALLBACK_CALL_NOTIFY,
                                        MS_IOT_CALLBACK_CALL_ANSWERED, MS_IOT_CALLBACK_CALL_EVENT,
                                        MS_IOT_CALLBACK_GET_IVR_COMMAND, MS_IOT_CALLBACK_SESSION_COMPLETED,
                                        MS_IOT_CALLBACK_RECORDING_READY};
    char name[32];
    size_t n;
    if (ms_json_get_string(json, len, MS_IOT_REQ_CALLBACK, name, sizeof name, &n) != MS_OK) return MS_IOT_CB_UNKNOWN;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (ms_eqn(name, n, names[i], ms__strlen(names[i]))) return i + 1;
    return MS_IOT_CB_UNKNOWN;
}

/* An answer to newCall or callEvent. NULL or empty strings and zero numbers
 * are left out. */
typedef struct {
    const char *action;         /* MS_IOT_DROP, MS_IOT_CALL, MS_IOT_IVR, MS_IOT_CONNECT, MS_IOT_JOIN_CONFERENCE_CONNECTION */
    const char *dest_addr;      /* call: a number (through the trunks) or a SIP URI */
    const char *from_addr;      /* call: the caller id */
    int timeout;                /* call: ringing limit, seconds */
    const char *participant_id; /* connect: the other participant */
    const char *connection_id;  /* joinconferenceconnection: the conference */
    const char *reply_id;       /* the callback's replyId, echoed (optional) */
    int call_recording;         /* newCall: record the session into filename */
    const char *filename;
    const char *monitor_dest_addr; /* newCall: dialled after the first callAnswered, hears everyone */
} ms_iot_answer;

/* Text to speech (Polly's names: Text, TextType, VoiceId, LanguageCode,
 * Engine). */
typedef struct {
    const char *text;
    const char *text_type;
    const char *voice_id;
    const char *language_code;
    const char *engine;
} ms_iot_tts;

/* A phrase: format MS_IOT_PHRASE_FILE (file_name), _URL (url) or _AWS_TTS
 * (tts); repeat_pause separates the loops of a background prompt. */
typedef struct {
    const char *format;
    const char *file_name;
    const char *url;
    const ms_iot_tts *tts;
    double repeat_pause;
} ms_iot_phrase;

/* Digit collection; zero members take the server's defaults (1 digit, 5 s
 * for the first, 3 s between digits). */
typedef struct {
    int max_digits;
    int min_digits;
    const char *terminator;
    double timeout;
    double inter_digit_timeout;
} ms_iot_dtmf;

/* Recording the caller into the prompt file file_name. */
typedef struct {
    const char *file_name;
    int max_seconds;
    const char *terminator;
} ms_iot_record;

/* An IVR command, the answer to getIvrCommand. */
typedef struct {
    const ms_iot_dtmf *dtmf;
    const ms_iot_phrase *phrases; /* n_phrases of them, played in order */
    size_t n_phrases;
    const ms_iot_phrase *background_prompt; /* looped between commands: hold music */
    int hangup;                             /* the IVR leaves after this command */
    double get_ivr_command_after;           /* seconds before the next getIvrCommand */
    const char *action;                     /* MS_IOT_CALL: connect the caller to dest_addr; the IVR leaves */
    const char *dest_addr;
    const char *from_addr;
    const ms_iot_record *record;
} ms_iot_command;

/* Phrase initializers: ms_iot_phrase p = MS_IOT_TTS("Welcome."); */
#define MS_IOT_FILE(name) ((ms_iot_phrase){.format = MS_IOT_PHRASE_FILE, .file_name = (name)})
#define MS_IOT_URL(u) ((ms_iot_phrase){.format = MS_IOT_PHRASE_URL, .url = (u)})
#define MS_IOT_TTS(t) ((ms_iot_phrase){.format = MS_IOT_PHRASE_AWS_TTS, .tts = &(ms_iot_tts){.text = (t)}})

/* ms__obj writes the members of one object, leaving out empty ones. */
typedef struct {
    ms_buf *b;
    int n;
} ms__obj;

static inline ms__obj ms__obj_begin(ms_buf *b) {
    ms_buf_rawn(b, "{", 1);
    return (ms__obj){b, 0};
}

static inline void ms__obj_end(ms__obj *o) { ms_buf_rawn(o->b, "}", 1); }

static void ms__obj_key(ms__obj *o, const char *k) {
    if (o->n++) ms_buf_rawn(o->b, ",", 1);
    ms_buf_str(o->b, k);
    ms_buf_rawn(o->b, ":", 1);
}

static void ms__obj_str(ms__obj *o, const char *k, const char *v) {
    if (!v || !v[0]) return;
    ms__obj_key(o, k);
    ms_buf_str(o->b, v);
}

static void ms__obj_str_always(ms__obj *o, const char *k, const char *v) {
    ms__obj_key(o, k);
    ms_buf_str(o->b, v ? v : "");
}

static void ms__obj_int(ms__obj *o, const char *k, long long v) {
    if (!v) return;
    ms__obj_key(o, k);
    ms_buf_int(o->b, v);
}

static void ms__obj_flag(ms__obj *o, const char *k, int v) {
    if (!v) return;
    ms__obj_key(o, k);
    ms_buf_lit(o->b, "true");
}

/* ms__obj_num writes a number of seconds to the microsecond ("0.5", "300",
 * "2.000001"), without printf's floating-point code (which would make a
 * reactor ten times larger); zero, NaN, infinities and magnitudes from 1e12
 * up are left out. */
static void ms__obj_num(ms__obj *o, const char *k, double v) {
    if (!(v > -1e12 && v < 1e12)) return; /* NaN fails both */
    long long us = (long long)(v * 1e6 + (v < 0 ? -0.5 : 0.5));
    if (!us) return;
    unsigned long long u = us < 0 ? (unsigned long long)-us : (unsigned long long)us;
    char tmp[32];
    size_t i = sizeof tmp;
    unsigned long long frac = u % 1000000;
    if (frac) {
        int digits = 6;
        while (frac % 10 == 0) frac /= 10, digits--;
        while (digits--) tmp[--i] = (char)('0' + frac % 10), frac /= 10;
        tmp[--i] = '.';
    }
    u /= 1000000;
    do tmp[--i] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (us < 0) tmp[--i] = '-';
    ms__obj_key(o, k);
    ms_buf_rawn(o->b, tmp + i, sizeof tmp - i);
}

static void ms__iot_tts_json(ms_buf *b, const ms_iot_tts *t) {
    ms__obj o = ms__obj_begin(b);
    ms__obj_str_always(&o, "Text", t->text);
    ms__obj_str(&o, "TextType", t->text_type);
    ms__obj_str(&o, "VoiceId", t->voice_id);
    ms__obj_str(&o, "LanguageCode", t->language_code);
    ms__obj_str(&o, "Engine", t->engine);
    ms__obj_end(&o);
}

static void ms__iot_phrase_json(ms_buf *b, const ms_iot_phrase *p) {
    ms__obj o = ms__obj_begin(b);
    ms__obj_str_always(&o, "format", p->format);
    ms__obj_str(&o, "fileName", p->file_name);
    ms__obj_str(&o, "url", p->url);
    if (p->tts) {
        ms__obj_key(&o, "awsTTSParameters");
        ms__iot_tts_json(b, p->tts);
    }
    ms__obj_num(&o, "repeatPause", p->repeat_pause);
    ms__obj_end(&o);
}

static void ms__iot_dtmf_json(ms_buf *b, const ms_iot_dtmf *d) {
    ms__obj o = ms__obj_begin(b);
    ms__obj_int(&o, "maxDigits", d->max_digits);
    ms__obj_int(&o, "minDigits", d->min_digits);
    ms__obj_str(&o, "terminator", d->terminator);
    ms__obj_num(&o, "timeout", d->timeout);
    ms__obj_num(&o, "interDigitTimeout", d->inter_digit_timeout);
    ms__obj_end(&o);
}

static void ms__iot_record_json(ms_buf *b, const ms_iot_record *r) {
    ms__obj o = ms__obj_begin(b);
    ms__obj_str_always(&o, "fileName", r->file_name);
    ms__obj_int(&o, "maxSeconds", r->max_seconds);
    ms__obj_str(&o, "terminator", r->terminator);
    ms__obj_end(&o);
}

/* ms_iot_answer_json appends an answer to newCall or callEvent. */
MS__API void ms_iot_answer_json(ms_buf *b, const ms_iot_answer *a) {
    ms__obj o = ms__obj_begin(b);
    ms__obj_str(&o, "action", a->action);
    ms__obj_str(&o, "destAddr", a->dest_addr);
    ms__obj_str(&o, "fromAddr", a->from_addr);
    ms__obj_int(&o, "timeout", a->timeout);
    ms__obj_str(&o, "participantId", a->participant_id);
    ms__obj_str(&o, "connectionId", a->connection_id);
    ms__obj_str(&o, "replyId", a->reply_id);
    ms__obj_flag(&o, "callRecording", a->call_recording);
    ms__obj_str(&o, "filename", a->filename);
    ms__obj_str(&o, "monitorDestAddr", a->monitor_dest_addr);
    ms__obj_end(&o);
}

/* ms_iot_command_json appends an IVR command. */
MS__API void ms_iot_command_json(ms_buf *b, const ms_iot_command *c) {
    ms__obj o = ms__obj_begin(b);
    if (c->dtmf) {
        ms__obj_key(&o, "dtmf");
        ms__iot_dtmf_json(b, c->dtmf);
    }
    if (c->n_phrases) {
        ms__obj_key(&o, "phrases");
        ms_buf_rawn(b, "[", 1);
        for (size_t i = 0; i < c->n_phrases; i++) {
            if (i) ms_buf_rawn(b, ",", 1);
            ms__iot_phrase_json(b, &c->phrases[i]);
        }
        ms_buf_rawn(b, "]", 1);
    }
    if (c->background_prompt) {
        ms__obj_key(&o, "backgroundPrompt");
        ms__iot_phrase_json(b, c->background_prompt);
    }
    ms__obj_flag(&o, "hangup", c->hangup);
    ms__obj_num(&o, "getIVRCommandAfter", c->get_ivr_command_after);
    ms__obj_str(&o, "action", c->action);
    ms__obj_str(&o, "destAddr", c->dest_addr);
    ms__obj_str(&o, "fromAddr", c->from_addr);
    if (c->record) {
        ms__obj_key(&o, "record");
        ms__iot_record_json(b, c->record);
    }
    ms__obj_end(&o);
}

/* ms_iot_respond_answer writes an answer as the response. */
MS__API int ms_iot_respond_answer(const ms_iot_answer *a) {
    char storage[512];
    ms_buf b;
    ms_buf_init(&b, storage, sizeof storage);
    ms_iot_answer_json(&b, a);
    int rc = ms_buf_respond(&b);
    ms_buf_free(&b);
    return rc;
}

/* ms_iot_respond_command writes an IVR command as the response. */
MS__API int ms_iot_respond_command(const ms_iot_command *c) {
    char storage[1024];
    ms_buf b;
    ms_buf_init(&b, storage, sizeof storage);
    ms_iot_command_json(&b, c);
    int rc = ms_buf_respond(&b);
    ms_buf_free(&b);
    return rc;
}

/* ms_iot_respond_none answers {}: no action (the informational callbacks). */
#define ms_iot_respond_none() ms_respond_lit("{}")

#endif /* MEDIASERVER_H */
