//! What a Parquet file declares it will take to decode, checked before the arrow-rs decoder
//! runs: column chunks inside the file, every page header of every chunk (read here with a small
//! Thrift compact-protocol walker, since parquet-rs keeps its page header type private), and per
//! row group the memory the pages can make the decoder hold. The decoder allocates each page's
//! declared `uncompressed_page_size` before decompressing it, and a few bytes of run-length
//! encoding can declare billions of values, so a 1 KB file can otherwise demand gigabytes.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ::parquet::basic::Type as PhysicalType;
use ::parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};

use super::{io, ArrowFormat};
use crate::error::{ArrowInteropError, Result};

/// Thrift structs nest only a few levels in a page header; deeper is hostile.
const MAX_DEPTH: u32 = 16;

/// Checks every row group of `metadata` (read from `path`) against the file and
/// [`sheaf::memory_limit`]: each column chunk's stored bytes lie inside the file; each page
/// header parses, and its page lies inside its chunk; and a row group's decoded size (declared
/// uncompressed page bytes, plus declared values times their decoded width, with dictionary
/// strings counted at their average length) stays within the limit.
pub(super) fn check_declared_sizes(path: &Path, metadata: &ParquetMetaData) -> Result<()> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let file_len = file.metadata().map_err(|e| io(path, e))?.len();
    let mut reader = BufReader::with_capacity(8 << 10, file);
    let limit = sheaf::memory_limit();
    let mut pages_reader = None;
    for (g, group) in metadata.row_groups().iter().enumerate() {
        let mut declared = 0u64;
        for (c, col) in group.columns().iter().enumerate() {
            let pages = check_chunk(path, &mut reader, file_len, g, col)?;
            // The chunk's own list of encodings too: parquet-rs reads some page headers more
            // leniently than the walk above (an integer field sent as a boolean), so the walk
            // may not see a page's encoding.
            let listed = col.encodings().any(|e| matches!(e, ::parquet::basic::Encoding::DELTA_LENGTH_BYTE_ARRAY | ::parquet::basic::Encoding::DELTA_BYTE_ARRAY));
            if col.column_type() == PhysicalType::BYTE_ARRAY && (pages.delta_lengths || listed) {
                if pages_reader.is_none() {
                    let file = File::open(path).map_err(|e| io(path, e))?;
                    pages_reader = Some(::parquet::file::serialized_reader::SerializedFileReader::new(file).map_err(|e| unreadable(path, g, col, &e.to_string()))?);
                }
                if let Some(file) = &pages_reader {
                    check_delta_pages(path, file, g, c, col)?;
                }
            }
            declared = declared.saturating_add(pages.decoded_bytes(col.column_type(), col.column_descr().type_length()));
            if declared > limit {
                return Err(ArrowInteropError::MemoryLimit {
                    what: format!("{}: Parquet row group {g} (at column {})", path.display(), col.column_path().string()),
                    declared,
                    limit,
                });
            }
        }
    }
    Ok(())
}

/// What one column chunk's page headers declare.
#[derive(Debug, Default, PartialEq, Eq)]
struct ChunkPages {
    /// Sum of the pages' `uncompressed_page_size`.
    uncompressed: u64,
    /// Values the data pages declare (nulls and list items included).
    values: u64,
    /// The dictionary page's uncompressed size and entry count, when there is one.
    dictionary: Option<(u64, u64)>,
    /// Whether a data page holds delta-encoded byte arrays, whose counts sit inside the page data.
    delta_lengths: bool,
}

impl ChunkPages {
    /// Bytes the decoder can hold for this chunk: its decompressed pages, plus each value at its
    /// Arrow width (dictionary-encoded strings are expanded, at the dictionary's average length).
    fn decoded_bytes(&self, physical: PhysicalType, type_length: i32) -> u64 {
        let width = match physical {
            PhysicalType::BOOLEAN => 1,
            PhysicalType::INT32 | PhysicalType::FLOAT => 4,
            PhysicalType::INT64 | PhysicalType::DOUBLE => 8,
            PhysicalType::INT96 => 12,
            PhysicalType::FIXED_LEN_BYTE_ARRAY => u64::try_from(type_length).unwrap_or(0).max(1),
            PhysicalType::BYTE_ARRAY => 8 + self.dictionary.map_or(0, |(bytes, entries)| bytes / entries.max(1)),
        };
        self.uncompressed.saturating_add(self.values.saturating_mul(width))
    }
}

