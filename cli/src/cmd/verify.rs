//! `sheaf verify`: full structural and checksum verification.

use anyhow::Context;

use crate::args::VerifyArgs;

pub(crate) fn run(a: &VerifyArgs) -> anyhow::Result<()> {
    let file = sheaf::File::open(&a.file)?;
    let report = file.verify()?;
    if a.json {
        let v = serde_json::json!({
            "file": a.file.display().to_string(),
            "ok": true,
            "arrays": report.arrays,
            "columns": report.columns,
            "chunks": report.chunks,
            "bytes_checked": report.bytes_checked,
        });
        println!("{}", serde_json::to_string_pretty(&v).context("printing JSON")?);
    } else {
        println!(
            "{}: ok ({} arrays, {} columns, {} chunks, {} checked)",
            a.file.display(),
            report.arrays,
            report.columns,
            report.chunks,
            crate::human::size(report.bytes_checked)
        );
    }
    Ok(())
}
