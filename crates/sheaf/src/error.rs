//! The one error type of the core crate: every way opening, reading, decoding or writing a sheaf
//! file can fail, each with the structured facts (column, offset, lengths) a caller can act on.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core crate.
///
/// Offsets are byte offsets from the start of the file. Columns are named by their dotted path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The error of another call, with the file it concerned.
    #[error("{path}: {source}")]
    InFile {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
    /// The file is smaller than the fixed header plus trailer.
    #[error("file is {len} bytes, too short to be a sheaf file (at least {min} bytes)")]
    TooShort {
        /// The file's length.
        len: u64,
        /// The smallest valid length.
        min: u64,
    },
    /// The magic bytes at the start or end are wrong.
    #[error("not a sheaf file: bad magic bytes at offset {offset}")]
    BadMagic {
        /// Where the magic was expected.
        offset: u64,
    },
    /// The file's major version is one this reader does not know.
    #[error("unsupported format version {major}.{minor} (this reader reads major version {supported})")]
    UnsupportedVersion {
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
        /// Major version this reader supports.
        supported: u16,
    },
    /// A region named by the file lies outside it or outside where it must be.
    #[error("{what} at offset {offset} with length {len} lies outside {bound_name} (0..{bound})")]
    OutOfBounds {
        /// What region.
        what: String,
        /// Its start.
        offset: u64,
        /// Its length.
        len: u64,
        /// The name of the region it must lie in.
        bound_name: &'static str,
        /// The end of that region.
        bound: u64,
    },
    /// A buffer does not start on a 64-byte boundary.
    #[error("{what} at offset {offset} is not aligned to {align} bytes")]
    Misaligned {
        /// What buffer.
        what: String,
        /// Its offset.
        offset: u64,
        /// The required alignment.
        align: u64,
    },
    /// Two buffers of the file overlap.
    #[error("column {column}: buffer at offset {offset} overlaps another buffer ending at {previous_end}")]
    OverlappingBuffers {
        /// The column.
        column: String,
        /// Start of the later buffer.
        offset: u64,
        /// End of the earlier buffer.
        previous_end: u64,
    },
    /// A stored checksum does not match the bytes.
    #[error("checksum mismatch in {what} at offset {offset}: stored {stored:#018x}, computed {computed:#018x}")]
    ChecksumMismatch {
        /// What was checked.
        what: String,
        /// Start of the checked bytes.
        offset: u64,
        /// The checksum in the file.
        stored: u64,
        /// The checksum of the bytes.
        computed: u64,
    },
    /// A byte outside every region (padding, reserved fields) is not zero.
    #[error("padding or reserved byte at offset {offset} is not zero")]
    NonZeroPadding {
        /// Where.
        offset: u64,
    },
    /// A count or size exceeds a limit of the format.
    #[error("{what} is {value}, over the limit of {limit}")]
    LimitExceeded {
        /// What quantity.
        what: String,
        /// Its value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// The schema document is not valid.
    #[error("invalid schema: {reason}")]
    InvalidSchema {
        /// What is wrong.
        reason: String,
    },
    /// A dtype string or description is not understood.
    #[error("invalid dtype {text:?}: {reason}")]
    InvalidDType {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A chunk's metadata contradicts the schema or itself.
    #[error("column {column}, chunk {chunk}: {reason}")]
    InvalidChunk {
        /// The column.
        column: String,
        /// The chunk index.
        chunk: usize,
        /// What is wrong.
        reason: String,
    },
    /// A codec id in the file is not one this reader knows.
    #[error("column {column}, chunk {chunk}: unknown codec id {id}")]
    UnknownCodec {
        /// The column.
        column: String,
        /// The chunk index.
        chunk: usize,
        /// The id found.
        id: u8,
    },
    /// Encoded bytes could not be decoded.
    #[error("column {column}, chunk {chunk}, buffer at offset {offset}: {codec} decode failed: {reason}")]
    Decode {
        /// The column.
        column: String,
        /// The chunk index.
        chunk: usize,
        /// The buffer's offset.
        offset: u64,
        /// The codec that failed.
        codec: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// No array or column of that name.
    #[error("no {kind} named {name:?}")]
    NotFound {
        /// "array" or "column".
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A typed view was asked with a type that does not match the column.
    #[error("column {column}: cannot view {dtype} as {requested}")]
    TypeMismatch {
        /// The column.
        column: String,
        /// The column's dtype.
        dtype: String,
        /// The Rust type asked for.
        requested: &'static str,
    },
    /// A zero-copy view was asked of a column that is encoded.
    #[error("column {column} is encoded ({encoding}) and has no zero-copy view; decode it instead")]
    NotZeroCopy {
        /// The column.
        column: String,
        /// Its encoding.
        encoding: String,
    },
    /// A row range outside the array.
    #[error("rows {start}..{end} out of range for array {array:?} of {rows} rows")]
    RowRange {
        /// The array.
        array: String,
        /// Start asked for.
        start: u64,
        /// End asked for.
        end: u64,
        /// Rows in the array.
        rows: u64,
    },
    /// Data handed to the writer does not fit its schema.
    #[error("column {column}: {reason}")]
    BadInput {
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A fault of this library, not of the file or the input (a bug to report).
    #[error("internal error (a bug in sheaf, please report it): {reason}")]
    Internal {
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// The error itself, past the [`Error::InFile`] that names its file: match on this to tell
    /// kinds apart whatever the entry point (`File::open` names the file, `File::from_bytes`
    /// does not).
    ///
    /// ```
    /// let e = sheaf::File::open(std::env::temp_dir()).unwrap_err();
    /// assert!(matches!(e.kind(), sheaf::Error::Io { .. }));
    /// let e = sheaf::File::from_bytes(&[0u8; 200]).unwrap_err();
    /// assert!(matches!(e.kind(), sheaf::Error::BadMagic { offset: 0 }));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &Error {
        match self {
            Error::InFile { source, .. } => source.kind(),
            e => e,
        }
    }

    /// The file the error concerns, when known.
    #[must_use]
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::InFile { path, .. } | Error::Io { path, .. } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        Error::Internal { reason: reason.into() }
    }

    /// Attach a file path to an error that lacks one.
    #[must_use]
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            e @ (Error::Io { .. } | Error::InFile { .. }) => e,
            e => Error::InFile { path: path.into(), source: Box::new(e) },
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn schema(reason: impl Into<String>) -> Self {
        Error::InvalidSchema { reason: reason.into() }
    }
}
