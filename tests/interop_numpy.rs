//! `.npy -> .sheaf -> .npy` is exact, proven with the real NumPy: files NumPy wrote for every
//! dtype it can save (but object), converted with every codec and back, compared by NumPy
//! (dtype, offsets, itemsize, shape, Fortran flag, every byte). Plus `.npz`, files from the shared
//! corpus, and object arrays refused.

use std::path::{Path, PathBuf};

use crate::util::{repo_root, run_python, sheaf};

fn convert(args: &[&str]) {
    let o = sheaf(args);
    assert!(o.status.success(), "sheaf {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    run_python(&["numpy"], "npy_cases.py", &[dir]);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    assert!(v.len() > 60, "the case generator made only {} files", v.len());
    v
}

#[test]
fn numpy_files_of_every_dtype_round_trip_exactly_with_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    let files = cases(&inputs);
    let mut pairs: Vec<PathBuf> = Vec::new();
    for (k, codec) in ["none", "auto", "zstd:1", "lz4"].iter().enumerate() {
        for (i, f) in files.iter().enumerate() {
            // Every codec on the interesting files; the full sweep with two codecs keeps it quick.
            if k >= 2 && i % 3 != 0 {
                continue;
            }
            let ext = f.extension().unwrap().to_str().unwrap();
            let mid = dir.path().join(format!("{}.{k}.sheaf", f.file_stem().unwrap().to_str().unwrap()));
            let back = dir.path().join(format!("{}.{k}.{ext}", f.file_stem().unwrap().to_str().unwrap()));
            convert(&["convert", "-q", f.to_str().unwrap(), mid.to_str().unwrap(), "--codec", codec, "--row-group-rows", "100"]);
            convert(&["verify", mid.to_str().unwrap()]);
            convert(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
            pairs.push(f.clone());
            pairs.push(back);
        }
    }
    let args: Vec<&Path> = pairs.iter().map(PathBuf::as_path).collect();
    let out = run_python(&["numpy"], "npy_compare.py", &args);
    let same = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("same: ")).count();
    assert_eq!(same, pairs.len() / 2);
}

