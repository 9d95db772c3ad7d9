//! Every readable format seen through one shape: a [`Source`] of named arrays
//! ([`SourceArray`]) whose selected columns come a row range at a time, as batches of
//! [`ColumnData`] (sheaf files, `.npy`, `.npz`, Arrow IPC file and stream, Parquet, CSV).

use std::path::{Path, PathBuf};

use sheaf::{AlignedBytes, ArraySchema, Buf, Column, ColumnData};
use sheaf_arrow::columns_from_batch;
use sheaf_arrow::formats::{open_reader, ArrowFormat, CsvOptions};
use sheaf_npy::layout::{records_to_columns, ColumnLayout};
use sheaf_npy::NpyFile;

use crate::dataset::{null_column, partition_column, Dataset, LeafSource};
use crate::error::{ConvertError, Result};

/// The extension of sheaf files, as datasets list them.
pub(crate) const SHEAF_EXTENSION: &str = "sheaf";

/// A file format sheaf reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// sheaf
    Sheaf,
    /// NumPy .npy
    Npy,
    /// NumPy .npz (stored)
    Npz,
    /// Arrow IPC file / Feather V2
    Arrow,
    /// Arrow IPC stream
    Arrows,
    /// Apache Parquet
    Parquet,
    /// Comma-separated values
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    /// `sheaf`, `npy`, `npz`, `arrow`, `arrows`, `parquet`, `csv`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "sheaf" => Format::Sheaf,
            "npy" => Format::Npy,
            "npz" => Format::Npz,
            "arrow" => Format::Arrow,
            "arrows" => Format::Arrows,
            "parquet" => Format::Parquet,
            "csv" => Format::Csv,
            other => return Err(format!("unknown format {other:?} (sheaf, npy, npz, arrow, arrows, parquet, csv)")),
        })
    }
}

impl Format {
    /// The Arrow-family format, if this is one.
    #[must_use]
    pub fn arrow(self) -> Option<ArrowFormat> {
        Some(match self {
            Format::Arrow => ArrowFormat::IpcFile,
            Format::Arrows => ArrowFormat::IpcStream,
            Format::Parquet => ArrowFormat::Parquet,
            Format::Csv => ArrowFormat::Csv,
            _ => return None,
        })
    }

    /// The format named by a path's extension (a directory: sheaf, as a [`Dataset`]).
    ///
    /// # Errors
    /// [`ConvertError::UnknownFormat`] for an unknown or missing extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        // A directory is a dataset of sheaf files; a pattern's extension is its files'.
        if path.is_dir() {
            return Ok(Format::Sheaf);
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        Ok(match ext.as_deref() {
            Some("sheaf") => Format::Sheaf,
            Some("npy") => Format::Npy,
            Some("npz") => Format::Npz,
            Some("arrow" | "feather" | "ipc") => Format::Arrow,
            Some("arrows") => Format::Arrows,
            Some("parquet" | "parq" | "pq") => Format::Parquet,
            Some("csv") => Format::Csv,
            Some(other) => {
                return Err(ConvertError::UnknownFormat {
                    path: path.to_path_buf(),
                    reason: format!("unknown extension .{other} (known: .sheaf, .npy, .npz, .arrow, .feather, .ipc, .arrows, .parquet, .csv)"),
                })
            }
            None => return Err(ConvertError::UnknownFormat { path: path.to_path_buf(), reason: "no extension to tell the format by".into() }),
        })
    }
}

/// An open input file of any readable format.
// One per open file, never held in bulk: the Arrow variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    /// A sheaf file.
    Sheaf(sheaf::File),
    /// `.npy` (one member) or `.npz` members, by name.
    Npy(Vec<(String, NpyFile)>),
    /// A directory or glob of sheaf files, one array.
    Dataset(Dataset),
    /// An Arrow IPC, Parquet or CSV file: its schema as sheaf sees it and its rows.
    Arrow {
        /// The file.
        path: PathBuf,
        /// Which of the Arrow-family formats.
        format: ArrowFormat,
        /// How CSV is read.
        csv: CsvOptions,
        /// The sheaf schema its Arrow schema maps to.
        schema: ArraySchema,
        /// Rows, from the metadata or by reading.
        rows: u64,
        /// The top-level fields kept (`None`: all), when unsupported ones are skipped.
        keep: Option<Vec<usize>>,
        /// The fields skipped, with why.
        skipped: Vec<(String, String)>,
    },
}

