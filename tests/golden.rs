//! Golden v1, v1.1, v1.2 and v1.3 files: written once by `make_golden_files`,
//! `make_golden_1_1_files`, `make_golden_1_2_files` and `make_golden_1_3_files` (run by hand; see `spec/compatibility.md`), committed, never
//! changed. Every reader change must keep reading them to the same values, recomputed here from
//! the formulas that made them.

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
    write_golden(&golden_dir(), &schema(), &data(), &CODECS);
}

/// Writes one golden file per codec into `dir`; never over an existing one.
fn write_golden(dir: &std::path::Path, schema: &ArraySchema, data: &[Owned], codecs: &[(&str, Codec)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, codec) in codecs {
        let path = dir.join(format!("{name}.sheaf"));
        assert!(!path.exists(), "{} exists: golden files never change", path.display());
        let inputs = data.iter().map(Owned::input).collect();
        sheaf::write_arrays(&path, &[(schema.clone(), inputs)], &WriteOptions::new().with_codec(*codec).with_row_group_rows(2000)).unwrap();
    }
}

/// Opens `dir/NAME.sheaf`, checks its version, structure and every value against `data`, and
/// gives the file's column encodings.
fn check_golden(dir: &std::path::Path, name: &str, version: (u16, u16), schema: &ArraySchema, data: &[Owned]) -> (File, Vec<String>) {
    let path = dir.join(format!("{name}.sheaf"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.version(), version);
    file.verify().unwrap();
    let mut encodings = Vec::new();
    {
        let array = file.single().unwrap();
        assert_eq!(array.schema().dtype, schema.dtype, "{name}");
        for (i, (desc, want)) in array.column_descs().iter().zip(data).enumerate() {
            let col = array.column_at(i).unwrap();
            encodings.push(col.encoding());
            let got = col.read().unwrap();
            assert_eq!(got.rows, want.rows, "{name}: {}", desc.name());
            assert_rows(desc, want, &got, 0);
        }
    }
    (file, encodings)
}

#[test]
fn golden_v1_files_read_as_written() {
    let data = data();
    for (name, codec) in CODECS {
        let (file, _) = check_golden(&golden_dir(), name, (1, 0), &schema(), &data);
        let id = file.single().unwrap().column("id").unwrap();
        assert_eq!(id.is_zero_copy(), codec == Codec::None, "{name}");
    }
}

// Format 1.1 added lists and the `decimal` and `dictionary-pco` codecs: a second golden set.

const ROWS_1_1: u64 = 50_000;
const CODECS_1_1: [(&str, Codec); 2] = [("auto", Codec::Auto(3)), ("smallest", Codec::Smallest)];

fn schema_1_1() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("price", leaf(LeafType::Float(8))),
            Field::new("sym", leaf(LeafType::Bytes(6))),
            Field::new("tags", DType::list(leaf(LeafType::Int(4)), true)),
            Field::new("pts", DType::list(DType::structure(vec![Field::new("x", leaf(LeafType::Float(8))), Field::new("name", leaf(LeafType::Utf8))]), false)),
        ]),
    )
}

/// Row `i` of each column (list items follow from the lists' lengths).
fn data_1_1() -> Vec<Owned> {
    let n = ROWS_1_1;
    let fixed = |rows: u64, f: &dyn Fn(u64) -> Vec<u8>| Owned { values: (0..rows).flat_map(f).collect(), offsets: None, validity: None, rows };
    let list = |len: &dyn Fn(u64) -> u64| {
        let offsets: Vec<u64> = std::iter::once(0)
            .chain((0..n).scan(0, |at, i| {
                *at += len(i);
                Some(*at)
            }))
            .collect();
        Owned { values: Vec::new(), offsets: Some(offsets), validity: None, rows: n }
    };
    // Cents, scattered: exact decimals that no byte codec finds repeats in.
    let price = fixed(n, &|i| ((10_000 + (mix(i) % 2001) as i64 - 1000) as f64 / 100.0).to_le_bytes().to_vec());
    // 40 symbols, skewed (not in powers of two) and scattered.
    let sym = fixed(n, &|i| {
        let r = mix(i ^ 0xABCD) % 1000;
        format!("S{:05}", r * r * r * 40 / 1_000_000_000).into_bytes()
    });
    let mut tags = list(&|i| i % 4);
    tags.validity = Some((0..n.div_ceil(8)).map(|k| if k % 3 == 0 { 0b0111_1111 } else { 0xFF }).collect());
    let tag_items = tags.offsets.as_ref().and_then(|o| o.last().copied()).unwrap_or(0);
    let tag_values = fixed(tag_items, &|k| ((k * 13 % 50) as i32).to_le_bytes().to_vec());
    let pts = list(&|i| i % 3);
    let pt_items = pts.offsets.as_ref().and_then(|o| o.last().copied()).unwrap_or(0);
    let xs = fixed(pt_items, &|k| (k as f64 * 0.5).to_le_bytes().to_vec());
    let mut name_offsets = vec![0u64];
    let mut names = Vec::new();
    for k in 0..pt_items {
        names.extend_from_slice(format!("p{}", k % 11).as_bytes());
        name_offsets.push(names.len() as u64);
    }
    let name = Owned { values: names, offsets: Some(name_offsets), validity: None, rows: pt_items };
    vec![price, sym, tags, tag_values, pts, xs, name]
}

