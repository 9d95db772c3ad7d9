//! The write side of the binding: NumPy records (split into columns in parallel, the GIL
//! released) and Arrow streams into sheaf files, whole ([`save_records`], [`save_arrow`]) or batch
//! by batch ([`RawWriter`]). Every write goes to a temporary file renamed into place on finish,
//! so an error or an abort leaves no file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyo3::prelude::*;

use crate::arrow::{import_schema, import_stream};
use crate::buffer::borrow_bytes;
use crate::error::{PyError, Result};

/// The write options of `codec`, `row_group_rows` and file `metadata`.
fn options(codec: &str, row_group_rows: Option<u64>, metadata: &BTreeMap<String, String>) -> Result<sheaf::WriteOptions> {
    let codec: sheaf::Codec = codec.parse().map_err(|e: String| PyError::argument(format!("codec {codec:?}: {e}")))?;
    let mut o = sheaf::WriteOptions::new().with_codec(codec);
    if let Some(n) = row_group_rows {
        if n == 0 {
            return Err(PyError::argument("row_group_rows must be at least 1"));
        }
        o = o.with_row_group_rows(n);
    }
    for (k, v) in metadata {
        o = o.with_metadata(k.clone(), v.clone());
    }
    Ok(o)
}

/// A NumPy array on its way to a file: its dtype (from `descr` text), shape, order and records.
struct Records<'a> {
    schema: sheaf::ArraySchema,
    bytes: &'a [u8],
    rows: u64,
}

impl Records<'_> {
    /// The records themselves when they are one little-endian column (`None`: they must be
    /// split), after checking that the bytes hold exactly the records.
    fn single_column(&self) -> Result<Option<&[u8]>> {
        let itemsize = self.schema.dtype.itemsize().ok_or_else(|| PyError::argument("a dtype without a fixed size"))?;
        let want = self.rows.checked_mul(itemsize).ok_or_else(|| PyError::argument("array too large"))?;
        if self.bytes.len() as u64 != want {
            return Err(PyError::argument(format!("{} bytes of data for {} records of {itemsize} bytes", self.bytes.len(), self.rows)));
        }
        let layouts = sheaf_npy::layout::layouts(&self.schema.dtype);
        Ok(match layouts.as_slice() {
            [one] if one.swap <= 1 && one.runs.len() == 1 && one.runs[0] == (0, itemsize as usize) => Some(self.bytes),
            _ => None,
        })
    }

    /// The columns of the records: the bytes themselves for a little-endian array of one leaf,
    /// else split in parallel.
    fn columns(&self) -> Result<Columns<'_>> {
        if let Some(b) = self.single_column()? {
            return Ok(Columns::Same(b));
        }
        let layouts = sheaf_npy::layout::layouts(&self.schema.dtype);
        let itemsize = self.schema.dtype.itemsize().unwrap_or(0) as usize;
        let rows = usize::try_from(self.rows).map_err(|_| PyError::argument("array too large"))?;
        Ok(Columns::Split(sheaf_npy::layout::records_to_columns(self.bytes, itemsize, rows, &layouts)))
    }
}

/// Column bytes of records.
enum Columns<'a> {
    /// One column: the records as they are.
    Same(&'a [u8]),
    /// A buffer per column.
    Split(Vec<sheaf::AlignedBytes>),
}

impl Columns<'_> {
    fn inputs(&self) -> Vec<sheaf::ColumnInput<'_>> {
        match self {
            Columns::Same(b) => vec![sheaf::ColumnInput::bytes(b)],
            Columns::Split(cols) => cols.iter().map(|c| sheaf::ColumnInput::bytes(c.as_slice())).collect(),
        }
    }
}

/// The schema of an array named `name` of NumPy dtype `descr`, `shape` and order.
fn numpy_schema(name: &str, descr: &str, shape: &[u64], fortran: bool, metadata: BTreeMap<String, String>) -> Result<sheaf::ArraySchema> {
    let dtype = sheaf_npy::dtype_of_descr(descr)?;
    let mut schema = sheaf::ArraySchema::new(name, dtype).with_shape(shape.to_vec()).with_fortran_order(fortran);
    schema.metadata = metadata;
    Ok(schema)
}

/// One NumPy array to save: (name, descr text or `None` for UTF-8 strings, its bytes as a uint8
/// buffer, shape, Fortran order, the array's metadata, u64 offsets and validity bits of strings).
type NumpyArray<'py> = (String, Option<String>, Bound<'py, PyAny>, Vec<u64>, bool, BTreeMap<String, String>, Option<Bound<'py, PyAny>>, Option<Bound<'py, PyAny>>);

