//! `sheaf suggest`: per column, the range and the narrowest exact dtype, with bytes saved.

use anyhow::Context;
use serde_json::json;

use crate::args::SuggestArgs;
use crate::human::{size, table};
use sheaf_convert::advise;
use sheaf_convert::select;

pub(crate) fn run(a: &SuggestArgs) -> anyhow::Result<()> {
    let (source, _input) = crate::place::open_source(&a.file, crate::place::format_of(&a.file)?, &Default::default(), false)?;
    let mut out = Vec::new();
    let (mut now, mut after) = (0u64, 0u64);
    for array in source.arrays(&[])? {
        let (which, _) = select(&array.schema.dtype, &a.select)?;
        let advice = advise(&array, &which).with_context(|| format!("{}: array {:?}", a.file.display(), array.name))?;
        for c in &advice {
            now += c.bytes_now;
            after += c.bytes_after;
        }
        out.push((array.name.clone(), advice));
    }
    if a.json {
        let arrays: Vec<_> = out
            .iter()
            .map(|(name, cols)| {
                let cols: Vec<_> = cols
                    .iter()
                    .map(|c| {
                        json!({"name": c.name, "dtype": c.dtype, "min": c.min, "max": c.max,
                               "suggested_dtype": c.narrower.map(|t| t.to_string()), "distinct": c.distinct,
                               "suggestion": c.suggestion(), "bytes": c.bytes_now, "bytes_after": c.bytes_after,
                               "bytes_saved": c.bytes_now - c.bytes_after})
                    })
                    .collect();
                json!({"name": name, "columns": cols})
            })
            .collect();
        let doc = json!({"file": a.file.display().to_string(), "arrays": arrays, "bytes": now, "bytes_after": after, "bytes_saved": now - after});
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    for (name, cols) in &out {
        println!("array {name:?}");
        let rows: Vec<Vec<String>> = cols
            .iter()
            .map(|c| {
                let pct = if c.bytes_now == 0 { 0.0 } else { 100.0 * (c.bytes_now - c.bytes_after) as f64 / c.bytes_now as f64 };
                vec![
                    c.name.clone(),
                    c.dtype.clone(),
                    c.min.clone().unwrap_or_else(|| "-".into()),
                    c.max.clone().unwrap_or_else(|| "-".into()),
                    c.suggestion(),
                    size(c.bytes_now),
                    size(c.bytes_after),
                    format!("{pct:.1}%"),
                ]
            })
            .collect();
        print!("{}", table(&["column", "dtype", "min", "max", "suggestion", "now", "after", "saved"], &rows));
    }
    let pct = if now == 0 { 0.0 } else { 100.0 * (now - after) as f64 / now as f64 };
    println!("\ntotal: {} -> {} in memory, {} saved ({pct:.1}%); `sheaf convert --shrink` applies the dtype narrowings", size(now), size(after), size(now - after));
    Ok(())
}
