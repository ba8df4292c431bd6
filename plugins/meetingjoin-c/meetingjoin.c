/*
 * meetingjoin-c: the meeting-join handler of the Chime SDK developer guide's
 * sample, in C. NEW_INBOUND_CALL remembers the call (the sample's
 * addPendingCall) and plays the welcome prompt to LEG-A,
 * CALL_UPDATE_REQUESTED joins the meeting of its JoinToken argument, any
 * other event gets an empty action list.
 *
 * It does no more than the sample needs: one lookup for the event type, one
 * for the transaction id or the token, and literal responses sent without
 * measuring them at run time.
 */
#include "mediaserver.h"

#define EMPTY "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}"
#define PENDING "pending-call/"

static int new_inbound_call(const char *ev, size_t n) {
    /* The sample's "addPendingCall(TransactionId)": the store is optional;
     * the call goes on without it. */
    char key[sizeof PENDING - 1 + 256];
    size_t tlen;
    memcpy(key, PENDING, sizeof PENDING - 1);
    if (ms_json_get_string(ev, n, "CallDetails.TransactionId", key + sizeof PENDING - 1, sizeof key - (sizeof PENDING - 1),
                           &tlen) == MS_OK) {
        if (ms_host_kv_set(key, (int32_t)(sizeof PENDING - 1 + tlen), "", 0) != MS_OK)
            ms_log_str(MS_LOG_WARN, "pending call not stored");
    }
    return ms_respond_lit("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudio\",\"Parameters\":{"
                          "\"ParticipantTag\":\"LEG-A\",\"AudioSource\":{\"Type\":\"S3\","
                          "\"BucketName\":\"chime-meetings-audio-files-bucket-name\",\"Key\":\"welcome.wav\"}}}]}");
}

static int call_update_requested(const char *ev, size_t n) {
    char token[4096];
    size_t tlen;
    int rc = ms_json_get_string(ev, n, "ActionData.Parameters.Arguments.JoinToken", token, sizeof token, &tlen);
    if (rc != MS_OK) {
        ms_log_str(MS_LOG_WARN, "CALL_UPDATE_REQUESTED without a JoinToken");
        return ms_respond_lit(EMPTY);
    }
    char storage[1024];
    ms_buf b;
    ms_buf_init(&b, storage, sizeof storage);
    ms_buf_lit(&b, "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"JoinChimeMeeting\",\"Parameters\":{\"JoinToken\":");
    ms_buf_strn(&b, token, tlen);
    ms_buf_lit(&b, "}}]}");
    rc = ms_buf_respond(&b);
    ms_buf_free(&b);
    return rc;
}

static int handle(const char *ev, size_t n) {
    char type[32];
    size_t tlen = 0;
    int rc;
    if (ms_json_get_string(ev, n, "InvocationEventType", type, sizeof type, &tlen) != MS_OK) tlen = 0;
    if (ms_eq_lit(type, tlen, "NEW_INBOUND_CALL")) rc = new_inbound_call(ev, n);
    else if (ms_eq_lit(type, tlen, "CALL_UPDATE_REQUESTED")) rc = call_update_requested(ev, n);
    else rc = ms_respond_lit(EMPTY);
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
