//! `.npz` bytes (a zip of `.npy` members, stored or deflated), imported as `sheaf convert` does.
//! Must never panic or allocate past the memory limit.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::setup();
    let path = common::as_file(data, "npz");
    common::import(&path, sheaf_convert::Format::Npz);
});
