//! `sheaf inspect`: arrays, and per column dtype, encoding, stored and in-memory bytes, ratio,
//! zero-copy, nulls and min/max; file totals. `--json` prints the same as data.

use anyhow::Context;

use crate::args::InspectArgs;
use crate::human::{size, table};

pub(crate) fn run(a: &InspectArgs) -> anyhow::Result<()> {
    let doc = if let Some(d) = crate::place::open_dataset(&a.file)? {
        let mut doc = sheaf_convert::describe_dataset(&d, !a.no_stats)?;
        doc["file"] = serde_json::json!(a.file.display().to_string());
        doc
    } else if crate::place::format_of(&a.file)? == sheaf_convert::Format::Sheaf {
        sheaf_convert::describe_file(&crate::place::open_sheaf(&a.file)?, !a.no_stats)?
    } else {
        let copy = crate::place::local_copy(&a.file)?;
        let mut doc = sheaf_convert::describe(copy.local.as_deref().unwrap_or(&a.file), !a.no_stats).map_err(|e| anyhow::anyhow!(crate::place::as_shown(e.to_string())))?;
        doc["file"] = serde_json::json!(a.file.display().to_string());
        doc
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc).context("printing JSON")?);
        return Ok(());
    }
    print_table(&doc);
    Ok(())
}

fn print_table(doc: &serde_json::Value) {
    let s = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    if let Some(fields) = doc["arrow_schema"].as_array() {
        println!("{}: {}, {}", s(&doc["file"]), s(&doc["format_version"]), size(n(&doc["file_bytes"])));
        let rows: Vec<Vec<String>> = fields
            .iter()
            .map(|f| {
                let sheaf = match (f["sheaf"].as_str(), f["unsupported"].as_str()) {
                    (Some(t), _) => t.to_string(),
                    (None, Some(e)) => e.to_string(),
                    _ => "-".into(),
                };
                vec![s(&f["name"]), s(&f["arrow_type"]), if f["nullable"].as_bool() == Some(true) { "yes".into() } else { "no".into() }, sheaf]
            })
            .collect();
        println!("\nArrow schema and what sheaf makes of it:");
        print!("{}", table(&["field", "arrow type", "nullable", "sheaf"], &rows));
        if doc["arrays"].as_array().is_none_or(Vec::is_empty) {
            return;
        }
        println!();
    }
    println!(
        "{}: {}, {} on disk, {} in memory, ratio {:.2}",
        s(&doc["file"]),
        s(&doc["format_version"]),
        size(n(&doc["file_bytes"])),
        size(n(&doc["memory_bytes"])),
        doc["ratio"].as_f64().unwrap_or(1.0)
    );
    if let Some(files) = doc["files"].as_array() {
        let partitions: Vec<&str> = doc["partitions"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
        let rows: Vec<Vec<String>> = files
            .iter()
            .map(|f| {
                let mut cells = vec![s(&f["path"]), n(&f["rows"]).to_string(), size(n(&f["bytes"]))];
                cells.extend(partitions.iter().map(|p| f["partition"][*p].as_str().unwrap_or("null").to_string()));
                cells
            })
            .collect();
        let mut header = vec!["file", "rows", "size"];
        header.extend(&partitions);
        println!("\n{} files:", files.len());
        print!("{}", table(&header, &rows));
    }
    for array in doc["arrays"].as_array().into_iter().flatten() {
        let shape: Vec<String> = array["shape"].as_array().into_iter().flatten().map(|d| d.to_string()).collect();
        println!(
            "\narray {:?}: {} rows, shape ({}){}",
            s(&array["name"]),
            n(&array["rows"]),
            shape.join(", "),
            if array["fortran_order"].as_bool() == Some(true) { ", Fortran order" } else { "" }
        );
        // Columns inside lists have other row counts: show a column of them then.
        let columns = array["columns"].as_array().map(Vec::as_slice).unwrap_or_default();
        let per_column_rows = columns.iter().any(|c| c.get("rows").is_some_and(|r| r != &array["rows"]));
        let rows: Vec<Vec<String>> = columns
            .iter()
            .map(|c| {
                let name = s(&c["name"]);
                let mut cells = vec![
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
                ];
                if per_column_rows {
                    cells.insert(2, n(&c["rows"]).to_string());
                }
                cells
            })
            .collect();
        let mut header = vec!["column", "dtype", "encoding", "stored", "memory", "ratio", "zero-copy", "nulls", "min", "max"];
        if per_column_rows {
            header.insert(2, "rows");
        }
        print!("{}", table(&header, &rows));
    }
}
