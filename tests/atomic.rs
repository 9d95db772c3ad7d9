//! Atomic writes: nothing appears at the target before `finish`; a dropped writer or an error
//! leaves an existing target as it was and no temporary file behind.

use sheaf::{ArraySchema, Codec, ColumnInput, DType, File, LeafType, WriteOptions, Writer};

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
        // On Linux the file being written has no name (O_TMPFILE); elsewhere a temporary sits
        // beside the target.
        let expected = if cfg!(target_os = "linux") { 1 } else { 2 };
        assert_eq!(entries(dir.path()).len(), expected, "what is beside the target while writing");
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

/// A `convert` killed (SIGKILL) at 100 random points, alternately through the plain streaming
/// writer (`--codec none`) and the encoding one (`--codec auto`), and to `.npy`: each time the
/// target is the old file or exactly the new one, and nothing else is left in the directory.
#[cfg(unix)]
#[test]
fn a_convert_killed_at_any_point_leaves_the_old_file_or_the_new_and_no_debris() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sheaf");
    let rows = 3_000_000u64;
    let ids: Vec<i64> = (0..rows as i64).collect();
    let vals: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.37).sin()).collect();
    let flags: Vec<u8> = (0..rows).map(|i| (i % 7) as u8).collect();
    let dtype = DType::structure(vec![
        sheaf::Field::new("id", DType::leaf(LeafType::Int(8))),
        sheaf::Field::new("v", DType::leaf(LeafType::Float(8))),
        sheaf::Field::new("f", DType::leaf(LeafType::UInt(1))),
    ]);
    let plain = WriteOptions::new().with_codec(sheaf::Codec::None);
    sheaf::write_arrays(&input, &[(ArraySchema::new("t", dtype), vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&vals), ColumnInput::fixed(&flags)])], &plain).unwrap();
    let bin = crate::util::sheaf_bin();
    let modes: [(&str, &[&str]); 3] = [("out.sheaf", &["--codec", "none"]), ("out.sheaf", &["--codec", "auto"]), ("out.npy", &[])];
    // The new file of each mode, written undisturbed, and how long that takes.
    let mut reference = Vec::new();
    for (i, (name, extra)) in modes.iter().enumerate() {
        let target = dir.path().join(format!("ref{i}.{}", name.rsplit('.').next().unwrap()));
        let start = std::time::Instant::now();
        let st = std::process::Command::new(&bin).arg("convert").arg(&input).arg(&target).args(*extra).status().unwrap();
        assert!(st.success());
        reference.push((std::fs::read(&target).unwrap(), start.elapsed()));
        std::fs::remove_file(&target).unwrap();
    }
    let old = b"the old file, which must survive any kill".to_vec();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (mut kept_old, mut got_new) = (0, 0);
    for round in 0..100 {
        let m = round % modes.len();
        let (name, extra) = modes[m];
        let target = dir.path().join(name);
        std::fs::write(&target, &old).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let full = reference[m].1.as_micros() as u64;
        let wait = std::time::Duration::from_micros(seed % (full + full / 4 + 1));
        let mut child = std::process::Command::new(&bin).arg("convert").arg(&input).arg(&target).args(extra).stderr(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(&target).unwrap();
        if now == old {
            kept_old += 1;
        } else {
            assert!(now == reference[m].0, "round {round} ({name} {extra:?}, killed after {wait:?}): the target is neither the old file nor the new one");
            got_new += 1;
        }
        assert_eq!(entries(dir.path()), ["in.sheaf", name], "round {round}: debris after a kill at {wait:?}");
        std::fs::remove_file(&target).unwrap();
    }
    assert!(kept_old > 10 && got_new > 0, "kills fell all on one side: {kept_old} old, {got_new} new");
}

/// Readers that map the target while another process replaces it, by rename, over and over:
/// every open sees one whole version (every value the version's number, every checksum sound),
/// and a file held open keeps its version to the end whatever replaces it.
#[test]
fn readers_never_see_a_torn_file_while_another_process_replaces_it() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let rows = 300_000usize;
    let versions: Vec<std::path::PathBuf> = (0..4i64)
        .map(|k| {
            let p = dir.path().join(format!("v{k}.sheaf"));
            let values = vec![k; rows];
            let codec = if k % 2 == 0 { Codec::None } else { Codec::Zstd(1) };
            let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
            sheaf::write_arrays(&p, &[(schema, vec![ColumnInput::fixed(&values)])], &WriteOptions::new().with_codec(codec).with_row_group_rows(50_000)).unwrap();
            p
        })
        .collect();
    let target = dir.path().join("t.sheaf");
    std::fs::copy(&versions[0], &target).unwrap();
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let check = |f: &File| -> i64 {
        f.verify().unwrap();
        let data = f.single().unwrap().column("").unwrap().read().unwrap();
        let v = data.values_as::<i64>().unwrap();
        assert_eq!(v.len(), rows);
        assert!(v.iter().all(|&x| x == v[0]) && (0..4).contains(&v[0]), "a torn read: {} then {:?}", v[0], v.iter().find(|&&x| x != v[0]));
        v[0]
    };
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let f = File::open(&target).unwrap();
                    check(&f);
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // One file held open across every replacement keeps reading as the version it opened.
        s.spawn(|| {
            let held = File::open(&target).unwrap();
            let first = check(&held);
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(check(&held), first);
            }
        });
        for i in 1..=24 {
            let from = &versions[i % versions.len()];
            let o = crate::util::sheaf(&["concat", from.to_str().unwrap(), target.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(reads.load(Ordering::Relaxed) > 10, "the readers ran");
    assert_eq!(entries(dir.path()).len(), versions.len() + 1, "no temporary left: {:?}", entries(dir.path()));
}
