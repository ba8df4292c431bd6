// The ABI v1 reactor exports. A plugin's reactor entry file registers its
// handler at the top level and re-exports these:
//
//   import { handle } from "./handler";
//   import { setHandler } from "@wasmvoice/mediaserver-as/assembly/reactor";
//   setHandler(handle);
//   export { mediaserver_abi_v1, handle_event } from "@wasmvoice/mediaserver-as/assembly/reactor";
//
// and is compiled with --exportStart _initialize, so the host runs the top
// level once per instance (a start function exported as _start would
// never run: the host calls only _initialize in a reactor).

import { Handler, dispatch } from "./handler";
import { hostEventRead, hostResponseWrite, log, Level } from "./host";

let current: Handler | null = null;
let buf = new Uint8Array(16384);

/** Registers the plugin's handler. */
export function setHandler(h: Handler): void {
  current = h;
}

/** The ABI v1 marker; never called. */
export function mediaserver_abi_v1(): void {}

/** Called once per event: 0 = a response was written. */
export function handle_event(eventLen: i32): i32 {
  const h = current;
  if (h === null) {
    log(Level.Error, "mediaserver: no handler registered (setHandler)");
    return 1;
  }
  if (eventLen > buf.length) buf = new Uint8Array(eventLen);
  let n = hostEventRead(buf.dataStart, <u32>buf.length);
  if (n > buf.length) {
    buf = new Uint8Array(n); // larger than announced: read it again, whole
    n = hostEventRead(buf.dataStart, <u32>buf.length);
  }
  if (n < 0 || n > buf.length) {
    log(Level.Error, "mediaserver: event_read failed: " + n.toString());
    return 1;
  }
  const d = dispatch(h, buf.subarray(0, n));
  if (d.error.length > 0) {
    log(Level.Error, "mediaserver: " + d.error);
    return 1;
  }
  const out = String.UTF8.encode(d.json);
  const rc = hostResponseWrite(changetype<usize>(out), <u32>out.byteLength);
  if (rc != 0) {
    log(Level.Error, "mediaserver: response_write failed: " + rc.toString());
    return 1;
  }
  return 0;
}
