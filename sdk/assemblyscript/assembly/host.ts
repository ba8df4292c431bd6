// The host functions of ABI v1 (module "mediaserver"): logging and the
// tenant's key-value store.

// @ts-ignore: decorator
@external("mediaserver", "event_read")
export declare function hostEventRead(buf: usize, bufLen: u32): i32;
// @ts-ignore: decorator
@external("mediaserver", "response_write")
export declare function hostResponseWrite(ptr: usize, len: u32): i32;
// @ts-ignore: decorator
@external("mediaserver", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;
// @ts-ignore: decorator
@external("mediaserver", "kv_get")
declare function hostKVGet(key: usize, keyLen: u32, buf: usize, bufLen: u32): i32;
// @ts-ignore: decorator
@external("mediaserver", "kv_set")
declare function hostKVSet(key: usize, keyLen: u32, val: usize, valLen: u32): i32;
// @ts-ignore: decorator
@external("mediaserver", "kv_delete")
declare function hostKVDelete(key: usize, keyLen: u32): i32;

/** Log levels (the ABI's LogDebug … LogError). */
export namespace Level {
  export const Debug: i32 = 0;
  export const Info: i32 = 1;
  export const Warn: i32 = 2;
  export const Error: i32 = 3;
}

/** Status codes of the host functions (the ABI's ErrCode values). */
export namespace Status {
  export const OK: i32 = 0;
  export const TooLarge: i32 = -1;
  export const AlreadyWritten: i32 = -2;
  export const BadPointer: i32 = -3;
  export const NotFound: i32 = -4;
  export const Quota: i32 = -5;
  export const Unavailable: i32 = -6;
  export const Internal: i32 = -7;
}

/** Sends one log line to the host (capped per event by the host). */
export function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  hostLog(level, changetype<usize>(b), <u32>b.byteLength);
}

/** The result of kvGet: the value, or a negative status (Status.NotFound …). */
export class KVResult {
  status: i32 = 0;
  value: Uint8Array = new Uint8Array(0);

  /** The value as UTF-8 text. */
  text(): string {
    return String.UTF8.decode(this.value.buffer);
  }
}

/** The value of key in the tenant's store. */
export function kvGet(key: string): KVResult {
  const k = String.UTF8.encode(key);
  const r = new KVResult();
  let buf = new Uint8Array(256);
  for (let i = 0; i < 2; i++) {
    const n = hostKVGet(changetype<usize>(k), <u32>k.byteLength, buf.dataStart, <u32>buf.length);
    if (n < 0) {
      r.status = n;
      return r;
    }
    if (n <= buf.length) {
      r.value = buf.slice(0, n);
      return r;
    }
    buf = new Uint8Array(n);
  }
  r.status = Status.TooLarge; // the value grew between the two reads
  return r;
}

/** Stores value under key; returns 0 or a negative status. */
export function kvSet(key: string, value: Uint8Array): i32 {
  const k = String.UTF8.encode(key);
  return hostKVSet(changetype<usize>(k), <u32>k.byteLength, value.dataStart, <u32>value.length);
}

/** Stores the UTF-8 text value under key; returns 0 or a negative status. */
export function kvSetText(key: string, value: string): i32 {
  const v = Uint8Array.wrap(String.UTF8.encode(value));
  return kvSet(key, v);
}

/** Removes key; returns 0, Status.NotFound or another negative status. */
export function kvDelete(key: string): i32 {
  const k = String.UTF8.encode(key);
  return hostKVDelete(changetype<usize>(k), <u32>k.byteLength);
}

/** Reports a failed assertion or trap reason to the host's log, then traps
 * (the host discards the instance). Builds pass it as the abort function
 * (--use abort=...), so the module needs no "env" import. */
export function mediaserverAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let m = "abort";
  if (message !== null) m += ": " + message;
  if (fileName !== null) m += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  log(Level.Error, m);
  unreachable();
}
