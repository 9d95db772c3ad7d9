//! One leaf column of an array: an owned handle on its validated chunk table, zero-copy views of
//! plain data, and decoding of whole columns, row ranges and single chunks. Which stored bytes a
//! read needs is worked out here from the chunk table alone ([`Column::ranges_for_rows`]); they
//! are fetched through the file's source in one coalesced request, then decoded.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use super::decode::{copy_bits, decode_chunk, decode_validity, decode_values_into, ChunkCtx, DecodedChunk, StoredChunk};
use super::{ChunkTable, File};
use crate::buffer::{cast, AlignedBytes, Buf, NativeType, SharedSlice};
use crate::codec::pipeline_name;
use crate::dtype::LeafType;
use crate::error::{Error, Result};
use crate::format::{check_region, checksum, ChunkEntry, DirEntry, ALIGNMENT, CHUNK_ENTRY_LEN, HEADER_LEN, MAX_ENCODED_BUFFER_DECODED};
use crate::schema::{ColumnDesc, StoredArray};

/// A leaf column with its validated chunk table: an owned handle that keeps the file open, so
/// it may outlive the [`File`] it came from and move across threads.
#[derive(Clone)]
pub struct Column {
    pub(crate) file: File,
    pub(crate) array: usize,
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) table: Arc<ChunkTable>,
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("name", &self.name).field("chunks", &self.table.chunks.len()).finish_non_exhaustive()
    }
}

/// File regions `(offset, len)` of a plain, single-chunk column's buffers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlainLayout {
    /// The validity bitmap, when the column has nulls.
    pub validity: Option<(u64, u64)>,
    /// The u64 offsets of a variable-length column.
    pub offsets: Option<(u64, u64)>,
    /// The values.
    pub values: Option<(u64, u64)>,
}

/// Data of a run of rows of one column: decoded, or for plain chunks shared with the file's map
/// (reads return `ColumnData<'static>`; the writer also takes data borrowed from the caller).
#[derive(Debug, Clone)]
pub struct ColumnData<'a> {
    /// Rows held.
    pub rows: u64,
    /// Values: `rows * row_width` bytes for fixed-width columns, the concatenated bytes of every
    /// row for variable-length ones.
    pub values: Buf<'a>,
    /// For variable-length columns, `rows + 1` offsets into `values` starting at 0.
    pub offsets: Option<Vec<u64>>,
    /// Validity bitmap (LSB first, 1 = valid) when any row is null.
    pub validity: Option<Vec<u8>>,
}

