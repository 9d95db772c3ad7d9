//! The core as an embedder sees it: owned handles that outlive the `File` they came from, the
//! three byte-source drivers reading the same values, and the requests and bytes a read makes
//! through the byte-range seam (a counting driver).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sheaf::{ArraySchema, ByteSource, Codec, ColumnInput, DType, FetchHints, Field, File, LeafType, PositionedSource, SharedSlice, WriteOptions};

/// Wraps a source and records every request: how many calls, the ranges of each, the bytes.
struct Counting {
    inner: PositionedSource,
    hints: FetchHints,
    calls: AtomicU64,
    bytes: AtomicU64,
    ranges: Mutex<Vec<Range<u64>>>,
}

impl Counting {
    fn new(path: &std::path::Path, hints: FetchHints) -> Arc<Self> {
        Arc::new(Counting { inner: PositionedSource::open(path).unwrap(), hints, calls: AtomicU64::new(0), bytes: AtomicU64::new(0), ranges: Mutex::new(Vec::new()) })
    }

    /// (calls, ranges, bytes) since the last call of this, and resets them.
    fn take(&self) -> (u64, Vec<Range<u64>>, u64) {
        let calls = self.calls.swap(0, Ordering::SeqCst);
        let bytes = self.bytes.swap(0, Ordering::SeqCst);
        (calls, std::mem::take(&mut *self.ranges.lock().unwrap()), bytes)
    }
}

impl ByteSource for Counting {
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<SharedSlice>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.bytes.fetch_add(ranges.iter().map(|r| r.end - r.start).sum(), Ordering::SeqCst);
        self.ranges.lock().unwrap().extend(ranges.iter().cloned());
        self.inner.read_ranges(ranges)
    }
    fn hints(&self) -> FetchHints {
        self.hints
    }
}

fn sample(dir: &std::path::Path, codec: Codec) -> (std::path::PathBuf, Vec<i64>, Vec<f32>) {
    let path = dir.join(format!("s-{codec:?}.sheaf"));
    let ids: Vec<i64> = (0..50_000).map(|i| i * 7 - 3).collect();
    let pos: Vec<f32> = (0..150_000).map(|i| i as f32 * 0.25).collect();
    let dtype = DType::structure(vec![Field::new("id", DType::leaf(LeafType::Int(8))), Field::new("pos", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3]))]);
    sheaf::write_arrays(&path, &[(ArraySchema::new("t", dtype), vec![ColumnInput::fixed(&ids), ColumnInput::fixed(&pos)])], &WriteOptions::new().with_codec(codec)).unwrap();
    (path, ids, pos)
}

#[test]
fn a_column_and_its_data_outlive_the_file_handle() {
    let dir = tempfile::tempdir().unwrap();
    for codec in [Codec::None, Codec::AUTO] {
        let (path, ids, pos) = sample(dir.path(), codec);
        let file = File::open(&path).unwrap();
        let array = file.array("t").unwrap();
        let id_col = array.column("id").unwrap();
        drop(array);
        drop(file);
        let data = id_col.read().unwrap();
        assert_eq!(data.values_as::<i64>().unwrap(), &ids[..]);
        // A plain column read is a slice of the map; it stays valid after the column goes too.
        let pos_data = File::open(&path).unwrap().single().unwrap().column("pos").unwrap().read().unwrap();
        assert_eq!(pos_data.values.is_shared(), codec == Codec::None, "{codec:?}");
        assert_eq!(pos_data.values_as::<f32>().unwrap(), &pos[..]);
        // And across threads.
        let handle = std::thread::spawn(move || id_col.read_rows(10..20).unwrap().values_as::<i64>().unwrap().to_vec());
        assert_eq!(handle.join().unwrap(), &ids[10..20]);
    }
}

