//! Arrow and Parquet interop against the real pyarrow: files pyarrow wrote of every mapped type
//! (nulls, several row groups, each compression) go to sheaf and back and read as the original;
//! the whole shared corpus of Parquet and Arrow IPC files converts or is refused cleanly; plain
//! sheaf columns become Arrow arrays that point into the memory map.

use std::path::{Path, PathBuf};

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Field, Leaf, LeafType, WriteOptions};

use crate::util::{python, repo_root, run_python, sheaf};

fn ok(args: &[&str]) {
    let o = sheaf(args);
    assert!(o.status.success(), "sheaf {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn compare(pairs: &[(PathBuf, PathBuf)], cross: &[(PathBuf, PathBuf)]) {
    // A small inline checker: same schema and values as pyarrow reads them (NaN equal to NaN).
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq, pyarrow.ipc as ipc, pyarrow.csv as pcsv
def read(p):
    if p.endswith(".parquet"): return pq.read_table(p)
    if p.endswith(".arrow"): return ipc.open_file(p).read_all()
    if p.endswith(".arrows"): return ipc.open_stream(p).read_all()
    return pcsv.read_csv(p)
args = sys.argv[1:]
for a, b in zip(args[::2], args[1::2]):
    cast = b.startswith("~")
    b = b.lstrip("~")
    x, y = read(a), read(b)
    if cast:
        # Across formats: Parquet has no date64 (pyarrow reads it as date32); values must agree.
        y = y.cast(x.schema)
    assert x.schema.equals(y.schema, check_metadata=False), (a, x.schema, y.schema)
    assert cast or x.schema.metadata == y.schema.metadata, (a, x.schema.metadata, y.schema.metadata)
    for i in range(x.num_columns):  # by position: a name may repeat
        p, q = x.column(i).combine_chunks(), y.column(i).combine_chunks()
        assert p.equals(q) or p.to_pylist() == q.to_pylist(), (a, x.field(i).name)
    print("same", b)
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cmp.py");
    std::fs::write(&path, script).unwrap();
    let mut cmd = std::process::Command::new(python(&["pyarrow"]));
    cmd.arg(&path);
    for (a, b) in pairs {
        cmd.arg(a).arg(b);
    }
    for (a, b) in cross {
        cmd.arg(a).arg(format!("~{}", b.display()));
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), pairs.len() + cross.len());
}

#[test]
fn pyarrow_files_of_every_type_and_compression_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    run_python(&["pyarrow", "numpy"], "arrow_cases.py", &[&cases]);
    let mut pairs = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for (i, f) in files.iter().enumerate() {
        let ext = f.extension().unwrap().to_str().unwrap();
        if ext == "csv" {
            continue;
        }
        for codec in ["auto", "none"] {
            let mid = dir.path().join(format!("{i}-{codec}.sheaf"));
            let back = dir.path().join(format!("{i}-{codec}.{ext}"));
            ok(&["convert", "-q", f.to_str().unwrap(), mid.to_str().unwrap(), "--codec", codec]);
            ok(&["verify", mid.to_str().unwrap()]);
            ok(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
            pairs.push((f.clone(), back));
        }
    }
    // Across formats too: Parquet -> sheaf -> Arrow IPC holds the same table.
    let pq = cases.join("all_zstd.parquet");
    let mid = dir.path().join("x.sheaf");
    let arrow = dir.path().join("x.arrow");
    ok(&["convert", "-q", pq.to_str().unwrap(), mid.to_str().unwrap()]);
    ok(&["convert", "-q", mid.to_str().unwrap(), arrow.to_str().unwrap(), "--codec", "zstd"]);
    compare(&pairs, &[(pq, arrow)]);
}

