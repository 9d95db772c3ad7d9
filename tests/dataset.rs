//! Datasets: a directory (hive-partitioned) or glob of sheaf files is one table for the library
//! (`sheaf_convert::Source`), `sheaf head`, `inspect`, `convert` and `sql`; files may differ by
//! added nullable columns (nulls where absent); other differences are refused, naming the files.

use std::path::{Path, PathBuf};

use sheaf::{ArraySchema, ColumnInput, DType, Field, Leaf, LeafType, WriteOptions};
use sheaf_convert::{Format, Source};

use crate::util::sheaf;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `rows` ids from `first` with `x = id * 0.5`, and, when `with_label`, a nullable utf8 `label`
/// (`"L{id}"`, null for ids divisible by 3). Row groups of 100.
fn write_part(path: &Path, first: i64, rows: i64, with_label: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ids: Vec<i64> = (first..first + rows).collect();
    let x: Vec<f64> = ids.iter().map(|&i| i as f64 * 0.5).collect();
    let mut fields = vec![Field::new("id", DType::leaf(LeafType::Int(8))), Field::new("x", DType::leaf(LeafType::Float(8)))];
    let (mut offsets, mut text, mut validity) = (vec![0u64], Vec::new(), vec![0u8; (rows as usize).div_ceil(8)]);
    for (k, &i) in ids.iter().enumerate() {
        if i % 3 != 0 {
            validity[k / 8] |= 1 << (k % 8);
            text.extend_from_slice(format!("L{i}").as_bytes());
        }
        offsets.push(text.len() as u64);
    }
    let mut inputs = vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&x)];
    if with_label {
        fields.push(Field::new("label", DType::Leaf(Leaf::new(LeafType::Utf8).with_nullable(true))));
        inputs.push(ColumnInput::var(&offsets, &text).with_validity(&validity));
    }
    let schema = ArraySchema::new("part", DType::structure(fields));
    sheaf::write_arrays(path, &[(schema, inputs)], &WriteOptions::new().with_row_group_rows(100)).unwrap();
}

/// A hive dataset: `year=2023/` holds ids 0..250 without labels, `year=2024/` ids 250..400 and
/// 400..700 with labels, beside files a dataset reader passes over.
pub(crate) fn hive(dir: &Path) -> PathBuf {
    let root = dir.join("events");
    write_part(&root.join("year=2023/part-0.sheaf"), 0, 250, false);
    write_part(&root.join("year=2024/part-0.sheaf"), 250, 150, true);
    write_part(&root.join("year=2024/part-1.sheaf"), 400, 300, true);
    std::fs::write(root.join("year=2024/_SUCCESS"), b"").unwrap();
    write_part(&root.join("year=2024/.part-2.sheaf.tmp.sheaf"), 9000, 10, true);
    root
}

/// The label the data above holds for `id` in year `year` (`None`: null or absent).
fn label_of(id: i64) -> Option<String> {
    (id >= 250 && id % 3 != 0).then(|| format!("L{id}"))
}

#[test]
fn a_hive_directory_is_one_table_with_partition_columns_and_nulls_for_added_columns() {
    let dir = tempfile::tempdir().unwrap();
    let root = hive(dir.path());
    let source = Source::open(&root, Format::from_path(&root).unwrap()).unwrap();
    let arrays = source.arrays(&[]).unwrap();
    let [array] = arrays.as_slice() else { panic!("one array") };
    assert_eq!((array.name.as_str(), array.rows), ("events", 700));
    let names: Vec<String> = array.schema.columns().iter().map(sheaf::ColumnDesc::name).collect();
    assert_eq!(names, ["id", "x", "label", "year"]);
    let cols = array.schema.columns();
    assert!(cols[2].leaf.nullable && cols[3].leaf.nullable && cols[3].leaf.ty == LeafType::Int(8));
    let (mut ids, mut labels, mut years) = (Vec::new(), Vec::new(), Vec::new());
    // Rows 200..450 cross both partitions and three files.
    for batch in array.batches(&[0, 2, 3], 200, 450, 64) {
        let (n, c) = batch.unwrap();
        let (id, year) = (c[0].values_as::<i64>().unwrap(), c[2].values_as::<i64>().unwrap());
        for r in 0..n as usize {
            ids.push(id[r]);
            years.push(year[r]);
            labels.push(c[1].is_valid(r).then(|| {
                let o = c[1].offsets.as_ref().unwrap();
                String::from_utf8(c[1].values[o[r] as usize..o[r + 1] as usize].to_vec()).unwrap()
            }));
        }
    }
    assert_eq!(ids, (200..450).collect::<Vec<i64>>());
    assert_eq!(years, ids.iter().map(|&i| if i < 250 { 2023 } else { 2024 }).collect::<Vec<i64>>());
    assert_eq!(labels, ids.iter().map(|&i| label_of(i)).collect::<Vec<_>>());
}

