package main

// The files of "mediaserver plugin new". {{NAME}} is the folder's name,
// {{CRATE}} the same with '_' for '-', {{SDK}} the path of the SDK folder
// relative to the plugin.

const goldenEvent = `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":{"TransactionId":"tx-1","AwsAccountId":"demo","AwsRegion":"local","SipRuleId":"rule-1","SipMediaApplicationId":"{{NAME}}","Participants":[{"CallId":"call-a","ParticipantTag":"LEG-A","To":"+15550100","From":"+15550199","Direction":"Inbound","StartTimeInMilliseconds":"1700000000000","Status":"Connected"}]}}`

var commonScaffold = map[string]string{
	"testdata/new_inbound_call.golden": goldenEvent + `
----
{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"prompts","Key":"welcome.wav"}}}],"TransactionAttributes":{"greeted":"yes"}}
`,
	"testdata/hangup.golden": `{"SchemaVersion":"1.0","Sequence":2,"InvocationEventType":"HANGUP","ActionData":{"Type":"Hangup","Parameters":{"SipResponseCode":0,"CallId":"call-a","ParticipantTag":"LEG-A"}},"CallDetails":{"TransactionId":"tx-1","TransactionAttributes":{"greeted":"yes"},"AwsAccountId":"demo","AwsRegion":"local","SipRuleId":"rule-1","SipMediaApplicationId":"{{NAME}}","Participants":[{"CallId":"call-a","ParticipantTag":"LEG-A","To":"+15550100","From":"+15550199","Direction":"Inbound","StartTimeInMilliseconds":"1700000000000","Status":"Disconnected"}]}}
----
{"SchemaVersion":"1.0","Actions":[]}
`,
	"README.md": `# {{NAME}}

A media server plugin: on NEW_INBOUND_CALL it plays ` + "`welcome.wav`" + ` of the
bucket ` + "`prompts`" + ` to the caller and sets the transaction attribute
` + "`greeted`" + `; every other event gets an empty action list.

` + "```sh" + `
./build.sh                        # bin/{{NAME}}.wasm (ABI v1 reactor), bin/{{NAME}}-cmd.wasm (WASI command)
mediactl plugin test .            # the golden files of testdata/ against both
mediactl plugin run bin/{{NAME}}.wasm          # one demo event, response validated
mediactl plugin upload bin/{{NAME}}.wasm -app APP   # live on a server
` + "```" + `

A golden file is an event JSON, a line ` + "`----`" + `, and the response
the handler must give (compared as JSON values). Add one per behaviour. The
SDK's README (` + "`{{SDK}}`" + `) lists every action's parameters and what each
ACTION_SUCCESSFUL carries.
`,
}

var goScaffold = map[string]string{
	"go.mod": `module example.com/{{NAME}}

go 1.26

require github.com/wasmvoice/mediaserver/sdk/go v0.0.0

replace github.com/wasmvoice/mediaserver/sdk/go => {{SDK}}/go
`,
	"main.go": `// Command {{NAME}} is a media server plugin.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

func init() { ms.Handle(handle) } // init, not main: a reactor never runs main

func main() { ms.Main() }

func handle(e *ms.Event) (*ms.Response, error) {
	switch e.InvocationEventType {
	case ms.EventNewInboundCall:
		return ms.Respond(ms.PlayAudio(ms.PlayAudioParams{
			ParticipantTag: ms.LegA,
			AudioSource:    ms.S3Audio("prompts", "welcome.wav"),
		})).SetAttribute("greeted", "yes"), nil
	}
	return ms.Respond(), nil
}
`,
	"main_test.go": `//go:build !wasip1

package main

import (
	"testing"

	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the golden files natively (go test ./...).
func TestGolden(t *testing.T) { mstest.Golden(t, "testdata/*.golden") }
`,
	"build.sh": `#!/bin/sh
# Builds bin/{{NAME}}.wasm (ABI v1 reactor) and bin/{{NAME}}-cmd.wasm (WASI command).
set -eu
cd "$(dirname "$0")"
mkdir -p bin
GOWORK=off GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/{{NAME}}.wasm .
GOWORK=off GOOS=wasip1 GOARCH=wasm go build -tags mediaserver_command -o bin/{{NAME}}-cmd.wasm .
`,
}