fn unreadable(path: &Path, g: usize, col: &ColumnChunkMetaData, reason: &str) -> ArrowInteropError {
    ArrowInteropError::Unreadable { format: ArrowFormat::Parquet.name(), reason: format!("{}: row group {g}, column {}: {reason}", path.display(), col.column_path().string()) }
}

/// The pages of column `c` of row group `g` whose byte arrays are delta-encoded: the arrow-rs
/// decoder allocates one length per value their delta headers declare, before decoding, and
/// those headers are inside the (compressed) page data, which is read here through parquet-rs's
/// page reader (the page sizes were checked first). Each header's count must not pass the
/// page's own value count.
fn check_delta_pages(path: &Path, file: &::parquet::file::serialized_reader::SerializedFileReader<File>, g: usize, c: usize, col: &ColumnChunkMetaData) -> Result<()> {
    use ::parquet::basic::Encoding;
    use ::parquet::column::page::Page;
    use ::parquet::file::reader::FileReader;
    let bad = |reason: String| unreadable(path, g, col, &reason);
    let descr = col.column_descr();
    let pages = file.get_row_group(g).and_then(|r| r.get_column_page_reader(c)).map_err(|e| bad(e.to_string()))?;
    for (k, page) in pages.enumerate() {
        let page = page.map_err(|e| bad(format!("page {k}: {e}")))?;
        let (values, encoding, count) = match &page {
            Page::DataPage { buf, num_values, encoding, def_level_encoding, rep_level_encoding, .. } => {
                // Version 1 pages hold their levels first, in the page data.
                let mut at = 0usize;
                for (max, enc) in [(descr.max_rep_level(), rep_level_encoding), (descr.max_def_level(), def_level_encoding)] {
                    if max > 0 {
                        // BIT_PACKED: the legacy level encoding old writers used, unprefixed.
                        #[allow(deprecated)]
                        let bit_packed = Encoding::BIT_PACKED;
                        at = at.saturating_add(match enc {
                            e if *e == bit_packed => (*num_values as usize).saturating_mul((16 - max.leading_zeros()) as usize).div_ceil(8),
                            _ => buf.get(at..at + 4).map_or(usize::MAX, |b| 4 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
                        });
                    }
                }
                (buf.get(at..), *encoding, *num_values)
            }
            Page::DataPageV2 { buf, num_values, encoding, def_levels_byte_len, rep_levels_byte_len, .. } => {
                (buf.get((*def_levels_byte_len as usize).saturating_add(*rep_levels_byte_len as usize)..), *encoding, *num_values)
            }
            Page::DictionaryPage { .. } => continue,
        };
        if !matches!(encoding, Encoding::DELTA_LENGTH_BYTE_ARRAY | Encoding::DELTA_BYTE_ARRAY) {
            continue;
        }
        // A page too short for its levels or headers is left to the decoder, which refuses it.
        let Some(values) = values else { continue };
        let mut r = CountingReader { inner: values, read: 0, limit: values.len() as u64 };
        let Ok(first) = DeltaHeader::read(&mut r) else { continue };
        if first.total > u64::from(count) {
            return Err(bad(format!("page {k} declares {} values in its delta header, more than its {count}", first.total)));
        }
        // DELTA_BYTE_ARRAY: the suffix lengths' header follows the prefix lengths.
        if encoding == Encoding::DELTA_BYTE_ARRAY && first.skip_blocks(&mut r).is_ok() {
            if let Ok(second) = DeltaHeader::read(&mut r) {
                if second.total > u64::from(count) {
                    return Err(bad(format!("page {k} declares {} suffix lengths in its delta header, more than its {count} values", second.total)));
                }
            }
        }
    }
    Ok(())
}

/// The header of a `DELTA_BINARY_PACKED` stream.
struct DeltaHeader {
    block_size: u64,
    miniblocks: u64,
    total: u64,
}

impl DeltaHeader {
    fn read<R: Read>(r: &mut CountingReader<R>) -> std::result::Result<Self, String> {
        let (block_size, miniblocks, total) = (r.varint()?, r.varint()?, r.varint()?);
        r.varint()?; // the first value
        Ok(DeltaHeader { block_size, miniblocks, total })
    }

    /// Skips the stream's blocks (after the header): each a min delta, one bit width per
    /// miniblock, then the miniblocks that hold values.
    fn skip_blocks<R: Read>(&self, r: &mut CountingReader<R>) -> std::result::Result<(), String> {
        if self.miniblocks == 0 || self.block_size == 0 || !self.block_size.is_multiple_of(self.miniblocks) {
            return Err("a bad block layout".into());
        }
        let per_mini = self.block_size / self.miniblocks;
        let mut left = self.total.saturating_sub(1);
        while left > 0 {
            r.varint()?;
            let mut widths = Vec::new();
            for _ in 0..self.miniblocks.min(1 << 16) {
                widths.push(u64::from(r.byte()?));
            }
            for w in widths {
                if left == 0 {
                    break;
                }
                if w > 64 {
                    return Err("a bit width over 64".into());
                }
                r.skip(per_mini.saturating_mul(w) / 8)?;
                left = left.saturating_sub(per_mini);
            }
        }
        Ok(())
    }
}

fn check_chunk(path: &Path, reader: &mut BufReader<File>, file_len: u64, g: usize, col: &ColumnChunkMetaData) -> Result<ChunkPages> {
    let name = col.column_path().string();
    let bad = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::Parquet.name(), reason: format!("{}: row group {g}, column {name}: {reason}", path.display()) };
    let stored = u64::try_from(col.compressed_size()).map_err(|_| bad("negative stored size".into()))?;
    let (start, _) = col.byte_range();
    let end =
        start.checked_add(stored).filter(|&end| end <= file_len).ok_or_else(|| bad(format!("{stored} stored bytes at offset {start} pass the end of the {file_len}-byte file")))?;
    let mut pages = ChunkPages::default();
    let mut at = start;
    while at < end {
        reader.seek(SeekFrom::Start(at)).map_err(|e| io(path, e))?;
        let mut bytes = CountingReader { inner: reader.by_ref().take(end - at), read: 0, limit: end - at };
        let header = PageHeader::read(&mut bytes).map_err(|e| bad(format!("page header at offset {at}: {e}")))?;
        let body = u64::try_from(header.compressed_page_size).map_err(|_| bad(format!("page at offset {at}: negative compressed size {}", header.compressed_page_size)))?;
        let uncompressed =
            u64::try_from(header.uncompressed_page_size).map_err(|_| bad(format!("page at offset {at}: negative uncompressed size {}", header.uncompressed_page_size)))?;
        let values = u64::try_from(header.num_values).map_err(|_| bad(format!("page at offset {at}: negative value count {}", header.num_values)))?;
        let next =
            (at + bytes.read).checked_add(body).filter(|&n| n <= end).ok_or_else(|| bad(format!("page at offset {at}: {body} bytes pass the end of the column chunk at {end}")))?;
        pages.uncompressed = pages.uncompressed.saturating_add(uncompressed);
        if header.is_dictionary {
            pages.dictionary = Some((uncompressed, values));
        } else {
            pages.values = pages.values.saturating_add(values);
            pages.delta_lengths |= matches!(header.encoding, DELTA_LENGTH_BYTE_ARRAY | DELTA_BYTE_ARRAY);
        }
        at = next;
    }
    Ok(pages)
}