#[test]
fn mapped_positioned_and_memory_sources_read_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    for codec in [Codec::None, Codec::AUTO] {
        let (path, ids, pos) = sample(dir.path(), codec);
        let files = [File::open(&path).unwrap(), File::open_unmapped(&path).unwrap(), File::from_shared(SharedSlice::from_vec(std::fs::read(&path).unwrap())).unwrap()];
        for (k, f) in files.iter().enumerate() {
            let a = f.single().unwrap();
            assert_eq!(a.column("id").unwrap().read().unwrap().values_as::<i64>().unwrap(), &ids[..], "source {k}, {codec:?}");
            assert_eq!(a.column("pos").unwrap().read_rows(100..200).unwrap().values_as::<f32>().unwrap(), &pos[300..600], "source {k}");
            assert!(f.verify().is_ok());
        }
        let unmapped = files[1].single().unwrap().column("id").unwrap();
        assert!(!unmapped.is_zero_copy() && unmapped.as_slice::<i64>().is_err(), "positioned reads are never views");
        assert_eq!(files[0].single().unwrap().column("id").unwrap().is_zero_copy(), codec == Codec::None);
    }
}

/// The counting test the issue names: open; one column of a 1,000-column x 1,000-chunk file; a
/// 1% row range; each with the requests and bytes the seam makes.
#[test]
fn requests_and_bytes_of_open_one_column_and_a_row_range() {
    const COLUMNS: usize = 1000;
    const CHUNKS: u64 = 1000;
    const CHUNK_ROWS: u64 = 8;
    let rows = CHUNKS * CHUNK_ROWS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.sheaf");
    let fields = (0..COLUMNS).map(|c| Field::new(format!("c{c}"), DType::leaf(LeafType::UInt(1)))).collect();
    let data: Vec<Vec<u8>> = (0..COLUMNS).map(|c| (0..rows).map(|r| (r as usize * 31 + c) as u8).collect()).collect();
    let inputs: Vec<ColumnInput<'_>> = data.iter().map(|d| ColumnInput::fixed(d)).collect();
    // The streaming writer cuts row groups of CHUNK_ROWS (write_arrays keeps plain columns whole).
    let mut w = sheaf::Writer::create(&path, WriteOptions::new().with_codec(Codec::None).with_row_group_rows(CHUNK_ROWS)).unwrap();
    let id = w.add_array(ArraySchema::new("w", DType::structure(fields))).unwrap();
    w.append(id, &inputs).unwrap();
    w.finish().unwrap();
    let len = std::fs::metadata(&path).unwrap().len();

    // No coalescing across the other columns' chunks, which lie between this column's.
    let hints = FetchHints { coalesce_gap: 0, tail_read: 64 << 10 };
    let source = Counting::new(&path, hints);
    let file = File::from_source(source.clone()).unwrap();
    let (calls, ranges, bytes) = source.take();
    // The footer (1,000 fields of schema and a 32,000-byte directory) does not fit in 64 KiB:
    // one tail read, then one read of the rest of the footer, and not a byte more.
    let raw = std::fs::read(&path).unwrap();
    let trailer = sheaf::format::Trailer::parse_tail(&raw[raw.len() - 64..], len).unwrap();
    let tail = len - (64 << 10);
    assert!(trailer.metadata_start() < tail, "the footer must not fit in the tail read for this test");
    assert_eq!(calls, 2, "open: {ranges:?}");
    assert_eq!(ranges, [tail..len, trailer.metadata_start()..tail], "a bounded tail read, then the rest of the footer");
    assert_eq!(bytes, len - trailer.metadata_start());

    let array = file.single().unwrap();
    let col = array.column("c500").unwrap();
    let (calls, ranges, bytes) = source.take();
    assert_eq!((calls, ranges.len(), bytes), (1, 1, CHUNKS * 144), "the chunk table, once: {ranges:?}");
    let got = col.read().unwrap();
    assert_eq!(&got.values[..], &data[500][..]);
    let (calls, ranges, bytes) = source.take();
    assert_eq!((calls, ranges.len() as u64), (1, CHUNKS), "one call for the column's 1,000 chunk buffers");
    assert_eq!(bytes, col.stored_bytes(), "exactly the column's stored bytes");

    // A second handle on the same column reuses the cached table; a 1% row range fetches the
    // 10 chunks that hold it and nothing else.
    let again = file.single().unwrap().column("c500").unwrap();
    let (start, end) = (rows / 2, rows / 2 + rows / 100);
    let part = again.read_rows(start..end).unwrap();
    assert_eq!(&part.values[..], &data[500][start as usize..end as usize]);
    let (calls, ranges, bytes) = source.take();
    assert_eq!((calls, ranges.len() as u64), (1, CHUNKS / 100), "{ranges:?}");
    assert_eq!(bytes, CHUNKS / 100 * CHUNK_ROWS);

    // The same with the default hints: the tail read grows to hold more, chunk buffers within
    // 64 KiB of one another are fetched as one request.
    let coalescing = Counting::new(&path, FetchHints::default());
    let file = File::from_source(coalescing.clone()).unwrap();
    let col = file.single().unwrap().column("c7").unwrap();
    coalescing.take();
    assert_eq!(&col.read_rows(start..end).unwrap().values[..], &data[7][start as usize..end as usize]);
    let (calls, ranges, _) = coalescing.take();
    assert_eq!((calls, ranges.len()), (1, 1), "coalesced into one range: {ranges:?}");
}

