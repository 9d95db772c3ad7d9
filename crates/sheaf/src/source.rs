//! The byte-range seam: where a file's bytes come from. The reader decides which byte ranges it
//! needs without doing I/O (the trailer from a tail read, then the schema and directory, then a
//! column's chunk table, then the buffers of the chunks a read touches) and asks a
//! [`ByteSource`] for them. Three drivers live here: a memory map (the zero-copy fast path: every
//! range is a slice of the map), positioned reads of a file that is never mapped (for files other
//! programs may rewrite in place), and bytes already in memory. A remote store is one more
//! driver of the same trait.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::buffer::{AlignedBytes, SharedSlice};
use crate::error::{Error, Result};
use crate::mmap::Storage;

/// How a source likes its requests shaped: ranges closer than `coalesce_gap` are fetched as one,
/// and open asks for the last `tail_read` bytes first (the trailer, and the whole footer when it
/// fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchHints {
    /// Ranges separated by fewer bytes than this are merged into one request.
    pub coalesce_gap: u64,
    /// How many bytes open reads from the end of the file in its first request.
    pub tail_read: u64,
}

impl Default for FetchHints {
    /// Local files: merge what lies within 64 KiB, read the last 64 KiB first.
    fn default() -> Self {
        FetchHints { coalesce_gap: 64 << 10, tail_read: 64 << 10 }
    }
}

/// Where the bytes of a sheaf file come from: its size, and byte ranges of it on request.
///
/// Implementations must return exactly the bytes asked for, in the order asked, or an error; a
/// short read is an error, never a partial result. Returned buffers should start on a 64-byte
/// boundary so that plain columns can be viewed as typed slices; the reader copies those that
/// do not.
pub trait ByteSource: Send + Sync + 'static {
    /// The file's length in bytes.
    fn len(&self) -> u64;

    /// Whether the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of each range, in order.
    ///
    /// # Errors
    /// Any I/O failure, or a range past the end.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>>;

    /// How requests should be shaped.
    fn hints(&self) -> FetchHints {
        FetchHints::default()
    }

    /// The whole file, when it is already addressable in memory (a map or a buffer): reads then
    /// slice it instead of calling [`ByteSource::read_ranges`].
    fn as_contiguous(&self) -> Option<&SharedSlice> {
        None
    }

    /// Whether buffers handed out point into a memory map of the file.
    fn is_mapped(&self) -> bool {
        false
    }

    /// The path or URL, for messages.
    fn location(&self) -> Option<&Path> {
        None
    }
}

fn past_end(range: &Range<u64>, len: u64) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("bytes {}..{} requested of a {len}-byte file", range.start, range.end))
}

/// Slices of bytes already in memory.
fn slice_ranges(all: &SharedSlice, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
    let len = all.len() as u64;
    ranges
        .iter()
        .map(|r| {
            if r.start > r.end || r.end > len {
                return Err(past_end(r, len));
            }
            Ok(all.slice(r.start as usize..r.end as usize))
        })
        .collect()
}

/// A memory map of a file (or an empty file's nothing): every read is a slice of the map, so
/// plain columns are views of it and stay valid as long as any of them is held.
pub struct MappedSource {
    bytes: SharedSlice,
    path: PathBuf,
}

impl MappedSource {
    /// Maps `path` read-only, under the contract of [`crate::File::open`]: the file must not be
    /// truncated or rewritten in place by another program while mapped.
    ///
    /// # Errors
    /// I/O errors, naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = match Storage::map(path)? {
            Storage::Mapped(m) => SharedSlice::new(crate::mmap::MapOwner(m)),
            Storage::Memory(b) => SharedSlice::from_aligned(Arc::try_unwrap(b).unwrap_or_else(|b| AlignedBytes::copy_from(&b))),
        };
        Ok(MappedSource { bytes, path: path.to_path_buf() })
    }
}

impl ByteSource for MappedSource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        slice_ranges(&self.bytes, ranges)
    }
    fn as_contiguous(&self) -> Option<&SharedSlice> {
        Some(&self.bytes)
    }
    fn is_mapped(&self) -> bool {
        !self.bytes.is_empty()
    }
    fn location(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

/// Bytes in memory: used as they are when they start on a 64-byte boundary, else copied once
/// into aligned memory.
pub struct MemorySource {
    bytes: SharedSlice,
}

impl MemorySource {
    /// Holds `bytes` (no copy when aligned).
    #[must_use]
    pub fn new(bytes: SharedSlice) -> Self {
        let bytes = if (bytes.as_ptr() as usize).is_multiple_of(64) { bytes } else { SharedSlice::from_aligned(AlignedBytes::copy_from(&bytes)) };
        MemorySource { bytes }
    }
}

impl ByteSource for MemorySource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        slice_ranges(&self.bytes, ranges)
    }
    fn as_contiguous(&self) -> Option<&SharedSlice> {
        Some(&self.bytes)
    }
}

/// The first `len` bytes of another source: an earlier version of a file that was appended to
/// (format 1.6), which is exactly the file as it was, since an append only adds bytes after it.
pub struct PrefixSource {
    inner: Arc<dyn ByteSource>,
    len: u64,
    contiguous: Option<SharedSlice>,
}

