//! The Rust SDK for media server plugins: call handlers in the Amazon Chime
//! SDK "SIP media application" model, compiled to WebAssembly and run
//! in-process by the media server (ABI v1, `abi/SPEC.md`).
//!
//! ```ignore
//! use mediaserver::*;
//!
//! fn handle(e: &Event) -> HandlerResult {
//!     Ok(match e.event_type() {
//!         EventType::NewInboundCall => respond(vec![play_audio(PlayAudioParams {
//!             participant_tag: LEG_A.into(),
//!             audio_source: s3_audio("prompts", "welcome.wav"),
//!             ..Default::default()
//!         })]),
//!         _ => respond(vec![]),
//!     })
//! }
//!
//! mediaserver::plugin!(handle);
//! ```
//!
//! Build a reactor with `--crate-type cdylib --target wasm32-wasi` (or
//! `wasm32-wasip1`), a WASI command with `--crate-type bin --cfg
//! mediaserver_command`. Natively, [`testing::Host`] runs the handler in
//! tests. No dependencies: JSON is read and written by [`json`].

pub mod json;
pub mod testing;

mod actions;
mod event;
mod host;
mod response;

pub use actions::*;
pub use event::*;
pub use host::{kv_delete, kv_get, kv_set, log, Error, Level};
pub use response::*;

/// What a handler returns: a response, or an error (the invocation fails).
pub type HandlerResult = Result<Response, Box<dyn std::error::Error>>;

/// A handler: one event in, the response out.
pub type Handler = fn(&Event) -> HandlerResult;

/// Decodes the event, runs the handler and encodes its response.
pub fn dispatch(handler: Handler, event: &[u8]) -> Result<String, Error> {
    let e = Event::parse(event).map_err(Error::Json)?;
    match handler(&e) {
        Ok(r) => Ok(r.to_json()),
        Err(err) => Err(Error::Handler(err.to_string())),
    }
}

/// Defines the plugin's entry points for `handler`: in a reactor build the
/// ABI v1 exports `mediaserver_abi_v1` and `handle_event`; with `--cfg
/// mediaserver_command` a `main` that reads the event on stdin and writes
/// the response on stdout (WASI command mode). Natively it defines nothing.
#[macro_export]
macro_rules! plugin {
    ($handler:path) => {
        #[cfg(all(target_arch = "wasm32", not(mediaserver_command)))]
        #[no_mangle]
        pub extern "C" fn mediaserver_abi_v1() {}

        #[cfg(all(target_arch = "wasm32", not(mediaserver_command)))]
        #[no_mangle]
        pub extern "C" fn handle_event(event_len: i32) -> i32 {
            $crate::__reactor_event(event_len, $handler)
        }

        #[cfg(mediaserver_command)]
        fn main() {
            $crate::__command_main($handler)
        }
    };
}

#[doc(hidden)]
#[cfg(target_arch = "wasm32")]
pub fn __reactor_event(event_len: i32, handler: Handler) -> i32 {
    let mut buf: Vec<u8> = vec![0; event_len.max(0) as usize];
    let mut n = unsafe { host::event_read(buf.as_mut_ptr(), buf.len()) };
    if n >= 0 && n as usize > buf.len() {
        // Larger than announced: read it again, whole.
        buf = vec![0; n as usize];
        n = unsafe { host::event_read(buf.as_mut_ptr(), buf.len()) };
    }
    if n < 0 || n as usize > buf.len() {
        log(Level::Error, &Error::from_status(n.min(-1)).to_string());
        return 1;
    }
    match dispatch(handler, &buf[..n as usize]) {
        Ok(out) => match unsafe { host::response_write(out.as_ptr(), out.len()) } {
            0 => 0,
            rc => {
                log(Level::Error, &Error::from_status(rc).to_string());
                1
            }
        },
        Err(e) => {
            log(Level::Error, &e.to_string());
            1
        }
    }
}

#[doc(hidden)]
pub fn __command_main(handler: Handler) {
    use std::io::{Read, Write};
    let mut event = Vec::new();
    let result = std::io::stdin()
        .read_to_end(&mut event)
        .map_err(|e| e.to_string())
        .and_then(|_| dispatch(handler, &event).map_err(|e| e.to_string()))
        .and_then(|out| std::io::stdout().write_all(out.as_bytes()).map_err(|e| e.to_string()));
    if let Err(e) = result {
        eprintln!("ERROR {}", e);
        std::process::exit(1);
    }
}

/// The [`AudioSource`] of `key` in `bucket` of the tenant's bucket store.
pub fn s3_audio(bucket: &str, key: &str) -> AudioSource {
    AudioSource { type_: "S3".to_string(), bucket_name: bucket.to_string(), key: key.to_string(), uri: String::new() }
}
