//! `sheaf head`: the first rows as an aligned table (or JSON), values as NumPy prints them.

use serde_json::json;

use crate::args::HeadArgs;
use crate::format::cell;
use crate::human::table;
use sheaf_convert::select;

/// Items of one list shown before `...`.
const LIST_ITEMS_SHOWN: usize = 8;

/// Row `r` of column `i`; a list as `[a, b]`, or `[{x: 1, y: 2}]` when its items are structs.
fn render(descs: &[sheaf::ColumnDesc], cols: &[sheaf::ColumnData<'_>], i: usize, r: usize) -> String {
    let (d, c) = (&descs[i], &cols[i]);
    let Some(items) = d.items_level else { return cell(d, c, r) };
    if !c.is_valid(r) {
        return "None".into();
    }
    let Some(o) = c.offsets.as_ref().filter(|o| r + 1 < o.len()) else { return "?".into() };
    let (s, e) = (o[r] as usize, o[r + 1] as usize);
    // The item's own columns: at the items' level, right under this list's path.
    let depth = d.path.len() + 1;
    let children: Vec<usize> = (i + 1..descs.len()).filter(|&k| descs[k].level == items && descs[k].path.len() >= depth && descs[k].path.starts_with(&d.path)).collect();
    let one = |j: usize| -> String {
        match children.as_slice() {
            [k] if descs[*k].path.len() == depth => render(descs, cols, *k, j),
            _ => {
                let parts: Vec<String> = children.iter().map(|&k| format!("{}: {}", descs[k].path[depth..].join("."), render(descs, cols, k, j))).collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    };
    let mut parts: Vec<String> = (s..e.min(s + LIST_ITEMS_SHOWN)).map(one).collect();
    if e - s > LIST_ITEMS_SHOWN {
        parts.push(format!("... ({} items)", e - s));
    }
    format!("[{}]", parts.join(", "))
}

pub(crate) fn run(a: &HeadArgs) -> anyhow::Result<()> {
    let (source, _input) = crate::place::open_source(&a.file, crate::place::format_of(&a.file)?, &Default::default(), false)?;
    let arrays = source.arrays(&a.array)?;
    let mut docs = Vec::new();
    for (k, array) in arrays.iter().enumerate() {
        let (which, _) = select(&array.schema.dtype, &a.select)?;
        let all = array.schema.columns();
        let descs: Vec<_> = which.iter().map(|&i| all[i].clone()).collect();
        let n = a.rows.min(array.rows);
        let mut cols: Vec<sheaf::ColumnData<'_>> = Vec::new();
        for b in array.batches(&which, 0, n, n.max(1)) {
            let (_, part) = b?;
            if cols.is_empty() {
                cols = part;
            } else {
                // Arrow sources come in several batches: keep the text of each.
                cols = crate::cmd::concat(&descs, cols, part);
            }
        }
        // Columns inside lists are shown within their list's cell.
        let shown: Vec<usize> = (0..descs.len()).filter(|&i| descs[i].level == 0).collect();
        let names: Vec<String> = shown.iter().map(|&i| if descs[i].path.is_empty() { "value".into() } else { descs[i].name() }).collect();
        let rows: Vec<Vec<String>> = (0..n as usize).map(|r| shown.iter().map(|&i| render(&descs, &cols, i, r)).collect()).collect();
        if a.json {
            let objs: Vec<_> = rows.iter().map(|r| serde_json::Value::Object(names.iter().cloned().zip(r.iter().map(|v| json!(v))).collect())).collect();
            docs.push(json!({"array": array.name, "rows": array.rows, "head": objs}));
            continue;
        }
        if k > 0 {
            println!();
        }
        println!("array {:?}: first {n} of {} rows", array.name, array.rows);
        let header: Vec<&str> = names.iter().map(String::as_str).collect();
        print!("{}", table(&header, &rows));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(())
}
