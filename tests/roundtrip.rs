//! Round trips over random schemas (every leaf type, nesting, subarrays, nulls, 0 and 1 rows,
//! chunk boundaries) and random data, with every codec, through both writers; every read path is
//! compared with the input, and every zero-copy view is checked for alignment.

use proptest::prelude::*;
use sheaf::{ArraySchema, ByteOrder, Codec, DType, Field, File, Leaf, LeafType, TimeUnit, WriteOptions, Writer};

use crate::util::data::{assert_rows, assert_rows_at, columns, level_ranges, slice_rows, Owned, Rng};

fn leaf_type() -> impl Strategy<Value = LeafType> {
    let unit = prop_oneof![
        Just(TimeUnit::Year),
        Just(TimeUnit::Month),
        Just(TimeUnit::Week),
        Just(TimeUnit::Day),
        Just(TimeUnit::Hour),
        Just(TimeUnit::Minute),
        Just(TimeUnit::Second),
        Just(TimeUnit::Milli),
        Just(TimeUnit::Micro),
        Just(TimeUnit::Nano),
        Just(TimeUnit::Pico),
        Just(TimeUnit::Femto),
        Just(TimeUnit::Atto),
        Just(TimeUnit::Generic),
    ];
    prop_oneof![
        Just(LeafType::Bool),
        prop_oneof![Just(1u8), Just(2), Just(4), Just(8)].prop_map(LeafType::Int),
        prop_oneof![Just(1u8), Just(2), Just(4), Just(8)].prop_map(LeafType::UInt),
        prop_oneof![Just(2u8), Just(4), Just(8)].prop_map(LeafType::Float),
        prop_oneof![Just(8u8), Just(16)].prop_map(LeafType::Complex),
        (0u32..10).prop_map(LeafType::Bytes),
        (0u32..5).prop_map(LeafType::Unicode),
        (1u32..7).prop_map(LeafType::Void),
        (unit.clone(), 1u32..30).prop_map(|(u, m)| LeafType::Datetime(u, if u == TimeUnit::Generic { 1 } else { m })),
        (unit, 1u32..3).prop_map(|(u, m)| LeafType::Timedelta(u, if u == TimeUnit::Generic { 1 } else { m })),
        Just(LeafType::Utf8),
        Just(LeafType::Binary),
    ]
}

fn leaf() -> impl Strategy<Value = DType> {
    (leaf_type(), any::<bool>(), any::<bool>())
        .prop_map(|(ty, nullable, big)| DType::Leaf(Leaf::new(ty).with_nullable(nullable).with_byte_order(if big { ByteOrder::Big } else { ByteOrder::Little })))
}

fn dtype() -> impl Strategy<Value = DType> {
    leaf().prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|ds| DType::structure(ds.into_iter().enumerate().map(|(i, d)| Field::new(format!("f{i}"), d)).collect())),
            (inner.clone(), any::<bool>()).prop_map(|(d, nullable)| DType::list(d, nullable)),
            (inner, prop::collection::vec(1u64..4, 1..3)).prop_map(|(d, shape)| {
                if d.packed_size().is_some() {
                    DType::subarray(d, shape)
                } else {
                    d
                }
            }),
        ]
    })
}

fn codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::None), Just(Codec::Zstd(1)), Just(Codec::Lz4), Just(Codec::Auto(1)), Just(Codec::Smallest)]
}

fn rows() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1), 2u64..40, 40u64..400]
}