/// A reader that counts the bytes taken from it: the length of the page header just parsed.
struct CountingReader<R> {
    inner: R,
    read: u64,
    /// The bytes there are to read: a collection cannot hold more elements than this.
    limit: u64,
}

impl<R: Read> CountingReader<R> {
    fn byte(&mut self) -> std::result::Result<u8, String> {
        let mut b = [0u8];
        match self.inner.read_exact(&mut b) {
            Ok(()) => {
                self.read += 1;
                Ok(b[0])
            }
            Err(_) => Err("it runs past the end of its column chunk".into()),
        }
    }

    fn skip(&mut self, n: u64) -> std::result::Result<(), String> {
        let copied = std::io::copy(&mut self.inner.by_ref().take(n), &mut std::io::sink()).map_err(|e| e.to_string())?;
        self.read += copied;
        if copied < n {
            return Err("a field runs past the end of its column chunk".into());
        }
        Ok(())
    }

    /// Refuses a collection of `n` elements of at least `each` bytes that the bytes left cannot
    /// hold, before it is walked: parquet-rs's own reader can spin on such a count for minutes.
    fn check_count(&self, n: u64, each: u64) -> std::result::Result<(), String> {
        let left = self.limit.saturating_sub(self.read);
        if n.saturating_mul(each) > left {
            return Err(format!("a collection of {n} elements in the {left} bytes left"));
        }
        Ok(())
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    fn varint(&mut self) -> std::result::Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint longer than 10 bytes".into())
    }

