//! Appends in place (format 1.6): readers that opened the file before keep the old version, an
//! abandoned or killed append leaves the old version and nothing else, a second appender is
//! refused while one runs, and `sheaf append` takes any input format and refuses a mismatched
//! one. (The independent spec reader reads appended files: `spec_reader`.)

use std::path::Path;

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Field, File, LeafType, WriteOptions, Writer};

use crate::util::{sheaf, sheaf_bin};

fn ticks_dtype() -> DType {
    DType::structure(vec![Field::new("id", DType::leaf(LeafType::Int(8))), Field::new("v", DType::leaf(LeafType::Float(8)))])
}

/// Writes rows `range` of the `t` table (`id` = row, `v` = row / 2) to a new file.
fn write_ticks(path: &Path, range: std::ops::Range<i64>, codec: Codec) {
    let ids: Vec<i64> = range.clone().collect();
    let vs: Vec<f64> = range.map(|i| i as f64 / 2.0).collect();
    sheaf::write_arrays(path, &[(ArraySchema::new("t", ticks_dtype()), vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&vs)])], &WriteOptions::new().with_codec(codec)).unwrap();
}

/// Appends rows `range` of the `t` table.
fn append_ticks(path: &Path, range: std::ops::Range<i64>, codec: Codec) {
    let ids: Vec<i64> = range.clone().collect();
    let vs: Vec<f64> = range.map(|i| i as f64 / 2.0).collect();
    let mut w = Writer::open_append(path, WriteOptions::new().with_codec(codec)).unwrap();
    let id = w.array_id("t").unwrap();
    w.append(id, &[ColumnInput::fixed(&ids), ColumnInput::fixed(&vs)]).unwrap();
    w.finish().unwrap();
}

fn ids_of(file: &File) -> Vec<i64> {
    file.array("t").unwrap().column("id").unwrap().read().unwrap().values_as::<i64>().unwrap().to_vec()
}

#[test]
fn appends_add_rows_in_place_and_readers_of_the_old_version_keep_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sheaf");
    write_ticks(&path, 0..100_000, Codec::None);
    let before = std::fs::read(&path).unwrap();
    // Open both ways before the append: mapped (zero-copy views) and by positioned reads.
    let mapped = File::open(&path).unwrap();
    let mapped_ids = mapped.array("t").unwrap().column("id").unwrap();
    let view: &[i64] = mapped_ids.as_slice::<i64>().unwrap();
    let unmapped = File::open_unmapped(&path).unwrap();
    append_ticks(&path, 100_000..150_000, Codec::AUTO);
    append_ticks(&path, 150_000..150_010, Codec::Zstd(3));

    // The old bytes are untouched: the append wrote after them only.
    let after = std::fs::read(&path).unwrap();
    assert_eq!(&after[..before.len()], &before[..], "an append rewrote bytes of the old version");
    assert_eq!(view.len(), 100_000);
    assert_eq!(view[99_999], 99_999);
    assert_eq!(ids_of(&unmapped), (0..100_000).collect::<Vec<i64>>());

    let file = File::open(&path).unwrap();
    assert_eq!(ids_of(&file), (0..150_010).collect::<Vec<i64>>());
    let v = file.array("t").unwrap().column("v").unwrap().read_rows(149_990..150_010).unwrap();
    assert_eq!(v.values_as::<f64>().unwrap(), (149_990..150_010).map(|i| i as f64 / 2.0).collect::<Vec<f64>>());
    assert_eq!(file.array("t").unwrap().shape(), [150_010]);
    assert_eq!(file.version(), (1, 6));
    let report = file.verify().unwrap();
    assert_eq!((report.versions, report.uncommitted_bytes), (3, 0));
    // Statistics cover the appended chunks too: the last chunk's bounds are its rows'.
    let stats = file.array("t").unwrap().column("id").unwrap().statistics().unwrap().unwrap();
    assert_eq!(stats.len(), file.array("t").unwrap().column("id").unwrap().chunks().len());
    assert_eq!(stats.last().unwrap().max, Some(sheaf::StatValue::Int(150_009)));
    // The version before the last append is the file as it was.
    assert_eq!(ids_of(&file.previous_version().unwrap().unwrap()), (0..150_000).collect::<Vec<i64>>());
}