/// Per-chunk statistics through the whole path (writer, file, reader) for each kind of leaf,
/// against bounds computed here from the data.
#[test]
fn stored_statistics_bound_each_chunk_for_every_leaf_kind() {
    use sheaf::{ChunkStats, Leaf, StatValue};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.sheaf");
    let rows = 1000usize;
    let chunk = 250usize;
    let ints: Vec<i32> = (0..rows as i32).map(|i| (i * 7919) % 1000 - 500).collect();
    let mut floats: Vec<f64> = (0..rows).map(|i| i as f64 * 0.5 - 100.0).collect();
    floats[3] = f64::NAN;
    floats[260] = f64::NAN;
    let mut times: Vec<i64> = (0..rows as i64).map(|i| 1_700_000_000 + i).collect();
    times[0] = i64::MIN; // NaT
    let long = "z".repeat(50);
    let text: Vec<String> = (0..rows).map(|i| if i == 600 { long.clone() } else { format!("s{:04}", i % 300) }).collect();
    let mut offsets = vec![0u64];
    let mut bytes = Vec::new();
    for t in &text {
        bytes.extend_from_slice(t.as_bytes());
        offsets.push(bytes.len() as u64);
    }
    // Rows 500..750 of `n` are all null; the others valid.
    let mut validity = vec![0xFFu8; rows / 8];
    for r in 500..750 {
        validity[r / 8] &= !(1 << (r % 8));
    }
    let nullable: Vec<u16> = (0..rows as u16).collect();
    let dtype = DType::structure(vec![
        Field::new("i", DType::leaf(LeafType::Int(4))),
        Field::new("f", DType::leaf(LeafType::Float(8))),
        Field::new("t", DType::leaf(LeafType::Datetime(sheaf::TimeUnit::Second, 1))),
        Field::new("s", DType::Leaf(Leaf::new(LeafType::Utf8))),
        Field::new("n", DType::Leaf(Leaf::new(LeafType::UInt(2)).with_nullable(true))),
        Field::new("c", DType::leaf(LeafType::Complex(8))),
    ]);
    let complex = vec![0f32; rows * 2];
    let inputs = vec![
        ColumnInput::fixed(&ints),
        ColumnInput::fixed(&floats),
        ColumnInput::fixed(&times),
        ColumnInput::var(&offsets, &bytes),
        ColumnInput::fixed(&nullable).with_validity(&validity),
        ColumnInput::fixed(&complex),
    ];
    sheaf::write_arrays(&path, &[(ArraySchema::new("a", dtype), inputs)], &WriteOptions::new().with_row_group_rows(chunk as u64)).unwrap();
    let file = File::open(&path).unwrap();
    assert_eq!(file.version(), (1, 5));
    let a = file.single().unwrap();
    let stats = |name: &str| a.column(name).unwrap().statistics().unwrap().unwrap();
    for (k, s) in stats("i").iter().enumerate() {
        let part = &ints[k * chunk..(k + 1) * chunk];
        assert_eq!((s.min.clone(), s.max.clone()), (Some(StatValue::Int(i64::from(*part.iter().min().unwrap()))), Some(StatValue::Int(i64::from(*part.iter().max().unwrap())))));
    }
    let f = stats("f");
    assert_eq!(f.iter().map(|s| s.nan_count).collect::<Vec<_>>(), [1, 1, 0, 0], "NaN counted, not bounded");
    assert_eq!((f[0].min.clone(), f[0].max.clone()), (Some(StatValue::Float(-100.0)), Some(StatValue::Float(24.5))));
    let t = stats("t");
    assert_eq!((t[0].min.clone(), t[0].nan_count), (Some(StatValue::Int(1_700_000_001)), 1), "NaT left out");
    let s = stats("s");
    let Some(StatValue::Bytes(hi)) = &s[2].max else { panic!("{:?}", s[2]) };
    assert!(hi.len() <= sheaf::MAX_BOUND_LEN && hi.as_slice() > long.as_bytes() && !s[2].max_exact, "a true, truncated upper bound");
    assert_eq!(s[0].min, Some(StatValue::Bytes(b"s0000".to_vec())));
    let n = stats("n");
    assert_eq!((n[2].null_count, n[2].min.clone(), n[2].max.clone()), (250, None, None), "an all-null chunk has no bounds");
    assert_eq!((n[1].null_count, n[1].max.clone()), (0, Some(StatValue::UInt(499))));
    assert_eq!(a.column("c").unwrap().statistics().unwrap(), None, "complex numbers have no order");
    let whole: ChunkStats = a.column("i").unwrap().column_statistics().unwrap().unwrap();
    assert_eq!((whole.min, whole.max), (Some(StatValue::Int(-500)), Some(StatValue::Int(499))));
    assert!(file.verify().is_ok());

    // Files before 1.5 have none, and say so.
    let old = crate::util::repo_root().join("tests/data/golden/v1.4");
    let golden = std::fs::read_dir(&old).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "sheaf")).unwrap();
    let g = File::open(&golden).unwrap();
    assert!(g.single().unwrap().columns().unwrap().iter().all(|c| c.statistics().unwrap().is_none()));
}