impl Source {
    /// Opens `path` as `format` (CSV with default options).
    ///
    /// # Errors
    /// I/O, format and type errors, naming the file.
    pub fn open(path: &Path, format: Format) -> Result<Self> {
        Self::open_with(path, format, &CsvOptions::default())
    }

    /// Opens `path` as `format` with CSV options.
    ///
    /// # Errors
    /// As [`Source::open`].
    pub fn open_with(path: &Path, format: Format, csv: &CsvOptions) -> Result<Self> {
        Self::open_skipping(path, format, csv, false)
    }

    /// As [`Source::open_with`]; with `skip_unsupported`, top-level fields of an Arrow-family
    /// file that sheaf has no lossless type for are left out instead of refusing the file (see
    /// [`Source::skipped`] for which and why).
    ///
    /// # Errors
    /// As [`Source::open`].
    pub fn open_skipping(path: &Path, format: Format, csv: &CsvOptions, skip_unsupported: bool) -> Result<Self> {
        if let Some(af) = format.arrow() {
            let reader = open_reader(path, af, csv).map_err(|e| ConvertError::in_file(path, e))?;
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let (mut keep, mut skipped) = (None, Vec::new());
            let arrow_schema = if skip_unsupported {
                let mut kept = Vec::new();
                for (i, f) in reader.schema.fields().iter().enumerate() {
                    match sheaf_arrow::types::dtype_from_arrow(f, f.name()) {
                        Ok(_) => kept.push(i),
                        Err(e) => skipped.push((f.name().clone(), e.to_string())),
                    }
                }
                let projected = reader.schema.project(&kept).map_err(|e| ConvertError::in_file(path, sheaf_arrow::ArrowInteropError::from(e)))?;
                keep = Some(kept);
                std::sync::Arc::new(projected)
            } else {
                reader.schema.clone()
            };
            let schema = sheaf_arrow::types::schema_from_arrow(&name, &arrow_schema).map_err(|e| ConvertError::in_file(path, e))?;
            let rows = match reader.rows {
                Some(r) => r,
                // CSV (and IPC whose framing the header scan could not follow): count by reading.
                None => {
                    let mut n = 0u64;
                    for b in reader {
                        n += b.map_err(|e| ConvertError::in_file(path, e))?.num_rows() as u64;
                    }
                    n
                }
            };
            let schema = schema.with_shape(vec![rows]);
            return Ok(Source::Arrow { path: path.to_path_buf(), format: af, csv: csv.clone(), schema, rows, keep, skipped });
        }
        Ok(match format {
            Format::Sheaf if Dataset::is_dataset(path) => Source::Dataset(Dataset::open(path)?),
            Format::Sheaf => Source::Sheaf(sheaf::File::open(path)?),
            Format::Npy => {
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                Source::Npy(vec![(name, NpyFile::open(path)?)])
            }
            Format::Npz => Source::Npy(sheaf_npy::read_npz(path)?),
            _ => return Err(ConvertError::UnknownFormat { path: path.to_path_buf(), reason: "not a readable format".into() }),
        })
    }

    /// The top-level fields left out by [`Source::open_skipping`], with why each has no sheaf type.
    #[must_use]
    pub fn skipped(&self) -> &[(String, String)] {
        match self {
            Source::Arrow { skipped, .. } => skipped,
            _ => &[],
        }
    }