var cScaffold = map[string]string{
	"{{NAME}}.c": `/* {{NAME}}: a media server plugin. */
#include "mediaserver.h"

static int handle(const char *ev, size_t n) {
    char type[32];
    size_t len = 0;
    if (ms_json_get_string(ev, n, "InvocationEventType", type, sizeof type, &len) != MS_OK) len = 0;
    int rc;
    if (ms_eq_lit(type, len, "NEW_INBOUND_CALL"))
        rc = ms_respond_lit("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudio\",\"Parameters\":{"
                            "\"ParticipantTag\":\"LEG-A\",\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"prompts\","
                            "\"Key\":\"welcome.wav\"}}}],\"TransactionAttributes\":{\"greeted\":\"yes\"}}");
    else
        rc = ms_respond_lit("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
`,
	"build.sh": `#!/bin/sh
# Builds bin/{{NAME}}.wasm (ABI v1 reactor) and bin/{{NAME}}-cmd.wasm (WASI
# command). Needs clang, lld, wasi-libc and libclang-rt-dev-wasm32 (Debian).
set -eu
cd "$(dirname "$0")"
mkdir -p bin
CFLAGS="--target=wasm32-wasi -O3 -msimd128 -mbulk-memory -Wall -Wextra -Werror -I{{SDK}}/c -Wl,--strip-debug"
# shellcheck disable=SC2086
${CLANG:-clang} $CFLAGS -mexec-model=reactor -o bin/{{NAME}}.wasm {{NAME}}.c
# shellcheck disable=SC2086
${CLANG:-clang} $CFLAGS -DMEDIASERVER_COMMAND -o bin/{{NAME}}-cmd.wasm {{NAME}}.c
`,
}

var rustScaffold = map[string]string{
	"Cargo.toml": `[package]
name = "{{NAME}}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib", "rlib"]
path = "src/lib.rs"

[dependencies]
mediaserver = { path = "{{SDK}}/rust" }
`,
	"src/lib.rs": `//! {{NAME}}: a media server plugin.

use mediaserver::*;

pub fn handle(e: &Event) -> HandlerResult {
    Ok(match e.event_type() {
        EventType::NewInboundCall => respond(vec![play_audio(PlayAudioParams {
            participant_tag: LEG_A.to_string(),
            audio_source: s3_audio("prompts", "welcome.wav"),
            ..Default::default()
        })])
        .set_attribute("greeted", "yes"),
        _ => respond(vec![]),
    })
}

mediaserver::plugin!(handle);

#[cfg(test)]
mod tests {
    #[test]
    fn golden_files() {
        if let Err(e) = mediaserver::testing::golden(super::handle, "testdata") {
            panic!("{}", e);
        }
    }
}
`,
	"build.sh": `#!/bin/sh
# Builds bin/{{NAME}}.wasm (ABI v1 reactor), bin/{{NAME}}-cmd.wasm (WASI
# command) and bin/{{NAME}}-test (native tests), with the first rustc that
# has a wasm32 WASI standard library (Debian: rustc libstd-rust-dev-wasm32).
# With Cargo: cargo build --release --target wasm32-wasip1 makes the reactor.
set -eu
cd "$(dirname "$0")"
SDK={{SDK}}/rust
TARGET=
for r in ${RUSTC:-} rustc /usr/bin/rustc; do
	command -v "$r" >/dev/null 2>&1 || continue
	root=$("$r" --print sysroot) || continue
	for t in wasm32-wasip1 wasm32-wasi; do
		if [ -d "$root/lib/rustlib/$t/lib" ]; then RUSTC=$r; TARGET=$t; break 2; fi
	done
done
[ -n "$TARGET" ] || { echo "no rustc with a wasm32-wasip1 or wasm32-wasi standard library" >&2; exit 1; }
F="--edition 2021 -C opt-level=3 -C strip=debuginfo"
mkdir -p bin/rust/$TARGET bin/rust/native
# shellcheck disable=SC2086
"$RUSTC" $F --crate-name mediaserver --crate-type rlib --target $TARGET -o bin/rust/$TARGET/libmediaserver.rlib $SDK/src/lib.rs
# shellcheck disable=SC2086
"$RUSTC" $F --crate-name mediaserver --crate-type rlib -o bin/rust/native/libmediaserver.rlib $SDK/src/lib.rs
W="--target $TARGET -L bin/rust/$TARGET --extern mediaserver=bin/rust/$TARGET/libmediaserver.rlib --crate-name {{CRATE}}"
# shellcheck disable=SC2086
"$RUSTC" $F $W --crate-type cdylib -o bin/{{NAME}}.wasm src/lib.rs
# shellcheck disable=SC2086
"$RUSTC" $F $W --crate-type bin --cfg mediaserver_command -o bin/{{NAME}}-cmd.wasm src/lib.rs
# shellcheck disable=SC2086
"$RUSTC" $F -L bin/rust/native --extern mediaserver=bin/rust/native/libmediaserver.rlib --crate-name {{CRATE}} --test -o bin/{{NAME}}-test src/lib.rs
bin/{{NAME}}-test -q
`,
}

