//! The event the host sends for every invocation (ABI SPEC section 13).

use crate::json::{self, Value};
use std::collections::BTreeMap;

/// The 11 invocation event types, and `Other` for a type this SDK does not
/// know yet (new types are an additive change of ABI v1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    NewInboundCall,
    NewOutboundCall,
    Ringing,
    CallAnswered,
    ActionSuccessful,
    ActionFailed,
    ActionInterrupted,
    Hangup,
    DigitsReceived,
    CallUpdateRequested,
    InvalidLambdaResponse,
    Other,
}

impl EventType {
    /// The type of an `InvocationEventType` string.
    pub fn from_name(s: &str) -> EventType {
        match s {
            "NEW_INBOUND_CALL" => EventType::NewInboundCall,
            "NEW_OUTBOUND_CALL" => EventType::NewOutboundCall,
            "RINGING" => EventType::Ringing,
            "CALL_ANSWERED" => EventType::CallAnswered,
            "ACTION_SUCCESSFUL" => EventType::ActionSuccessful,
            "ACTION_FAILED" => EventType::ActionFailed,
            "ACTION_INTERRUPTED" => EventType::ActionInterrupted,
            "HANGUP" => EventType::Hangup,
            "DIGITS_RECEIVED" => EventType::DigitsReceived,
            "CALL_UPDATE_REQUESTED" => EventType::CallUpdateRequested,
            "INVALID_LAMBDA_RESPONSE" => EventType::InvalidLambdaResponse,
            _ => EventType::Other,
        }
    }
}

/// Leg tags.
pub const LEG_A: &str = "LEG-A";
pub const LEG_B: &str = "LEG-B";

/// The envelope of one invocation. Members absent from the JSON are empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    pub schema_version: String,
    /// A JSON number, or a string holding one.
    pub sequence: i64,
    pub invocation_event_type: String,
    pub action_data: Option<ActionData>,
    pub call_details: CallDetails,
    /// Set at the top level only for INVALID_LAMBDA_RESPONSE; ACTION_FAILED
    /// carries them in `action_data`.
    pub error_type: String,
    pub error_message: String,
}

/// The call (transaction) and its legs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallDetails {
    pub transaction_id: String,
    pub transaction_attributes: BTreeMap<String, String>,
    /// The tenant id (this server has no AWS account).
    pub aws_account_id: String,
    pub aws_region: String,
    pub sip_rule_id: String,
    pub sip_media_application_id: String,
    pub participants: Vec<Participant>,
}

/// One leg of the call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Participant {
    pub call_id: String,
    /// [`LEG_A`] or [`LEG_B`].
    pub participant_tag: String,
    pub to: String,
    pub from: String,
    /// `Inbound` or `Outbound`.
    pub direction: String,
    /// Unix milliseconds as a decimal string, as Chime sends it.
    pub start_time_in_milliseconds: String,
    /// `Connected` or `Disconnected`.
    pub status: String,
    /// Only `X-…`, `User-to-User` and `Diversion` headers.
    pub sip_headers: BTreeMap<String, String>,
}

/// The action an event is about, with its results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionData {
    pub type_: String,
    /// Verbatim; `Value::Null` when absent.
    pub parameters: Value,
    /// The digits of PlayAudioAndGetDigits, SpeakAndGetDigits, ReceiveDigits.
    pub received_digits: String,
    /// ACTION_FAILED: Chime's ErrorType and message.
    pub error_type: String,
    pub error_message: String,
    /// RecordAudio's ACTION_SUCCESSFUL: where the recording is (`key` set).
    pub recording_destination: Option<RecordingResult>,
    pub recording_terminator_used: String,
    /// StartCallRecording's ACTION_SUCCESSFUL: `{Type:"S3", Location:"bucket/key"}`.
    pub call_recording_destination: Option<CallRecordingResult>,
}

/// `ActionData.RecordingDestination` of a RecordAudio result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingResult {
    pub type_: String,
    pub bucket_name: String,
    pub prefix: String,
    pub key: String,
}