    /// The arrays, filtered by name when `only` is not empty.
    ///
    /// # Errors
    /// [`ConvertError::NoSuchArray`]; a sheaf column's invalid chunk table.
    pub fn arrays(&self, only: &[String]) -> Result<Vec<SourceArray<'_>>> {
        let mut out = Vec::new();
        match self {
            Source::Sheaf(f) => {
                for a in f.arrays() {
                    out.push(SourceArray {
                        name: a.name().to_string(),
                        schema: a.schema().clone(),
                        rows: a.rows(),
                        kind: Kind::Sheaf(a.clone(), a.columns()?),
                        checked: Default::default(),
                    });
                }
            }
            Source::Dataset(d) => {
                let mut members = Vec::with_capacity(d.members().len());
                for m in d.members() {
                    let a = m.file().arrays().next().ok_or_else(|| ConvertError::Internal("a dataset member without its array".into()))?;
                    let columns = a.columns().map_err(|e| ConvertError::in_file(&m.path, e))?;
                    members.push(SourceArray {
                        name: a.name().to_string(),
                        schema: a.schema().clone(),
                        rows: a.rows(),
                        kind: Kind::Sheaf(a, columns),
                        checked: Default::default(),
                    });
                }
                out.push(SourceArray { name: d.name(), schema: d.schema().clone(), rows: d.rows(), kind: Kind::Dataset(d, members), checked: Default::default() });
            }
            Source::Arrow { path, format, csv, schema, rows, keep, .. } => {
                out.push(SourceArray {
                    name: schema.name.clone(),
                    schema: schema.clone(),
                    rows: *rows,
                    kind: Kind::Arrow { path, format: *format, csv, keep: keep.as_deref() },
                    checked: Default::default(),
                });
            }
            Source::Npy(members) => {
                for (name, npy) in members {
                    let h = npy.header();
                    let mut schema = ArraySchema::new(name.clone(), h.dtype.clone()).with_shape(h.shape.clone()).with_fortran_order(h.fortran_order);
                    if sheaf_npy::descr_of(&h.dtype).ok().as_deref() != Some(h.descr.as_str()) {
                        schema.metadata.insert(sheaf_npy::NUMPY_DESCR.into(), h.descr.clone());
                    }
                    out.push(SourceArray { name: name.clone(), schema, rows: npy.rows(), kind: Kind::Npy(npy), checked: Default::default() });
                }
            }
        }
        for want in only {
            if !out.iter().any(|a| &a.name == want) {
                let names: Vec<&str> = out.iter().map(|a| a.name.as_str()).collect();
                return Err(ConvertError::NoSuchArray { name: want.clone(), available: names.iter().map(|n| (*n).to_string()).collect() });
            }
        }
        if !only.is_empty() {
            out.retain(|a| only.contains(&a.name));
        }
        Ok(out)
    }
}

enum Kind<'a> {
    Sheaf(sheaf::Array, Vec<Column>),
    /// The dataset and each member file's array.
    Dataset(&'a Dataset, Vec<SourceArray<'a>>),
    Npy(&'a NpyFile),
    Arrow {
        path: &'a Path,
        format: ArrowFormat,
        csv: &'a CsvOptions,
        keep: Option<&'a [usize]>,
    },
}

/// Rows `start..end` of the selected columns, batch by batch.
pub type Batches<'b> = Box<dyn Iterator<Item = Result<(u64, Vec<ColumnData<'b>>)>> + Send + 'b>;

/// One array of a source.
pub struct SourceArray<'a> {
    /// Its name.
    pub name: String,
    /// Its schema.
    pub schema: ArraySchema,
    /// Its rows.
    pub rows: u64,
    kind: Kind<'a>,
    /// The (column, chunk) pairs of a sheaf source whose plain buffers were checked against
    /// their checksums: once each, however many batches read from them.
    checked: std::sync::Mutex<std::collections::HashSet<(usize, usize)>>,
}

impl<'a> SourceArray<'a> {
    /// The statistics a sheaf file stores for column `index` (format 1.5) and its rows; `None`
    /// for other formats and older files.
    ///
    /// # Errors
    /// A statistics table that fails its checks.
    pub fn stored_statistics(&self, index: usize) -> Result<Option<(sheaf::ChunkStats, u64)>> {
        let Kind::Sheaf(_, cols) = &self.kind else { return Ok(None) };
        let Some(col) = cols.get(index) else { return Ok(None) };
        Ok(col.column_statistics()?.map(|s| (s, col.rows())))
    }