var asScaffold = map[string]string{
	"package.json": `{
  "name": "{{NAME}}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": { "build": "./build.sh" },
  "dependencies": { "@wasmvoice/mediaserver-as": "file:{{SDK}}/assemblyscript" },
  "devDependencies": { "assemblyscript": "0.28.20" }
}
`,
	"assembly/handler.ts": `// {{NAME}}: a media server plugin.
import { Event, EventType, Response, LEG_A, PlayAudioParams, respond, playAudio, s3Audio } from "@wasmvoice/mediaserver-as";

export function handle(e: Event): Response {
  if (e.invocationEventType == EventType.NEW_INBOUND_CALL) {
    const p = new PlayAudioParams();
    p.participantTag = LEG_A;
    p.audioSource = s3Audio("prompts", "welcome.wav");
    return respond([playAudio(p)]).setAttribute("greeted", "yes");
  }
  return respond();
}
`,
	"assembly/index.ts": `// The ABI v1 reactor: built with --exportStart _initialize (build.sh).
import { handle } from "./handler";
import { setHandler } from "@wasmvoice/mediaserver-as/assembly/reactor";

setHandler(handle);

export { mediaserver_abi_v1, handle_event } from "@wasmvoice/mediaserver-as/assembly/reactor";
`,
	"assembly/command.ts": `// The WASI command (compatibility mode): built with --exportStart _start.
import { handle } from "./handler";
import { runCommand } from "@wasmvoice/mediaserver-as/assembly/command";

runCommand(handle);
`,
	"build.sh": `#!/bin/sh
# Builds bin/{{NAME}}.wasm (ABI v1 reactor) and bin/{{NAME}}-cmd.wasm (WASI
# command). Uses node_modules after "npm install", else the compiler the SDK
# folder installed (npm ci in {{SDK}}/assemblyscript).
set -eu
cd "$(dirname "$0")"
SDK={{SDK}}/assemblyscript
ASC=node_modules/.bin/asc
[ -x "$ASC" ] || ASC=$SDK/node_modules/.bin/asc
[ -x "$ASC" ] || { echo "no AssemblyScript compiler: npm install (or npm ci in $SDK)" >&2; exit 1; }
mkdir -p bin/as_modules/@wasmvoice
[ -e bin/as_modules/@wasmvoice/mediaserver-as ] || ln -s "$(cd "$SDK" && pwd)" bin/as_modules/@wasmvoice/mediaserver-as
F="--path bin/as_modules -O3 --use abort=~lib/@wasmvoice/mediaserver-as/assembly/host/mediaserverAbort"
# shellcheck disable=SC2086
"$ASC" assembly/index.ts $F --exportStart _initialize -o bin/{{NAME}}.wasm
# shellcheck disable=SC2086
"$ASC" assembly/command.ts $F --exportStart _start -o bin/{{NAME}}-cmd.wasm
`,
}

