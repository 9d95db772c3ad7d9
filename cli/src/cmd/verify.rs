//! `sheaf verify`: full structural and checksum verification.

use anyhow::Context;

use crate::args::VerifyArgs;
use sheaf_convert::Format;

/// Other formats: read everything their own readers check (headers, lengths, every batch
/// validated in full).
fn verify_foreign(a: &VerifyArgs, format: Format) -> anyhow::Result<()> {
    let (arrays, rows) = match format.arrow() {
        Some(af) => {
            let mut rows = 0u64;
            let copy = crate::place::local_copy(&a.file)?;
            let local = copy.local.as_deref().unwrap_or(&a.file);
            for b in sheaf_arrow::formats::open_reader(local, af, &sheaf_arrow::formats::CsvOptions::default())? {
                rows += b.map_err(|e| anyhow::anyhow!(crate::place::as_shown(e.to_string())))?.num_rows() as u64;
            }
            (1, rows)
        }
        None => {
            let (source, _input) = crate::place::open_source(&a.file, format, &Default::default(), false)?;
            let arrays = source.arrays(&[])?;
            (arrays.len(), arrays.iter().map(|x| x.rows).sum())
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"file": a.file.display().to_string(), "ok": true, "arrays": arrays, "rows": rows}))?);
    } else {
        println!("{}: ok ({arrays} arrays, {rows} rows read)", a.file.display());
    }
    Ok(())
}

pub(crate) fn run(a: &VerifyArgs) -> anyhow::Result<()> {
    let format = crate::place::format_of(&a.file).unwrap_or(Format::Sheaf);
    if format != Format::Sheaf {
        return verify_foreign(a, format);
    }
    let file = crate::place::open_sheaf(&a.file)?;
    let report = file.verify()?;
    if a.json {
        let v = serde_json::json!({
            "file": a.file.display().to_string(),
            "ok": true,
            "arrays": report.arrays,
            "columns": report.columns,
            "chunks": report.chunks,
            "bytes_checked": report.bytes_checked,
            "versions": report.versions,
            "uncommitted_bytes": report.uncommitted_bytes,
        });
        println!("{}", serde_json::to_string_pretty(&v).context("printing JSON")?);
    } else {
        let versions = if report.versions > 1 { format!(", {} versions", report.versions) } else { String::new() };
        println!(
            "{}: ok ({} arrays, {} columns, {} chunks, {} checked{versions})",
            a.file.display(),
            report.arrays,
            report.columns,
            report.chunks,
            crate::human::size(report.bytes_checked)
        );
        if report.uncommitted_bytes > 0 {
            // Not a fault: the last committed version is whole; the next append reclaims them.
            eprintln!("note: {} after the last committed version were left by an interrupted append (never read)", crate::human::size(report.uncommitted_bytes));
        }
    }
    Ok(())
}
