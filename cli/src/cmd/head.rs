//! `sheaf head`: the first rows as an aligned table (or JSON), values as NumPy prints them.

use serde_json::json;

use crate::args::HeadArgs;
use crate::format::cell;
use crate::human::table;
use crate::table::{select, Format, Source};

pub(crate) fn run(a: &HeadArgs) -> anyhow::Result<()> {
    let source = Source::open(&a.file, Format::from_path(&a.file)?)?;
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
                cols = crate::cmd::concat(cols, part);
            }
        }
        let names: Vec<String> = descs.iter().map(|d| if d.path.is_empty() { "value".into() } else { d.name() }).collect();
        let rows: Vec<Vec<String>> = (0..n as usize).map(|r| descs.iter().zip(&cols).map(|(d, c)| cell(d, c, r)).collect()).collect();
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
