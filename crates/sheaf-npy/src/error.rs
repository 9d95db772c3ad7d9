//! The one error type of the `.npy`/`.npz` crate.

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = NpyError> = std::result::Result<T, E>;

/// What can go wrong reading, writing or converting `.npy` and `.npz` files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// An operating-system error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An error of another call, with the file it concerned.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<NpyError>,
    },
    /// Not a `.npy` file.
    #[error("not a .npy file: bad magic bytes at offset 0")]
    BadMagic,
    /// A `.npy` format version NumPy never wrote.
    #[error("unsupported .npy format version {major}.{minor}")]
    UnsupportedVersion {
        /// Major.
        major: u8,
        /// Minor.
        minor: u8,
    },
    /// The file ends before what its header says.
    #[error("truncated: {what} needs {needed} bytes at offset {offset}, the file has {available}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where.
        offset: u64,
        /// Bytes needed.
        needed: u64,
        /// Bytes there.
        available: u64,
    },
    /// The header is not a Python literal NumPy would write.
    #[error("header syntax error at character {at}: {reason}")]
    HeaderSyntax {
        /// Character position in the header text.
        at: usize,
        /// What is wrong.
        reason: String,
    },
    /// The header parses but does not describe an array.
    #[error("bad header: {reason}")]
    BadHeader {
        /// What is wrong.
        reason: String,
    },
    /// Object (pickled) arrays are never loaded.
    #[error("object arrays are refused: {descr} holds pickled Python objects, which sheaf never unpickles")]
    ObjectArray {
        /// The descr text.
        descr: String,
    },
    /// A dtype or array that has no representation on the other side.
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What and why.
        reason: String,
    },
    /// A `.npz` archive fault.
    #[error("npz member {member:?}: {reason}")]
    Npz {
        /// The member.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// An error of the sheaf core.
    #[error(transparent)]
    Sheaf(#[from] sheaf::Error),
}

impl NpyError {
    /// Attach a file path to an error that lacks one.
    #[must_use]
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            e @ (NpyError::Io { .. } | NpyError::InFile { .. }) => e,
            NpyError::Sheaf(s @ (sheaf::Error::Io { .. } | sheaf::Error::InFile { .. })) => NpyError::Sheaf(s),
            e => NpyError::InFile { path: path.into(), source: Box::new(e) },
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NpyError::Io { path: path.into(), source }
    }
}