impl PrefixSource {
    /// The first `len` bytes of `inner` (at most its length).
    #[must_use]
    pub fn new(inner: Arc<dyn ByteSource>, len: u64) -> Self {
        let len = len.min(inner.len());
        let contiguous = inner.as_contiguous().map(|all| all.slice(0..len as usize));
        PrefixSource { inner, len, contiguous }
    }
}

impl ByteSource for PrefixSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        if let Some(r) = ranges.iter().find(|r| r.end > self.len) {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("range {r:?} is past the version's end {}", self.len)));
        }
        self.inner.read_ranges(ranges)
    }
    fn hints(&self) -> FetchHints {
        self.inner.hints()
    }
    fn as_contiguous(&self) -> Option<&SharedSlice> {
        self.contiguous.as_ref()
    }
    fn is_mapped(&self) -> bool {
        self.inner.is_mapped()
    }
    fn location(&self) -> Option<&Path> {
        self.inner.location()
    }
}

/// Positioned reads of an open file that is never mapped: every range is read into aligned
/// memory of its own. For files that another program may rewrite in place (a map of one could
/// change under the reader or fault); checksums then catch torn reads of decoded chunks.
pub struct PositionedSource {
    file: std::fs::File,
    len: u64,
    path: PathBuf,
}

impl PositionedSource {
    /// Opens `path` for positioned reads; its length is taken now.
    ///
    /// # Errors
    /// I/O errors, naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Ok(PositionedSource { file, len, path: path.to_path_buf() })
    }

    fn read_one(&self, r: &Range<u64>) -> std::io::Result<SharedSlice> {
        if r.start > r.end || r.end > self.len {
            return Err(past_end(r, self.len));
        }
        let n = usize::try_from(r.end - r.start).map_err(|_| past_end(r, self.len))?;
        let mut buf = AlignedBytes::try_for_overwrite(n).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::OutOfMemory, format!("{n} bytes")))?;
        read_exact_at(&self.file, buf.as_mut_slice(), r.start)?;
        Ok(SharedSlice::from_aligned(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

impl ByteSource for PositionedSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        ranges.iter().map(|r| self.read_one(r)).collect()
    }
    fn location(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

/// Merges `ranges` (any order) into sorted requests, joining those less than `gap` bytes apart.
#[must_use]
pub fn coalesce(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.end > r.start).cloned().collect();
    sorted.sort_unstable_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end || r.start - last.end < gap => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Fetches one range from `source`.
pub(crate) fn fetch_one(source: &dyn ByteSource, range: Range<u64>) -> Result<SharedSlice> {
    Ok(fetch(source, std::slice::from_ref(&range))?.swap_remove(0))
}

/// Fetches `ranges` from `source`: slices when it is contiguous, else coalesced requests cut back
/// into the ranges asked for. Empty ranges give empty slices without a request.
pub(crate) fn fetch(source: &dyn ByteSource, ranges: &[Range<u64>]) -> Result<Vec<SharedSlice>> {
    let io = |e: std::io::Error| match source.location() {
        Some(p) => Error::io(p, e),
        None => Error::io(Path::new("<memory>"), e),
    };
    if let Some(all) = source.as_contiguous() {
        return slice_ranges(all, ranges).map_err(io);
    }
    let requests = coalesce(ranges, source.hints().coalesce_gap);
    if requests.is_empty() {
        return Ok(ranges.iter().map(|_| SharedSlice::empty()).collect());
    }
    let got = source.read_ranges(&requests).map_err(io)?;
    if got.len() != requests.len() || got.iter().zip(&requests).any(|(g, r)| g.len() as u64 != r.end - r.start) {
        return Err(io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the source returned fewer bytes than requested")));
    }
    ranges
        .iter()
        .map(|r| {
            if r.end <= r.start {
                return Ok(SharedSlice::empty());
            }
            let at = requests.partition_point(|q| q.end < r.end).min(requests.len() - 1);
            let (q, g) = (&requests[at], &got[at]);
            let piece = g.slice((r.start - q.start) as usize..(r.end - q.start) as usize);
            // Coalesced requests cut at unaligned offsets; typed views need 64-byte starts.
            Ok(if (piece.as_ptr() as usize).is_multiple_of(64) { piece } else { SharedSlice::from_aligned(AlignedBytes::copy_from(&piece)) })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_close_ranges_and_sorts() {
        assert_eq!(coalesce(&[10..20, 0..5, 24..30, 100..110, 7..7], 5), vec![0..5, 10..30, 100..110]);
        assert_eq!(coalesce(&[0..10, 2..4], 0), vec![0..10]);
    }

    #[test]
    fn positioned_and_memory_sources_read_exact_ranges_and_refuse_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let sources: Vec<Box<dyn ByteSource>> =
            vec![Box::new(PositionedSource::open(&path).unwrap()), Box::new(MemorySource::new(SharedSlice::from_vec(data.clone()))), Box::new(MappedSource::open(&path).unwrap())];
        for s in sources {
            assert_eq!(s.len(), 1000);
            let got = fetch(s.as_ref(), &[900..1000, 3..67, 64..64]).unwrap();
            assert_eq!((&got[0][..], &got[1][..], got[2].len()), (&data[900..], &data[3..67], 0));
            if s.as_contiguous().is_none() {
                assert!(got.iter().all(|g| g.is_empty() || (g.as_ptr() as usize).is_multiple_of(64)), "fetched ranges start aligned");
            }
            assert!(fetch_one(s.as_ref(), 990..1001).is_err());
        }
    }
}
