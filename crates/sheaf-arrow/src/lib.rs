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
use arrow_buffer::Buffer;

pub use error::{ArrowInteropError, Result};
pub use from_arrow::columns_from_batch;
pub use to_arrow::{batch_from_leaves, LeafBuffers};

/// Reads rows `start..end` of a sheaf array as one Arrow record batch. Columns stored plain in one
/// chunk are not copied: their Arrow buffers point into the file's memory map. Others are decoded
/// (in parallel) into memory that Arrow then owns.
///
/// # Errors
/// Decoding errors and types with no Arrow form.
pub fn read_record_batch(array: &sheaf::Array<'_>, file: &sheaf::File) -> Result<RecordBatch> {
    let schema = array.schema();
    let target = types::arrow_schema(schema)?;
    let shared = Buffer::from(bytes::Bytes::from_owner(file.shared_bytes()));
    let mut leaves = Vec::new();
    for col in array.columns()? {
        let region = |r: Option<(u64, u64)>| r.map(|(o, l)| shared.slice_with_length(o as usize, l as usize));
        let leaf = match col.plain_layout()? {
            Some(p) if !(col.desc().leaf.ty.is_variable() && p.offsets.is_none() && col.rows() > 0) => LeafBuffers {
                rows: col.rows() as usize,
                values: region(p.values).unwrap_or_else(|| Buffer::from_vec(Vec::<u8>::new())),
                offsets: region(p.offsets).or_else(|| col.desc().leaf.ty.is_variable().then(|| Buffer::from_vec(vec![0u64]))),
                validity: region(p.validity),
            },
            _ => LeafBuffers::from_data(col.read()?),
        };
        leaves.push(leaf);
    }
    batch_from_leaves(schema, &target, leaves, array.rows() as usize)
}