fn check_file(path: &std::path::Path, schema: &ArraySchema, data: &[Owned], rows: u64, seed: u64) {
    let file = File::open(path).unwrap();
    file.verify().unwrap();
    let array = file.array(&schema.name).unwrap();
    assert_eq!(array.rows(), rows);
    assert_eq!(array.schema().dtype, schema.dtype);
    let mut rng = Rng(seed | 1);
    // Rows of the array read together: columns inside lists get exactly the items of those rows.
    let (start, end) = {
        let s = rng.below(rows + 1);
        (s, s + rng.below(rows - s + 1))
    };
    let descs = array.column_descs();
    let ranges = level_ranges(descs, data, start..end);
    let which: Vec<usize> = (0..descs.len()).collect();
    for ((desc, want), got) in descs.iter().zip(data).zip(array.read_columns(&which, start..end).unwrap()) {
        let r = &ranges[desc.level];
        assert_eq!(got.rows, r.end - r.start, "{}", desc.name());
        assert_rows(desc, want, &got, r.start);
    }
    // Random rows in random order, with repeats: each column gets, index by index, the rows of
    // its level that the index covers.
    let indices: Vec<u64> = if rows == 0 { Vec::new() } else { (0..rng.below(2 * rows + 2)).map(|_| rng.below(rows)).collect() };
    let taken = array.take(&which, &indices).unwrap();
    for (c, (desc, want)) in descs.iter().zip(data).enumerate() {
        let expect: Vec<u64> = indices.iter().flat_map(|&i| level_ranges(descs, data, i..i + 1)[desc.level].clone()).collect();
        assert_rows_at(desc, want, &taken[c], &expect);
        if desc.level == 0 && !desc.is_list() {
            assert_rows_at(desc, want, &array.column_at(c).unwrap().take(&indices).unwrap(), &indices);
        }
    }
    if rows > 0 {
        assert!(matches!(array.take(&which, &[rows]).unwrap_err().kind(), sheaf::Error::RowRange { .. }));
    }
    // Read by range (no map): plain rows are fetched alone, the rest as from the map.
    let unmapped = File::open_unmapped(path).unwrap().array(&schema.name).unwrap();
    for (c, got) in unmapped.take(&which, &indices).unwrap().iter().enumerate() {
        let expect: Vec<u64> = indices.iter().flat_map(|&i| level_ranges(descs, data, i..i + 1)[descs[c].level].clone()).collect();
        assert_rows_at(&descs[c], &data[c], got, &expect);
    }
    for (i, (desc, want)) in descs.iter().zip(data).enumerate() {
        let col = array.column_at(i).unwrap();
        let rows = want.rows;
        assert_eq!(col.rows(), rows);
        let all = col.read().unwrap();
        assert_eq!(all.rows, rows);
        assert_rows(desc, want, &all, 0);
        let start = rng.below(rows + 1);
        let end = start + rng.below(rows - start + 1);
        let part = col.read_rows(start..end).unwrap();
        assert_eq!(part.rows, end - start);
        assert_rows(desc, want, &part, start);
        let mut at = 0;
        for k in 0..col.chunks().len() {
            let c = col.read_chunk(k).unwrap();
            if c.values.is_shared() && !c.values.is_empty() {
                assert_eq!(c.values.as_ptr() as usize % 64, 0, "zero-copy view of {} is misaligned", desc.name());
            }
            assert_rows(desc, want, &c, at);
            at += c.rows;
        }
        assert_eq!(at, rows);
        if col.is_zero_copy() {
            let view: &[u8] = match desc.leaf.ty {
                LeafType::Bool | LeafType::Bytes(_) | LeafType::Void(_) | LeafType::Int(1) | LeafType::UInt(1) => col.as_slice::<u8>().unwrap(),
                _ => continue,
            };
            assert_eq!(view, &want.values[..]);
            if !view.is_empty() {
                assert_eq!(view.as_ptr() as usize % 64, 0);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn in_memory_writes_round_trip(dtype in dtype(), rows in rows(), codec in codec(), group in 1u64..64, seed in any::<u64>()) {
        let schema = ArraySchema::new("a", dtype);
        let descs = schema.columns();
        let mut rng = Rng(seed | 1);
        let data = columns(&descs, rows, &mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sheaf");
        let inputs = data.iter().map(Owned::input).collect();
        let schema = schema.with_shape(vec![rows]);
        sheaf::write_arrays(&path, &[(schema.clone(), inputs)], &WriteOptions::new().with_codec(codec).with_row_group_rows(group)).unwrap();
        check_file(&path, &schema, &data, rows, seed);
    }

    #[test]
    fn streamed_batches_round_trip(dtype in dtype(), rows in rows(), codec in codec(), group in 1u64..64, seed in any::<u64>()) {
        let schema = ArraySchema::new("s", dtype).with_shape(vec![rows]);
        let descs = schema.columns();
        let mut rng = Rng(seed | 1);
        let data = columns(&descs, rows, &mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sheaf");
        let mut w = Writer::create(&path, WriteOptions::new().with_codec(codec).with_row_group_rows(group)).unwrap();
        let id = w.add_array(schema.clone()).unwrap();
        let mut start = 0;
        while start < rows || (rows == 0 && start == 0) {
            let end = (start + 1 + rng.below(rows / 2 + 2)).min(rows);
            let ranges = level_ranges(&descs, &data, start..end);
            let parts: Vec<Owned> = data.iter().zip(&descs).map(|(d, desc)| slice_rows(d, desc, ranges[desc.level].start, ranges[desc.level].end)).collect();
            let inputs: Vec<_> = parts.iter().map(Owned::input).collect();
            w.append_rows(id, Some(end - start), &inputs).unwrap();
            if rows == 0 { break; }
            start = end;
        }
        w.finish().unwrap();
        check_file(&path, &schema, &data, rows, seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Rows written, then appended in place in up to three more parts (each with a codec of its
    /// own): the file reads as all the rows, verifies, and keeps each earlier version readable.
    #[test]
    fn appended_parts_round_trip(dtype in dtype(), rows in rows(), codecs in prop::collection::vec(codec(), 1..4), group in 1u64..64, seed in any::<u64>()) {
        let schema = ArraySchema::new("s", dtype);
        let descs = schema.columns();
        let mut rng = Rng(seed | 1);
        let data = columns(&descs, rows, &mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sheaf");
        // Part boundaries: the first part may be empty, so may any other.
        let mut cuts: Vec<u64> = (0..codecs.len()).map(|_| rng.below(rows + 1)).collect();
        cuts.sort_unstable();
        cuts.push(rows);
        let mut start = 0;
        for (k, (&end, &codec)) in cuts.iter().zip(std::iter::once(&Codec::AUTO).chain(&codecs)).enumerate() {
            let options = WriteOptions::new().with_codec(codec).with_row_group_rows(group);
            let mut w = if k == 0 { Writer::create(&path, options).unwrap() } else { Writer::open_append(&path, options).unwrap() };
            let id = if k == 0 { w.add_array(schema.clone()).unwrap() } else { w.array_id("s").unwrap() };
            let ranges = level_ranges(&descs, &data, start..end);
            let parts: Vec<Owned> = data.iter().zip(&descs).map(|(d, desc)| slice_rows(d, desc, ranges[desc.level].start, ranges[desc.level].end)).collect();
            let inputs: Vec<_> = parts.iter().map(Owned::input).collect();
            w.append_rows(id, Some(end - start), &inputs).unwrap();
            w.finish().unwrap();
            start = end;
        }
        check_file(&path, &schema.clone().with_shape(vec![rows]), &data, rows, seed);
        let file = File::open(&path).unwrap();
        prop_assert_eq!(file.version_count().unwrap(), cuts.len());
        prop_assert_eq!(file.verify().unwrap().versions, cuts.len());
        // Each earlier version is the file as that part left it.
        let mut version = file.previous_version().unwrap();
        for &end in cuts.iter().rev().skip(1) {
            let v = version.unwrap();
            v.verify().unwrap();
            prop_assert_eq!(v.array("s").unwrap().rows(), end);
            version = v.previous_version().unwrap();
        }
        prop_assert!(version.is_none());
    }
}

/// The writer encodes chunks on the thread pool while the calling thread writes them in order.
/// Called from inside a pool it must still finish, also in a pool of one thread (whose only
/// thread would otherwise wait for chunks nobody is left to encode), with more chunks than it
/// keeps in flight and every row in place.
#[test]
fn writing_from_inside_a_thread_pool_finishes_and_round_trips() {
    let leaf = |ty| Field::new(format!("{ty:?}"), DType::Leaf(Leaf::new(ty)));
    let dtype = DType::structure(vec![leaf(LeafType::Int(8)), leaf(LeafType::Float(8)), leaf(LeafType::Utf8)]);
    let rows = 5_000;
    for threads in [1, 2] {
        let schema = ArraySchema::new("a", dtype.clone()).with_shape(vec![rows]);
        let descs = schema.columns();
        let mut rng = Rng(7 + threads as u64);
        let data = columns(&descs, rows, &mut rng);
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for (name, streamed) in [("whole.sheaf", false), ("streamed.sheaf", true)] {
            let path = dir.path().join(name);
            let options = WriteOptions::new().with_codec(Codec::AUTO).with_row_group_rows(50);
            let inputs: Vec<_> = data.iter().map(Owned::input).collect();
            // A deadlock fails the test instead of hanging it.
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    pool.install(|| {
                        if streamed {
                            let mut w = Writer::create(&path, options).unwrap();
                            let id = w.add_array(schema.clone()).unwrap();
                            w.append(id, &inputs).unwrap();
                            w.finish().unwrap();
                        } else {
                            sheaf::write_arrays(&path, &[(schema.clone(), inputs.clone())], &options).unwrap();
                        }
                    });
                    done.send(()).unwrap();
                });
                if finished.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
                    eprintln!("writing {name} in a pool of {threads} thread(s) did not finish in 60 s");
                    std::process::exit(1);
                }
            });
            check_file(&path, &schema, &data, rows, 7 + threads as u64);
            assert_eq!(File::open(&path).unwrap().single().unwrap().column("Int(8)").unwrap().chunks().len(), 100, "{name}");
        }
    }
}

#[test]
fn several_arrays_in_one_file_keep_their_rows_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.sheaf");
    let a: Vec<f64> = (0..10).map(f64::from).collect();
    let b: Vec<i32> = (0..3).collect();
    sheaf::write_arrays(
        &path,
        &[
            (ArraySchema::new("x", DType::leaf(LeafType::Float(8))), vec![sheaf::ColumnInput::fixed(&a)]),
            (ArraySchema::new("y", DType::leaf(LeafType::Int(4))), vec![sheaf::ColumnInput::fixed(&b)]),
        ],
        &WriteOptions::new(),
    )
    .unwrap();
    let f = File::open(&path).unwrap();
    let names: Vec<String> = f.arrays().map(|a| a.name().to_string()).collect();
    assert_eq!(names, ["x", "y"]);
    assert_eq!(f.array("y").unwrap().rows(), 3);
    assert_eq!(f.array("y").unwrap().column("").unwrap().read().unwrap().values_as::<i32>().unwrap(), &b[..]);
    assert!(f.single().is_err());
}

#[test]
fn plain_in_memory_column_is_one_zero_copy_slice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.sheaf");
    let v: Vec<f32> = (0..3_000_000).map(|i| i as f32).collect();
    let schema = ArraySchema::new("p", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3]));
    sheaf::write_arrays(&path, &[(schema, vec![sheaf::ColumnInput::fixed(&v)])], &WriteOptions::new().with_codec(Codec::None)).unwrap();
    let f = File::open(&path).unwrap();
    let col = f.single().unwrap().column("").unwrap();
    assert!(col.is_zero_copy());
    let s: &[f32] = col.as_slice().unwrap();
    assert_eq!(s.len(), v.len());
    let file_range = f.contiguous_bytes().unwrap().as_ptr_range();
    assert!(file_range.contains(&(s.as_ptr().cast::<u8>())), "the view must point into the map");
    assert_eq!(s.as_ptr() as usize % 64, 0);
    assert!(col.as_slice::<f64>().is_err(), "wrong type must be refused");
}

