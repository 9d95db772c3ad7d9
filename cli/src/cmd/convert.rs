//! `sheaf convert IN OUT`: between sheaf, `.npy`, `.npz`, Arrow IPC (file and stream), Parquet
//! and CSV, with codec, row-group size, column selection, row range and dtype narrowing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sheaf::{ArraySchema, ColumnData, ColumnInput, DType, WriteOptions, Writer};
use sheaf_arrow::formats::{ArrowCompression, BatchWriter, CsvOptions};
use sheaf_arrow::types::{arrow_schema, ARROW_SCHEMA};
use sheaf_arrow::{batch_from_leaves, LeafBuffers};
use sheaf_npy::layout::{columns_to_records, layouts};
use sheaf_npy::{NpyHeader, NpyWriter, NpzWriter};

use crate::args::ConvertArgs;
use crate::progress::Progress;
use sheaf_convert as shrink;
use sheaf_convert::{row_range, select, Format, SourceArray};

/// Bytes per batch when streaming between formats: small enough that the allocator reuses the
/// memory of one batch for the next (fresh pages cost far more than the copy), large enough to
/// amortise per-batch work.
const BATCH_BYTES: u64 = 8 << 20;

/// Rows per batch for records of `row_bytes`.
pub(super) fn batch_rows(row_bytes: u64) -> u64 {
    (BATCH_BYTES / row_bytes.max(1)).max(1024)
}

/// One array as it will be written: selected columns, row range, final dtype and shape.
pub(super) struct Plan<'s, 'a> {
    array: &'s SourceArray<'a>,
    which: Vec<usize>,
    dtype: DType,
    shape: Vec<u64>,
    fortran: bool,
    start: u64,
    end: u64,
    narrowing: Option<shrink::Narrowing>,
}

impl<'s, 'a> Plan<'s, 'a> {
    /// All of `array`, as it is.
    pub(super) fn whole(array: &'s SourceArray<'a>) -> Self {
        let which = (0..array.schema.columns().len()).collect();
        let shape = array.schema.shape.clone().unwrap_or_else(|| vec![array.rows]);
        Plan { array, which, dtype: array.schema.dtype.clone(), shape, fortran: array.schema.fortran_order, start: 0, end: array.rows, narrowing: None }
    }
}

impl Plan<'_, '_> {
    /// Only rows `start..end` of the first dimension (C order: each holds the records of the
    /// dimensions after it).
    pub(super) fn first_dim_rows(mut self, start: u64, end: u64) -> Self {
        let inner: u64 = self.shape.get(1..).unwrap_or_default().iter().product();
        (self.start, self.end) = (start * inner, end * inner);
        if let Some(first) = self.shape.first_mut() {
            *first = end - start;
        } else {
            self.shape = vec![end - start];
        }
        self
    }

    /// Feeds the planned rows, `step` rows a batch, to array `id` of `w`, advancing `progress`.
    pub(super) fn append_to(&self, w: &mut Writer, id: sheaf::ArrayId, step: u64, progress: &Progress) -> anyhow::Result<()> {
        self.for_each_batch(step, |n, cols| {
            append_batch(w, id, n, &cols)?;
            progress.advance(n);
            Ok(())
        })
    }

    /// The array's schema as written.
    pub(super) fn schema(&self) -> ArraySchema {
        let mut s = ArraySchema::new(self.array.name.clone(), self.dtype.clone()).with_shape(self.shape.clone()).with_fortran_order(self.fortran);
        s.metadata = self.array.schema.metadata.clone();
        if self.dtype != self.array.schema.dtype {
            // The original Arrow schema describes other columns or types now.
            s.metadata.remove(ARROW_SCHEMA);
        }
        s
    }

    pub(super) fn row_bytes(&self) -> u64 {
        self.dtype.packed_size().unwrap_or(64).max(1)
    }

    /// Feeds the planned rows, batch by batch (narrowed when `--shrink`), to `consume`. Batches
    /// are read on a second thread, at most two ahead, so that reading and decoding the input
    /// overlaps encoding and writing the output, with memory bounded by three batches.
    pub(super) fn for_each_batch<'p>(&'p self, step: u64, mut consume: impl FnMut(u64, Vec<ColumnData<'p>>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            let producer = scope.spawn(move || {
                for b in self.array.batches(&self.which, self.start, self.end, step) {
                    if tx.send(b).is_err() {
                        break;
                    }
                }
            });
            let mut outcome = Ok(());
            for b in rx {
                let step = b.map_err(anyhow::Error::from).and_then(|(n, cols)| {
                    let cols = match &self.narrowing {
                        Some(nw) => nw.apply(cols)?,
                        None => cols,
                    };
                    consume(n, cols)
                });
                if let Err(e) = step {
                    outcome = Err(e);
                    break;
                }
            }
            // Dropping the receiver (end of loop) stops the producer at its next send.
            let _ = producer.join();
            outcome
        })
    }
}

