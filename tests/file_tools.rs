//! `sheaf concat`, `sheaf split` and `sheaf diff`: concatenation copies stored chunks byte for
//! byte (or encodes, where asked or needed), split pieces join back to the input, and diff finds
//! the first difference across formats.

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Field, File, Leaf, LeafType, WriteOptions};

use crate::util::sheaf;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A table of `rows` rows from `first`: ids, a float, and nullable strings.
fn table(path: &std::path::Path, first: i64, rows: i64, group: u64) {
    let ids: Vec<i64> = (first..first + rows).collect();
    let x: Vec<f64> = ids.iter().map(|&i| (i as f64).sin()).collect();
    let mut offsets = vec![0u64];
    let mut text = Vec::new();
    let mut validity = vec![0u8; (rows as usize).div_ceil(8)];
    for (k, &i) in ids.iter().enumerate() {
        if i % 5 != 0 {
            validity[k / 8] |= 1 << (k % 8);
            text.extend_from_slice(format!("name-{}", i % 97).as_bytes());
        }
        offsets.push(text.len() as u64);
    }
    let dtype = DType::structure(vec![
        Field::new("id", DType::leaf(LeafType::Int(8))),
        Field::new("x", DType::leaf(LeafType::Float(8))),
        Field::new("s", DType::Leaf(Leaf::new(LeafType::Utf8).with_nullable(true))),
    ]);
    let inputs = vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&x), ColumnInput::var(&offsets, &text).with_validity(&validity)];
    sheaf::write_arrays(path, &[(ArraySchema::new("t", dtype).with_shape(vec![rows as u64]), inputs)], &WriteOptions::new().with_codec(Codec::AUTO).with_row_group_rows(group))
        .unwrap();
}

/// The stored bytes of every chunk buffer of every column, in order.
fn stored_buffers(path: &std::path::Path) -> Vec<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).unwrap();
    let file = File::open(path).unwrap();
    file.single()
        .unwrap()
        .columns()
        .unwrap()
        .iter()
        .map(|c| {
            c.chunks()
                .iter()
                .flat_map(|e| [e.validity, e.offsets, e.values])
                .filter(|r| r.stored_len > 0)
                .map(|r| bytes[r.offset as usize..(r.offset + r.stored_len) as usize].to_vec())
                .collect()
        })
        .collect()
}