impl ColumnData<'_> {
    /// The values as a typed slice (checked length and alignment).
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] when the bytes do not fit `T`.
    pub fn values_as<T: NativeType>(&self) -> Result<&[T]> {
        cast(&self.values).ok_or_else(|| Error::TypeMismatch { column: String::new(), dtype: "bytes".into(), requested: T::NAME })
    }

    /// Whether row `i` is valid (not null); for a column whose elements are nullable one by one
    /// ([`ColumnDesc::validity_bits_per_row`] above 1), `i` counts elements.
    #[must_use]
    pub fn is_valid(&self, i: usize) -> bool {
        self.validity.as_ref().is_none_or(|v| v.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1))
    }

    /// The rows of `parts` one after the other, as one column of `desc`: values and offsets
    /// joined (a list column's offsets continue from the items before), validity bitmaps joined
    /// bit by bit (a bit per element where `desc`'s elements are nullable one by one). Copies.
    #[must_use]
    pub fn concat(desc: &ColumnDesc, parts: &[&ColumnData<'_>]) -> ColumnData<'static> {
        let rows: u64 = parts.iter().map(|p| p.rows).sum();
        let k = desc.validity_bits_per_row();
        let mut values = Vec::with_capacity(parts.iter().map(|p| p.values.len()).sum());
        let mut offsets: Option<Vec<u64>> = parts.first().and_then(|p| p.offsets.as_ref()).map(|_| vec![0u64]);
        let mut validity = parts.iter().any(|p| p.validity.is_some()).then(|| vec![0u8; (rows * k).div_ceil(8) as usize]);
        let mut at = 0u64;
        for p in parts {
            // A list column's offsets count items, not bytes: continue from its last one.
            let base = offsets.as_ref().and_then(|o| o.last().copied()).unwrap_or(values.len() as u64);
            values.extend_from_slice(&p.values);
            if let (Some(o), Some(po)) = (offsets.as_mut(), p.offsets.as_ref()) {
                let first = po.first().copied().unwrap_or(0);
                o.extend(po.iter().skip(1).map(|x| x - first + base));
            }
            if let Some(v) = validity.as_mut() {
                let bits = p.rows * k;
                match &p.validity {
                    Some(src) => copy_bits(src, 0, v, at * k, bits),
                    None => copy_bits(&vec![0xFF; bits.div_ceil(8) as usize], 0, v, at * k, bits),
                }
            }
            at += p.rows;
        }
        ColumnData { rows, values: Buf::Owned(AlignedBytes::copy_from(&values)), offsets, validity }
    }

    /// The bytes of row `i` of a variable-length column.
    #[must_use]
    pub fn var_value(&self, i: usize) -> Option<&[u8]> {
        let o = self.offsets.as_ref()?;
        let (s, e) = (usize::try_from(*o.get(i)?).ok()?, usize::try_from(*o.get(i + 1)?).ok()?);
        self.values.get(s..e)
    }
}

fn allowed_view(ty: LeafType, name: &str) -> bool {
    match ty {
        LeafType::Bool | LeafType::Bytes(_) | LeafType::Void(_) | LeafType::Utf8 | LeafType::Binary => name == "u8",
        LeafType::Int(n) | LeafType::UInt(n) => name == format!("i{}", n * 8) || name == format!("u{}", n * 8),
        LeafType::Float(2) => name == "u16",
        LeafType::Float(n) => name == format!("f{}", n * 8),
        LeafType::Complex(n) => name == format!("f{}", n * 4),
        LeafType::Unicode(_) => name == "u32",
        LeafType::Datetime(..) | LeafType::Timedelta(..) => name == "i64",
    }
}

/// Where a column's chunk table lies, checked against the file: `(offset, len)`.
pub(crate) fn table_region(name: &str, entry: &DirEntry, metadata_start: u64) -> Result<(u64, u64)> {
    let table_len = u64::from(entry.chunk_count) * CHUNK_ENTRY_LEN;
    let what = format!("chunk table of column {name}");
    check_region(&what, entry.chunk_table_offset, table_len, HEADER_LEN, metadata_start)?;
    if !entry.chunk_table_offset.is_multiple_of(ALIGNMENT) {
        return Err(Error::Misaligned { what, offset: entry.chunk_table_offset, align: ALIGNMENT });
    }
    Ok((entry.chunk_table_offset, table_len))
}

/// Parses and validates a column's chunk table from its stored bytes.
pub(crate) fn parse_table(name: &str, array: &StoredArray, desc: &ColumnDesc, entry: &DirEntry, table: &[u8], metadata_start: u64) -> Result<ChunkTable> {
    let computed = checksum(table);
    if computed != entry.chunk_table_checksum {
        return Err(Error::ChecksumMismatch { what: format!("chunk table of column {name}"), offset: entry.chunk_table_offset, stored: entry.chunk_table_checksum, computed });
    }
    let chunks: Vec<ChunkEntry> = table.chunks_exact(CHUNK_ENTRY_LEN as usize).map(ChunkEntry::parse).collect();
    let row_starts = validate(name, array, desc, &chunks, metadata_start)?;
    Ok(ChunkTable { chunks, row_starts })
}

fn validate(name: &str, array: &StoredArray, desc: &ColumnDesc, chunks: &[ChunkEntry], metadata_start: u64) -> Result<Vec<u64>> {
    let bad_chunk = |chunk: usize, reason: String| Error::InvalidChunk { column: name.to_string(), chunk, reason };
    let mut starts = Vec::with_capacity(chunks.len() + 1);
    let mut total = 0u64;
    let mut spans = Vec::new();
    let row_width = desc.row_width();
    for (i, c) in chunks.iter().enumerate() {
        starts.push(total);
        total = total.checked_add(c.row_count).ok_or_else(|| bad_chunk(i, "row counts overflow".into()))?;
        // Nulls count elements where each element has its own validity bit (format 1.5).
        let bits = c.row_count.checked_mul(desc.validity_bits_per_row()).ok_or_else(|| bad_chunk(i, "size overflows".into()))?;
        if c.null_count > bits {
            return Err(bad_chunk(i, format!("{} nulls in {} rows", c.null_count, c.row_count)));
        }
        if c.null_count > 0 && !desc.may_have_nulls() {
            return Err(bad_chunk(i, "nulls in a column the schema says is not nullable".into()));
        }
        let expect_values = match row_width {
            Some(w) => Some(c.row_count.checked_mul(w).ok_or_else(|| bad_chunk(i, "size overflows".into()))?),
            None => None,
        };
        let checks = [
            ("validity", &c.validity, if c.null_count > 0 { Some(Some(bits.div_ceil(8))) } else { None }),
            ("offsets", &c.offsets, row_width.is_none().then(|| c.row_count.checked_add(1).and_then(|n| n.checked_mul(8)))),
            ("values", &c.values, Some(expect_values)),
        ];
        for (role, r, expect) in checks {
            match expect {
                // A validity buffer may be stored for a chunk without nulls (an all-set bitmap).
                None if !(r.is_absent() || role == "validity" && c.null_count == 0 && r.stored_len > 0) => {
                    return Err(bad_chunk(i, format!("unexpected {role} buffer")));
                }
                None => {}
                Some(Some(e)) if r.decoded_len != e => {
                    return Err(bad_chunk(i, format!("{role} decodes to {} bytes, {e} expected", r.decoded_len)));
                }
                Some(_) => {}
            }
            if r.is_absent() {
                continue;
            }
            let what = format!("{role} buffer of column {name}, chunk {i}");
            check_region(&what, r.offset, r.stored_len, HEADER_LEN, metadata_start)?;
            if r.offset % ALIGNMENT != 0 {
                return Err(Error::Misaligned { what, offset: r.offset, align: ALIGNMENT });
            }
            if r.is_plain() && r.stored_len != r.decoded_len {
                return Err(bad_chunk(i, format!("plain {role} buffer stores {} bytes but declares {}", r.stored_len, r.decoded_len)));
            }
            if !r.is_plain() && r.decoded_len > MAX_ENCODED_BUFFER_DECODED {
                return Err(Error::LimitExceeded { what: format!("decoded length of {what}"), value: r.decoded_len, limit: MAX_ENCODED_BUFFER_DECODED });
            }
            if let Some(&id) = r.stage_ids().iter().find(|&&id| crate::codec::codec(id).is_none()) {
                return Err(Error::UnknownCodec { column: name.to_string(), chunk: i, id });
            }
            spans.push((r.offset, r.stored_len));
        }
    }
    let expected = array.level_rows(desc.level);
    if total != expected {
        let what = if desc.level == 0 { "the array has" } else { "its list level has" };
        return Err(Error::InvalidSchema { reason: format!("column {name}: chunks hold {total} rows, {what} {expected}") });
    }
    spans.sort_unstable();
    let mut end = 0u64;
    for (off, len) in spans {
        if off < end {
            return Err(Error::OverlappingBuffers { column: name.to_string(), offset: off, previous_end: end });
        }
        end = off + len;
    }
    starts.push(total);
    Ok(starts)
}

impl Column {
    fn stored_array(&self) -> &StoredArray {
        self.file.stored_array(self.array)
    }

    fn chunk_list(&self) -> &[ChunkEntry] {
        &self.table.chunks
    }

    /// The first row of each chunk, then the row count (one more entry than chunks).
    #[must_use]
    pub fn row_starts(&self) -> &[u64] {
        &self.table.row_starts
    }

    pub(super) fn ctx(&self) -> ChunkCtx<'_> {
        ChunkCtx { name: &self.name, unit_width: self.desc().leaf.ty.unit_width(), row_width: self.desc().row_width(), verify_plain: self.file.options().verify_zero_copy }
    }

    /// Checks a plain buffer's stored bytes against its checksum (reads hand them out unchecked).
    pub(crate) fn check_plain_sum(&self, chunk: usize, r: &crate::format::BufferRef, bytes: &[u8]) -> Result<()> {
        self.ctx().check_sum(chunk, r, bytes)
    }

    /// Checks chunk `chunk`'s plain buffers against their checksums. Reads hand plain bytes out
    /// unchecked (that is what makes them zero-copy); something that copies them into another
    /// file calls this once per chunk first, so damage is never carried over under a new name.
    /// Encoded buffers are checked whenever they are decoded.
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`] naming the column, chunk and offset; I/O errors.
    pub fn verify_plain_chunk(&self, chunk: usize) -> Result<()> {
        let Some(entry) = self.chunks().get(chunk) else { return Ok(()) };
        let plain: Vec<&crate::format::BufferRef> = [&entry.validity, &entry.offsets, &entry.values].into_iter().filter(|r| !r.is_absent() && r.is_plain()).collect();
        if plain.is_empty() {
            return Ok(());
        }
        let ranges: Vec<Range<u64>> = plain.iter().map(|r| r.offset..r.offset + r.stored_len).collect();
        let got = self.file.fetch(&ranges)?;
        plain.iter().zip(&got).try_for_each(|(r, bytes)| self.check_plain_sum(chunk, r, bytes))
    }

    /// Per-chunk statistics as the writer stored them (format 1.5): bounds, null and NaN counts,
    /// read for this column alone and checked once. `None` for files before 1.5 and leaves
    /// without statistics (complex numbers, list columns), where a caller scans instead.
    ///
    /// # Errors
    /// I/O errors, a statistics table outside its region or failing its checksum.
    pub fn statistics(&self) -> Result<Option<Arc<Vec<crate::ChunkStats>>>> {
        let global = self.stored_array().first_column + self.index;
        self.file.chunk_statistics(self.array, global, &self.table).map_err(|e| match self.file.path() {
            Some(p) => e.in_file(p),
            None => e,
        })
    }

    /// The column's statistics, its chunks' merged (see [`Column::statistics`]).
    ///
    /// # Errors
    /// As [`Column::statistics`].
    pub fn column_statistics(&self) -> Result<Option<crate::ChunkStats>> {
        Ok(self.statistics()?.map(|chunks| chunks.iter().fold(crate::ChunkStats::default(), |acc, s| acc.merge(s))))
    }

    /// The file this column is in.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The description (path, leaf type, subarray shape).
    #[must_use]
    pub fn desc(&self) -> &ColumnDesc {
        &self.stored_array().columns[self.index]
    }

    /// `array/path` name used in messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Rows: the array's rows, or for a column inside a list, the items of all its lists.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.stored_array().level_rows(self.desc().level)
    }

    /// The chunk entries.
    #[must_use]
    pub fn chunks(&self) -> &[ChunkEntry] {
        &self.table.chunks
    }

    /// Total nulls.
    #[must_use]
    pub fn null_count(&self) -> u64 {
        self.chunk_list().iter().map(|c| c.null_count).sum()
    }

    /// Bytes stored in the file (all buffers of all chunks).
    #[must_use]
    pub fn stored_bytes(&self) -> u64 {
        self.chunk_list().iter().flat_map(|c| c.buffers()).map(|(_, r)| r.stored_len).sum()
    }

    /// Bytes once decoded in memory.
    #[must_use]
    pub fn memory_bytes(&self) -> u64 {
        self.chunk_list().iter().flat_map(|c| c.buffers()).map(|(_, r)| r.decoded_len).sum()
    }

    /// Whether [`Column::as_slice`] hands out the whole column without copying: one chunk, stored
    /// plain, fixed width, in a file read through a map or from memory.
    #[must_use]
    pub fn is_zero_copy(&self) -> bool {
        self.file.contiguous_bytes().is_some()
            && self.desc().is_fixed_width()
            && self.chunk_list().len() <= 1
            && self.chunk_list().iter().all(|c| c.values.is_plain() && c.null_count == 0)
    }

    /// Where the column's buffers lie in the file when it is one chunk stored plain (validity,
    /// offsets and values each as `(offset, len)`, absent ones `None`): the zero-copy layout.
    /// Checksums are checked first when the file was opened with
    /// [`super::ReadOptions::with_verify_zero_copy`].
    ///
    /// # Errors
    /// A checksum mismatch (only when verifying zero-copy reads).
    pub fn plain_layout(&self) -> Result<Option<PlainLayout>> {
        if self.desc().is_list() {
            // Stored end offsets are not the offsets readers are given.
            return Ok(None);
        }
        let [c] = self.chunk_list() else {
            return Ok(if self.chunk_list().is_empty() { Some(PlainLayout::default()) } else { None });
        };
        let bufs = [&c.validity, &c.offsets, &c.values];
        if bufs.iter().any(|b| !b.is_absent() && !b.is_plain()) {
            return Ok(None);
        }
        if self.file.options().verify_zero_copy {
            let stored = self.fetch_chunks(&[0])?;
            let s = &stored[0];
            for (b, bytes) in bufs.into_iter().zip([&s.validity, &s.offsets, &s.values]) {
                if let Some(bytes) = bytes {
                    self.ctx().check_sum(0, b, bytes)?;
                }
            }
        }
        let region = |b: &crate::format::BufferRef| (!b.is_absent()).then_some((b.offset, b.stored_len));
        Ok(Some(PlainLayout { validity: region(&c.validity), offsets: region(&c.offsets), values: region(&c.values) }))
    }

    /// The encodings used by the values buffers, e.g. `delta+bitpack` or `zstd, constant`.
    #[must_use]
    pub fn encoding(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for c in self.chunk_list() {
            let n = pipeline_name(c.values.stage_ids());
            if !names.contains(&n) {
                names.push(n);
            }
        }
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    fn check_view<T: NativeType>(&self) -> Result<()> {
        if allowed_view(self.desc().leaf.ty, T::NAME) {
            Ok(())
        } else {
            Err(Error::TypeMismatch { column: self.name.clone(), dtype: self.desc().type_text(), requested: T::NAME })
        }
    }

    /// The whole column as a typed slice of the file, without copying.
    ///
    /// Elements are the leaf's scalars: a `('pos','<f4',(3,))` column of n rows is `3n` f32.
    /// Null rows hold unspecified values (check [`Column::read`]'s validity for nullable columns).
    ///
    /// # Errors
    /// [`Error::NotZeroCopy`] if encoded, in several chunks or in a file read by range,
    /// [`Error::TypeMismatch`] if `T` does not match the column, a checksum error if
    /// [`super::ReadOptions::with_verify_zero_copy`].
    pub fn as_slice<T: NativeType>(&self) -> Result<&[T]> {
        self.check_view::<T>()?;
        if !self.is_zero_copy() {
            let encoding = if self.file.contiguous_bytes().is_none() { "a file read by range".into() } else { self.encoding() };
            return Err(Error::NotZeroCopy { column: self.name.clone(), encoding });
        }
        let Some(chunk) = self.chunk_list().first() else { return Ok(&[]) };
        let all = self.file.contiguous_bytes().unwrap_or_default();
        let bytes = crate::format::region(all, chunk.values.offset, chunk.values.stored_len);
        if self.file.options().verify_zero_copy {
            self.ctx().check_sum(0, &chunk.values, bytes)?;
        }
        cast(bytes).ok_or_else(|| Error::Misaligned { what: format!("values of column {}", self.name), offset: chunk.values.offset, align: 64 })
    }

    /// The file ranges of the stored buffers of the chunks `chunks` (absent buffers left out):
    /// what a read of those chunks fetches.
    #[must_use]
    pub fn chunk_ranges(&self, chunks: &[usize]) -> Vec<Range<u64>> {
        chunks.iter().filter_map(|&i| self.chunk_list().get(i)).flat_map(|c| c.buffers()).filter(|(_, r)| !r.is_absent()).map(|(_, r)| r.offset..r.offset + r.stored_len).collect()
    }

    /// The chunks that hold rows `range` of this column (its own rows: items for a column inside
    /// a list), as indices into [`Column::chunks`].
    #[must_use]
    pub fn chunks_for_rows(&self, range: Range<u64>) -> Range<usize> {
        let starts = self.row_starts();
        let n = self.chunk_list().len();
        if range.start >= range.end {
            return 0..0;
        }
        let first = starts.partition_point(|&s| s <= range.start).saturating_sub(1).min(n);
        let last = starts.partition_point(|&s| s < range.end).min(n);
        first..last.max(first)
    }

    /// The file ranges a read of rows `range` fetches (before coalescing), decided from the
    /// chunk table alone.
    #[must_use]
    pub fn ranges_for_rows(&self, range: Range<u64>) -> Vec<Range<u64>> {
        let chunks: Vec<usize> = self.chunks_for_rows(range).collect();
        self.chunk_ranges(&chunks)
    }

    /// The stored bytes of the chunks `chunks`, in one coalesced fetch.
    fn fetch_chunks(&self, chunks: &[usize]) -> Result<Vec<StoredChunk>> {
        let ranges = self.chunk_ranges(chunks);
        let mut got = self.file.fetch(&ranges)?.into_iter();
        let mut take = |r: &crate::format::BufferRef| -> Option<SharedSlice> {
            if r.is_absent() {
                None
            } else {
                got.next()
            }
        };
        Ok(chunks
            .iter()
            .filter_map(|&i| self.chunk_list().get(i))
            .map(|c| {
                let validity = take(&c.validity);
                let offsets = take(&c.offsets);
                let values = take(&c.values);
                StoredChunk { validity, offsets, values }
            })
            .collect())
    }

    /// Decodes the whole column (chunks in parallel); plain single-chunk columns are shared with
    /// the file's map, not copied.
    ///
    /// # Errors
    /// Checksum, codec and consistency errors naming the chunk and offset.
    pub fn read(&self) -> Result<ColumnData<'static>> {
        self.read_rows(0..self.rows())
    }

    /// Decodes chunk `index` alone (bounded memory: for iterating row groups).
    ///
    /// # Errors
    /// As [`Column::read`].
    pub fn read_chunk(&self, index: usize) -> Result<ColumnData<'static>> {
        if self.desc().is_list() {
            let start = *self.row_starts().get(index).ok_or_else(|| Error::NotFound { kind: "chunk", name: index.to_string() })?;
            return self.read_rows(start..self.row_starts()[index + 1]);
        }
        self.read_stored_chunk(index)
    }

    /// Chunk `index` as stored (a list column's end offsets as they are).
    pub(crate) fn read_stored_chunk(&self, index: usize) -> Result<ColumnData<'static>> {
        let c = self.chunk_list().get(index).ok_or_else(|| Error::NotFound { kind: "chunk", name: index.to_string() })?;
        let stored = self.fetch_chunks(&[index])?;
        let d = decode_chunk(&self.ctx(), index, c, &stored[0])?;
        Ok(ColumnData { rows: c.row_count, values: d.values, offsets: d.offsets, validity: d.validity })
    }

    /// Decodes rows `range`, touching only the chunks it overlaps. A list column gives its rows
    /// as `rows + 1` offsets from 0 into the items of those rows (no values); the items are
    /// the rows [`Column::items_of`] names in the item columns.
    ///
    /// # Errors
    /// [`Error::RowRange`] and as [`Column::read`]; a list's offsets that decrease or pass its
    /// items.
    pub fn read_rows(&self, range: Range<u64>) -> Result<ColumnData<'static>> {
        if self.desc().is_list() {
            return self.read_list_rows(range);
        }
        self.read_stored_rows(range)
    }

    /// The stored end offset of a list column before row `row` (0 for the first row).
    fn list_end_before(&self, row: u64) -> Result<u64> {
        if row == 0 {
            return Ok(0);
        }
        let d = self.read_stored_rows(row - 1..row)?;
        Ok(d.values_as::<u64>()?.first().copied().unwrap_or(0))
    }

    /// For a list column, the rows of its item columns that hold the items of rows `range`.
    ///
    /// # Errors
    /// Not a list column; as [`Column::read_rows`].
    pub fn items_of(&self, range: Range<u64>) -> Result<Range<u64>> {
        let Some(items) = self.desc().items_level else {
            return Err(Error::BadInput { column: self.name.clone(), reason: "not a list column".into() });
        };
        let (start, end) = (self.list_end_before(range.start)?, self.list_end_before(range.end)?);
        let total = self.stored_array().level_rows(items);
        if start > end || end > total {
            return Err(Error::InvalidSchema { reason: format!("list column {}: rows {range:?} end at items {start}..{end} of {total}", self.name) });
        }
        Ok(start..end)
    }

    fn read_list_rows(&self, range: Range<u64>) -> Result<ColumnData<'static>> {
        let total = self.stored_array().level_rows(self.desc().items_level.unwrap_or(0));
        let before = self.list_end_before(range.start)?;
        let stored = self.read_stored_rows(range.clone())?;
        let ends = stored.values_as::<u64>().map_err(|_| Error::BadInput { column: self.name.clone(), reason: "stored list offsets are misaligned".into() })?;
        let mut offsets = Vec::with_capacity(ends.len() + 1);
        offsets.push(0u64);
        let mut prev = before;
        for (i, &e) in ends.iter().enumerate() {
            if e < prev || e > total {
                return Err(Error::InvalidSchema { reason: format!("list column {}: row {} ends at item {e}, after {prev}, of {total} items", self.name, range.start + i as u64) });
            }
            offsets.push(e - before);
            prev = e;
        }
        if range.end == self.rows() && prev != total {
            return Err(Error::InvalidSchema { reason: format!("list column {}: the lists hold {prev} items, the item columns {total}", self.name) });
        }
        Ok(ColumnData { rows: stored.rows, values: Buf::Owned(AlignedBytes::zeroed(0)), offsets: Some(offsets), validity: stored.validity })
    }

    /// Rows `range` as stored (a list column's end offsets as they are).
    pub(crate) fn read_stored_rows(&self, range: Range<u64>) -> Result<ColumnData<'static>> {
        let rows = self.rows();
        if range.start > range.end || range.end > rows {
            return Err(Error::RowRange { array: self.stored_array().schema.name.clone(), start: range.start, end: range.end, rows });
        }
        let (chunks, starts) = (self.chunk_list(), self.row_starts());
        let touched: Vec<usize> = self.chunks_for_rows(range.clone()).filter(|&i| chunks[i].row_count > 0).collect();
        let n = range.end - range.start;
        let whole_chunks = touched.first().is_none_or(|&i| starts[i] == range.start) && touched.last().is_none_or(|&i| starts[i + 1] == range.end);
        if touched.len() > 1 && whole_chunks && self.desc().row_width().is_some() {
            return self.read_whole_chunks_fixed(&touched, n);
        }
        let stored = self.fetch_chunks(&touched)?;
        let ctx = self.ctx();
        if touched.len() == 1 && n > 0 {
            let i = touched[0];
            let d = decode_chunk(&ctx, i, &chunks[i], &stored[0])?;
            return Ok(self.cut(d, range.start - starts[i], n));
        }
        let decoded: Vec<(usize, DecodedChunk)> =
            touched.par_iter().zip(stored.par_iter()).map(|(&i, s)| decode_chunk(&ctx, i, &chunks[i], s).map(|d| (i, d))).collect::<Result<_>>()?;
        Ok(self.assemble(&decoded, range.start, n))
    }

    /// Decodes whole chunks of a fixed-width column in parallel, each straight into its place in
    /// the output (no intermediate copy).
    fn read_whole_chunks_fixed(&self, touched: &[usize], n: u64) -> Result<ColumnData<'static>> {
        let w = self.desc().row_width().unwrap_or(0);
        let total = usize::try_from(n.saturating_mul(w)).unwrap_or(usize::MAX);
        // Every chunk's slot is decoded over whole, so the memory need not start zeroed.
        let mut values = AlignedBytes::try_for_overwrite(total).ok_or_else(|| Error::LimitExceeded {
            what: format!("memory for column {}", self.name),
            value: n.saturating_mul(w),
            limit: isize::MAX as u64,
        })?;
        let stored = self.fetch_chunks(touched)?;
        self.decode_chunks_into(touched, &stored, w, values.as_mut_slice())?;
        let mut validity = None;
        let chunks = self.chunk_list();
        if touched.iter().any(|&i| chunks[i].null_count > 0) {
            let k = self.desc().validity_bits_per_row();
            let mut v = vec![0xFFu8; (n * k).div_ceil(8) as usize];
            let mut at = 0;
            for (&i, s) in touched.iter().zip(&stored) {
                let c = &chunks[i];
                let bits = c.row_count * k;
                match decode_validity(&self.ctx(), i, c, s)? {
                    Some(b) => copy_bits(&b, 0, &mut v, at, bits),
                    None => copy_bits(&vec![0xFF; bits.div_ceil(8) as usize], 0, &mut v, at, bits),
                }
                at += bits;
            }
            validity = Some(v);
        }
        Ok(ColumnData { rows: n, values: Buf::Owned(values), offsets: None, validity })
    }

    fn decode_chunks_into(&self, touched: &[usize], stored: &[StoredChunk], w: u64, out: &mut [u8]) -> Result<()> {
        let chunks = self.chunk_list();
        let mut slots: Vec<(usize, &StoredChunk, &mut [u8])> = Vec::with_capacity(touched.len());
        let mut rest = out;
        for (&i, s) in touched.iter().zip(stored) {
            let (head, tail) = rest.split_at_mut((chunks[i].row_count * w) as usize);
            slots.push((i, s, head));
            rest = tail;
        }
        let ctx = self.ctx();
        slots.into_par_iter().try_for_each(|(i, s, out)| decode_values_into(&ctx, i, &chunks[i], s, out))
    }

    /// Decodes every value of a fixed-width column into `out` (exactly `rows * row_width` bytes),
    /// chunks in parallel, reusing the caller's memory. Null rows hold whatever was stored; use
    /// [`Column::read`] for the validity.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a variable-length column or a wrong length, and as
    /// [`Column::read`].
    pub fn read_values_into(&self, out: &mut [u8]) -> Result<()> {
        self.read_rows_into(0..self.rows(), out)
    }

    /// Decodes rows `range` of a fixed-width column into `out` (exactly that many rows of the
    /// row width), reusing the caller's memory: chunks wholly inside the range decode straight
    /// into their place, in parallel; a chunk cut by an end of the range goes through a
    /// temporary. Null rows hold whatever was stored; use [`Column::read_rows`] for the validity.
    ///
    /// Why: a caller that reads a large column a block of rows at a time (to fill NumPy records)
    /// decodes into the same warm buffer each time instead of fresh memory, whose first touch
    /// costs more than the decode on hosts that hand freed memory back.
    ///
    /// # Errors
    /// [`Error::RowRange`]; [`Error::BadInput`] for a variable-length or list column or a wrong
    /// length; as [`Column::read`].
    pub fn read_rows_into(&self, range: Range<u64>, out: &mut [u8]) -> Result<()> {
        let Some(w) = self.desc().row_width().filter(|_| self.desc().is_fixed_width()) else {
            return Err(Error::BadInput { column: self.name.clone(), reason: "variable-length columns have no fixed layout to decode into".into() });
        };
        let rows = self.rows();
        if range.start > range.end || range.end > rows {
            return Err(Error::RowRange { array: self.stored_array().schema.name.clone(), start: range.start, end: range.end, rows });
        }
        let want = (range.end - range.start).saturating_mul(w);
        if out.len() as u64 != want {
            return Err(Error::BadInput { column: self.name.clone(), reason: format!("output of {} bytes for {want} bytes of rows", out.len()) });
        }
        let (chunks, starts) = (self.chunk_list(), self.row_starts());
        let touched: Vec<usize> = self.chunks_for_rows(range.clone()).filter(|&i| chunks[i].row_count > 0).collect();
        let stored = self.fetch_chunks(&touched)?;
        let mut slots = Vec::with_capacity(touched.len());
        let mut rest = out;
        for (&i, s) in touched.iter().zip(&stored) {
            let (lo, hi) = (starts[i].max(range.start), (starts[i] + chunks[i].row_count).min(range.end));
            let (head, tail) = rest.split_at_mut(((hi - lo) * w) as usize);
            slots.push((i, s, head, lo - starts[i]));
            rest = tail;
        }
        let ctx = self.ctx();
        slots.into_par_iter().try_for_each(|(i, s, out, skip)| {
            let c = &chunks[i];
            if skip == 0 && out.len() as u64 == c.row_count * w {
                return decode_values_into(&ctx, i, c, s, out);
            }
            let mut whole = AlignedBytes::try_for_overwrite((c.row_count * w) as usize).ok_or_else(|| Error::LimitExceeded {
                what: format!("decoded chunk {i} of column {}", self.name),
                value: c.row_count * w,
                limit: usize::MAX as u64,
            })?;
            decode_values_into(&ctx, i, c, s, whole.as_mut_slice())?;
            let at = (skip * w) as usize;
            out.copy_from_slice(&whole.as_slice()[at..at + out.len()]);
            Ok(())
        })
    }

    /// Keeps rows `skip..skip+n` of one decoded chunk.
    fn cut(&self, d: DecodedChunk, skip: u64, n: u64) -> ColumnData<'static> {
        let whole = skip == 0 && d.rows == n;
        if whole {
            return ColumnData { rows: n, values: d.values, offsets: d.offsets, validity: d.validity };
        }
        let mut out = self.assemble_parts(std::iter::once((&d, skip, n)), n);
        if let (Buf::Shared(b), Some(w)) = (&d.values, self.desc().row_width()) {
            // Stay zero-copy: a slice of the plain chunk.
            out.values = Buf::Shared(b.slice((skip * w) as usize..((skip + n) * w) as usize));
        }
        out
    }

    fn assemble(&self, decoded: &[(usize, DecodedChunk)], start: u64, n: u64) -> ColumnData<'static> {
        let parts = decoded.iter().map(|(i, d)| {
            let cs = self.row_starts()[*i];
            let skip = start.saturating_sub(cs);
            let take = (start + n).min(cs + d.rows) - cs.max(start);
            (d, skip, take)
        });
        self.assemble_parts(parts, n)
    }

    fn assemble_parts<'d>(&self, parts: impl Iterator<Item = (&'d DecodedChunk, u64, u64)> + Clone, n: u64) -> ColumnData<'static> {
        let any_nulls = parts.clone().any(|(d, _, _)| d.validity.is_some());
        // Bits a row has in the validity bitmap: its elements' where they are nullable one by one.
        let k = self.desc().validity_bits_per_row();
        let nbits = n * k;
        let mut validity = any_nulls.then(|| vec![0xFFu8; nbits.div_ceil(8) as usize]);
        if let Some(v) = validity.as_mut() {
            if !nbits.is_multiple_of(8) {
                if let Some(last) = v.last_mut() {
                    *last = (1u8 << (nbits % 8)) - 1;
                }
            }
        }
        let mut at = 0u64;
        match self.desc().row_width() {
            Some(w) => {
                let mut values = AlignedBytes::zeroed((n * w) as usize);
                let mut dst = values.as_mut_slice();
                for (d, skip, take) in parts {
                    let (head, rest) = dst.split_at_mut((take * w) as usize);
                    head.copy_from_slice(&d.values[(skip * w) as usize..((skip + take) * w) as usize]);
                    dst = rest;
                    if let (Some(v), Some(src)) = (validity.as_mut(), d.validity.as_ref()) {
                        copy_bits(src, skip * k, v, at * k, take * k);
                    }
                    at += take;
                }
                ColumnData { rows: n, values: Buf::Owned(values), offsets: None, validity }
            }
            None => {
                let mut offsets = Vec::with_capacity(n as usize + 1);
                offsets.push(0u64);
                let mut bytes = Vec::new();
                for (d, skip, take) in parts {
                    let o = d.offsets.as_deref().unwrap_or(&[]);
                    let (s, e) = (o[skip as usize], o[(skip + take) as usize]);
                    let base = bytes.len() as u64;
                    bytes.extend_from_slice(&d.values[s as usize..e as usize]);
                    offsets.extend(o[skip as usize + 1..=(skip + take) as usize].iter().map(|x| x - s + base));
                    if let (Some(v), Some(src)) = (validity.as_mut(), d.validity.as_ref()) {
                        copy_bits(src, skip, v, at, take);
                    }
                    at += take;
                }
                ColumnData { rows: n, values: Buf::Owned(AlignedBytes::copy_from(&bytes)), offsets: Some(offsets), validity }
            }
        }
    }
}
