//! Arrow across the boundary through the Arrow C data and stream interfaces as PyCapsules
//! (`arrow_schema`, `arrow_array_stream`), so pyarrow, polars and DuckDB take sheaf arrays
//! without pyarrow being a dependency: [`ArrayBatches`] streams an array's rows out (plain
//! columns pointing into the map), [`import_stream`] takes any `__arrow_c_stream__` in.

use std::ffi::CStr;
use std::ops::Range;

use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{ArrowError, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::error::{PyError, Result};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";

/// Rows per batch of a stream when the caller does not say: a batch per this many rows keeps
/// consumers' memory bounded while plain columns still come as a few large views.
const DEFAULT_BATCH_ROWS: u64 = 1 << 20;

/// Rows of an array as a stream of record batches.
pub(crate) struct ArrayBatches {
    array: sheaf::Array,
    fields: Option<Vec<usize>>,
    next: u64,
    end: u64,
    step: u64,
    schema: SchemaRef,
    whole: bool,
}

impl ArrayBatches {
    /// Rows `rows` of the top-level `fields` of `array`, `batch_rows` a batch (one batch, with
    /// plain columns as views of the map, when the whole array is asked for in one).
    pub(crate) fn new(array: sheaf::Array, fields: Option<Vec<usize>>, rows: Range<u64>, batch_rows: Option<u64>) -> Result<Self> {
        let schema = sheaf_arrow::read_record_batch(&array, fields.as_deref(), 0..0)?.schema();
        let whole = rows.start == 0 && rows.end == array.rows() && batch_rows.is_none_or(|b| b >= array.rows());
        let step = batch_rows.unwrap_or(DEFAULT_BATCH_ROWS).max(1);
        Ok(ArrayBatches { array, fields, next: rows.start, end: rows.end, step, schema, whole })
    }

    /// The stream's schema.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Iterator for ArrayBatches {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        // A whole array in one batch lets plain columns come as views of the map; row ranges
        // of them are decoded (copied) per batch.
        let end = if self.whole { self.end } else { (self.next + self.step).min(self.end) };
        let batch = sheaf_arrow::read_record_batch(&self.array, self.fields.as_deref(), self.next..end).map_err(|e| ArrowError::ExternalError(Box::new(e)));
        self.next = end;
        Some(batch)
    }
}

impl RecordBatchReader for ArrayBatches {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// `batches` as a PyCapsule "arrow_array_stream"; the consumer moves the stream out, and a
/// capsule dropped unconsumed releases it (`FFI_ArrowArrayStream`'s drop runs the release
/// callback unless the consumer took it).
pub(crate) fn stream_capsule<'py>(py: Python<'py>, batches: impl RecordBatchReader + Send + 'static) -> Result<Bound<'py, PyCapsule>> {
    let stream = FFI_ArrowArrayStream::new(Box::new(batches));
    PyCapsule::new_with_value(py, stream, STREAM).map_err(|e| PyError::new("internal", e.to_string()))
}

/// `schema` as a PyCapsule "arrow_schema".
pub(crate) fn schema_capsule<'py>(py: Python<'py>, schema: &Schema) -> Result<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema)?;
    PyCapsule::new_with_value(py, ffi, SCHEMA).map_err(|e| PyError::new("internal", e.to_string()))
}

/// `batch` as one Arrow struct array: PyCapsules "arrow_schema" and "arrow_array" (the Arrow
/// PyCapsule interface's `__arrow_c_array__`); its buffers stay shared (views of the map).
pub(crate) fn array_capsules(py: Python<'_>, batch: RecordBatch) -> Result<(Bound<'_, PyCapsule>, Bound<'_, PyCapsule>)> {
    let data = arrow_array::Array::into_data(arrow_array::StructArray::from(batch));
    let (array, schema) = arrow_array::ffi::to_ffi(&data)?;
    let fail = |e: PyErr| PyError::new("internal", e.to_string());
    Ok((PyCapsule::new_with_value(py, schema, SCHEMA).map_err(fail)?, PyCapsule::new_with_value(py, array, ARRAY).map_err(fail)?))
}

/// The record batches of an object with `__arrow_c_stream__` (a pyarrow Table or
/// RecordBatchReader, a polars DataFrame, ...).
pub(crate) fn import_stream(obj: &Bound<'_, PyAny>) -> Result<ArrowArrayStreamReader> {
    let capsule = obj.call_method0("__arrow_c_stream__").map_err(|e| PyError::argument(format!("__arrow_c_stream__ failed: {e}")))?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| PyError::argument("__arrow_c_stream__ did not return a PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(STREAM)).map_err(|_| PyError::argument("__arrow_c_stream__ returned a capsule that is not an \"arrow_array_stream\""))?;
    // SAFETY: the capsule is named "arrow_array_stream", so by the Arrow PyCapsule protocol it
    // points to a valid, initialized ArrowArrayStream owned by the capsule. `from_raw` moves the
    // stream out and leaves a released one behind (release = NULL), so the capsule's destructor
    // does not release it a second time. The capsule is alive for this call.
    let reader = unsafe { ArrowArrayStreamReader::from_raw(ptr.as_ptr().cast::<FFI_ArrowArrayStream>()) }?;
    Ok(reader)
}

/// The schema of a PyCapsule "arrow_schema" or of an object with `__arrow_c_schema__`.
pub(crate) fn import_schema(obj: &Bound<'_, PyAny>) -> Result<Schema> {
    let capsule = if obj.is_instance_of::<PyCapsule>() {
        obj.clone()
    } else {
        obj.call_method0("__arrow_c_schema__").map_err(|e| PyError::argument(format!("__arrow_c_schema__ failed: {e}")))?
    };
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| PyError::argument("expected an \"arrow_schema\" PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(SCHEMA)).map_err(|_| PyError::argument("expected an \"arrow_schema\" PyCapsule"))?;
    // SAFETY: a capsule named "arrow_schema" points to a valid ArrowSchema that the capsule owns
    // and keeps alive for this call; it is only read (converted to a Rust schema), not moved.
    let ffi = unsafe { ptr.cast::<FFI_ArrowSchema>().as_ref() };
    Ok(Schema::try_from(ffi)?)
}
