//! meetingjoin-rust: the meeting-join handler of the Chime SDK developer
//! guide's sample, in Rust: welcome the caller, then join the meeting whose
//! token arrives with CALL_UPDATE_REQUESTED.

use mediaserver::*;

pub fn handle(e: &Event) -> HandlerResult {
    match e.event_type() {
        EventType::NewInboundCall => {
            // The sample's "addPendingCall(TransactionId)": the store is
            // optional; the call goes on without it.
            if let Err(err) = kv_set(&format!("pending-call/{}", e.call_details.transaction_id), b"") {
                log(Level::Warn, &format!("pending call not stored: {}", err));
            }
            Ok(respond(vec![play_audio(PlayAudioParams {
                participant_tag: LEG_A.to_string(),
                audio_source: s3_audio("chime-meetings-audio-files-bucket-name", "welcome.wav"),
                ..Default::default()
            })]))
        }
        EventType::CallUpdateRequested => {
            let token = e.argument("JoinToken");
            if token.is_empty() {
                log(Level::Warn, "CALL_UPDATE_REQUESTED without a JoinToken");
                return Ok(respond(vec![]));
            }
            Ok(respond(vec![join_chime_meeting(JoinChimeMeetingParams {
                join_token: token.to_string(),
                ..Default::default()
            })]))
        }
        _ => Ok(respond(vec![])),
    }
}

mediaserver::plugin!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver::testing::{golden, Host};

    #[test]
    fn golden_files() {
        let dir = format!("{}/../../sdk/conformance/meetingjoin", option_env!("CARGO_MANIFEST_DIR").unwrap_or("."));
        if let Err(e) = golden(handle, &dir) {
            panic!("{}", e);
        }
    }

    #[test]
    fn pending_call_stored() {
        let mut h = Host::new();
        h.invoke(handle, br#"{"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":{"TransactionId":"t-9"}}"#).unwrap();
        assert_eq!(h.kv.len(), 1);
        assert_eq!(h.kv.get("pending-call/t-9").map(Vec::len), Some(0));
    }

    #[test]
    fn missing_token_logged() {
        let mut h = Host::new();
        h.invoke(handle, br#"{"InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":{}}}"#)
            .unwrap();
        assert_eq!(h.logs, vec![(Level::Warn, "CALL_UPDATE_REQUESTED without a JoinToken".to_string())]);
    }
}
