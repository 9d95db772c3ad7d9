//! The one error type of the conversion layer: what goes wrong opening a source of any format,
//! selecting columns and rows, and narrowing, with the file named; the core, NumPy and Arrow
//! errors pass through with their own kinds.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// Everything that can go wrong in the conversion layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A sheaf file's error (its own kind; match on [`sheaf::Error::kind`]).
    #[error(transparent)]
    Sheaf(#[from] sheaf::Error),
    /// A `.npy` / `.npz` error.
    #[error(transparent)]
    Npy(#[from] sheaf_npy::NpyError),
    /// An Arrow, Parquet or CSV error.
    #[error(transparent)]
    Arrow(#[from] sheaf_arrow::ArrowInteropError),
    /// An Arrow-family error with the file it concerned.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<ConvertError>,
    },
    /// The format of a path cannot be told, or cannot be read.
    #[error("{}: {reason}", path.display())]
    UnknownFormat {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file that a reader here cannot read without losing data.
    #[error("{}: unsupported: {reason}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What it holds.
        reason: String,
    },
    /// No array of that name in the source.
    #[error("no array named {name:?} (arrays: {available:?})")]
    NoSuchArray {
        /// The name asked for.
        name: String,
        /// The arrays there are.
        available: Vec<String>,
    },
    /// A selected path that names no column.
    #[error("no column {name:?} to select (columns: {})", available.join(", "))]
    NoSuchColumn {
        /// The path asked for.
        name: String,
        /// The columns there are.
        available: Vec<String>,
    },
    /// A row range that cannot be parsed or is backwards.
    #[error("row range {text:?}: {reason}")]
    BadRowRange {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A dataset (directory or glob of sheaf files) whose files cannot be one table.
    #[error("{}: {reason}", path.display())]
    Dataset {
        /// The directory or pattern.
        path: PathBuf,
        /// Why (naming the files concerned).
        reason: String,
    },
    /// A fault of this library (a bug to report).
    #[error("internal error (a bug in sheaf, please report it): {0}")]
    Internal(String),
}

impl ConvertError {
    /// `e` with the file it concerned (as it is where its message names the file already).
    pub(crate) fn in_file(path: &std::path::Path, e: impl Into<ConvertError>) -> Self {
        let e = e.into();
        if e.to_string().contains(&path.display().to_string()) {
            return e;
        }
        ConvertError::InFile { path: path.to_path_buf(), source: Box::new(e) }
    }
}
