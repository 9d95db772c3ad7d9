//! Reading: [`File`] opens a sheaf file (mapped, read into memory, or from bytes) by parsing only
//! the trailer, schema document and column directory, so open costs the same whatever the data
//! size. [`Array`] and [`Column`] give typed zero-copy views of plain columns and decode encoded
//! ones, chunks in parallel.

mod column;
mod decode;
mod verify;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use column::{Column, ColumnData, PlainLayout};
pub(crate) use decode::copy_bits;
pub use verify::VerifyReport;

use crate::buffer::AlignedBytes;
use crate::error::{Error, Result};
use crate::format::{checksum_parts, DirEntry, Trailer, DIR_ENTRY_LEN, TRAILER_LEN};
use crate::mmap::Storage;
use crate::schema::{decode_schema, ArraySchema, ColumnDesc, StoredArray};

/// Options for reading.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    verify_zero_copy: bool,
}

impl ReadOptions {
    /// Defaults: checksums are checked whenever a chunk is decoded, not on zero-copy views.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Also check the checksum of plain buffers before handing out a zero-copy view (reads the
    /// whole column once).
    #[must_use]
    pub fn with_verify_zero_copy(mut self, verify: bool) -> Self {
        self.verify_zero_copy = verify;
        self
    }
}

/// An open sheaf file.
///
/// # Example: write, open, and read a column without copying
/// ```
/// use sheaf::{ArraySchema, ColumnInput, DType, Field, File, LeafType, WriteOptions, Codec};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("points.sheaf");
/// let dtype = DType::structure(vec![
///     Field::new("id", DType::leaf(LeafType::Int(8))),
///     Field::new("pos", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3])),
/// ]);
/// let ids: Vec<i64> = (0..1000).collect();
/// let pos: Vec<f32> = (0..3000).map(|i| i as f32 * 0.5).collect();
/// sheaf::write_arrays(
///     &path,
///     &[(ArraySchema::new("points", dtype), vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&pos)])],
///     &WriteOptions::new().with_codec(Codec::None),
/// )?;
///
/// let file = File::open(&path)?;
/// let points = file.array("points")?;
/// let pos_col = points.column("pos")?;
/// assert!(pos_col.is_zero_copy());
/// let view: &[f32] = pos_col.as_slice()?; // points into the memory map
/// assert_eq!(view[5], 2.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct File {
    storage: Storage,
    path: Option<PathBuf>,
    options: ReadOptions,
    trailer: Trailer,
    arrays: Vec<StoredArray>,
    metadata: BTreeMap<String, String>,
    directory: Vec<DirEntry>,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.path).field("arrays", &self.arrays.len()).finish_non_exhaustive()
    }
}

impl File {
    /// Opens `path` by memory-mapping it: O(1) in the data size, and plain columns are then
    /// zero-copy views of the map.
    ///
    /// Safe to call by team decision (see the `mmap` module docs): the file must not be
    /// truncated or rewritten in place by another program while open. Files written by sheaf never
    /// are. Use [`File::read`] where that cannot be ruled out.
    ///
    /// # Errors
    /// I/O errors and every structural fault of the footer, each naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, ReadOptions::new())
    }

    /// [`File::open`] with options.
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn open_with(path: impl AsRef<Path>, options: ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let storage = Storage::map(path)?;
        Self::from_storage(storage, Some(path.to_path_buf()), options).map_err(|e| e.in_file(path))
    }

    /// Opens `path` by reading it whole into memory (no mapping).
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let storage = Storage::read(path)?;
        Self::from_storage(storage, Some(path.to_path_buf()), ReadOptions::new()).map_err(|e| e.in_file(path))
    }

    /// Parses a file held in memory (copied once into aligned memory).
    ///
    /// # Errors
    /// Every structural fault of the footer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let storage = Storage::Memory(Arc::new(AlignedBytes::copy_from(bytes)));
        Self::from_storage(storage, None, ReadOptions::new())
    }

    fn from_storage(storage: Storage, path: Option<PathBuf>, options: ReadOptions) -> Result<Self> {
        let bytes = storage.bytes();
        let trailer = Trailer::parse(bytes)?;
        let schema_bytes = slice(bytes, trailer.schema_offset, trailer.schema_len);
        let dir_bytes = slice(bytes, trailer.directory_offset, trailer.directory_len());
        let tail = &bytes[bytes.len() - TRAILER_LEN as usize..][..40];
        let computed = checksum_parts(&[schema_bytes, dir_bytes, tail]);
        if computed != trailer.footer_checksum {
            return Err(Error::ChecksumMismatch {
                what: "footer (schema, directory, trailer)".into(),
                offset: trailer.metadata_start(),
                stored: trailer.footer_checksum,
                computed,
            });
        }
        let directory: Vec<DirEntry> = dir_bytes.chunks_exact(DIR_ENTRY_LEN as usize).map(DirEntry::parse).collect();
        let (arrays, metadata) = decode_schema(schema_bytes, directory.len())?;
        Ok(File { storage, path, options, trailer, arrays, metadata, directory })
    }

    /// The file's bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// A handle on the file's bytes that keeps them alive (for zero-copy export).
    #[must_use]
    pub fn shared_bytes(&self) -> crate::mmap::SharedBytes {
        crate::mmap::SharedBytes(self.storage.clone())
    }

    /// The path it was opened from, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the file is memory-mapped.
    #[must_use]
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped(_))
    }

    /// File-level metadata.
    #[must_use]
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Format version as (major, minor).
    #[must_use]
    pub fn version(&self) -> (u16, u16) {
        (self.trailer.major, self.trailer.minor)
    }

    /// The arrays in file order.
    pub fn arrays(&self) -> impl Iterator<Item = Array<'_>> {
        (0..self.arrays.len()).map(move |index| Array { file: self, index })
    }

    /// The array named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn array(&self, name: &str) -> Result<Array<'_>> {
        self.arrays.iter().position(|a| a.schema.name == name).map(|index| Array { file: self, index }).ok_or_else(|| Error::NotFound { kind: "array", name: name.to_string() })
    }

    /// The file's only array (the `np.load` case).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the file holds zero or several arrays.
    pub fn single(&self) -> Result<Array<'_>> {
        if self.arrays.len() == 1 {
            Ok(Array { file: self, index: 0 })
        } else {
            Err(Error::NotFound { kind: "array", name: format!("<the single array; the file has {}>", self.arrays.len()) })
        }
    }

    pub(crate) fn directory(&self) -> &[DirEntry] {
        &self.directory
    }

    pub(crate) fn trailer(&self) -> &Trailer {
        &self.trailer
    }

    pub(crate) fn options(&self) -> ReadOptions {
        self.options
    }
}