#[test]
fn an_abandoned_append_leaves_the_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sheaf");
    write_ticks(&path, 0..1000, Codec::AUTO);
    let before = std::fs::read(&path).unwrap();
    {
        let mut w = Writer::open_append(&path, WriteOptions::new()).unwrap();
        let id = w.array_id("t").unwrap();
        let ids: Vec<i64> = (0..2_000_000).collect();
        let vs = vec![0.5f64; ids.len()];
        w.append(id, &[ColumnInput::fixed(&ids), ColumnInput::fixed(&vs)]).unwrap();
        // Mid-append, a new reader sees the old version.
        assert_eq!(ids_of(&File::open(&path).unwrap()).len(), 1000);
        // A mismatched batch is an error; dropping the writer then abandons the append.
        assert!(w.append(id, &[ColumnInput::fixed(&ids)]).is_err());
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "debris beside the file");
}

#[test]
fn an_interrupted_append_reads_as_the_old_version_and_the_next_append_reclaims_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sheaf");
    write_ticks(&path, 0..1000, Codec::AUTO);
    let committed = std::fs::read(&path).unwrap();
    // What a kill mid-append leaves: unfinished bytes after the file, then the copy of the
    // committed trailer that always ends the file during an append.
    let mut torn = committed.clone();
    torn.resize(torn.len().next_multiple_of(64), 0);
    torn.extend(std::iter::repeat_n(0xAB, 10_000));
    torn.extend_from_slice(&committed[committed.len() - 64..]);
    std::fs::write(&path, &torn).unwrap();

    let file = File::open(&path).unwrap();
    assert_eq!(ids_of(&file), (0..1000).collect::<Vec<i64>>());
    let report = file.verify().unwrap();
    assert_eq!(report.uncommitted_bytes, (torn.len() - committed.len() - 64) as u64);
    let out = sheaf(&["verify", path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted append"), "{}", String::from_utf8_lossy(&out.stderr));

    append_ticks(&path, 1000..1500, Codec::AUTO);
    let file = File::open(&path).unwrap();
    assert_eq!(ids_of(&file), (0..1500).collect::<Vec<i64>>());
    assert_eq!(file.verify().unwrap().uncommitted_bytes, 0);
    assert_eq!(&std::fs::read(&path).unwrap()[..committed.len()], &committed[..]);

    // A trailer that neither follows its footer nor repeats the one that does is not an
    // interrupted append: the appender refuses to cut anything.
    let mut bad = std::fs::read(&path).unwrap();
    let n = bad.len();
    let mut copy = committed[committed.len() - 64..].to_vec();
    bad.extend(std::iter::repeat_n(0xCD, 640));
    copy[8] ^= 1; // another schema length: a trailer of no version
    bad.extend_from_slice(&copy);
    std::fs::write(&path, &bad).unwrap();
    assert!(Writer::open_append(&path, WriteOptions::new()).is_err());
    assert_eq!(std::fs::read(&path).unwrap().len(), n + 640 + 64);
}

#[test]
fn one_append_at_a_time_and_arrays_that_cannot_grow_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sheaf");
    write_ticks(&path, 0..10, Codec::AUTO);
    let first = Writer::open_append(&path, WriteOptions::new()).unwrap();
    let second = Writer::open_append(&path, WriteOptions::new()).unwrap_err();
    assert!(second.to_string().contains("another append"), "{second}");
    drop(first);
    Writer::open_append(&path, WriteOptions::new()).unwrap();

    // N-d arrays grow along their first dimension, by whole rows.
    let nd = dir.path().join("nd.sheaf");
    let cells: Vec<i32> = (0..12).collect();
    let schema = ArraySchema::new("m", DType::leaf(LeafType::Int(4))).with_shape(vec![4, 3]);
    sheaf::write_arrays(&nd, &[(schema, vec![ColumnInput::fixed(&cells)])], &WriteOptions::new()).unwrap();
    let mut w = Writer::open_append(&nd, WriteOptions::new()).unwrap();
    let id = w.array_id("m").unwrap();
    w.append(id, &[ColumnInput::fixed(&[12i32, 13, 14, 15, 16, 17])]).unwrap();
    w.finish().unwrap();
    assert_eq!(File::open(&nd).unwrap().array("m").unwrap().shape(), [6, 3]);
    let mut w = Writer::open_append(&nd, WriteOptions::new()).unwrap();
    let id = w.array_id("m").unwrap();
    w.append(id, &[ColumnInput::fixed(&[1i32])]).unwrap();
    assert!(w.finish().unwrap_err().to_string().contains("whole rows"));

    // 0-d and Fortran-ordered arrays cannot take rows.
    let zero = dir.path().join("zero.sheaf");
    let schema = ArraySchema::new("s", DType::leaf(LeafType::Int(4))).with_shape(vec![]);
    sheaf::write_arrays(&zero, &[(schema, vec![ColumnInput::fixed(&[7i32])])], &WriteOptions::new()).unwrap();
    let mut w = Writer::open_append(&zero, WriteOptions::new()).unwrap();
    let id = w.array_id("s").unwrap();
    assert!(w.append(id, &[ColumnInput::fixed(&[1i32])]).unwrap_err().to_string().contains("0-dimensional"));
    let fortran = dir.path().join("f.sheaf");
    let schema = ArraySchema::new("f", DType::leaf(LeafType::Int(4))).with_shape(vec![2, 6]).with_fortran_order(true);
    sheaf::write_arrays(&fortran, &[(schema, vec![ColumnInput::fixed(&cells)])], &WriteOptions::new()).unwrap();
    let mut w = Writer::open_append(&fortran, WriteOptions::new()).unwrap();
    let id = w.array_id("f").unwrap();
    assert!(w.append(id, &[ColumnInput::fixed(&cells)]).unwrap_err().to_string().contains("Fortran"));
}

