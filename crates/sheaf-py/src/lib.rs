//! # sheaf-py: the `sheaf._sheaf` extension module
//!
//! The Rust half of the Python package `sheaf` (its Pythonic API is `python/sheaf/__init__.py`,
//! which users import; this module's names are private to it):
//!
//! - [`reader`]: an open file and its arrays; columns as buffers (plain ones are views of the
//!   memory map that stay valid after the file is closed), records assembled into NumPy memory
//!   in parallel with the GIL released, Arrow C streams out.
//! - [`writer`]: NumPy records and Arrow streams into files, whole or batch by batch, atomically.
//! - [`dataset`]: a directory or glob of sheaf files as one table, its rows as Arrow streams.
//! - [`buffer`]: the buffer protocol both ways. [`arrow`]: the Arrow PyCapsule interface.
//! - [`error`]: `sheaf.SheafError` (a `ValueError` with a `kind`) and `OSError`s.
//!
//! NumPy dtypes cross as `descr` text (what `numpy.lib.format.dtype_to_descr` gives and
//! `descr_to_dtype` takes), mapped exactly by sheaf-npy as for `.npy` files. No global allocator
//! is set: the host's allocator serves every buffer handed to Python.

mod arrow;
mod buffer;
mod dataset;
mod error;
mod reader;
mod writer;

use pyo3::prelude::*;

/// What `sheaf inspect --json` prints for the file at `path` (any readable format), as JSON
/// text, with per column the bytes a load maps (`mapped_bytes`) and decodes (`decoded_bytes`).
#[pyfunction]
#[pyo3(signature = (path, stats = true))]
fn info_json(py: Python<'_>, path: std::path::PathBuf, stats: bool) -> error::Result<String> {
    let doc = match path.to_str().filter(|t| sheaf_remote::is_url(t)) {
        Some(url) => py.detach(|| -> error::Result<_> { Ok(sheaf_convert::describe_file(&sheaf_remote::open_file(url)?, stats)?) })?,
        None => py.detach(|| sheaf_convert::describe(&path, stats))?,
    };
    Ok(doc.to_string())
}

/// Turns on (or off) the reuse of freed decode memory across reads (off by default; see
/// `sheaf::set_memory_recycling`).
#[pyfunction]
fn set_memory_recycling(enabled: bool) {
    sheaf::set_memory_recycling(enabled);
}

#[pymodule]
fn _sheaf(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SheafError", m.py().get_type::<error::SheafError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<buffer::Buffer>()?;
    m.add_class::<reader::RawFile>()?;
    m.add_class::<reader::RawArray>()?;
    m.add_class::<writer::RawWriter>()?;
    m.add_class::<dataset::RawDataset>()?;
    m.add_function(wrap_pyfunction!(dataset::open_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(reader::open_file, m)?)?;
    m.add_function(wrap_pyfunction!(writer::save_records, m)?)?;
    m.add_function(wrap_pyfunction!(writer::save_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(info_json, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_recycling, m)?)?;
    Ok(())
}
