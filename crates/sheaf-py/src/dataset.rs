//! Datasets from Python: [`RawDataset`], a directory or glob of sheaf files as one table
//! (`sheaf.open_dataset`), and [`DatasetBatches`], its rows as Arrow record batches file after
//! file: a file's own columns read as `sheaf_arrow` reads them, the columns it lacks as nulls,
//! partition columns as its folder's value. Listing and schema merging are
//! `sheaf_convert::Dataset`'s.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, Int64Array, LargeStringArray, RecordBatch, RecordBatchOptions, RecordBatchReader, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use sheaf_convert::Dataset;

use crate::arrow::{schema_capsule, stream_capsule};
use crate::error::{PyError, Result};

/// Rows per batch when the caller does not say.
const DEFAULT_BATCH_ROWS: u64 = 1 << 20;

/// Where one selected top-level field comes from in one file.
#[derive(Clone, Copy)]
enum FieldSource {
    /// The file's top-level field at this index.
    File(usize),
    /// Not in the file: nulls.
    Nulls,
    /// Partition column `k`: the file's folder value.
    Partition(usize),
}

/// An open dataset (footers read, columns not).
#[pyclass(frozen, module = "sheaf._sheaf", name = "RawDataset")]
pub(crate) struct RawDataset {
    dataset: Arc<Dataset>,
    schema: SchemaRef,
}

/// Opens the dataset `path` names: a directory or a glob of `.sheaf` files, or a store folder
/// or glob (`s3://bucket/events/`, `s3://bucket/events/*/part-*.sheaf`), whose files are opened
/// by range.
#[pyfunction]
pub(crate) fn open_dataset(py: Python<'_>, path: std::path::PathBuf) -> Result<RawDataset> {
    let (dataset, schema) = py.detach(|| -> Result<_> {
        let dataset = match path.to_str().filter(|t| sheaf_remote::is_dataset_url(t)) {
            Some(url) => {
                let (root, files) = sheaf_remote::open_dataset_url(url)?;
                Dataset::from_files(&path, std::path::Path::new(&root), files.into_iter().map(|(u, f)| (std::path::PathBuf::from(u), f)).collect())?
            }
            None => Dataset::open(&path)?,
        };
        let schema = table_schema(&dataset)?;
        Ok((dataset, schema))
    })?;
    Ok(RawDataset { dataset: Arc::new(dataset), schema: Arc::new(schema) })
}

/// The dataset's Arrow schema: each field as the first file holding it has it (the Arrow type
/// it was written from, kept in the file: `utf8` stays `utf8`), nullable where the merged sheaf
/// schema says so; the partition columns as sheaf maps them.
fn table_schema(dataset: &Dataset) -> Result<Schema> {
    let merged = sheaf_arrow::types::arrow_schema(dataset.schema())?;
    let mut own = Vec::with_capacity(dataset.members().len());
    for m in dataset.members() {
        own.push(sheaf_arrow::types::arrow_schema(m.file().single()?.schema())?);
    }
    let fields: Vec<Field> = merged
        .fields()
        .iter()
        .map(|f| match own.iter().find_map(|s| s.field_with_name(f.name()).ok()) {
            Some(first) => first.clone().with_nullable(f.is_nullable() || first.is_nullable()),
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new(fields))
}

#[pymethods]
impl RawDataset {
    /// The root folder's name.
    #[getter]
    fn name(&self) -> String {
        self.dataset.name()
    }

    /// Rows of all files.
    #[getter]
    fn rows(&self) -> u64 {
        self.dataset.rows()
    }

    /// The folder partitions start from.
    #[getter]
    fn root(&self) -> String {
        self.dataset.root().display().to_string()
    }

    /// The top-level field names (the files' fields, then the partition columns).
    fn field_names(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// The partition column names.
    fn partition_columns(&self) -> Vec<String> {
        self.dataset.partition_columns().iter().map(|s| (*s).to_string()).collect()
    }

    /// Per file: (path, rows, partition values in the order of `partition_columns`).
    fn files(&self) -> Vec<(String, u64, Vec<Option<String>>)> {
        self.dataset.members().iter().map(|m| (m.path.display().to_string(), m.rows, m.partition.clone())).collect()
    }

    /// The Arrow schema of the top-level `fields` (indices; all when `None`) as a PyCapsule.
    #[pyo3(signature = (fields = None))]
    fn arrow_schema<'py>(&self, py: Python<'py>, fields: Option<Vec<usize>>) -> Result<Bound<'py, PyCapsule>> {
        schema_capsule(py, project(&self.schema, fields.as_deref())?.as_ref())
    }

    /// Rows `start..stop` (of the whole dataset) of the top-level `fields` as an Arrow C stream
    /// PyCapsule, `batch_rows` rows a batch at most (batches end at file ends).
    #[pyo3(signature = (fields = None, start = None, stop = None, batch_rows = None))]
    fn arrow_stream<'py>(&self, py: Python<'py>, fields: Option<Vec<usize>>, start: Option<u64>, stop: Option<u64>, batch_rows: Option<u64>) -> Result<Bound<'py, PyCapsule>> {
        let total = self.dataset.rows();
        let (start, stop) = (start.unwrap_or(0), stop.unwrap_or(total));
        if start > stop || stop > total {
            return Err(PyError::argument(format!("rows {start}..{stop} are not within the dataset's {total} rows")));
        }
        let batches = DatasetBatches::new(Arc::clone(&self.dataset), &self.schema, fields, start..stop, batch_rows.unwrap_or(DEFAULT_BATCH_ROWS))?;
        stream_capsule(py, batches)
    }

    fn __repr__(&self) -> String {
        format!("<sheaf._sheaf.RawDataset {:?}: {} files, {} rows>", self.dataset.root().display(), self.dataset.members().len(), self.dataset.rows())
    }
}

