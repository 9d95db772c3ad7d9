//! The sheaf side of `bench/suite.py`: reads a `.npy` dataset, then for each sheaf mode times
//! write (from in-memory columns), full read into memory, open + read one column, and a 1% row
//! range, checking every read against the input; prints one JSON object per mode.
//!
//! `cargo run --release -p sheaf-npy --example bench_suite -- DATA.npy OUT_DIR RUNS COLUMN`

use std::time::Instant;

/// See `WRITE_BUDGET_S` in bench/suite.py.
const WRITE_BUDGET_S: f64 = 2.0;
/// See `SLOW_S` in bench/suite.py: an operation whose first timed run takes this long runs once.
const SLOW_S: f64 = 2.0;

/// Whether to time another run after `times`: suite.py's `more_runs`, for every contender alike.
fn more_runs(times: &[f64], runs: usize, budget: f64) -> bool {
    if times.first().is_some_and(|&t| t >= SLOW_S) {
        return false;
    }
    times.len() < runs || (times.iter().sum::<f64>() < budget && times.len() < 3 * runs)
}

// The allocator a sheaf-based tool would use (the CLI does): decoded columns reuse warm memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use sheaf::{AlignedBytes, ArraySchema, Codec, ColumnInput, File, WriteOptions};
use sheaf_npy::NpyFile;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sync() {
    let _ = std::process::Command::new("sync").status();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (npy, out, runs, one) = (&args[1], std::path::Path::new(&args[2]), args[3].parse::<usize>()?, &args[4]);
    let src = NpyFile::open(npy)?;
    let h = src.header();
    let rows = src.rows();
    let cols: Vec<AlignedBytes> = src.columns(0, rows);
    let raw: usize = cols.iter().map(|c| c.len()).sum();
    let schema = ArraySchema::new("data", h.dtype.clone()).with_shape(h.shape.clone());
    let modes = [("sheaf none", Codec::None), ("sheaf lz4", Codec::Lz4), ("sheaf zstd", Codec::Zstd(3)), ("sheaf auto", Codec::AUTO), ("sheaf smallest", Codec::Smallest)];
    // `SHEAF_BENCH_MODES=auto,none` runs only those modes (for profiling one of them).
    let only = std::env::var("SHEAF_BENCH_MODES").ok();
    let wanted = |label: &str| only.as_deref().is_none_or(|o| o.split(',').any(|m| label == format!("sheaf {m}")));
    // One untimed write first: on this VM the first large write of a process ran 3-8x slower
    // than the ones after it (0.8-1.5 s against 0.13-0.2 s for ticks `none`, with
    // SHEAF_BENCH_TRACE), and `none`, the first mode, took that alone. The Python contenders run
    // in the suite's long-lived process, which has written files before each of them.
    {
        let path = out.join("warmup.sheaf");
        let inputs: Vec<ColumnInput<'_>> = cols.iter().map(|c| ColumnInput::bytes(c)).collect();
        sheaf::write_arrays(&path, &[(schema.clone(), inputs)], &WriteOptions::new().with_codec(Codec::None))?;
        std::fs::remove_file(&path)?;
    }
    for (label, codec) in modes.into_iter().filter(|(l, _)| wanted(l)) {
        let path = out.join("bench.sheaf");
        let inputs: Vec<ColumnInput<'_>> = cols.iter().map(|c| ColumnInput::bytes(c)).collect();
        let mut w: Vec<f64> = Vec::new();
        // At least `runs` writes, then more while they took under WRITE_BUDGET_S, up to 3x
        // `runs`: suite.py's rule for every contender's writes.
        while more_runs(&w, runs, WRITE_BUDGET_S) {
            let _ = std::fs::remove_file(&path);
            sync();
            let t = Instant::now();
            sheaf::write_arrays(&path, &[(schema.clone(), inputs.clone())], &WriteOptions::new().with_codec(codec))?;
            w.push(t.elapsed().as_secs_f64());
            if std::env::var_os("SHEAF_BENCH_TRACE").is_some() {
                eprintln!("{label}: write {:.3} s", w[w.len() - 1]);
            }
        }
        let size = std::fs::metadata(&path)?.len();
        // Full read: every column in memory (decoded, or for plain columns mapped views with
        // every page touched), as a user gets them; checked against the input outside the timing.
        // One untimed read first, as for every contender in the suite (see suite.py).
        let mut full = Vec::new();
        let mut run = 0;
        while run == 0 || more_runs(&full, runs, 0.0) {
            let t = Instant::now();
            let f = File::open(&path)?;
            let a = f.single()?;
            let all: Vec<usize> = (0..a.column_descs().len()).collect();
            let data = a.read_columns(&all, 0..a.rows())?;
            let touched: u64 = data.iter().map(|d| d.values.iter().step_by(4096).map(|&b| u64::from(b)).sum::<u64>()).sum();
            std::hint::black_box(touched);
            let elapsed = t.elapsed().as_secs_f64();
            if std::env::var_os("SHEAF_BENCH_TRACE").is_some() {
                eprintln!("{label}: full read {elapsed:.3} s{}", if run == 0 { " (warm-up)" } else { "" });
            }
            if run > 0 {
                full.push(elapsed);
            }
            for (d, c) in data.iter().zip(&cols) {
                assert!(d.values[..] == c[..], "{label}: read differs");
            }
            run += 1;
        }
        let mut col = Vec::new();
        while more_runs(&col, runs, 0.0) {
            let t = Instant::now();
            let f = File::open(&path)?;
            let c = f.single()?.column(one)?;
            let d = c.read()?;
            // Touch every value, so a zero-copy view is not timed as free.
            let s: u64 = d.values.iter().step_by(64).map(|&b| u64::from(b)).sum();
            std::hint::black_box(s);
            col.push(t.elapsed().as_secs_f64());
        }
        let (start, end) = (rows / 2, rows / 2 + rows.div_ceil(100));
        let mut range = Vec::new();
        while more_runs(&range, runs, 0.0) {
            let t = Instant::now();
            let f = File::open(&path)?;
            for c in f.single()?.columns()? {
                std::hint::black_box(c.read_rows(start..end)?.values.len());
            }
            range.push(t.elapsed().as_secs_f64());
        }
        println!(
            "{{\"contender\": \"{label}\", \"raw_bytes\": {raw}, \"size\": {size}, \"write_s\": {}, \"read_s\": {}, \"col_s\": {}, \"range_s\": {}}}",
            median(w),
            median(full),
            median(col),
            median(range)
        );
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
