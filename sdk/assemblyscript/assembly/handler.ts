// Running a handler: decode the event, call it, encode the response.

import { Event, parseEvent } from "./event";
import { Response } from "./response";

/** A handler: one event in, the response out. To fail the invocation,
 * throw (it traps; the host retries once on a fresh instance). */
export type Handler = (e: Event) => Response;

/** The outcome of dispatch: the response JSON, or the error. */
export class Dispatched {
  json: string = "";
  error: string = "";
}

/** Decodes the event, runs the handler and encodes its response. */
export function dispatch(handler: Handler, event: Uint8Array): Dispatched {
  const d = new Dispatched();
  const r = parseEvent(event);
  if (r.error.length > 0) {
    d.error = r.error;
    return d;
  }
  d.json = handler(r.event).toJSON();
  return d;
}
