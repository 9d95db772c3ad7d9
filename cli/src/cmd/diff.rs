//! `sheaf diff A B`: compares two files of any formats the CLI reads: their arrays, each array's
//! dtype and shape, then every column's values row by row (streamed, a batch at a time), and
//! reports the first difference. Exit 0 when they are the same, 1 when they differ. A row that
//! is null on both sides is equal whatever bytes lie under it; a column that may hold nulls and
//! holds none equals one that may not.

use std::path::Path;

use anyhow::Context;
use sheaf::{ColumnData, ColumnDesc, DType};
use sheaf_convert::{Batches, Source, SourceArray};

use super::append::describe;
use crate::args::DiffArgs;

/// Rows of an array read per batch on each side.
const STEP: u64 = 1 << 16;

fn open(path: &Path, from: Option<sheaf_convert::Format>) -> anyhow::Result<(Source, crate::place::Input)> {
    let format = match from {
        Some(f) => f,
        None => crate::place::format_of(path).map_err(|e| anyhow::anyhow!("{e} (or pass --from-a/--from-b)"))?,
    };
    crate::place::open_source(path, format, &Default::default(), false)
}

/// `dtype` with leaf and list nullability cleared: two dtypes equal after it have the same
/// columns, which then compare value by value (struct nulls add a column, so they stay).
fn without_nullability(dtype: &DType) -> DType {
    match dtype {
        DType::Leaf(l) => DType::Leaf(sheaf::Leaf { nullable: false, ..*l }),
        DType::SubArray { base, shape } => DType::SubArray { base: Box::new(without_nullability(base)), shape: shape.clone() },
        DType::Struct(s) => {
            let mut s = s.clone();
            for f in &mut s.fields {
                f.dtype = without_nullability(&f.dtype);
            }
            DType::Struct(s)
        }
        DType::List { item, .. } => DType::List { item: Box::new(without_nullability(item)), nullable: false },
    }
}

/// A column's rows as a stream, one batch held at a time.
struct Cursor<'s> {
    batches: Batches<'s>,
    batch: Option<ColumnData<'s>>,
    at: usize,
    /// The column's row number of the batch's first row.
    base: u64,
}

impl<'s> Cursor<'s> {
    fn new(array: &'s SourceArray<'s>, column: usize) -> Self {
        Cursor { batches: array.batches(&[column], 0, array.rows, STEP), batch: None, at: 0, base: 0 }
    }

    /// Moves to the next row: its batch and index there, or `None` at the end.
    fn next(&mut self) -> anyhow::Result<Option<(&ColumnData<'s>, usize, u64)>> {
        loop {
            if let Some(b) = &self.batch {
                if (self.at as u64) < b.rows {
                    break;
                }
                self.base += b.rows;
            }
            match self.batches.next() {
                None => return Ok(None),
                Some(r) => {
                    let (_, mut cols) = r?;
                    self.batch = Some(cols.pop().context("a batch without its column")?);
                    self.at = 0;
                }
            }
        }
        self.at += 1;
        let b = self.batch.as_ref().context("no batch")?;
        Ok(Some((b, self.at - 1, self.base + self.at as u64 - 1)))
    }
}

/// Whether row `r` of `x` and row `s` of `y` hold the same (`desc`'s layout on both sides).
fn same_row(desc: &ColumnDesc, x: &ColumnData<'_>, r: usize, y: &ColumnData<'_>, s: usize) -> bool {
    let k = desc.validity_bits_per_row() as usize;
    let valid = |d: &ColumnData<'_>, i: usize, j: usize| d.is_valid(i * k + j);
    if (0..k).any(|j| valid(x, r, j) != valid(y, s, j)) {
        return false;
    }
    if k == 1 && !valid(x, r, 0) {
        return true;
    }
    if desc.is_list() {
        let len = |d: &ColumnData<'_>, i: usize| d.offsets.as_ref().map(|o| o[i + 1] - o[i]);
        return len(x, r) == len(y, s);
    }
    if let (Some(a), Some(b)) = (x.var_value(r), y.var_value(s)) {
        return a == b;
    }
    let w = desc.row_width().unwrap_or(0) as usize;
    let (a, b) = (&x.values[r * w..(r + 1) * w], &y.values[s * w..(s + 1) * w]);
    if k == 1 {
        return a == b;
    }
    // Elements nullable one by one: compare the valid ones.
    let e = w / k;
    (0..k).all(|j| !valid(x, r, j) || a[j * e..(j + 1) * e] == b[j * e..(j + 1) * e])
}

