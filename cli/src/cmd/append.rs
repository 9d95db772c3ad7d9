//! `sheaf append TARGET INPUT...`: adds the rows of files in any format the CLI reads to an
//! existing sheaf file, in place and in time proportional to what is added; the input's dtype
//! must be the target array's.

use anyhow::{bail, Context};
use sheaf::{DType, WriteOptions, Writer};
use sheaf_convert::SourceArray;

use super::convert::{batch_rows, Plan};
use crate::args::AppendArgs;
use crate::progress::Progress;

pub(super) fn describe(dtype: &DType) -> String {
    sheaf_npy::descr_of(dtype).unwrap_or_else(|_| format!("{dtype:?}"))
}

/// The name of the target array the rows of `input` go to: `--array`, else the one of the same
/// name, else the target's only array.
fn target_array<'n>(names: &'n [String], input: &SourceArray<'_>, chosen: Option<&'n str>) -> anyhow::Result<&'n str> {
    if let Some(name) = chosen {
        return names.iter().find(|n| *n == name).map(String::as_str).with_context(|| format!("the target has no array {name:?} (it has {names:?})"));
    }
    if let Some(same) = names.iter().find(|n| **n == input.name) {
        return Ok(same);
    }
    match names {
        [only] => Ok(only),
        _ => bail!("the target has arrays {names:?} and none is named {:?}; pick one with --array", input.name),
    }
}

pub(crate) fn run(a: &AppendArgs, quiet: bool) -> anyhow::Result<()> {
    let target = match crate::place::resolve(&a.target)? {
        sheaf_remote::Location::Local(p) => p,
        sheaf_remote::Location::Remote(_) => bail!("{}: appending needs a local file (object stores cannot append in place)", a.target.display()),
    };
    let mut options = WriteOptions::new().with_codec(a.codec.0);
    if let Some(n) = a.row_group_rows {
        options = options.with_row_group_rows(n);
    }
    let old = sheaf::File::open_unmapped(&target)?;
    let names: Vec<String> = old.arrays().map(|x| x.name().to_string()).collect();
    let mut w = Writer::open_append(&target, options)?;
    let mut appended = 0u64;
    for input in &a.inputs {
        let from = match a.from {
            Some(f) => f,
            None => crate::place::format_of(input).map_err(|e| anyhow::anyhow!("{e} (or pass --from)"))?,
        };
        let (source, _local) = crate::place::open_source(input, from, &Default::default(), false)?;
        for array in source.arrays(&[])? {
            let name = target_array(&names, &array, a.array.as_deref()).with_context(|| format!("{}: array {:?}", input.display(), array.name))?;
            let (id, into) = (w.array_id(name)?, old.array(name)?);
            if array.schema.dtype != into.schema().dtype {
                bail!(
                    "{}: array {:?} has dtype {}, but {} array {:?} has {}: appending needs the same dtype",
                    input.display(),
                    array.name,
                    describe(&array.schema.dtype),
                    a.target.display(),
                    into.name(),
                    describe(&into.schema().dtype)
                );
            }
            let inner = |shape: &Option<Vec<u64>>| shape.as_ref().map(|s| s.get(1..).unwrap_or_default().to_vec()).unwrap_or_default();
            if inner(&array.schema.shape) != inner(&into.schema().shape) {
                bail!(
                    "{}: array {:?} has shape {:?}, {} has {:?}: only the first dimension may differ",
                    input.display(),
                    array.name,
                    array.schema.shape,
                    into.name(),
                    into.schema().shape
                );
            }
            let plan = Plan::whole(&array);
            let progress = Progress::rows(array.rows, quiet, "appending");
            plan.append_to(&mut w, id, batch_rows(plan.row_bytes()), &progress).with_context(|| format!("appending {}", input.display()))?;
            progress.finish();
            appended += array.rows;
        }
    }
    w.finish().with_context(|| format!("appending to {}", a.target.display()))?;
    let rows: u64 = sheaf::File::open(&target)?.arrays().map(|x| x.rows()).sum();
    if a.json {
        println!("{}", serde_json::json!({"file": a.target.display().to_string(), "rows_appended": appended, "rows": rows}));
    } else if !quiet {
        println!("{}: {appended} rows appended ({rows} rows now)", a.target.display());
    }
    Ok(())
}