/// `ActionData.CallRecordingDestination` of a StartCallRecording result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallRecordingResult {
    pub type_: String,
    pub location: String,
}

impl Default for Value {
    fn default() -> Value {
        Value::Null
    }
}

fn type_error(field: &str, want: &str) -> json::Error {
    json::Error { offset: 0, msg: format!("{} must be {}", field, want) }
}

/// A string member: absent or null is "", any other type an error.
fn string(obj: &Value, field: &str) -> Result<String, json::Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(type_error(field, "a string")),
    }
}

fn string_map(obj: &Value, field: &str) -> Result<BTreeMap<String, String>, json::Error> {
    let mut m = BTreeMap::new();
    match obj.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Object(members)) => {
            for (k, v) in members {
                match v {
                    Value::String(s) => {
                        m.insert(k.clone(), s.clone());
                    }
                    Value::Null => {}
                    _ => return Err(type_error(&format!("{}.{}", field, k), "a string")),
                }
            }
        }
        Some(_) => return Err(type_error(field, "an object")),
    }
    Ok(m)
}

/// An object member: Some for an object, None when absent or null.
fn object<'a>(obj: &'a Value, field: &str) -> Result<Option<&'a Value>, json::Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(type_error(field, "an object")),
    }
}

impl Event {
    /// Decodes an event. Unknown members are ignored; a member of the wrong
    /// type is an error.
    pub fn parse(b: &[u8]) -> Result<Event, json::Error> {
        let v = json::parse(b)?;
        if !matches!(v, Value::Object(_)) {
            return Err(type_error("the event", "an object"));
        }
        let sequence = match v.get("Sequence") {
            None | Some(Value::Null) => 0,
            Some(s) => s.as_i64().ok_or_else(|| type_error("Sequence", "an integer"))?,
        };
        let action_data = match object(&v, "ActionData")? {
            None => None,
            Some(a) => Some(ActionData {
                type_: string(a, "Type")?,
                parameters: a.get("Parameters").cloned().unwrap_or(Value::Null),
                received_digits: string(a, "ReceivedDigits")?,
                error_type: string(a, "ErrorType")?,
                error_message: string(a, "ErrorMessage")?,
                recording_destination: match object(a, "RecordingDestination")? {
                    None => None,
                    Some(r) => Some(RecordingResult {
                        type_: string(r, "Type")?,
                        bucket_name: string(r, "BucketName")?,
                        prefix: string(r, "Prefix")?,
                        key: string(r, "Key")?,
                    }),
                },
                recording_terminator_used: string(a, "RecordingTerminatorUsed")?,
                call_recording_destination: match object(a, "CallRecordingDestination")? {
                    None => None,
                    Some(r) => Some(CallRecordingResult { type_: string(r, "Type")?, location: string(r, "Location")? }),
                },
            }),
        };
        let mut call_details = CallDetails::default();
        if let Some(c) = object(&v, "CallDetails")? {
            call_details.transaction_id = string(c, "TransactionId")?;
            call_details.transaction_attributes = string_map(c, "TransactionAttributes")?;
            call_details.aws_account_id = string(c, "AwsAccountId")?;
            call_details.aws_region = string(c, "AwsRegion")?;
            call_details.sip_rule_id = string(c, "SipRuleId")?;
            call_details.sip_media_application_id = string(c, "SipMediaApplicationId")?;
            match c.get("Participants") {
                None | Some(Value::Null) => {}
                Some(Value::Array(ps)) => {
                    for p in ps {
                        if p.is_null() {
                            call_details.participants.push(Participant::default());
                            continue;
                        }
                        if !matches!(p, Value::Object(_)) {
                            return Err(type_error("Participants", "an array of objects"));
                        }
                        call_details.participants.push(Participant {
                            call_id: string(p, "CallId")?,
                            participant_tag: string(p, "ParticipantTag")?,
                            to: string(p, "To")?,
                            from: string(p, "From")?,
                            direction: string(p, "Direction")?,
                            start_time_in_milliseconds: string(p, "StartTimeInMilliseconds")?,
                            status: string(p, "Status")?,
                            sip_headers: string_map(p, "SipHeaders")?,
                        });
                    }
                }
                Some(_) => return Err(type_error("Participants", "an array")),
            }
        }
        Ok(Event {
            schema_version: string(&v, "SchemaVersion")?,
            sequence,
            invocation_event_type: string(&v, "InvocationEventType")?,
            action_data,
            call_details,
            error_type: string(&v, "ErrorType")?,
            error_message: string(&v, "ErrorMessage")?,
        })
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        EventType::from_name(&self.invocation_event_type)
    }

