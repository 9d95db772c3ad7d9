//! `sheaf sql`: query results equal DuckDB's over the same data as Parquet (filters on sorted
//! and unsorted columns, NaN and nulls, strings, datetimes, nested fields, joins, aggregates,
//! limits), with 1 and 4 partitions, and a selective filter prunes chunks
//! (`tests/py/sql_compare.py`); files DataFusion has no reader for are tables too; errors are
//! one line with exit code 1.

use crate::util::{run_python, sheaf, sheaf_bin};

#[test]
fn results_match_duckdb_with_one_and_four_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sheaf_bin();
    let out = run_python(&["numpy", "pyarrow", "duckdb"], "sql_compare.py", &[bin.as_path(), dir.path()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(" 0 differences"), "{text}");
}

#[test]
fn npy_files_are_tables_and_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("a.npy");
    let values: Vec<i64> = (0..100).collect();
    let schema = sheaf::ArraySchema::new("a", sheaf::DType::leaf(sheaf::LeafType::Int(8)));
    let sheaf_path = dir.path().join("a.sheaf");
    sheaf::write_arrays(&sheaf_path, &[(schema, vec![sheaf::ColumnInput::fixed(&values)])], &sheaf::WriteOptions::new()).unwrap();
    let conv = sheaf(&["convert", sheaf_path.to_str().unwrap(), npy.to_str().unwrap()]);
    assert!(conv.status.success(), "{}", String::from_utf8_lossy(&conv.stderr));
    let q = format!("SELECT sum(\"values\") AS s FROM '{}' WHERE \"values\" >= 90", npy.display());
    let out = sheaf(&["sql", "--csv", &q]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s\n945\n");
    // The result streamed into a sheaf file reads back.
    let res = dir.path().join("r.sheaf");
    let q = format!("SELECT \"values\" * 2 AS b FROM '{}' ORDER BY b", sheaf_path.display());
    let out = sheaf(&["sql", &q, "--output", res.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = sheaf::File::open(&res).unwrap();
    let col = file.single().unwrap().column("b").unwrap().read().unwrap();
    assert_eq!(col.values_as::<i64>().unwrap(), (0..100).map(|i| i * 2).collect::<Vec<i64>>().as_slice());
    for bad in [format!("SELECT nope FROM '{}'", sheaf_path.display()), "SELEC 1".to_string(), format!("SELECT * FROM '{}/missing.sheaf'", dir.path().display())] {
        let out = sheaf(&["sql", &bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad}: {err}");
        assert!(err.starts_with("sheaf: error: "), "{err}");
    }
}
