//! Reading: [`File`] opens a sheaf file through a [`ByteSource`] (a memory map, positioned reads,
//! bytes in memory) by reading only the trailer, schema document and column directory, so open
//! costs the same whatever the data size. [`Array`] and [`Column`] are owned handles (no
//! lifetime, `Send + Sync`) that share the open file; a column's chunk table is read and checked
//! once, on first use, then cached. Plain columns come back as shared slices of the map, encoded
//! ones decode chunks in parallel.

mod column;
mod decode;
mod take;
mod verify;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use column::{Column, ColumnData, PlainLayout};
pub(crate) use decode::copy_bits;
pub use verify::VerifyReport;

use crate::buffer::SharedSlice;
use crate::error::{Error, Result};
use crate::format::{check_region, checksum_parts, DirEntry, Trailer, ALIGNMENT, DIR_ENTRY_LEN, HEADER_LEN, TRAILER_LEN};
use crate::schema::{decode_schema, ArraySchema, ColumnDesc, Extension, StoredArray};
use crate::source::{fetch, fetch_one, ByteSource, MappedSource, MemorySource, PositionedSource};
use crate::stats::{ChunkStats, STATISTICS, STATS_ENTRY_LEN, STATS_INDEX_ENTRY_LEN};

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

/// An open sheaf file: a cheap-to-clone handle (clones share one open file and its caches).
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
/// let pos_col = file.array("points")?.column("pos")?;
/// drop(file); // handles share the open file: the column keeps it alive
/// assert!(pos_col.is_zero_copy());
/// let view: &[f32] = pos_col.as_slice()?; // points into the memory map
/// assert_eq!(view[5], 2.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct File(Arc<Inner>);

/// What an open file knows after open: the footer, and the chunk tables read so far.
struct Inner {
    source: Arc<dyn ByteSource>,
    path: Option<PathBuf>,
    options: ReadOptions,
    len: u64,
    trailer: Trailer,
    arrays: Vec<StoredArray>,
    metadata: BTreeMap<String, String>,
    directory: Vec<DirEntry>,
    /// Each column's validated chunk table (by global column index), once read.
    tables: Vec<OnceLock<Arc<ChunkTable>>>,
    /// The extension regions the schema document declares (format 1.5).
    extensions: Vec<Extension>,
    /// The statistics index (24 bytes a column), once read; `None` in files without statistics.
    stats_index: OnceLock<Option<SharedSlice>>,
    /// Each column's statistics, once read.
    stats: Vec<OnceLock<Option<Arc<Vec<ChunkStats>>>>>,
    /// Where the trailer of the version this one was appended to starts (format 1.6).
    previous: Option<u64>,
}

/// One column's chunk entries, validated, with where each chunk's rows start.
#[derive(Debug)]
pub(crate) struct ChunkTable {
    pub(crate) chunks: Vec<crate::format::ChunkEntry>,
    /// Row where each chunk starts, plus the total at the end.
    pub(crate) row_starts: Vec<u64>,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.0.path).field("arrays", &self.0.arrays.len()).finish_non_exhaustive()
    }
}

