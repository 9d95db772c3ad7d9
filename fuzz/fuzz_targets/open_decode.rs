//! Open arbitrary bytes as a sheaf file, then verify and decode everything: must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(file) = sheaf::File::from_bytes(data) else { return };
    let _ = file.verify();
    for array in file.arrays() {
        for i in 0..array.column_descs().len() {
            if let Ok(col) = array.column_at(i) {
                let _ = col.read();
                let _ = col.read_rows(col.rows() / 2..col.rows());
                for k in 0..col.chunks().len() {
                    let _ = col.read_chunk(k);
                }
            }
        }
    }
});