/// `bytes[offset..offset+len]`; the caller has bound-checked the region.
fn slice(bytes: &[u8], offset: u64, len: u64) -> &[u8] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    let end = usize::try_from(offset.saturating_add(len)).unwrap_or(usize::MAX).min(bytes.len());
    &bytes[start..end.max(start)]
}

/// One named array of a file.
#[derive(Clone, Copy)]
pub struct Array<'f> {
    file: &'f File,
    index: usize,
}

impl<'f> Array<'f> {
    fn stored(&self) -> &'f StoredArray {
        &self.file.arrays[self.index]
    }

    /// The array's name.
    #[must_use]
    pub fn name(&self) -> &'f str {
        &self.stored().schema.name
    }

    /// Number of rows (product of the shape).
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.stored().rows
    }

    /// The full shape.
    #[must_use]
    pub fn shape(&self) -> &'f [u64] {
        self.stored().schema.shape.as_deref().unwrap_or(&[])
    }

    /// The schema: dtype, shape, order, metadata.
    #[must_use]
    pub fn schema(&self) -> &'f ArraySchema {
        &self.stored().schema
    }

    /// The leaf column descriptions, depth-first.
    #[must_use]
    pub fn column_descs(&self) -> &'f [ColumnDesc] {
        &self.stored().columns
    }

    /// Every column, in order.
    ///
    /// # Errors
    /// The first column whose chunk table is invalid.
    pub fn columns(&self) -> Result<Vec<Column<'f>>> {
        (0..self.stored().columns.len()).map(|i| self.column_at(i)).collect()
    }

    /// The column at `index` (depth-first leaf order).
    ///
    /// # Errors
    /// [`Error::NotFound`] or an invalid chunk table.
    pub fn column_at(&self, index: usize) -> Result<Column<'f>> {
        let desc = self.stored().columns.get(index).ok_or_else(|| Error::NotFound { kind: "column", name: format!("#{index}") })?;
        Column::load(self.file, self.stored(), desc, self.stored().first_column + index).map_err(|e| self.locate(e))
    }

    /// The column with dotted path `name` (`""` for a plain array's one column).
    ///
    /// # Errors
    /// [`Error::NotFound`] or an invalid chunk table.
    pub fn column(&self, name: &str) -> Result<Column<'f>> {
        let index = self.stored().columns.iter().position(|c| c.name() == name).ok_or_else(|| Error::NotFound { kind: "column", name: name.to_string() })?;
        self.column_at(index)
    }

    /// Rows `range` of the columns at `which` (indices in [`Array::column_descs`] order). Columns
    /// inside lists get exactly the items of those rows, and list columns their offsets into
    /// them (see [`Column::read_rows`]).
    ///
    /// # Errors
    /// As [`Column::read_rows`].
    pub fn read_columns(&self, which: &[usize], range: std::ops::Range<u64>) -> Result<Vec<ColumnData<'f>>> {
        let ranges = self.level_ranges(range)?;
        // Columns decode side by side, as their chunks do: many small columns (a table of a few
        // row groups) keep every thread busy too.
        which
            .par_iter()
            .map(|&i| {
                let col = self.column_at(i)?;
                col.read_rows(ranges[col.desc().level].clone()).map_err(|e| self.locate(e))
            })
            .collect()
    }

    /// The rows of every level (index 0: `range` itself, then each list's items) that rows
    /// `range` of the array cover.
    ///
    /// # Errors
    /// As [`Column::items_of`].
    pub fn level_ranges(&self, range: std::ops::Range<u64>) -> Result<Vec<std::ops::Range<u64>>> {
        let mut ranges = vec![range];
        for (i, d) in self.stored().columns.iter().enumerate() {
            if d.is_list() {
                // Levels are numbered in column order, so the list's own level is known here.
                let own = ranges.get(d.level).cloned().unwrap_or(0..0);
                let items = self.column_at(i)?.items_of(own).map_err(|e| self.locate(e))?;
                ranges.push(items);
            }
        }
        Ok(ranges)
    }

    fn locate(&self, e: Error) -> Error {
        match &self.file.path {
            Some(p) => e.in_file(p),
            None => e,
        }
    }
}
