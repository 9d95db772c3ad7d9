//! `sheaf concat INPUT... OUTPUT`: the rows of several files, one after the other, as one sheaf
//! file. Sheaf inputs give their stored chunks as they are (no decode, no encode) unless a codec
//! is asked for or an array has lists; other formats are encoded. Every input must hold the
//! same arrays, each of one dtype and of one shape past the first dimension.

use std::path::Path;

use anyhow::{bail, Context};
use sheaf::{ArraySchema, WriteOptions, Writer};
use sheaf_convert::{Source, SourceArray};

use super::append::describe;
use super::convert::{batch_rows, Plan};
use crate::args::ConcatArgs;
use crate::progress::Progress;

/// What one input holds: its source and, per output array, its rows and shape.
struct Input {
    path: std::path::PathBuf,
    source: Source,
    _local: crate::place::Input,
}

fn open(path: &Path, from: Option<sheaf_convert::Format>) -> anyhow::Result<Input> {
    let format = match from {
        Some(f) => f,
        None => crate::place::format_of(path).map_err(|e| anyhow::anyhow!("{e} (or pass --from)"))?,
    };
    let (source, local) = crate::place::open_source(path, format, &Default::default(), false)?;
    Ok(Input { path: path.to_path_buf(), source, _local: local })
}

/// The shape past the first dimension (`[]` for one dimension or none).
fn inner(schema: &ArraySchema) -> Vec<u64> {
    schema.shape.as_ref().map(|s| s.get(1..).unwrap_or_default().to_vec()).unwrap_or_default()
}

/// Whether every input holds one array: they are then joined whatever their names (an `.npy`
/// file's array is named after the file).
fn single_arrays(inputs: &[Input]) -> anyhow::Result<bool> {
    for input in inputs {
        if input.source.arrays(&[])?.len() != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The output arrays: the first input's, each checked against every other input's.
fn output_schemas(inputs: &[Input]) -> anyhow::Result<Vec<ArraySchema>> {
    let first = inputs[0].source.arrays(&[])?;
    let mut out: Vec<(ArraySchema, u64)> = Vec::new();
    for a in &first {
        if a.schema.fortran_order && a.schema.shape.as_ref().is_some_and(|s| s.len() > 1) {
            bail!("{}: array {:?} is in Fortran order: its rows are not contiguous records, so files of it cannot be joined row after row", inputs[0].path.display(), a.name);
        }
        out.push((a.schema.clone(), 0));
    }
    let singles = single_arrays(inputs)?;
    for input in inputs {
        let arrays = input.source.arrays(&[])?;
        let names: Vec<&str> = arrays.iter().map(|a| a.name.as_str()).collect();
        let want: Vec<&str> = out.iter().map(|(s, _)| s.name.as_str()).collect();
        let (mut a_sorted, mut w_sorted) = (names.clone(), want.clone());
        a_sorted.sort_unstable();
        w_sorted.sort_unstable();
        if !singles && a_sorted != w_sorted {
            bail!("{} holds arrays {names:?}, {} holds {want:?}: every input must hold the same arrays", input.path.display(), inputs[0].path.display());
        }
        for a in &arrays {
            let (schema, rows) = out.iter_mut().find(|(s, _)| singles || s.name == a.name).context("array vanished")?;
            if a.schema.dtype != schema.dtype {
                bail!("{}: array {:?} has dtype {}, {} has {}", input.path.display(), a.name, describe(&a.schema.dtype), inputs[0].path.display(), describe(&schema.dtype));
            }
            if inner(&a.schema) != inner(schema) {
                bail!(
                    "{}: array {:?} has shape {:?}, {} has {:?}: only the first dimension may differ",
                    input.path.display(),
                    a.name,
                    a.schema.shape,
                    inputs[0].path.display(),
                    schema.shape
                );
            }
            *rows += a.rows;
        }
    }
    Ok(out
        .into_iter()
        .map(|(mut s, rows)| {
            let per_row: u64 = inner(&s).iter().product::<u64>().max(1);
            s.shape = Some(std::iter::once(rows / per_row).chain(inner(&s)).collect());
            s
        })
        .collect())
}

/// Encodes the rows of `array` into array `id`.
fn encode_rows(w: &mut Writer, id: sheaf::ArrayId, array: &SourceArray<'_>, quiet: bool) -> anyhow::Result<()> {
    let plan = Plan::whole(array);
    let progress = Progress::rows(array.rows, quiet, "concatenating");
    plan.append_to(w, id, batch_rows(plan.row_bytes()), &progress)?;
    progress.finish();
    Ok(())
}

pub(crate) fn run(a: &ConcatArgs, quiet: bool) -> anyhow::Result<()> {
    let (output, inputs) = a.paths.split_last().context("concat needs inputs and an output")?;
    let inputs: Vec<Input> = inputs.iter().map(|p| open(p, a.from)).collect::<anyhow::Result<_>>()?;
    let schemas = output_schemas(&inputs)?;
    let singles = single_arrays(&inputs)?;
    let reencode = a.codec.is_some() || a.row_group_rows.is_some();
    let mut options = WriteOptions::new().with_codec(a.codec.map_or(sheaf::Codec::AUTO, |c| c.0));
    if let Some(n) = a.row_group_rows {
        options = options.with_row_group_rows(n);
    }
    let out = crate::place::Output::new(output)?;
    let mut w = Writer::create(&out.path, options)?;
    let ids: Vec<sheaf::ArrayId> = schemas.iter().map(|s| w.add_array(s.clone())).collect::<sheaf::Result<_>>()?;
    let (mut copied, mut encoded) = (0u64, 0u64);
    for input in &inputs {
        for array in input.source.arrays(&[])? {
            let at = schemas.iter().position(|s| singles || s.name == array.name).context("array vanished")?;
            let stored = match &input.source {
                Source::Sheaf(file) if !reencode && !array.schema.dtype.has_list() => Some(file.array(&array.name)?),
                _ => None,
            };
            let what = || format!("{}: array {:?}", input.path.display(), array.name);
            match stored {
                Some(from) => {
                    w.append_stored_chunks(ids[at], &from).with_context(what)?;
                    copied += array.rows;
                }
                None => {
                    encode_rows(&mut w, ids[at], &array, quiet).with_context(what)?;
                    encoded += array.rows;
                }
            }
        }
    }
    w.finish().with_context(|| format!("writing {}", output.display()))?;
    out.publish()?;
    if a.json {
        println!("{}", serde_json::json!({"output": output.display().to_string(), "inputs": inputs.len(), "rows_copied": copied, "rows_encoded": encoded}));
    } else if !quiet {
        println!("{}: {} rows from {} files ({copied} copied as stored, {encoded} encoded)", output.display(), copied + encoded, inputs.len());
    }
    Ok(())
}