    /// The leg with the given tag.
    pub fn participant(&self, tag: &str) -> Option<&Participant> {
        self.call_details.participants.iter().find(|p| p.participant_tag == tag)
    }

    /// The call's transaction attribute `k` ("" if unset).
    pub fn attribute(&self, k: &str) -> &str {
        self.call_details.transaction_attributes.get(k).map_or("", |s| s.as_str())
    }

    /// `ActionData.Parameters.Arguments[name]` of a CALL_UPDATE_REQUESTED
    /// (or NEW_OUTBOUND_CALL) event; "" if absent.
    pub fn argument(&self, name: &str) -> &str {
        self.action_data
            .as_ref()
            .and_then(|a| a.parameters.path(&["Arguments", name]))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `ActionData.Type` ("" if absent).
    pub fn action_type(&self) -> &str {
        self.action_data.as_ref().map_or("", |a| a.type_.as_str())
    }

    /// `ActionData.ReceivedDigits` ("" if absent).
    pub fn received_digits(&self) -> &str {
        self.action_data.as_ref().map_or("", |a| a.received_digits.as_str())
    }

    /// The ErrorType of an ACTION_FAILED (in ActionData) or of an
    /// INVALID_LAMBDA_RESPONSE (top level); "" otherwise.
    pub fn error_type(&self) -> &str {
        match &self.action_data {
            Some(a) if !a.error_type.is_empty() => &a.error_type,
            _ => &self.error_type,
        }
    }

    /// The key of a RecordAudio recording in its ACTION_SUCCESSFUL ("" otherwise).
    pub fn recording_key(&self) -> &str {
        self.action_data
            .as_ref()
            .and_then(|a| a.recording_destination.as_ref())
            .map_or("", |r| r.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_event() {
        let e = Event::parse(
            br#"{"SchemaVersion":"1.0","Sequence":"3","InvocationEventType":"ACTION_SUCCESSFUL",
            "ActionData":{"Type":"RecordAudio","Parameters":{"CallId":"c1"},"RecordingDestination":{"Type":"S3","BucketName":"b","Key":"k/1.wav"}},
            "CallDetails":{"TransactionId":"t","TransactionAttributes":{"a":"1"},"Participants":[{"CallId":"c1","ParticipantTag":"LEG-A","From":"+1","SipHeaders":{"X-A":"b"}}]}}"#,
        )
        .unwrap();
        assert_eq!(e.sequence, 3);
        assert_eq!(e.event_type(), EventType::ActionSuccessful);
        assert_eq!(e.recording_key(), "k/1.wav");
        assert_eq!(e.attribute("a"), "1");
        assert_eq!(e.participant(LEG_A).unwrap().sip_headers.get("X-A").unwrap(), "b");
        assert!(e.participant(LEG_B).is_none());
    }

    #[test]
    fn wrong_types() {
        for bad in [
            r#"{"InvocationEventType":1}"#,
            r#"{"Sequence":"x"}"#,
            r#"{"CallDetails":{"Participants":{}}}"#,
            r#"{"CallDetails":{"TransactionAttributes":{"a":1}}}"#,
            r#"[]"#,
        ] {
            assert!(Event::parse(bad.as_bytes()).is_err(), "{}", bad);
        }
    }
}
