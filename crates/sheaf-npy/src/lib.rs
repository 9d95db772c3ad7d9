//! # sheaf-npy: NumPy `.npy` / `.npz` for sheaf, exactly
//!
//! - [`NpyFile`]: a `.npy` read through a memory map, header checked against the file.
//! - [`NpyHeader`]: the header, with NumPy's `descr` mapped to and from [`sheaf::DType`]
//!   (byte order, padding and offsets, titles, subarrays, nesting; object arrays refused).
//! - [`layout`]: parallel transposition between NumPy records and sheaf columns.
//! - [`NpyWriter`], [`read_npz`], [`NpzWriter`]: atomic writers and `.npz` archives.
//!
//! Depends on the sheaf core only; no Arrow. Contains no `unsafe` (mapping goes through
//! [`sheaf::MappedFile`]).

#![forbid(unsafe_code)]

mod error;
mod header;
pub mod layout;
mod npy;
mod npz;
pub mod pyliteral;

pub use error::{NpyError, Result};

/// Array metadata key holding a `.npy` header's `descr` (Python literal text) where it differs
/// from the one NumPy writes for the same dtype (`'<V2'` for `'|V2'`, `'float64'` for `'<f8'`),
/// so that converting back writes the header's own words.
pub const NUMPY_DESCR: &str = "numpy:descr";

/// The `descr` to write for `dtype`, given an array's metadata: its [`NUMPY_DESCR`] when that
/// still describes `dtype` (no column was selected away or narrowed since), else NumPy's own.
///
/// # Errors
/// Dtypes NumPy cannot hold.
pub fn descr_for(dtype: &sheaf::DType, metadata: &std::collections::BTreeMap<String, String>) -> Result<String> {
    match metadata.get(NUMPY_DESCR) {
        Some(kept) if dtype_of_descr(kept).is_ok_and(|d| d == *dtype) => Ok(kept.clone()),
        _ => descr_of(dtype),
    }
}
pub use header::{descr_of, dtype_of_descr, NpyHeader, MAGIC};
pub use npy::{NpyFile, NpyWriter};
pub use npz::{read_npz, NpzWriter};
