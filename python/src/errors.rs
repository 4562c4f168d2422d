//! Library errors as Python exceptions. The classes live in `sigmalang/errors.py` (so they
//! can also derive from `OSError` or `ValueError`); the message is the library's `Display`
//! text, the same words the `sigma` command prints after the file name.

use pyo3::prelude::*;
use sigmalang::Error;

/// The Python exception for `err`: its class from `sigmalang.errors`, `str()` the library's
/// message, and the error's fields (offset, frame, ...) as attributes.
pub fn to_py(py: Python<'_>, err: &Error) -> PyErr {
    build(py, err).unwrap_or_else(|e| e)
}

/// An `InvalidSetting` exception with `detail` as its message.
pub fn setting(py: Python<'_>, detail: impl Into<String>) -> PyErr {
    to_py(
        py,
        &Error::InvalidSetting {
            detail: detail.into(),
        },
    )
}

fn class_name(err: &Error) -> &'static str {
    match err {
        Error::Io { .. } => "SigmaIOError",
        Error::NotSigma { .. } => "NotSigmaStream",
        Error::UnsupportedVersion { .. } => "UnsupportedVersion",
        Error::Corrupt { .. } => "CorruptStream",
        Error::Checksum { .. } => "ChecksumMismatch",
        Error::Truncated { .. } => "TruncatedStream",
        Error::InputChanged { .. } => "InputChanged",
        Error::InvalidSetting { .. } => "InvalidSetting",
        _ => "SigmaError",
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = py.import("sigmalang.errors")?;
    let exc = module.getattr(class_name(err))?.call1((err.to_string(),))?;
    match err {
        Error::Io { action, source, .. } => {
            exc.setattr("action", *action)?;
            exc.setattr("errno", source.raw_os_error())?;
            exc.setattr("strerror", source.to_string())?;
        }
        Error::NotSigma { found } => {
            exc.setattr("found", pyo3::types::PyBytes::new(py, found))?;
            exc.setattr("offset", 0u64)?;
        }
        Error::UnsupportedVersion { found, supported } => {
            exc.setattr("found", *found)?;
            exc.setattr("supported", *supported)?;
        }
        Error::Corrupt {
            frame,
            offset,
            detail,
        } => {
            exc.setattr("frame", *frame)?;
            exc.setattr("offset", *offset)?;
            exc.setattr("detail", detail.as_str())?;
        }
        Error::Checksum {
            what,
            frame,
            offset,
            expected,
            found,
        } => {
            exc.setattr("what", *what)?;
            exc.setattr("frame", *frame)?;
            exc.setattr("offset", *offset)?;
            exc.setattr("expected", *expected)?;
            exc.setattr("found", *found)?;
        }
        Error::Truncated { offset, detail } => {
            exc.setattr("offset", *offset)?;
            exc.setattr("detail", detail.as_str())?;
        }
        Error::InputChanged { detail } | Error::InvalidSetting { detail } => {
            exc.setattr("detail", detail.as_str())?;
        }
        _ => {}
    }
    Ok(PyErr::from_value(exc))
}
