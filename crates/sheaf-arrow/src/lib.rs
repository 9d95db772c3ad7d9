//! # sheaf-arrow: Arrow and Parquet interop for sheaf
//!
//! - [`types`]: the type mapping, both directions (`spec/arrow.md` is its table).
//! - [`columns_from_batch`]: Arrow record batches into sheaf column data.
//! - [`read_record_batch`]: a sheaf array as an Arrow record batch, plain columns without
//!   copying (their buffers point into the file's memory map).
//! - [`formats`]: Arrow IPC (file and stream), Parquet and CSV readers and writers.
//!
//! Depends on the sheaf core and arrow-rs / parquet; contains no `unsafe`.

#![forbid(unsafe_code)]

mod error;
pub mod formats;
mod from_arrow;
mod to_arrow;
pub mod types;

use arrow_array::RecordBatch;
use std::ops::Range;

use arrow_buffer::Buffer;

pub use error::{ArrowInteropError, Result};
pub use from_arrow::columns_from_batch;
pub use to_arrow::{batch_from_leaves, LeafBuffers};

/// Reads rows `rows` of a sheaf array as one Arrow record batch, with only the top-level fields
/// `projection` (indices into the array's fields; `None` for all). Plain single-chunk columns of
/// a mapped file are not copied: their Arrow buffers point into the map and keep it alive, so the
/// batch stays valid after the array and its file are dropped. Others are decoded (in parallel)
/// into memory that Arrow then owns.
///
/// # Errors
/// Decoding errors, a row range or field index out of bounds, and types with no Arrow form.
pub fn read_record_batch(array: &sheaf::Array, projection: Option<&[usize]>, rows: Range<u64>) -> Result<RecordBatch> {
    let full = types::arrow_schema(array.schema())?;
    let (schema, target, leaves) = project(array.schema(), &full, projection)?;
    let n = rows.end.saturating_sub(rows.start);
    let whole = rows.start == 0 && rows.end == array.rows();
    let shared = array.file().contiguous_shared().map(|s| Buffer::from(s.into_bytes()));
    let cols = array.columns_at(&leaves)?;
    // Rows of columns that are all plain (and not inside lists) are a slice of the whole mapped
    // columns: no copy for a part of the file either.
    if !whole && shared.is_some() && rows.end <= array.rows() && !cols.is_empty() && cols.iter().all(|c| c.desc().level == 0 && matches!(c.plain_layout(), Ok(Some(_)))) {
        let batch = read_record_batch(array, projection, 0..array.rows())?;
        return Ok(batch.slice(rows.start as usize, n as usize));
    }
    let mut buffers = Vec::with_capacity(leaves.len());
    let plain: Vec<Option<sheaf::PlainLayout>> = cols.iter().map(|c| if whole && shared.is_some() { c.plain_layout() } else { Ok(None) }).collect::<sheaf::Result<_>>()?;
    let decode: Vec<usize> = leaves.iter().zip(&plain).filter(|(_, p)| p.is_none()).map(|(&i, _)| i).collect();
    let mut decoded = array.read_columns(&decode, rows.clone())?.into_iter();
    for (col, p) in cols.iter().zip(plain) {
        let leaf = match (p, &shared) {
            (Some(p), Some(shared)) if !(col.desc().leaf.ty.is_variable() && p.offsets.is_none() && col.rows() > 0) => {
                let region = |r: Option<(u64, u64)>| r.map(|(o, l)| shared.slice_with_length(o as usize, l as usize));
                LeafBuffers {
                    rows: col.rows() as usize,
                    values: region(p.values).unwrap_or_else(|| Buffer::from_vec(Vec::<u8>::new())),
                    offsets: region(p.offsets).or_else(|| col.desc().leaf.ty.is_variable().then(|| Buffer::from_vec(vec![0u64]))),
                    validity: region(p.validity),
                }
            }
            (Some(_), _) => LeafBuffers::from_data(col.read()?),
            (None, _) => LeafBuffers::from_data(decoded.next().ok_or_else(|| ArrowInteropError::unsupported(col.name(), "column", "missing decoded column"))?),
        };
        buffers.push(leaf);
    }
    batch_from_leaves(&schema, &target, buffers, n as usize)
}

/// The leaf columns (indices into [`sheaf::ArraySchema::columns`]) that hold each top-level field
/// of the array's Arrow form: one range per field of a record array, one range of every column
/// for any other array (its single Arrow field).
#[must_use]
pub fn field_columns(schema: &sheaf::ArraySchema) -> Vec<Range<usize>> {
    #[allow(clippy::single_range_in_vec_init)]
    let sheaf::DType::Struct(st) = &schema.dtype
    else {
        return vec![0..schema.columns().len()];
    };
    let mut at = 0;
    st.fields
        .iter()
        .map(|f| {
            let n = sheaf::ArraySchema::new("", f.dtype.clone()).columns().len();
            at += n;
            at - n..at
        })
        .collect()
}

/// The array schema, Arrow schema and leaf column indices of the top-level fields `projection`.
fn project(schema: &sheaf::ArraySchema, full: &arrow_schema::Schema, projection: Option<&[usize]>) -> Result<(sheaf::ArraySchema, arrow_schema::Schema, Vec<usize>)> {
    let all_leaves = || (0..schema.columns().len()).collect();
    let Some(projection) = projection else { return Ok((schema.clone(), full.clone(), all_leaves())) };
    let sheaf::DType::Struct(st) = &schema.dtype else {
        if projection == [0] {
            return Ok((schema.clone(), full.clone(), all_leaves()));
        }
        return Err(ArrowInteropError::unsupported(&schema.name, "projection", "a plain array has one field, 0"));
    };
    let columns = field_columns(schema);
    let mut fields = Vec::with_capacity(projection.len());
    let mut leaves = Vec::new();
    for &i in projection {
        let f = st.fields.get(i).ok_or_else(|| ArrowInteropError::unsupported(&schema.name, "projection", format!("field {i} of {}", st.fields.len())))?;
        fields.push(f.clone());
        leaves.extend(columns[i].clone());
    }
    let mut pruned = schema.clone();
    pruned.dtype = sheaf::DType::structure(fields);
    let target = full.project(projection)?;
    Ok((pruned, target, leaves))
}
