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

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::positioned_write;
use crate::error::{Error, Result};
use crate::format::{Trailer, TRAILER_LEN};

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
