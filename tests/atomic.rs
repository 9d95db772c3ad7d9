//! Atomic writes: nothing appears at the target before `finish`; a dropped writer or an error
//! leaves an existing target as it was and no temporary file behind.

use sheaf::{ArraySchema, ColumnInput, DType, File, LeafType, WriteOptions, Writer};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn dropped_writer_leaves_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sheaf");
    std::fs::write(&path, b"old contents").unwrap();
    {
        let mut w = Writer::create(&path, WriteOptions::new()).unwrap();
        let id = w.add_array(ArraySchema::new("x", DType::leaf(LeafType::Int(4)))).unwrap();
        let v: Vec<i32> = (0..1000).collect();
        w.append(id, &[ColumnInput::fixed(&v)]).unwrap();
        assert_eq!(entries(dir.path()).len(), 2, "a temporary file beside the target while writing");
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"old contents");
    assert_eq!(entries(dir.path()), ["a.sheaf"]);
}

#[test]
fn failed_write_leaves_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sheaf");
    std::fs::write(&path, b"keep me").unwrap();
    let v: Vec<i32> = (0..10).collect();
    let w: Vec<i64> = (0..11).collect();
    let dtype = DType::structure(vec![sheaf::Field::new("a", DType::leaf(LeafType::Int(4))), sheaf::Field::new("b", DType::leaf(LeafType::Int(8)))]);
    let r = sheaf::write_arrays(&path, &[(ArraySchema::new("x", dtype), vec![ColumnInput::fixed(&v), ColumnInput::fixed(&w)])], &WriteOptions::new());
    let e = r.unwrap_err();
    assert!(e.to_string().contains("11 rows where the other columns have 10"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    assert_eq!(entries(dir.path()), ["b.sheaf"]);
}

#[test]
fn finish_replaces_the_target_and_old_maps_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sheaf");
    let first: Vec<i64> = vec![1, 2, 3];
    let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
    let plain = WriteOptions::new().with_codec(sheaf::Codec::None);
    sheaf::write_arrays(&path, &[(schema.clone(), vec![ColumnInput::fixed(&first)])], &plain).unwrap();
    let old = File::open(&path).unwrap();
    let second: Vec<i64> = vec![9, 9];
    sheaf::write_arrays(&path, &[(schema, vec![ColumnInput::fixed(&second)])], &plain).unwrap();
    assert_eq!(old.single().unwrap().column("").unwrap().as_slice::<i64>().unwrap(), &first[..]);
    assert_eq!(File::open(&path).unwrap().single().unwrap().column("").unwrap().as_slice::<i64>().unwrap(), &second[..]);
    assert_eq!(entries(dir.path()), ["c.sheaf"]);
}

#[test]
fn shape_that_does_not_hold_the_rows_fails_at_finish() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sheaf");
    let mut w = Writer::create(&path, WriteOptions::new()).unwrap();
    let id = w.add_array(ArraySchema::new("x", DType::leaf(LeafType::Int(1))).with_shape(vec![2, 3])).unwrap();
    w.append(id, &[ColumnInput::bytes(&[1, 2, 3, 4, 5])]).unwrap();
    assert!(w.finish().is_err());
    assert!(entries(dir.path()).is_empty());
}
