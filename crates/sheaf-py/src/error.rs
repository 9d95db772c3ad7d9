//! How the libraries' errors reach Python: the operating system's errors as `OSError` (so that
//! `FileNotFoundError` and `PermissionError` work as with `open`), everything about a file's
//! content or an argument as `sheaf.SheafError`, a `ValueError` that carries the error's `kind`
//! and, where known, its `path`; the message is the CLI's one line.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    _sheaf,
    SheafError,
    PyValueError,
    "A sheaf file or an argument that cannot be used: corrupt or truncated data, an unsupported dtype, a schema mismatch. `kind` names the error (e.g. \"checksum_mismatch\"), `path` the file when known. Errors of the operating system come as OSError instead."
);

/// One error of any sheaf crate, kept with its kind, on its way to Python.
#[derive(Debug)]
pub(crate) struct PyError {
    kind: &'static str,
    message: String,
    path: Option<String>,
    io: Option<std::io::ErrorKind>,
    errno: Option<i32>,
}

/// Result of the binding's Rust functions.
pub(crate) type Result<T, E = PyError> = std::result::Result<T, E>;

impl PyError {
    /// An error of `kind` with `message`.
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        PyError { kind, message: message.into(), path: None, io: None, errno: None }
    }

    /// `self` as the operating system's error when one is among `e`'s sources.
    fn with_io_source(mut self, e: &(dyn std::error::Error + 'static)) -> Self {
        if let Some(io) = io_source(e) {
            self.kind = "io";
            self.io = Some(io.kind());
            self.errno = io.raw_os_error();
        }
        self
    }

    /// A bad argument from the caller.
    pub(crate) fn argument(message: impl Into<String>) -> Self {
        Self::new("bad_argument", message)
    }
}

fn sheaf_kind(e: &sheaf::Error) -> &'static str {
    use sheaf::Error as E;
    match e.kind() {
        E::Io { .. } => "io",
        E::TooShort { .. } => "too_short",
        E::BadMagic { .. } => "bad_magic",
        E::UnsupportedVersion { .. } => "unsupported_version",
        E::OutOfBounds { .. } => "out_of_bounds",
        E::Misaligned { .. } => "misaligned",
        E::OverlappingBuffers { .. } => "overlapping_buffers",
        E::ChecksumMismatch { .. } => "checksum_mismatch",
        E::NonZeroPadding { .. } => "non_zero_padding",
        E::LimitExceeded { .. } => "limit_exceeded",
        E::InvalidSchema { .. } => "invalid_schema",
        E::InvalidDType { .. } => "invalid_dtype",
        E::InvalidChunk { .. } => "invalid_chunk",
        E::UnknownCodec { .. } => "unknown_codec",
        E::Decode { .. } => "decode",
        E::NotFound { .. } => "not_found",
        E::TypeMismatch { .. } => "type_mismatch",
        E::NotZeroCopy { .. } => "not_zero_copy",
        E::RowRange { .. } => "row_range",
        E::BadInput { .. } => "bad_input",
        E::Internal { .. } => "internal",
        _ => "other",
    }
}

fn io_source<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = err.source();
    }
    None
}

impl From<sheaf::Error> for PyError {
    fn from(e: sheaf::Error) -> Self {
        let mut out = PyError::new(sheaf_kind(&e), e.to_string());
        out.path = e.path().map(|p| p.display().to_string());
        if let sheaf::Error::Io { source, .. } = e.kind() {
            out.io = Some(source.kind());
            out.errno = source.raw_os_error();
        }
        out
    }
}

impl From<sheaf_npy::NpyError> for PyError {
    fn from(e: sheaf_npy::NpyError) -> Self {
        let kind = if matches!(e, sheaf_npy::NpyError::ObjectArray { .. }) { "object_array" } else { "numpy" };
        PyError::new(kind, e.to_string()).with_io_source(&e)
    }
}

impl From<sheaf_arrow::ArrowInteropError> for PyError {
    fn from(e: sheaf_arrow::ArrowInteropError) -> Self {
        PyError::new("arrow", e.to_string())
    }
}

impl From<sheaf_convert::ConvertError> for PyError {
    fn from(e: sheaf_convert::ConvertError) -> Self {
        match e {
            sheaf_convert::ConvertError::Sheaf(s) => s.into(),
            sheaf_convert::ConvertError::Npy(n) => n.into(),
            other => PyError::new("convert", other.to_string()).with_io_source(&other),
        }
    }
}

impl From<sheaf_remote::RemoteError> for PyError {
    fn from(e: sheaf_remote::RemoteError) -> Self {
        use sheaf_remote::RemoteError as R;
        match e {
            R::Sheaf(s) => s.into(),
            R::BadUrl { .. } => PyError::new("bad_url", e.to_string()),
            // A missing object is FileNotFoundError, a failed request an OSError, as for files.
            R::NotFound { ref url } => {
                let path = Some(url.clone());
                PyError { kind: "io", message: e.to_string(), path, io: Some(std::io::ErrorKind::NotFound), errno: Some(2) }
            }
            other => {
                let mut out = PyError::new("io", other.to_string()).with_io_source(&other);
                out.kind = "io";
                out.io.get_or_insert(std::io::ErrorKind::Other);
                out
            }
        }
    }
}

impl From<arrow_schema::ArrowError> for PyError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        PyError::new("arrow", e.to_string())
    }
}

impl From<PyError> for PyErr {
    fn from(e: PyError) -> PyErr {
        if e.io.is_some() {
            // OSError(errno, message, filename) picks FileNotFoundError and the like itself.
            return match (e.errno, e.path) {
                (Some(errno), Some(path)) => PyOSError::new_err((errno, e.message, path)),
                (Some(errno), None) => PyOSError::new_err((errno, e.message)),
                _ => PyOSError::new_err(e.message),
            };
        }
        Python::attach(|py| {
            let err = SheafError::new_err(e.message);
            let value = err.value(py);
            // Attributes on a fresh exception object cannot fail but for memory.
            let _ = value.setattr("kind", e.kind);
            let _ = value.setattr("path", e.path);
            err
        })
    }
}
