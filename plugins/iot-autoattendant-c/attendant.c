/*
 * iot-autoattendant-c: the auto-attendant of plugins/iot-autoattendant-go
 * in C. The caller meets an IVR ("Press 1 for sales and 2 for support"),
 * chooses, hears who they will be connected to, and the IVR hangs up; the
 * department is called, and when either side hangs up the other is
 * dropped. The session's state (the department to call, how often the menu
 * played) is in the key-value store under iot/<sessionId>/, so any
 * instance can serve any callback.
 */
#include "mediaserver.h"

#define SALES "+15550201"
#define SUPPORT "+15550202"
#define MENU_TEXT "Welcome. Press 1 for sales and 2 for support."
#define NOT_A_CHOICE "Sorry, that is not a choice. "
#define MAX_MENUS 3

/* The session's keys: iot/<sessionId>/<name>. */
typedef struct {
    char sid[128];
} session;

static void key(char *out, size_t cap, const session *s, const char *name) {
    snprintf(out, cap, "iot/%s/%s", s->sid, name);
}

/* get copies the value of name into out ("" when absent); a negative
 * status on a store failure. */
static int get(const session *s, const char *name, char *out, size_t cap) {
    char k[160];
    key(k, sizeof k, s, name);
    int32_t n = ms_kv_get(k, out, cap - 1);
    if (n == MS_ERR_NOT_FOUND) n = 0;
    if (n < 0) return n;
    if ((size_t)n >= cap) return MS_ERR_TOO_LARGE;
    out[n] = 0;
    return MS_OK;
}

static int set(const session *s, const char *name, const char *value) {
    char k[160];
    key(k, sizeof k, s, name);
    return ms_kv_set(k, value, strlen(value));
}

static int del(const session *s, const char *name) {
    char k[160];
    key(k, sizeof k, s, name);
    int32_t rc = ms_kv_delete(k);
    return rc == MS_ERR_NOT_FOUND ? MS_OK : rc;
}

/* say_then_hangup answers with one phrase, after which the IVR leaves. */
static int say_then_hangup(const char *text) {
    ms_iot_phrase p[] = {MS_IOT_TTS(text)};
    return ms_iot_respond_command(&(ms_iot_command){.phrases = p, .n_phrases = 1, .hangup = 1});
}

static int command(const char *ev, size_t n, const session *s) {
    char v[64], digits[16];
    int rc = get(s, "failed", v, sizeof v);
    if (rc != MS_OK) return rc;
    if (v[0]) {
        if ((rc = del(s, "failed")) != MS_OK) return rc;
        return say_then_hangup("Sorry, nobody can take your call now. Goodbye.");
    }
    ms_iot_get(ev, n, MS_IOT_REQ_DTMF_MATCH, digits, sizeof digits);
    if (strcmp(digits, "1") == 0) {
        if ((rc = set(s, "dest", SALES)) != MS_OK) return rc;
        return say_then_hangup("Thank you, you will get connected to sales.");
    }
    if (strcmp(digits, "2") == 0) {
        if ((rc = set(s, "dest", SUPPORT)) != MS_OK) return rc;
        return say_then_hangup("Thank you, you will get connected to support.");
    }
    if ((rc = get(s, "menus", v, sizeof v)) != MS_OK) return rc;
    int menus = atoi(v);
    if (menus >= MAX_MENUS) return say_then_hangup("Goodbye.");
    snprintf(v, sizeof v, "%d", menus + 1);
    if ((rc = set(s, "menus", v)) != MS_OK) return rc;
    ms_iot_phrase p[] = {MS_IOT_TTS(digits[0] ? NOT_A_CHOICE MENU_TEXT : MENU_TEXT)};
    return ms_iot_respond_command(&(ms_iot_command){.dtmf = &(ms_iot_dtmf){.max_digits = 1}, .phrases = p, .n_phrases = 1});
}

static int event(const char *ev, size_t n, const session *s) {
    char name[32], dest[64];
    int rc;
    ms_iot_get(ev, n, MS_IOT_REQ_EVENT, name, sizeof name);
    if (strcmp(name, MS_IOT_EVENT_CALLED_PARTY_DROP) == 0) {
        /* The IVR hung up (or the department did): call the department
         * chosen, once. */
        if ((rc = get(s, "dest", dest, sizeof dest)) != MS_OK) return rc;
        if (!dest[0]) return ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_DROP});
        if ((rc = del(s, "dest")) != MS_OK) return rc;
        return ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_CALL, .dest_addr = dest});
    }
    if (strcmp(name, MS_IOT_EVENT_CALL_FAILED) == 0) {
        /* The department did not answer: an IVR tells the caller. */
        ms_log_str(MS_LOG_INFO, "department did not answer");
        if ((rc = set(s, "failed", "1")) != MS_OK) return rc;
        return ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_IVR});
    }
    return ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_DROP}); /* the other side hung up */
}

static int handle(const char *ev, size_t n) {
    session s;
    int rc = ms_iot_get(ev, n, MS_IOT_REQ_SESSION_ID, s.sid, sizeof s.sid);
    if (rc != MS_OK && rc != MS_ERR_NOT_FOUND) {
        ms_log_str(MS_LOG_ERROR, "no usable sessionId");
        return 1;
    }
    switch (ms_iot_callback(ev, n)) {
    case MS_IOT_CB_NEW_CALL:
        rc = ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_IVR});
        break;
    case MS_IOT_CB_GET_IVR_COMMAND:
        rc = command(ev, n, &s);
        break;
    case MS_IOT_CB_CALL_EVENT:
        rc = event(ev, n, &s);
        break;
    case MS_IOT_CB_SESSION_COMPLETED:
        rc = del(&s, "dest");
        if (rc == MS_OK) rc = del(&s, "menus");
        if (rc == MS_OK) rc = del(&s, "failed");
        if (rc == MS_OK) rc = ms_iot_respond_none();
        break;
    default: /* callNotify, callAnswered, recordingReady: nothing to decide */
        rc = ms_iot_respond_none();
    }
    if (rc != MS_OK) ms_log_str(MS_LOG_ERROR, "the key-value store or the response failed");
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