#[test]
fn concat_copies_stored_chunks_as_they_are_and_keeps_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out, whole) = (dir.path().join("a.sheaf"), dir.path().join("b.sheaf"), dir.path().join("out.sheaf"), dir.path().join("whole.sheaf"));
    table(&a, 0, 3000, 1000);
    table(&b, 3000, 2500, 700);
    table(&whole, 0, 5500, 1000);
    let o = sheaf(&["concat", a.to_str().unwrap(), b.to_str().unwrap(), out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((report["rows_copied"].as_u64(), report["rows_encoded"].as_u64()), (Some(5500), Some(0)));
    // Every buffer of the output is a buffer of an input, in order: nothing was encoded again.
    let (sa, sb, so) = (stored_buffers(&a), stored_buffers(&b), stored_buffers(&out));
    for c in 0..3 {
        assert_eq!(so[c], [sa[c].clone(), sb[c].clone()].concat(), "column {c}");
    }
    let f = File::open(&out).unwrap();
    f.verify().unwrap();
    let arr = f.single().unwrap();
    assert_eq!((arr.name(), arr.shape()), ("t", &[5500u64][..]));
    let stats = arr.column("id").unwrap().column_statistics().unwrap().unwrap();
    assert_eq!((stats.min, stats.max), (Some(sheaf::StatValue::Int(0)), Some(sheaf::StatValue::Int(5499))));
    let o = sheaf(&["diff", out.to_str().unwrap(), whole.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // A codec asked for encodes instead: plain columns, zero-copy.
    let plain = dir.path().join("plain.sheaf");
    let o = sheaf(&["concat", a.to_str().unwrap(), b.to_str().unwrap(), plain.to_str().unwrap(), "--codec", "none", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"rows_encoded\":5500"), "{}", stdout(&o));
    assert!(File::open(&plain).unwrap().single().unwrap().column("id").unwrap().is_zero_copy());
    assert!(sheaf(&["diff", plain.to_str().unwrap(), whole.to_str().unwrap()]).status.success());
}

#[test]
fn concat_refuses_other_dtypes_and_damaged_inputs_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, other, out) = (dir.path().join("a.sheaf"), dir.path().join("o.sheaf"), dir.path().join("out.sheaf"));
    table(&a, 0, 100, 50);
    let v: Vec<i32> = (0..10).collect();
    sheaf::write_arrays(&other, &[(ArraySchema::new("t", DType::leaf(LeafType::Int(4))), vec![ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap();
    let o = sheaf(&["concat", a.to_str().unwrap(), other.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.lines().count() == 1 && err.contains("dtype") && err.contains("<i4"), "{err}");
    assert!(!out.exists());
    // A damaged chunk is found while copying, not copied under a new name.
    let chunk = File::open(&a).unwrap().single().unwrap().column("x").unwrap().chunks()[1];
    let mut bytes = std::fs::read(&a).unwrap();
    bytes[(chunk.values.offset + chunk.values.stored_len / 2) as usize] ^= 1;
    let bad = dir.path().join("bad.sheaf");
    std::fs::write(&bad, &bytes).unwrap();
    let o = sheaf(&["concat", a.to_str().unwrap(), bad.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("checksum mismatch"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn concat_of_lists_and_of_other_formats_encodes_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (l, npy, out) = (dir.path().join("l.sheaf"), dir.path().join("a.npy"), dir.path().join("out.sheaf"));
    let offsets: Vec<u64> = vec![0, 2, 2, 5];
    let items: Vec<i16> = vec![1, 2, 3, 4, 5];
    let dtype = DType::list(DType::leaf(LeafType::Int(2)), false);
    let inputs = vec![ColumnInput::var(&offsets, &[]), ColumnInput::fixed(&items)];
    sheaf::write_arrays(&l, &[(ArraySchema::new("l", dtype), inputs)], &WriteOptions::new()).unwrap();
    let o = sheaf(&["concat", l.to_str().unwrap(), l.to_str().unwrap(), out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"rows_encoded\":6"), "{}", stdout(&o));
    let arr = File::open(&out).unwrap().single().unwrap();
    let got = arr.read_columns(&[0, 1], 0..6).unwrap();
    assert_eq!(got[0].offsets.as_deref().unwrap(), &[0, 2, 2, 5, 7, 7, 10]);
    assert_eq!(got[1].values_as::<i16>().unwrap(), &[1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    // An .npy input next to a sheaf one: the one encoded, the other copied.
    let (a, b) = (dir.path().join("a.sheaf"), dir.path().join("b.sheaf"));
    table(&a, 0, 10, 4);
    let v: Vec<i64> = (0..10).collect();
    sheaf::write_arrays(&b, &[(ArraySchema::new("b", DType::leaf(LeafType::Int(8))), vec![ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap();
    assert!(sheaf(&["convert", b.to_str().unwrap(), npy.to_str().unwrap()]).status.success());
    let o = sheaf(&["concat", npy.to_str().unwrap(), b.to_str().unwrap(), out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"rows_copied\":10") && stdout(&o).contains("\"rows_encoded\":10"), "{}", stdout(&o));
    let got = File::open(&out).unwrap().single().unwrap().column("").unwrap().read().unwrap();
    assert_eq!(got.values_as::<i64>().unwrap(), [v.clone(), v].concat());
}

#[test]
fn split_pieces_join_back_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sheaf");
    table(&input, 0, 5000, 1000);
    let pattern = dir.path().join("part-{:03}.sheaf");
    let o = sheaf(&["split", input.to_str().unwrap(), "--rows", "1200", pattern.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows: Vec<u64> = report["pieces"].as_array().unwrap().iter().map(|p| p["rows"].as_u64().unwrap()).collect();
    assert_eq!(rows, [1200, 1200, 1200, 1200, 200]);
    let names: Vec<String> = (0..5).map(|i| dir.path().join(format!("part-{i:03}.sheaf")).to_str().unwrap().to_string()).collect();
    let joined = dir.path().join("joined.sheaf");
    let mut args: Vec<&str> = vec!["concat"];
    args.extend(names.iter().map(String::as_str));
    args.push(joined.to_str().unwrap());
    assert!(sheaf(&args).status.success());
    let o = sheaf(&["diff", joined.to_str().unwrap(), input.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    // By size: pieces of about the bytes asked for.
    let by_size = dir.path().join("s{}.sheaf");
    let o = sheaf(&["split", input.to_str().unwrap(), "--size", "8k", by_size.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pieces = report["pieces"].as_array().unwrap();
    assert!(pieces.len() > 2, "{report}");
    assert_eq!(pieces.iter().map(|p| p["rows"].as_u64().unwrap()).sum::<u64>(), 5000);
    let o = sheaf(&["split", input.to_str().unwrap(), "--rows", "10", dir.path().join("nopattern.sheaf").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("OUT_PATTERN"), "{}", stderr(&o));
    assert_eq!(sheaf(&["split", input.to_str().unwrap(), "p{}.sheaf"]).status.code(), Some(2), "--rows or --size is required");
}

#[test]
fn diff_finds_the_first_difference_across_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (a, pq, b) = (dir.path().join("a.sheaf"), dir.path().join("a.parquet"), dir.path().join("b.sheaf"));
    table(&a, 0, 3000, 1000);
    assert!(sheaf(&["convert", a.to_str().unwrap(), pq.to_str().unwrap()]).status.success());
    let o = sheaf(&["diff", a.to_str().unwrap(), pq.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("\"same\":true"));
    // One value changed (row 2346's string), then one null where a string was.
    let arr = File::open(&a).unwrap().single().unwrap();
    let cols = arr.read_columns(&[0, 1, 2], 0..3000).unwrap();
    let mut offsets = cols[2].offsets.clone().unwrap();
    let mut text = cols[2].values.to_vec();
    let at = offsets[2346] as usize;
    text[at] = b'N';
    let write = |path: &std::path::Path, offsets: &[u64], text: &[u8], validity: &[u8]| {
        let inputs = vec![
            ColumnInput::fixed(cols[0].values_as::<i64>().unwrap()),
            ColumnInput::fixed(cols[1].values_as::<f64>().unwrap()),
            ColumnInput::var(offsets, text).with_validity(validity),
        ];
        sheaf::write_arrays(path, &[(arr.schema().clone(), inputs)], &WriteOptions::new()).unwrap();
    };
    let validity = cols[2].validity.clone().unwrap();
    write(&b, &offsets, &text, &validity);
    let o = sheaf(&["diff", pq.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("different:") && out.contains("column \"s\"") && out.contains("row 2346") && out.contains("Name"), "{out}");
    // Row 2347 null instead of its string.
    text[at] = b'n';
    let mut nulled = validity.clone();
    nulled[2347 / 8] &= !(1 << (2347 % 8));
    let len = offsets[2348] - offsets[2347];
    text.drain(offsets[2347] as usize..offsets[2348] as usize);
    for o in &mut offsets[2348..] {
        *o -= len;
    }
    write(&b, &offsets, &text, &nulled);
    let o = sheaf(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("row 2347") && stdout(&o).contains("None"), "{}", stdout(&o));
    // Another dtype.
    let v: Vec<i64> = (0..3000).collect();
    sheaf::write_arrays(&b, &[(ArraySchema::new("t", DType::leaf(LeafType::Int(8))), vec![ColumnInput::fixed(&v)])], &WriteOptions::new()).unwrap();
    let o = sheaf(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("dtype"), "{}", stdout(&o));
}

/// Where pieces start and end at chunk boundaries, split copies the stored chunks as they are:
/// the pieces' chunks are the input's, byte for byte (same checksums), in order. `--size` cuts at
/// the nearest boundary; `--rows` copies when its multiples are boundaries; another codec than
/// `auto` encodes again.
#[test]
fn split_copies_whole_chunks_instead_of_encoding_again() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sheaf");
    table(&input, 0, 5000, 1000);
    let checksums = |path: &std::path::Path| -> Vec<u64> {
        let f = File::open(path).unwrap();
        let a = f.single().unwrap();
        a.columns().unwrap().iter().flat_map(|c| c.chunks().iter().map(|k| k.values.checksum).collect::<Vec<_>>()).collect()
    };
    let split = |args: &[&str], pattern: &str| -> Vec<(u64, bool, String)> {
        let pattern = dir.path().join(pattern);
        let mut all = vec!["split", input.to_str().unwrap(), pattern.to_str().unwrap(), "--json"];
        all.extend_from_slice(args);
        let o = sheaf(&all);
        assert!(o.status.success(), "{}", stderr(&o));
        let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        report["pieces"].as_array().unwrap().iter().map(|p| (p["rows"].as_u64().unwrap(), p["chunks_copied"].as_bool().unwrap(), p["file"].as_str().unwrap().to_string())).collect()
    };
    let by_rows = split(&["--rows", "2000"], "r{}.sheaf");
    assert_eq!(by_rows.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), [(2000, true), (2000, true), (1000, true)]);
    // Column by column, each column's chunks in order (5 of them in the input).
    let whole = checksums(&input);
    let columns = whole.len() / 5;
    let mut copied: Vec<Vec<u64>> = vec![Vec::new(); columns];
    for (_, _, file) in &by_rows {
        let sums = checksums(std::path::Path::new(file));
        let chunks = sums.len() / columns;
        for (c, part) in sums.chunks(chunks).enumerate() {
            copied[c].extend_from_slice(part);
        }
    }
    assert_eq!(copied.concat(), whole, "the pieces' stored chunks are the input's");
    let by_size = split(&["--size", "20k"], "s{}.sheaf");
    assert!(by_size.iter().all(|p| p.1 && (p.0 % 1000 == 0)), "{by_size:?}");
    assert_eq!(by_size.iter().map(|p| p.0).sum::<u64>(), 5000);
    let unaligned = split(&["--rows", "1500"], "u{}.sheaf");
    assert_eq!(unaligned.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), [(1500, false), (1500, false), (1500, false), (500, false)]);
    let recoded = split(&["--rows", "2000", "--codec", "none"], "n{}.sheaf");
    assert!(recoded.iter().all(|p| !p.1), "{recoded:?}");
    for (i, (_, _, file)) in by_rows.iter().chain(&unaligned).chain(&recoded).enumerate() {
        let o = sheaf(&["verify", file]);
        assert!(o.status.success(), "piece {i}: {}", stderr(&o));
    }
    // And they join back to the input.
    let joined = dir.path().join("joined.sheaf");
    let mut args: Vec<&str> = vec!["concat"];
    args.extend(by_size.iter().map(|p| p.2.as_str()));
    args.push(joined.to_str().unwrap());
    assert!(sheaf(&args).status.success());
    let o = sheaf(&["diff", joined.to_str().unwrap(), input.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
}