impl File {
    /// Opens `path` by memory-mapping it: O(1) in the data size, and plain columns are then
    /// zero-copy views of the map.
    ///
    /// Safe to call by team decision (see the `mmap` module docs): the file must not be
    /// truncated or rewritten in place by another program while open. Files written by sheaf never
    /// are. Use [`File::open_unmapped`] where that cannot be ruled out.
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
        Self::from_source_with(Arc::new(MappedSource::open(path)?), options)
    }

    /// Opens `path` for positioned reads, never mapping it: every read copies what it needs into
    /// memory, so a program that rewrites the file in place cannot fault this one (a torn read
    /// of an encoded chunk fails its checksum).
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn open_unmapped(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_source_with(Arc::new(PositionedSource::open(path)?), ReadOptions::new())
    }

    /// Opens `path` by reading it whole into memory (no mapping).
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let source = Arc::new(MemorySource::new(SharedSlice::from_vec(bytes)));
        Self::open_source(source, Some(path.to_path_buf()), ReadOptions::new()).map_err(|e| e.in_file(path))
    }

    /// Parses a file held in memory (copied once into aligned memory).
    ///
    /// # Errors
    /// Every structural fault of the footer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_shared(SharedSlice::from_aligned(crate::buffer::AlignedBytes::copy_from(bytes)))
    }

    /// Parses a file held in shared memory, without a copy when it starts on a 64-byte boundary.
    ///
    /// # Errors
    /// Every structural fault of the footer.
    pub fn from_shared(bytes: SharedSlice) -> Result<Self> {
        Self::from_source(Arc::new(MemorySource::new(bytes)))
    }

    /// Opens the file that `source` serves: one read of the file's last bytes (the trailer, and
    /// the footer when it fits in [`crate::FetchHints::tail_read`]), a second for the footer
    /// otherwise.
    ///
    /// # Errors
    /// I/O errors of the source and every structural fault of the footer.
    pub fn from_source(source: Arc<dyn ByteSource>) -> Result<Self> {
        Self::from_source_with(source, ReadOptions::new())
    }

    /// [`File::from_source`] with options.
    ///
    /// # Errors
    /// As [`File::from_source`].
    pub fn from_source_with(source: Arc<dyn ByteSource>, options: ReadOptions) -> Result<Self> {
        let path = source.location().map(Path::to_path_buf);
        Self::open_source(source, path.clone(), options).map_err(|e| match &path {
            Some(p) => e.in_file(p),
            None => e,
        })
    }

    fn open_source(source: Arc<dyn ByteSource>, path: Option<PathBuf>, options: ReadOptions) -> Result<Self> {
        let len = source.len();
        let min = HEADER_LEN + TRAILER_LEN;
        if len < min {
            return Err(Error::TooShort { len, min });
        }
        let tail_len = source.hints().tail_read.clamp(TRAILER_LEN, len);
        let tail_start = len - tail_len;
        let tail = fetch_one(source.as_ref(), tail_start..len)?;
        if tail_start == 0 {
            crate::format::check_header(&tail[..HEADER_LEN as usize])?;
        }
        let trailer = Trailer::parse_tail(&tail[(tail_len - TRAILER_LEN) as usize..], len)?;
        let span = trailer.footer_span();
        let footer = if span.start >= tail_start {
            tail.slice((span.start - tail_start) as usize..(span.end - tail_start) as usize)
        } else if span.end <= tail_start {
            // After an interrupted append the committed footer may lie well before the tail.
            fetch_one(source.as_ref(), span.clone())?
        } else {
            // Only what the tail read lacks; the footer is small, so joining the two costs little.
            let rest = fetch_one(source.as_ref(), span.start..tail_start)?;
            let mut joined = Vec::with_capacity((span.end - span.start) as usize);
            joined.extend_from_slice(&rest);
            joined.extend_from_slice(&tail[..(span.end - tail_start) as usize]);
            SharedSlice::from_vec(joined)
        };
        let within = |offset: u64, n: u64| &footer[(offset - span.start) as usize..(offset - span.start + n) as usize];
        let schema_bytes = within(trailer.schema_offset, trailer.schema_len);
        let dir_bytes = within(trailer.directory_offset, trailer.directory_len());
        let trailer_bytes = &tail[(tail_len - TRAILER_LEN) as usize..][..40];
        let computed = checksum_parts(&[schema_bytes, dir_bytes, trailer_bytes]);
        if computed != trailer.footer_checksum {
            return Err(Error::ChecksumMismatch {
                what: "footer (schema, directory, trailer)".into(),
                offset: trailer.metadata_start(),
                stored: trailer.footer_checksum,
                computed,
            });
        }
        let directory: Vec<DirEntry> = dir_bytes.chunks_exact(DIR_ENTRY_LEN as usize).map(DirEntry::parse).collect();
        let (arrays, metadata, extensions, previous) = decode_schema(schema_bytes, directory.len())?;
        if let Some(at) = previous {
            // The version this one was appended to ends with its trailer, below this footer.
            check_region("previous version's trailer", at, TRAILER_LEN, HEADER_LEN, trailer.metadata_start())?;
        }
        let stats_index = OnceLock::new();
        for e in &extensions {
            let what = format!("extension region {:?}", e.name);
            check_region(&what, e.offset, e.length, HEADER_LEN, trailer.metadata_start())?;
            if e.offset % ALIGNMENT != 0 {
                return Err(Error::Misaligned { what, offset: e.offset, align: ALIGNMENT });
            }
            if e.name == STATISTICS {
                let index_len = directory.len() as u64 * STATS_INDEX_ENTRY_LEN as u64;
                if index_len > e.length {
                    return Err(Error::InvalidSchema { reason: format!("the statistics region of {} bytes cannot hold the index of {index_len}", e.length) });
                }
                let index_start = e.offset + e.length - index_len;
                // Usually next to the schema, inside what the tail read brought: no request.
                if index_start >= tail_start {
                    let at = (index_start - tail_start) as usize;
                    let _first = stats_index.set(Some(tail.slice(at..at + index_len as usize)));
                }
            }
        }
        let tables = directory.iter().map(|_| OnceLock::new()).collect();
        let stats = directory.iter().map(|_| OnceLock::new()).collect();
        Ok(File(Arc::new(Inner { source, path, options, len, trailer, arrays, metadata, directory, tables, extensions, stats_index, stats, previous })))
    }

    /// The file's length in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.0.len
    }

    /// Whether the file is empty (never true of an open file; for clippy's `len` rule).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The whole file's bytes when they are addressable in memory (a map or a buffer); `None`
    /// for sources that fetch by range.
    #[must_use]
    pub fn contiguous_bytes(&self) -> Option<&[u8]> {
        self.0.source.as_contiguous().map(|s| &s[..])
    }

    /// The whole file as a shared buffer (keeping the map alive) when it is addressable in
    /// memory; `None` for sources that fetch by range.
    #[must_use]
    pub fn contiguous_shared(&self) -> Option<SharedSlice> {
        self.0.source.as_contiguous().cloned()
    }

    /// The source the file is read through.
    #[must_use]
    pub fn source(&self) -> &Arc<dyn ByteSource> {
        &self.0.source
    }

    /// The path it was opened from, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.0.path.as_deref()
    }

    /// Whether the file is memory-mapped (plain columns are then views of the map).
    #[must_use]
    pub fn is_mapped(&self) -> bool {
        self.0.source.is_mapped()
    }

    /// File-level metadata.
    #[must_use]
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.0.metadata
    }

    /// Format version as (major, minor).
    #[must_use]
    pub fn version(&self) -> (u16, u16) {
        (self.0.trailer.major, self.0.trailer.minor)
    }

    /// The version of the file before its last append (format 1.6), as it was then: appends only
    /// add bytes, so it is the file's first bytes up to that version's trailer. `None` for a file
    /// that was never appended to.
    ///
    /// # Errors
    /// That version's footer is invalid.
    pub fn previous_version(&self) -> Result<Option<File>> {
        let Some(at) = self.0.previous else { return Ok(None) };
        let source: Arc<dyn ByteSource> = Arc::new(crate::source::PrefixSource::new(self.0.source.clone(), at + TRAILER_LEN));
        File::open_source(source, self.0.path.clone(), self.0.options).map(Some)
    }

    /// How many versions the file holds: 1, plus one for each append.
    ///
    /// # Errors
    /// An earlier version's footer is invalid.
    pub fn version_count(&self) -> Result<usize> {
        let mut n = 1;
        let mut at = self.previous_version()?;
        while let Some(v) = at {
            n += 1;
            at = v.previous_version()?;
        }
        Ok(n)
    }

    /// The number of arrays.
    #[must_use]
    pub fn array_count(&self) -> usize {
        self.0.arrays.len()
    }

    /// The arrays in file order.
    pub fn arrays(&self) -> impl Iterator<Item = Array> + '_ {
        (0..self.0.arrays.len()).map(move |index| Array { file: self.clone(), index })
    }

    /// The array named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn array(&self, name: &str) -> Result<Array> {
        self.0
            .arrays
            .iter()
            .position(|a| a.schema.name == name)
            .map(|index| Array { file: self.clone(), index })
            .ok_or_else(|| Error::NotFound { kind: "array", name: name.to_string() })
    }

    /// The file's only array (the `np.load` case).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the file holds zero or several arrays.
    pub fn single(&self) -> Result<Array> {
        if self.0.arrays.len() == 1 {
            Ok(Array { file: self.clone(), index: 0 })
        } else {
            Err(Error::NotFound { kind: "array", name: format!("<the single array; the file has {}>", self.0.arrays.len()) })
        }
    }

    pub(crate) fn directory(&self) -> &[DirEntry] {
        &self.0.directory
    }

    pub(crate) fn trailer(&self) -> &Trailer {
        &self.0.trailer
    }

    pub(crate) fn options(&self) -> ReadOptions {
        self.0.options
    }

    pub(crate) fn stored_array(&self, index: usize) -> &StoredArray {
        &self.0.arrays[index]
    }

    pub(crate) fn fetch(&self, ranges: &[Range<u64>]) -> Result<Vec<SharedSlice>> {
        fetch(self.0.source.as_ref(), ranges)
    }

    /// The chunk tables of global columns `columns` of array `array`, reading those not yet
    /// cached in one fetch (coalesced), validating each once.
    pub(crate) fn chunk_tables(&self, array: usize, columns: &[usize]) -> Result<Vec<Arc<ChunkTable>>> {
        let stored = &self.0.arrays[array];
        let missing: Vec<usize> = columns.iter().copied().filter(|&g| self.0.tables.get(g).is_some_and(|t| t.get().is_none())).collect();
        if !missing.is_empty() {
            let metadata_start = self.0.trailer.metadata_start();
            let mut ranges = Vec::with_capacity(missing.len());
            for &g in &missing {
                let entry = self.0.directory.get(g).copied().unwrap_or_default();
                let name = column_name(stored, &stored.columns[g - stored.first_column]);
                let (offset, len) = column::table_region(&name, &entry, metadata_start)?;
                ranges.push(offset..offset + len);
            }
            let bytes = self.fetch(&ranges)?;
            for (&g, table) in missing.iter().zip(bytes) {
                let entry = self.0.directory[g];
                let desc = &stored.columns[g - stored.first_column];
                let name = column_name(stored, desc);
                let t = column::parse_table(&name, stored, desc, &entry, &table, metadata_start)?;
                let _already_set_by_another_thread = self.0.tables[g].set(Arc::new(t));
            }
        }
        columns
            .iter()
            .map(|&g| self.0.tables.get(g).and_then(|t| t.get().cloned()).ok_or_else(|| Error::internal(format!("the chunk table of column #{g} was not read"))))
            .collect()
    }

    /// The extension regions the schema document declares (format 1.5): readers use those they
    /// know and skip the others.
    #[must_use]
    pub fn extensions(&self) -> &[Extension] {
        &self.0.extensions
    }

    /// The statistics of global column `global` (of array `array`, with chunk table `table`):
    /// one entry a chunk, read and checked once; `None` when the file has none for it (files
    /// before 1.5, leaves without statistics).
    pub(crate) fn chunk_statistics(&self, array: usize, global: usize, table: &ChunkTable) -> Result<Option<Arc<Vec<ChunkStats>>>> {
        if let Some(done) = self.0.stats.get(global).and_then(OnceLock::get) {
            return Ok(done.clone());
        }
        let Some(ext) = self.0.extensions.iter().find(|e| e.name == STATISTICS) else { return Ok(None) };
        let index_len = self.0.directory.len() as u64 * STATS_INDEX_ENTRY_LEN as u64;
        let index = match self.0.stats_index.get() {
            Some(i) => i.clone(),
            None => {
                let got = fetch_one(self.0.source.as_ref(), ext.offset + ext.length - index_len..ext.offset + ext.length)?;
                self.0.stats_index.get_or_init(|| Some(got)).clone()
            }
        };
        let Some(index) = index else { return Ok(None) };
        let at = global * STATS_INDEX_ENTRY_LEN;
        let entry = index.get(at..at + STATS_INDEX_ENTRY_LEN).unwrap_or(&[0; STATS_INDEX_ENTRY_LEN]);
        let word = |k: usize| u64::from_le_bytes(entry[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]));
        let (offset, len, stored) = (word(0), word(1), word(2));
        let stored_array = &self.0.arrays[array];
        let name = column_name(stored_array, &stored_array.columns[global - stored_array.first_column]);
        let parsed = if offset == 0 && len == 0 {
            None
        } else {
            let what = format!("statistics of column {name}");
            check_region(&what, offset, len, ext.offset, ext.offset + ext.length - index_len)?;
            let expect = table.chunks.len() as u64 * STATS_ENTRY_LEN as u64;
            if len != expect {
                return Err(Error::InvalidChunk { column: name, chunk: 0, reason: format!("statistics table of {len} bytes for {} chunks", table.chunks.len()) });
            }
            let bytes = fetch_one(self.0.source.as_ref(), offset..offset + len)?;
            let computed = crate::format::checksum(&bytes);
            if computed != stored {
                return Err(Error::ChecksumMismatch { what, offset, stored, computed });
            }
            let desc = &stored_array.columns[global - stored_array.first_column];
            let mut out = Vec::with_capacity(table.chunks.len());
            for (i, (e, c)) in bytes.chunks_exact(STATS_ENTRY_LEN).zip(&table.chunks).enumerate() {
                let s =
                    ChunkStats::parse(desc, e, c.null_count).ok_or_else(|| Error::InvalidChunk { column: name.clone(), chunk: i, reason: "invalid statistics entry".into() })?;
                out.push(s);
            }
            Some(Arc::new(out))
        };
        Ok(self.0.stats[global].get_or_init(|| parsed).clone())
    }

    fn locate(&self, e: Error) -> Error {
        match &self.0.path {
            Some(p) => e.in_file(p),
            None => e,
        }
    }
}

