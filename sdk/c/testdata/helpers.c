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

/* iot_callback: ms_iot_callback of area[0:json_len]. */
__attribute__((export_name("iot_callback"))) int32_t iot_callback(int32_t json_len) {
    return ms_iot_callback(area, (size_t)json_len);
}

/* iot_get: ms_iot_get on get_string's layout; the output is always
 * NUL-terminated, its length goes to out_len. */
__attribute__((export_name("iot_get"))) int32_t iot_get(int32_t json_len, int32_t path_off, int32_t out_off, int32_t cap) {
    int rc = ms_iot_get(area, (size_t)json_len, area + path_off, area + out_off, (size_t)cap);
    out_len = strlen(area + out_off);
    return rc;
}

/* iot_get_int: ms_iot_get_int; the value goes to area[out_off:] as a
 * little-endian int64. */
__attribute__((export_name("iot_get_int"))) int32_t iot_get_int(int32_t json_len, int32_t path_off, int32_t out_off) {
    long long v = 0;
    int rc = ms_iot_get_int(area, (size_t)json_len, area + path_off, &v);
    memcpy(area + out_off, &v, 8);
    return rc;
}

/* iot_write: writes answer or command number `which` (the cases of
 * helpers_test.go's TestIotWriters) into a growing buffer, copied to
 * area[out_off:]; returns the length. */
__attribute__((export_name("iot_write"))) int32_t iot_write(int32_t which, int32_t out_off) {
    char small[8]; /* tiny on purpose: exercises the move to malloc */
    ms_buf b;
    ms_buf_init(&b, small, sizeof small);
    switch (which) {
    case 0:
        ms_iot_answer_json(&b, &(ms_iot_answer){.action = MS_IOT_IVR});
        break;
    case 1:
        ms_iot_answer_json(&b, &(ms_iot_answer){.action = MS_IOT_CALL, .dest_addr = "+15550202", .from_addr = "+15550100",
                                                .timeout = 20, .call_recording = 1, .filename = "call-1.wav",
                                                .monitor_dest_addr = "sip:mon@127.0.0.1", .reply_id = ""});
        break;
    case 2:
        ms_iot_answer_json(&b, &(ms_iot_answer){.action = MS_IOT_CONNECT, .participant_id = "s1/p1", .reply_id = "r\"9"});
        break;
    case 3:
        ms_iot_answer_json(&b, &(ms_iot_answer){.action = MS_IOT_JOIN_CONFERENCE_CONNECTION, .connection_id = "s1/4"});
        break;
    case 4: {
        ms_iot_phrase p[] = {MS_IOT_TTS("Welcome. Press 1 for sales and 2 for support.")};
        ms_iot_command_json(&b, &(ms_iot_command){.dtmf = &(ms_iot_dtmf){.max_digits = 1}, .phrases = p, .n_phrases = 1});
        break;
    }
    case 5: {
        ms_iot_phrase bg = MS_IOT_FILE("holdmusic.mp3");
        bg.repeat_pause = 0.5;
        ms_iot_command_json(&b, &(ms_iot_command){.background_prompt = &bg, .get_ivr_command_after = 300});
        break;
    }
    case 6: {
        ms_iot_tts voice = {.text = "<speak>hi</speak>", .text_type = "ssml", .voice_id = "Joanna",
                            .language_code = "en-US", .engine = "neural"};
        ms_iot_phrase p[] = {MS_IOT_FILE("a.wav"), MS_IOT_URL("https://example.com/b.mp3"),
                             {.format = MS_IOT_PHRASE_AWS_TTS, .tts = &voice}};
        ms_iot_command_json(&b, &(ms_iot_command){
                                    .dtmf = &(ms_iot_dtmf){.max_digits = 4, .min_digits = 2, .terminator = "#",
                                                           .timeout = 7.25, .inter_digit_timeout = 2},
                                    .phrases = p, .n_phrases = 3, .hangup = 1});
        break;
    }
    case 7:
        ms_iot_command_json(&b, &(ms_iot_command){.action = MS_IOT_CALL, .dest_addr = "+15550911", .from_addr = "+15550777"});
        break;
    case 8: {
        ms_iot_phrase p[] = {MS_IOT_FILE("beep.wav")};
        ms_iot_command_json(&b, &(ms_iot_command){.phrases = p, .n_phrases = 1,
                                                  .record = &(ms_iot_record){.file_name = "msg.wav", .max_seconds = 30, .terminator = "#"}});
        break;
    }
    case 9: /* numbers: NaN and infinities are left out, fractions kept to the microsecond */
        ms_iot_command_json(&b, &(ms_iot_command){.dtmf = &(ms_iot_dtmf){.timeout = 0.0 / 0.0, .inter_digit_timeout = 1.0 / 0.0},
                                                  .get_ivr_command_after = 0.0000004});
        break;
    case 10:
        ms_iot_command_json(&b, &(ms_iot_command){.dtmf = &(ms_iot_dtmf){.timeout = -2.5, .inter_digit_timeout = 0.000001},
                                                  .get_ivr_command_after = 3599.999999});
        break;
    default:
        ms_iot_command_json(&b, &(ms_iot_command){0});
    }
    if (b.err) return -1;
    memcpy(area + out_off, b.data, b.len);
    int32_t n = (int32_t)b.len;
    ms_buf_free(&b);
    return n;
}