#[test]
fn csv_in_with_inferred_and_overridden_types_and_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    run_python(&["pyarrow", "numpy"], "arrow_cases.py", &[&cases]);
    let csv = cases.join("some.csv");
    let mid = dir.path().join("c.sheaf");
    ok(&["convert", "-q", csv.to_str().unwrap(), mid.to_str().unwrap()]);
    let o = sheaf(&["inspect", "--json", mid.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let types: Vec<String> = v["arrays"][0]["columns"].as_array().unwrap().iter().map(|c| c["dtype"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["b1?", "i8?", "f8?", "utf8?", "M8[D]?"]);
    // Override: read i64 as text.
    let mid2 = dir.path().join("c2.sheaf");
    ok(&["convert", "-q", csv.to_str().unwrap(), mid2.to_str().unwrap(), "--schema", "i64:utf8"]);
    let o = sheaf(&["inspect", "--json", mid2.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["arrays"][0]["columns"][1]["dtype"], "utf8?");
    let back = dir.path().join("back.csv");
    ok(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
    compare(&[(csv, back)], &[]);
    let bad = sheaf(&["convert", "-q", dir.path().join("nope.csv").to_str().unwrap(), mid.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn every_corpus_parquet_and_arrow_file_converts_or_is_refused_cleanly() {
    let corpus = repo_root().join("../shared/corpus/real");
    assert!(corpus.join("CATALOGUE.tsv").exists(), "the shared corpus must be beside the repository");
    let work = tempfile::tempdir().unwrap();
    let bin = crate::util::sheaf_bin();
    let out = run_python(&["pyarrow", "numpy"], "corpus_arrow.py", &[&bin, &corpus, work.path()]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &summary["counts"];
    eprintln!("corpus: {counts}");
    // 303 since big-endian IPC files and streams are byte-swapped instead of refused (44 files),
    // 317 since repeated field names and unions map.
    assert!(counts["converted exactly"].as_u64().unwrap() >= 315, "{counts}");
    let reasons = summary["refusal_reasons"].to_string();
    assert!(!reasons.contains("endian"), "no file is refused for its byte order: {reasons}");
    // Unions, dictionaries of nested values and repeated names map (spec/arrow.md): 317 exact
    // and 31 by a documented mapping. What is left is listed in spec/arrow.md, "Files the
    // readers refuse": pre-1.0 compression and what arrow-rs cannot parse.
    for kind in ["union", "duplicate field name", "dictionary-encoded nested"] {
        assert!(!reasons.contains(kind), "no file is refused for {kind}: {reasons}");
    }
    assert!(counts["refused"].as_u64().unwrap_or(0) <= 8, "{counts}: {reasons}");
    assert!(counts["converted with documented mapping"].as_u64().unwrap() >= 31, "{counts}");
    assert!(counts["bad file: clean error"].as_u64().unwrap() >= 250, "{counts}");
}

#[test]
fn plain_sheaf_columns_become_arrow_arrays_pointing_into_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.sheaf");
    let ids: Vec<i64> = (0..100_000).collect();
    let pos: Vec<f32> = (0..300_000).map(|i| i as f32).collect();
    let mut offsets = vec![0u64];
    let mut text = Vec::new();
    for i in 0..100_000 {
        text.extend_from_slice(format!("r{i}").as_bytes());
        offsets.push(text.len() as u64);
    }
    let dtype = DType::structure(vec![
        Field::new("id", DType::leaf(LeafType::Int(8))),
        Field::new("pos", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3])),
        Field::new("name", DType::Leaf(Leaf::new(LeafType::Utf8))),
    ]);
    sheaf::write_arrays(
        &path,
        &[(ArraySchema::new("t", dtype), vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&pos), ColumnInput::var(&offsets, &text)])],
        &WriteOptions::new().with_codec(Codec::None),
    )
    .unwrap();
    let file = sheaf::File::open(&path).unwrap();
    let array = file.single().unwrap();
    let batch = sheaf_arrow::read_record_batch(&array, None, 0..array.rows()).unwrap();
    let map = file.contiguous_bytes().unwrap().as_ptr_range();
    let inside = |p: *const u8| map.contains(&p);
    use arrow_array::cast::AsArray;
    let id = batch.column(0).as_primitive::<arrow_array::types::Int64Type>();
    assert!(inside(id.values().inner().as_ptr()), "id values were copied");
    assert_eq!(id.value(99_999), 99_999);
    let pos = batch.column(1).as_fixed_size_list();
    assert!(inside(pos.values().to_data().buffers()[0].as_ptr()), "pos values were copied");
    let name = batch.column(2).as_string::<i64>();
    assert!(inside(name.values().as_ptr()) && inside(name.offsets().inner().inner().as_ptr()), "strings were copied");
    assert_eq!(name.value(12_345), "r12345");
    // Encoded columns decode into memory Arrow then owns.
    let enc = dir.path().join("e.sheaf");
    ok(&["convert", "-q", path.to_str().unwrap(), enc.to_str().unwrap()]);
    let file2 = sheaf::File::open(&enc).unwrap();
    let array2 = file2.single().unwrap();
    let batch2 = sheaf_arrow::read_record_batch(&array2, None, 0..array2.rows()).unwrap();
    assert_eq!(batch2, batch);
    // A projection and a row range, from either file, equal the full batch cut the same way; a
    // zero-copy batch outlives the array and file it came from.
    for f in [&file, &file2] {
        let a = f.single().unwrap();
        let part = sheaf_arrow::read_record_batch(&a, Some(&[2, 0]), 1_000..1_010).unwrap();
        assert_eq!(part, batch.project(&[2, 0]).unwrap().slice(1_000, 10));
    }
    let kept = sheaf_arrow::read_record_batch(&sheaf::File::open(&path).unwrap().single().unwrap(), Some(&[1]), 0..100_000).unwrap();
    assert_eq!(kept, batch.project(&[1]).unwrap());
    assert!(sheaf_arrow::read_record_batch(&array, Some(&[3]), 0..1).is_err(), "no field 3");
    let _ = Path::new("");
}

/// Writes `script` to `dir/name` and runs it with pyarrow's Python on `arg`, asserting success.
fn run_script(dir: &Path, name: &str, script: &str, arg: &Path) {
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let o = std::process::Command::new(python(&["pyarrow"])).arg(&path).arg(arg).output().unwrap();
    assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A present struct whose fields are all null stays present, and a null struct stays null, at
/// any depth and inside lists: Parquet (with and without its stored Arrow schema) and Arrow IPC
/// to sheaf and back, checked by pyarrow. Before format 1.5 the first came back null.
#[test]
fn struct_validity_round_trips_through_parquet_and_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, os, pyarrow as pa, pyarrow.parquet as pq, pyarrow.ipc as ipc
out = sys.argv[1]
s = pa.struct([("a", pa.int64()), ("b", pa.string())])
t = pa.table({
    "s": pa.array([{"a": 1, "b": "x"}, {"a": None, "b": None}, None, {"a": 3, "b": None}], s),
    "nested": pa.array([{"inner": {"x": 1}}, {"inner": None}, {"inner": {"x": None}}, None], pa.struct([("inner", pa.struct([("x", pa.int32())]))])),
    "items": pa.array([[{"a": 1}, None, {"a": None}], None, [], [{"a": 2}]], pa.list_(pa.struct([("a", pa.int64())]))),
})
assert t["s"].to_pylist()[1] == {"a": None, "b": None}
pq.write_table(t, os.path.join(out, "with.parquet"))
pq.write_table(t, os.path.join(out, "without.parquet"), store_schema=False)
with ipc.new_file(os.path.join(out, "t.arrow"), t.schema) as w:
    w.write_table(t)
"#;
    run_script(dir.path(), "gen.py", script, dir.path());
    let mut pairs = Vec::new();
    for name in ["with.parquet", "without.parquet", "t.arrow"] {
        let src = dir.path().join(name);
        let mid = dir.path().join(format!("{name}.sheaf"));
        let back = dir.path().join(format!("back-{name}"));
        ok(&["convert", "-q", src.to_str().unwrap(), mid.to_str().unwrap()]);
        ok(&["verify", mid.to_str().unwrap()]);
        ok(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
        pairs.push((src, back));
    }
    // Values by to_pylist as well as by Arrow equality: {'a': None, 'b': None} is not None.
    compare(&pairs, &[]);
    let check = r#"
import sys, pyarrow.parquet as pq
rows = pq.read_table(sys.argv[1]).to_pylist()
assert rows[1]["s"] == {"a": None, "b": None} and rows[2]["s"] is None, rows
assert rows[1]["nested"] == {"inner": None} and rows[2]["nested"] == {"inner": {"x": None}} and rows[3]["nested"] is None, rows
assert rows[0]["items"] == [{"a": 1}, None, {"a": None}], rows
print("ok")
"#;
    run_script(dir.path(), "check.py", check, &dir.path().join("back-without.parquet"));
}

/// Fixed-size lists with null items (pyarrow's default child is nullable) convert instead of
/// refusing the file, and come back exactly: null items, null lists, and lists of only null
/// items kept apart; Parquet (the stored Arrow schema gives the fixed size back) and Arrow IPC.
#[test]
fn fixed_size_lists_with_null_items_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, os, pyarrow as pa, pyarrow.parquet as pq, pyarrow.ipc as ipc
out = sys.argv[1]
vec = pa.list_(pa.float32(), 3)
rows = [[1.0, None, 3.0], None, [None, None, None], [4.0, 5.0, 6.0]] * 300
t = pa.table({
    "v": pa.array(rows, vec),
    "dense": pa.array([[float(i), 1.0, 2.0] for i in range(1200)], vec),
    "s": pa.array([{"p": r} for r in rows], pa.struct([("p", vec)])),
})
pq.write_table(t, os.path.join(out, "fsl.parquet"), row_group_size=500)
with ipc.new_file(os.path.join(out, "fsl.arrow"), t.schema) as w:
    w.write_table(t)
"#;
    run_script(dir.path(), "gen.py", script, dir.path());
    let mut pairs = Vec::new();
    for name in ["fsl.parquet", "fsl.arrow"] {
        let src = dir.path().join(name);
        for codec in ["none", "auto"] {
            let mid = dir.path().join(format!("{name}.{codec}.sheaf"));
            let back = dir.path().join(format!("back-{codec}-{name}"));
            ok(&["convert", "-q", "--codec", codec, src.to_str().unwrap(), mid.to_str().unwrap()]);
            ok(&["verify", mid.to_str().unwrap()]);
            ok(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
            pairs.push((src.clone(), back));
        }
    }
    compare(&pairs, &[]);
    // A column without nulls stays one zero-copy subarray; the one with null items has a
    // validity bit per element.
    let f = sheaf::File::open(dir.path().join("fsl.arrow.none.sheaf")).unwrap();
    let a = f.single().unwrap();
    let names: Vec<String> = a.column_descs().iter().map(sheaf::ColumnDesc::name).collect();
    assert_eq!(names, ["v{}", "v", "dense{}", "dense", "s{}", "s.p{}", "s.p"]);
    assert!(a.column("dense").unwrap().is_zero_copy());
    let v = a.column("v").unwrap();
    assert_eq!((v.desc().validity_bits_per_row(), v.null_count()), (3, 300 * (1 + 3 + 3)), "each element: 1 null item, a null list's 3, 3 null items");
    assert_eq!(a.column("v{}").unwrap().null_count(), 300);
}

#[test]
fn skip_unsupported_drops_only_the_columns_sheaf_cannot_hold_with_a_warning_each() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("mixed.arrow");
    let out = dir.path().join("mixed.sheaf");
    let back = dir.path().join("back.arrow");
    let py = python(&["pyarrow"]);
    let make = r#"
import sys, pyarrow as pa, pyarrow.ipc as ipc
u = pa.array([{}, {}, {}], pa.struct([]))
t = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "u": u, "s": pa.array(["x", None, "z"])})
with ipc.new_file(sys.argv[1], t.schema) as w:
    w.write_table(t)
"#;
    let st = std::process::Command::new(&py).args(["-c", make, src.to_str().unwrap()]).status().unwrap();
    assert!(st.success());
    let refused = sheaf(&["convert", src.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "a struct of no fields (no columns to store) refuses the file by default");
    let o = sheaf(&["convert", "--skip-unsupported", src.to_str().unwrap(), out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("warning").count(), 1, "one warning, for the one skipped column: {err}");
    assert!(err.contains("skipping column \"u\""), "{err}");
    ok(&["convert", out.to_str().unwrap(), back.to_str().unwrap()]);
    let check = r#"
import sys, pyarrow as pa, pyarrow.ipc as ipc
a, b = ipc.open_file(sys.argv[1]).read_all(), ipc.open_file(sys.argv[2]).read_all()
assert b.column_names == ["id", "s"], b.column_names
assert b.column("id").to_pylist() == a.column("id").to_pylist() and b.column("s").to_pylist() == a.column("s").to_pylist()
"#;
    let st = std::process::Command::new(&py).args(["-c", check, src.to_str().unwrap(), back.to_str().unwrap()]).status().unwrap();
    assert!(st.success(), "the kept columns come back exactly");
}

#[test]
fn compressed_ipc_batches_declaring_more_than_the_memory_limit_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("zeros.arrow");
    let out = dir.path().join("zeros.sheaf");
    let py = python(&["pyarrow", "numpy"]);
    // 200 MB of zeros in one zstd batch: a file of a few kB.
    let make = r#"
import sys, numpy as np, pyarrow as pa, pyarrow.ipc as ipc
t = pa.table({"z": np.zeros(25_000_000, np.int64)})
with ipc.new_file(sys.argv[1], t.schema, options=ipc.IpcWriteOptions(compression="zstd")) as w:
    w.write_table(t, max_chunksize=len(t))
"#;
    let st = std::process::Command::new(&py).args(["-c", make, src.to_str().unwrap()]).status().unwrap();
    assert!(st.success());
    assert!(std::fs::metadata(&src).unwrap().len() < 1 << 20);
    let refused =
        std::process::Command::new(crate::util::sheaf_bin()).env("SHEAF_MEMORY_LIMIT", "64M").args(["convert", src.to_str().unwrap(), out.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("memory limit") && err.contains("zeros.arrow") && err.lines().count() == 1, "{err}");
    assert!(!out.exists());
    ok(&["convert", src.to_str().unwrap(), out.to_str().unwrap()]);
}

/// The Arrow integration files written on a big-endian host read as their little-endian twins:
/// each converts to a sheaf file byte for byte the same as its twin's (files and streams: 40
/// pairs), and what the twin is refused for, it is refused for too.
#[test]
fn big_endian_ipc_converts_exactly_as_its_little_endian_twin() {
    let integration = repo_root().join("../shared/corpus/real/arrow/arrow-testing/data/arrow-ipc-stream/integration");
    let dir = tempfile::tempdir().unwrap();
    let mut identical = 0;
    let mut names: Vec<_> = std::fs::read_dir(integration.join("1.0.0-bigendian")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    for name in names {
        let from = match Path::new(&name).extension().and_then(|e| e.to_str()) {
            Some("stream") => "arrows",
            Some("arrow_file") => "arrow",
            _ => continue,
        };
        let convert = |endian: &str| {
            let out = dir.path().join(format!("{name}.{endian}.sheaf"));
            let src = integration.join(format!("1.0.0-{endian}endian")).join(&name);
            let o = sheaf(&["convert", "-q", "--from", from, src.to_str().unwrap(), out.to_str().unwrap()]);
            (o.status.code(), String::from_utf8_lossy(&o.stderr).replace(&format!("1.0.0-{endian}endian"), ""), out)
        };
        let (big, little) = (convert("big"), convert("little"));
        assert_eq!(big.0, little.0, "{name}: big-endian {} / little-endian {}", big.1, little.1);
        if little.0 == Some(0) {
            assert_eq!(std::fs::read(&big.2).unwrap(), std::fs::read(&little.2).unwrap(), "{name}");
            identical += 1;
        } else {
            assert_eq!(big.1, little.1, "{name}: refused for another reason");
        }
    }
    assert!(identical >= 30, "{identical} pairs converted");
}
