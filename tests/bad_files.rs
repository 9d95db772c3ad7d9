//! The bad-file corpus in `tests/data/bad/`: files each broken in one known way, listed in
//! `expected.json` with the error each must give (the `Error` variant for sheaf files read
//! through the library, a message fragment for every file read through the CLI). The completeness
//! test holds the listing and the directory to each other, and every `Error` variant has a case
//! here: a file or, for the errors of the API rather than of files, a call.
//!
//! `cargo test -p sheaf-cli --test integration regenerate_bad_corpus -- --ignored` writes the
//! files again (they are committed; the listing is written by hand).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Error, File, LeafType, WriteOptions};

use crate::corrupt::{footer_fields, read_everything, reseal, sample, sample_with_schema};
use crate::util::{repo_root, sheaf};

fn corpus() -> PathBuf {
    repo_root().join("tests/data/bad")
}

/// The variant's name (each one in [`ALL_VARIANTS`], which [`every_error_variant_has_a_case`]
/// asks a case of).
fn variant(e: &Error) -> &'static str {
    match e.kind() {
        Error::Io { .. } => "Io",
        Error::InFile { .. } => "InFile",
        Error::TooShort { .. } => "TooShort",
        Error::BadMagic { .. } => "BadMagic",
        Error::UnsupportedVersion { .. } => "UnsupportedVersion",
        Error::OutOfBounds { .. } => "OutOfBounds",
        Error::Misaligned { .. } => "Misaligned",
        Error::OverlappingBuffers { .. } => "OverlappingBuffers",
        Error::ChecksumMismatch { .. } => "ChecksumMismatch",
        Error::NonZeroPadding { .. } => "NonZeroPadding",
        Error::LimitExceeded { .. } => "LimitExceeded",
        Error::InvalidSchema { .. } => "InvalidSchema",
        Error::InvalidDType { .. } => "InvalidDType",
        Error::InvalidChunk { .. } => "InvalidChunk",
        Error::UnknownCodec { .. } => "UnknownCodec",
        Error::Decode { .. } => "Decode",
        Error::NotFound { .. } => "NotFound",
        Error::TypeMismatch { .. } => "TypeMismatch",
        Error::NotZeroCopy { .. } => "NotZeroCopy",
        Error::RowRange { .. } => "RowRange",
        Error::BadInput { .. } => "BadInput",
        Error::Internal { .. } => "Internal",
        // `Error` is non-exhaustive: a variant added later lands here until it is named.
        _ => "unlisted",
    }
}

const ALL_VARIANTS: [&str; 22] = [
    "Io",
    "InFile",
    "TooShort",
    "BadMagic",
    "UnsupportedVersion",
    "OutOfBounds",
    "Misaligned",
    "OverlappingBuffers",
    "ChecksumMismatch",
    "NonZeroPadding",
    "LimitExceeded",
    "InvalidSchema",
    "InvalidDType",
    "InvalidChunk",
    "UnknownCodec",
    "Decode",
    "NotFound",
    "TypeMismatch",
    "NotZeroCopy",
    "RowRange",
    "BadInput",
    "Internal",
];