#[test]
fn auto_shrinks_typical_columns_far_below_plain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auto.sheaf");
    let ids: Vec<i64> = (0..2_000_000).collect();
    let schema = ArraySchema::new("ids", DType::leaf(LeafType::Int(8)));
    sheaf::write_arrays(&path, &[(schema, vec![sheaf::ColumnInput::fixed(&ids)])], &WriteOptions::new()).unwrap();
    let f = File::open(&path).unwrap();
    let col = f.single().unwrap().column("").unwrap();
    assert!(col.stored_bytes() * 100 < 16_000_000, "stored {}", col.stored_bytes());
    assert!(!col.is_zero_copy());
    assert_eq!(col.read().unwrap().values_as::<i64>().unwrap(), &ids[..]);
}

#[test]
fn auto_codes_a_later_chunk_that_its_dictionary_declines() {
    // Row groups of 100,000: the first holds 300 distinct values (`dictionary-ans`, at most
    // 4,096 entries), the second 60,000 distinct in a 16-bit range. Both writers (the in-memory
    // one plans quickly: two chunks; the streaming one thoroughly) code the second chunk with
    // the plan's fallback instead of storing it plain.
    let mut rng = Rng(0x5EED);
    let values: Vec<i64> = (0..200_000).map(|i| if i < 100_000 { (rng.next() % 300) as i64 * 7 } else { (rng.next() % 60_000) as i64 }).collect();
    let schema = ArraySchema::new("v", DType::leaf(LeafType::Int(8)));
    let options = WriteOptions::new().with_row_group_rows(100_000);
    let dir = tempfile::tempdir().unwrap();
    let (whole, streamed) = (dir.path().join("whole.sheaf"), dir.path().join("streamed.sheaf"));
    sheaf::write_arrays(&whole, &[(schema.clone(), vec![sheaf::ColumnInput::fixed(&values)])], &options).unwrap();
    let mut w = Writer::create(&streamed, options).unwrap();
    let id = w.add_array(schema).unwrap();
    for batch in values.chunks(50_000) {
        w.append(id, &[sheaf::ColumnInput::fixed(batch)]).unwrap();
    }
    w.finish().unwrap();
    for path in [&whole, &streamed] {
        let file = File::open(path).unwrap();
        let col = file.single().unwrap().column("").unwrap();
        // Plain, the second chunk alone is 800,000 bytes; bit-packed, 16 bits a value.
        assert!(col.stored_bytes() < 600_000, "{}: stored {}", path.display(), col.stored_bytes());
        assert_eq!(col.read().unwrap().values_as::<i64>().unwrap(), &values[..]);
    }
}

