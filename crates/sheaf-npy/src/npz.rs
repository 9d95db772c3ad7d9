//! `.npz` archives: a zip of `.npy` members, stored or deflated (`np.savez` /
//! `np.savez_compressed`). Members are read whole into memory (zip members cannot be mapped when
//! deflated); the archive is written atomically.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::error::{NpyError, Result};
use crate::npy::{temp_beside, NpyFile};

/// Reads every `.npy` member of an `.npz`, in archive order, named without the `.npy` suffix.
///
/// # Errors
/// A bad archive, a member that is not `.npy` or is too large, and every `.npy` fault, naming the
/// member.
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, NpyFile)>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| NpyError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| NpyError::Npz { member: String::new(), reason: e.to_string() }.in_file(path))?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut m = zip.by_index(i).map_err(|e| NpyError::Npz { member: format!("#{i}"), reason: e.to_string() }.in_file(path))?;
        let name = m.name().to_string();
        if m.is_dir() {
            continue;
        }
        let member_err = |reason: String| NpyError::Npz { member: name.clone(), reason }.in_file(path);
        let size = m.size();
        // Bounds decompression bombs: a member is inflated whole into memory.
        let limit = sheaf::memory_limit();
        if size > limit {
            return Err(member_err(format!("{size} bytes uncompressed is over the memory limit of {limit} bytes (set SHEAF_MEMORY_LIMIT, e.g. 8G, to allow it)")));
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(size as usize).map_err(|e| member_err(e.to_string()))?;
        // Read at most one byte past the declared size: a lying header cannot grow the buffer.
        (&mut m).take(size + 1).read_to_end(&mut bytes).map_err(|e| member_err(e.to_string()))?;
        if bytes.len() as u64 != size {
            return Err(member_err(format!("holds {} bytes, the archive says {size}", bytes.len())));
        }
        let npy = NpyFile::from_vec(bytes).map_err(|e| match e {
            NpyError::InFile { .. } => e,
            e => member_err(e.to_string()),
        })?;
        out.push((name.strip_suffix(".npy").unwrap_or(&name).to_string(), npy));
    }
    Ok(out)
}

/// Writes an `.npz` atomically; each member's bytes are a whole `.npy` file.
pub struct NpzWriter {
    path: PathBuf,
    zip: zip::ZipWriter<sheaf::AtomicFile>,
    options: SimpleFileOptions,
}

impl NpzWriter {
    /// Starts `path`; `compressed` deflates members as `np.savez_compressed` does.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(path: impl AsRef<Path>, compressed: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let tmp = temp_beside(&path)?;
        let method = if compressed { CompressionMethod::Deflated } else { CompressionMethod::Stored };
        let options = SimpleFileOptions::default().compression_method(method).large_file(true);
        Ok(NpzWriter { path, zip: zip::ZipWriter::new(tmp), options })
    }

    /// Adds member `name.npy` and returns a writer for its bytes.
    ///
    /// # Errors
    /// Archive errors.
    pub fn member(&mut self, name: &str) -> Result<&mut impl Write> {
        self.zip.start_file(format!("{name}.npy"), self.options).map_err(|e| NpyError::Npz { member: name.to_string(), reason: e.to_string() }.in_file(&self.path))?;
        Ok(&mut self.zip)
    }

    /// Finishes the archive and renames it into place.
    ///
    /// # Errors
    /// Archive and I/O errors.
    pub fn finish(self) -> Result<()> {
        let tmp = self.zip.finish().map_err(|e| NpyError::Npz { member: String::new(), reason: e.to_string() }.in_file(&self.path))?;
        tmp.persist().map_err(|e| NpyError::io(&self.path, e))?;
        Ok(())
    }
}