/// The bytes lent for one array: data, and for strings their offsets and validity.
struct LentArray {
    data: crate::buffer::Lent,
    offsets: Option<crate::buffer::Lent>,
    validity: Option<crate::buffer::Lent>,
}

/// A string array's columns: one utf8 leaf.
fn string_input<'a>(l: &'a LentArray, rows: u64) -> Result<sheaf::ColumnInput<'a>> {
    let offsets: &[u64] = l.offsets.as_ref().map(|o| bytes_as_u64(o.bytes())).transpose()?.unwrap_or(&[]);
    if offsets.len() as u64 != rows + 1 || offsets.last().copied() != Some(l.data.bytes().len() as u64) {
        return Err(PyError::argument("string offsets do not match the strings"));
    }
    let input = sheaf::ColumnInput::var(offsets, l.data.bytes());
    Ok(match &l.validity {
        Some(v) => input.with_validity(v.bytes()),
        None => input,
    })
}

fn bytes_as_u64(b: &[u8]) -> Result<&[u64]> {
    bytemuck::try_cast_slice(b).map_err(|_| PyError::argument("offsets must be an aligned uint64 array"))
}

/// Writes NumPy arrays (records in memory order) to a new sheaf file at `path`, atomically.
#[pyfunction]
#[pyo3(signature = (path, arrays, codec = "auto", row_group_rows = None, metadata = BTreeMap::new()))]
pub(crate) fn save_records(py: Python<'_>, path: PathBuf, arrays: Vec<NumpyArray<'_>>, codec: &str, row_group_rows: Option<u64>, metadata: BTreeMap<String, String>) -> Result<()> {
    let options = options(codec, row_group_rows, &metadata)?;
    let mut lent = Vec::with_capacity(arrays.len());
    let mut schemas = Vec::with_capacity(arrays.len());
    for (name, descr, data, shape, fortran, meta, offsets, validity) in arrays {
        let schema = match descr {
            Some(d) => numpy_schema(&name, &d, &shape, fortran, meta)?,
            None => {
                let leaf = sheaf::Leaf::new(sheaf::LeafType::Utf8).with_nullable(validity.is_some());
                let mut s = sheaf::ArraySchema::new(name, sheaf::DType::Leaf(leaf)).with_shape(shape);
                s.metadata = meta;
                s
            }
        };
        schemas.push(schema);
        let borrow_opt = |o: Option<Bound<'_, PyAny>>| o.map(|b| borrow_bytes(&b)).transpose();
        lent.push(LentArray { data: borrow_bytes(&data)?, offsets: borrow_opt(offsets)?, validity: borrow_opt(validity)? });
    }
    let records: Vec<Records<'_>> =
        schemas.into_iter().zip(&lent).map(|(schema, l)| Records { rows: schema.shape.as_ref().map_or(0, |s| s.iter().product()), schema, bytes: l.data.bytes() }).collect();
    py.detach(|| -> Result<()> {
        let mut w = sheaf::Writer::create(&path, options)?;
        for (r, l) in records.iter().zip(&lent) {
            if l.offsets.is_some() {
                w.write_array(r.schema.clone(), &[string_input(l, r.rows)?])?;
            } else {
                r.write(&mut w)?;
            }
        }
        w.finish()?;
        Ok(())
    })
}

/// Bytes of records split into columns per step of a save: bounds the columns held beside the
/// caller's array, in buffers reused step after step.
const SAVE_STEP_BYTES: u64 = 64 << 20;