    /// A zigzag-encoded signed integer, cut to 32 bits.
    fn int32(&mut self) -> std::result::Result<i32, String> {
        let v = self.varint()?;
        let n = ((v >> 1) as i64) ^ -((v & 1) as i64);
        i32::try_from(n).map_err(|_| format!("{n} does not fit the 32-bit field"))
    }
}

/// The fields of a Parquet `PageHeader` that bound what decoding the page allocates.
#[derive(Debug, Default)]
struct PageHeader {
    uncompressed_page_size: i32,
    compressed_page_size: i32,
    /// From the data, data v2 or dictionary page header.
    num_values: i32,
    /// The values' encoding (data pages; the dictionary page's is not kept).
    encoding: i32,
    is_dictionary: bool,
}

// Thrift compact-protocol type codes.
const STOP: u8 = 0;
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// Parquet's `PageType.DICTIONARY_PAGE`.
const DICTIONARY_PAGE: i32 = 2;
/// Parquet's `Encoding.DELTA_LENGTH_BYTE_ARRAY` and `Encoding.DELTA_BYTE_ARRAY`.
const DELTA_LENGTH_BYTE_ARRAY: i32 = 6;
const DELTA_BYTE_ARRAY: i32 = 7;

impl PageHeader {
    fn read<R: Read>(r: &mut CountingReader<R>) -> std::result::Result<Self, String> {
        let mut header = PageHeader::default();
        let (mut has_uncompressed, mut has_compressed) = (false, false);
        let mut id = 0i16;
        while let Some((field, kind)) = field_header(r, &mut id)? {
            // Integers of any width: they are all zigzag varints, and parquet-rs reads an i32
            // field sent as another width alike.
            match (field, kind) {
                (1, I16 | I32 | I64) => header.is_dictionary = r.int32()? == DICTIONARY_PAGE,
                (2, I16 | I32 | I64) => {
                    header.uncompressed_page_size = r.int32()?;
                    has_uncompressed = true;
                }
                (3, I16 | I32 | I64) => {
                    header.compressed_page_size = r.int32()?;
                    has_compressed = true;
                }
                // DataPageHeader, DictionaryPageHeader, DataPageHeaderV2: num_values is field 1 of
                // each; the encoding is field 2 of a data page header, field 4 of a v2 one.
                (5 | 7 | 8, STRUCT) => {
                    let (values, encoding) = counts_and_encoding(r, if field == 8 { 4 } else { 2 })?;
                    header.num_values = header.num_values.max(values);
                    if field != 7 {
                        header.encoding = encoding;
                    }
                }
                _ => skip(r, kind, 0)?,
            }
        }
        if !(has_uncompressed && has_compressed) {
            return Err("it lacks the page sizes".into());
        }
        Ok(header)
    }
}

/// The next field's id and type in a struct, `None` at its end. `last` is the previous field's id
/// (ids are sent as deltas).
fn field_header<R: Read>(r: &mut CountingReader<R>, last: &mut i16) -> std::result::Result<Option<(i16, u8)>, String> {
    let b = r.byte()?;
    let kind = b & 0x0f;
    if kind == STOP {
        return Ok(None);
    }
    let delta = b >> 4;
    *last = if delta == 0 { i16::try_from(r.int32()?).map_err(|_| "a field id out of range".to_string())? } else { last.wrapping_add(i16::from(delta)) };
    Ok(Some((*last, kind)))
}

/// Reads a nested page header struct: its field 1 (the value count) and the i32 field
/// `encoding_field` (0 where absent).
fn counts_and_encoding<R: Read>(r: &mut CountingReader<R>, encoding_field: i16) -> std::result::Result<(i32, i32), String> {
    let mut id = 0i16;
    let (mut values, mut encoding) = (0, 0);
    while let Some((field, kind)) = field_header(r, &mut id)? {
        match (field, kind) {
            (1, I16 | I32 | I64) => values = r.int32()?,
            (f, I16 | I32 | I64) if f == encoding_field => encoding = r.int32()?,
            _ => skip(r, kind, 1)?,
        }
    }
    Ok((values, encoding))
}