/// `schema` with the fields `fields` (all when `None`).
fn project(schema: &SchemaRef, fields: Option<&[usize]>) -> Result<SchemaRef> {
    match fields {
        None => Ok(Arc::clone(schema)),
        Some(f) => {
            if let Some(bad) = f.iter().find(|&&i| i >= schema.fields().len()) {
                return Err(PyError::argument(format!("no field {bad} (the dataset has {})", schema.fields().len())));
            }
            Ok(Arc::new(schema.project(f)?))
        }
    }
}

/// A dataset's rows as record batches, file after file.
pub(crate) struct DatasetBatches {
    dataset: Arc<Dataset>,
    schema: SchemaRef,
    /// Per file, where each selected field comes from.
    sources: Vec<Vec<FieldSource>>,
    /// (file, rows of the file) still to read, a batch each.
    pieces: VecDeque<(usize, Range<u64>)>,
}

impl DatasetBatches {
    fn new(dataset: Arc<Dataset>, table: &SchemaRef, fields: Option<Vec<usize>>, rows: Range<u64>, step: u64) -> Result<Self> {
        let schema = project(table, fields.as_deref())?;
        let partitions = dataset.partition_columns();
        let mut sources = Vec::with_capacity(dataset.members().len());
        for m in dataset.members() {
            let array = m.file().single()?;
            let own = sheaf_arrow::types::arrow_schema(array.schema())?;
            sources.push(
                schema
                    .fields()
                    .iter()
                    .map(|f| match (own.index_of(f.name()), partitions.iter().position(|p| p == f.name())) {
                        (Ok(i), _) => FieldSource::File(i),
                        (Err(_), Some(k)) => FieldSource::Partition(k),
                        (Err(_), None) => FieldSource::Nulls,
                    })
                    .collect(),
            );
        }
        let mut pieces = VecDeque::new();
        let mut base = 0u64;
        for (i, m) in dataset.members().iter().enumerate() {
            let (s, e) = (rows.start.max(base), rows.end.min(base + m.rows));
            let mut at = s;
            while at < e {
                let end = (at + step.max(1)).min(e);
                pieces.push_back((i, at - base..end - base));
                at = end;
            }
            base += m.rows;
        }
        Ok(DatasetBatches { dataset, schema, sources, pieces })
    }

    fn read(&self, file: usize, rows: Range<u64>) -> std::result::Result<RecordBatch, ArrowError> {
        let member = &self.dataset.members()[file];
        let n = (rows.end - rows.start) as usize;
        let sources = &self.sources[file];
        let own: Vec<usize> = sources
            .iter()
            .filter_map(|s| match s {
                FieldSource::File(i) => Some(*i),
                _ => None,
            })
            .collect();
        let external = |e: sheaf::Error| ArrowError::ExternalError(Box::new(e.in_file(&member.path)));
        let mut read = if own.is_empty() {
            Vec::new().into_iter()
        } else {
            let array = member.file().single().map_err(external)?;
            sheaf_arrow::read_record_batch(&array, Some(&own), rows).map_err(|e| ArrowError::ExternalError(Box::new(e)))?.columns().to_vec().into_iter()
        };
        let columns = sources
            .iter()
            .zip(self.schema.fields())
            .map(|(s, field)| -> std::result::Result<ArrayRef, ArrowError> {
                Ok(match s {
                    FieldSource::File(_) => {
                        let column = read.next().ok_or_else(|| ArrowError::ComputeError("a sheaf read returned fewer columns than asked".into()))?;
                        if column.data_type() == field.data_type() {
                            column
                        } else {
                            arrow_cast::cast(&column, field.data_type())?
                        }
                    }
                    FieldSource::Nulls => new_null_array(field.data_type(), n),
                    FieldSource::Partition(k) => match (member.partition[*k].as_deref(), field.data_type()) {
                        (None, t) => new_null_array(t, n),
                        (Some(v), DataType::Int64) => Arc::new(Int64Array::from(vec![v.parse::<i64>().map_err(|e| ArrowError::ParseError(e.to_string()))?; n])),
                        (Some(v), DataType::LargeUtf8) => Arc::new(LargeStringArray::from_iter_values(std::iter::repeat_n(v, n))),
                        (Some(v), _) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, n))),
                    },
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &RecordBatchOptions::new().with_row_count(Some(n)))
    }
}

impl Iterator for DatasetBatches {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (file, rows) = self.pieces.pop_front()?;
        let r = self.read(file, rows);
        if r.is_err() {
            self.pieces.clear();
        }
        Some(r)
    }
}

impl RecordBatchReader for DatasetBatches {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