/// The first row where column `c` of the two arrays differs, described.
fn column_difference(desc: &ColumnDesc, x: &SourceArray<'_>, y: &SourceArray<'_>, c: usize) -> anyhow::Result<Option<String>> {
    let (mut cx, mut cy) = (Cursor::new(x, c), Cursor::new(y, c));
    let what = if desc.level > 0 { "item" } else { "row" };
    loop {
        match (cx.next()?, cy.next()?) {
            (None, None) => return Ok(None),
            (Some((_, _, n)), None) | (None, Some((_, _, n))) => return Ok(Some(format!("one side ends at {what} {n}"))),
            (Some((a, r, n)), Some((b, s, _))) => {
                if !same_row(desc, a, r, b, s) {
                    let show = |d: &ColumnData<'_>, i: usize| {
                        if desc.is_list() {
                            d.offsets.as_ref().map_or_else(String::new, |o| format!("a list of {}", o[i + 1] - o[i]))
                        } else {
                            crate::format::cell(desc, d, i)
                        }
                    };
                    return Ok(Some(format!("{what} {n}: {} vs {}", show(a, r), show(b, s))));
                }
            }
        }
    }
}

/// The first difference between the two sources, described; `None` when they hold the same.
fn first_difference(sa: &Source, sb: &Source) -> anyhow::Result<Option<String>> {
    let (xs, ys) = (sa.arrays(&[])?, sb.arrays(&[])?);
    let names = |v: &[SourceArray<'_>]| v.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    // Files of one array each compare whatever the names (an `.npy` file's is the file's).
    let singles = xs.len() == 1 && ys.len() == 1;
    if !singles && names(&xs) != names(&ys) {
        return Ok(Some(format!("arrays {:?} vs {:?}", names(&xs), names(&ys))));
    }
    for (x, y) in xs.iter().zip(&ys) {
        let (dx, dy) = (&x.schema.dtype, &y.schema.dtype);
        if dx != dy && without_nullability(dx) != without_nullability(dy) {
            return Ok(Some(format!("array {:?}: dtype {} vs {}", x.name, describe(dx), describe(dy))));
        }
        let shape = |a: &SourceArray<'_>| a.schema.shape.clone().unwrap_or_else(|| vec![a.rows]);
        if shape(x) != shape(y) {
            return Ok(Some(format!("array {:?}: shape {:?} vs {:?}", x.name, shape(x), shape(y))));
        }
        if x.schema.fortran_order != y.schema.fortran_order && shape(x).iter().filter(|&&d| d > 1).count() > 1 {
            return Ok(Some(format!("array {:?}: {} order vs {} order", x.name, order(x), order(y))));
        }
        for (c, desc) in x.schema.columns().iter().enumerate() {
            if let Some(d) = column_difference(desc, x, y, c)? {
                let column = if desc.path.is_empty() { String::new() } else { format!(", column {:?}", desc.name()) };
                return Ok(Some(format!("array {:?}{column}, {d}", x.name)));
            }
        }
    }
    Ok(None)
}

fn order(a: &SourceArray<'_>) -> &'static str {
    if a.schema.fortran_order {
        "Fortran"
    } else {
        "C"
    }
}

pub(crate) fn run(a: &DiffArgs) -> anyhow::Result<()> {
    let (sa, _la) = open(&a.a, a.from_a)?;
    let (sb, _lb) = open(&a.b, a.from_b)?;
    let difference = first_difference(&sa, &sb)?;
    let rows: u64 = sa.arrays(&[])?.iter().map(|x| x.rows).sum();
    if a.json {
        println!("{}", serde_json::json!({"a": a.a.display().to_string(), "b": a.b.display().to_string(), "same": difference.is_none(), "difference": difference}));
    } else {
        match &difference {
            None => println!("same: {} and {} hold the same arrays, dtypes and values ({rows} rows)", a.a.display(), a.b.display()),
            Some(d) => println!("different: {d}"),
        }
    }
    if difference.is_some() {
        // A difference is an outcome, not an error: said on stdout, exit 1.
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(1);
    }
    Ok(())
}