#[test]
fn sheaf_append_takes_any_input_format_and_refuses_another_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.sheaf");
    let more = dir.path().join("more.sheaf");
    write_ticks(&target, 0..1000, Codec::AUTO);
    write_ticks(&more, 1000..3000, Codec::None);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Through Parquet and .npy too: the same rows converted by the CLI, appended back.
    let parquet = dir.path().join("more.parquet");
    let npy = dir.path().join("more.npy");
    let tail = dir.path().join("tail.sheaf");
    write_ticks(&tail, 3000..3500, Codec::AUTO);
    assert!(sheaf(&["convert", &s(&tail), &s(&parquet)]).status.success());
    let tail2 = dir.path().join("tail2.sheaf");
    write_ticks(&tail2, 3500..3600, Codec::AUTO);
    assert!(sheaf(&["convert", &s(&tail2), &s(&npy)]).status.success());

    let out = sheaf(&["append", &s(&target), &s(&more), &s(&npy), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["rows_appended"].as_u64(), v["rows"].as_u64()), (Some(2100), Some(3100)));
    // The npy rows were 3500..3600: what the file holds now is 0..3000 then those.
    let ids = ids_of(&File::open(&target).unwrap());
    assert_eq!(ids.len(), 3100);
    assert_eq!(&ids[..3000], &(0..3000).collect::<Vec<i64>>()[..]);
    assert_eq!(&ids[3000..], &(3500..3600).collect::<Vec<i64>>()[..]);

    // Parquet holds the dtype the Arrow mapping gives; appending it to a table converted from
    // Parquet works (same mapping), appending it to the original needs the same dtype.
    let from_parquet = dir.path().join("fp.sheaf");
    assert!(sheaf(&["convert", &s(&parquet), &s(&from_parquet)]).status.success());
    let out = sheaf(&["append", &s(&from_parquet), &s(&parquet)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(File::open(&from_parquet).unwrap().array_count(), 1);
    assert_eq!(File::open(&from_parquet).unwrap().arrays().next().unwrap().rows(), 1000);

    // Another dtype: one line naming both, exit 1, the target untouched.
    let other = dir.path().join("other.sheaf");
    let xs: Vec<i32> = (0..5).collect();
    sheaf::write_arrays(&other, &[(ArraySchema::new("t", DType::leaf(LeafType::Int(4))), vec![ColumnInput::fixed(&xs)])], &WriteOptions::new()).unwrap();
    let before = std::fs::read(&target).unwrap();
    let out = sheaf(&["append", &s(&target), &s(&other)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("<i4") && err.contains("same dtype"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
    // A remote target: a clear refusal.
    let out = sheaf(&["append", "s3://bucket/t.sheaf", &s(&more)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("local file"));
}

/// `sheaf append` killed (SIGKILL) at 120 random points of a large append: each time the file
/// is the old version or the new one (never torn, nothing lost), verifies, and nothing is left
/// beside it; the next append after a kill succeeds.
#[cfg(unix)]
#[test]
fn an_append_killed_at_any_point_leaves_the_old_version_or_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sheaf");
    let rows = 2_000_000i64;
    write_ticks(&input, 10_000..10_000 + rows, Codec::None);
    let bin = sheaf_bin();
    let base = dir.path().join("base.sheaf");
    write_ticks(&base, 0..10_000, Codec::AUTO);
    let old = std::fs::read(&base).unwrap();
    let codecs = ["none", "auto"];
    // The new file of each codec, appended undisturbed, and how long that takes.
    let mut reference = Vec::new();
    for codec in codecs {
        let target = dir.path().join("t.sheaf");
        std::fs::write(&target, &old).unwrap();
        let start = std::time::Instant::now();
        let st = std::process::Command::new(&bin).args(["append", "-q", "--codec", codec]).arg(&target).arg(&input).status().unwrap();
        assert!(st.success());
        reference.push((std::fs::read(&target).unwrap(), start.elapsed()));
    }
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (mut kept_old, mut got_new) = (0, 0);
    let target = dir.path().join("t.sheaf");
    for round in 0..120 {
        let m = round % codecs.len();
        std::fs::write(&target, &old).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let full = reference[m].1.as_micros() as u64;
        let wait = std::time::Duration::from_micros(seed % (full + full / 4 + 1));
        let mut child = std::process::Command::new(&bin).args(["append", "-q", "--codec", codecs[m]]).arg(&target).arg(&input).stderr(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        let file = File::open(&target).unwrap_or_else(|e| panic!("round {round} (killed after {wait:?}): the file does not open: {e}"));
        let rows_now = file.array("t").unwrap().rows();
        let report = file.verify().unwrap_or_else(|e| panic!("round {round} (killed after {wait:?}): {e}"));
        if rows_now == 10_000 {
            kept_old += 1;
            assert_eq!(&std::fs::read(&target).unwrap()[..old.len()], &old[..], "round {round}: the old version's bytes changed");
        } else {
            assert_eq!(rows_now, 10_000 + rows as u64, "round {round}: a torn version");
            assert_eq!(std::fs::read(&target).unwrap(), reference[m].0, "round {round}: the new version differs from an undisturbed append");
            assert_eq!(report.uncommitted_bytes, 0);
            got_new += 1;
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["base.sheaf", "in.sheaf", "t.sheaf"], "round {round}: debris after a kill at {wait:?}");
        if round % 10 == 0 && rows_now == 10_000 {
            // After a kill, the next append goes through and gives the same file as an
            // undisturbed one.
            let st = std::process::Command::new(&bin).args(["append", "-q", "--codec", codecs[m]]).arg(&target).arg(&input).status().unwrap();
            assert!(st.success());
            assert_eq!(std::fs::read(&target).unwrap(), reference[m].0, "round {round}: an append after a kill differs");
        }
    }
    assert!(kept_old > 10 && got_new > 0, "kills fell all on one side: {kept_old} old, {got_new} new");
}