/// A fixed hash (splitmix64's finaliser): the same scattered values on every platform.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn golden_1_1_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1.1")
}

#[test]
#[ignore = "writes the golden 1.1 files; run once by hand, never again"]
fn make_golden_1_1_files() {
    write_golden(&golden_1_1_dir(), &schema_1_1(), &data_1_1(), &CODECS_1_1);
}

#[test]
fn golden_1_1_files_read_as_written() {
    let data = data_1_1();
    let mut pipelines = Vec::new();
    for (name, _) in CODECS_1_1 {
        pipelines.extend(check_golden(&golden_1_1_dir(), name, (1, 1), &schema_1_1(), &data).1);
    }
    // The set exercises what 1.1 added.
    let all = pipelines.join(" ");
    assert!(all.contains("decimal") && all.contains("dictionary-pco"), "{all}");
}

// Format 1.2 added the `blockpack` codec: a third golden set, two series that `auto` codes
// `delta+blockpack` and a subarray walk (pcodec's).

const ROWS_1_2: u64 = 10_000;

fn schema_1_2() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("level", leaf(LeafType::Float(8))),
            Field::new("t", leaf(LeafType::Datetime(TimeUnit::Nano, 1))),
            Field::new("xyz", DType::subarray(leaf(LeafType::Float(4)), vec![3])),
        ]),
    )
}

/// Random walks from scattered steps (IEEE additions only: the same bits on every platform).
fn data_1_2() -> Vec<Owned> {
    let n = ROWS_1_2;
    let fixed = |values: Vec<u8>| Owned { values, offsets: None, validity: None, rows: n };
    let mut level = 100.0f64;
    let levels = (0..n).flat_map(|i| {
        level += ((mix(i) % 2_000_001) as f64 - 1_000_000.0) * 1.234_567e-8;
        level.to_le_bytes()
    });
    let mut t = 1_700_000_000_000_000_000i64;
    let times = (0..n).flat_map(|i| {
        t += 1_000_000 + (mix(i ^ 0x5151) % 16_384) as i64;
        t.to_le_bytes()
    });
    // Away from zero, so that each component keeps its exponent.
    let mut p = [100f32, 200.0, 300.0];
    let points = (0..n).flat_map(|i| {
        for (c, v) in p.iter_mut().enumerate() {
            *v += ((mix(i * 3 + c as u64) % 16_384) as f32 - 8_192.0) / 131_072.0;
        }
        p.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()
    });
    vec![fixed(levels.collect()), fixed(times.collect()), fixed(points.collect())]
}

fn golden_1_2_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1.2")
}

#[test]
#[ignore = "writes the golden 1.2 files; run once by hand, never again"]
fn make_golden_1_2_files() {
    write_golden(&golden_1_2_dir(), &schema_1_2(), &data_1_2(), &[("auto", Codec::Auto(3))]);
}

#[test]
fn golden_1_2_files_read_as_written() {
    let (_, pipelines) = check_golden(&golden_1_2_dir(), "auto", (1, 2), &schema_1_2(), &data_1_2());
    // The set exercises what 1.2 added.
    assert_eq!(pipelines.iter().filter(|p| p.as_str() == "delta+blockpack").count(), 2, "{pipelines:?}");
}

// Format 1.3 added the `dictionary-ans` codec: a fourth golden set, a skewed small-range column
// (`dictionary-ans`), a rising time column (`delta+dictionary-ans`) and a short string column.

const ROWS_1_3: u64 = 20_000;

fn schema_1_3() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("delay", leaf(LeafType::Int(4))),
            Field::new("t", leaf(LeafType::Datetime(TimeUnit::Second, 1))),
            Field::new("gate", leaf(LeafType::Bytes(3))),
        ]),
    )
}

