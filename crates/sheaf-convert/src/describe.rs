//! What `sheaf inspect --json` prints and the Python package's `sheaf.info` returns: a file of
//! any readable format described as data (arrays, and per column dtype, encoding, stored and
//! in-memory bytes, zero-copy, nulls, min/max), with what a load costs in memory.

use std::path::Path;

use serde_json::{json, Value};

use crate::dataset::{partition_column, Dataset, LeafSource};
use crate::error::{ConvertError, Result};
use crate::{min_max, Format, RangeAcc, Source};

/// The description of the file at `path` (its format told by [`Format::from_path`]); value
/// ranges come from stored statistics where the file has them and `with_stats` is set.
///
/// Per column, `mapped_bytes` is what a load maps without copying (a plain sheaf column) and
/// `decoded_bytes` what it must decode into fresh memory.
///
/// # Errors
/// The file cannot be opened or read, or its format cannot be told.
pub fn describe(path: &Path, with_stats: bool) -> Result<Value> {
    let format = Format::from_path(path)?;
    match format {
        Format::Sheaf => sheaf_doc(path, with_stats),
        f if f.arrow().is_some() => arrow_doc(path, with_stats, f),
        f => numpy_doc(path, with_stats, f),
    }
}

/// Arrow IPC / Parquet / CSV: the Arrow schema, what sheaf makes of each field (or why it
/// cannot), and column statistics when every field maps.
fn arrow_doc(path: &Path, with_stats: bool, format: Format) -> Result<Value> {
    let af = format.arrow().ok_or_else(|| ConvertError::Internal("not an Arrow format".into()))?;
    let reader = sheaf_arrow::formats::open_reader(path, af, &sheaf_arrow::formats::CsvOptions::default()).map_err(|e| ConvertError::in_file(path, e))?;
    let fields: Vec<_> = reader
        .schema
        .fields()
        .iter()
        .map(|f| {
            let mapped = sheaf_arrow::types::dtype_from_arrow(f, f.name());
            let sheaf_types = mapped.as_ref().ok().map(|d| {
                sheaf::ArraySchema::new("", d.clone())
                    .columns()
                    .iter()
                    .map(|c| {
                        let name = c.name();
                        if name.is_empty() {
                            c.type_text()
                        } else {
                            format!("{name}: {}", c.type_text())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            json!({
                "name": f.name(), "arrow_type": f.data_type().to_string(), "nullable": f.is_nullable(),
                "sheaf": sheaf_types, "unsupported": mapped.err().map(|e| e.to_string()),
            })
        })
        .collect();
    let all_map = fields.iter().all(|f| f["unsupported"].is_null());
    let mut doc = if all_map && with_stats {
        numpy_doc(path, with_stats, format)?
    } else {
        json!({"file": path.display().to_string(), "file_bytes": std::fs::metadata(path).map(|m| m.len()).unwrap_or(0), "arrays": []})
    };
    doc["format_version"] = json!(af.name());
    doc["arrow_schema"] = json!(fields);
    if let Some(rows) = reader.rows {
        doc["rows"] = json!(rows);
    }
    Ok(doc)
}

/// `.npy` / `.npz`: records as stored (every column strided in the record, nothing encoded).
fn numpy_doc(path: &Path, with_stats: bool, format: Format) -> Result<Value> {
    let source = Source::open(path, format)?;
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut arrays = Vec::new();
    let mut total_memory = 0u64;
    for array in source.arrays(&[])? {
        let descs = array.schema.columns();
        let mut ranges: Vec<RangeAcc> = descs.iter().map(RangeAcc::new).collect();
        if with_stats {
            let which: Vec<usize> = (0..descs.len()).collect();
            for b in array.batches(&which, 0, array.rows, 1 << 20) {
                for (r, c) in ranges.iter_mut().zip(b?.1) {
                    r.add(&c);
                }
            }
        }
        let single = descs.len() == 1 && descs[0].path.is_empty();
        let cols: Vec<_> = descs
            .iter()
            .zip(&ranges)
            .map(|(d, r)| {
                let bytes = d.row_width().unwrap_or(0) * array.rows;
                total_memory += bytes;
                let stats = r.finish();
                json!({
                    "name": d.name(), "dtype": d.type_text(), "encoding": "npy record", "chunks": 1,
                    "stored_bytes": bytes, "memory_bytes": bytes, "ratio": 1.0,
                    "zero_copy": single && format == Format::Npy, "nulls": 0,
                    "mapped_bytes": if single && format == Format::Npy { bytes } else { 0 },
                    "decoded_bytes": if single && format == Format::Npy { 0 } else { bytes },
                    "min": stats.as_ref().map(|s| s.0.clone()), "max": stats.as_ref().map(|s| s.1.clone()),
                })
            })
            .collect();
        arrays.push(json!({
            "name": array.name, "rows": array.rows, "shape": array.schema.shape, "fortran_order": array.schema.fortran_order, "columns": cols,
        }));
    }
    Ok(json!({
        "file": path.display().to_string(),
        "format_version": if format == Format::Npy { "npy" } else { "npz" },
        "file_bytes": file_len, "memory_bytes": total_memory, "stored_bytes": file_len,
        "ratio": ratio(total_memory, file_len), "arrays": arrays,
    }))
}

fn sheaf_doc(path: &Path, with_stats: bool) -> Result<Value> {
    if Dataset::is_dataset(path) {
        let mut doc = describe_dataset(&Dataset::open(path)?, with_stats)?;
        doc["file"] = json!(path.display().to_string());
        return Ok(doc);
    }
    describe_file(&sheaf::File::open(path)?, with_stats)
}

/// The description of a dataset, as [`describe_file`] gives one file's, plus its `files` (path,
/// rows, bytes, partition values) and `partitions`; per column, totals over the files, the
/// encodings met, and `in_files`: how many files hold it (the others read it as nulls).
///
/// # Errors
/// A member's chunk table or statistics cannot be read.
pub fn describe_dataset(dataset: &Dataset, with_stats: bool) -> Result<Value> {
    let descs = dataset.schema().columns();
    let mut cols: Vec<ColumnTotals> = descs
        .iter()
        .map(|d| ColumnTotals { range: RangeAcc::new(d), encodings: Vec::new(), in_files: 0, chunks: 0, stored: 0, memory: 0, mapped: 0, nulls: 0, rows: 0, zero_copy: true })
        .collect();
    let mut files = Vec::new();
    let mut file_bytes = 0u64;
    for m in dataset.members() {
        let array = m.file().arrays().next().ok_or_else(|| ConvertError::Internal("a dataset member without its array".into()))?;
        let own = array.columns().map_err(|e| ConvertError::in_file(&m.path, e))?;
        for (i, (d, t)) in descs.iter().zip(&mut cols).enumerate() {
            match m.leaf(i) {
                LeafSource::File(j) => {
                    let c = &own[j];
                    t.in_files += 1;
                    t.chunks += c.chunks().len();
                    t.stored += c.stored_bytes();
                    t.memory += c.memory_bytes();
                    t.nulls += c.null_count();
                    t.rows += c.rows();
                    t.zero_copy &= c.is_zero_copy();
                    t.mapped += if c.is_zero_copy() { c.memory_bytes() } else { 0 };
                    let enc = c.encoding();
                    if !t.encodings.contains(&enc) {
                        t.encodings.push(enc);
                    }
                    if with_stats {
                        t.range.add_column(c).map_err(|e| ConvertError::in_file(&m.path, e))?;
                    }
                }
                LeafSource::Nulls => {
                    t.nulls += m.rows;
                    t.rows += m.rows;
                    t.memory += d.row_width().unwrap_or(0) * m.rows;
                    t.zero_copy = false;
                }
                LeafSource::Partition(k) => {
                    t.rows += m.rows;
                    t.memory += d.row_width().unwrap_or(0) * m.rows;
                    t.zero_copy = false;
                    if m.partition[k].is_none() {
                        t.nulls += m.rows;
                    }
                    t.range.add(&partition_column(dataset, m, k, 1));
                }
            }
        }
        file_bytes += m.file().len();
        let partition: serde_json::Map<String, Value> = dataset.partition_columns().iter().zip(&m.partition).map(|(k, v)| ((*k).to_string(), json!(v))).collect();
        files.push(json!({"path": m.path.display().to_string(), "rows": m.rows, "bytes": m.file().len(), "partition": partition}));
    }
    let (total_stored, total_memory) = cols.iter().fold((0, 0), |(s, m), t| (s + t.stored, m + t.memory));
    let columns: Vec<Value> = descs
        .iter()
        .zip(&cols)
        .map(|(d, t)| {
            let stats = t.range.finish();
            json!({
                "name": d.name(), "dtype": d.type_text(), "rows": t.rows,
                "encoding": if t.encodings.is_empty() { "-".to_string() } else { t.encodings.join(" | ") },
                "chunks": t.chunks, "stored_bytes": t.stored, "memory_bytes": t.memory, "ratio": ratio(t.memory, t.stored),
                "zero_copy": t.zero_copy, "mapped_bytes": t.mapped, "decoded_bytes": t.memory - t.mapped,
                "nulls": t.nulls, "in_files": t.in_files,
                "min": stats.as_ref().map(|s| s.0.clone()), "max": stats.as_ref().map(|s| s.1.clone()),
            })
        })
        .collect();
    let schema = dataset.schema();
    Ok(json!({
        "file": dataset.root().display().to_string(),
        "format_version": "sheaf dataset",
        "file_bytes": file_bytes, "memory_bytes": total_memory, "stored_bytes": total_stored,
        "ratio": ratio(total_memory, file_bytes),
        "files": files,
        "partitions": dataset.partition_columns(),
        "arrays": [{
            "name": dataset.name(), "rows": dataset.rows(), "shape": schema.shape, "fortran_order": schema.fortran_order, "columns": columns,
        }],
    }))
}

/// One dataset column's totals over the files.
struct ColumnTotals {
    range: RangeAcc,
    encodings: Vec<String>,
    in_files: usize,
    chunks: usize,
    stored: u64,
    memory: u64,
    mapped: u64,
    nulls: u64,
    rows: u64,
    zero_copy: bool,
}

/// The description of an open sheaf file (local or remote), as [`describe`] gives it; the
/// file is named by [`sheaf::File::path`] (a URL for a remote one).
///
/// # Errors
/// A column's chunk table or statistics cannot be read.
pub fn describe_file(file: &sheaf::File, with_stats: bool) -> Result<Value> {
    let path = file.path().unwrap_or(Path::new("<memory>"));
    let file_len = file.len();
    let mut arrays = Vec::new();
    let (mut total_stored, mut total_memory) = (0u64, 0u64);
    for array in file.arrays() {
        let mut cols = Vec::new();
        for col in array.columns()? {
            let stats = if !with_stats { None } else { min_max(&col).map_err(|e| ConvertError::in_file(path, e))? };
            total_stored += col.stored_bytes();
            total_memory += col.memory_bytes();
            cols.push(json!({
                "name": col.desc().name(),
                "dtype": col.desc().type_text(),
                // Columns inside lists have a row per item.
                "rows": col.rows(),
                "encoding": col.encoding(),
                "chunks": col.chunks().len(),
                "stored_bytes": col.stored_bytes(),
                "memory_bytes": col.memory_bytes(),
                "ratio": ratio(col.memory_bytes(), col.stored_bytes()),
                "zero_copy": col.is_zero_copy(),
                "mapped_bytes": if col.is_zero_copy() { col.memory_bytes() } else { 0 },
                "decoded_bytes": if col.is_zero_copy() { 0 } else { col.memory_bytes() },
                "nulls": col.null_count(),
                "min": stats.as_ref().map(|s| s.0.clone()),
                "max": stats.as_ref().map(|s| s.1.clone()),
            }));
        }
        arrays.push(json!({
            "name": array.name(),
            "rows": array.rows(),
            "shape": array.shape(),
            "fortran_order": array.schema().fortran_order,
            "columns": cols,
        }));
    }
    Ok(json!({
        "file": path.display().to_string(),
        "format_version": format!("sheaf v{}.{}", file.version().0, file.version().1),
        "file_bytes": file_len,
        "memory_bytes": total_memory,
        "stored_bytes": total_stored,
        "ratio": ratio(total_memory, file_len),
        "arrays": arrays,
    }))
}

fn ratio(memory: u64, stored: u64) -> f64 {
    if stored == 0 {
        1.0
    } else {
        (memory as f64 / stored as f64 * 100.0).round() / 100.0
    }
}
