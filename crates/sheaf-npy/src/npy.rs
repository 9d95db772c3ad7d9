//! `.npy` files: [`NpyFile`] reads one through a memory map (never loading it whole), checking
//! the header against the file; [`NpyWriter`] writes one atomically, records streamed in.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sheaf::{AlignedBytes, DType, MappedFile};

use crate::error::{NpyError, Result};
use crate::header::NpyHeader;
use crate::layout::{layouts, records_to_columns, ColumnLayout};

#[derive(Clone)]
enum Bytes {
    Mapped(MappedFile),
    Owned(Arc<Vec<u8>>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// A `.npy` array: its header and its records, checked to be all there.
#[derive(Clone)]
pub struct NpyFile {
    bytes: Bytes,
    header: NpyHeader,
    data_len: usize,
    layouts: Vec<ColumnLayout>,
}

impl NpyFile {
    /// Maps and parses `path`.
    ///
    /// # Errors
    /// I/O errors and every fault of [`NpyHeader::parse`], truncated data, each naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let map = MappedFile::open(path)?;
        Self::from_storage(Bytes::Mapped(map)).map_err(|e| e.in_file(path))
    }

    /// Parses a `.npy` held in memory (an `.npz` member).
    ///
    /// # Errors
    /// As [`NpyFile::open`].
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self> {
        Self::from_storage(Bytes::Owned(Arc::new(bytes)))
    }

    fn from_storage(bytes: Bytes) -> Result<Self> {
        let header = NpyHeader::parse(&bytes)?;
        let count = header.count().ok_or_else(|| NpyError::BadHeader { reason: "shape product overflows".into() })?;
        let itemsize = header.itemsize().ok_or_else(|| NpyError::BadHeader { reason: "no fixed itemsize".into() })?;
        let need = count.checked_mul(itemsize).ok_or_else(|| NpyError::BadHeader { reason: "data size overflows".into() })?;
        let available = (bytes.len() - header.data_offset) as u64;
        if need > available {
            return Err(NpyError::Truncated { what: "array data", offset: header.data_offset as u64, needed: need, available });
        }
        let layouts = layouts(&header.dtype);
        Ok(NpyFile { data_len: need as usize, bytes, layouts, header })
    }

    /// The header.
    #[must_use]
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// Number of records.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.header.count().unwrap_or(0)
    }

    /// The record bytes, in the file's order.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.bytes[self.header.data_offset..self.header.data_offset + self.data_len]
    }

    /// Where each leaf column sits in a record.
    #[must_use]
    pub fn layouts(&self) -> &[ColumnLayout] {
        &self.layouts
    }

    /// Rows `start..end` as one little-endian buffer per leaf column (parallel transposition).
    ///
    /// # Panics
    /// If the range is outside the array (callers clamp it to [`NpyFile::rows`]).
    #[must_use]
    pub fn columns(&self, start: u64, end: u64) -> Vec<AlignedBytes> {
        let itemsize = self.header.itemsize().unwrap_or(0) as usize;
        let (s, e) = (start as usize, end as usize);
        records_to_columns(&self.data()[s * itemsize..e * itemsize], itemsize, e - s, &self.layouts)
    }
}

/// Writes a `.npy` atomically: records are streamed in, the file appears at `finish`.
pub struct NpyWriter {
    path: PathBuf,
    out: BufWriter<sheaf::AtomicFile>,
    expected: u64,
    written: u64,
}

pub(crate) fn temp_beside(path: &Path) -> Result<sheaf::AtomicFile> {
    sheaf::AtomicFile::create(path).map_err(|e| NpyError::io(path, e))
}

impl NpyWriter {
    /// Starts `path` with the header for `dtype`, `shape` and order.
    ///
    /// # Errors
    /// Dtypes NumPy cannot hold; I/O errors.
    pub fn create(path: impl AsRef<Path>, dtype: &DType, shape: &[u64], fortran_order: bool) -> Result<Self> {
        Self::create_with_descr(path, &crate::descr_of(dtype)?, dtype, shape, fortran_order)
    }

    /// As [`NpyWriter::create`], with the header's `descr` given as Python literal text (that of
    /// the `.npy` the records came from, [`crate::NpyHeader::descr`]); it must describe `dtype`.
    ///
    /// # Errors
    /// A `descr` that is not `dtype`'s; I/O errors.
    pub fn create_with_descr(path: impl AsRef<Path>, descr: &str, dtype: &DType, shape: &[u64], fortran_order: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if crate::dtype_of_descr(descr)? != *dtype {
            return Err(NpyError::BadHeader { reason: format!("descr {descr} does not describe the records written") });
        }
        let header = NpyHeader::encode_descr(descr, shape, fortran_order)?;
        let itemsize = dtype.itemsize().unwrap_or(0);
        let expected = shape.iter().product::<u64>() * itemsize;
        let mut out = BufWriter::with_capacity(1 << 20, temp_beside(&path)?);
        out.write_all(&header).map_err(|e| NpyError::io(&path, e))?;
        Ok(NpyWriter { path, out, expected, written: 0 })
    }

    /// Appends record bytes.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_records(&mut self, records: &[u8]) -> Result<()> {
        self.written += records.len() as u64;
        self.out.write_all(records).map_err(|e| NpyError::io(&self.path, e))
    }

    /// Checks that every record was written and renames the file into place.
    ///
    /// # Errors
    /// A short or long write; I/O errors.
    pub fn finish(self) -> Result<()> {
        if self.written != self.expected {
            return Err(NpyError::BadHeader { reason: format!("wrote {} data bytes, the header promises {}", self.written, self.expected) });
        }
        let tmp = self.out.into_inner().map_err(|e| NpyError::io(&self.path, e.into_error()))?;
        tmp.persist().map_err(|e| NpyError::io(&self.path, e))?;
        Ok(())
    }
}