fn data_1_3() -> Vec<Owned> {
    let n = ROWS_1_3;
    let fixed = |values: Vec<u8>| Owned { values, offsets: None, validity: None, rows: n };
    let delays = (0..n).flat_map(|i| {
        let r = mix(i);
        let delay = if r.is_multiple_of(16) { ((r >> 8) % 40) as i32 - 20 } else { (r >> 40).trailing_zeros().min(12) as i32 * 3 - 5 };
        delay.to_le_bytes()
    });
    let mut t = 1_356_998_400i64;
    let times = (0..n).flat_map(|i| {
        t += [0, 0, 0, 60, 60, 300, 3600][(mix(i ^ 0x77) % 7) as usize];
        t.to_le_bytes()
    });
    let gates = (0..n).flat_map(|i| {
        let r = mix(i ^ 0x99) % 1000;
        format!("G{:02}", r * r / 12_000).into_bytes()
    });
    vec![fixed(delays.collect()), fixed(times.collect()), fixed(gates.collect())]
}

fn golden_1_3_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1.3")
}

#[test]
#[ignore = "writes the golden 1.3 files; run once by hand, never again"]
fn make_golden_1_3_files() {
    write_golden(&golden_1_3_dir(), &schema_1_3(), &data_1_3(), &[("auto", Codec::Auto(3))]);
}

#[test]
fn golden_1_3_files_read_as_written() {
    let (_, pipelines) = check_golden(&golden_1_3_dir(), "auto", (1, 3), &schema_1_3(), &data_1_3());
    // The set exercises what 1.3 added.
    assert!(pipelines.iter().any(|p| p == "dictionary-ans") && pipelines.iter().any(|p| p == "delta+dictionary-ans"), "{pipelines:?}");
}

// Format 1.4 added the `tuple-ans` codec: a fifth golden set, hours of a timetable in runs
// (`tuple-ans`), a timestamp rising by whole hours in runs (`delta+tuple-ans`) and an airport
// code of three values.

const ROWS_1_4: u64 = 20_000;

fn schema_1_4() -> ArraySchema {
    let leaf = |t| DType::leaf(t);
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("hour", leaf(LeafType::Int(8))),
            Field::new("time_hour", leaf(LeafType::Datetime(TimeUnit::Second, 1))),
            Field::new("origin", leaf(LeafType::Bytes(3))),
        ]),
    )
}

fn data_1_4() -> Vec<Owned> {
    let n = ROWS_1_4;
    let fixed = |values: Vec<u8>| Owned { values, offsets: None, validity: None, rows: n };
    let mut hour = 5i64;
    let hours = (0..n).flat_map(|i| {
        if mix(i).is_multiple_of(4) {
            hour = if hour >= 23 { 5 } else { hour + 1 };
        }
        hour.to_le_bytes()
    });
    let mut t = 1_356_998_400i64;
    let times = (0..n).flat_map(|i| {
        t += 3600 * i64::from(mix(i ^ 0x55).is_multiple_of(5));
        t.to_le_bytes()
    });
    let origins = (0..n).flat_map(|i| [b"EWR", b"JFK", b"LGA", b"EWR"][(mix(i ^ 0x33) % 4) as usize].to_vec());
    vec![fixed(hours.collect()), fixed(times.collect()), fixed(origins.collect())]
}

fn golden_1_4_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1.4")
}

#[test]
#[ignore = "writes the golden 1.4 files; run once by hand, never again"]
fn make_golden_1_4_files() {
    write_golden(&golden_1_4_dir(), &schema_1_4(), &data_1_4(), &[("auto", Codec::Auto(3))]);
}

#[test]
fn golden_1_4_files_read_as_written() {
    let (_, pipelines) = check_golden(&golden_1_4_dir(), "auto", (1, 4), &schema_1_4(), &data_1_4());
    // The set exercises what 1.4 added.
    assert!(pipelines.iter().any(|p| p == "tuple-ans") && pipelines.iter().any(|p| p == "delta+tuple-ans"), "{pipelines:?}");
}

// Format 1.5 added extension regions and per-chunk statistics: a sixth golden set, an integer
// with nulls, a float with NaN, a datetime with NaT and text with a value longer than a bound.

const ROWS_1_5: u64 = 8_000;

