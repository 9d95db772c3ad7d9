//! `sheaf inspect`: arrays, and per column dtype, encoding, stored and in-memory bytes, ratio,
//! zero-copy, nulls and min/max; file totals. `--json` prints the same as data.

use anyhow::Context;
use serde_json::json;

use crate::args::InspectArgs;
use crate::human::{size, table};
use crate::stats::min_max;

pub(crate) fn run(a: &InspectArgs) -> anyhow::Result<()> {
    let file = sheaf::File::open(&a.file)?;
    let file_len = file.bytes().len() as u64;
    let mut arrays = Vec::new();
    let (mut total_stored, mut total_memory) = (0u64, 0u64);
    for array in file.arrays() {
        let mut cols = Vec::new();
        for col in array.columns()? {
            let stats = if a.no_stats { None } else { min_max(&col).with_context(|| format!("{}: reading {}", a.file.display(), col.name()))? };
            total_stored += col.stored_bytes();
            total_memory += col.memory_bytes();
            cols.push(json!({
                "name": col.desc().name(),
                "dtype": col.desc().type_text(),
                "encoding": col.encoding(),
                "chunks": col.chunks().len(),
                "stored_bytes": col.stored_bytes(),
                "memory_bytes": col.memory_bytes(),
                "ratio": ratio(col.memory_bytes(), col.stored_bytes()),
                "zero_copy": col.is_zero_copy(),
                "nulls": col.null_count(),
                "min": stats.as_ref().map(|s| s.0.clone()),
                "max": stats.as_ref().map(|s| s.1.clone()),
            }));
        }
        arrays.push(json!({
            "name": array.name(),
            "rows": array.rows(),
            "shape": array.shape(),
            "fortran_order": array.schema().fortran_order,
            "columns": cols,
        }));
    }
    let doc = json!({
        "file": a.file.display().to_string(),
        "format_version": format!("{}.{}", file.version().0, file.version().1),
        "file_bytes": file_len,
        "memory_bytes": total_memory,
        "stored_bytes": total_stored,
        "ratio": ratio(total_memory, file_len),
        "arrays": arrays,
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc).context("printing JSON")?);
        return Ok(());
    }
    print_table(&doc);
    Ok(())
}

fn ratio(memory: u64, stored: u64) -> f64 {
    if stored == 0 {
        1.0
    } else {
        (memory as f64 / stored as f64 * 100.0).round() / 100.0
    }
}

fn print_table(doc: &serde_json::Value) {
    let s = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    println!(
        "{}: sheaf v{}, {} on disk, {} in memory, ratio {:.2}",
        s(&doc["file"]),
        s(&doc["format_version"]),
        size(n(&doc["file_bytes"])),
        size(n(&doc["memory_bytes"])),
        doc["ratio"].as_f64().unwrap_or(1.0)
    );
    for array in doc["arrays"].as_array().into_iter().flatten() {
        let shape: Vec<String> = array["shape"].as_array().into_iter().flatten().map(|d| d.to_string()).collect();
        println!(
            "\narray {:?}: {} rows, shape ({}){}",
            s(&array["name"]),
            n(&array["rows"]),
            shape.join(", "),
            if array["fortran_order"].as_bool() == Some(true) { ", Fortran order" } else { "" }
        );
        let rows: Vec<Vec<String>> = array["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let name = s(&c["name"]);
                vec![
                    if name.is_empty() { "(values)".into() } else { name },
                    s(&c["dtype"]),
                    s(&c["encoding"]),
                    size(n(&c["stored_bytes"])),
                    size(n(&c["memory_bytes"])),
                    format!("{:.2}", c["ratio"].as_f64().unwrap_or(1.0)),
                    if c["zero_copy"].as_bool() == Some(true) { "yes".into() } else { "no".into() },
                    n(&c["nulls"]).to_string(),
                    c["min"].as_str().unwrap_or("-").to_string(),
                    c["max"].as_str().unwrap_or("-").to_string(),
                ]
            })
            .collect();
        print!("{}", table(&["column", "dtype", "encoding", "stored", "memory", "ratio", "zero-copy", "nulls", "min", "max"], &rows));
    }
}