/// Swaps `from` for `to` (same length) in the schema document and fixes the footer checksum.
fn rewrite_schema(bytes: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let len = bytes.len() as u64;
    let t = sheaf::format::Trailer::parse_tail(&bytes[bytes.len() - 64..], len).unwrap();
    let (so, sl) = (t.schema_offset as usize, t.schema_len as usize);
    let schema = String::from_utf8(bytes[so..so + sl].to_vec()).unwrap();
    assert!(schema.contains(from), "{schema}");
    bytes[so..so + sl].copy_from_slice(schema.replacen(from, to, 1).as_bytes());
    let (d, dl) = (t.directory_offset as usize, t.directory_len() as usize);
    let mut parts = bytes[so..so + sl].to_vec();
    parts.extend_from_slice(&bytes[d..d + dl]);
    parts.extend_from_slice(&bytes[bytes.len() - 64..bytes.len() - 24]);
    let sum = sheaf::format::checksum(&parts);
    let at = bytes.len() - 24;
    bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
}

/// A declared extension region this reader does not know is skipped by reads and still checked
/// (bounds, checksum) by verification; undeclared, the same bytes fail verification.
#[test]
fn an_unknown_extension_is_skipped_by_reads_and_verified_by_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids, _) = sample(dir.path(), Codec::AUTO);
    let good = std::fs::read(&path).unwrap();
    let mut unknown = good.clone();
    rewrite_schema(&mut unknown, "\"statistics\"", "\"x-future-1\"");
    let f = File::from_bytes(&unknown).unwrap();
    assert_eq!(f.extensions().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["x-future-1"]);
    let col = f.single().unwrap().column("id").unwrap();
    assert!(col.statistics().unwrap().is_none(), "an unknown region is not read as statistics");
    assert_eq!(col.read().unwrap().values_as::<i64>().unwrap(), &ids[..]);
    f.verify().unwrap();
    // A flipped byte inside it fails its checksum.
    let ext = f.extensions()[0].clone();
    let mut flipped = unknown.clone();
    flipped[(ext.offset + ext.length / 2) as usize] ^= 1;
    assert!(matches!(File::from_bytes(&flipped).unwrap().verify(), Err(sheaf::Error::ChecksumMismatch { .. })));
    // Not declared (the key renamed to one no reader knows of), its bytes are stray data.
    let mut undeclared = good.clone();
    rewrite_schema(&mut undeclared, "\"extensions\"", "\"xxxxxxxxxx\"");
    let e = File::from_bytes(&undeclared).unwrap().verify().unwrap_err();
    assert!(matches!(e, sheaf::Error::NonZeroPadding { .. }), "{e}");
}

