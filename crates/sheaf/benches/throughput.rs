//! Throughput benchmark of the core crate: write and read speed per codec, open + first
//! zero-copy column at two file sizes, `auto` against plain zstd-3 on four typical columns, decode
//! scaling with threads, and the row-group size sweep behind `DEFAULT_ROW_GROUP_ROWS`.
//!
//! `cargo bench -p sheaf --bench throughput [-- --quick]`. Every figure is the median of several
//! runs. Read figures decode into memory that is reused across runs (warm), unless marked cold.

// A benchmark stops at its first failure, with the message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use sheaf::{ArraySchema, Codec, ColumnInput, DType, File, LeafType, WriteOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn normal(&mut self) -> f64 {
        // Sum of uniforms: cheap, roughly normal, deterministic.
        (0..4).map(|_| (self.next() >> 11) as f64 / (1u64 << 53) as f64).sum::<f64>() - 2.0
    }
}

/// The four columns of the issue: (i) sequential int64 ids, (ii) float64 random walk,
/// (iii) small-range int32, (iv) nanosecond timestamps with jitter.
fn datasets(n: usize) -> Vec<(&'static str, LeafType, Vec<u8>)> {
    let mut r = Rng(0x5EED);
    let ids: Vec<u8> = (0..n as i64).flat_map(|i| (1_000_000 + i).to_le_bytes()).collect();
    let mut x = 100.0f64;
    let walk: Vec<u8> = (0..n)
        .flat_map(|_| {
            x += r.normal() * 0.01;
            x.to_le_bytes()
        })
        .collect();
    let small: Vec<u8> = (0..n).flat_map(|_| ((r.next() % 1000) as i32).to_le_bytes()).collect();
    let mut t = 1_700_000_000_000_000_000i64;
    let ts: Vec<u8> = (0..n)
        .flat_map(|_| {
            t += 1_000_000 + (r.next() % 2000) as i64 - 1000;
            t.to_le_bytes()
        })
        .collect();
    vec![
        ("(i) int64 ids", LeafType::Int(8), ids),
        ("(ii) f64 random walk", LeafType::Float(8), walk),
        ("(iii) int32 0..999", LeafType::Int(4), small),
        ("(iv) ns timestamps", LeafType::Datetime(sheaf::TimeUnit::Nano, 1), ts),
    ]
}

fn write(path: &Path, ty: LeafType, bytes: &[u8], codec: Codec, group: u64) {
    let schema = ArraySchema::new("x", DType::leaf(ty));
    sheaf::write_arrays(path, &[(schema, vec![ColumnInput::bytes(bytes)])], &WriteOptions::new().with_codec(codec).with_row_group_rows(group)).unwrap();
}

/// Decodes the file's one column into `out` (warm: the caller reuses `out`).
fn decode_into(f: &File, out: &mut [u8]) {
    let c = f.single().unwrap().column("").unwrap();
    c.read_values_into(out).unwrap();
}

