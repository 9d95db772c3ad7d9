//! Bytes crossing the language boundary without a copy: [`Buffer`] hands Rust-owned bytes (a
//! slice of a file's memory map, or decoded memory) to Python through the buffer protocol,
//! read-only, keeping their owner alive as long as any NumPy view of them lives; [`borrow_bytes`]
//! and [`borrow_bytes_mut`] lend a Python buffer's bytes to Rust for the length of a call.

use std::ffi::c_int;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;

use crate::error::PyError;

/// Read-only bytes owned by Rust (a slice of a memory map or decoded memory), exported through
/// the buffer protocol: `numpy.frombuffer(buf, dtype)` views them without a copy, and the view's
/// `.base` keeps them alive after the file is closed.
#[pyclass(frozen, module = "sheaf._sheaf", name = "Buffer")]
pub(crate) struct Buffer {
    pub(crate) bytes: sheaf::SharedSlice,
    /// Whether the bytes are a view of a file's map (not decoded).
    pub(crate) mapped: bool,
}

#[pymethods]
impl Buffer {
    /// Fills `view` for a read-only, one-dimensional byte buffer over these bytes.
    ///
    /// # Safety
    /// Called by CPython with a valid `Py_buffer` to fill.
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut pyo3::ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let data: &[u8] = &slf.get().bytes;
        let len = isize::try_from(data.len()).map_err(|_| PyBufferError::new_err("buffer too large"))?;
        // SAFETY: `view` is CPython's to fill (the protocol's contract); `PyBuffer_FillInfo` takes a
        // new reference to `slf`, which owns `data`, so the pointer stays valid until the view is
        // released; readonly = 1 makes it refuse writable requests (it sets the Python error and
        // returns -1), and the pointer is never written through.
        let rc = unsafe { pyo3::ffi::PyBuffer_FillInfo(view, slf.as_ptr(), data.as_ptr().cast_mut().cast(), len, 1, flags) };
        if rc != 0 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    /// Bytes held.
    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    /// Whether these bytes are a view of a file's memory map (not a decoded copy).
    #[getter]
    fn mapped(&self) -> bool {
        self.mapped
    }

    /// The address of the first byte (for tests of zero-copy: a view of a map lies inside it).
    #[getter]
    fn address(&self) -> usize {
        self.bytes.as_ptr() as usize
    }
}

impl Buffer {
    /// A buffer over `bytes`.
    pub(crate) fn new(bytes: sheaf::SharedSlice, mapped: bool) -> Self {
        Buffer { bytes, mapped }
    }
}

/// A Python object's bytes (anything with the buffer protocol, C-contiguous, one byte per item:
/// a `numpy.uint8` view) lent to Rust.
pub(crate) struct Lent {
    buffer: PyBuffer<u8>,
}

impl Lent {
    /// The bytes.
    ///
    /// The caller of the binding must not resize or write the object while the call runs (as
    /// with `numpy.save`); the call holds the buffer, so its memory stays allocated.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self.buffer.as_slice_ptr() {
            // SAFETY: the exporter guarantees `len_bytes` readable bytes at `buf_ptr` while the
            // buffer is held (self owns it); the pointer comes from a C-contiguous buffer of u8
            // items (checked in `borrow_bytes`), and nothing in this crate writes through it.
            Some(p) => unsafe { p.as_ref() },
            None => &[],
        }
    }

    /// The bytes, writable (the buffer was checked writable).
    ///
    /// The caller of the binding hands over a freshly made array that nothing else uses while
    /// the call runs.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn bytes_mut(&self) -> &mut [u8] {
        match self.buffer.as_slice_ptr() {
            // SAFETY: as in `bytes`; the exporter granted a writable buffer (checked in
            // `borrow_bytes_mut`), and the Python layer passes only arrays it has just allocated
            // and not yet returned, so no other reference to these bytes exists during the call.
            Some(p) => unsafe { &mut *p.as_ptr() },
            None => &mut [],
        }
    }
}

/// `obj`'s bytes lent read-only (C-contiguous `uint8` items).
pub(crate) fn borrow_bytes(obj: &Bound<'_, PyAny>) -> Result<Lent, PyError> {
    let buffer = PyBuffer::<u8>::get(obj).map_err(|e| PyError::argument(format!("expected a contiguous byte buffer: {e}")))?;
    if !buffer.is_c_contiguous() {
        return Err(PyError::argument("expected a C-contiguous buffer"));
    }
    Ok(Lent { buffer })
}

/// `obj`'s bytes lent writable.
pub(crate) fn borrow_bytes_mut(obj: &Bound<'_, PyAny>) -> Result<Lent, PyError> {
    let lent = borrow_bytes(obj)?;
    if lent.buffer.readonly() {
        return Err(PyError::argument("expected a writable buffer"));
    }
    Ok(lent)
}
