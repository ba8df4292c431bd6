//! A small JSON reader and writer, enough for events and responses: no
//! dependencies, no serde. The reader builds a tree ([`Value`]); the writer
//! appends to a `String` with the escaping `encoding/json` uses.

use std::fmt;

/// Objects and arrays nest at most this deep; deeper input is an error
/// rather than a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// A JSON value. Numbers keep their text; object members keep their order
/// (and duplicates: lookups take the last, as Go's `encoding/json` does).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A malformed document, or a value of the wrong type for its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the input (0 for a type error found after parsing).
    pub offset: usize,
    pub msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "json: {} at offset {}", self.msg, self.offset)
    }
}

impl std::error::Error for Error {}

impl Value {
    /// The member `key` of an object (the last one of that name), or None.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of member names, outermost first.
    pub fn path(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self;
        for k in path {
            v = v.get(k)?;
        }
        Some(v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is a number or a string holding a decimal integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(s) | Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as compact JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => write_string(out, s),
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Compares two values as JSON: objects by their members (the last of
    /// each name) whatever the order, numbers by value.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => {
                a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
            }
            (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            (Value::Object(a), Value::Object(b)) => {
                let ka = sorted_keys(a);
                ka == sorted_keys(b) && ka.iter().all(|k| self.get(k).unwrap().same(other.get(k).unwrap()))
            }
            _ => self == other,
        }
    }
}

fn sorted_keys(m: &[(String, Value)]) -> Vec<&str> {
    let mut k: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// Parses one JSON document: a value, optionally surrounded by white space.
pub fn parse(b: &[u8]) -> Result<Value, Error> {
    let mut p = Parser { b, pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != b.len() {
        return Err(p.err("unexpected data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, msg: &str) -> Error {
        Error { offset: self.pos, msg: msg.to_string() }
    }

    fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn literal(&mut self, lit: &str, v: Value) -> Result<Value, Error> {
        if self.b[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(_) => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.pos += 1;
        let mut m = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(m));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a member name"));
            }
            let k = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.ws();
            let v = self.value(depth)?;
            m.push((k, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(m));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.pos += 1;
        let mut a = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(a));
        }
        loop {
            self.ws();
            a.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(a));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().map_or(false, |c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return Err(self.err("invalid character"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e') | Some(b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+') | Some(b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        // The slice is ASCII: digits, signs, '.', 'e'.
        Ok(Value::Number(String::from_utf8_lossy(&self.b[start..self.pos]).into_owned()))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let h = self.b.get(self.pos..self.pos + 4).ok_or_else(|| self.err("invalid escape"))?;
        let s = std::str::from_utf8(h).map_err(|_| self.err("invalid escape"))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| self.err("invalid escape"))?;
        if !h.iter().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.err("invalid escape"));
        }
        self.pos += 4;
        Ok(v)
    }

    /// Reads a string at its opening quote. Invalid UTF-8 and lone
    /// surrogates become U+FFFD, as in Go.
    fn string(&mut self) -> Result<String, Error> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.pos;
            while self.pos < self.b.len() && !matches!(self.b[self.pos], b'"' | b'\\' | 0..=0x1f) {
                self.pos += 1;
            }
            out.extend_from_slice(&self.b[start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(match String::from_utf8(out) {
                        Ok(s) => s,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("invalid escape"))?;
                    self.pos += 1;
                    let ch = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let mut cp = hi;
                            if (0xD800..0xDC00).contains(&hi) && self.b[self.pos..].starts_with(b"\\u") {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            char::from_u32(cp).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(self.err("invalid escape")),
                    };
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

/// Appends `s` as a JSON string: `"` `\` and control characters escaped,
/// U+2028 and U+2029 too (as Go does, so the output is also JavaScript).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes the members of one JSON object; the action parameters use it to
/// leave out unset optional fields, so the host applies Chime's defaults.
pub struct Object<'a> {
    out: &'a mut String,
    n: usize,
}

impl<'a> Object<'a> {
    pub fn begin(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out, n: 0 }
    }

    pub fn end(self) {
        self.out.push('}');
    }

    /// Writes the member name; the value must follow (see [`Object::out`]).
    pub fn key(&mut self, name: &str) {
        if self.n > 0 {
            self.out.push(',');
        }
        self.n += 1;
        write_string(self.out, name);
        self.out.push(':');
    }

    /// The output, to write a member's value after [`Object::key`].
    pub fn out(&mut self) -> &mut String {
        self.out
    }

    /// A string member, left out when empty.
    pub fn str(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.str_always(name, v);
        }
    }

    /// A required string member.
    pub fn str_always(&mut self, name: &str, v: &str) {
        self.key(name);
        write_string(self.out, v);
    }

    /// A number member, left out when 0 (Chime's default applies).
    pub fn int(&mut self, name: &str, v: i64) {
        if v != 0 {
            self.key(name);
            self.out.push_str(&v.to_string());
        }
    }

    pub fn bool(&mut self, name: &str, v: bool) {
        self.key(name);
        self.out.push_str(if v { "true" } else { "false" });
    }

    /// An array of strings, left out when empty.
    pub fn strs(&mut self, name: &str, v: &[String]) {
        if !v.is_empty() {
            self.strs_always(name, v);
        }
    }

    /// A required array of strings (`[]` when empty).
    pub fn strs_always(&mut self, name: &str, v: &[String]) {
        self.key(name);
        self.out.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_string(self.out, s);
        }
        self.out.push(']');
    }

    /// An object of strings, keys sorted, left out when empty.
    pub fn map(&mut self, name: &str, m: &std::collections::BTreeMap<String, String>) {
        if !m.is_empty() {
            self.key(name);
            write_map(self.out, m);
        }
    }

    /// Verbatim JSON, left out when empty.
    pub fn raw(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.key(name);
            self.out.push_str(v);
        }
    }
}

/// Appends an object of strings (BTreeMap: keys sorted, stable output).
pub fn write_map(out: &mut String, m: &std::collections::BTreeMap<String, String>) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k);
        out.push(':');
        write_string(out, v);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write() {
        let cases: &[(&str, &str)] = &[
            (r#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"d"}}"#, r#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"d"}}"#),
            (r#" "\u00e9\ud83d\ude00\n\"\\\/" "#, "\"é😀\\n\\\"\\\\/\""),
            (r#""\ud800x""#, "\"\u{FFFD}x\""),
            (r#""\u2028""#, r#""\u2028""#),
            ("\"\\u0001\"", "\"\\u0001\""),
        ];
        for (input, want) in cases {
            let v = parse(input.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", input, e));
            assert_eq!(&v.to_json(), want, "input {}", input);
        }
    }

    #[test]
    fn errors() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"\x01\"", "01x", "1 2", "\"\\x\"", "tru", "-", "1.", "1e"] {
            assert!(parse(bad.as_bytes()).is_err(), "{:?} parsed", bad);
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().msg, "nested too deeply");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_utf8_replaced() {
        let v = parse(b"\"a\xffb\"").unwrap();
        assert_eq!(v.as_str(), Some("a\u{FFFD}b"));
    }

    #[test]
    fn duplicates_last_wins_and_same() {
        let v = parse(br#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_i64), Some(2));
        let x = parse(br#"{"a":[1,{"b":"c"}],"d":1.0}"#).unwrap();
        let y = parse(br#"{"d":1,"a":[1,{"b":"c"}]}"#).unwrap();
        assert!(x.same(&y));
        assert!(!x.same(&parse(br#"{"d":1,"a":[1,{"b":"x"}]}"#).unwrap()));
    }
}
