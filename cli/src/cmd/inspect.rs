//! `sheaf inspect`: arrays, and per column dtype, encoding, stored and in-memory bytes, ratio,
//! zero-copy, nulls and min/max; file totals. `--json` prints the same as data.

use anyhow::Context;
use serde_json::json;

use crate::args::InspectArgs;
use crate::human::{size, table};
use sheaf_convert::{min_max, RangeAcc};
use sheaf_convert::{Format, Source};

pub(crate) fn run(a: &InspectArgs) -> anyhow::Result<()> {
    let format = Format::from_path(&a.file)?;
    let doc = match format {
        Format::Sheaf => sheaf_doc(a)?,
        f if f.arrow().is_some() => arrow_doc(a, f)?,
        f => numpy_doc(a, f)?,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc).context("printing JSON")?);
        return Ok(());
    }
    print_table(&doc);
    Ok(())
}

/// Arrow IPC / Parquet / CSV: the Arrow schema, what sheaf makes of each field (or why it
/// cannot), and column statistics when every field maps.
fn arrow_doc(a: &InspectArgs, format: Format) -> anyhow::Result<serde_json::Value> {
    let af = format.arrow().context("not an Arrow format")?;
    let reader = sheaf_arrow::formats::open_reader(&a.file, af, &sheaf_arrow::formats::CsvOptions::default())?;
    let fields: Vec<_> = reader
        .schema
        .fields()
        .iter()
        .map(|f| {
            let mapped = sheaf_arrow::types::dtype_from_arrow(f, f.name());
            let sheaf_types = mapped.as_ref().ok().map(|d| {
                sheaf::ArraySchema::new("", d.clone())
                    .columns()
                    .iter()
                    .map(|c| {
                        let name = c.name();
                        if name.is_empty() {
                            c.type_text()
                        } else {
                            format!("{name}: {}", c.type_text())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            json!({
                "name": f.name(), "arrow_type": f.data_type().to_string(), "nullable": f.is_nullable(),
                "sheaf": sheaf_types, "unsupported": mapped.err().map(|e| e.to_string()),
            })
        })
        .collect();
    let all_map = fields.iter().all(|f| f["unsupported"].is_null());
    let mut doc = if all_map && !a.no_stats {
        numpy_doc(a, format)?
    } else {
        json!({"file": a.file.display().to_string(), "file_bytes": std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0), "arrays": []})
    };
    doc["format_version"] = json!(af.name());
    doc["arrow_schema"] = json!(fields);
    if let Some(rows) = reader.rows {
        doc["rows"] = json!(rows);
    }
    Ok(doc)
}

/// `.npy` / `.npz`: records as stored (every column strided in the record, nothing encoded).
fn numpy_doc(a: &InspectArgs, format: Format) -> anyhow::Result<serde_json::Value> {
    let source = Source::open(&a.file, format)?;
    let file_len = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let mut arrays = Vec::new();
    let mut total_memory = 0u64;
    for array in source.arrays(&[])? {
        let descs = array.schema.columns();
        let mut ranges: Vec<RangeAcc> = descs.iter().map(RangeAcc::new).collect();
        if !a.no_stats {
            let which: Vec<usize> = (0..descs.len()).collect();
            for b in array.batches(&which, 0, array.rows, 1 << 20) {
                for (r, c) in ranges.iter_mut().zip(b?.1) {
                    r.add(&c);
                }
            }
        }
        let single = descs.len() == 1 && descs[0].path.is_empty();
        let cols: Vec<_> = descs
            .iter()
            .zip(&ranges)
            .map(|(d, r)| {
                let bytes = d.row_width().unwrap_or(0) * array.rows;
                total_memory += bytes;
                let stats = r.finish();
                json!({
                    "name": d.name(), "dtype": d.type_text(), "encoding": "npy record", "chunks": 1,
                    "stored_bytes": bytes, "memory_bytes": bytes, "ratio": 1.0,
                    "zero_copy": single && format == Format::Npy, "nulls": 0,
                    "min": stats.as_ref().map(|s| s.0.clone()), "max": stats.as_ref().map(|s| s.1.clone()),
                })
            })
            .collect();
        arrays.push(json!({
            "name": array.name, "rows": array.rows, "shape": array.schema.shape, "fortran_order": array.schema.fortran_order, "columns": cols,
        }));
    }
    Ok(json!({
        "file": a.file.display().to_string(),
        "format_version": if format == Format::Npy { "npy" } else { "npz" },
        "file_bytes": file_len, "memory_bytes": total_memory, "stored_bytes": file_len,
        "ratio": ratio(total_memory, file_len), "arrays": arrays,
    }))
}

fn sheaf_doc(a: &InspectArgs) -> anyhow::Result<serde_json::Value> {
    let file = sheaf::File::open(&a.file)?;
    let file_len = file.len();
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
                // Columns inside lists have a row per item.
                "rows": col.rows(),
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
    Ok(json!({
        "file": a.file.display().to_string(),
        "format_version": format!("sheaf v{}.{}", file.version().0, file.version().1),
        "file_bytes": file_len,
        "memory_bytes": total_memory,
        "stored_bytes": total_stored,
        "ratio": ratio(total_memory, file_len),
        "arrays": arrays,
    }))
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