    /// Rows `start..end` of the columns `which`, in batches of about `step` rows (batches of a
    /// sheaf source end where the chunks of its first decoded column do).
    pub fn batches(&self, which: &[usize], start: u64, end: u64, step: u64) -> Batches<'_> {
        let which = which.to_vec();
        if let Kind::Arrow { path, format, csv, keep } = &self.kind {
            let keep = keep.map(<[usize]>::to_vec);
            let reader = match open_reader(path, *format, csv) {
                Ok(r) => r,
                Err(e) => return Box::new(std::iter::once(Err(ConvertError::in_file(path, e)))),
            };
            let dtype = self.schema.dtype.clone();
            let stated = self.rows;
            let mut at = 0u64;
            let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counter = seen.clone();
            let it = reader.map_while(move |b| {
                let past_stated = matches!(&b, Ok(b) if at + b.num_rows() as u64 > stated);
                if at >= end && !(end == stated && past_stated) {
                    return None;
                }
                Some((|| -> Result<Option<(u64, Vec<ColumnData<'static>>)>> {
                    let b = b?;
                    let b = match &keep {
                        Some(k) => b.project(k).map_err(sheaf_arrow::ArrowInteropError::from)?,
                        None => b,
                    };
                    if past_stated {
                        // Reading on would lose rows silently: refuse the file instead.
                        return Err(ConvertError::Unsupported { path: path.to_path_buf(), reason: format!("holds more rows than the {stated} its metadata states") });
                    }
                    let (bs, be) = (at, at + b.num_rows() as u64);
                    at = be;
                    counter.store(at, std::sync::atomic::Ordering::Relaxed);
                    let (s, e) = (start.max(bs), end.min(be));
                    if s >= e {
                        return Ok(None);
                    }
                    let part = b.slice((s - bs) as usize, (e - s) as usize);
                    let mut cols = columns_from_batch(&part, &dtype)?;
                    let picked = which.iter().map(|&i| std::mem::replace(&mut cols[i], empty())).collect();
                    Ok(Some((e - s, picked)))
                })())
            });
            let path = path.to_path_buf();
            // A reader that ends early would otherwise leave a short file behind.
            let short = std::iter::once_with(move || {
                let got = seen.load(std::sync::atomic::Ordering::Relaxed);
                (got < end).then(|| {
                    Err(ConvertError::Unsupported { path: path.clone(), reason: format!("cannot read this file: its metadata states {stated} rows but the reader returned {got}") })
                })
            });
            return Box::new(it.filter_map(|r| r.transpose()).chain(short.flatten()));
        }
        if let Kind::Dataset(dataset, members) = &self.kind {
            return dataset_batches(dataset, members, self.schema.columns(), which, start, end, step);
        }
        let chunk_ends = self.chunk_ends(&which);
        let mut at = start;
        Box::new(std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let mut e = (at + step.max(1)).min(end);
            if let Some(&chunk_end) = chunk_ends.get(chunk_ends.partition_point(|&c| c < e)) {
                e = chunk_end.min(end);
            }
            let r = self.read(&which, at, e).map(|c| (e - at, c));
            at = e;
            Some(r)
        }))
    }

    /// Where the chunks of the first decoded (not zero-copy) column of `which` end, counted in
    /// the array's rows: a batch ending inside a chunk would have that chunk decoded again for
    /// the next batch, so batches end where chunks do. Row groups are shared by the array's
    /// columns (columns inside lists count items instead, and are not looked at).
    fn chunk_ends(&self, which: &[usize]) -> Vec<u64> {
        let Kind::Sheaf(_, cols) = &self.kind else { return Vec::new() };
        let Some(col) = which.iter().filter_map(|&i| cols.get(i)).find(|c| c.desc().level == 0 && !c.is_zero_copy()) else { return Vec::new() };
        col.chunks()
            .iter()
            .scan(0u64, |end, c| {
                *end += c.row_count;
                Some(*end)
            })
            .collect()
    }

    /// Checks the plain buffers of the chunks that rows `start..end` of columns `which` read
    /// (all of a column's chunks for a column inside a list), each chunk once: a plain read hands
    /// the stored bytes out unchecked, and what is read here is written somewhere else.
    fn check_plain(&self, cols: &[Column], which: &[usize], start: u64, end: u64) -> Result<()> {
        let mut checked = self.checked.lock().map_err(|_| ConvertError::Internal("a reader thread failed".into()))?;
        for &i in which {
            let col = &cols[i];
            let chunks = if col.desc().level == 0 { col.chunks_for_rows(start..end) } else { 0..col.chunks().len() };
            for k in chunks {
                if !checked.contains(&(i, k)) {
                    col.verify_plain_chunk(k).map_err(|e| match col.file().path() {
                        Some(p) => ConvertError::in_file(p, e),
                        None => e.into(),
                    })?;
                    checked.insert((i, k));
                }
            }
        }
        Ok(())
    }

    /// Rows `start..end` of the leaf columns `which` (indices in depth-first order).
    fn read(&self, which: &[usize], start: u64, end: u64) -> Result<Vec<ColumnData<'a>>> {
        match &self.kind {
            Kind::Arrow { .. } | Kind::Dataset(..) => Err(ConvertError::Internal("Arrow sources and datasets are read in batches".into())),
            // Columns inside lists read the items of these rows, found through the lists.
            Kind::Sheaf(array, cols) if array.schema().dtype.has_list() => {
                self.check_plain(cols, which, start, end)?;
                Ok(array.read_columns(which, start..end)?)
            }
            Kind::Sheaf(_, cols) => {
                self.check_plain(cols, which, start, end)?;
                which.iter().map(|&i| cols[i].read_rows(start..end).map_err(Into::into)).collect()
            }
            Kind::Npy(npy) => {
                let itemsize = npy.header().itemsize().unwrap_or(0) as usize;
                let layouts: Vec<ColumnLayout> = which.iter().map(|&i| npy.layouts()[i].clone()).collect();
                let (s, e) = (start as usize, end as usize);
                let cols = records_to_columns(&npy.data()[s * itemsize..e * itemsize], itemsize, e - s, &layouts);
                Ok(cols.into_iter().map(|values: AlignedBytes| ColumnData { rows: end - start, values: Buf::Owned(values), offsets: None, validity: None }).collect())
            }
        }
    }
}

