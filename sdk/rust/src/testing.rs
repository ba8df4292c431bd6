//! Native test mode: run a handler on event JSON without Wasm, with an
//! emulated host (log lines and a key-value store), and golden files.

use crate::host::Level;
use crate::json::{self, Value};
use crate::{dispatch, Error, Handler};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The host's side of the ABI, emulated natively: feed it an event, get the
/// response, inspect the logs and the store.
#[derive(Clone, Debug, Default)]
pub struct Host {
    pub kv: BTreeMap<String, Vec<u8>>,
    pub logs: Vec<(Level, String)>,
}

thread_local! {
    pub(crate) static CURRENT: RefCell<Option<Host>> = RefCell::new(None);
}

impl Host {
    /// An emulator with an empty store.
    pub fn new() -> Host {
        Host::default()
    }

    /// Runs `handler` on one event JSON and returns the response JSON.
    pub fn invoke(&mut self, handler: Handler, event: &[u8]) -> Result<String, Error> {
        CURRENT.with(|c| *c.borrow_mut() = Some(std::mem::take(self)));
        let out = dispatch(handler, event);
        CURRENT.with(|c| *self = c.borrow_mut().take().unwrap_or_default());
        out
    }
}

/// Reports whether two JSON texts are the same value (member order and
/// spacing aside).
pub fn equal_json(a: &str, b: &str) -> bool {
    match (json::parse(a.as_bytes()), json::parse(b.as_bytes())) {
        (Ok(x), Ok(y)) => x.same(&y),
        _ => false,
    }
}

/// Runs every `*.golden` file of `dir` (an event JSON, a line `----`, the
/// expected response JSON), each on a fresh [`Host`], and returns the
/// number of files; Err lists every mismatch. No golden file is an error.
pub fn golden(handler: Handler, dir: &str) -> Result<usize, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {}", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map_or(false, |x| x == "golden"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no golden files in {}", dir));
    }
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {}", f.display(), e))?;
        let (event, want) = match text.split_once("\n----\n") {
            Some(parts) => parts,
            None => return Err(format!("{}: no ---- separator line", f.display())),
        };
        match Host::new().invoke(handler, event.as_bytes()) {
            Err(e) => failures.push(format!("{}: {}", f.display(), e)),
            Ok(got) if !equal_json(&got, want) => {
                failures.push(format!("{}:\n got: {}\nwant: {}", f.display(), got, want.trim()))
            }
            Ok(_) => {}
        }
    }
    if failures.is_empty() {
        Ok(files.len())
    } else {
        Err(failures.join("\n"))
    }
}

/// Parses JSON for a test, panicking on an error.
pub fn value(s: &str) -> Value {
    json::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", e, s))
}
