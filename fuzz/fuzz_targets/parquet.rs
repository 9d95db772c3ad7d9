//! Parquet bytes, imported as `sheaf convert` does. Must never panic or allocate past the memory
//! limit.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::setup();
    let path = common::as_file(data, "parquet");
    common::import(&path, sheaf_convert::Format::Parquet);
});
