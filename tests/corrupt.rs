//! Hostile input: every truncation point and byte flips across header, data and footer of valid
//! files give an `Err` (or, where the flipped byte is padding no checksum covers, the original
//! data), never a panic. Also one test per named validation failure.

use std::panic::{catch_unwind, AssertUnwindSafe};

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Error, Field, File, Leaf, LeafType, WriteOptions};

/// A small file touching every buffer kind: fixed, subarray, nullable, variable-length, list.
pub(crate) fn sample(codec: Codec) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sheaf");
    let dtype = DType::structure(vec![
        Field::new("id", DType::leaf(LeafType::Int(8))),
        Field::new("pos", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3])),
        Field::new("v", DType::Leaf(Leaf::new(LeafType::Float(8)).with_nullable(true))),
        Field::new("name", DType::Leaf(Leaf::new(LeafType::Utf8).with_nullable(true))),
        Field::new("tags", DType::list(DType::leaf(LeafType::Int(4)), true)),
    ]);
    let n = 300u64;
    let ids: Vec<i64> = (0..n as i64).collect();
    let pos: Vec<f32> = (0..3 * n).map(|i| i as f32 / 7.0).collect();
    let v: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
    let valid: Vec<u8> = (0..n.div_ceil(8)).map(|i| if i % 3 == 0 { 0xF0 } else { 0xFF }).collect();
    let mut offsets = vec![0u64];
    let mut text = Vec::new();
    for i in 0..n {
        text.extend_from_slice(format!("row{i}").as_bytes());
        offsets.push(text.len() as u64);
    }
    let list_offsets: Vec<u64> = (0..=n).map(|i| i * 2 - i / 3).collect();
    let items: Vec<i32> = (0..list_offsets[n as usize] as i32).collect();
    let inputs = vec![
        ColumnInput::fixed(&ids),
        ColumnInput::fixed(&pos),
        ColumnInput::fixed(&v).with_validity(&valid),
        ColumnInput::var(&offsets, &text).with_validity(&valid),
        ColumnInput::var(&list_offsets, &[]).with_validity(&valid),
        ColumnInput::fixed(&items),
    ];
    sheaf::write_arrays(&path, &[(ArraySchema::new("t", dtype), inputs)], &WriteOptions::new().with_codec(codec).with_row_group_rows(100)).unwrap();
    std::fs::read(&path).unwrap()
}

/// One read's values, offsets and validity.
type Read = (Vec<u8>, Option<Vec<u64>>, Option<Vec<u8>>);

/// Everything a reader can be asked, as comparable data; an `Err` anywhere ends it.
pub(crate) fn read_everything(bytes: &[u8]) -> Result<Vec<Read>, Error> {
    let f = File::from_bytes(bytes)?;
    f.verify()?;
    let mut out = Vec::new();
    for a in f.arrays() {
        let all: Vec<usize> = (0..a.column_descs().len()).collect();
        for d in a.read_columns(&all, a.rows() / 4..a.rows() / 2)? {
            out.push((d.values.to_vec(), d.offsets.clone(), d.validity.clone()));
        }
        for c in a.columns()? {
            let d = c.read()?;
            out.push((d.values.to_vec(), d.offsets.clone(), d.validity.clone()));
            c.read_rows(c.rows() / 3..c.rows() / 2)?;
        }
    }
    Ok(out)
}

fn outcome(bytes: &[u8]) -> Result<Vec<Read>, String> {
    catch_unwind(AssertUnwindSafe(|| read_everything(bytes))).map_err(|_| "panicked".to_string())?.map_err(|e| {
        let msg = e.to_string();
        assert!(!msg.is_empty() && !msg.contains('\n'), "error messages are one line: {msg:?}");
        msg
    })
}

#[test]
fn truncation_at_every_point_is_an_error() {
    for codec in [Codec::None, Codec::AUTO, Codec::Zstd(3)] {
        let good = sample(codec);
        assert!(outcome(&good).is_ok());
        for cut in 0..good.len() {
            let r = outcome(&good[..cut]);
            assert!(r.is_err(), "{codec:?}: truncated to {cut} of {} bytes and still read", good.len());
            assert_ne!(r.unwrap_err(), "panicked", "{codec:?}: truncated at {cut}");
        }
    }
}

