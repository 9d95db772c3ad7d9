//! The one error type of the Arrow/Parquet interop crate.

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = ArrowInteropError> = std::result::Result<T, E>;

/// What can go wrong between sheaf and Arrow, IPC, Parquet or CSV.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArrowInteropError {
    /// A type or value that has no representation on the other side.
    #[error("unsupported: column {column:?} of type {data_type}: {reason}")]
    Unsupported {
        /// The column path.
        column: String,
        /// The type, as Arrow or sheaf names it.
        data_type: String,
        /// Why.
        reason: String,
    },
    /// A file the readers used here cannot read (malformed, or using a feature they lack).
    #[error("unsupported: cannot read this {format} file: {reason}")]
    Unreadable {
        /// The format.
        format: &'static str,
        /// What the reader said.
        reason: String,
    },
    /// A file that declares more to decode at once than the memory limit allows.
    #[error("{what} declares {declared} bytes to decode, over the memory limit of {limit} bytes (set SHEAF_MEMORY_LIMIT, e.g. 8G, to allow it)")]
    MemoryLimit {
        /// What declares it (a row group, a member).
        what: String,
        /// The bytes it declares.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// An operating-system error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An error reported by arrow-rs.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// An error reported by the parquet crate.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An error of the sheaf core.
    #[error(transparent)]
    Sheaf(#[from] sheaf::Error),
}

impl ArrowInteropError {
    pub(crate) fn unsupported(column: &str, data_type: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        ArrowInteropError::Unsupported { column: column.to_string(), data_type: data_type.to_string(), reason: reason.into() }
    }
}