// The iotcomms model's files: the handler answers the callbacks of an
// iotcomms application (ms.HandleIot); the build and the native test are
// the Chime scaffold's.

var commonIotScaffold = map[string]string{
	"testdata/new_call.golden": `{"callback":"newCall","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}","participantId":"sess-1/p1","user":"+15550199","from":"+15550199","to":"+15550100","direction":"inbound"}
----
{"action":"ivr"}
`,
	"testdata/menu.golden": `{"callback":"getIvrCommand","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}","participantId":"sess-1/p2","connectionId":"sess-1/1","replyId":"reply-1","callerParticipantId":"sess-1/p1","user":"+15550199"}
----
{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press a key."}}]}
`,
	"testdata/digit.golden": `{"callback":"getIvrCommand","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}","participantId":"sess-1/p2","connectionId":"sess-1/1","replyId":"reply-1","callerParticipantId":"sess-1/p1","user":"+15550199","dtmfParams":{"dtmfMatch":"5","reason":"maxDigits"}}
----
{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"You pressed 5. Goodbye."}}],"hangup":true}
`,
	"testdata/timeout.golden": `{"callback":"getIvrCommand","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}","participantId":"sess-1/p2","connectionId":"sess-1/1","replyId":"reply-1","callerParticipantId":"sess-1/p1","user":"+15550199","dtmfParams":{"dtmfMatch":"","reason":"timeout"}}
----
{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Goodbye."}}],"hangup":true}
`,
	"testdata/ivr_hung_up.golden": `{"callback":"callEvent","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}","event":"calledPartyDrop","participantId":"sess-1/p1","user":"+15550199","replyId":"reply-e1","connectionId":"sess-1/1"}
----
{"action":"drop"}
`,
	"testdata/session_completed.golden": `{"callback":"sessionCompleted","sessionId":"sess-1","tenantId":"demo","applicationId":"{{NAME}}"}
----
{}
`,
	"README.md": `# {{NAME}}

A media server plugin for an application whose model is ` + "`iotcomms`" + `
(iotcomms SIP Mediaserver callbacks). The caller meets an IVR that says
"Welcome. Press a key." and collects one digit, then says which key was
pressed (or "Goodbye." when none was) and hangs up; when the IVR has hung
up, the caller is dropped and the session ends.

| callback | answer |
|---|---|
| ` + "`newCall`" + ` | ` + "`{\"action\":\"ivr\"}`" + ` |
| ` + "`getIvrCommand`" + `, no digits collected yet | the greeting with ` + "`dtmf` `{\"maxDigits\":1}`" + ` |
| … a digit | "You pressed 5. Goodbye." and ` + "`hangup:true`" + ` |
| … none (a timeout, ` + "`/interruptivrcommand`" + `) | "Goodbye." and ` + "`hangup:true`" + ` |
| ` + "`callEvent`" + ` (the IVR hung up) | ` + "`{\"action\":\"drop\"}`" + ` |
| ` + "`callNotify`, `callAnswered`, `sessionCompleted`, `recordingReady`" + ` | ` + "`{}`" + ` |

` + "```sh" + `
./build.sh                        # bin/{{NAME}}.wasm (ABI v1 reactor), bin/{{NAME}}-cmd.wasm (WASI command)
mediactl plugin test .            # the golden files of testdata/ against both
mediactl app create -model iotcomms {{NAME}}          # an iotcomms application on a server
mediactl plugin upload bin/{{NAME}}.wasm -app {{NAME}}   # live on it
mediactl iot place -app {{NAME}} -dest +15550123      # or call it: route a number to it
` + "```" + `

A golden file is a callback body (its name in ` + "`callback`" + `), a line
` + "`----`" + `, and the answer the handler must give (compared as JSON
values). Add one per behaviour. A handler that keeps state between
callbacks keeps it in the key-value store under the session's id; the
SDK's README (` + "`{{SDK}}`" + `) describes every callback, answer and IVR
command.
`,
}

