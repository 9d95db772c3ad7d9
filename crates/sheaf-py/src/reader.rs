//! The read side of the binding: an open file ([`RawFile`]) and its arrays ([`RawArray`]), whose
//! columns come out as [`Buffer`]s (plain ones as views of the memory map), whose records are
//! assembled into a NumPy array's memory in parallel with the GIL released, and which stream out
//! as Arrow through the C stream interface. The Pythonic API on top is `sheaf/__init__.py`.

use std::collections::BTreeMap;
use std::ops::Range;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use rayon::prelude::*;

use crate::arrow::{array_capsules, schema_capsule, stream_capsule, ArrayBatches};
use crate::buffer::{borrow_bytes, borrow_bytes_mut, Buffer};
use crate::error::{PyError, Result};

/// Rows of records assembled per step of a read: bounds the memory of decoded columns held
/// beside the output to about this many bytes of records.
const READ_STEP_BYTES: u64 = 64 << 20;

/// An open sheaf file (the handle behind `sheaf.File`).
#[pyclass(module = "sheaf._sheaf", name = "RawFile")]
pub(crate) struct RawFile {
    file: Option<sheaf::File>,
    path: String,
}

impl RawFile {
    fn file(&self) -> Result<&sheaf::File> {
        self.file.as_ref().ok_or_else(|| PyError::new("closed", format!("{}: the file is closed", self.path)))
    }
}

/// Opens the sheaf file at `path`: memory-mapped by default, with positioned reads when
/// `mapped` is false (for files other programs may rewrite in place). A URL (`s3://`, `gs://`,
/// `az://`, `http(s)://`) is read by range requests (`mapped` does not apply); `file://` is local.
#[pyfunction]
#[pyo3(signature = (path, mapped = true))]
pub(crate) fn open_file(py: Python<'_>, path: std::path::PathBuf, mapped: bool) -> PyResult<RawFile> {
    let shown = path.display().to_string();
    let file = match path.to_str().filter(|t| sheaf_remote::is_url(t)) {
        Some(url) => py.detach(|| sheaf_remote::open_file(url)).map_err(PyError::from)?,
        None => py.detach(|| if mapped { sheaf::File::open(&path) } else { sheaf::File::open_unmapped(&path) }).map_err(PyError::from)?,
    };
    Ok(RawFile { file: Some(file), path: shown })
}

#[pymethods]
impl RawFile {
    /// The arrays' names, in file order.
    fn array_names(&self) -> Result<Vec<String>> {
        Ok(self.file()?.arrays().map(|a| a.name().to_string()).collect())
    }

    /// The file's metadata (string keys and values).
    fn metadata(&self) -> Result<BTreeMap<String, String>> {
        Ok(self.file()?.metadata().clone())
    }

    /// The format version as (major, minor).
    fn version(&self) -> Result<(u16, u16)> {
        Ok(self.file()?.version())
    }

    /// Whether the file is memory-mapped.
    fn is_mapped(&self) -> Result<bool> {
        Ok(self.file()?.is_mapped())
    }

    /// The array named `name`.
    fn array(&self, name: &str) -> Result<RawArray> {
        let array = self.file()?.array(name)?;
        Ok(RawArray { array })
    }

    /// Drops this handle's reference to the file; arrays and views taken from it stay valid
    /// (each keeps what it needs open).
    fn close(&mut self) {
        self.file = None;
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.file.is_none()
    }
}

/// One array of an open file (the handle behind `sheaf.Array`).
#[pyclass(frozen, module = "sheaf._sheaf", name = "RawArray")]
pub(crate) struct RawArray {
    array: sheaf::Array,
}

/// The dtype of a column's elements as stored (little-endian), as NumPy `descr` text; `None`
/// where NumPy has no dtype for it (variable-length, lists).
fn element_descr(desc: &sheaf::ColumnDesc) -> Option<String> {
    if desc.is_list() || !desc.is_fixed_width() {
        return None;
    }
    let mut leaf = desc.leaf;
    leaf.nullable = false;
    leaf.items_nullable = false;
    if leaf.ty.has_byte_order() {
        leaf.byte_order = sheaf::ByteOrder::Little;
    }
    sheaf_npy::descr_of(&sheaf::DType::Leaf(leaf)).ok()
}

