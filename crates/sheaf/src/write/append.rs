//! Appending to an existing file in place (format 1.6), crash-safe without a rewrite: the new
//! version's buffers, chunk tables and footer go after the old file's last byte, which is never
//! modified, and the switch to the new version is one truncation.
//!
//! What makes a kill at any instant harmless: readers find a file's footer through its last 64
//! bytes, so before any write goes past the end, a copy of the committed trailer is written further
//! on ("the guard"), and the file always ends with it. The copy points at the committed footer,
//! which is still in place; a reader that opens the file mid-append reads that version, and the
//! bytes between its footer and the copy are never read. Once the new footer and its trailer are
//! written below the guard, cutting the file at the new trailer's end makes it the last 64 bytes:
//! the new version is committed. An append interrupted before that leaves the old version plus
//! unread bytes, which the next append (or [`AppendFile::open`]) cuts away first.
//!
//! Also where a writer's bytes go ([`Sink`]: a fresh temporary or an appended file) and
//! [`Writer::open_append`], which loads an existing file's arrays to go on writing them.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{encode, positioned_write, ArrayId, ArrayState, AtomicFile, BufWriter, WriteOptions, Writer};
use crate::error::{Error, Result};
use crate::format::{Trailer, TRAILER_LEN};

/// Where a writer's bytes go.
#[derive(Debug)]
pub(super) enum Sink {
    /// A new file: a temporary beside the target until it is renamed into place.
    Fresh(AtomicFile),
    /// An existing file, appended to in place.
    Append(AppendFile),
}

impl Sink {
    pub(super) fn as_file(&self) -> &std::fs::File {
        match self {
            Sink::Fresh(f) => f.as_file(),
            Sink::Append(f) => f.as_file(),
        }
    }

    /// Bytes up to `end` are about to be written out of order (positioned writes).
    pub(super) fn reserve(&mut self, end: u64) -> std::io::Result<()> {
        match self {
            Sink::Fresh(_) => Ok(()),
            Sink::Append(f) => f.reserve(end),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Fresh(f) => f.write(buf),
            Sink::Append(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Fresh(f) => f.flush(),
            Sink::Append(f) => f.flush(),
        }
    }
}

impl Seek for Sink {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Sink::Fresh(f) => f.seek(to),
            Sink::Append(f) => f.seek(to),
        }
    }
}

impl Writer {
    /// Opens the existing file `path` to append rows to its arrays (found with
    /// [`Writer::array_id`]) or to add arrays, in time proportional to what is appended: the
    /// file's bytes are never rewritten ([format 1.6](../../spec/format.md)).
    ///
    /// Nothing changes for readers until [`Writer::finish`] succeeds, which commits the new version
    /// in one step; readers that opened the file before keep reading the old version, and a kill
    /// at any point leaves the old version or the new one. Dropping the writer, or any error,
    /// leaves the file as it was. One append at a time: a second one fails while the first runs.
    /// File metadata in `options` is added to the file's.
    ///
    /// ```
    /// use sheaf::{ArraySchema, ColumnInput, DType, File, LeafType, WriteOptions, Writer};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("log.sheaf");
    /// let mut w = Writer::create(&path, WriteOptions::new())?;
    /// let id = w.add_array(ArraySchema::new("t", DType::leaf(LeafType::Int(8))))?;
    /// w.append(id, &[ColumnInput::fixed(&[1i64, 2])])?;
    /// w.finish()?;
    ///
    /// let mut w = Writer::open_append(&path, WriteOptions::new())?;
    /// let id = w.array_id("t")?;
    /// w.append(id, &[ColumnInput::fixed(&[3i64])])?;
    /// w.finish()?;
    ///
    /// let file = File::open(&path)?;
    /// assert_eq!(file.array("t")?.column("")?.read()?.values_as::<i64>()?, [1, 2, 3]);
    /// assert_eq!(file.version_count()?, 2); // the version before the append is still there
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// I/O errors, another append in progress, an invalid file, or a remote path.
    pub fn open_append(path: impl AsRef<Path>, mut options: WriteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let target = AppendFile::open(&path)?;
        let old = crate::File::open_unmapped(&path)?;
        let mut arrays = Vec::with_capacity(old.array_count());
        for array in old.arrays() {
            let mut schema = array.schema().clone();
            let shape = schema.shape.take().unwrap_or_default();
            let appended_shape = match shape.split_first() {
                None => Err(format!("array {:?} is 0-dimensional", schema.name)),
                Some(_) if schema.fortran_order && shape.len() > 1 => Err(format!("array {:?} is in Fortran order: its records are not stored row after row", schema.name)),
                Some((_, inner)) => Ok(inner.to_vec()),
            };
            let columns = schema.columns();
            let names = columns.iter().map(|c| if c.path.is_empty() { schema.name.clone() } else { c.name() }).collect();
            let stored = array.columns()?;
            let mut chunks = Vec::with_capacity(stored.len());
            let mut stats = Vec::with_capacity(stored.len());
            for c in &stored {
                chunks.push(c.chunks().to_vec());
                stats.push(match c.statistics()? {
                    Some(s) => s.iter().cloned().map(Some).collect(),
                    None => vec![None; c.chunks().len()],
                });
            }
            let levels = columns.iter().filter(|c| c.is_list()).count();
            arrays.push(ArrayState {
                pending: columns.iter().map(encode::Pending::new).collect(),
                names,
                rows: array.rows(),
                item_rows: array.item_rows().to_vec(),
                pending_rows: vec![0; levels + 1],
                chunks,
                stats,
                plans: vec![None; columns.len()],
                columns,
                schema,
                appended_shape: Some(appended_shape),
            });
        }
        let mut metadata = old.metadata().clone();
        metadata.append(&mut options.metadata);
        options.metadata = metadata;
        let (pos, previous) = (target.base(), Some(target.committed_trailer_offset()));
        Ok(Writer { path, out: BufWriter::with_capacity(1 << 20, Sink::Append(target)), pos, options, arrays, previous })
    }