#[test]
fn npz_writes_stored_and_deflated_archives_numpy_reads() {
    let dir = tempfile::tempdir().unwrap();
    let files = cases(&dir.path().join("in"));
    let npz: Vec<&PathBuf> = files.iter().filter(|f| f.extension().unwrap() == "npz").collect();
    assert_eq!(npz.len(), 2);
    let mut pairs = Vec::new();
    for (k, f) in npz.iter().enumerate() {
        let mid = dir.path().join(format!("z{k}.sheaf"));
        convert(&["convert", "-q", f.to_str().unwrap(), mid.to_str().unwrap()]);
        for deflate in [false, true] {
            let back = dir.path().join(format!("z{k}-{deflate}.npz"));
            let mut args = vec!["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()];
            if deflate {
                args.push("--deflate");
            }
            convert(&args);
            pairs.push((*f).clone());
            pairs.push(back);
        }
    }
    let args: Vec<&Path> = pairs.iter().map(PathBuf::as_path).collect();
    run_python(&["numpy"], "npy_compare.py", &args);
}

#[test]
fn corpus_npy_files_round_trip_or_are_refused_cleanly() {
    let root = repo_root().join("../shared/corpus/real");
    let catalogue = std::fs::read_to_string(root.join("CATALOGUE.tsv")).expect("the shared corpus must be beside the repository");
    let dir = tempfile::tempdir().unwrap();
    let (mut exact, mut refused) = (0, 0);
    let mut pairs = Vec::new();
    for line in catalogue.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if !matches!(cols[1], "npy" | "npz") {
            continue;
        }
        let src = root.join(cols[0]);
        let name = cols[0].replace('/', "_");
        let mid = dir.path().join(format!("{name}.sheaf"));
        let o = sheaf(&["convert", "-q", src.to_str().unwrap(), mid.to_str().unwrap()]);
        if cols[3] != "ok" {
            // NumPy refuses it (pickled objects): so must we, cleanly and saying why.
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{name}: {err}");
            assert!(err.contains("object arrays are refused"), "{name}: {err}");
            assert!(err.lines().count() == 1 && err.contains(src.to_str().unwrap()), "{name}: {err}");
            refused += 1;
            continue;
        }
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let back = dir.path().join(format!("{name}.{}", cols[1]));
        convert(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
        pairs.push(src);
        pairs.push(back);
        exact += 1;
    }
    let args: Vec<&Path> = pairs.iter().map(PathBuf::as_path).collect();
    run_python(&["numpy"], "npy_compare.py", &args);
    assert!(exact >= 15 && refused >= 5, "exact {exact}, refused {refused}");
}

#[test]
fn select_rows_and_shrink_give_what_numpy_would() {
    let dir = tempfile::tempdir().unwrap();
    let files = cases(&dir.path().join("in"));
    let src = files.iter().find(|f| f.ends_with("struct_particles.npy")).unwrap();
    let out = dir.path().join("part.npy");
    let mid = dir.path().join("part.sheaf");
    convert(&["convert", "-q", src.to_str().unwrap(), mid.to_str().unwrap(), "--select", "id,pos", "--rows", "10:50"]);
    convert(&["convert", "-q", mid.to_str().unwrap(), out.to_str().unwrap()]);
    let script = dir.path().join("check.py");
    std::fs::write(
        &script,
        format!(
            "import numpy as np\na=np.load({:?}); b=np.load({:?})\nexp=a[['id','pos']][10:50]\nassert b.dtype.names==('id','pos') and b.shape==(40,), b.dtype\nassert (b['id']==exp['id']).all() and (b['pos'].tobytes()==np.ascontiguousarray(exp['pos']).tobytes())\nprint('ok')\n",
            src, out
        ),
    )
    .unwrap();
    let py = crate::util::python(&["numpy"]);
    let o = std::process::Command::new(py).arg(&script).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn object_arrays_are_refused_and_never_unpickled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obj.npy");
    let script = dir.path().join("make.py");
    // An object array whose unpickling would create a marker file: it must never appear.
    let marker = dir.path().join("PWNED");
    std::fs::write(
        &script,
        format!(
            "import numpy as np, os\nclass P:\n    def __reduce__(self):\n        return (os.system, ('touch {}',))\nnp.save({:?}, np.array([P()], dtype=object), allow_pickle=True)\n",
            marker.display(),
            path
        ),
    )
    .unwrap();
    let py = crate::util::python(&["numpy"]);
    assert!(std::process::Command::new(py).arg(&script).status().unwrap().success());
    for cmd in ["convert", "inspect", "head", "suggest"] {
        let out = dir.path().join("o.sheaf");
        let args: Vec<&str> = if cmd == "convert" { vec![cmd, path.to_str().unwrap(), out.to_str().unwrap()] } else { vec![cmd, path.to_str().unwrap()] };
        let o = sheaf(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("object arrays are refused"), "{cmd}: {err}");
    }
    assert!(!marker.exists(), "the pickle ran");
}

/// A header's `descr` comes back in its own words, not only as an equal dtype: NumPy reads
/// `'<V2'` and `'float64'` but writes `'|V2'` and `'<f8'` for them. Every byte of the `.npy`
/// written back, from `.npy` and `.npz` alike, is the original's.
#[test]
fn descr_strings_round_trip_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let descrs = ["'<V2'", "'float64'", "'=i4'", "[('a', '<V2'), ('b', 'int32'), ('c', ('>u2', (2,)))]", "'<f8'"];
    for (i, descr) in descrs.iter().enumerate() {
        let dtype = sheaf_npy::dtype_of_descr(descr).unwrap();
        let rows = 5u64;
        let mut original = sheaf_npy::NpyHeader::encode_descr(descr, &[rows], false).unwrap();
        original.extend((0..rows * dtype.itemsize().unwrap()).map(|b| (b * 7 + i as u64) as u8));
        let src = dir.path().join(format!("{i}.npy"));
        std::fs::write(&src, &original).unwrap();
        let mid = dir.path().join(format!("{i}.sheaf"));
        let back = dir.path().join(format!("{i}.back.npy"));
        convert(&["convert", "-q", src.to_str().unwrap(), mid.to_str().unwrap()]);
        convert(&["convert", "-q", mid.to_str().unwrap(), back.to_str().unwrap()]);
        let header_text = |b: &[u8]| String::from_utf8_lossy(&b[10..b.len().min(120)]).into_owned();
        let written = std::fs::read(&back).unwrap();
        assert!(written == original, "{descr}: wrote {:?}", header_text(&written));
        // And through an .npz member.
        let npz = dir.path().join(format!("{i}.npz"));
        convert(&["convert", "-q", mid.to_str().unwrap(), npz.to_str().unwrap()]);
        let mid2 = dir.path().join(format!("{i}.2.sheaf"));
        let back2 = dir.path().join(format!("{i}.2.npy"));
        convert(&["convert", "-q", npz.to_str().unwrap(), mid2.to_str().unwrap()]);
        convert(&["convert", "-q", mid2.to_str().unwrap(), back2.to_str().unwrap()]);
        let written = std::fs::read(&back2).unwrap();
        assert!(written == original, "{descr} via .npz: wrote {:?}", header_text(&written));
    }
}
