//! `sheaf inspect`: arrays, and per column dtype, encoding, stored and in-memory bytes, ratio,
//! zero-copy, nulls and min/max; file totals. `--json` prints the same as data.

use anyhow::Context;
use serde_json::json;

use crate::args::InspectArgs;
use crate::human::{size, table};
use crate::stats::{min_max, RangeAcc};
use crate::table::{Format, Source};

pub(crate) fn run(a: &InspectArgs) -> anyhow::Result<()> {
    let format = Format::from_path(&a.file)?;
    let doc = if format == Format::Sheaf { sheaf_doc(a)? } else { numpy_doc(a, format)? };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc).context("printing JSON")?);
        return Ok(());
    }
    print_table(&doc);
    Ok(())
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
