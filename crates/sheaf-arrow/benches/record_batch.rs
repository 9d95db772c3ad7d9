//! Opening a plain sheaf file as an Arrow record batch is O(1): the arrays point into the memory
//! map. `cargo bench -p sheaf-arrow --bench record_batch [-- --quick]` times open + batch for a
//! 10 MB and a 1 GB file (median and max of 21 runs).

// A benchmark stops at its first failure, with the message.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Field, LeafType, WriteOptions};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!("| file | open + read_record_batch median | max |\n|---|---:|---:|");
    for (label, rows) in [("10 MB", 625_000usize), (if quick { "200 MB" } else { "1 GB" }, if quick { 12_500_000 } else { 62_500_000 })] {
        let a: Vec<i64> = (0..rows as i64).collect();
        let b: Vec<f64> = (0..rows).map(|i| i as f64 * 0.5).collect();
        let path = dir.path().join(format!("{rows}.sheaf"));
        let dtype = DType::structure(vec![Field::new("a", DType::leaf(LeafType::Int(8))), Field::new("b", DType::leaf(LeafType::Float(8)))]);
        sheaf::write_arrays(&path, &[(ArraySchema::new("t", dtype), vec![ColumnInput::fixed(&a), ColumnInput::fixed(&b)])], &WriteOptions::new().with_codec(Codec::None)).unwrap();
        drop((a, b));
        let mut times: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                let f = sheaf::File::open(&path).unwrap();
                let batch = {
                    let a = f.single().unwrap();
                    sheaf_arrow::read_record_batch(&a, None, 0..a.rows()).unwrap()
                };
                assert_eq!(batch.num_rows(), rows);
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("| {label} | {:.1} us | {:.1} us |", times[10], times[20]);
    }
}
