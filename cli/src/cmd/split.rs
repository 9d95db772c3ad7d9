//! `sheaf split IN --rows N|--size S OUT_PATTERN`: cuts the one array of a file (any format the
//! CLI reads) into sheaf pieces of N rows of its first dimension, or of about S stored bytes,
//! named by the pattern. Each piece is written atomically; a sheaf or `.npy` input is read by
//! range, a piece at a time.

use anyhow::{bail, Context};
use sheaf::{WriteOptions, Writer};
use sheaf_convert::Source;

use super::convert::{batch_rows, Plan};
use crate::args::SplitArgs;
use crate::progress::Progress;

/// A byte count as `123`, `500k`, `64M`, `1G` or `2T` (powers of 1024; `B`/`iB` allowed).
fn parse_size(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit() && *c != '.') {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => bail!("--size {text:?}: the unit must be k, M, G or T"),
    };
    let n: f64 = digits.parse().map_err(|_| anyhow::anyhow!("--size {text:?} is not a size (e.g. 64M)"))?;
    let bytes = n * scale as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        bail!("--size {text:?} must be at least one byte");
    }
    Ok(bytes as u64)
}

/// The pattern with the piece number in place of its `{}` or `{:0N}`.
fn piece_name(pattern: &str, number: usize) -> anyhow::Result<String> {
    let open = pattern.find('{').context("OUT_PATTERN needs a {} (or {:03}) for the piece number")?;
    let close = open + pattern[open..].find('}').context("OUT_PATTERN has a { without its }")?;
    let spec = &pattern[open + 1..close];
    let width = match spec {
        "" => 0,
        s => s.strip_prefix(":0").and_then(|w| w.parse::<usize>().ok()).with_context(|| format!("OUT_PATTERN: {{{s}}} is not {{}} or {{:0N}}"))?,
    };
    if pattern[close + 1..].contains('{') {
        bail!("OUT_PATTERN holds more than one {{}}");
    }
    Ok(format!("{}{number:0width$}{}", &pattern[..open], &pattern[close + 1..]))
}

pub(crate) fn run(a: &SplitArgs, quiet: bool) -> anyhow::Result<()> {
    piece_name(&a.out_pattern, 0)?;
    let format = match a.from {
        Some(f) => f,
        None => crate::place::format_of(&a.input).map_err(|e| anyhow::anyhow!("{e} (or pass --from)"))?,
    };
    let (source, _local) = crate::place::open_source(&a.input, format, &Default::default(), false)?;
    let arrays = source.arrays(&[])?;
    let [array] = arrays.as_slice() else {
        let names: Vec<&str> = arrays.iter().map(|x| x.name.as_str()).collect();
        bail!("{}: split cuts a file of one array, this one has {} ({names:?}); take one out with `sheaf convert --array`", a.input.display(), arrays.len());
    };
    let shape = array.schema.shape.clone().unwrap_or_else(|| vec![array.rows]);
    if array.schema.fortran_order && shape.len() > 1 {
        bail!("{}: array {:?} is in Fortran order: its first dimension's rows are not contiguous records", a.input.display(), array.name);
    }
    let first = shape.first().copied().unwrap_or(1);
    let rows = match (a.rows, &a.size) {
        (Some(n), _) if n > 0 => n,
        (Some(_), _) => bail!("--rows must be at least 1"),
        (None, Some(size)) => {
            let bytes = parse_size(size)?;
            // What a row takes as stored where the input says (sheaf), else in memory.
            let stored = match &source {
                Source::Sheaf(f) => f.array(&array.name)?.columns()?.iter().map(sheaf::Column::stored_bytes).sum::<u64>(),
                _ => Plan::whole(array).row_bytes() * array.rows,
            };
            let per_row = (stored as f64 / first.max(1) as f64).max(1e-9);
            ((bytes as f64 / per_row) as u64).max(1)
        }
        (None, None) => bail!("give --rows or --size"),
    };
    let options = WriteOptions::new().with_codec(a.codec.0);
    // A sheaf source's stored chunks are copied as they are (not decoded, not encoded again)
    // where the pieces start and end at chunk boundaries: always for --size (about that size,
    // cut at the nearest boundary), for --rows when its multiples are boundaries. A codec other
    // than `auto` asks for the rows to be encoded again.
    let stored = match &source {
        Source::Sheaf(f) if a.codec.0 == sheaf::Codec::AUTO && shape.len() <= 1 && !array.schema.dtype.has_list() => Some(f.array(&array.name)?),
        _ => None,
    };
    let bounds = match &stored {
        Some(from) => from.shared_chunk_bounds()?,
        None => Vec::new(),
    };
    let piece_end = |start: u64| -> (u64, bool) {
        let end = (start + rows).min(first);
        if stored.is_none() || bounds.binary_search(&start).is_err() {
            return (end, false);
        }
        if bounds.binary_search(&end).is_ok() {
            return (end, true);
        }
        if a.size.is_some() {
            // The nearest boundary past `start`: the last at or before `end`, else the next one.
            let before = bounds.iter().rev().find(|&&b| b > start && b <= end);
            let after = bounds.iter().find(|&&b| b > end);
            if let Some(&b) = before.or(after) {
                return (b, true);
            }
        }
        (end, false)
    };
    let progress = Progress::rows(array.rows, quiet, "splitting");
    let mut pieces = Vec::new();
    let mut start = 0u64;
    while start < first || (first == 0 && pieces.is_empty()) {
        let (end, copy) = piece_end(start);
        let name = piece_name(&a.out_pattern, pieces.len())?;
        let out = crate::place::Output::new(std::path::Path::new(&name))?;
        let plan = Plan::whole(array).first_dim_rows(start, end);
        let mut w = Writer::create(&out.path, options.clone())?;
        let id = w.add_array(plan.schema())?;
        let written = match (&stored, copy) {
            (Some(from), true) => w.append_stored_rows(id, from, start..end).map_err(Into::into).map(|()| progress.advance(end - start)),
            _ => plan.append_to(&mut w, id, options.row_group_rows().max(batch_rows(plan.row_bytes())), &progress),
        };
        written.and_then(|()| Ok(w.finish()?)).and_then(|()| out.publish()).with_context(|| format!("writing {name}"))?;
        pieces.push(serde_json::json!({"file": name, "first_row": start, "rows": end - start, "chunks_copied": copy}));
        start = end;
        if first == 0 {
            break;
        }
    }
    progress.finish();
    if a.json {
        println!("{}", serde_json::json!({"input": a.input.display().to_string(), "pieces": pieces}));
    } else if !quiet {
        println!("{}: {} pieces of at most {rows} rows", a.input.display(), pieces.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_patterns_parse() {
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("0").is_err() && parse_size("5x").is_err() && parse_size("M").is_err());
        assert_eq!(piece_name("out/part-{:03}.sheaf", 7).unwrap(), "out/part-007.sheaf");
        assert_eq!(piece_name("p{}.sheaf", 12).unwrap(), "p12.sheaf");
        assert!(piece_name("p.sheaf", 0).is_err() && piece_name("{}{}", 0).is_err() && piece_name("{:x}", 0).is_err());
    }
}
