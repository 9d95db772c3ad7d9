//! The one error type of this crate: what went wrong with which URL, and why.

/// An error reaching or reading a remote object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The text is not a URL this crate can reach (unknown scheme, no bucket, bad syntax).
    #[error("{url}: {reason}")]
    BadUrl {
        /// The URL as given (credentials removed).
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The object does not exist.
    #[error("{url}: no such object")]
    NotFound {
        /// The URL (credentials removed).
        url: String,
    },
    /// The store refused or failed a request (after its retries).
    #[error("{url}: {source}")]
    Store {
        /// The URL (credentials removed).
        url: String,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
    /// A local file of a transfer could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The local path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The background runtime that drives the requests could not start.
    #[error("starting the runtime for remote reads: {0}")]
    Runtime(#[source] std::io::Error),
    /// The object was reached but is not a sound sheaf file.
    #[error(transparent)]
    Sheaf(#[from] sheaf::Error),
}

impl RemoteError {
    pub(crate) fn store(url: &str, source: object_store::Error) -> Self {
        match source {
            object_store::Error::NotFound { .. } => RemoteError::NotFound { url: url.to_string() },
            source => RemoteError::Store { url: url.to_string(), source },
        }
    }
}

/// This crate's results.
pub type Result<T, E = RemoteError> = std::result::Result<T, E>;
