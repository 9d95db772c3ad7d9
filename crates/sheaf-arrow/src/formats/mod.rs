//! Arrow IPC (file = Feather V2, and stream), Parquet and CSV: readers that yield record batches
//! in bounded memory (Parquet one batch of a row group at a time), and atomic writers. One module
//! per format holds what only it needs: `ipc` (message checks, mapped files), `byte_order`
//! (big-endian IPC data swapped to native order), `parquet` (row
//! groups), `parquet_sizes` (declared sizes checked before decoding), `csv` (type names).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::file::properties::WriterProperties;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::error::{ArrowInteropError, Result};

mod byte_order;
mod csv;
mod ipc;
mod parquet;
mod parquet_sizes;

use self::parquet::RowGroups;
pub use csv::parse_type;
use ipc::{check_ipc_messages, MappedIpcFile};

/// Rows per record batch when reading.
pub const BATCH_ROWS: usize = 64 * 1024;

/// An Arrow-family file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowFormat {
    /// Arrow IPC file (Feather V2): `.arrow`, `.feather`, `.ipc`.
    IpcFile,
    /// Arrow IPC stream: `.arrows`.
    IpcStream,
    /// Apache Parquet: `.parquet`.
    Parquet,
    /// Comma-separated values: `.csv`.
    Csv,
}

/// Compression for the writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowCompression {
    /// None.
    None,
    /// LZ4 (frame for IPC, raw for Parquet).
    Lz4,
    /// Zstandard at a level.
    Zstd(i32),
    /// Snappy (Parquet only).
    Snappy,
}

/// CSV options.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Whether the first line names the columns.
    pub header: bool,
    /// Field delimiter.
    pub delimiter: u8,
    /// Types to use instead of inferring them, by column name.
    pub types: Vec<(String, DataType)>,
    /// Rows read to infer the schema.
    pub infer_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { header: true, delimiter: b',', types: Vec::new(), infer_rows: 10_000 }
    }
}

fn io(path: &Path, e: std::io::Error) -> ArrowInteropError {
    ArrowInteropError::Io { path: path.to_path_buf(), source: e }
}

/// A stream of record batches with a schema, and the row count when the file states it.
pub struct BatchReader {
    /// The schema of every batch.
    pub schema: SchemaRef,
    /// Rows, when known without reading the data (Parquet).
    pub rows: Option<u64>,
    batches: Box<dyn Iterator<Item = Result<RecordBatch>> + Send>,
}

impl ArrowFormat {
    /// The format's name in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ArrowFormat::IpcFile => "Arrow IPC",
            ArrowFormat::IpcStream => "Arrow IPC stream",
            ArrowFormat::Parquet => "Parquet",
            ArrowFormat::Csv => "CSV",
        }
    }
}

impl Iterator for BatchReader {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        // arrow-rs and parquet assert on some malformed input; a bad file must still be an
        // error, not a crash.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.batches.next())) {
            Ok(r) => r.map(|b| b.and_then(validate)),
            Err(p) => Some(Err(ArrowInteropError::unsupported("", "file", format!("the Arrow/Parquet reader failed on this file: {}", panic_text(&p))))),
        }
    }
}

