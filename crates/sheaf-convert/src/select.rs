//! Column selection (dotted paths, lists and their items, nullable structs with their
//! validity) and row ranges, decided from a dtype alone.

use sheaf::{ArraySchema, DType, Field, StructType};

use crate::error::{ConvertError, Result};

/// The leaf columns that the dotted path prefixes `select` pick (all when empty; `pts[].x`
/// names a list's item field), with the dtype pruned to them.
///
/// # Errors
/// [`ConvertError::NoSuchColumn`] for a path that names no column.
pub fn select(dtype: &DType, select: &[String]) -> Result<(Vec<usize>, DType)> {
    let descs = ArraySchema::new("", dtype.clone()).columns();
    if select.is_empty() {
        return Ok(((0..descs.len()).collect(), dtype.clone()));
    }
    // `pts[].x` names the path pts / [] / x.
    let wanted: Vec<Vec<&str>> = select
        .iter()
        .map(|s| {
            s.split('.')
                .flat_map(|seg| match seg.strip_suffix(sheaf::LIST_ITEMS) {
                    Some(head) => vec![head, sheaf::LIST_ITEMS],
                    None => vec![seg],
                })
                .filter(|seg| !seg.is_empty())
                .collect()
        })
        .collect();
    for (w, text) in wanted.iter().zip(select) {
        if !descs.iter().any(|d| d.path.len() >= w.len() && d.path.iter().zip(w).all(|(a, b)| a == b)) {
            let names: Vec<String> = descs.iter().map(sheaf::ColumnDesc::name).collect();
            return Err(ConvertError::NoSuchColumn { name: text.clone(), available: names });
        }
    }
    let keep = |path: &[String]| wanted.iter().any(|w| path.len() >= w.len() && path.iter().zip(w).all(|(a, b)| a == b));
    // A list's column comes along with any of its items.
    let under = |list: &sheaf::ColumnDesc, d: &sheaf::ColumnDesc| d.path.len() > list.path.len() && d.path.starts_with(&list.path) && d.path[list.path.len()] == sheaf::LIST_ITEMS;
    // A nullable struct's validity column comes along with any of its fields.
    let of_struct = |v: &sheaf::ColumnDesc, d: &sheaf::ColumnDesc| !d.is_row_validity() && d.path.starts_with(&v.path[..v.path.len() - 1]);
    let which: Vec<usize> = descs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            keep(&d.path) || (d.is_list() && descs.iter().any(|e| under(d, e) && keep(&e.path))) || (d.is_row_validity() && descs.iter().any(|e| of_struct(d, e) && keep(&e.path)))
        })
        .map(|(i, _)| i)
        .collect();
    let pruned = prune(dtype, &mut Vec::new(), &keep).ok_or_else(|| ConvertError::Internal("selecting columns left none".into()))?;
    Ok((which, pruned))
}

fn prune(dtype: &DType, path: &mut Vec<String>, keep: &dyn Fn(&[String]) -> bool) -> Option<DType> {
    match dtype {
        DType::Struct(s) => {
            let mut fields = Vec::new();
            for f in &s.fields {
                path.push(f.name.clone());
                if let Some(d) = prune(&f.dtype, path, keep) {
                    // Offsets and padding of the source record no longer apply: packed.
                    fields.push(Field { name: f.name.clone(), title: f.title.clone(), offset: None, dtype: d });
                }
                path.pop();
            }
            (!fields.is_empty()).then_some(DType::Struct(StructType { fields, itemsize: None, aligned: false, nullable: s.nullable }))
        }
        DType::SubArray { base, shape } => prune(base, path, keep).map(|b| DType::subarray(b, shape.clone())),
        DType::List { item, nullable } => {
            path.push(sheaf::LIST_ITEMS.to_string());
            let kept = prune(item, path, keep);
            path.pop();
            kept.map(|i| DType::list(i, *nullable))
        }
        DType::Leaf(_) => keep(path).then(|| dtype.clone()),
    }
}

/// Parses a row range `START:END` (either side may be empty; END is clipped to `rows`).
///
/// # Errors
/// [`ConvertError::BadRowRange`].
pub fn row_range(text: Option<&str>, rows: u64) -> Result<(u64, u64)> {
    let Some(text) = text else { return Ok((0, rows)) };
    let bad = |reason: String| ConvertError::BadRowRange { text: text.to_string(), reason };
    let (a, b) = text.split_once(':').ok_or_else(|| bad("expected START:END".into()))?;
    let parse = |s: &str, default: u64| -> Result<u64> {
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse::<u64>().map_err(|_| bad(format!("{s:?} is not a row number")))
        }
    };
    let (start, end) = (parse(a, 0)?, parse(b, rows)?.min(rows));
    if start > end {
        return Err(bad("start is after end".into()));
    }
    Ok((start, end))
}