pub(crate) fn csv_options(a: &ConvertArgs) -> anyhow::Result<CsvOptions> {
    let mut o = CsvOptions { header: !a.no_header, ..CsvOptions::default() };
    if let Some(d) = &a.delimiter {
        let b = d.as_bytes();
        if b.len() != 1 {
            bail!("--delimiter must be one byte, not {d:?}");
        }
        o.delimiter = b[0];
    }
    for item in &a.schema {
        let (name, ty) = item.split_once(':').with_context(|| format!("--schema {item:?}: expected NAME:TYPE"))?;
        o.types.push((name.to_string(), sheaf_arrow::formats::parse_type(ty)?));
    }
    Ok(o)
}

pub(crate) fn run(a: &ConvertArgs, quiet: bool) -> anyhow::Result<()> {
    let from = match a.from {
        Some(f) => f,
        None => crate::place::format_of(&a.input).map_err(|e| anyhow::anyhow!("{e} (or pass --from)"))?,
    };
    let to_stdout = a.output.as_os_str() == "-";
    let to = match (a.to, to_stdout) {
        (Some(t), _) => t,
        (None, true) => bail!("writing to stdout needs --to FORMAT"),
        (None, false) => crate::place::format_of(&a.output).map_err(|e| anyhow::anyhow!("{e} (or pass --to)"))?,
    };
    let csv = csv_options(a)?;
    let (source, _input) = crate::place::open_source(&a.input, from, &csv, a.skip_unsupported)?;
    for (name, why) in source.skipped() {
        eprintln!("sheaf: warning: {}: skipping column {name:?}: {why}", a.input.display());
    }
    let arrays = source.arrays(&a.array)?;
    let mut plans = Vec::new();
    for array in &arrays {
        plans.push(plan(array, a).with_context(|| format!("{}: array {:?}", a.input.display(), array.name))?);
    }
    let scratch;
    let output = if to_stdout {
        scratch = tempfile::tempdir().context("creating a temporary directory")?;
        crate::place::Output::new(&scratch.path().join("out"))?
    } else {
        crate::place::Output::new(&a.output)?
    };
    let target: PathBuf = output.path.clone();
    let total: u64 = plans.iter().map(|p| p.end - p.start).sum();
    let progress = Progress::rows(total, quiet, "converting");
    let one = |what: &str| -> anyhow::Result<&Plan<'_, '_>> {
        match plans.as_slice() {
            [p] => Ok(p),
            _ => {
                let names: Vec<&str> = plans.iter().map(|p| p.array.name.as_str()).collect();
                bail!("{}: {what} holds one array, the input has {} ({names:?}); pick one with --array", a.output.display(), plans.len())
            }
        }
    };
    let result = match to {
        Format::Sheaf => write_sheaf(&target, &plans, a, &progress),
        Format::Npy => one(".npy").and_then(|p| write_npy(&target, p, &progress)),
        Format::Npz => write_npz(&target, &plans, a.deflate, &progress),
        Format::Arrow | Format::Arrows | Format::Parquet | Format::Csv => one("this format").and_then(|p| write_arrow(&target, to, p, a, &csv, &progress)),
    };
    progress.finish();
    result.with_context(|| format!("writing {}", a.output.display()))?;
    output.publish().with_context(|| format!("writing {}", a.output.display()))?;
    if to_stdout {
        let mut f = std::fs::File::open(&target).context("reopening the output")?;
        std::io::copy(&mut f, &mut std::io::stdout().lock())?;
    }
    Ok(())
}

fn plan<'s, 'a>(array: &'s SourceArray<'a>, a: &ConvertArgs) -> anyhow::Result<Plan<'s, 'a>> {
    let (which, mut dtype) = select(&array.schema.dtype, &a.select)?;
    let (start, end) = row_range(a.rows.as_deref(), array.rows)?;
    let whole = start == 0 && end == array.rows;
    let shape = array.schema.shape.clone().unwrap_or_else(|| vec![array.rows]);
    if !whole && shape.len() != 1 {
        bail!("--rows needs a one-dimensional array; this one has shape {shape:?}");
    }
    let shape = if whole { shape } else { vec![end - start] };
    let narrowing = if a.shrink {
        let n = shrink::plan(array, &which, &dtype)?;
        dtype = n.dtype.clone();
        Some(n)
    } else {
        None
    };
    Ok(Plan { array, which, dtype, shape, fortran: whole && array.schema.fortran_order, start, end, narrowing })
}

fn sheaf_codec(text: &str) -> anyhow::Result<sheaf::Codec> {
    text.parse::<crate::args::CodecArg>().map(|c| c.0).map_err(anyhow::Error::msg)
}