/// Where column `global`'s chunk table lies: (directory entry offset, table offset, chunks).
fn table_of(b: &[u8], global: usize) -> (usize, usize, usize) {
    let t = footer_fields(b);
    let d = t.directory_offset as usize + 32 * global;
    let table = u64::from_le_bytes(b[d..d + 8].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(b[d + 8..d + 12].try_into().unwrap()) as usize;
    (d, table, count)
}

/// Edits column `global`'s chunk table with `edit`, then makes its checksum and the footer's
/// match, so that only the reader's structural checks stand in the way.
fn edit_table(b: &mut [u8], global: usize, edit: impl FnOnce(&mut [u8])) {
    let (d, table, count) = table_of(b, global);
    edit(&mut b[table..table + count * 144]);
    let sum = sheaf::format::checksum(&b[table..table + count * 144]);
    b[d + 16..d + 24].copy_from_slice(&sum.to_le_bytes());
    reseal(b);
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The broken files, by name.
fn broken_files() -> Vec<(&'static str, Vec<u8>)> {
    let plain = sample(Codec::None);
    let zstd = sample(Codec::Zstd(3));
    let n = plain.len();
    let mut out: Vec<(&'static str, Vec<u8>)> = vec![("too_short.sheaf", plain[..20].to_vec())];
    let mut b = plain.clone();
    b[0] = b'X';
    out.push(("bad_magic.sheaf", b));
    let mut b = plain.clone();
    b[8] = 2;
    out.push(("future_major_version.sheaf", b));
    let mut b = plain.clone();
    let t = footer_fields(&b);
    b[t.schema_offset as usize + 3] ^= 0x20;
    out.push(("footer_checksum.sheaf", b));
    let mut b = plain.clone();
    b[n - 64..n - 56].copy_from_slice(&(n as u64).to_le_bytes());
    out.push(("schema_past_the_end.sheaf", b));
    let mut b = plain.clone();
    b[n - 40..n - 36].copy_from_slice(&u32::MAX.to_le_bytes());
    out.push(("absurd_column_count.sheaf", b));
    out.push(("duplicate_field.sheaf", sample_with_schema(|s| s.replacen("\"pos\"", "\"id\" ", 1))));
    out.push(("unknown_dtype.sheaf", sample_with_schema(|s| s.replacen("\"type\":\"i8\"", "\"type\":\"q8\"", 1))));
    // Column 0 ("id"): one plain chunk in `plain`, three of 100 rows in `zstd`.
    let mut b = plain.clone();
    let (d, ..) = table_of(&b, 0);
    let off = u64_at(&b, d) + 8;
    b[d..d + 8].copy_from_slice(&off.to_le_bytes());
    reseal(&mut b);
    out.push(("misaligned_chunk_table.sheaf", b));
    let mut b = zstd.clone();
    edit_table(&mut b, 0, |t| {
        let first_values = t[96..104].to_vec();
        t[144 + 96..144 + 104].copy_from_slice(&first_values);
    });
    out.push(("overlapping_buffers.sheaf", b));
    let mut b = plain.clone();
    edit_table(&mut b, 0, |t| t[8..16].copy_from_slice(&1000u64.to_le_bytes()));
    out.push(("more_nulls_than_rows.sheaf", b));
    let mut b = zstd.clone();
    edit_table(&mut b, 0, |t| t[96 + 32] = 200);
    out.push(("unknown_codec.sheaf", b));
    // A zstd buffer of garbage whose checksum matches: only the codec can tell.
    let mut b = zstd.clone();
    let (_, table, _) = table_of(&b, 0);
    let (at, len) = (u64_at(&b, table + 96) as usize, u64_at(&b, table + 104) as usize);
    for (i, x) in b[at..at + len].iter_mut().enumerate() {
        *x = (i * 37 % 251) as u8;
    }
    let sum = sheaf::format::checksum(&b[at..at + len]);
    edit_table(&mut b, 0, |t| t[96 + 24..96 + 32].copy_from_slice(&sum.to_le_bytes()));
    out.push(("corrupt_zstd_stream.sheaf", b));
    // A flipped byte in plain data: reads that check (verify, decode) say so.
    let mut b = plain.clone();
    let (_, table, _) = table_of(&b, 0);
    let at = u64_at(&b, table + 96) as usize + 9;
    b[at] ^= 1;
    out.push(("data_checksum.sheaf", b));
    // A byte set in the padding after a buffer that does not end on 64 bytes.
    let mut b = plain.clone();
    let f = File::from_bytes(&plain).unwrap();
    let name = f.single().unwrap().column("name").unwrap().chunks()[0].values;
    drop(f);
    let end = (name.offset + name.stored_len) as usize;
    assert!(!end.is_multiple_of(64), "the padding case needs an unaligned buffer end");
    b[end] = 1;
    out.push(("nonzero_padding.sheaf", b));
    out
}

/// Files of other formats, written through the CLI and NumPy-format text, each broken.
fn foreign_files(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let npy = |descr: &str, shape: &str, data: &[u8]| {
        let mut header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    };
    let mut out = vec![
        ("object_dtype.npy", npy("'|O'", "(2,)", &[0u8; 16])),
        ("truncated_data.npy", npy("'<f8'", "(100,)", &[0u8; 80])),
        ("unknown_descr.npy", npy("'<q9'", "(1,)", &[0u8; 9])),
        ("header_not_a_dict.npy", npy("'<f8'", "(1,)", &[0u8; 8]).iter().map(|&c| if c == b'{' { b'[' } else { c }).collect()),
    ];
    let sheaf_file = dir.join("t.sheaf");
    let v: Vec<i64> = (0..1000).collect();
    sheaf::write_arrays(&sheaf_file, &[(ArraySchema::new("t", DType::leaf(LeafType::Int(8))), vec![ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap();
    let parquet = dir.join("t.parquet");
    assert!(sheaf(&["convert", sheaf_file.to_str().unwrap(), parquet.to_str().unwrap()]).status.success());
    let whole = std::fs::read(&parquet).unwrap();
    out.push(("truncated.parquet", whole[..whole.len() / 2].to_vec()));
    let arrow = dir.join("t.arrow");
    assert!(sheaf(&["convert", sheaf_file.to_str().unwrap(), arrow.to_str().unwrap()]).status.success());
    let whole = std::fs::read(&arrow).unwrap();
    out.push(("truncated.arrow", whole[..whole.len() - 40].to_vec()));
    out
}

#[test]
#[ignore = "writes the committed corpus; run by hand after changing a case"]
fn regenerate_bad_corpus() {
    let dir = corpus();
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in broken_files().into_iter().chain(foreign_files(tmp.path())) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// What a file of the corpus must give.
struct Expected {
    /// The `Error` variant, for sheaf files.
    error: Option<String>,
    /// A fragment of the CLI's one-line message.
    message: String,
}

fn listing() -> BTreeMap<String, Expected> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, e)| (name.clone(), Expected { error: e["error"].as_str().map(str::to_string), message: e["message"].as_str().unwrap().to_string() }))
        .collect()
}

#[test]
fn bad_corpus_is_complete_and_each_file_gives_its_error() {
    let dir = corpus();
    let listing = listing();
    let files: BTreeSet<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n != "expected.json").collect();
    let listed: BTreeSet<String> = listing.keys().cloned().collect();
    assert_eq!(files, listed, "every file of tests/data/bad is listed in expected.json, and every listed file is there");
    // The committed files are the generator's (a changed case must be regenerated).
    for (name, bytes) in broken_files() {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), bytes, "{name} differs from what the generator writes: regenerate");
    }
    for (name, want) in &listing {
        let path = dir.join(name);
        if let Some(kind) = &want.error {
            let bytes = std::fs::read(&path).unwrap();
            let e = read_everything(&bytes).err().unwrap_or_else(|| panic!("{name} reads without an error"));
            assert_eq!(variant(&e), kind, "{name}: {e}");
        }
        for cmd in ["inspect", "verify"] {
            if cmd == "verify" && !name.ends_with(".sheaf") {
                continue;
            }
            let o = sheaf(&[cmd, path.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&o.stderr);
            if cmd == "inspect" && o.status.success() && name.ends_with(".sheaf") {
                // inspect reads only what it shows (no plain data): verify must catch the rest.
                continue;
            }
            assert_eq!(o.status.code(), Some(1), "{cmd} {name}: {err}");
            assert_eq!(err.lines().count(), 1, "{cmd} {name}: one line: {err}");
            assert!(err.contains(&want.message), "{cmd} {name}: {err:?} lacks {:?}", want.message);
            assert!(err.contains(name), "{cmd} {name}: the message names the file: {err}");
        }
    }
}

#[test]
fn every_error_variant_has_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let listing = listing();
    for want in listing.values() {
        if let Some(kind) = &want.error {
            seen.insert(ALL_VARIANTS.iter().find(|v| *v == kind).unwrap_or_else(|| panic!("unknown variant {kind}")));
        }
    }
    // The errors of calls rather than of files.
    let path = dir.path().join("x.sheaf");
    let v: Vec<i64> = (0..1000).collect();
    let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
    sheaf::write_arrays(&path, &[(schema.clone(), vec![ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap();
    let f = File::open(&path).unwrap();
    let col = f.single().unwrap().column("").unwrap();
    let cases: Vec<Error> = vec![
        File::open(dir.path().join("missing.sheaf")).unwrap_err(),
        File::open(corpus().join("bad_magic.sheaf")).unwrap_err(),
        f.array("nope").unwrap_err(),
        col.as_slice::<f64>().unwrap_err(),
        col.read_rows(10..2000).unwrap_err(),
        col.take(&[1000]).unwrap_err(),
        sheaf::write_arrays(dir.path().join("y.sheaf"), &[(schema.clone(), vec![ColumnInput::fixed(&v[..3]), ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap_err(),
        Error::Internal { reason: "a bug".into() },
    ];
    assert!(matches!(cases[1], Error::InFile { .. }), "errors of a named file carry its path: {}", cases[1]);
    seen.insert("InFile");
    for e in &cases {
        let msg = e.to_string();
        assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
        seen.insert(variant(e));
    }
    // Not zero-copy: a compressed column asked for as a view.
    let z = dir.path().join("z.sheaf");
    sheaf::write_arrays(&z, &[(schema, vec![ColumnInput::fixed(&v)])], &WriteOptions::new().with_codec(Codec::Zstd(1))).unwrap();
    let e = File::open(&z).unwrap().single().unwrap().column("").unwrap().as_slice::<i64>().unwrap_err();
    seen.insert(variant(&e));
    let missing: Vec<&&str> = ALL_VARIANTS.iter().filter(|v| !seen.contains(**v)).collect();
    assert!(missing.is_empty(), "variants without a case: {missing:?}");
}

/// Every file of the bad corpus and every input the fuzzers found a fault with
/// (`tests/data/fuzz/<target>/`, kept as regression cases), converted by `sheaf` in a child whose
/// address space is capped at 1 GiB: each ends in a clean exit (1 with a one-line message naming
/// the file; 0 where the fault is one only `verify` looks for), never an abort or a signal. A
/// declared size that the checks miss shows up here as the allocator's abort.
#[test]
fn hostile_files_fail_cleanly_under_a_1_gib_memory_cap() {
    let fuzz = repo_root().join("tests/data/fuzz");
    let mut cases: Vec<(PathBuf, bool)> =
        std::fs::read_dir(corpus()).unwrap().map(|e| (e.unwrap().path(), false)).filter(|(p, _)| p.extension().is_some_and(|e| e != "json")).collect();
    for target in std::fs::read_dir(&fuzz).unwrap() {
        for f in std::fs::read_dir(target.unwrap().path()).unwrap() {
            cases.push((f.unwrap().path(), true));
        }
    }
    assert!(cases.iter().filter(|c| c.1).count() >= 1, "no fuzz regression cases under {}", fuzz.display());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.sheaf");
    // With --skip-unsupported, files whose unsupported columns would refuse them are decoded too.
    for ((path, from_fuzzer), skip) in cases.iter().flat_map(|c| [(c, ""), (c, "--skip-unsupported")]) {
        let script = "ulimit -v 1048576; exec \"$0\" convert $3 \"$1\" \"$2\"";
        let o = std::process::Command::new("sh")
            .args(["-c", script, crate::util::sheaf_bin().to_str().unwrap(), path.to_str().unwrap(), out.to_str().unwrap(), skip])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) if !from_fuzzer => {}
            Some(1) => assert!(err.trim_end().lines().count() == 1 && err.contains(path.file_name().unwrap().to_str().unwrap()), "{}: {err}", path.display()),
            other => panic!("{} {skip}: exit {other:?} under the memory cap: {err}", path.display()),
        }
    }
}

/// Plain chunks are handed out unchecked by reads (that is what zero-copy is), but a conversion
/// copies them into a new file: a damaged one must stop it, in every output format, with the
/// column, chunk and offset named and no output left behind.
#[test]
fn converting_a_file_with_a_damaged_plain_chunk_fails_and_names_it() {
    let src = repo_root().join("tests/data/bad/data_checksum.sheaf");
    let dir = tempfile::tempdir().unwrap();
    for ext in ["sheaf", "arrow", "parquet", "csv"] {
        let out = dir.path().join(format!("out.{ext}"));
        let o = sheaf(&["convert", "-q", src.to_str().unwrap(), out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "to .{ext}: {err}");
        assert!(err.contains("checksum mismatch in column t/id, chunk 0 at offset 64") && err.contains("data_checksum.sheaf"), "to .{ext}: {err}");
        assert!(!out.exists(), "to .{ext}: no output is left");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary files either");
}