    /// The array named `name`, to append to (see [`Writer::open_append`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no array has that name.
    pub fn array_id(&self, name: &str) -> Result<ArrayId> {
        self.arrays.iter().position(|a| a.schema.name == name).map(ArrayId).ok_or_else(|| Error::NotFound { kind: "array", name: name.to_string() })
    }
}

/// Least room the guard leaves ahead of the writes: it moves about once per this many bytes (or
/// per quarter of what was appended so far, whichever is more), so a large append moves it a few
/// dozen times, 64 bytes each time.
const GUARD_SLACK: u64 = 8 << 20;

/// An existing sheaf file open for appending, locked against other appenders.
#[derive(Debug)]
pub(crate) struct AppendFile {
    file: File,
    path: PathBuf,
    /// Where the next sequential write goes.
    pos: u64,
    /// The committed trailer's copy that ends the file sits at `guard..guard + 64`.
    guard: u64,
    /// The committed version's trailer.
    trailer: [u8; TRAILER_LEN as usize],
    /// The committed length: where this append began, and what the file is cut back to if the
    /// append is abandoned.
    base: u64,
    committed: bool,
}

impl AppendFile {
    /// Opens `path` for appending: takes an exclusive lock (a second appender gets an error, not a
    /// wait), and cuts away what an interrupted earlier append left after the last committed
    /// version.
    ///
    /// # Errors
    /// I/O errors, another append in progress, or a file whose trailer is not sheaf's.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(path).map_err(|e| Error::io(path, e))?;
        lock(&file).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let tail = read_at(&file, len.saturating_sub(TRAILER_LEN), TRAILER_LEN, path)?;
        let parsed = Trailer::parse_tail(&tail, len).map_err(|e| e.in_file(path))?;
        let base = parsed.footer_end() + TRAILER_LEN;
        if base < len {
            // An interrupted append: the file ends with a copy of the committed trailer, which is
            // also in place right after the committed footer. Anything else is not ours to cut.
            let committed = read_at(&file, base - TRAILER_LEN, TRAILER_LEN, path)?;
            if committed != tail {
                return Err(Error::InvalidSchema { reason: "the trailer is not where its footer ends, and no interrupted append explains it".into() }.in_file(path));
            }
            file.set_len(base).map_err(|e| Error::io(path, e))?;
        }
        let mut trailer = [0u8; TRAILER_LEN as usize];
        trailer.copy_from_slice(&tail);
        Ok(AppendFile { file, path: path.to_path_buf(), pos: base, guard: base - TRAILER_LEN, trailer, base, committed: false })
    }

    /// The committed length, where the new bytes begin.
    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// Where the committed version's trailer starts: the new version's `previous`.
    pub(crate) fn committed_trailer_offset(&self) -> u64 {
        self.base - TRAILER_LEN
    }

    pub(crate) fn as_file(&self) -> &File {
        &self.file
    }

    /// Makes sure the guard lies at or after `end`, so that bytes up to `end` may be written in
    /// any order: the new guard is written before anything that passes the old one.
    pub(crate) fn reserve(&mut self, end: u64) -> std::io::Result<()> {
        if end <= self.guard {
            return Ok(());
        }
        let at = end + GUARD_SLACK.max((end - self.base) / 4);
        positioned_write(&self.file, &self.trailer, at)?;
        self.guard = at;
        Ok(())
    }

    /// Commits the new version, whose last byte (its trailer's) is at `self.pos`: cutting the file
    /// there drops the guard and makes the new trailer the file's end.
    pub(crate) fn commit(mut self, sync: bool) -> std::io::Result<()> {
        if sync {
            self.file.sync_data()?;
        }
        self.file.set_len(self.pos)?;
        if sync {
            self.file.sync_all()?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for AppendFile {
    /// An abandoned append (an error, or the writer dropped) leaves the file as it was.
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.file.set_len(self.base);
        }
    }
}

impl Write for AppendFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.reserve(self.pos + buf.len() as u64)?;
        positioned_write(&self.file, buf, self.pos)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for AppendFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(at) => at,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(|| std::io::Error::other("seek before the start"))?,
            SeekFrom::End(_) => return Err(std::io::Error::other("an append has no end to seek from")),
        };
        if self.pos < self.base {
            return Err(std::io::Error::other(format!("{}: an append never writes before {}", self.path.display(), self.base)));
        }
        Ok(self.pos)
    }
}

fn read_at(mut file: &File, at: u64, len: u64, path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = vec![0u8; len as usize];
    file.seek(SeekFrom::Start(at)).and_then(|_| file.read_exact(&mut buf)).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// An exclusive advisory lock, held until the file is closed; a second appender fails at once.
fn lock(file: &File) -> std::io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(std::io::ErrorKind::WouldBlock, "another append to this file is in progress")),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}
