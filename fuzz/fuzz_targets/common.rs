//! What the import targets share: the input written to a file in memory-backed storage (the
//! importers read paths, as the CLI does), and every array's every column read through
//! `sheaf_convert::Source`, the path `sheaf convert` takes.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

static SETUP: Once = Once::new();

/// Caps what a declared size may make the readers allocate, so that a bomb the checks miss shows
/// up as libFuzzer's out-of-memory crash instead of passing; silences the panic hook, since the
/// foreign readers' panics are caught and turned into errors (an uncaught one still aborts).
pub fn setup() {
    SETUP.call_once(|| {
        sheaf::set_memory_limit(256 << 20);
        std::panic::set_hook(Box::new(|_| {}));
    });
}

/// `data` as a file named `*.{ext}` (one per process, rewritten each run).
pub fn as_file(data: &[u8], ext: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let path = dir.join(format!("sheaf-fuzz-{}.{ext}", std::process::id()));
    let mut f = std::fs::File::create(&path).expect("temporary file");
    f.write_all(data).expect("temporary file");
    path
}

/// Opens `path` as `format` and reads every column of every array, all rows, as convert does.
pub fn import(path: &std::path::Path, format: sheaf_convert::Format) {
    for skip in [false, true] {
        let Ok(source) = sheaf_convert::Source::open_skipping(path, format, &Default::default(), skip) else { continue };
        let Ok(arrays) = source.arrays(&[]) else { continue };
        for array in &arrays {
            let which: Vec<usize> = (0..array.schema.columns().len()).collect();
            for batch in array.batches(&which, 0, array.rows, 1 << 16) {
                if batch.is_err() {
                    break;
                }
            }
        }
    }
}
