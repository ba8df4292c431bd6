//! The host functions: logging and the tenant's key-value store. In a Wasm
//! build they call the ABI v1 imports of module `mediaserver`; natively they
//! reach the emulator of [`testing::Host`](crate::testing::Host).

use std::fmt;

/// Errors of the host functions (the ABI's negative status codes) and of
/// the SDK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// -1: a payload exceeds the host's cap (or a key is empty or too long).
    TooLarge,
    /// -2: a response was already written for this event.
    AlreadyWritten,
    /// -3: a pointer is outside guest memory.
    BadPointer,
    /// -4: no such key.
    NotFound,
    /// -5: a store quota would be exceeded.
    Quota,
    /// -6: not allowed now (outside an event, or no store).
    Unavailable,
    /// -7: the host failed (storage).
    Internal,
    /// Another negative status (new codes are an additive change).
    Status(i32),
    /// The event JSON is malformed.
    Json(crate::json::Error),
    /// The handler failed.
    Handler(String),
}

impl Error {
    /// The error of a host status code (negative).
    pub fn from_status(code: i32) -> Error {
        match code {
            -1 => Error::TooLarge,
            -2 => Error::AlreadyWritten,
            -3 => Error::BadPointer,
            -4 => Error::NotFound,
            -5 => Error::Quota,
            -6 => Error::Unavailable,
            -7 => Error::Internal,
            c => Error::Status(c),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge => f.write_str("mediaserver: payload too large"),
            Error::AlreadyWritten => f.write_str("mediaserver: response already written"),
            Error::BadPointer => f.write_str("mediaserver: bad pointer"),
            Error::NotFound => f.write_str("mediaserver: not found"),
            Error::Quota => f.write_str("mediaserver: quota exceeded"),
            Error::Unavailable => f.write_str("mediaserver: host function unavailable"),
            Error::Internal => f.write_str("mediaserver: host internal error"),
            Error::Status(c) => write!(f, "mediaserver: unknown host status {}", c),
            Error::Json(e) => write!(f, "mediaserver: {}", e),
            Error::Handler(e) => write!(f, "mediaserver: handler failed: {}", e),
        }
    }
}

impl std::error::Error for Error {}

/// Log levels (the ABI's LogDebug … LogError).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{Error, Level};

    #[link(wasm_import_module = "mediaserver")]
    extern "C" {
        pub fn event_read(buf: *mut u8, buf_len: usize) -> i32;
        pub fn response_write(ptr: *const u8, len: usize) -> i32;
        fn log(level: i32, ptr: *const u8, len: usize);
        fn kv_get(key: *const u8, key_len: usize, buf: *mut u8, buf_len: usize) -> i32;
        fn kv_set(key: *const u8, key_len: usize, val: *const u8, val_len: usize) -> i32;
        fn kv_delete(key: *const u8, key_len: usize) -> i32;
    }

    pub fn log_line(level: Level, msg: &str) {
        unsafe { log(level as i32, msg.as_ptr(), msg.len()) }
    }

    pub fn get(key: &str) -> Result<Vec<u8>, Error> {
        let mut buf: Vec<u8> = vec![0; 256];
        for _ in 0..2 {
            let n = unsafe { kv_get(key.as_ptr(), key.len(), buf.as_mut_ptr(), buf.len()) };
            if n < 0 {
                return Err(Error::from_status(n));
            }
            if n as usize <= buf.len() {
                buf.truncate(n as usize);
                return Ok(buf);
            }
            buf = vec![0; n as usize];
        }
        Err(Error::TooLarge) // the value grew between the two reads
    }

    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        match unsafe { kv_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) } {
            0 => Ok(()),
            rc => Err(Error::from_status(rc)),
        }
    }

    pub fn delete(key: &str) -> Result<(), Error> {
        match unsafe { kv_delete(key.as_ptr(), key.len()) } {
            0 => Ok(()),
            rc => Err(Error::from_status(rc)),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{Error, Level};
    use crate::testing::CURRENT;

    pub fn log_line(level: Level, msg: &str) {
        CURRENT.with(|c| {
            if let Some(h) = c.borrow_mut().as_mut() {
                h.logs.push((level, msg.to_string()));
            }
        })
    }

    pub fn get(key: &str) -> Result<Vec<u8>, Error> {
        CURRENT.with(|c| match c.borrow().as_ref() {
            None => Err(Error::Unavailable),
            Some(h) => h.kv.get(key).cloned().ok_or(Error::NotFound),
        })
    }

    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        if key.is_empty() || key.len() > 256 || value.len() > 64 << 10 {
            return Err(Error::TooLarge);
        }
        CURRENT.with(|c| match c.borrow_mut().as_mut() {
            None => Err(Error::Unavailable),
            Some(h) => {
                h.kv.insert(key.to_string(), value.to_vec());
                Ok(())
            }
        })
    }

    pub fn delete(key: &str) -> Result<(), Error> {
        CURRENT.with(|c| match c.borrow_mut().as_mut() {
            None => Err(Error::Unavailable),
            Some(h) => h.kv.remove(key).map(|_| ()).ok_or(Error::NotFound),
        })
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) use imp::{event_read, response_write};

/// Sends one log line to the host (capped per event by the host).
pub fn log(level: Level, msg: &str) {
    imp::log_line(level, msg)
}

/// The value of `key` in the tenant's store; [`Error::NotFound`] if absent.
pub fn kv_get(key: &str) -> Result<Vec<u8>, Error> {
    imp::get(key)
}

/// Stores `value` under `key` in the tenant's store.
pub fn kv_set(key: &str, value: &[u8]) -> Result<(), Error> {
    imp::set(key, value)
}

/// Removes `key`; [`Error::NotFound`] if absent.
pub fn kv_delete(key: &str) -> Result<(), Error> {
    imp::delete(key)
}
