// The auto-attendant of plugins/ivr-go in AssemblyScript: a menu (1 sales,
// 2 support, 0 the menu again), the choice plays a department prompt and
// the call ends. Its state (menu, tries) travels in TransactionAttributes.

import {
  Action, Event, EventType, Response, LEG_A, Level, HangupParams, PlayAudioParams, PlayAudioAndGetDigitsParams,
  respond, hangup, playAudio, playAudioAndGetDigits, s3Audio, log,
} from "@wasmvoice/mediaserver-as";

const BUCKET = "prompts";
const MAX_MENUS: i32 = 3;

export function handle(e: Event): Response {
  const leg = e.participant(LEG_A);
  const callId = leg === null ? "" : leg.callId;
  const t = e.invocationEventType;
  if (t == EventType.NEW_INBOUND_CALL) return menu(callId, 1);
  if (t == EventType.ACTION_SUCCESSFUL) {
    if (e.actionType() != "PlayAudioAndGetDigits") return respond(); // a prompt or hangup finished
    return choice(e, callId);
  }
  if (t == EventType.ACTION_FAILED) {
    if (e.actionType() != "PlayAudioAndGetDigits") {
      // A prompt could not be played: there is no point going on.
      log(Level.Error, "action " + e.actionType() + " failed: " + e.errorTypeOf());
      return respond([hangupLeg(callId)]).setAttribute("menu", "failed");
    }
    return goodbye(callId, e.attribute("tries")); // no valid choice after every repeat
  }
  return respond();
}

function parseTries(s: string): i32 {
  if (s.length == 0 || s.length > 6) return 1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 1;
    n = n * 10 + (c - 0x30);
  }
  return n < 1 ? 1 : n;
}

function choice(e: Event, callId: string): Response {
  const tries = parseTries(e.attribute("tries"));
  const d = e.receivedDigits();
  if (d == "1") return department(callId, "sales", "ivr/sales.wav", tries);
  if (d == "2") return department(callId, "support", "ivr/support.wav", tries);
  if (d == "0") return tries >= MAX_MENUS ? goodbye(callId, tries.toString()) : menu(callId, tries + 1);
  // The regex admits only 0-2; anything else is a host bug or a spoof.
  log(Level.Warn, "unexpected digits \"" + d + "\"");
  return menu(callId, tries + 1);
}

function menu(callId: string, tries: i32): Response {
  const p = new PlayAudioAndGetDigitsParams();
  p.callId = callId;
  p.inputDigitsRegex = "^[012]$";
  p.audioSource = s3Audio(BUCKET, "ivr/welcome.wav");
  p.failureAudioSource = s3Audio(BUCKET, "ivr/invalid.wav");
  p.minNumberOfDigits = 1;
  p.maxNumberOfDigits = 1;
  p.terminatorDigits = ["#"];
  p.repeat = MAX_MENUS;
  p.repeatDurationInMilliseconds = 5000;
  return respond([playAudioAndGetDigits(p)]).setAttribute("menu", "main").setAttribute("tries", tries.toString());
}

function prompt(callId: string, key: string): Action {
  const p = new PlayAudioParams();
  p.callId = callId;
  p.audioSource = s3Audio(BUCKET, key);
  return playAudio(p);
}

function department(callId: string, name: string, key: string, tries: i32): Response {
  return respond([prompt(callId, key), hangupLeg(callId)]).setAttribute("menu", name).setAttribute("tries", tries.toString());
}

function goodbye(callId: string, tries: string): Response {
  const r = respond([prompt(callId, "ivr/goodbye.wav"), hangupLeg(callId)]).setAttribute("menu", "goodbye");
  if (tries.length > 0) r.setAttribute("tries", tries);
  return r;
}

function hangupLeg(callId: string): Action {
  const p = new HangupParams();
  p.callId = callId;
  return hangup(p);
}
