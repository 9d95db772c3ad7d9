//! `sheaf convert IN OUT`: between sheaf, `.npy` and `.npz`, with codec, row-group size, column
//! selection, row range and dtype narrowing (`--shrink`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sheaf::{ArraySchema, ColumnData, ColumnInput, DType, WriteOptions, Writer};
use sheaf_npy::layout::{columns_to_records, layouts};
use sheaf_npy::{NpyHeader, NpyWriter, NpzWriter};

use crate::args::ConvertArgs;
use crate::progress::Progress;
use crate::shrink;
use crate::table::{row_range, select, Format, Source, SourceArray};

/// Bytes per batch when streaming between formats: small enough that the allocator reuses the
/// memory of one batch for the next (fresh pages cost far more than the copy), large enough to
/// amortise per-batch work.
const BATCH_BYTES: u64 = 8 << 20;

/// Rows per batch for records of `row_bytes`.
fn batch_rows(row_bytes: u64) -> u64 {
    (BATCH_BYTES / row_bytes.max(1)).max(1024)
}

/// One array as it will be written: selected columns, row range, final dtype and shape.
struct Plan<'s, 'a> {
    array: &'s SourceArray<'a>,
    which: Vec<usize>,
    dtype: DType,
    shape: Vec<u64>,
    fortran: bool,
    start: u64,
    end: u64,
    narrowing: Option<shrink::Narrowing>,
}

impl Plan<'_, '_> {
    fn schema(&self) -> ArraySchema {
        let mut s = ArraySchema::new(self.array.name.clone(), self.dtype.clone()).with_shape(self.shape.clone()).with_fortran_order(self.fortran);
        s.metadata = self.array.schema.metadata.clone();
        s
    }

    fn read(&self, start: u64, end: u64) -> anyhow::Result<Vec<ColumnData<'_>>> {
        let cols = self.array.read(&self.which, start, end)?;
        Ok(match &self.narrowing {
            Some(n) => n.apply(cols)?,
            None => cols,
        })
    }
}