/// One kind to match whatever the entry point: a path-naming open wraps the error with its file,
/// and `kind()` sees through that.
#[test]
fn an_error_has_one_matchable_kind_whatever_the_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = sample(dir.path(), Codec::None);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xFF; // the trailer's magic
    let bad = dir.path().join("bad.sheaf");
    std::fs::write(&bad, &bytes).unwrap();
    let errors = [File::open(&bad).unwrap_err(), File::open_unmapped(&bad).unwrap_err(), File::read(&bad).unwrap_err(), File::from_bytes(&bytes).unwrap_err()];
    for e in &errors {
        assert!(matches!(e.kind(), sheaf::Error::BadMagic { .. }), "{e}");
    }
    assert_eq!(errors[0].path(), Some(bad.as_path()));
    assert!(errors[0].to_string().contains("bad.sheaf"), "the message names the file: {}", errors[0]);
    assert_eq!(errors[3].path(), None);
}

#[test]
fn rows_decoded_into_the_callers_buffer_equal_a_decoded_read() {
    let dir = tempfile::tempdir().unwrap();
    for codec in [Codec::AUTO, Codec::None, Codec::Zstd(3)] {
        let path = dir.path().join(format!("into_{codec}.sheaf"));
        let ids: Vec<i64> = (0..10_000).map(|i| i * 7 - 300).collect();
        let schema = ArraySchema::new("t", DType::leaf(LeafType::Int(8)));
        sheaf::write_arrays(&path, &[(schema, vec![ColumnInput::fixed(&ids)])], &WriteOptions::new().with_codec(codec).with_row_group_rows(1000)).unwrap();
        let col = File::open(&path).unwrap().single().unwrap().column("").unwrap();
        // Ranges inside one chunk, across chunk edges, whole chunks, empty and the whole column.
        for range in [0..10_000u64, 0..0, 999..1001, 1000..3000, 250..9_999, 5_432..5_433, 9_000..10_000] {
            let mut out = vec![0u8; ((range.end - range.start) * 8) as usize];
            col.read_rows_into(range.clone(), &mut out).unwrap();
            let expected: Vec<u8> = ids[range.start as usize..range.end as usize].iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(out, expected, "{codec} rows {range:?}");
        }
        let mut short = [0u8; 8];
        assert!(col.read_rows_into(0..2, &mut short).is_err(), "a wrong length is an error");
        assert!(col.read_rows_into(9_999..10_001, &mut [0u8; 16]).is_err(), "rows past the end are an error");
    }
}