#[test]
fn head_inspect_and_convert_read_a_dataset_as_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = hive(dir.path());
    let o = sheaf(&["inspect", root.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files: Vec<&str> = doc["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 3, "{files:?}: _SUCCESS and dot files are not part of it");
    assert_eq!(doc["files"][0]["partition"]["year"], "2023");
    let label = doc["arrays"][0]["columns"].as_array().unwrap().iter().find(|c| c["name"] == "label").unwrap().clone();
    // Nulls: the 250 rows of the file without labels, and every third id of the others.
    assert_eq!((label["in_files"].as_u64(), label["nulls"].as_u64()), (Some(2), Some(250 + (250..700).filter(|i| i % 3 == 0).count() as u64)));
    let id = doc["arrays"][0]["columns"].as_array().unwrap().iter().find(|c| c["name"] == "id").unwrap().clone();
    assert_eq!((id["min"].as_str(), id["max"].as_str()), (Some("0"), Some("699")));

    let o = sheaf(&["head", root.to_str().unwrap(), "--rows", "260", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let head: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(head[0]["rows"], 700);
    assert_eq!(head[0]["head"][255]["year"], "2024");
    assert_eq!(head[0]["head"][3]["label"], "None");

    // A glob with a partition folder in its fixed part: the files it matches, and (as polars
    // reads hive paths) no partition column from folders before the pattern.
    let pattern = format!("{}/year=2024/*.sheaf", root.display());
    let out = dir.path().join("copy.sheaf");
    let o = sheaf(&["convert", &pattern, out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = sheaf::File::open(&out).unwrap();
    let a = f.single().unwrap();
    assert_eq!(a.rows(), 450);
    let ids = a.column("id").unwrap().read().unwrap();
    assert_eq!(ids.values_as::<i64>().unwrap(), (250..700).collect::<Vec<i64>>().as_slice());
    let names: Vec<String> = a.schema().columns().iter().map(sheaf::ColumnDesc::name).collect();
    assert_eq!(names, ["id", "x", "label"]);
}

#[test]
fn sql_scans_a_dataset_directory_and_glob_with_the_same_answers_on_1_and_4_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let root = hive(dir.path());
    let expected_labels = (0..700).filter(|&i| label_of(i).is_some()).count();
    for partitions in ["1", "4"] {
        let q = format!("SELECT year, count(*) AS n, sum(id) AS s, count(label) AS l FROM '{}' GROUP BY year ORDER BY year", root.display());
        let o = sheaf(&["sql", &q, "--json", "--partitions", partitions]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let got: Vec<(String, i64, i64, i64)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["year"].to_string().trim_matches('"').to_string(), r["n"].as_i64().unwrap(), r["s"].as_i64().unwrap(), r["l"].as_i64().unwrap()))
            .collect();
        let l24 = (250..700).filter(|&i| label_of(i).is_some()).count() as i64;
        assert_eq!(got, [("2023".to_string(), 250, (0..250).sum(), 0), ("2024".to_string(), 450, (250..700).sum(), l24)], "{partitions} partitions");
        assert_eq!(got.iter().map(|g| g.3).sum::<i64>(), expected_labels as i64);

        let q = format!("SELECT count(*) AS n, count(label) AS l, min(id) AS lo FROM '{}/*/*.sheaf' WHERE x >= 100", root.display());
        let o = sheaf(&["sql", &q, "--json", "--partitions", partitions]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let l = (200..700).filter(|&i| label_of(i).is_some()).count() as i64;
        assert_eq!((rows[0]["n"].as_i64(), rows[0]["l"].as_i64(), rows[0]["lo"].as_i64()), (Some(500), Some(l), Some(200)), "{partitions} partitions");
    }
}

#[test]
fn dataset_files_that_cannot_be_one_table_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let clash = dir.path().join("clash");
    write_part(&clash.join("a.sheaf"), 0, 10, false);
    let ids: Vec<f64> = vec![1.0; 4];
    let schema = ArraySchema::new("part", DType::structure(vec![Field::new("id", DType::leaf(LeafType::Float(8)))]));
    sheaf::write_arrays(clash.join("b.sheaf"), &[(schema, vec![ColumnInput::fixed(&ids)])], &WriteOptions::new()).unwrap();
    let o = sheaf(&["head", clash.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("column \"id\"") && err.contains("a.sheaf") && err.contains("b.sheaf") && err.lines().count() == 1, "{err}");

    let mixed = dir.path().join("mixed");
    write_part(&mixed.join("k=1/a.sheaf"), 0, 10, false);
    write_part(&mixed.join("b.sheaf"), 10, 10, false);
    let o = sheaf(&["inspect", mixed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("partition"), "{}", stderr(&o));

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = sheaf(&["head", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no .sheaf files"), "{}", stderr(&o));
}

/// Files converted from Parquet carry their Arrow schema; a dataset of them keeps those types
/// (int32 stays int32, utf8 stays utf8) and still has its partition columns and the columns some
/// files lack. The first file's schema alone named fewer fields than the table has, so convert
/// dropped the partition column without a word.
#[test]
fn a_dataset_of_files_from_parquet_keeps_their_arrow_types_and_its_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let py = crate::util::python(&["pyarrow"]);
    let make = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int32()), "s": pa.array(["a", "b", None])}), f"{d}/a.parquet")
pq.write_table(pa.table({"id": pa.array([4, 5], pa.int32())}), f"{d}/b.parquet")
"#;
    assert!(std::process::Command::new(&py).args(["-c", make, dir.path().to_str().unwrap()]).status().unwrap().success());
    let ds = dir.path().join("ds");
    for (src, part) in [("a", "year=2023"), ("b", "year=2024")] {
        std::fs::create_dir_all(ds.join(part)).unwrap();
        let o = sheaf(&["convert", "-q", dir.path().join(format!("{src}.parquet")).to_str().unwrap(), ds.join(part).join("p.sheaf").to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let out = dir.path().join("out.parquet");
    let o = sheaf(&["convert", "-q", ds.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let check = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
want = pa.schema([pa.field("id", pa.int32()), pa.field("s", pa.string()), pa.field("year", pa.int64())])
assert t.schema.equals(want), t.schema
assert t.to_pydict() == {"id": [1, 2, 3, 4, 5], "s": ["a", "b", None, None, None], "year": [2023, 2023, 2023, 2024, 2024]}, t.to_pydict()
"#;
    let o = std::process::Command::new(&py).args(["-c", check, out.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}
