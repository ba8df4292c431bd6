/*
 * ivr-c: the auto-attendant of plugins/ivr-go in C. A caller hears a menu
 * (1 sales, 2 support, 0 the menu again), the choice plays a department
 * prompt and the call ends. Its state (menu, tries) travels in
 * TransactionAttributes, so any instance can serve any event.
 */
#include "mediaserver.h"

#define BUCKET "prompts"
#define MAX_MENUS 3

/* prompt appends a PlayAudio action of key on the leg call_id. */
static void prompt(ms_buf *b, const char *call_id, const char *key) {
    ms_buf_lit(b, "{\"Type\":\"PlayAudio\",\"Parameters\":{");
    if (call_id[0]) {
        ms_buf_lit(b, "\"CallId\":");
        ms_buf_str(b, call_id);
        ms_buf_lit(b, ",");
    }
    ms_buf_lit(b, "\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"" BUCKET "\",\"Key\":");
    ms_buf_str(b, key);
    ms_buf_lit(b, "}}}");
}

static void hangup(ms_buf *b, const char *call_id) {
    ms_buf_lit(b, "{\"Type\":\"Hangup\",\"Parameters\":{");
    if (call_id[0]) {
        ms_buf_lit(b, "\"CallId\":");
        ms_buf_str(b, call_id);
    }
    ms_buf_lit(b, "}}");
}

/* attrs closes the action list and writes the attributes; tries may be "". */
static int finish(ms_buf *b, const char *menu, const char *tries) {
    ms_buf_lit(b, "],\"TransactionAttributes\":{\"menu\":");
    ms_buf_str(b, menu);
    if (tries[0]) {
        ms_buf_lit(b, ",\"tries\":");
        ms_buf_str(b, tries);
    }
    ms_buf_lit(b, "}}");
    return ms_buf_respond(b);
}

static int menu(ms_buf *b, const char *call_id, int tries) {
    char t[12];
    snprintf(t, sizeof t, "%d", tries);
    ms_buf_lit(b, "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudioAndGetDigits\",\"Parameters\":{");
    if (call_id[0]) {
        ms_buf_lit(b, "\"CallId\":");
        ms_buf_str(b, call_id);
        ms_buf_lit(b, ",");
    }
    ms_buf_lit(b, "\"InputDigitsRegex\":\"^[012]$\","
                  "\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"" BUCKET "\",\"Key\":\"ivr/welcome.wav\"},"
                  "\"FailureAudioSource\":{\"Type\":\"S3\",\"BucketName\":\"" BUCKET "\",\"Key\":\"ivr/invalid.wav\"},"
                  "\"MinNumberOfDigits\":1,\"MaxNumberOfDigits\":1,\"TerminatorDigits\":[\"#\"],"
                  "\"Repeat\":3,\"RepeatDurationInMilliseconds\":5000}}");
    return finish(b, "main", t);
}

static int leave(ms_buf *b, const char *call_id, const char *menu_name, const char *key, const char *tries) {
    ms_buf_lit(b, "{\"SchemaVersion\":\"1.0\",\"Actions\":[");
    prompt(b, call_id, key);
    ms_buf_lit(b, ",");
    hangup(b, call_id);
    return finish(b, menu_name, tries);
}

/* parse_tries reads the "tries" attribute: 1 when absent or not a positive number. */
static int parse_tries(const char *s) {
    int n = 0;
    if (!s[0] || strlen(s) > 6) return 1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 1;
        n = n * 10 + (*s - '0');
    }
    return n < 1 ? 1 : n;
}

static int handle(const char *ev, size_t n) {
    char type[32], call_id[256], action[64], tries_s[32], digits[64], err[128];
    if (ms_json_get_string(ev, n, "InvocationEventType", type, sizeof type, NULL) != MS_OK) type[0] = 0;
    if (ms_json_get_string(ev, n, "CallDetails.Participants.0.CallId", call_id, sizeof call_id, NULL) != MS_OK ||
        !ms_json_equals(ev, n, "CallDetails.Participants.0.ParticipantTag", "LEG-A"))
        call_id[0] = 0;
    if (ms_json_get_string(ev, n, "ActionData.Type", action, sizeof action, NULL) != MS_OK) action[0] = 0;
    if (ms_json_get_string(ev, n, "CallDetails.TransactionAttributes.tries", tries_s, sizeof tries_s, NULL) != MS_OK)
        tries_s[0] = 0;

    char storage[1024];
    ms_buf b;
    ms_buf_init(&b, storage, sizeof storage);
    int rc;
    if (strcmp(type, "NEW_INBOUND_CALL") == 0) {
        rc = menu(&b, call_id, 1);
    } else if (strcmp(type, "ACTION_SUCCESSFUL") == 0 && strcmp(action, "PlayAudioAndGetDigits") == 0) {
        int tries = parse_tries(tries_s);
        char t[12];
        snprintf(t, sizeof t, "%d", tries);
        if (ms_json_get_string(ev, n, "ActionData.ReceivedDigits", digits, sizeof digits, NULL) != MS_OK) digits[0] = 0;
        if (strcmp(digits, "1") == 0) rc = leave(&b, call_id, "sales", "ivr/sales.wav", t);
        else if (strcmp(digits, "2") == 0) rc = leave(&b, call_id, "support", "ivr/support.wav", t);
        else if (strcmp(digits, "0") == 0 && tries >= MAX_MENUS) rc = leave(&b, call_id, "goodbye", "ivr/goodbye.wav", t);
        else {
            if (strcmp(digits, "0") != 0) ms_log_str(MS_LOG_WARN, "unexpected digits"); /* the regex admits only 0-2 */
            rc = menu(&b, call_id, tries + 1);
        }
    } else if (strcmp(type, "ACTION_FAILED") == 0 && strcmp(action, "PlayAudioAndGetDigits") == 0) {
        rc = leave(&b, call_id, "goodbye", "ivr/goodbye.wav", tries_s); /* no valid choice after every repeat */
    } else if (strcmp(type, "ACTION_FAILED") == 0) {
        /* A prompt could not be played: there is no point going on. */
        if (ms_json_get_string(ev, n, "ActionData.ErrorType", err, sizeof err, NULL) != MS_OK) err[0] = 0;
        char line[256];
        snprintf(line, sizeof line, "action %s failed: %s", action, err);
        ms_log_str(MS_LOG_ERROR, line);
        ms_buf_lit(&b, "{\"SchemaVersion\":\"1.0\",\"Actions\":[");
        hangup(&b, call_id);
        rc = finish(&b, "failed", "");
    } else {
        rc = ms_respond_lit("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
    }
    ms_buf_free(&b);
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