#[test]
fn byte_flips_anywhere_are_caught_or_harmless() {
    for codec in [Codec::None, Codec::AUTO, Codec::Lz4, Codec::Smallest] {
        let good = sample(codec);
        let want = outcome(&good).unwrap();
        for at in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut bad = good.clone();
                bad[at] ^= flip;
                match outcome(&bad) {
                    Err(msg) => assert_ne!(msg, "panicked", "{codec:?}: flip {flip:#x} at {at}"),
                    Ok(got) => assert_eq!(got, want, "{codec:?}: flip {flip:#x} at {at} changed the data silently"),
                }
            }
        }
    }
}

pub(crate) fn footer_fields(bytes: &[u8]) -> sheaf::format::Trailer {
    sheaf::format::Trailer::parse(bytes).unwrap()
}

/// Rewrites the trailer with a fresh footer checksum so that a deeper check is reached.
pub(crate) fn reseal(bytes: &mut [u8]) {
    let t = footer_fields(bytes);
    let n = bytes.len();
    let schema = &bytes[t.schema_offset as usize..(t.schema_offset + t.schema_len) as usize];
    let dir = &bytes[t.directory_offset as usize..(t.directory_offset + t.directory_len()) as usize];
    let h = xxh3(schema, dir, &bytes[n - 64..n - 24]);
    bytes[n - 24..n - 16].copy_from_slice(&h.to_le_bytes());
}

fn xxh3(a: &[u8], b: &[u8], c: &[u8]) -> u64 {
    let mut all = a.to_vec();
    all.extend_from_slice(b);
    all.extend_from_slice(c);
    sheaf::format::checksum(&all)
}

#[test]
fn bad_magic_is_named() {
    let mut b = sample(Codec::None);
    b[0] = b'X';
    assert!(matches!(File::from_bytes(&b), Err(Error::BadMagic { offset: 0 })));
    let mut b = sample(Codec::None);
    let n = b.len();
    b[n - 1] ^= 1;
    assert!(matches!(File::from_bytes(&b), Err(Error::BadMagic { .. })));
}

#[test]
fn newer_major_version_is_refused_with_the_version() {
    let mut b = sample(Codec::None);
    b[8] = 2;
    let e = File::from_bytes(&b).unwrap_err();
    assert!(matches!(e, Error::UnsupportedVersion { major: 2, .. }), "{e}");
}

#[test]
fn footer_checksum_mismatch_is_reported() {
    let mut b = sample(Codec::None);
    let t = footer_fields(&b);
    b[t.schema_offset as usize + 3] ^= 0x20;
    assert!(matches!(File::from_bytes(&b), Err(Error::ChecksumMismatch { .. })));
}

#[test]
fn schema_region_outside_the_file_is_out_of_bounds() {
    let mut b = sample(Codec::None);
    let n = b.len();
    b[n - 56..n - 48].copy_from_slice(&u64::MAX.to_le_bytes()); // schema_len
    assert!(matches!(File::from_bytes(&b), Err(Error::LimitExceeded { .. } | Error::OutOfBounds { .. })));
    let mut b = sample(Codec::None);
    b[n - 64..n - 56].copy_from_slice(&(n as u64).to_le_bytes()); // schema_offset past the end
    assert!(matches!(File::from_bytes(&b), Err(Error::OutOfBounds { .. })));
}

#[test]
fn absurd_column_count_is_refused_before_allocating() {
    let mut b = sample(Codec::None);
    let n = b.len();
    b[n - 40..n - 36].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(File::from_bytes(&b), Err(Error::LimitExceeded { .. })));
}

/// The sample with its schema document rewritten by `lie` (to the same length) and the footer
/// checksum made to match, so that only the reader's structural checks stand in the way.
pub(crate) fn sample_with_schema(lie: impl Fn(&str) -> String) -> Vec<u8> {
    let mut b = sample(Codec::None);
    let t = footer_fields(&b);
    let s = t.schema_offset as usize;
    let schema = String::from_utf8(b[s..s + t.schema_len as usize].to_vec()).unwrap();
    let lied = lie(&schema);
    assert_eq!(lied.len(), schema.len());
    b[s..s + lied.len()].copy_from_slice(lied.as_bytes());
    reseal(&mut b);
    b
}

