// What a handler returns: actions and transaction attributes.

import { JSONWriter } from "./json";

/** One action: its Type and its parameters as a JSON object. The builders
 * (playAudio, …) make them. */
export class Action {
  constructor(public type: string, public parameters: string) {}

  /** An action of any type with verbatim JSON parameters (an object). */
  static custom(type: string, parametersJSON: string): Action {
    return new Action(type, parametersJSON);
  }

  write(w: JSONWriter): void {
    w.beginObject();
    w.strAlways("Type", this.type);
    w.key("Parameters");
    w.write(this.parameters.length > 0 ? this.parameters : "{}");
    w.endObject();
  }
}

/** A handler's response. */
export class Response {
  /** null leaves out the list, which keeps the call's current actions; an
   * empty list means "do nothing". */
  actions: Action[] | null = [];
  /** Non-null replaces the call's attributes (empty clears them); null
   * leaves them unchanged. */
  transactionAttributes: Map<string, string> | null = null;

  /** Appends an action. */
  add(a: Action): Response {
    let list = this.actions;
    if (list === null) {
      list = [];
      this.actions = list;
    }
    list.push(a);
    return this;
  }

  /** Sets one transaction attribute. */
  setAttribute(k: string, v: string): Response {
    let m = this.transactionAttributes;
    if (m === null) {
      m = new Map<string, string>();
      this.transactionAttributes = m;
    }
    m.set(k, v);
    return this;
  }

  /** The response JSON. */
  toJSON(): string {
    const w = new JSONWriter();
    w.beginObject();
    w.strAlways("SchemaVersion", "1.0");
    const list = this.actions;
    if (list !== null) {
      w.key("Actions");
      w.beginArray();
      for (let i = 0; i < list.length; i++) {
        w.element();
        list[i].write(w);
      }
      w.endArray();
    }
    const m = this.transactionAttributes;
    if (m !== null) {
      w.key("TransactionAttributes");
      w.stringMap(m);
    }
    w.endObject();
    return w.toString();
  }
}

/** A response with these actions (none: an empty list, "do nothing"). */
export function respond(actions: Action[] = []): Response {
  const r = new Response();
  r.actions = actions;
  return r;
}

/** A response without an action list: the call's current actions go on. */
export function keep(): Response {
  const r = new Response();
  r.actions = null;
  return r;
}
