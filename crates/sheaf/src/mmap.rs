//! The file's bytes, mapped or read: the one place the crate calls `unsafe`, to memory-map.
//!
//! Mapping is what makes open O(1) and columns zero-copy. Its contract (below) is a documented
//! team choice: [`crate::File::open`] is safe to call because sheaf's own writer never modifies a
//! file in place (it writes a temporary file and renames it over the target), so a mapped sheaf
//! file only changes under a reader if some other program truncates or rewrites it in place.
//! Callers who cannot rule that out use [`crate::File::open_unmapped`], which reads by position.

use std::path::Path;
use std::sync::Arc;

use crate::buffer::AlignedBytes;
use crate::error::{Error, Result};

/// The bytes of an open file.
#[derive(Clone)]
pub(crate) enum Storage {
    /// A read-only map of the file.
    Mapped(Arc<memmap2::Mmap>),
    /// The whole file in aligned memory.
    Memory(Arc<AlignedBytes>),
}

impl Storage {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(m) => m,
            Storage::Memory(b) => b,
        }
    }

    /// Maps `path` read-only.
    ///
    /// The map stays valid for the life of the returned value; if another process truncates the
    /// file meanwhile, touching the lost pages raises SIGBUS, and if it rewrites bytes in place
    /// the values seen change. Neither happens to files sheaf writes (they are replaced by rename,
    /// which leaves existing maps of the old file intact).
    pub(crate) fn map(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            // Mapping an empty file fails on some platforms; an empty file is simply too short.
            return Ok(Storage::Memory(Arc::new(AlignedBytes::zeroed(0))));
        }
        // SAFETY: the map is read-only and private to this process; the remaining hazard, the file
        // being truncated or rewritten by another program while mapped, is the documented
        // contract of `File::open` (module docs above). Every access goes through bounds-checked
        // slices of the map, so no offset read from the file can reach outside it.
        let map = unsafe { memmap2::MmapOptions::new().map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(Storage::Mapped(Arc::new(map)))
    }
}

/// Owns a read-only map for [`crate::SharedSlice`]: the map lives while any slice of it does.
pub(crate) struct MapOwner(pub(crate) Arc<memmap2::Mmap>);

impl AsRef<[u8]> for MapOwner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A whole file's bytes, memory-mapped read-only (empty files are held in memory), for other
/// crates that read formats of their own (`.npy`) through the same single mapping site.
///
/// Same contract as [`crate::File::open`]: the file must not be truncated or rewritten in place
/// by another program while mapped.
#[derive(Clone)]
pub struct MappedFile(Storage);

impl MappedFile {
    /// Maps `path`.
    ///
    /// # Errors
    /// I/O errors, naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Storage::map(path.as_ref()).map(MappedFile)
    }
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.bytes()
    }
}
