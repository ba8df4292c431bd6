// The event the host sends for every invocation (ABI SPEC section 13).

import { JSONValue, Kind, parse } from "./json";

/** The 11 invocation event types. */
export namespace EventType {
  export const NEW_INBOUND_CALL = "NEW_INBOUND_CALL";
  export const NEW_OUTBOUND_CALL = "NEW_OUTBOUND_CALL";
  export const RINGING = "RINGING";
  export const CALL_ANSWERED = "CALL_ANSWERED";
  export const ACTION_SUCCESSFUL = "ACTION_SUCCESSFUL";
  export const ACTION_FAILED = "ACTION_FAILED";
  export const ACTION_INTERRUPTED = "ACTION_INTERRUPTED";
  export const HANGUP = "HANGUP";
  export const DIGITS_RECEIVED = "DIGITS_RECEIVED";
  export const CALL_UPDATE_REQUESTED = "CALL_UPDATE_REQUESTED";
  export const INVALID_LAMBDA_RESPONSE = "INVALID_LAMBDA_RESPONSE";
}

export const LEG_A = "LEG-A";
export const LEG_B = "LEG-B";

/** One leg of the call. */
export class Participant {
  callId: string = "";
  /** LEG-A or LEG-B. */
  participantTag: string = "";
  to: string = "";
  from: string = "";
  /** Inbound or Outbound. */
  direction: string = "";
  /** Unix milliseconds as a decimal string, as Chime sends it. */
  startTimeInMilliseconds: string = "";
  /** Connected or Disconnected. */
  status: string = "";
  /** Only X-…, User-to-User and Diversion headers. */
  sipHeaders: Map<string, string> = new Map<string, string>();
}

/** The call (transaction) and its legs. */
export class CallDetails {
  transactionId: string = "";
  transactionAttributes: Map<string, string> = new Map<string, string>();
  /** The tenant id (this server has no AWS account). */
  awsAccountId: string = "";
  awsRegion: string = "";
  sipRuleId: string = "";
  sipMediaApplicationId: string = "";
  participants: Participant[] = [];
}

/** ActionData.RecordingDestination of a RecordAudio result. */
export class RecordingResult {
  type: string = "";
  bucketName: string = "";
  prefix: string = "";
  key: string = "";
}

/** ActionData.CallRecordingDestination of a StartCallRecording result. */
export class CallRecordingResult {
  type: string = "";
  location: string = "";
}

/** The action an event is about, with its results. */
export class ActionData {
  type: string = "";
  /** Verbatim; kind Null when absent. */
  parameters: JSONValue = new JSONValue();
  receivedDigits: string = "";
  errorType: string = "";
  errorMessage: string = "";
  recordingDestination: RecordingResult | null = null;
  recordingTerminatorUsed: string = "";
  callRecordingDestination: CallRecordingResult | null = null;
}

/** The envelope of one invocation. Members absent from the JSON are empty. */
export class Event {
  schemaVersion: string = "";
  sequence: i64 = 0;
  invocationEventType: string = "";
  actionData: ActionData | null = null;
  callDetails: CallDetails = new CallDetails();
  /** Set at the top level only for INVALID_LAMBDA_RESPONSE. */
  errorType: string = "";
  errorMessage: string = "";

  /** The leg with the given tag, or null. */
  participant(tag: string): Participant | null {
    const ps = this.callDetails.participants;
    for (let i = 0; i < ps.length; i++) {
      if (ps[i].participantTag == tag) return ps[i];
    }
    return null;
  }

  /** The call's transaction attribute k ("" if unset). */
  attribute(k: string): string {
    const m = this.callDetails.transactionAttributes;
    return m.has(k) ? m.get(k) : "";
  }

  /** ActionData.Parameters.Arguments[name] of CALL_UPDATE_REQUESTED ("" if absent). */
  argument(name: string): string {
    const a = this.actionData;
    if (a === null) return "";
    const args = a.parameters.get("Arguments");
    return args === null ? "" : args.getString(name);
  }

  /** ActionData.Type ("" if absent). */
  actionType(): string {
    const a = this.actionData;
    return a === null ? "" : a.type;
  }

  /** ActionData.ReceivedDigits ("" if absent). */
  receivedDigits(): string {
    const a = this.actionData;
    return a === null ? "" : a.receivedDigits;
  }

  /** The ErrorType of ACTION_FAILED (ActionData) or INVALID_LAMBDA_RESPONSE (top level). */
  errorTypeOf(): string {
    const a = this.actionData;
    return a !== null && a.errorType.length > 0 ? a.errorType : this.errorType;
  }

  /** The key of a RecordAudio recording in its ACTION_SUCCESSFUL ("" otherwise). */
  recordingKey(): string {
    const a = this.actionData;
    if (a === null) return "";
    const r = a.recordingDestination;
    return r === null ? "" : r.key;
  }
}

/** The result of parseEvent: an event, or an error. */
export class EventResult {
  event: Event = new Event();
  error: string = "";
}

class Reader {
  error: string = "";

  fail(field: string, want: string): void {
    if (this.error.length == 0) this.error = "json: " + field + " must be " + want;
  }