fn main() {
    sheaf::set_memory_recycling(std::env::var_os("SHEAF_NO_RECYCLING").is_none());
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 2_000_000 } else { 16_000_000 };
    let runs = if quick { 3 } else { 5 };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!("sheaf core benchmark: {n} values per column, median of {runs} runs, {} threads\n", rayon::current_num_threads());

    println!("## auto vs zstd-3 (size, and decode GB/s of decoded bytes, 2 threads)\n");
    println!("| column | raw MB | zstd-3 MB | auto MB | auto/zstd | auto pipeline | zstd-3 decode | auto decode | auto decode 1 thread |");
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|");
    let sets = datasets(n);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for (name, ty, bytes) in &sets {
        let z = dir.path().join("z.sheaf");
        let a = dir.path().join("a.sheaf");
        write(&z, *ty, bytes, Codec::Zstd(3), sheaf::DEFAULT_ROW_GROUP_ROWS);
        write(&a, *ty, bytes, Codec::AUTO, sheaf::DEFAULT_ROW_GROUP_ROWS);
        let zs = std::fs::metadata(&z).unwrap().len();
        let asz = std::fs::metadata(&a).unwrap().len();
        let enc = File::open(&a).unwrap().single().unwrap().column("").unwrap().encoding();
        let (fz, fa) = (File::open(&z).unwrap(), File::open(&a).unwrap());
        let mut out = vec![0u8; bytes.len()];
        let dz = time(runs, || decode_into(&fz, &mut out));
        let da = time(runs, || decode_into(&fa, &mut out));
        let da1 = one.install(|| time(runs, || decode_into(&fa, &mut out)));
        assert_eq!(&out, bytes);
        println!(
            "| {name} | {:.1} | {:.2} | {:.2} | {:.3} | {enc} | {:.2} GB/s | {:.2} GB/s | {:.2} GB/s |",
            bytes.len() as f64 / 1e6,
            zs as f64 / 1e6,
            asz as f64 / 1e6,
            asz as f64 / zs as f64,
            gbps(bytes.len(), dz),
            gbps(bytes.len(), da),
            gbps(bytes.len(), da1)
        );
    }

    // A mixed table (all four columns) for write/read throughput per codec.
    println!("\n## write and read throughput, 4 columns x {n} rows ({} MB raw)\n", sets.iter().map(|s| s.2.len()).sum::<usize>() / 1_000_000);
    let dtype = DType::structure(sets.iter().enumerate().map(|(i, (_, ty, _))| sheaf::Field::new(format!("c{i}"), DType::leaf(*ty))).collect());
    let raw: usize = sets.iter().map(|s| s.2.len()).sum();
    println!("| codec | file MB | write GB/s | read warm GB/s | read cold GB/s |");
    println!("|---|---:|---:|---:|---:|");
    for (label, codec) in [("none", Codec::None), ("zstd-3", Codec::Zstd(3)), ("lz4", Codec::Lz4), ("auto", Codec::AUTO)] {
        let p = dir.path().join(format!("m-{label}.sheaf"));
        let inputs: Vec<ColumnInput<'_>> = sets.iter().map(|s| ColumnInput::bytes(&s.2)).collect();
        let schema = ArraySchema::new("m", dtype.clone());
        let w = time(runs, || sheaf::write_arrays(&p, &[(schema.clone(), inputs.clone())], &WriteOptions::new().with_codec(codec)).unwrap());
        let f = File::open(&p).unwrap();
        let cols = f.single().unwrap().columns().unwrap();
        let mut outs: Vec<Vec<u8>> = sets.iter().map(|s| vec![0u8; s.2.len()]).collect();
        // Warm: decode (or, for plain columns, checksum and copy) into reused memory.
        let warm = time(runs, || cols.iter().zip(outs.iter_mut()).for_each(|(c, o)| c.read_values_into(o).unwrap()));
        // Cold: a fresh allocation per read (plain columns are zero-copy views here).
        let cold = time(runs, || cols.iter().map(|c| c.read().unwrap().values.len()).sum::<usize>());
        let cold = if codec == Codec::None { "zero-copy".to_string() } else { format!("{:.2}", gbps(raw, cold)) };
        println!("| {label} | {:.1} | {:.2} | {:.2} | {cold} |", std::fs::metadata(&p).unwrap().len() as f64 / 1e6, gbps(raw, w), gbps(raw, warm));
    }

    println!("\n## writing `none` from memory vs cp of a file of the same size\n");
    let big = if quick { 200_000_000 } else { 1_000_000_000 };
    let data: Vec<u8> = (0..big).map(|i| (i * 31 % 251) as u8).collect();
    let p = dir.path().join("big.sheaf");
    let copy = dir.path().join("copy.sheaf");
    let raw_out = dir.path().join("raw.bin");
    // Interleaved, each from a clean page cache (`sync` first, outside the timing), so that
    // writeback of an earlier run does not land on a later one.
    let sync = || assert!(std::process::Command::new("sync").status().unwrap().success());
    let (mut ws, mut cps, mut fws) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let _ = std::fs::remove_file(&p);
        sync();
        ws.push(time(1, || write(&p, LeafType::UInt(1), &data, Codec::None, sheaf::DEFAULT_ROW_GROUP_ROWS)));
        let _ = std::fs::remove_file(&copy);
        sync();
        cps.push(time(1, || assert!(std::process::Command::new("cp").arg(&p).arg(&copy).status().unwrap().success())));
        let _ = std::fs::remove_file(&raw_out);
        sync();
        fws.push(time(1, || std::fs::write(&raw_out, &data).unwrap()));
    }
    let (w, cp, fw) = (median(ws), median(cps), median(fws));
    println!("| | MB | time | GB/s |\n|---|---:|---:|---:|");
    println!("| sheaf write none (from memory) | {} | {:.3} s | {:.2} |", big / 1_000_000, w.as_secs_f64(), gbps(big, w));
    println!("| cp of the sheaf file | {} | {:.3} s | {:.2} |", big / 1_000_000, cp.as_secs_f64(), gbps(big, cp));
    println!("| std::fs::write of the same bytes | {} | {:.3} s | {:.2} |", big / 1_000_000, fw.as_secs_f64(), gbps(big, fw));
    println!("| sheaf throughput / cp throughput | | | {:.2} |", cp.as_secs_f64() / w.as_secs_f64());

    println!("\n## open + first zero-copy column (mapped)\n");
    let small_p = dir.path().join("small.sheaf");
    write(&small_p, LeafType::UInt(1), &data[..10_000_000], Codec::None, sheaf::DEFAULT_ROW_GROUP_ROWS);
    println!("| file | open + as_slice median | max of runs |\n|---|---:|---:|");
    for (label, path) in [("10 MB", &small_p), (if quick { "200 MB" } else { "1 GB" }, &p)] {
        let mut times: Vec<Duration> = (0..21)
            .map(|_| {
                let t = Instant::now();
                let f = File::open(path).unwrap();
                let col = f.single().unwrap().column("").unwrap();
                let s: &[u8] = col.as_slice().unwrap();
                black_box(s[s.len() / 2]);
                t.elapsed()
            })
            .collect();
        times.sort();
        println!("| {label} | {:.1} us | {:.1} us |", times[10].as_secs_f64() * 1e6, times[20].as_secs_f64() * 1e6);
    }

    println!("\n## row-group size sweep (auto, the four columns): file size and warm decode GB/s\n");
    println!("| rows per group | file MB | decode GB/s |\n|---:|---:|---:|");
    for group in [65_536u64, 262_144, 1 << 20, 4 << 20] {
        let p = dir.path().join(format!("g{group}.sheaf"));
        let inputs: Vec<ColumnInput<'_>> = sets.iter().map(|s| ColumnInput::bytes(&s.2)).collect();
        sheaf::write_arrays(&p, &[(ArraySchema::new("m", dtype.clone()), inputs)], &WriteOptions::new().with_row_group_rows(group)).unwrap();
        let f = File::open(&p).unwrap();
        let cols = f.single().unwrap().columns().unwrap();
        let mut outs: Vec<Vec<u8>> = sets.iter().map(|s| vec![0u8; s.2.len()]).collect();
        let r = time(runs, || cols.iter().zip(outs.iter_mut()).for_each(|(c, o)| c.read_values_into(o).unwrap()));
        println!("| {group} | {:.2} | {:.2} |", std::fs::metadata(&p).unwrap().len() as f64 / 1e6, gbps(raw, r));
    }
}
