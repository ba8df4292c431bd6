// The meeting-join handler of the Chime SDK developer guide's sample, in
// AssemblyScript: welcome the caller, then join the meeting whose token
// arrives with CALL_UPDATE_REQUESTED.

import {
  Event, EventType, Response, LEG_A, Level, PlayAudioParams, JoinChimeMeetingParams,
  respond, playAudio, joinChimeMeeting, s3Audio, kvSet, log,
} from "@wasmvoice/mediaserver-as";

export function handle(e: Event): Response {
  if (e.invocationEventType == EventType.NEW_INBOUND_CALL) {
    // The sample's "addPendingCall(TransactionId)": the store is optional;
    // the call goes on without it.
    if (kvSet("pending-call/" + e.callDetails.transactionId, new Uint8Array(0)) != 0) {
      log(Level.Warn, "pending call not stored");
    }
    const p = new PlayAudioParams();
    p.participantTag = LEG_A;
    p.audioSource = s3Audio("chime-meetings-audio-files-bucket-name", "welcome.wav");
    return respond([playAudio(p)]);
  }
  if (e.invocationEventType == EventType.CALL_UPDATE_REQUESTED) {
    const token = e.argument("JoinToken");
    if (token.length == 0) {
      log(Level.Warn, "CALL_UPDATE_REQUESTED without a JoinToken");
      return respond();
    }
    const p = new JoinChimeMeetingParams();
    p.joinToken = token;
    return respond([joinChimeMeeting(p)]);
  }
  return respond();
}