#[test]
fn schema_that_disagrees_with_the_directory_is_invalid() {
    // One field name changed into a duplicate: a structural lie.
    let b = sample_with_schema(|schema| schema.replacen("\"pos\"", "\"id\" ", 1));
    let e = File::from_bytes(&b).unwrap_err();
    assert!(matches!(e, Error::InvalidSchema { .. }), "{e}");
}

#[test]
fn list_items_that_disagree_with_the_item_columns_are_invalid() {
    let b = sample_with_schema(|schema| {
        let (head, tail) = schema.split_once("\"item_rows\":[").unwrap();
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        // One item fewer than the item column holds, written with as many digits.
        let fewer = format!("{:0width$}", digits.parse::<u64>().unwrap() - 1, width = digits.len());
        format!("{head}\"item_rows\":[{fewer}{}", &tail[digits.len()..])
    });
    let f = File::from_bytes(&b).unwrap();
    let a = f.single().unwrap();
    let Err(e) = a.column("tags[]") else { panic!("the item column loaded") };
    assert!(matches!(e, Error::InvalidSchema { .. }) && e.to_string().contains("tags[]"), "{e}");
    // The list itself now ends past its items: every read of it says so.
    let e = a.column("tags").unwrap().read().unwrap_err();
    assert!(e.to_string().contains("list column t/tags"), "{e}");
}

#[test]
fn unknown_codec_id_is_named_with_column_and_chunk() {
    let mut b = sample(Codec::Zstd(3));
    let f = File::from_bytes(&b).unwrap();
    let col = f.single().unwrap().column("id").unwrap();
    let entry_offset = {
        let t = footer_fields(&b);
        let d = t.directory_offset as usize;
        u64::from_le_bytes(b[d..d + 8].try_into().unwrap()) as usize
    };
    assert!(!col.chunks()[0].values.is_plain());
    drop(f);
    // values BufferRef starts at 16 + 2*40 in the entry; its stage list at +32.
    let stages = entry_offset + 16 + 80 + 32;
    b[stages] = 200;
    // The chunk table checksum now fails first; fix it so the codec check is reached.
    let t = footer_fields(&b);
    let d = t.directory_offset as usize;
    let count = u32::from_le_bytes(b[d + 8..d + 12].try_into().unwrap()) as usize;
    let sum = sheaf::format::checksum(&b[entry_offset..entry_offset + count * 144]);
    b[d + 16..d + 24].copy_from_slice(&sum.to_le_bytes());
    reseal(&mut b);
    let f = File::from_bytes(&b).unwrap();
    let e = f.single().unwrap().column("id").err().unwrap();
    assert!(matches!(e, Error::UnknownCodec { id: 200, chunk: 0, .. }), "{e}");
    assert!(e.to_string().contains("t/id"), "{e}");
}

#[test]
fn data_checksum_mismatch_names_column_chunk_and_offset() {
    let good = sample(Codec::None);
    let f = File::from_bytes(&good).unwrap();
    let r = f.single().unwrap().column("id").unwrap().chunks()[0].values;
    drop(f);
    let mut b = good;
    b[r.offset as usize + 9] ^= 1;
    let f = File::from_bytes(&b).unwrap();
    // The zero-copy view does not check by default; decoding and verify do.
    let e = f.verify().unwrap_err();
    assert!(matches!(e, Error::ChecksumMismatch { offset, .. } if offset == r.offset), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("t/id") && msg.contains("chunk 0"), "{msg}");
}

#[test]
fn empty_and_foreign_files_are_refused() {
    assert!(matches!(File::from_bytes(&[]), Err(Error::TooShort { .. })));
    let npy = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }".repeat(3);
    assert!(matches!(File::from_bytes(&npy), Err(Error::BadMagic { offset: 0 })));
}