/// Full validation of a batch read from a file (offsets, UTF-8, dictionary keys), so that what a
/// malformed file holds is refused here and not trusted later.
fn validate(b: RecordBatch) -> Result<RecordBatch> {
    for c in b.columns() {
        c.to_data().validate_full()?;
    }
    Ok(b)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>().map(|s| (*s).to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_else(|| "panic".into())
}

/// Opens `path` for reading batches.
///
/// Arrow IPC files are memory-mapped, under the contract of [`sheaf::MappedFile`]: the file must
/// not be truncated or rewritten in place by another program while its batches are in use.
///
/// # Errors
/// I/O and format errors, naming the file.
pub fn open_reader(path: &Path, format: ArrowFormat, csv: &CsvOptions) -> Result<BatchReader> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let name = format.name();
    let ctx = move |e: ArrowInteropError| match e {
        ArrowInteropError::Arrow(a) => ArrowInteropError::Unreadable { format: name, reason: a.to_string() },
        ArrowInteropError::Parquet(p) => ArrowInteropError::Unreadable { format: name, reason: p.to_string() },
        other => other,
    };
    let ipc_rows = if matches!(format, ArrowFormat::IpcFile | ArrowFormat::IpcStream) { check_ipc_messages(path, format)? } else { None };
    let open = || -> Result<BatchReader> {
        match format {
            ArrowFormat::IpcFile => {
                drop(file);
                let r = MappedIpcFile::open(path)?;
                Ok(BatchReader { schema: r.schema.clone(), rows: ipc_rows, batches: Box::new(r) })
            }
            ArrowFormat::IpcStream if byte_order::stream_needs_swap(path)? => {
                let r = byte_order::SwappedIpcStream::open(path)?;
                Ok(BatchReader { schema: r.schema.clone(), rows: ipc_rows, batches: Box::new(r) })
            }
            ArrowFormat::IpcStream => {
                let r = arrow_ipc::reader::StreamReader::try_new(std::io::BufReader::new(file), None)?;
                Ok(BatchReader { schema: r.schema(), rows: ipc_rows, batches: Box::new(r.map(|b| b.map_err(Into::into))) })
            }
            ArrowFormat::Parquet => {
                let metadata = ::parquet::arrow::arrow_reader::ArrowReaderMetadata::load(&file, ::parquet::arrow::arrow_reader::ArrowReaderOptions::new())?;
                let b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
                let groups = b.parquet_schema().root_schema().get_fields().len();
                if groups != b.schema().fields().len() {
                    return Err(ArrowInteropError::Unreadable {
                        format: name,
                        reason: format!("{groups} top-level columns, of which the Arrow reader sees {} (empty groups are dropped)", b.schema().fields().len()),
                    });
                }
                parquet_sizes::check_declared_sizes(path, b.metadata())?;
                // The row groups' counts, not the file's: some writers left the file total at 0.
                let rows = b.metadata().row_groups().iter().try_fold(0u64, |n, g| n.checked_add(u64::try_from(g.num_rows()).ok()?));
                let schema = b.schema().clone();
                let groups = RowGroups::new(path, metadata);
                Ok(BatchReader { schema, rows, batches: Box::new(groups) })
            }
            ArrowFormat::Csv => {
                let fmt = arrow_csv::reader::Format::default().with_header(csv.header).with_delimiter(csv.delimiter);
                let (inferred, _) = fmt.infer_schema(File::open(path).map_err(|e| io(path, e))?, Some(csv.infer_rows))?;
                let fields: Vec<Field> = inferred
                    .fields()
                    .iter()
                    .map(|f| match csv.types.iter().find(|(n, _)| n == f.name()) {
                        Some((_, t)) => Field::new(f.name(), t.clone(), true),
                        None => f.as_ref().clone(),
                    })
                    .collect();
                for (name, _) in &csv.types {
                    if !fields.iter().any(|f| f.name() == name) {
                        return Err(ArrowInteropError::unsupported(name, "csv", "a type override names a column the file does not have"));
                    }
                }
                let schema = Arc::new(Schema::new(fields));
                let r = arrow_csv::ReaderBuilder::new(schema.clone()).with_header(csv.header).with_delimiter(csv.delimiter).with_batch_size(BATCH_ROWS).build(file)?;
                Ok(BatchReader { schema, rows: None, batches: Box::new(r.map(|b| b.map_err(Into::into))) })
            }
        }
    };
    let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(open)) {
        Ok(r) => r,
        Err(p) => return Err(ArrowInteropError::unsupported("", "file", format!("the Arrow/Parquet reader failed on this file: {}", panic_text(&p)))),
    };
    r.map_err(ctx)
}

enum Inner {
    Ipc(arrow_ipc::writer::FileWriter<File>),
    Stream(arrow_ipc::writer::StreamWriter<File>),
    Parquet(ArrowWriter<File>),
    Csv(arrow_csv::Writer<File>),
}

/// An atomic writer of record batches: a temporary file beside the target, renamed on finish.
pub struct BatchWriter {
    path: PathBuf,
    tmp: sheaf::AtomicFile,
    inner: Inner,
}

impl BatchWriter {
    /// Starts writing `path` in `format` with `schema`.
    ///
    /// # Errors
    /// I/O errors; a compression the format does not have.
    pub fn create(path: &Path, format: ArrowFormat, schema: &Schema, compression: ArrowCompression, csv: &CsvOptions) -> Result<Self> {
        let tmp = sheaf::AtomicFile::create(path).map_err(|e| io(path, e))?;
        // The format writers take a second handle of the same open file; `tmp` keeps the one
        // that is linked into place on finish.
        let file = tmp.as_file().try_clone().map_err(|e| io(path, e))?;
        let ipc_options = || -> Result<arrow_ipc::writer::IpcWriteOptions> {
            let c = match compression {
                ArrowCompression::None => None,
                ArrowCompression::Lz4 => Some(arrow_ipc::CompressionType::LZ4_FRAME),
                ArrowCompression::Zstd(_) => Some(arrow_ipc::CompressionType::ZSTD),
                ArrowCompression::Snappy => return Err(ArrowInteropError::unsupported("", "snappy", "Arrow IPC compresses with lz4 or zstd only")),
            };
            Ok(arrow_ipc::writer::IpcWriteOptions::default().try_with_compression(c)?)
        };
        let inner = match format {
            ArrowFormat::IpcFile => Inner::Ipc(arrow_ipc::writer::FileWriter::try_new_with_options(file, schema, ipc_options()?)?),
            ArrowFormat::IpcStream => Inner::Stream(arrow_ipc::writer::StreamWriter::try_new_with_options(file, schema, ipc_options()?)?),
            ArrowFormat::Parquet => {
                let c = match compression {
                    ArrowCompression::None => Compression::UNCOMPRESSED,
                    ArrowCompression::Lz4 => Compression::LZ4_RAW,
                    ArrowCompression::Snappy => Compression::SNAPPY,
                    ArrowCompression::Zstd(l) => Compression::ZSTD(ZstdLevel::try_new(l)?),
                };
                let props = WriterProperties::builder().set_compression(c).set_coerce_types(true).build();
                Inner::Parquet(ArrowWriter::try_new(file, Arc::new(schema.clone()), Some(props))?)
            }
            ArrowFormat::Csv => Inner::Csv(arrow_csv::WriterBuilder::new().with_header(csv.header).with_delimiter(csv.delimiter).build(file)),
        };
        Ok(BatchWriter { path: path.to_path_buf(), tmp, inner })
    }