fn write_sheaf(target: &Path, plans: &[Plan<'_, '_>], a: &ConvertArgs, progress: &Progress) -> anyhow::Result<()> {
    let mut options = WriteOptions::new().with_codec(sheaf_codec(&a.codec)?);
    if let Some(n) = a.row_group_rows {
        options = options.with_row_group_rows(n);
    }
    let mut w = Writer::create(target, options.clone())?;
    for p in plans {
        let plain_streamable = ArraySchema::new("", p.dtype.clone()).columns().iter().all(sheaf::ColumnDesc::is_fixed_width);
        if options.codec() == sheaf::Codec::None && plain_streamable {
            // Each column one contiguous, zero-copy region, filled batch by batch.
            let mut plain = w.begin_plain_array(p.schema(), p.end - p.start)?;
            p.for_each_batch(batch_rows(p.row_bytes()), |n, cols| {
                let inputs: Vec<ColumnInput<'_>> = cols.iter().map(ColumnInput::from_data).collect();
                plain.append(&inputs)?;
                progress.advance(n);
                Ok(())
            })?;
            plain.finish()?;
            continue;
        }
        if options.codec() == sheaf::Codec::None {
            // Variable-length or list columns: held whole when small, so that each column lands
            // as one contiguous, zero-copy region; past MERGE_LIMIT bytes or MERGE_GROUPS row
            // groups, streamed in plain row groups instead, so memory stays bounded whatever the
            // input's size.
            let mut held: Vec<(u64, Vec<ColumnData<'_>>)> = Vec::new();
            let (mut held_bytes, mut held_rows) = (0u64, 0u64);
            let mut streaming = None;
            p.for_each_batch(batch_rows(p.row_bytes()), |n, cols| {
                if let Some(id) = streaming {
                    append_batch(&mut w, id, n, &cols)?;
                    progress.advance(n);
                    return Ok(());
                }
                held_bytes += cols.iter().map(|c| c.values.len() as u64 + c.offsets.as_ref().map_or(0, |o| o.len() as u64 * 8)).sum::<u64>();
                held_rows += n;
                held.push((n, cols));
                if held_bytes > MERGE_LIMIT || held_rows > MERGE_GROUPS * options.row_group_rows() {
                    let id = w.add_array(p.schema())?;
                    for (n, cols) in held.drain(..) {
                        append_batch(&mut w, id, n, &cols)?;
                        progress.advance(n);
                    }
                    streaming = Some(id);
                }
                Ok(())
            })?;
            if streaming.is_none() {
                let merged = merge(&p.schema().columns(), held.into_iter().map(|(_, cols)| cols).collect());
                let inputs: Vec<ColumnInput<'_>> = merged.iter().map(ColumnInput::from_data).collect();
                w.write_array(p.schema(), &inputs)?;
                progress.advance(p.end - p.start);
            }
            continue;
        }
        let id = w.add_array(p.schema())?;
        p.append_to(&mut w, id, options.row_group_rows().max(batch_rows(p.row_bytes())), progress)?;
    }
    w.finish()?;
    Ok(())
}

/// Bytes of variable-length columns held in memory to write them as one region each, before a
/// plain conversion streams in row groups instead.
const MERGE_LIMIT: u64 = 256 << 20;
/// Row groups' worth of rows held likewise.
const MERGE_GROUPS: u64 = 16;

pub(super) fn append_batch(w: &mut Writer, id: sheaf::ArrayId, n: u64, cols: &[ColumnData<'_>]) -> anyhow::Result<()> {
    let inputs: Vec<ColumnInput<'_>> = cols.iter().map(ColumnInput::from_data).collect();
    w.append_rows(id, Some(n), &inputs)?;
    Ok(())
}

/// Concatenates batches column by column (for writing whole plain columns with nulls or
/// variable lengths; a column inside a list has as many rows as its items).
fn merge<'a>(descs: &[sheaf::ColumnDesc], mut batches: Vec<Vec<ColumnData<'a>>>) -> Vec<ColumnData<'a>> {
    if batches.len() == 1 {
        // One batch is written as it is, without a copy.
        return batches.remove(0);
    }
    (0..descs.len())
        .map(|c| {
            let parts: Vec<&ColumnData<'_>> = batches.iter().filter_map(|b| b.get(c)).collect();
            ColumnData::concat(&descs[c], &parts)
        })
        .collect()
}

/// Checks that every column fits NumPy, naming the first that does not.
fn check_numpy(p: &Plan<'_, '_>) -> anyhow::Result<()> {
    for d in ArraySchema::new("", p.dtype.clone()).columns() {
        if !d.is_fixed_width() || d.leaf.nullable {
            bail!("unsupported: column {:?} is {} and has no NumPy dtype (select other columns with --select, or write sheaf)", d.name(), d.type_text());
        }
    }
    Ok(())
}