// withFiles is base with files added or replaced.
func withFiles(base map[string]string, files map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(files))
	for p, t := range base {
		out[p] = t
	}
	for p, t := range files {
		out[p] = t
	}
	return out
}

var goIotScaffold = withFiles(goScaffold, map[string]string{
	"main.go": `// Command {{NAME}} is a media server plugin for an iotcomms application.
// Built natively (go run .), it serves the same handler as the
// application's webhook: -listen 127.0.0.1:8081.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

func init() { ms.HandleIot(handle) } // init, not main: a reactor never runs main

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.IvrAnswer(), nil // the caller meets an IVR
	case ms.CallbackGetIvrCommand:
		switch {
		case r.DtmfParams == nil: // the IVR's first command
			return ms.Ivr().Say("Welcome. Press a key.").CollectDigits(1), nil
		case r.Digits() == "": // no key pressed in time, or interrupted
			return ms.Ivr().Say("Goodbye.").ThenHangup(), nil
		}
		return ms.Ivr().Say("You pressed " + r.Digits() + ". Goodbye.").ThenHangup(), nil
	case ms.CallbackCallEvent:
		return ms.DropAnswer(), nil // the IVR hung up: end the call
	}
	return nil, nil // callNotify, callAnswered, sessionCompleted, recordingReady: {}
}
`,
})

var cIotScaffold = withFiles(cScaffold, map[string]string{
	"{{NAME}}.c": `/* {{NAME}}: a media server plugin for an iotcomms application. */
#include "mediaserver.h"

static int say(const char *text, int hangup, int max_digits) {
    ms_iot_phrase p[] = {MS_IOT_TTS(text)};
    ms_iot_dtmf d = {.max_digits = max_digits};
    return ms_iot_respond_command(&(ms_iot_command){
        .dtmf = max_digits ? &d : NULL, .phrases = p, .n_phrases = 1, .hangup = hangup});
}

static int command(const char *ev, size_t n) {
    char reason[32], digits[16], text[64];
    if (ms_iot_get(ev, n, MS_IOT_REQ_DTMF_REASON, reason, sizeof reason) == MS_ERR_NOT_FOUND)
        return say("Welcome. Press a key.", 0, 1); /* the IVR's first command */
    ms_iot_get(ev, n, MS_IOT_REQ_DTMF_MATCH, digits, sizeof digits);
    if (!digits[0]) return say("Goodbye.", 1, 0); /* no key pressed in time, or interrupted */
    snprintf(text, sizeof text, "You pressed %s. Goodbye.", digits);
    return say(text, 1, 0);
}

static int handle(const char *ev, size_t n) {
    int rc;
    switch (ms_iot_callback(ev, n)) {
    case MS_IOT_CB_NEW_CALL: /* the caller meets an IVR */
        rc = ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_IVR});
        break;
    case MS_IOT_CB_GET_IVR_COMMAND:
        rc = command(ev, n);
        break;
    case MS_IOT_CB_CALL_EVENT: /* the IVR hung up: end the call */
        rc = ms_iot_respond_answer(&(ms_iot_answer){.action = MS_IOT_DROP});
        break;
    default: /* callNotify, callAnswered, sessionCompleted, recordingReady */
        rc = ms_iot_respond_none();
    }
    return rc == MS_OK ? 0 : 1;
}

MEDIASERVER_HANDLER(handle)
`,
})
