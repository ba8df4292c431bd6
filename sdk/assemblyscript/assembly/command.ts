// WASI command mode (compatibility): the event on stdin, the response on
// stdout. A plugin's command entry file calls runCommand at the top level
// and is compiled with --exportStart _start; it must not export the ABI
// marker, or the host would load it as a reactor.

import { Handler, dispatch } from "./handler";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLen: u32, nread: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

function writeAll(fd: u32, data: ArrayBuffer): bool {
  const iov = new StaticArray<u32>(2);
  const n = new StaticArray<u32>(1);
  let off: u32 = 0;
  const len = <u32>data.byteLength;
  while (off < len) {
    iov[0] = <u32>changetype<usize>(data) + off;
    iov[1] = len - off;
    if (fd_write(fd, changetype<usize>(iov), 1, changetype<usize>(n)) != 0 || n[0] == 0) return false;
    off += n[0];
  }
  return true;
}

function readStdin(): Uint8Array {
  let data = new Uint8Array(16384);
  let len = 0;
  const iov = new StaticArray<u32>(2);
  const n = new StaticArray<u32>(1);
  for (;;) {
    if (len == data.length) {
      const bigger = new Uint8Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    iov[0] = <u32>data.dataStart + <u32>len;
    iov[1] = <u32>(data.length - len);
    if (fd_read(0, changetype<usize>(iov), 1, changetype<usize>(n)) != 0) break;
    if (n[0] == 0) break;
    len += <i32>n[0];
  }
  return data.subarray(0, len);
}

/** Reads one event on stdin, writes the response on stdout; on an error
 * writes it on stderr and exits with status 1. */
export function runCommand(handler: Handler): void {
  const d = dispatch(handler, readStdin());
  if (d.error.length > 0) {
    writeAll(2, String.UTF8.encode("ERROR mediaserver: " + d.error + "\n"));
    proc_exit(1);
    return;
  }
  if (!writeAll(1, String.UTF8.encode(d.json))) proc_exit(1);
}
