/*
 * meetingjoin-c: the meeting-join handler of the Chime SDK developer guide's
 * sample, in C. NEW_INBOUND_CALL plays the welcome prompt to LEG-A,
 * CALL_UPDATE_REQUESTED joins the meeting of its JoinToken argument, any
 * other event gets an empty action list.
 */
#include "mediaserver.h"

#define EMPTY "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}"

static int new_inbound_call(const char *ev, size_t n) {
    /* The sample's "addPendingCall": remember the call for the meeting
     * service. The store is optional; the call goes on without it. */
    char key[300] = "pending-call/";
    char caller[64] = "";
    size_t klen = strlen(key);
    if (ms_json_get_string(ev, n, "CallDetails.TransactionId", key + klen, sizeof key - klen, NULL) == MS_OK) {
        if (ms_json_get_string(ev, n, "CallDetails.Participants.0.From", caller, sizeof caller, NULL) != MS_OK)
            caller[0] = 0;
        int rc = ms_kv_set(key, caller, strlen(caller));
        if (rc != MS_OK) ms_log_str(MS_LOG_WARN, "pending call not stored");
    }
    return ms_respond_str("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudio\",\"Parameters\":{"
                          "\"ParticipantTag\":\"LEG-A\",\"AudioSource\":{\"Type\":\"S3\","
                          "\"BucketName\":\"chime-meetings-audio-files-bucket-name\",\"Key\":\"welcome.wav\"}}}]}");
}

static int call_update_requested(const char *ev, size_t n) {
    char token[4096];
    size_t tlen;
    int rc = ms_json_get_string(ev, n, "ActionData.Parameters.Arguments.JoinToken", token, sizeof token, &tlen);
    if (rc != MS_OK) {
        ms_log_str(MS_LOG_WARN, "CALL_UPDATE_REQUESTED without a JoinToken");
        return ms_respond_str(EMPTY);
    }
    char storage[1024];
    ms_buf b;
    ms_buf_init(&b, storage, sizeof storage);
    ms_buf_raw(&b, "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"JoinChimeMeeting\",\"Parameters\":{\"JoinToken\":");
    ms_buf_strn(&b, token, tlen);
    ms_buf_raw(&b, "}}]}");
    rc = ms_buf_respond(&b);
    ms_buf_free(&b);
    return rc;
}

static int handle(const char *ev, size_t n) {
    char type[64];
    int rc;
    if (ms_json_get_string(ev, n, "InvocationEventType", type, sizeof type, NULL) != MS_OK) type[0] = 0;
    if (strcmp(type, "NEW_INBOUND_CALL") == 0) rc = new_inbound_call(ev, n);
    else if (strcmp(type, "CALL_UPDATE_REQUESTED") == 0) rc = call_update_requested(ev, n);
    else rc = ms_respond_str(EMPTY);
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
