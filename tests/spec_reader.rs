//! The spec is complete enough to write a reader from it: `tests/py/spec_reader.py`, written
//! from `spec/` alone with NumPy, reads plain, zstd and `auto` files (delta+blockpack, dictionary-ans and tuple-ans included) made by the Rust writer and checks
//! every value against what the test wrote (given as JSON, typed per leaf).

use serde_json::{json, Value};
use sheaf::{ArraySchema, ByteOrder, Codec, ColumnDesc, DType, Field, Leaf, LeafType, TimeUnit, WriteOptions};

use crate::util::data::{columns, level_ranges, slice_rows, Owned, Rng};
use crate::util::run_python;

fn typed(desc: &ColumnDesc, bytes: &[u8]) -> Value {
    let u = desc.leaf.ty.unit_width();
    let units = bytes.chunks_exact(u.max(1));
    macro_rules! nums {
        ($t:ty) => {
            Value::Array(units.map(|c| json!(<$t>::from_le_bytes(c.try_into().unwrap()))).collect())
        };
    }
    match desc.leaf.ty {
        LeafType::Bool => Value::Array(bytes.iter().map(|&b| json!(b != 0)).collect()),
        LeafType::Int(1) => nums!(i8),
        LeafType::Int(2) => nums!(i16),
        LeafType::Int(4) => nums!(i32),
        LeafType::Int(8) | LeafType::Datetime(..) | LeafType::Timedelta(..) => nums!(i64),
        LeafType::UInt(1) => nums!(u8),
        LeafType::UInt(2) | LeafType::Float(2) => nums!(u16),
        LeafType::UInt(4) => nums!(u32),
        LeafType::UInt(8) => nums!(u64),
        // Floats by their bits: NaN payloads included, nothing lost to JSON.
        LeafType::Float(4) | LeafType::Complex(8) => nums!(u32),
        LeafType::Float(8) | LeafType::Complex(16) => nums!(u64),
        LeafType::Unicode(_) => Value::Array(
            units
                .map(|c| {
                    let s: String = c.chunks_exact(4).map(|p| u32::from_le_bytes(p.try_into().unwrap())).take_while(|&p| p != 0).filter_map(char::from_u32).collect();
                    json!(s)
                })
                .collect(),
        ),
        LeafType::Utf8 => json!(String::from_utf8(bytes.to_vec()).unwrap()),
        _ => json!(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

fn unicode_text(rng: &mut Rng, chars: usize) -> Vec<u8> {
    // Real code points (NumPy refuses surrogates), trailing NULs as NumPy pads.
    let len = rng.below(chars as u64 + 1) as usize;
    let mut out = Vec::new();
    for i in 0..chars {
        let cp = if i < len { [0x41u32, 0xe9, 0x4e2d, 0x1f600][rng.below(4) as usize] } else { 0 };
        out.extend_from_slice(&cp.to_le_bytes());
    }
    out
}

fn expected(schema: &ArraySchema, data: &[Owned]) -> Value {
    let cols: Vec<Value> = schema
        .columns()
        .iter()
        .zip(data)
        .map(|(desc, d)| {
            let valid: Vec<bool> = (0..d.rows * desc.validity_bits_per_row()).map(|r| d.is_valid(r)).collect();
            if desc.is_list() {
                // A list row is checked by its length; its items are the item columns' rows.
                let lengths: Vec<u64> = d.offsets.as_ref().unwrap().windows(2).map(|w| w[1] - w[0]).collect();
                return json!({"path": desc.path, "type": "list", "shape": desc.shape, "rows": lengths, "valid": valid});
            }
            let rows: Vec<Value> = (0..d.rows).map(|r| typed(desc, d.row(desc, r))).collect();
            json!({"path": desc.path, "type": desc.leaf.ty.to_string(), "shape": desc.shape, "rows": rows, "valid": valid})
        })
        .collect();
    json!({"name": schema.name, "columns": cols})
}

fn schema() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    let dtype = DType::structure(vec![
        Field::new("id", leaf(LeafType::Int(8))),
        Field::new("pos", DType::subarray(leaf(LeafType::Float(4)), vec![3])),
        Field::new("m", DType::subarray(leaf(LeafType::Float(8)), vec![2, 2])),
        Field::new("t", leaf(LeafType::Datetime(TimeUnit::Nano, 1))),
        Field::new("dt", leaf(LeafType::Timedelta(TimeUnit::Second, 10))),
        Field::new("sym", leaf(LeafType::Bytes(8))),
        Field::new("u", leaf(LeafType::Unicode(3))),
        Field::new("flag", leaf(LeafType::Bool)),
        Field::new("h", leaf(LeafType::Float(2))),
        Field::new("z", leaf(LeafType::Complex(16))),
        Field::new("raw", leaf(LeafType::Void(3))),
        Field::new("big", DType::Leaf(Leaf::new(LeafType::UInt(4)).with_byte_order(ByteOrder::Big))),
        Field::new("inner", DType::structure(vec![Field::new("a", leaf(LeafType::Int(2))), Field::new("deep", DType::structure(vec![Field::new("b", leaf(LeafType::UInt(8)))]))])),
        Field::new("maybe", DType::Leaf(Leaf::new(LeafType::Float(8)).with_nullable(true))),
        // Format 1.5: a subarray whose elements are nullable one by one (a bit each), its rows'
        // nulls in a column of their own.
        Field::new("vec", DType::subarray(DType::Leaf(Leaf::new(LeafType::Float(4)).with_nullable(true).with_items_nullable(true)), vec![3])),
        // Format 1.5: a nullable struct, its validity a column of its own.
        Field::new(
            "opt",
            DType::Struct(sheaf::StructType {
                fields: vec![Field::new("v", DType::Leaf(Leaf::new(LeafType::Int(4)).with_nullable(true)))],
                itemsize: None,
                aligned: false,
                nullable: true,
            }),
        ),
        Field::new("name", DType::Leaf(Leaf::new(LeafType::Utf8).with_nullable(true))),
        Field::new("blob", leaf(LeafType::Binary)),
        Field::new("tags", DType::list(leaf(LeafType::Int(4)), true)),
        Field::new(
            "pts",
            DType::list(DType::structure(vec![Field::new("x", leaf(LeafType::Float(8))), Field::new("lbl", DType::Leaf(Leaf::new(LeafType::Utf8).with_nullable(true)))]), false),
        ),
    ]);
    ArraySchema::new("records", dtype)
}

#[test]
fn python_reader_written_from_the_spec_reads_rust_files() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema();
    let rows = 2500u64;
    let mut rng = Rng(42);
    let descs = schema.columns();
    let data: Vec<Owned> = columns(&descs, rows, &mut rng)
        .into_iter()
        .zip(&descs)
        .map(|(mut c, d)| {
            if let LeafType::Unicode(n) = d.leaf.ty {
                c.values = (0..rows).flat_map(|_| unicode_text(&mut rng, n as usize)).collect();
            }
            if d.leaf.ty == LeafType::Float(2) {
                // Finite halves only: NaN payloads are compared by bits anyway.
                c.values.chunks_mut(2).for_each(|h| h[1] &= 0x3b);
            }
            c
        })
        .collect();
    let second_values: Vec<i32> = (0..10).map(|i| i * i - 7).collect();
    let second = ArraySchema::new("small", DType::leaf(LeafType::Int(4)));
    let second_data = Owned { values: bytemuck_i32(&second_values), offsets: None, validity: None, rows: 10 };
    // A smooth noisy series, which `auto` codes `delta+blockpack` (format 1.2).
    let mut x = 100.0f64;
    let walk: Vec<u8> = (0..3000)
        .flat_map(|_| {
            // Full-precision steps: decimal-like ones would go to pcodec's float-multiple mode.
            x += ((rng.next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
            x.to_le_bytes()
        })
        .collect();
    let smooth = ArraySchema::new("smooth", DType::leaf(LeafType::Float(8)));
    let smooth_data = Owned { values: walk, offsets: None, validity: None, rows: 3000 };
    // Skewed small-range integers (delays: mostly near 0, a long tail), which `auto` codes
    // `dictionary-ans`, and times rising by a few steps, `delta+dictionary-ans` (format 1.3).
    let delays: Vec<u8> = (0..3000)
        .flat_map(|_| {
            let r = rng.next();
            let tail = (r >> 40).trailing_zeros().min(12) as i64;
            let delay = if r.is_multiple_of(16) { (r >> 8) as i64 % 60 - 20 } else { tail * 3 - 5 };
            delay.to_le_bytes()
        })
        .collect();
    let delayed = ArraySchema::new("delays", DType::leaf(LeafType::Int(8)));
    let delays_data = Owned { values: delays, offsets: None, validity: None, rows: 3000 };
    let mut t = 1_700_000_000i64;
    let times: Vec<u8> = (0..3000)
        .flat_map(|_| {
            t += [0, 0, 0, 60, 60, 300, 3600][(rng.next() % 7) as usize];
            t.to_le_bytes()
        })
        .collect();
    let timed = ArraySchema::new("times", DType::leaf(LeafType::Int(8)));
    let times_data = Owned { values: times, offsets: None, validity: None, rows: 3000 };
    // Airport ids out of three, `tuple-ans`, and timestamps rising by whole hours in runs,
    // `delta+tuple-ans` (format 1.4).
    let airports: Vec<u8> = (0..3000).flat_map(|_| [1203i64, 1203, 1420, 5001][(rng.next() % 4) as usize].to_le_bytes()).collect();
    let origins = ArraySchema::new("origins", DType::leaf(LeafType::Int(8)));
    let origins_data = Owned { values: airports, offsets: None, validity: None, rows: 3000 };
    let mut t = 1_700_000_000i64;
    let stamps: Vec<u8> = (0..3000)
        .flat_map(|_| {
            t += 3600 * i64::from(rng.next().is_multiple_of(5));
            t.to_le_bytes()
        })
        .collect();
    let stamped = ArraySchema::new("time_hour", DType::leaf(LeafType::Int(8)));
    let stamps_data = Owned { values: stamps, offsets: None, validity: None, rows: 3000 };
    let expect = json!({"arrays": [expected(&schema, &data), expected(&second, std::slice::from_ref(&second_data)), expected(&smooth, std::slice::from_ref(&smooth_data))]});
    let expect_path = dir.path().join("expected.json");
    std::fs::write(&expect_path, expect.to_string()).unwrap();
    let mut files = Vec::new();
    for (name, codec) in [("plain", Codec::None), ("zstd", Codec::Zstd(3))] {
        let path = dir.path().join(format!("{name}.sheaf"));
        let inputs = data.iter().map(Owned::input).collect();
        let arrays = [(schema.clone(), inputs), (second.clone(), vec![second_data.input()]), (smooth.clone(), vec![smooth_data.input()])];
        sheaf::write_arrays(&path, &arrays, &WriteOptions::new().with_codec(codec).with_row_group_rows(1000)).unwrap();
        files.push(path);
    }
    // `auto` on the series alone (the reader implements zstd, delta, blockpack, dictionary-ans
    // and tuple-ans, not every stage `auto` picks for the random columns). Chunks of 1,500 rows:
    // tuples are tried from 1,024 values.
    let auto_path = dir.path().join("auto.sheaf");
    let series = [
        (&smooth, &smooth_data, "delta+blockpack"),
        (&delayed, &delays_data, "dictionary-ans"),
        (&timed, &times_data, "delta+dictionary-ans"),
        (&origins, &origins_data, "tuple-ans"),
        (&stamped, &stamps_data, "delta+tuple-ans"),
    ];
    let arrays: Vec<_> = series.iter().map(|(s, d, _)| ((*s).clone(), vec![d.input()])).collect();
    sheaf::write_arrays(&auto_path, &arrays, &WriteOptions::new().with_codec(Codec::AUTO).with_row_group_rows(1500)).unwrap();
    let auto_file = sheaf::File::open(&auto_path).unwrap();
    for (schema, _, encoding) in series {
        let found = auto_file.array(&schema.name).unwrap().column("").unwrap().encoding();
        assert_eq!(found, encoding, "the reader must be shown a {encoding} column ({})", schema.name);
    }
    let auto_expect_path = dir.path().join("expected_auto.json");
    let expect_auto: Vec<_> = series.iter().map(|(s, d, _)| expected(s, std::slice::from_ref(*d))).collect();
    std::fs::write(&auto_expect_path, json!({ "arrays": expect_auto }).to_string()).unwrap();
    let auto_out = run_python(&["numpy", "zstandard"], "spec_reader.py", &[auto_expect_path.as_path(), auto_path.as_path()]);
    assert!(String::from_utf8_lossy(&auto_out.stdout).contains("auto.sheaf: ok"), "{}", String::from_utf8_lossy(&auto_out.stdout));
    // The same arrays, the records written in three parts: the last two appended in place
    // (format 1.6), one plain and one zstd.
    let appended = dir.path().join("appended.sheaf");
    let cut = |a: u64, b: u64| -> Vec<Owned> {
        let ranges = level_ranges(&descs, &data, a..b);
        data.iter().zip(&descs).map(|(d, desc)| slice_rows(d, desc, ranges[desc.level].start, ranges[desc.level].end)).collect()
    };
    let first = cut(0, 1200);
    let arrays = [(schema.clone(), first.iter().map(Owned::input).collect()), (second.clone(), vec![second_data.input()]), (smooth.clone(), vec![smooth_data.input()])];
    sheaf::write_arrays(&appended, &arrays, &WriteOptions::new().with_codec(Codec::None).with_row_group_rows(1000)).unwrap();
    for ((a, b), codec) in [((1200, rows - 1), Codec::Zstd(3)), ((rows - 1, rows), Codec::None)] {
        let part = cut(a, b);
        let mut w = sheaf::Writer::open_append(&appended, WriteOptions::new().with_codec(codec).with_row_group_rows(700)).unwrap();
        let id = w.array_id(&schema.name).unwrap();
        w.append_rows(id, Some(b - a), &part.iter().map(Owned::input).collect::<Vec<_>>()).unwrap();
        w.finish().unwrap();
    }
    files.push(appended);
    let mut args = vec![expect_path.as_path()];
    args.extend(files.iter().map(std::path::PathBuf::as_path));
    let out = run_python(&["numpy", "zstandard"], "spec_reader.py", &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in ["plain", "zstd"] {
        assert!(stdout.contains(&format!("{name}.sheaf: ok (1 version)")), "{stdout}");
    }
    assert!(stdout.contains("appended.sheaf: ok (3 versions)"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}

fn bytemuck_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
