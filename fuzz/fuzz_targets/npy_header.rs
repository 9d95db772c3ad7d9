//! `.npy` bytes: the Python-literal parser, the header's descr mapping, and a whole file read
//! (header checked against the data, records transposed into columns). Must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sheaf_npy::pyliteral::parse(text);
        let _ = sheaf_npy::dtype_of_descr(text);
    }
    if let Ok(header) = sheaf_npy::NpyHeader::parse(data) {
        let _ = (header.count(), header.itemsize());
    }
    if let Ok(npy) = sheaf_npy::NpyFile::from_vec(data.to_vec()) {
        let rows = npy.rows();
        let _ = npy.columns(0, rows);
        let _ = npy.columns(rows / 2, rows);
    }
});
