//! The sheaf side of `bench/suite.py`: reads a `.npy` dataset into memory, prints `ready`, then
//! serves the suite's commands, one a line on stdin, so that the suite can run each sheaf mode
//! beside the contender it is compared with (and `none`'s writes in turn with np.save's): a slow
//! spell of this shared host then falls on both, not on one process's turn.
//! - `write MODE [PATH]` (none, lz4, zstd, auto, smallest): one timed write from the in-memory
//!   columns to PATH (by default `OUT_DIR/MODE.sheaf`); prints its seconds.
//! - `read MODE [PATH]`: full read into memory, open + read one column, a 1% row range, each
//!   timed by the suite's run rule and checked against the input; prints one JSON object (size
//!   and medians) and removes the file.
//!
//! `printf 'write auto\nread auto\n' | cargo run --release -p sheaf-npy --example bench_suite --
//! DATA.npy OUT_DIR RUNS COLUMN` (with `SHEAF_BENCH_TRACE=1`, every run's time on stderr).

use std::time::Instant;

/// See `SLOW_S` in bench/suite.py: an operation whose first timed run takes this long runs once.
const SLOW_S: f64 = 2.0;

/// Whether to time another read after `times`: suite.py's `more_runs` for reads, for every
/// contender alike (the suite itself decides how many writes each contender runs).
fn more_runs(times: &[f64], runs: usize) -> bool {
    if times.first().is_some_and(|&t| t >= SLOW_S) {
        return false;
    }
    times.len() < runs
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

/// The dataset as sheaf writes it: one array of the input's columns.
struct Dataset {
    schema: ArraySchema,
    cols: Vec<AlignedBytes>,
    rows: u64,
    raw: usize,
}

impl Dataset {
    fn write(&self, path: &std::path::Path, codec: Codec) -> Result<(), Box<dyn std::error::Error>> {
        let inputs: Vec<ColumnInput<'_>> = self.cols.iter().map(|c| ColumnInput::bytes(c)).collect();
        sheaf::write_arrays(path, &[(self.schema.clone(), inputs)], &WriteOptions::new().with_codec(codec))?;
        Ok(())
    }
}

fn codec_of(mode: &str) -> Option<Codec> {
    Some(match mode {
        "none" => Codec::None,
        "lz4" => Codec::Lz4,
        "zstd" => Codec::Zstd(3),
        "auto" => Codec::AUTO,
        "smallest" => Codec::Smallest,
        _ => return None,
    })
}

fn trace(what: std::fmt::Arguments<'_>) {
    if std::env::var_os("SHEAF_BENCH_TRACE").is_some() {
        eprintln!("{what}");
    }
}

/// One timed write of `mode` over its previous output (removed first, then `sync`, as the
/// suite does before every contender's write).
fn write_once(d: &Dataset, path: &std::path::Path, mode: &str, codec: Codec) -> Result<f64, Box<dyn std::error::Error>> {
    let _ = std::fs::remove_file(path);
    sync();
    let t = Instant::now();
    d.write(path, codec)?;
    let elapsed = t.elapsed().as_secs_f64();
    trace(format_args!("sheaf {mode}: write {elapsed:.3} s"));
    Ok(elapsed)
}

/// The reads of `mode`'s file, each checked against the input; the file is removed after.
/// Returns one JSON object: size and the medians.
fn reads(d: &Dataset, path: &std::path::Path, mode: &str, runs: usize, one: &str) -> Result<String, Box<dyn std::error::Error>> {
    let label = format!("sheaf {mode}");
    let size = std::fs::metadata(path)?.len();
    // Full read: every column in memory (decoded, or for plain columns mapped views with
    // every page touched), as a user gets them; checked against the input outside the timing.
    // One untimed read first, as for every contender in the suite (see suite.py).
    let mut full = Vec::new();
    let mut run = 0;
    while run == 0 || more_runs(&full, runs) {
        let t = Instant::now();
        let f = File::open(path)?;
        let a = f.single()?;
        let all: Vec<usize> = (0..a.column_descs().len()).collect();
        let data = a.read_columns(&all, 0..a.rows())?;
        let touched: u64 = data.iter().map(|d| d.values.iter().step_by(4096).map(|&b| u64::from(b)).sum::<u64>()).sum();
        std::hint::black_box(touched);
        let elapsed = t.elapsed().as_secs_f64();
        trace(format_args!("{label}: full read {elapsed:.3} s{}", if run == 0 { " (warm-up)" } else { "" }));
        if run > 0 {
            full.push(elapsed);
        }
        for (got, want) in data.iter().zip(&d.cols) {
            if got.values[..] != want[..] {
                return Err(format!("{label}: read differs from the input").into());
            }
        }
        run += 1;
    }
    let mut col = Vec::new();
    while more_runs(&col, runs) {
        let t = Instant::now();
        let f = File::open(path)?;
        let c = f.single()?.column(one)?;
        let values = c.read()?;
        // Touch every value, so a zero-copy view is not timed as free.
        let s: u64 = values.values.iter().step_by(64).map(|&b| u64::from(b)).sum();
        std::hint::black_box(s);
        col.push(t.elapsed().as_secs_f64());
    }
    let (start, end) = (d.rows / 2, d.rows / 2 + d.rows.div_ceil(100));
    let mut range = Vec::new();
    while more_runs(&range, runs) {
        let t = Instant::now();
        let f = File::open(path)?;
        for c in f.single()?.columns()? {
            std::hint::black_box(c.read_rows(start..end)?.values.len());
        }
        range.push(t.elapsed().as_secs_f64());
    }
    std::fs::remove_file(path)?;
    Ok(format!(
        "{{\"contender\": \"{label}\", \"raw_bytes\": {}, \"size\": {size}, \"read_s\": {}, \"col_s\": {}, \"range_s\": {}}}",
        d.raw,
        median(full),
        median(col),
        median(range)
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A tool that reads in a loop turns recycling on, as the CLI does; SHEAF_NO_RECYCLING=1
    // measures the library's default (off).
    sheaf::set_memory_recycling(std::env::var_os("SHEAF_NO_RECYCLING").is_none());
    let args: Vec<String> = std::env::args().collect();
    let [_, npy, out, runs, one] = &args[..] else {
        return Err("usage: bench_suite DATA.npy OUT_DIR RUNS COLUMN (commands on stdin)".into());
    };
    let (out, runs) = (std::path::Path::new(out), runs.parse::<usize>()?);
    let src = NpyFile::open(npy)?;
    let h = src.header();
    let rows = src.rows();
    let cols: Vec<AlignedBytes> = src.columns(0, rows);
    let raw: usize = cols.iter().map(|c| c.len()).sum();
    let d = Dataset { schema: ArraySchema::new("data", h.dtype.clone()).with_shape(h.shape.clone()), cols, rows, raw };
    // One untimed write first: on this VM the first large write of a process ran 3-8x slower
    // than the ones after it (0.8-1.5 s against 0.13-0.2 s for ticks `none`, with
    // SHEAF_BENCH_TRACE), and the first timed write took that alone. The Python contenders run
    // in the suite's long-lived process, which has written files before each of them.
    let warmup = out.join("warmup.sheaf");
    d.write(&warmup, Codec::None)?;
    std::fs::remove_file(&warmup)?;
    println!("ready");
    for line in std::io::stdin().lines() {
        let line = line?;
        let mut words = line.split(' ');
        let (command, mode) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
        let codec = codec_of(mode).ok_or_else(|| format!("unknown mode {mode:?} (none, lz4, zstd, auto, smallest)"))?;
        let path = words.next().map_or_else(|| out.join(format!("{mode}.sheaf")), std::path::PathBuf::from);
        match command {
            "write" => println!("{}", write_once(&d, &path, mode, codec)?),
            "read" => println!("{}", reads(&d, &path, mode, runs, one)?),
            _ => return Err(format!("unknown command {line:?} (write MODE, read MODE)").into()),
        }
    }
    Ok(())
}
