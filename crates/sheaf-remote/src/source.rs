//! Reading a sheaf file out of an [`ObjectStore`]: a [`sheaf::ByteSource`] whose ranges are
//! range requests fetched in parallel, so that the core reader's plan (the footer from one tail
//! read, then chunk tables, then the buffers a read touches) becomes a few requests and never a
//! whole-object download. [`ObjectStoreSource::open`] learns the size and the tail in one suffix
//! request and answers later reads inside that tail from memory. The core reader is synchronous:
//! the source blocks on the runtime handle it was made with.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use sheaf::{ByteSource, FetchHints, SharedSlice};

use crate::block_on;
use crate::error::{RemoteError, Result};
use crate::location::RemoteObject;

/// How many bytes open asks for from the end: the trailer, directory, schema and usually the
/// chunk tables of a file of a few hundred columns.
pub const TAIL_READ: u64 = 64 << 10;

/// Gaps between wanted ranges up to this size are fetched rather than split into two requests
/// (pyarrow's hole limit): wasted bytes stay a few percent of a column while small neighbours
/// share a request.
pub const COALESCE_GAP: u64 = 8 << 10;

/// Range requests in flight at once for one read.
const PARALLEL_REQUESTS: usize = 16;

/// One object of a store, read by byte ranges.
pub struct ObjectStoreSource {
    store: Arc<dyn ObjectStore>,
    location: Path,
    len: u64,
    url: PathBuf,
    runtime: tokio::runtime::Handle,
    /// The object's last bytes from the open request, and where they start.
    tail: Option<(u64, Bytes)>,
}

impl ObjectStoreSource {
    /// A source for the object at `location` of `store` whose size is already known (from a
    /// listing), named `url` in messages; its requests run on `runtime`.
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>, location: Path, len: u64, url: impl Into<PathBuf>, runtime: tokio::runtime::Handle) -> Self {
        ObjectStoreSource { store, location, len, url: url.into(), runtime, tail: None }
    }

    /// Opens `object` with one request: a suffix range of [`TAIL_READ`] bytes, whose answer
    /// also gives the object's size. Stores that refuse suffix ranges (Azure) get a `HEAD` and
    /// a range instead.
    ///
    /// # Errors
    /// [`RemoteError::NotFound`]; [`RemoteError::Store`] when the requests fail.
    pub fn open(object: &RemoteObject, runtime: tokio::runtime::Handle) -> Result<Self> {
        let (store, location, shown) = (Arc::clone(object.store()), object.path().clone(), object.display());
        let fetch_tail = async {
            let suffix = GetOptions { range: Some(GetRange::Suffix(TAIL_READ)), ..GetOptions::default() };
            match store.get_opts(&location, suffix).await {
                Ok(got) => {
                    let (len, start) = (got.meta.size, got.range.start);
                    Ok((len, start, got.bytes().await?))
                }
                Err(e @ object_store::Error::NotFound { .. }) => Err(e),
                Err(_) => {
                    let len = store.head(&location).await?.size;
                    let start = len.saturating_sub(TAIL_READ);
                    Ok((len, start, store.get_range(&location, start..len).await?))
                }
            }
        };
        let (len, start, bytes) = block_on(&runtime, fetch_tail, &shown)?.map_err(|e| RemoteError::store(&shown, e))?;
        if start + bytes.len() as u64 != len {
            return Err(RemoteError::Store {
                url: shown.clone(),
                source: object_store::Error::Generic { store: "range", source: format!("asked for the last {TAIL_READ} bytes of {len}, got {} from {start}", bytes.len()).into() },
            });
        }
        Ok(ObjectStoreSource { store, location, len, url: PathBuf::from(shown), runtime, tail: Some((start, bytes)) })
    }

    /// `range` out of the bytes the open request brought, when it lies within them.
    fn cached_tail(&self, range: &Range<u64>) -> Option<Bytes> {
        let (start, bytes) = self.tail.as_ref()?;
        (range.start >= *start).then(|| bytes.slice((range.start - start) as usize..(range.end - start) as usize))
    }
}

impl ByteSource for ObjectStoreSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        if let Some(r) = ranges.iter().find(|r| r.start > r.end || r.end > self.len) {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("bytes {}..{} requested of a {}-byte object", r.start, r.end, self.len)));
        }
        let mut got: Vec<Option<Bytes>> = ranges.iter().map(|r| self.cached_tail(r)).collect();
        let wanted: Vec<(usize, Range<u64>)> = ranges.iter().cloned().enumerate().filter(|(i, _)| got[*i].is_none()).collect();
        if !wanted.is_empty() {
            let shown = self.url.display().to_string();
            let (store, location) = (&self.store, &self.location);
            let requests = futures::stream::iter(wanted)
                .map(|(i, r)| async move { store.get_range(location, r).await.map(|b| (i, b)) })
                .buffer_unordered(PARALLEL_REQUESTS)
                .try_collect::<Vec<_>>();
            let fetched = block_on(&self.runtime, requests, &shown).map_err(std::io::Error::other)?.map_err(|e| std::io::Error::other(RemoteError::store(&shown, e)))?;
            for (i, bytes) in fetched {
                got[i] = Some(bytes);
            }
        }
        let mut out = Vec::with_capacity(ranges.len());
        for (bytes, r) in got.into_iter().zip(ranges) {
            match bytes {
                Some(b) if b.len() as u64 == r.end - r.start => out.push(SharedSlice::from_bytes(b)),
                _ => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{}: the store returned fewer bytes than asked for", self.url.display()))),
            }
        }
        Ok(out)
    }

    fn hints(&self) -> FetchHints {
        FetchHints { coalesce_gap: COALESCE_GAP, tail_read: TAIL_READ }
    }

    fn location(&self) -> Option<&FsPath> {
        Some(&self.url)
    }
}
