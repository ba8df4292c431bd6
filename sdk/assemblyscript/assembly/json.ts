// A small JSON reader and writer for events and responses: no dependencies.
// The reader builds a tree (JSONValue) from UTF-8 bytes; the writer builds a
// string with the escaping Go's encoding/json uses.

/** Objects and arrays nest at most this deep. */
export const MAX_DEPTH: i32 = 64;

export const enum Kind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** A JSON value. Numbers keep their text; objects keep member order and
 * duplicates (get takes the last, as Go's encoding/json does). */
export class JSONValue {
  kind: Kind = Kind.Null;
  bool: bool = false;
  /** The string, or the number's text. */
  str: string = "";
  items: JSONValue[] = [];
  keys: string[] = [];

  /** The member key of an object (the last one of that name), or null. */
  get(key: string): JSONValue | null {
    if (this.kind != Kind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }

  /** The string member key: "" when absent, null or not a string. */
  getString(key: string): string {
    const v = this.get(key);
    return v !== null && v.kind == Kind.String ? v.str : "";
  }

  isNull(): bool {
    return this.kind == Kind.Null;
  }

  /** The value as compact JSON. */
  toJSON(): string {
    const w = new JSONWriter();
    this.write(w);
    return w.toString();
  }

  write(w: JSONWriter): void {
    switch (this.kind) {
      case Kind.Null: w.write("null"); break;
      case Kind.Bool: w.write(this.bool ? "true" : "false"); break;
      case Kind.Number: w.write(this.str); break;
      case Kind.String: w.string(this.str); break;
      case Kind.Array: {
        w.write("[");
        for (let i = 0; i < this.items.length; i++) {
          if (i > 0) w.write(",");
          this.items[i].write(w);
        }
        w.write("]");
        break;
      }
      default: {
        w.write("{");
        for (let i = 0; i < this.items.length; i++) {
          if (i > 0) w.write(",");
          w.string(this.keys[i]);
          w.write(":");
          this.items[i].write(w);
        }
        w.write("}");
      }
    }
  }
}

/** The result of parse: a value, or an error message and offset. */
export class ParseResult {
  value: JSONValue | null = null;
  error: string = "";
  offset: i32 = 0;
}

/** Parses one JSON document (a value, optionally surrounded by white space). */
export function parse(b: Uint8Array): ParseResult {
  const p = new Parser(b);
  const r = new ParseResult();
  p.ws();
  const v = p.value(0);
  if (p.err.length == 0) {
    p.ws();
    if (p.pos != b.length) p.fail("unexpected data after the value");
  }
  if (p.err.length > 0) {
    r.error = p.err;
    r.offset = p.pos;
    return r;
  }
  r.value = v;
  return r;
}

class Parser {
  b: Uint8Array;
  pos: i32 = 0;
  err: string = "";

  constructor(b: Uint8Array) {
    this.b = b;
  }

  fail(msg: string): JSONValue {
    if (this.err.length == 0) this.err = msg;
    return new JSONValue();
  }

  peek(): i32 {
    return this.pos < this.b.length ? <i32>this.b[this.pos] : -1;
  }

  ws(): void {
    while (this.pos < this.b.length) {
      const c = this.b[this.pos];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  literal(lit: string, v: JSONValue): JSONValue {
    for (let i = 0; i < lit.length; i++) {
      if (this.peek() != lit.charCodeAt(i)) return this.fail("invalid literal");
      this.pos++;
    }
    return v;
  }

  value(depth: i32): JSONValue {
    const c = this.peek();
    if (c < 0) return this.fail("unexpected end of input");
    if (c == 0x7b) return this.object(depth + 1);
    if (c == 0x5b) return this.array(depth + 1);
    if (c == 0x22) {
      const v = new JSONValue();
      v.kind = Kind.String;
      v.str = this.string();
      return v;
    }
    if (c == 0x74 || c == 0x66) {
      const v = new JSONValue();
      v.kind = Kind.Bool;
      v.bool = c == 0x74;
      return this.literal(c == 0x74 ? "true" : "false", v);
    }
    if (c == 0x6e) return this.literal("null", new JSONValue());
    return this.number();
  }

  object(depth: i32): JSONValue {
    if (depth > MAX_DEPTH) return this.fail("nested too deeply");
    this.pos++;
    const v = new JSONValue();
    v.kind = Kind.Object;
    this.ws();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (this.err.length == 0) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a member name");
      const k = this.string();
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      this.ws();
      const item = this.value(depth);
      v.keys.push(k);
      v.items.push(item);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
      } else if (c == 0x7d) {
        this.pos++;
        return v;
      } else {
        return this.fail("expected ',' or '}'");
      }
    }
    return v;
  }

  array(depth: i32): JSONValue {
    if (depth > MAX_DEPTH) return this.fail("nested too deeply");
    this.pos++;
    const v = new JSONValue();
    v.kind = Kind.Array;
    this.ws();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (this.err.length == 0) {
      this.ws();
      v.items.push(this.value(depth));
      this.ws();
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
      } else if (c == 0x5d) {
        this.pos++;
        return v;
      } else {
        return this.fail("expected ',' or ']'");
      }
    }
    return v;
  }

  digits(): bool {
    const s = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos > s;
  }

  number(): JSONValue {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (!this.digits()) return this.fail("invalid character");
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!this.digits()) return this.fail("invalid number");
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (!this.digits()) return this.fail("invalid number");
    }
    const v = new JSONValue();
    v.kind = Kind.Number;
    v.str = String.UTF8.decodeUnsafe(this.b.dataStart + <usize>start, <usize>(this.pos - start));
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.b.length) return -1;
    let r = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.b[this.pos + i];
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else return -1;
      r = (r << 4) | d;
    }
    this.pos += 4;
    return r;
  }

  /** Reads a string at its opening quote. Invalid UTF-8 and lone
   * surrogates become U+FFFD. */
  string(): string {
    this.pos++;
    let out = "";
    for (;;) {
      const start = this.pos;
      while (this.pos < this.b.length) {
        const c = this.b[this.pos];
        if (c == 0x22 || c == 0x5c || c < 0x20) break;
        this.pos++;
      }
      if (this.pos > start) {
        out += String.UTF8.decodeUnsafe(this.b.dataStart + <usize>start, <usize>(this.pos - start));
      }
      const c = this.peek();
      if (c < 0) {
        this.fail("unterminated string");
        return out;
      }
      if (c == 0x22) {
        this.pos++;
        return out;
      }
      if (c != 0x5c) {
        this.fail("control character in string");
        return out;
      }
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e == 0x22) out += "\"";
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        const hi = this.hex4();
        if (hi < 0) {
          this.fail("invalid escape");
          return out;
        }
        let cp = hi;
        if (hi >= 0xd800 && hi < 0xdc00 && this.peek() == 0x5c && this.pos + 1 < this.b.length && this.b[this.pos + 1] == 0x75) {
          const save = this.pos;
          this.pos += 2;
          const lo = this.hex4();
          if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
          } else {
            this.pos = save;
          }
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
        out += String.fromCodePoint(cp);
      } else {
        this.fail("invalid escape");
        return out;
      }
    }
    return out;
  }
}