/// Rows of records filled per step of a read: about [`READ_STEP_BYTES`] of records, rounded up
/// to whole chunks of the first decoded column (so that no chunk is decoded twice).
fn read_step(cols: &[sheaf::Column], itemsize: u64) -> u64 {
    let base = (READ_STEP_BYTES / itemsize.max(1)).max(1);
    match cols.iter().find(|c| !c.is_zero_copy()).and_then(|c| c.chunks().first().map(|e| e.row_count)).filter(|&g| g > 0) {
        Some(g) => base.div_ceil(g) * g,
        None => base,
    }
}

/// Row indices lent as the bytes of a `uint64` array.
fn indices_of(obj: &Bound<'_, PyAny>) -> Result<Vec<u64>> {
    let lent = borrow_bytes(obj)?;
    let bytes = lent.bytes();
    if !bytes.len().is_multiple_of(8) {
        return Err(PyError::argument(format!("indices of {} bytes are not whole uint64 values", bytes.len())));
    }
    Ok(bytes.chunks_exact(8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect())
}

/// A column's rows as the (values, validity, offsets) buffers Python views; `mapped`: the values
/// are a view of the file's map.
fn column_buffers(data: sheaf::ColumnData<'static>, mapped: bool) -> (Buffer, Option<Buffer>, Option<Buffer>) {
    let values = Buffer::new(data.values.into_shared(), mapped);
    let validity = data.validity.map(|v| Buffer::new(sheaf::SharedSlice::from_vec(v), false));
    let offsets = data.offsets.map(|o| Buffer::new(sheaf::SharedSlice::from_vec(o.iter().flat_map(|x| x.to_le_bytes()).collect()), false));
    (values, validity, offsets)
}

/// The layouts and record size of dtype `descr` for `columns` columns, and `out` lent writable
/// after checking it holds exactly `rows` records.
fn records_out(descr: &str, columns: usize, out: &Bound<'_, PyAny>, rows: u64) -> Result<(Vec<sheaf_npy::layout::ColumnLayout>, u64, crate::buffer::Lent)> {
    let dtype = sheaf_npy::dtype_of_descr(descr)?;
    let layouts = sheaf_npy::layout::layouts(&dtype);
    if layouts.len() != columns {
        return Err(PyError::argument(format!("{columns} columns for a dtype of {} columns", layouts.len())));
    }
    let itemsize = dtype.itemsize().ok_or_else(|| PyError::argument("a dtype without a fixed size"))?;
    let lent = borrow_bytes_mut(out)?;
    let want = rows.checked_mul(itemsize).ok_or_else(|| PyError::argument("records too large"))?;
    let have = lent.bytes().len() as u64;
    if have != want {
        return Err(PyError::argument(format!("an output of {have} bytes for {want} bytes of records")));
    }
    Ok((layouts, itemsize, lent))
}

impl RawArray {
    fn rows_in(&self, start: Option<u64>, stop: Option<u64>) -> Result<Range<u64>> {
        let rows = self.array.rows();
        let (start, stop) = (start.unwrap_or(0), stop.unwrap_or(rows));
        if start > stop || stop > rows {
            return Err(PyError::new("row_range", format!("rows {start}..{stop} out of range for array {:?} of {rows} rows", self.array.name())));
        }
        Ok(start..stop)
    }
}

#[pymethods]
impl RawArray {
    /// The array's name.
    #[getter]
    fn name(&self) -> String {
        self.array.name().to_string()
    }

    /// Rows (records) in the array: the product of its shape.
    #[getter]
    fn rows(&self) -> u64 {
        self.array.rows()
    }

    /// The full shape.
    #[getter]
    fn shape(&self) -> Vec<u64> {
        self.array.shape().to_vec()
    }

    /// Whether the array was in Fortran order.
    #[getter]
    fn fortran_order(&self) -> bool {
        self.array.schema().fortran_order
    }

    /// The array's own metadata.
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.array.schema().metadata.clone()
    }

    /// The record dtype as NumPy `descr` text, or `None` when NumPy has no dtype for it
    /// (variable-length strings, lists, nullable columns).
    #[getter]
    fn descr(&self) -> Option<String> {
        sheaf_npy::descr_of(&self.array.schema().dtype).ok()
    }

    /// The names of the top-level fields (one, `""`, for a plain array).
    fn field_names(&self) -> Vec<String> {
        match &self.array.schema().dtype {
            sheaf::DType::Struct(s) => s.fields.iter().map(|f| f.name.clone()).collect(),
            _ => vec![String::new()],
        }
    }

    /// One dict per leaf column, in storage order: `path`, `type` (as `sheaf inspect` shows it),
    /// `leaf` (the leaf type alone), `descr` (the element dtype,
    /// little-endian, or `None`), `shape` (the element's subarray shape), `variable`, `list`,
    /// `nullable`, `nulls`, `zero_copy`, `stored_bytes`, `memory_bytes`, `rows`, `encoding`.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, pyo3::types::PyDict>>> {
        let cols = self.array.columns().map_err(PyError::from)?;
        let mut out = Vec::with_capacity(cols.len());
        for c in &cols {
            let d = pyo3::types::PyDict::new(py);
            let desc = c.desc();
            d.set_item("path", desc.name())?;
            d.set_item("type", desc.type_text())?;
            d.set_item("leaf", desc.leaf.ty.to_string())?;
            d.set_item("descr", element_descr(desc))?;
            d.set_item("shape", desc.shape.clone())?;
            d.set_item("variable", desc.leaf.ty.is_variable())?;
            d.set_item("list", desc.is_list())?;
            d.set_item("row_validity", desc.is_row_validity())?;
            d.set_item("nullable", desc.may_have_nulls())?;
            d.set_item("nulls", c.null_count())?;
            d.set_item("zero_copy", c.is_zero_copy())?;
            d.set_item("stored_bytes", c.stored_bytes())?;
            d.set_item("memory_bytes", c.memory_bytes())?;
            d.set_item("rows", c.rows())?;
            d.set_item("encoding", c.encoding())?;
            out.push(d);
        }
        Ok(out)
    }

    /// Rows `start..stop` of leaf column `index` as (values, validity bitmap or None, u64
    /// offsets or None): a plain column of a mapped file read whole is a view of the map.
    #[pyo3(signature = (index, start = None, stop = None))]
    fn column(&self, py: Python<'_>, index: usize, start: Option<u64>, stop: Option<u64>) -> Result<(Buffer, Option<Buffer>, Option<Buffer>)> {
        let col = self.array.column_at(index)?;
        let rows = if col.desc().level == 0 {
            self.rows_in(start, stop)?
        } else {
            // Columns inside lists have a row per item; only whole reads are offered here.
            0..col.rows()
        };
        let data = py.detach(|| col.read_rows(rows))?;
        let mapped = data.values.is_shared();
        Ok(column_buffers(data, mapped))
    }

    /// The leaf column indices and pruned record dtype (NumPy `descr` text) of the fields
    /// `paths` (dotted; all when empty).
    fn select(&self, paths: Vec<String>) -> Result<(Vec<usize>, String)> {
        let (which, dtype) = sheaf_convert::select(&self.array.schema().dtype, &paths)?;
        Ok((which, sheaf_npy::descr_of(&dtype)?))
    }

    /// Fills `out` (a writable, C-contiguous byte buffer of exactly the records' size) with
    /// rows `start..stop` of the columns `which` as NumPy records of dtype `descr`: columns
    /// decode in parallel and are scattered into the records by all cores, the GIL released.
    #[pyo3(signature = (out, which, descr, start = None, stop = None))]
    fn read_records_into(&self, py: Python<'_>, out: &Bound<'_, PyAny>, which: Vec<usize>, descr: &str, start: Option<u64>, stop: Option<u64>) -> Result<()> {
        let range = self.rows_in(start, stop)?;
        let (layouts, itemsize, lent) = records_out(descr, which.len(), out, range.end - range.start)?;
        let records = lent.bytes_mut();
        let array = &self.array;
        py.detach(|| -> Result<()> {
            let cols = array.columns_at(&which)?;
            let step = read_step(&cols, itemsize);
            // Decoded columns go into buffers reused block after block (warm memory); plain ones
            // are read in place from the map.
            let mut scratch: Vec<Vec<u8>> =
                cols.iter().map(|c| if c.is_zero_copy() { Vec::new() } else { vec![0u8; (step * c.desc().row_width().unwrap_or(0)) as usize] }).collect();
            let mut at = range.start;
            while at < range.end {
                let end = (at + step).min(range.end);
                let mapped: Vec<Option<sheaf::ColumnData<'static>>> = cols
                    .par_iter()
                    .zip(scratch.par_iter_mut())
                    .map(|(c, buf)| -> Result<Option<sheaf::ColumnData<'static>>> {
                        if c.is_zero_copy() {
                            return Ok(Some(c.read_rows(at..end)?));
                        }
                        let len = ((end - at) * c.desc().row_width().unwrap_or(0)) as usize;
                        c.read_rows_into(at..end, &mut buf[..len])?;
                        Ok(None)
                    })
                    .collect::<Result<_>>()?;
                let slices: Vec<&[u8]> = mapped
                    .iter()
                    .zip(&scratch)
                    .zip(&cols)
                    .map(|((m, buf), c)| match m {
                        Some(d) => &*d.values,
                        None => &buf[..((end - at) * c.desc().row_width().unwrap_or(0)) as usize],
                    })
                    .collect();
                let lo = ((at - range.start) * itemsize) as usize;
                let hi = ((end - range.start) * itemsize) as usize;
                sheaf_npy::layout::columns_to_records(&slices, &layouts, itemsize as usize, &mut records[lo..hi]);
                at = end;
            }
            Ok(())
        })
    }

    /// The rows at `indices` (a C-contiguous `uint64` buffer viewed as `uint8`; any order,
    /// repeats allowed) of leaf column `index` (outside lists), as `column` gives rows: (values,
    /// validity bitmap or None, u64 offsets or None). Only the chunks holding them decode.
    fn take_column(&self, py: Python<'_>, index: usize, indices: &Bound<'_, PyAny>) -> Result<(Buffer, Option<Buffer>, Option<Buffer>)> {
        let indices = indices_of(indices)?;
        let col = self.array.column_at(index)?;
        let data = py.detach(|| col.take(&indices))?;
        Ok(column_buffers(data, false))
    }

    /// Fills `out` (writable, C-contiguous, exactly `len(indices)` records) with the records at
    /// `indices` (a C-contiguous `uint64` buffer viewed as `uint8`) of the columns `which`, as
    /// NumPy records of dtype `descr`: the chunks holding them decode in parallel, the GIL
    /// released.
    fn take_records_into(&self, py: Python<'_>, out: &Bound<'_, PyAny>, which: Vec<usize>, descr: &str, indices: &Bound<'_, PyAny>) -> Result<()> {
        let indices = indices_of(indices)?;
        let (layouts, itemsize, lent) = records_out(descr, which.len(), out, indices.len() as u64)?;
        let records = lent.bytes_mut();
        let array = &self.array;
        py.detach(|| -> Result<()> {
            let taken = array.take(&which, &indices)?;
            let slices: Vec<&[u8]> = taken.iter().map(|d| &*d.values).collect();
            sheaf_npy::layout::columns_to_records(&slices, &layouts, itemsize as usize, records);
            Ok(())
        })
    }

    /// An Arrow C stream (PyCapsule "arrow_array_stream") of rows `start..stop` of the
    /// top-level fields `fields` (indices; all when None), `batch_rows` rows a batch.
    #[pyo3(signature = (fields = None, start = None, stop = None, batch_rows = None))]
    fn arrow_stream<'py>(&self, py: Python<'py>, fields: Option<Vec<usize>>, start: Option<u64>, stop: Option<u64>, batch_rows: Option<u64>) -> Result<Bound<'py, PyCapsule>> {
        let range = self.rows_in(start, stop)?;
        let batches = ArrayBatches::new(self.array.clone(), fields, range, batch_rows)?;
        stream_capsule(py, batches)
    }

    /// Rows `start..stop` of the top-level `fields` as one Arrow struct array: PyCapsules
    /// ("arrow_schema", "arrow_array"); plain columns of a whole read stay views of the map.
    #[pyo3(signature = (fields = None, start = None, stop = None))]
    fn arrow_array<'py>(&self, py: Python<'py>, fields: Option<Vec<usize>>, start: Option<u64>, stop: Option<u64>) -> Result<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let range = self.rows_in(start, stop)?;
        let array = &self.array;
        let batch = py.detach(|| sheaf_arrow::read_record_batch(array, fields.as_deref(), range))?;
        array_capsules(py, batch)
    }

    /// The Arrow schema (PyCapsule "arrow_schema") of the top-level fields `fields`.
    #[pyo3(signature = (fields = None))]
    fn arrow_schema<'py>(&self, py: Python<'py>, fields: Option<Vec<usize>>) -> Result<Bound<'py, PyCapsule>> {
        let batches = ArrayBatches::new(self.array.clone(), fields, 0..0, None)?;
        schema_capsule(py, &batches.schema())
    }
}