/// Streams the planned rows as NumPy records to `sink`. Records are built (in parallel) while a
/// second thread writes the previous batch, so the transposition hides behind the write; two
/// record buffers go round between the threads, so memory stays warm and bounded.
fn write_records(p: &Plan<'_, '_>, sink: impl FnMut(&[u8]) -> anyhow::Result<()> + Send, progress: &Progress) -> anyhow::Result<()> {
    let lay = layouts(&p.dtype);
    let itemsize = p.dtype.itemsize().unwrap_or(0) as usize;
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let mut sink = sink;
        let writer = scope.spawn(move || -> anyhow::Result<()> {
            for records in full_rx {
                sink(&records)?;
                // The builder may have finished already: a buffer with nowhere to go is dropped.
                let _ = empty_tx.send(records);
            }
            Ok(())
        });
        let built = p.for_each_batch(batch_rows(itemsize as u64), |n, cols| {
            let slices: Vec<&[u8]> = cols.iter().map(|c| &*c.values).collect();
            let mut records = empty_rx.try_recv().unwrap_or_default();
            records.clear();
            records.resize(n as usize * itemsize, 0);
            columns_to_records(&slices, &lay, itemsize, &mut records);
            full_tx.send(records).map_err(|_| anyhow::anyhow!("the output writer stopped"))?;
            progress.advance(n);
            Ok(())
        });
        drop(full_tx);
        let written = writer.join().map_err(|_| anyhow::anyhow!("the output writer failed"))?;
        // The writer's own error says more than "stopped".
        written.and(built)
    })
}

fn write_npy(target: &Path, p: &Plan<'_, '_>, progress: &Progress) -> anyhow::Result<()> {
    check_numpy(p)?;
    let descr = sheaf_npy::descr_for(&p.dtype, &p.array.schema.metadata)?;
    let mut w = NpyWriter::create_with_descr(target, &descr, &p.dtype, &p.shape, p.fortran)?;
    write_records(p, |r| w.write_records(r).map_err(Into::into), progress)?;
    w.finish()?;
    Ok(())
}

fn write_npz(target: &Path, plans: &[Plan<'_, '_>], deflate: bool, progress: &Progress) -> anyhow::Result<()> {
    let mut z = NpzWriter::create(target, deflate)?;
    for p in plans {
        check_numpy(p)?;
        let header = NpyHeader::encode_descr(&sheaf_npy::descr_for(&p.dtype, &p.array.schema.metadata)?, &p.shape, p.fortran)?;
        let name = if p.array.name.is_empty() { "arr_0" } else { &p.array.name };
        let member = z.member(name)?;
        member.write_all(&header)?;
        write_records(p, |r| member.write_all(r).map_err(Into::into), progress)?;
    }
    z.finish()?;
    Ok(())
}

fn arrow_compression(text: &str, to: Format) -> anyhow::Result<ArrowCompression> {
    let level = |l: &str| l.parse::<i32>().with_context(|| format!("zstd level {l:?}"));
    Ok(match text.split_once(':') {
        None if text == "none" => ArrowCompression::None,
        None if text == "lz4" => ArrowCompression::Lz4,
        None if text == "snappy" => ArrowCompression::Snappy,
        None if text == "zstd" => ArrowCompression::Zstd(3),
        Some(("zstd", l)) => ArrowCompression::Zstd(level(l)?),
        // The formats' usual defaults: Parquet compressed, Arrow IPC plain (mappable).
        None if text == "auto" => {
            if to == Format::Parquet {
                ArrowCompression::Zstd(3)
            } else {
                ArrowCompression::None
            }
        }
        _ => bail!("--codec {text:?} for {to:?} output: none, lz4, zstd[:LEVEL]{}", if to == Format::Parquet { ", snappy" } else { "" }),
    })
}

fn write_arrow(target: &Path, to: Format, p: &Plan<'_, '_>, a: &ConvertArgs, csv: &CsvOptions, progress: &Progress) -> anyhow::Result<()> {
    let schema = p.schema();
    let arrow = arrow_schema(&schema)?;
    let format = to.arrow().context("not an Arrow format")?;
    let mut w = BatchWriter::create(target, format, &arrow, arrow_compression(&a.codec, to)?, csv)?;
    let step = if to == Format::Parquet { 1 << 20 } else { batch_rows(p.row_bytes()) };
    p.for_each_batch(step, |n, cols| {
        let leaves: Vec<LeafBuffers> = cols.into_iter().map(LeafBuffers::from_data).collect();
        let batch = batch_from_leaves(&schema, &arrow, leaves, n as usize)?;
        w.write(&batch)?;
        progress.advance(n);
        Ok(())
    })?;
    w.finish()?;
    Ok(())
}
