//! Reading a sheaf file out of an [`ObjectStore`]: a [`sheaf::ByteSource`] whose ranges are
//! `get_ranges` requests (coalesced by the store, fetched in parallel), so that the core reader's
//! plan (the footer from one tail read, then chunk tables, then the buffers a read touches)
//! becomes range requests and never a whole-object download. The core reader is synchronous;
//! the source blocks on the runtime handle it was made with, so it must be used off the
//! runtime's worker threads (the scan runs it in `spawn_blocking`).

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::path::Path;
use object_store::ObjectStore;
use sheaf::{ByteSource, FetchHints, SharedSlice};

/// One object of a store, read by byte ranges.
pub struct ObjectStoreSource {
    store: Arc<dyn ObjectStore>,
    location: Path,
    len: u64,
    url: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl ObjectStoreSource {
    /// A source for the object at `location` of `store`, `len` bytes long, named `url` in
    /// messages; its requests run on `runtime`.
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>, location: Path, len: u64, url: impl Into<PathBuf>, runtime: tokio::runtime::Handle) -> Self {
        ObjectStoreSource { store, location, len, url: url.into(), runtime }
    }
}

impl ByteSource for ObjectStoreSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(r) = ranges.iter().find(|r| r.start > r.end || r.end > self.len) {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("bytes {}..{} requested of a {}-byte object", r.start, r.end, self.len)));
        }
        let fetch = || self.runtime.block_on(self.store.get_ranges(&self.location, ranges));
        // Blocking on the runtime is refused on a thread that drives it: from there (a lazy read
        // of a column on an async task) the request waits on a thread of its own instead.
        let got = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| s.spawn(fetch).join()).map_err(|_| std::io::Error::other(format!("{}: the request thread failed", self.url.display())))?
        } else {
            fetch()
        };
        let got = got.map_err(|e| std::io::Error::other(format!("{}: {e}", self.url.display())))?;
        if got.len() != ranges.len() || got.iter().zip(ranges).any(|(b, r)| b.len() as u64 != r.end - r.start) {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{}: the store returned fewer bytes than asked for", self.url.display())));
        }
        Ok(got.into_iter().map(SharedSlice::from_bytes).collect())
    }

    fn hints(&self) -> FetchHints {
        // A request costs a round trip: merge what lies within 1 MiB (as object_store does).
        FetchHints { coalesce_gap: 1 << 20, tail_read: 64 << 10 }
    }

    fn location(&self) -> Option<&FsPath> {
        Some(&self.url)
    }
}
