//! Arrow IPC bytes, as a file and as a stream (both byte orders), imported as `sheaf convert`
//! does. Must never panic or allocate past the memory limit.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::setup();
    let path = common::as_file(data, "arrow");
    common::import(&path, sheaf_convert::Format::Arrow);
    common::import(&path, sheaf_convert::Format::Arrows);
});