fn schema_1_5() -> ArraySchema {
    ArraySchema::new(
        "golden",
        DType::structure(vec![
            Field::new("n", DType::Leaf(Leaf::new(LeafType::Int(4)).with_nullable(true))),
            Field::new("x", DType::leaf(LeafType::Float(8))),
            Field::new("t", DType::leaf(LeafType::Datetime(TimeUnit::Milli, 1))),
            Field::new("s", DType::Leaf(Leaf::new(LeafType::Utf8))),
        ]),
    )
}

fn data_1_5() -> Vec<Owned> {
    let n = ROWS_1_5;
    let fixed = |values: Vec<u8>, validity: Option<Vec<u8>>| Owned { values, offsets: None, validity, rows: n };
    let ints = (0..n).flat_map(|i| ((mix(i) % 20_000) as i32 - 10_000).to_le_bytes()).collect();
    let validity = (0..n.div_ceil(8)).map(|b| if b % 7 == 3 { 0 } else { 0xFF }).collect();
    let floats = (0..n).flat_map(|i| if mix(i ^ 9).is_multiple_of(50) { f64::NAN } else { i as f64 * 0.25 - 300.0 }.to_le_bytes()).collect();
    let times = (0..n).flat_map(|i| if i % 1000 == 17 { i64::MIN } else { 1_700_000_000_000 + (mix(i ^ 3) % 86_400_000) as i64 }.to_le_bytes()).collect();
    let mut offsets = vec![0u64];
    let mut text = Vec::new();
    for i in 0..n {
        let s = if i == 4321 { "~".repeat(45) } else { format!("k{:05}", mix(i ^ 7) % 5000) };
        text.extend_from_slice(s.as_bytes());
        offsets.push(text.len() as u64);
    }
    vec![fixed(ints, Some(validity)), fixed(floats, None), fixed(times, None), Owned { values: text, offsets: Some(offsets), validity: None, rows: n }]
}

fn golden_1_5_dir() -> std::path::PathBuf {
    repo_root().join("tests/data/golden/v1.5")
}

#[test]
#[ignore = "writes the golden 1.5 files; run once by hand, never again"]
fn make_golden_1_5_files() {
    write_golden(&golden_1_5_dir(), &schema_1_5(), &data_1_5(), &[("auto", Codec::Auto(3))]);
}

#[test]
fn golden_1_5_files_read_as_written_with_their_statistics() {
    use sheaf::StatValue;
    let data = data_1_5();
    let (file, _) = check_golden(&golden_1_5_dir(), "auto", (1, 5), &schema_1_5(), &data);
    assert_eq!(file.extensions().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["statistics"]);
    let array = file.single().unwrap();
    // The stored bounds, against bounds computed here from the data (a naive oracle).
    let rows = 2000usize;
    let n = array.column("n").unwrap().statistics().unwrap().unwrap();
    let x = array.column("x").unwrap().statistics().unwrap().unwrap();
    let t = array.column("t").unwrap().statistics().unwrap().unwrap();
    for k in 0..4 {
        let valid = |r: usize| data[0].validity.as_ref().unwrap()[r / 8] >> (r % 8) & 1 == 1;
        let ints: Vec<i64> =
            (k * rows..(k + 1) * rows).filter(|&r| valid(r)).map(|r| i64::from(i32::from_le_bytes(data[0].values[4 * r..4 * r + 4].try_into().unwrap()))).collect();
        assert_eq!((n[k].min.clone(), n[k].max.clone()), (ints.iter().min().map(|&v| StatValue::Int(v)), ints.iter().max().map(|&v| StatValue::Int(v))));
        assert_eq!(n[k].null_count, (rows - ints.len()) as u64);
        let floats: Vec<f64> = (k * rows..(k + 1) * rows).map(|r| f64::from_le_bytes(data[1].values[8 * r..8 * r + 8].try_into().unwrap())).collect();
        assert_eq!(x[k].nan_count, floats.iter().filter(|v| v.is_nan()).count() as u64);
        let finite: Vec<f64> = floats.into_iter().filter(|v| !v.is_nan()).collect();
        assert_eq!(x[k].min, Some(StatValue::Float(finite.iter().copied().fold(f64::INFINITY, f64::min))));
        assert_eq!(t[k].nan_count, 2, "NaT at rows ..17 of each thousand");
    }
    let s = array.column("s").unwrap().statistics().unwrap().unwrap();
    assert!(!s[2].max_exact && matches!(&s[2].max, Some(StatValue::Bytes(b)) if b.len() <= sheaf::MAX_BOUND_LEN && b.as_slice() > "~".repeat(45).as_bytes()));
}