    /// Writes one batch.
    ///
    /// # Errors
    /// Format errors.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.inner {
            Inner::Ipc(w) => w.write(batch)?,
            Inner::Stream(w) => w.write(batch)?,
            Inner::Parquet(w) => w.write(batch)?,
            Inner::Csv(w) => w.write(batch)?,
        }
        Ok(())
    }

    /// Finishes the file and renames it into place.
    ///
    /// # Errors
    /// Format and I/O errors.
    pub fn finish(self) -> Result<()> {
        match self.inner {
            Inner::Ipc(mut w) => w.finish()?,
            Inner::Stream(mut w) => w.finish()?,
            Inner::Parquet(w) => {
                w.close()?;
            }
            Inner::Csv(w) => drop(w.into_inner()),
        }
        self.tmp.persist().map_err(|e| io(&self.path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, StringArray};

    use super::*;

    /// An IPC file of three batches (ints and strings), and the batches.
    fn ipc_file(dir: &Path) -> (PathBuf, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("s", DataType::Utf8, true)]));
        let batches: Vec<RecordBatch> = (0..3i64)
            .map(|b| {
                let ids = Int64Array::from_iter_values(b * 1000..(b + 1) * 1000);
                let s = StringArray::from_iter((0..1000).map(|i| (i % 7 != 0).then(|| format!("v{b}-{i}"))));
                RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(s)]).unwrap()
            })
            .collect();
        let path = dir.join("t.arrow");
        let mut w = arrow_ipc::writer::FileWriter::try_new(File::create(&path).unwrap(), &schema).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
        (path, batches)
    }

    #[test]
    fn mapped_ipc_file_reads_every_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (path, batches) = ipc_file(dir.path());
        let r = MappedIpcFile::open(&path).unwrap();
        assert_eq!(r.schema, batches[0].schema());
        let map = r.bytes.clone();
        let got: Vec<RecordBatch> = r.collect::<Result<_>>().unwrap();
        assert_eq!(got, batches);
        // The values are slices of the map, not copies.
        let ids = got[1].column(0).to_data();
        assert!(map.as_slice().as_ptr_range().contains(&ids.buffers()[0].as_ptr()), "copied out of the map");
    }

    #[test]
    fn blocks_outside_the_file_are_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = ipc_file(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        // Keep the footer (at the end) but drop bytes from the middle: its blocks now point
        // past the end, or into the footer.
        let cut = dir.path().join("cut.arrow");
        let mid = bytes.len() / 2;
        std::fs::write(&cut, [&bytes[..mid], &bytes[mid + 4000..]].concat()).unwrap();
        let outcome = std::panic::catch_unwind(|| MappedIpcFile::open(&cut).and_then(|r| r.collect::<Result<Vec<_>>>()));
        assert!(outcome.expect("no panic").is_err(), "a damaged file is refused");
        // A block reaching past the end: the footer of the whole file after a truncated body.
        let footer_len = u32::from_le_bytes(bytes[bytes.len() - 10..bytes.len() - 6].try_into().unwrap()) as usize;
        let footer = &bytes[bytes.len() - 10 - footer_len..];
        std::fs::write(&cut, [&bytes[..8], footer].concat()).unwrap();
        let err = MappedIpcFile::open(&cut).and_then(|r| r.collect::<Result<Vec<_>>>()).expect_err("refused");
        assert!(err.to_string().contains("outside the file"), "{err}");
        // Too short to be an IPC file at all.
        std::fs::write(&cut, &bytes[..12]).unwrap();
        assert!(MappedIpcFile::open(&cut).is_err());
    }
}