const HEX = "0123456789abcdef";

/** Builds JSON text. Objects and arrays nest; each level counts its members
 * so commas go where they belong. Parameters use it to leave out unset
 * optional fields, so the host applies Chime's defaults. */
export class JSONWriter {
  private parts: string[] = [];
  private counts: i32[] = [];

  /** Appends JSON text verbatim. */
  write(s: string): void {
    this.parts.push(s);
  }

  /** Appends s as a quoted JSON string: '"', '\' and control characters
   * escaped, U+2028/U+2029 too, lone surrogates as U+FFFD. */
  string(s: string): void {
    let out = "\"";
    let start = 0;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      let esc = "";
      if (c == 0x22) esc = "\\\"";
      else if (c == 0x5c) esc = "\\\\";
      else if (c == 0x0a) esc = "\\n";
      else if (c == 0x0d) esc = "\\r";
      else if (c == 0x09) esc = "\\t";
      else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
        esc = "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) + HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000) {
        i++; // a valid pair
        continue;
      } else if (c >= 0xd800 && c < 0xe000) {
        esc = "\\ufffd";
      } else {
        continue;
      }
      out += s.substring(start, i) + esc;
      start = i + 1;
    }
    out += s.substring(start) + "\"";
    this.parts.push(out);
  }

  beginObject(): void {
    this.parts.push("{");
    this.counts.push(0);
  }

  endObject(): void {
    this.counts.pop();
    this.parts.push("}");
  }

  beginArray(): void {
    this.parts.push("[");
    this.counts.push(0);
  }

  /** Starts the next element of an array. */
  element(): void {
    const top = this.counts.length - 1;
    if (this.counts[top] > 0) this.parts.push(",");
    this.counts[top]++;
  }

  endArray(): void {
    this.counts.pop();
    this.parts.push("]");
  }

  /** Writes a member name; its value must follow. */
  key(name: string): void {
    this.element();
    this.string(name);
    this.parts.push(":");
  }

  /** A string member, left out when empty. */
  str(name: string, v: string): void {
    if (v.length > 0) this.strAlways(name, v);
  }

  /** A required string member. */
  strAlways(name: string, v: string): void {
    this.key(name);
    this.string(v);
  }

  /** A number member, left out when 0 (Chime's default applies). */
  int(name: string, v: i64): void {
    if (v != 0) {
      this.key(name);
      this.parts.push(v.toString());
    }
  }

  bool(name: string, v: bool): void {
    this.key(name);
    this.parts.push(v ? "true" : "false");
  }

  /** An array of strings, left out when empty. */
  strs(name: string, v: string[]): void {
    if (v.length > 0) this.strsAlways(name, v);
  }

  /** A required array of strings ([] when empty). */
  strsAlways(name: string, v: string[]): void {
    this.key(name);
    this.parts.push("[");
    for (let i = 0; i < v.length; i++) {
      if (i > 0) this.parts.push(",");
      this.string(v[i]);
    }
    this.parts.push("]");
  }

  /** An object of strings, keys sorted, left out when empty. */
  map(name: string, m: Map<string, string>): void {
    if (m.size > 0) {
      this.key(name);
      this.stringMap(m);
    }
  }

  /** Appends an object of strings with sorted keys (stable output). */
  stringMap(m: Map<string, string>): void {
    const keys = m.keys();
    keys.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
    this.parts.push("{");
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) this.parts.push(",");
      this.string(keys[i]);
      this.parts.push(":");
      this.string(m.get(keys[i]));
    }
    this.parts.push("}");
  }

  /** Verbatim JSON, left out when empty. */
  raw(name: string, v: string): void {
    if (v.length > 0) {
      this.key(name);
      this.parts.push(v);
    }
  }

  toString(): string {
    return this.parts.join("");
  }
}