  str(o: JSONValue, field: string): string {
    const v = o.get(field);
    if (v === null || v.kind == Kind.Null) return "";
    if (v.kind != Kind.String) {
      this.fail(field, "a string");
      return "";
    }
    return v.str;
  }

  obj(o: JSONValue, field: string): JSONValue | null {
    const v = o.get(field);
    if (v === null || v.kind == Kind.Null) return null;
    if (v.kind != Kind.Object) {
      this.fail(field, "an object");
      return null;
    }
    return v;
  }

  strMap(o: JSONValue, field: string): Map<string, string> {
    const m = new Map<string, string>();
    const v = this.obj(o, field);
    if (v === null) return m;
    for (let i = 0; i < v.keys.length; i++) {
      const item = v.items[i];
      if (item.kind == Kind.String) m.set(v.keys[i], item.str);
      else if (item.kind != Kind.Null) this.fail(field + "." + v.keys[i], "a string");
    }
    return m;
  }
}

function parseInt64(s: string): i64 {
  let n: i64 = 0;
  let neg = false;
  let i = 0;
  if (s.length > 0 && s.charCodeAt(0) == 0x2d) {
    neg = true;
    i = 1;
  }
  if (i >= s.length || s.length - i > 18) return -1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + <i64>(c - 0x30);
  }
  return neg ? -n : n;
}

/** Decodes an event. Unknown members are ignored; a member of the wrong
 * type is an error. */
export function parseEvent(b: Uint8Array): EventResult {
  const res = new EventResult();
  const pr = parse(b);
  const v = pr.value;
  if (v === null) {
    res.error = "json: " + pr.error + " at offset " + pr.offset.toString();
    return res;
  }
  if (v.kind != Kind.Object) {
    res.error = "json: the event must be an object";
    return res;
  }
  const r = new Reader();
  const e = res.event;
  e.schemaVersion = r.str(v, "SchemaVersion");
  e.invocationEventType = r.str(v, "InvocationEventType");
  e.errorType = r.str(v, "ErrorType");
  e.errorMessage = r.str(v, "ErrorMessage");
  const seq = v.get("Sequence");
  if (seq !== null && seq.kind != Kind.Null) {
    const n = seq.kind == Kind.Number || seq.kind == Kind.String ? parseInt64(seq.str) : -1;
    if (n < 0) r.fail("Sequence", "an integer");
    else e.sequence = n;
  }
  const ad = r.obj(v, "ActionData");
  if (ad !== null) {
    const a = new ActionData();
    a.type = r.str(ad, "Type");
    const p = ad.get("Parameters");
    if (p !== null) a.parameters = p;
    a.receivedDigits = r.str(ad, "ReceivedDigits");
    a.errorType = r.str(ad, "ErrorType");
    a.errorMessage = r.str(ad, "ErrorMessage");
    a.recordingTerminatorUsed = r.str(ad, "RecordingTerminatorUsed");
    const rd = r.obj(ad, "RecordingDestination");
    if (rd !== null) {
      const x = new RecordingResult();
      x.type = r.str(rd, "Type");
      x.bucketName = r.str(rd, "BucketName");
      x.prefix = r.str(rd, "Prefix");
      x.key = r.str(rd, "Key");
      a.recordingDestination = x;
    }
    const cr = r.obj(ad, "CallRecordingDestination");
    if (cr !== null) {
      const x = new CallRecordingResult();
      x.type = r.str(cr, "Type");
      x.location = r.str(cr, "Location");
      a.callRecordingDestination = x;
    }
    e.actionData = a;
  }
  const cd = r.obj(v, "CallDetails");
  if (cd !== null) {
    const c = e.callDetails;
    c.transactionId = r.str(cd, "TransactionId");
    c.transactionAttributes = r.strMap(cd, "TransactionAttributes");
    c.awsAccountId = r.str(cd, "AwsAccountId");
    c.awsRegion = r.str(cd, "AwsRegion");
    c.sipRuleId = r.str(cd, "SipRuleId");
    c.sipMediaApplicationId = r.str(cd, "SipMediaApplicationId");
    const ps = cd.get("Participants");
    if (ps !== null && ps.kind == Kind.Array) {
      for (let i = 0; i < ps.items.length; i++) {
        const pv = ps.items[i];
        const p = new Participant();
        if (pv.kind == Kind.Object) {
          p.callId = r.str(pv, "CallId");
          p.participantTag = r.str(pv, "ParticipantTag");
          p.to = r.str(pv, "To");
          p.from = r.str(pv, "From");
          p.direction = r.str(pv, "Direction");
          p.startTimeInMilliseconds = r.str(pv, "StartTimeInMilliseconds");
          p.status = r.str(pv, "Status");
          p.sipHeaders = r.strMap(pv, "SipHeaders");
        } else if (pv.kind != Kind.Null) {
          r.fail("Participants", "an array of objects");
        }
        c.participants.push(p);
      }
    } else if (ps !== null && ps.kind != Kind.Null) {
      r.fail("Participants", "an array");
    }
  }
  res.error = r.error;
  return res;
}