#[test]
fn plain_array_streamed_in_batches_is_one_zero_copy_slice_per_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.sheaf");
    let dtype = DType::structure(vec![Field::new("a", DType::leaf(LeafType::Int(8))), Field::new("b", DType::subarray(DType::leaf(LeafType::Float(4)), vec![2]))]);
    let n = 10_000u64;
    let a: Vec<i64> = (0..n as i64).map(|i| i * 3).collect();
    let b: Vec<f32> = (0..2 * n).map(|i| i as f32 / 2.0).collect();
    let mut w = Writer::create(&path, WriteOptions::new().with_codec(Codec::None)).unwrap();
    // A small array before, so the regions do not start at the header.
    w.write_array(ArraySchema::new("first", DType::leaf(LeafType::UInt(1))), &[sheaf::ColumnInput::bytes(&[1, 2, 3])]).unwrap();
    let mut p = w.begin_plain_array(ArraySchema::new("p", dtype.clone()), n).unwrap();
    for start in (0..n as usize).step_by(3001) {
        let end = (start + 3001).min(n as usize);
        p.append(&[sheaf::ColumnInput::fixed(&a[start..end]), sheaf::ColumnInput::fixed(&b[2 * start..2 * end])]).unwrap();
    }
    p.finish().unwrap();
    w.finish().unwrap();
    let f = File::open(&path).unwrap();
    f.verify().unwrap();
    let arr = f.array("p").unwrap();
    let ca = arr.column("a").unwrap();
    assert!(ca.is_zero_copy());
    assert_eq!(ca.as_slice::<i64>().unwrap(), &a[..]);
    assert_eq!(arr.column("b").unwrap().as_slice::<f32>().unwrap(), &b[..]);
    assert_eq!(f.array("first").unwrap().column("").unwrap().as_slice::<u8>().unwrap(), &[1, 2, 3]);

    let mut w = Writer::create(dir.path().join("short.sheaf"), WriteOptions::new().with_codec(Codec::None)).unwrap();
    let mut p = w.begin_plain_array(ArraySchema::new("p", dtype), 5).unwrap();
    assert!(p.append(&[sheaf::ColumnInput::fixed(&a[..6]), sheaf::ColumnInput::fixed(&b[..12])]).is_err(), "more rows than declared");
    p.append(&[sheaf::ColumnInput::fixed(&a[..4]), sheaf::ColumnInput::fixed(&b[..8])]).unwrap();
    assert!(p.finish().is_err(), "fewer rows than declared");
}