/// The `array/path` name of a column, for messages.
pub(crate) fn column_name(array: &StoredArray, desc: &ColumnDesc) -> String {
    if array.schema.name.is_empty() || desc.path.is_empty() {
        format!("{}{}", array.schema.name, desc.name())
    } else {
        format!("{}/{}", array.schema.name, desc.name())
    }
}

/// One named array of a file: an owned handle (it keeps the file open).
#[derive(Clone)]
pub struct Array {
    file: File,
    index: usize,
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Array").field("name", &self.name()).field("rows", &self.rows()).finish_non_exhaustive()
    }
}

impl Array {
    fn stored(&self) -> &StoredArray {
        self.file.stored_array(self.index)
    }

    /// The file this array is in.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The array's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.stored().schema.name
    }

    /// Number of rows (product of the shape).
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.stored().rows
    }

    /// The full shape.
    #[must_use]
    pub fn shape(&self) -> &[u64] {
        self.stored().schema.shape.as_deref().unwrap_or(&[])
    }

    /// Rows of each list level, outermost first (empty when the dtype has no lists).
    #[must_use]
    pub fn item_rows(&self) -> &[u64] {
        &self.stored().item_rows
    }

    /// The schema: dtype, shape, order, metadata.
    #[must_use]
    pub fn schema(&self) -> &ArraySchema {
        &self.stored().schema
    }

    /// The leaf column descriptions, depth-first.
    #[must_use]
    pub fn column_descs(&self) -> &[ColumnDesc] {
        &self.stored().columns
    }

    /// The rows at which a chunk of every column starts, ascending, from 0 to [`Array::rows`]:
    /// where the array can be cut without cutting a chunk (columns written together share their
    /// row groups; columns inside lists count items, and are not looked at).
    ///
    /// # Errors
    /// As [`Array::columns`].
    pub fn shared_chunk_bounds(&self) -> Result<Vec<u64>> {
        let columns = self.columns()?;
        let mut bounds: Vec<u64> = columns.iter().find(|c| c.desc().level == 0).map_or_else(|| vec![0, self.rows()], |c| c.row_starts().to_vec());
        for c in columns.iter().filter(|c| c.desc().level == 0) {
            bounds.retain(|b| c.row_starts().binary_search(b).is_ok());
        }
        Ok(bounds)
    }

    /// Every column, in order (their chunk tables read in one fetch).
    ///
    /// # Errors
    /// The first column whose chunk table is invalid.
    pub fn columns(&self) -> Result<Vec<Column>> {
        let all: Vec<usize> = (0..self.stored().columns.len()).collect();
        self.columns_at(&all)
    }

    /// The columns at `indices` (depth-first leaf order), their chunk tables read in one fetch.
    ///
    /// # Errors
    /// [`Error::NotFound`] or an invalid chunk table.
    pub fn columns_at(&self, indices: &[usize]) -> Result<Vec<Column>> {
        let stored = self.stored();
        if let Some(&bad) = indices.iter().find(|&&i| i >= stored.columns.len()) {
            return Err(Error::NotFound { kind: "column", name: format!("#{bad}") });
        }
        let globals: Vec<usize> = indices.iter().map(|i| stored.first_column + i).collect();
        let tables = self.file.chunk_tables(self.index, &globals).map_err(|e| self.file.locate(e))?;
        Ok(indices
            .iter()
            .zip(tables)
            .map(|(&i, table)| Column { file: self.file.clone(), array: self.index, index: i, name: column_name(stored, &stored.columns[i]), table })
            .collect())
    }

    /// The column at `index` (depth-first leaf order).
    ///
    /// # Errors
    /// [`Error::NotFound`] or an invalid chunk table.
    pub fn column_at(&self, index: usize) -> Result<Column> {
        Ok(self.columns_at(&[index])?.remove(0))
    }

    /// The column with dotted path `name` (`""` for a plain array's one column).
    ///
    /// # Errors
    /// [`Error::NotFound`] or an invalid chunk table.
    pub fn column(&self, name: &str) -> Result<Column> {
        let index = self.stored().columns.iter().position(|c| c.name() == name).ok_or_else(|| Error::NotFound { kind: "column", name: name.to_string() })?;
        self.column_at(index)
    }

    /// Rows `range` of the columns at `which` (indices in [`Array::column_descs`] order). Columns
    /// inside lists get exactly the items of those rows, and list columns their offsets into
    /// them (see [`Column::read_rows`]).
    ///
    /// # Errors
    /// As [`Column::read_rows`].
    pub fn read_columns(&self, which: &[usize], range: Range<u64>) -> Result<Vec<ColumnData<'static>>> {
        let ranges = self.level_ranges(range)?;
        let cols = self.columns_at(which)?;
        // Columns decode side by side, as their chunks do: many small columns (a table of a few
        // row groups) keep every thread busy too.
        cols.par_iter()
            .map(|col| {
                let r = ranges.get(col.desc().level).cloned().unwrap_or(0..0);
                col.read_rows(r).map_err(|e| self.file.locate(e))
            })
            .collect()
    }

    /// The rows of every level (index 0: `range` itself, then each list's items) that rows
    /// `range` of the array cover.
    ///
    /// # Errors
    /// As [`Column::items_of`].
    pub fn level_ranges(&self, range: Range<u64>) -> Result<Vec<Range<u64>>> {
        let mut ranges = vec![range];
        let lists: Vec<usize> = self.stored().columns.iter().enumerate().filter(|(_, d)| d.is_list()).map(|(i, _)| i).collect();
        for col in self.columns_at(&lists)? {
            // Levels are numbered in column order, so the list's own level is known here.
            let own = ranges.get(col.desc().level).cloned().unwrap_or(0..0);
            let items = col.items_of(own).map_err(|e| self.file.locate(e))?;
            ranges.push(items);
        }
        Ok(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_static<T: Send + Sync + 'static>() {}

    #[test]
    fn handles_are_send_sync_and_static() {
        assert_send_sync_static::<File>();
        assert_send_sync_static::<Array>();
        assert_send_sync_static::<Column>();
        assert_send_sync_static::<ColumnData<'static>>();
    }
}
