//! Golden v1 files: written once by `make_golden_files` (run by hand, see
//! `tests/data/golden/v1/README.md`), committed, never changed. Every reader change must keep
//! reading them to the same values, recomputed here from the formulas that made them.

use sheaf::{ArraySchema, Codec, DType, Field, File, Leaf, LeafType, TimeUnit, WriteOptions};

use crate::util::data::{assert_rows, Owned};
use crate::util::repo_root;

const ROWS: u64 = 5000;
const CODECS: [(&str, Codec); 4] = [("none", Codec::None), ("zstd", Codec::Zstd(3)), ("lz4", Codec::Lz4), ("auto", Codec::Auto(3))];

fn schema() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("id", leaf(LeafType::Int(8))),
            Field::new("pos", DType::subarray(leaf(LeafType::Float(4)), vec![3])),
            Field::new("t", leaf(LeafType::Datetime(TimeUnit::Nano, 1))),
            Field::new("sym", leaf(LeafType::Bytes(4))),
            Field::new("flag", leaf(LeafType::Bool)),
            Field::new("score", DType::Leaf(Leaf::new(LeafType::Float(8)).with_nullable(true))),
            Field::new("label", leaf(LeafType::Utf8)),
        ]),
    )
}

/// The formulas: row `i` of each column.
fn data() -> Vec<Owned> {
    let n = ROWS;
    let fixed = |f: &dyn Fn(u64) -> Vec<u8>| Owned { values: (0..n).flat_map(f).collect(), offsets: None, validity: None, rows: n };
    let mut cols = vec![
        fixed(&|i| (i as i64 * 7 - 1000).to_le_bytes().to_vec()),
        fixed(&|i| (0..3).flat_map(|k| ((i * 3 + k) as f32 * 0.25).to_le_bytes()).collect()),
        fixed(&|i| (1_700_000_000_000_000_000i64 + i as i64 * 1_000_003).to_le_bytes().to_vec()),
        fixed(&|i| [b"AAPL", b"MSFT", b"GOOG"][(i % 3) as usize].to_vec()),
        fixed(&|i| vec![u8::from(i % 5 == 0)]),
        fixed(&|i| (i as f64).sqrt().to_le_bytes().to_vec()),
    ];
    cols[5].validity = Some((0..n.div_ceil(8)).map(|k| if k % 4 == 0 { 0b1010_1010 } else { 0xFF }).collect());
    let mut offsets = vec![0u64];
    let mut text = Vec::new();
    for i in 0..n {
        text.extend_from_slice(format!("label-{}", i % 17).as_bytes());
        offsets.push(text.len() as u64);
    }
    cols.push(Owned { values: text, offsets: Some(offsets), validity: None, rows: n });
    cols
}

fn golden_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1")
}

#[test]
#[ignore = "writes the golden files; run once by hand, never again for v1"]
fn make_golden_files() {
    let data = data();
    for (name, codec) in CODECS {
        let path = golden_dir().join(format!("{name}.sheaf"));
        assert!(!path.exists(), "{} exists: golden files never change", path.display());
        let inputs = data.iter().map(Owned::input).collect();
        sheaf::write_arrays(&path, &[(schema(), inputs)], &WriteOptions::new().with_codec(codec).with_row_group_rows(2000)).unwrap();
    }
}

#[test]
fn golden_v1_files_read_as_written() {
    let data = data();
    for (name, codec) in CODECS {
        let path = golden_dir().join(format!("{name}.sheaf"));
        let file = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.version(), (1, 0));
        file.verify().unwrap();
        let array = file.single().unwrap();
        assert_eq!(array.schema().dtype, schema().dtype, "{name}");
        for (i, (desc, want)) in array.column_descs().iter().zip(&data).enumerate() {
            let col = array.column_at(i).unwrap();
            let got = col.read().unwrap();
            assert_eq!(got.rows, want.rows, "{name}");
            assert_rows(desc, want, &got, 0);
        }
        let id = array.column("id").unwrap();
        assert_eq!(id.is_zero_copy(), codec == Codec::None, "{name}");
    }
}