#[test]
fn plain_array_streams_nullable_columns_with_their_bitmaps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nullable.sheaf");
    let dtype = DType::structure(vec![
        Field::new("v", DType::Leaf(Leaf::new(LeafType::Float(8)).with_nullable(true))),
        Field::new("w", DType::Leaf(Leaf::new(LeafType::Int(4)).with_nullable(true))),
    ]);
    let n = 1000usize;
    let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let w: Vec<i32> = (0..n as i32).collect();
    let mut rng = Rng(7);
    // Batches of 333 rows (not byte-aligned) with nulls in `v` only; `w` never null.
    let mut expect_valid = Vec::new();
    let mut wr = Writer::create(&path, WriteOptions::new().with_codec(Codec::None)).unwrap();
    let mut p = wr.begin_plain_array(ArraySchema::new("p", dtype), n as u64).unwrap();
    for start in (0..n).step_by(333) {
        let end = (start + 333).min(n);
        let bits: Vec<bool> = (start..end).map(|_| rng.below(5) != 0).collect();
        expect_valid.extend_from_slice(&bits);
        let mut bitmap = vec![0u8; (end - start).div_ceil(8)];
        for (i, b) in bits.iter().enumerate() {
            if *b {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        p.append(&[sheaf::ColumnInput::fixed(&v[start..end]).with_validity(&bitmap), sheaf::ColumnInput::fixed(&w[start..end])]).unwrap();
    }
    p.finish().unwrap();
    wr.finish().unwrap();
    let f = File::open(&path).unwrap();
    f.verify().unwrap();
    let a = f.single().unwrap();
    let cv = a.column("v").unwrap();
    let d = cv.read().unwrap();
    assert_eq!(d.values_as::<f64>().unwrap(), &v[..]);
    for (i, want) in expect_valid.iter().enumerate() {
        assert_eq!(d.is_valid(i), *want, "row {i}");
    }
    assert_eq!(cv.null_count(), expect_valid.iter().filter(|b| !**b).count() as u64);
    let cw = a.column("w").unwrap();
    assert_eq!(cw.null_count(), 0);
    assert!(cw.is_zero_copy(), "a nullable column without nulls stays a zero-copy slice");
    assert_eq!(cw.as_slice::<i32>().unwrap(), &w[..]);
}

#[test]
fn take_reads_only_the_chunks_that_hold_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("take.sheaf");
    let values: Vec<i64> = (0..100_000i64).map(|i| i / 7).collect();
    let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
    let options = WriteOptions::new().with_codec(Codec::Zstd(1)).with_row_group_rows(10_000);
    sheaf::write_arrays(&path, &[(schema, vec![sheaf::ColumnInput::fixed(&values)])], &options).unwrap();
    // Damage chunk 5 (rows 50,000..60,000): rows elsewhere still come back, its own do not.
    let chunk = File::open(&path).unwrap().single().unwrap().column("").unwrap().chunks()[5];
    assert!(!chunk.values.is_plain(), "the chunk must be coded, so that a read checks its checksum");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(chunk.values.offset + chunk.values.stored_len / 2) as usize] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let col = File::open(&path).unwrap().single().unwrap().column("").unwrap();
    let rows = [99_999u64, 0, 49_999, 60_000, 0];
    let got = col.take(&rows).unwrap();
    assert_eq!(got.values_as::<i64>().unwrap(), rows.map(|r| values[r as usize]));
    let err = col.take(&[1, 55_000]).unwrap_err();
    assert!(matches!(err.kind(), sheaf::Error::ChecksumMismatch { .. }), "{err}");
}

#[test]
fn take_decodes_single_stage_random_access_chunks_at_the_rows_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ra.sheaf");
    // Random small-range integers: bitpack alone (neither delta nor zstd pays after it). The
    // codecs' own tests take from dictionary and constant buffers too.
    let mut rng = Rng(0x5EED);
    let small: Vec<i32> = (0..50_000).map(|_| rng.below(1000) as i32).collect();
    let schema = ArraySchema::new("t", DType::leaf(LeafType::Int(4)));
    sheaf::write_arrays(&path, &[(schema, vec![sheaf::ColumnInput::fixed(&small)])], &WriteOptions::new().with_row_group_rows(8192)).unwrap();
    let col = File::open(&path).unwrap().single().unwrap().column("").unwrap();
    assert_eq!(col.encoding(), "bitpack");
    let rows: Vec<u64> = (0..2000u64).map(|i| i * 24_989 % 50_000).collect();
    let got = col.take(&rows).unwrap();
    assert_eq!(got.values_as::<i32>().unwrap(), rows.iter().map(|&r| small[r as usize]).collect::<Vec<_>>());
}