impl Records<'_> {
    /// Writes the records as one array: a one-leaf little-endian array as it is (one region,
    /// no copy), others split into columns a block of rows at a time into reused buffers (a
    /// copy of the whole array in fresh memory cost more than the write itself).
    fn write(&self, w: &mut sheaf::Writer) -> Result<()> {
        if let Some(b) = self.single_column()? {
            w.write_array(self.schema.clone(), &[sheaf::ColumnInput::bytes(b)])?;
            return Ok(());
        }
        let layouts = sheaf_npy::layout::layouts(&self.schema.dtype);
        let itemsize = self.schema.dtype.itemsize().unwrap_or(0);
        let plain = w.options().codec() == sheaf::Codec::None;
        let group = w.options().row_group_rows().max(1);
        let mut step = (SAVE_STEP_BYTES / itemsize.max(1)).max(1);
        if !plain {
            // Whole row groups per step, so that every chunk is a full row group.
            step = step.div_ceil(group) * group;
        }
        let step = step.min(self.rows.max(1));
        if plain {
            let mut array = w.begin_plain_array(self.schema.clone(), self.rows)?;
            self.for_each_block(&layouts, step, |_, inputs| Ok(array.append(inputs)?))?;
            array.finish()?;
            return Ok(());
        }
        let id = w.add_array(self.schema.clone())?;
        self.for_each_block(&layouts, step, |n, inputs| Ok(w.append_rows(id, Some(n), inputs)?))
    }

    /// Splits the records into columns `step` rows at a time, into buffers reused from block to
    /// block, and hands each block's columns to `write` with its row count.
    fn for_each_block(&self, layouts: &[sheaf_npy::layout::ColumnLayout], step: u64, mut write: impl FnMut(u64, &[sheaf::ColumnInput<'_>]) -> Result<()>) -> Result<()> {
        let itemsize = self.schema.dtype.itemsize().unwrap_or(0);
        let mut scratch: Vec<Vec<u8>> = layouts.iter().map(|l| vec![0u8; step as usize * l.row_width]).collect();
        let mut at = 0;
        while at < self.rows {
            let end = (at + step).min(self.rows);
            let n = (end - at) as usize;
            let block = &self.bytes[(at * itemsize) as usize..(end * itemsize) as usize];
            let mut outs: Vec<&mut [u8]> = scratch.iter_mut().zip(layouts).map(|(b, l)| &mut b[..n * l.row_width]).collect();
            sheaf_npy::layout::records_to_columns_into(block, itemsize as usize, n, layouts, &mut outs);
            let inputs: Vec<sheaf::ColumnInput<'_>> = scratch.iter().zip(layouts).map(|(b, l)| sheaf::ColumnInput::bytes(&b[..n * l.row_width])).collect();
            write(end - at, &inputs)?;
            at = end;
        }
        Ok(())
    }
}

/// Writes every batch of an Arrow stream (`obj.__arrow_c_stream__()`) as the array `name` of a
/// new sheaf file at `path`, atomically.
#[pyfunction]
#[pyo3(signature = (path, name, obj, codec = "auto", row_group_rows = None, metadata = BTreeMap::new()))]
pub(crate) fn save_arrow(
    py: Python<'_>,
    path: PathBuf,
    name: &str,
    obj: &Bound<'_, PyAny>,
    codec: &str,
    row_group_rows: Option<u64>,
    metadata: BTreeMap<String, String>,
) -> Result<()> {
    let options = options(codec, row_group_rows, &metadata)?;
    let reader = import_stream(obj)?;
    let schema = sheaf_arrow::types::schema_from_arrow(name, &arrow_array::RecordBatchReader::schema(&reader))?;
    py.detach(move || -> Result<()> {
        let mut w = sheaf::Writer::create(&path, options)?;
        let id = w.add_array(schema.clone())?;
        for batch in reader {
            append_arrow(&mut w, id, &schema, &batch?)?;
        }
        w.finish()?;
        Ok(())
    })
}

fn append_arrow(w: &mut sheaf::Writer, id: sheaf::ArrayId, schema: &sheaf::ArraySchema, batch: &arrow_array::RecordBatch) -> Result<()> {
    let cols = sheaf_arrow::columns_from_batch(batch, &schema.dtype)?;
    let inputs: Vec<sheaf::ColumnInput<'_>> = cols.iter().map(sheaf::ColumnInput::from_data).collect();
    w.append_rows(id, Some(batch.num_rows() as u64), &inputs)?;
    Ok(())
}

/// A sheaf file being written batch by batch (the writer behind `sheaf.Writer`); nothing is
/// at `path` until `finish`, and `abort` (or dropping it) leaves no file.
#[pyclass(module = "sheaf._sheaf", name = "RawWriter")]
pub(crate) struct RawWriter {
    writer: Option<sheaf::Writer>,
    id: sheaf::ArrayId,
    schema: sheaf::ArraySchema,
    rows: u64,
}

impl RawWriter {
    fn writer(&mut self) -> Result<&mut sheaf::Writer> {
        self.writer.as_mut().ok_or_else(|| PyError::new("closed", "the writer is finished or aborted"))
    }
}

#[pymethods]
impl RawWriter {
    /// A writer of one array `name` to `path`, of NumPy dtype `descr` (text) or of the Arrow
    /// schema `arrow_schema` (a capsule or an object with `__arrow_c_schema__`).
    #[new]
    #[pyo3(signature = (path, name, descr = None, arrow_schema = None, codec = "auto", row_group_rows = None, metadata = BTreeMap::new()))]
    fn new(
        path: PathBuf,
        name: &str,
        descr: Option<&str>,
        arrow_schema: Option<&Bound<'_, PyAny>>,
        codec: &str,
        row_group_rows: Option<u64>,
        metadata: BTreeMap<String, String>,
    ) -> Result<Self> {
        let options = options(codec, row_group_rows, &metadata)?;
        let schema = match (descr, arrow_schema) {
            (Some(d), None) => sheaf::ArraySchema::new(name, sheaf_npy::dtype_of_descr(d)?),
            (None, Some(s)) => sheaf_arrow::types::schema_from_arrow(name, &import_schema(s)?)?,
            _ => return Err(PyError::argument("give a NumPy dtype or an Arrow schema")),
        };
        let mut writer = sheaf::Writer::create(&path, options)?;
        let id = writer.add_array(schema.clone())?;
        Ok(RawWriter { writer: Some(writer), id, schema, rows: 0 })
    }

    /// A writer that appends to the array `name` of the existing file `path` in place (the
    /// file's only array when `name` is `None`): committed by `finish`, in one step; `abort`
    /// leaves the file as it was.
    #[staticmethod]
    #[pyo3(signature = (path, name = None, codec = "auto", row_group_rows = None, metadata = BTreeMap::new()))]
    fn open_append(py: Python<'_>, path: PathBuf, name: Option<&str>, codec: &str, row_group_rows: Option<u64>, metadata: BTreeMap<String, String>) -> Result<Self> {
        let options = options(codec, row_group_rows, &metadata)?;
        let (writer, schema) = py.detach(|| -> Result<_> {
            let file = sheaf::File::open_unmapped(&path)?;
            let array = match name {
                Some(n) => file.array(n)?,
                None => file.single()?,
            };
            let schema = array.schema().clone();
            drop(file);
            Ok((sheaf::Writer::open_append(&path, options)?, schema))
        })?;
        let id = writer.array_id(&schema.name)?;
        Ok(RawWriter { writer: Some(writer), id, schema, rows: 0 })
    }

    /// The NumPy dtype of the records this writer takes, as `descr` text; `None` for an array
    /// NumPy has no dtype for (then it takes Arrow data only).
    #[getter]
    fn descr(&self) -> Option<String> {
        sheaf_npy::descr_of(&self.schema.dtype).ok()
    }

    /// Appends `rows` NumPy records (a uint8 buffer of them, in the writer's dtype).
    fn append_records(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>, rows: u64) -> Result<()> {
        let lent = borrow_bytes(data)?;
        let records = Records { schema: self.schema.clone(), bytes: lent.bytes(), rows };
        let id = self.id;
        let w = self.writer()?;
        py.detach(|| -> Result<()> {
            let columns = records.columns()?;
            w.append_rows(id, Some(rows), &columns.inputs())?;
            Ok(())
        })?;
        self.rows += rows;
        Ok(())
    }

    /// Appends every batch of an Arrow stream (`obj.__arrow_c_stream__()`) of the writer's schema.
    fn append_arrow(&mut self, py: Python<'_>, obj: &Bound<'_, PyAny>) -> Result<()> {
        let reader = import_stream(obj)?;
        let (id, schema) = (self.id, self.schema.clone());
        let w = self.writer()?;
        let rows = py.detach(|| -> Result<u64> {
            let mut rows = 0;
            for batch in reader {
                let batch = batch?;
                append_arrow(w, id, &schema, &batch)?;
                rows += batch.num_rows() as u64;
            }
            Ok(rows)
        })?;
        self.rows += rows;
        Ok(())
    }

    /// Rows appended so far.
    #[getter]
    fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the footer and renames the file into place (or, appending, commits the new version).
    fn finish(&mut self, py: Python<'_>) -> Result<()> {
        let w = self.writer.take().ok_or_else(|| PyError::new("closed", "the writer is finished or aborted"))?;
        py.detach(|| w.finish())?;
        Ok(())
    }

    /// Drops what was written: no file is left (an existing file at the path is untouched).
    fn abort(&mut self) {
        self.writer = None;
    }
}