/// Rows `start..end` of a dataset's columns `which`: each member's rows in turn, its own columns
/// read as a file's are, the ones it lacks as nulls, partition columns as its folder's value.
fn dataset_batches<'b>(dataset: &'b Dataset, members: &'b [SourceArray<'b>], descs: Vec<sheaf::ColumnDesc>, which: Vec<usize>, start: u64, end: u64, step: u64) -> Batches<'b> {
    let mut parts = Vec::new();
    let mut base = 0u64;
    for (i, m) in dataset.members().iter().enumerate() {
        let (s, e) = (start.max(base), end.min(base + m.rows));
        if s < e {
            parts.push((i, s - base, e - base));
        }
        base += m.rows;
    }
    Box::new(parts.into_iter().flat_map(move |(i, s, e)| {
        let member = &dataset.members()[i];
        let own: Vec<usize> = which
            .iter()
            .filter_map(|&c| match member.leaf(c) {
                LeafSource::File(j) => Some(j),
                _ => None,
            })
            .collect();
        let inner: Batches<'b> = if own.is_empty() {
            // No column of the file is read: only the row counts.
            let mut at = s;
            Box::new(std::iter::from_fn(move || {
                (at < e).then(|| {
                    let n = step.max(1).min(e - at);
                    at += n;
                    Ok((n, Vec::new()))
                })
            }))
        } else {
            members[i].batches(&own, s, e, step)
        };
        let (which, descs) = (which.clone(), descs.clone());
        inner.map(move |b| {
            let (n, cols) = b.map_err(|e| ConvertError::in_file(&member.path, e))?;
            let mut own = cols.into_iter();
            let out = which
                .iter()
                .map(|&c| match member.leaf(c) {
                    LeafSource::File(_) => own.next().unwrap_or_else(|| empty()),
                    LeafSource::Nulls => null_column(&descs[c], n),
                    LeafSource::Partition(k) => partition_column(dataset, member, k, n),
                })
                .collect();
            Ok((n, out))
        })
    }))
}

fn empty() -> ColumnData<'static> {
    ColumnData { rows: 0, values: Buf::Owned(AlignedBytes::zeroed(0)), offsets: None, validity: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheaf::{Codec, ColumnInput, DType, Field, LeafType, WriteOptions};

    /// The row counts of the batches of a 250-row sheaf file in chunks of `group` rows, asked
    /// for 30 rows at a time: column `r` (random, so stored plain under `auto`) then column `v`
    /// (compressible).
    fn batch_sizes(codec: Codec, group: u64, which: &[usize]) -> Vec<u64> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sheaf");
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let random: Vec<u8> = (0..250)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()
            })
            .collect();
        let values: Vec<u8> = (0..250i64).flat_map(|v| (v * v % 977).to_le_bytes()).collect();
        let dtype = DType::structure(vec![Field::new("r", DType::leaf(LeafType::Int(8))), Field::new("v", DType::leaf(LeafType::Int(8)))]);
        let inputs = vec![ColumnInput::bytes(&random), ColumnInput::bytes(&values)];
        sheaf::write_arrays(&path, &[(ArraySchema::new("t", dtype), inputs)], &WriteOptions::new().with_codec(codec).with_row_group_rows(group)).unwrap();
        let source = Source::open(&path, Format::Sheaf).unwrap();
        let arrays = source.arrays(&[]).unwrap();
        let sizes: Vec<u64> = arrays[0].batches(which, 0, 250, 30).map(|b| b.unwrap().0).collect();
        sizes
    }

    #[test]
    fn batches_of_decoded_columns_end_where_chunks_end() {
        // Ending inside a chunk would decode it again for the next batch.
        assert_eq!(batch_sizes(Codec::Zstd(3), 100, &[1]), [100, 100, 50]);
        // One chunk: the first column is stored plain (zero-copy), the second is decoded and
        // sets the end.
        assert_eq!(batch_sizes(Codec::AUTO, 1000, &[0, 1]), [250]);
        // Zero-copy chunks cost nothing to cut: the asked size.
        assert_eq!(batch_sizes(Codec::None, 100, &[0, 1]), [30, 30, 30, 30, 30, 30, 30, 30, 10]);
    }
}