pub(crate) fn run(a: &ConvertArgs, quiet: bool) -> anyhow::Result<()> {
    let from = match a.from {
        Some(f) => f,
        None => Format::from_path(&a.input)?,
    };
    let to_stdout = a.output.as_os_str() == "-";
    let to = match (a.to, to_stdout) {
        (Some(t), _) => t,
        (None, true) => bail!("writing to stdout needs --to FORMAT"),
        (None, false) => Format::from_path(&a.output)?,
    };
    let source = Source::open(&a.input, from)?;
    let arrays = source.arrays(&a.array)?;
    let mut plans = Vec::new();
    for array in &arrays {
        plans.push(plan(array, a).with_context(|| format!("{}: array {:?}", a.input.display(), array.name))?);
    }
    let scratch;
    let target: PathBuf = if to_stdout {
        scratch = tempfile::tempdir().context("creating a temporary directory")?;
        scratch.path().join("out")
    } else {
        a.output.clone()
    };
    let total: u64 = plans.iter().map(|p| p.end - p.start).sum();
    let progress = Progress::rows(total, quiet, "converting");
    let result = match to {
        Format::Sheaf => write_sheaf(&target, &plans, a, &progress),
        Format::Npy => {
            let [plan] = plans.as_slice() else {
                let names: Vec<&str> = plans.iter().map(|p| p.array.name.as_str()).collect();
                bail!("{}: .npy holds one array, the input has {} ({names:?}); pick one with --array or write .npz", a.output.display(), plans.len());
            };
            write_npy(&target, plan, &progress)
        }
        Format::Npz => write_npz(&target, &plans, a.deflate, &progress),
    };
    progress.finish();
    result.with_context(|| format!("writing {}", a.output.display()))?;
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

fn write_sheaf(target: &Path, plans: &[Plan<'_, '_>], a: &ConvertArgs, progress: &Progress) -> anyhow::Result<()> {
    let mut options = WriteOptions::new().with_codec(a.codec.0);
    if let Some(n) = a.row_group_rows {
        options = options.with_row_group_rows(n);
    }
    let mut w = Writer::create(target, options.clone())?;
    for p in plans {
        let plain_streamable = ArraySchema::new("", p.dtype.clone()).columns().iter().all(|c| c.row_width().is_some() && !c.leaf.nullable);
        if options.codec() == sheaf::Codec::None && plain_streamable {
            // Each column one contiguous, zero-copy region, filled batch by batch.
            let step = batch_rows(p.dtype.packed_size().unwrap_or(1));
            let mut plain = w.begin_plain_array(p.schema(), p.end - p.start)?;
            let mut at = p.start;
            while at < p.end {
                let end = (at + step).min(p.end);
                let cols = p.read(at, end)?;
                let inputs: Vec<ColumnInput<'_>> = cols.iter().map(ColumnInput::from_data).collect();
                plain.append(&inputs)?;
                progress.advance(end - at);
                at = end;
            }
            plain.finish()?;
            continue;
        }
        if options.codec() == sheaf::Codec::None {
            // Whole columns at once, so each lands as one contiguous, zero-copy region.
            let cols = p.read(p.start, p.end)?;
            let inputs: Vec<ColumnInput<'_>> = cols.iter().map(ColumnInput::from_data).collect();
            w.write_array(p.schema(), &inputs)?;
            progress.advance(p.end - p.start);
            continue;
        }
        let id = w.add_array(p.schema())?;
        let step = options.row_group_rows().max(batch_rows(p.dtype.packed_size().unwrap_or(64)));
        let mut at = p.start;
        while at < p.end {
            let end = (at + step).min(p.end);
            let cols = p.read(at, end)?;
            let inputs: Vec<ColumnInput<'_>> = cols.iter().map(ColumnInput::from_data).collect();
            w.append_rows(id, Some(end - at), &inputs)?;
            progress.advance(end - at);
            at = end;
        }
    }
    w.finish()?;
    Ok(())
}

/// Checks that every column fits NumPy, naming the first that does not.
fn check_numpy(p: &Plan<'_, '_>) -> anyhow::Result<()> {
    for d in ArraySchema::new("", p.dtype.clone()).columns() {
        if d.leaf.ty.is_variable() || d.leaf.nullable {
            bail!(
                "unsupported: column {:?} is {} and has no NumPy dtype (select other columns with --select, or write sheaf)",
                d.name(),
                d.type_text()
            );
        }
    }
    Ok(())
}

fn write_records(p: &Plan<'_, '_>, mut sink: impl FnMut(&[u8]) -> anyhow::Result<()>, progress: &Progress) -> anyhow::Result<()> {
    let lay = layouts(&p.dtype);
    let itemsize = p.dtype.itemsize().unwrap_or(0) as usize;
    let mut records = Vec::new();
    let mut at = p.start;
    let step = batch_rows(itemsize as u64);
    while at < p.end {
        let end = (at + step).min(p.end);
        let cols = p.read(at, end)?;
        let slices: Vec<&[u8]> = cols.iter().map(|c| &*c.values).collect();
        records.clear();
        records.resize((end - at) as usize * itemsize, 0);
        columns_to_records(&slices, &lay, itemsize, &mut records);
        sink(&records)?;
        progress.advance(end - at);
        at = end;
    }
    Ok(())
}

fn write_npy(target: &Path, p: &Plan<'_, '_>, progress: &Progress) -> anyhow::Result<()> {
    check_numpy(p)?;
    let mut w = NpyWriter::create(target, &p.dtype, &p.shape, p.fortran)?;
    write_records(p, |r| w.write_records(r).map_err(Into::into), progress)?;
    w.finish()?;
    Ok(())
}

fn write_npz(target: &Path, plans: &[Plan<'_, '_>], deflate: bool, progress: &Progress) -> anyhow::Result<()> {
    let mut z = NpzWriter::create(target, deflate)?;
    for p in plans {
        check_numpy(p)?;
        let header = NpyHeader::encode(&p.dtype, &p.shape, p.fortran)?;
        let name = if p.array.name.is_empty() { "arr_0" } else { &p.array.name };
        let member = z.member(name)?;
        member.write_all(&header)?;
        write_records(p, |r| member.write_all(r).map_err(Into::into), progress)?;
    }
    z.finish()?;
    Ok(())
}
