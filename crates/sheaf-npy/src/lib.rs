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
pub use header::{descr_of, dtype_of_descr, NpyHeader, MAGIC};
pub use npy::{NpyFile, NpyWriter};
pub use npz::{read_npz, NpzWriter};