/// The type an element of a list, set or map is read as: booleans there take a byte each
/// (in a struct their value is in the field header).
fn in_collection(kind: u8) -> u8 {
    if kind == TRUE || kind == FALSE {
        BYTE
    } else {
        kind
    }
}

/// Skips one value of compact-protocol type `kind`.
fn skip<R: Read>(r: &mut CountingReader<R>, kind: u8, depth: u32) -> std::result::Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("fields nested deeper than {MAX_DEPTH}"));
    }
    match kind {
        TRUE | FALSE => Ok(()),
        BYTE => r.byte().map(drop),
        I16 | I32 | I64 => r.varint().map(drop),
        DOUBLE => r.skip(8),
        BINARY => {
            let n = r.varint()?;
            r.skip(n)
        }
        LIST | SET => {
            let b = r.byte()?;
            let n = if b >> 4 == 15 { r.varint()? } else { u64::from(b >> 4) };
            let item = in_collection(b & 0x0f);
            r.check_count(n, 1)?;
            (0..n).try_for_each(|_| skip(r, item, depth + 1))
        }
        MAP => {
            let n = r.varint()?;
            if n == 0 {
                return Ok(());
            }
            let kinds = r.byte()?;
            r.check_count(n, 2)?;
            // As in lists, a boolean key or value takes a byte: none takes nothing, so a huge
            // count runs out of bytes instead of spinning.
            let (key, value) = (in_collection(kinds >> 4), in_collection(kinds & 0x0f));
            (0..n).try_for_each(|_| {
                skip(r, key, depth + 1)?;
                skip(r, value, depth + 1)
            })
        }
        STRUCT => {
            let mut id = 0i16;
            while let Some((_, k)) = field_header(r, &mut id)? {
                skip(r, k, depth + 1)?;
            }
            Ok(())
        }
        other => Err(format!("unknown Thrift type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;

    /// A Parquet file of a non-null int64 column and a dictionary-encoded string column, with
    /// small pages so that each chunk has several.
    fn sample(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("pages.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("s", DataType::Utf8, true)]));
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..10_000));
        let s: ArrayRef = Arc::new(StringArray::from_iter((0..10_000).map(|i| (i % 5 != 0).then(|| format!("name-{}", i % 40)))));
        let props = WriterProperties::builder().set_data_page_row_count_limit(1000).set_write_batch_size(1000).build();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(props)).unwrap();
        w.write(&RecordBatch::try_new(schema, vec![ids, s]).unwrap()).unwrap();
        w.close().unwrap();
        path
    }

    fn metadata(path: &Path) -> ParquetMetaData {
        let file = File::open(path).unwrap();
        parquet::file::metadata::ParquetMetaDataReader::new().parse_and_finish(&file).unwrap()
    }

    #[test]
    fn the_page_walk_finds_every_value_of_a_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path());
        let meta = metadata(&path);
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let mut reader = BufReader::new(file);
        let group = &meta.row_groups()[0];
        let ids = check_chunk(&path, &mut reader, len, 0, group.column(0)).unwrap();
        assert_eq!(ids.values, 10_000);
        assert!(ids.dictionary.is_none() || ids.dictionary.unwrap().1 == 10_000, "{ids:?}");
        let s = check_chunk(&path, &mut reader, len, 0, group.column(1)).unwrap();
        assert_eq!(s.values, 10_000, "nulls count as values");
        assert_eq!(s.dictionary.map(|d| d.1), Some(32), "the 32 residues of i % 40 that are not multiples of 5");
        let uncompressed = u64::try_from(group.column(1).uncompressed_size()).unwrap();
        assert!(s.uncompressed > 0 && s.uncompressed < uncompressed, "pages {} within the chunk's {uncompressed} (which counts headers)", s.uncompressed);
        check_declared_sizes(&path, &meta).unwrap();
    }

    /// Delta-encoded strings (both encodings, both page versions): the headers inside the pages
    /// are found and agree with the pages; the fuzz input whose header declares 10^16 lengths is
    /// in tests/data/fuzz/parquet (the memory-cap test converts it).
    #[test]
    fn delta_encoded_string_pages_pass_their_header_check() {
        use parquet::basic::Encoding;
        use parquet::file::properties::WriterVersion;
        let dir = tempfile::tempdir().unwrap();
        for (i, (encoding, version)) in
            [(Encoding::DELTA_BYTE_ARRAY, WriterVersion::PARQUET_1_0), (Encoding::DELTA_LENGTH_BYTE_ARRAY, WriterVersion::PARQUET_2_0)].into_iter().enumerate()
        {
            let path = dir.path().join(format!("delta{i}.parquet"));
            let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
            let s: ArrayRef = Arc::new(StringArray::from_iter((0..5000).map(|i| (i % 7 != 0).then(|| format!("prefix-{}", i * 13)))));
            let props = WriterProperties::builder()
                .set_writer_version(version)
                .set_dictionary_enabled(false)
                .set_encoding(encoding)
                .set_data_page_row_count_limit(1000)
                .set_write_batch_size(1000)
                .build();
            let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(props)).unwrap();
            w.write(&RecordBatch::try_new(schema, vec![s]).unwrap()).unwrap();
            w.close().unwrap();
            let meta = metadata(&path);
            let file = File::open(&path).unwrap();
            let len = file.metadata().unwrap().len();
            let pages = check_chunk(&path, &mut BufReader::new(file), len, 0, meta.row_groups()[0].column(0)).unwrap();
            assert!(pages.delta_lengths, "{encoding:?}: the walk sees the encoding");
            check_declared_sizes(&path, &meta).unwrap();
        }
    }

    #[test]
    fn a_page_declaring_more_than_its_chunk_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path());
        let meta = metadata(&path);
        // The first page header of the id column: find its compressed_page_size field (field 3,
        // an i32 right after field 2) and make it larger than the chunk.
        let mut bytes = std::fs::read(&path).unwrap();
        let start = usize::try_from(meta.row_groups()[0].column(0).byte_range().0).unwrap();
        let mut r = CountingReader { inner: &bytes[start..], read: 0, limit: (bytes.len() - start) as u64 };
        let mut id = 0;
        let mut size_at = None;
        while let Some((field, kind)) = field_header(&mut r, &mut id).unwrap() {
            let at = start + usize::try_from(r.read).unwrap();
            if field == 3 {
                size_at = Some(at);
                break;
            }
            skip(&mut r, kind, 0).unwrap();
        }
        let at = size_at.expect("a compressed_page_size field");
        let old_len = bytes[at..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
        // zigzag(2^30) as a varint; the bytes after it shift, which this check of the first chunk never reads.
        let mut varint = Vec::new();
        let mut v: u64 = 1 << 31;
        while v >= 0x80 {
            varint.push((v as u8) | 0x80);
            v >>= 7;
        }
        varint.push(v as u8);
        bytes.splice(at..at + old_len, varint);
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let err = check_chunk(&path, &mut BufReader::new(file), len, 0, meta.row_groups()[0].column(0)).unwrap_err().to_string();
        assert!(err.contains("pass the end of the column chunk") && err.contains("column id"), "{err}");
    }

    /// The parquet fuzz target's hang: a map of 2^62 boolean pairs in a page header was skipped
    /// without reading a byte per entry, so it spun for ever on a 1 KB file.
    #[test]
    fn a_huge_collection_of_booleans_runs_out_of_bytes() {
        for header in [
            // field 9 (delta 9), MAP: count 2^62 (varint), key and value types TRUE (1) and FALSE (2).
            vec![0x9b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x12, 0x01, 0x00],
            // field 9, LIST of 2^62 (size nibble 15, then a varint) booleans.
            vec![0x99, 0xf1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x01, 0x00],
        ] {
            let err = PageHeader::read(&mut CountingReader { inner: &header[..], read: 0, limit: header.len() as u64 }).unwrap_err();
            assert!(err.contains("elements in the"), "{err}");
        }
    }

    #[test]
    fn a_run_length_bomb_is_refused_by_its_declared_values() {
        let pages = ChunkPages { uncompressed: 100, values: 1 << 40, dictionary: None, delta_lengths: false };
        assert_eq!(pages.decoded_bytes(PhysicalType::INT64, 0), 100 + (8 << 40));
        let strings = ChunkPages { uncompressed: 10, values: 1000, dictionary: Some((4000, 4)), delta_lengths: false };
        assert_eq!(strings.decoded_bytes(PhysicalType::BYTE_ARRAY, 0), 10 + 1000 * (8 + 1000));
    }
}
