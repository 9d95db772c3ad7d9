//! Where each leaf column's bytes sit inside a NumPy record, and the parallel transposition
//! between records (row-major, padded, any byte order) and sheaf columns (one buffer per leaf,
//! little-endian).

use rayon::prelude::*;
use sheaf::{AlignedBytes, ArraySchema, ByteOrder, ColumnDesc, DType};

/// Rows per unit of parallel work: large enough to amortise scheduling, small enough to spread.
const BLOCK_ROWS: usize = 16 * 1024;

/// One leaf column's place in a record.
#[derive(Debug, Clone)]
pub struct ColumnLayout {
    /// The column.
    pub desc: ColumnDesc,
    /// Byte runs `(offset, len)` within a record, in the column's element order.
    pub runs: Vec<(usize, usize)>,
    /// Bytes per row of the column (sum of run lengths).
    pub row_width: usize,
    /// Swap units of this many bytes between the record's order and little-endian (0: none).
    pub swap: usize,
}

/// Layouts of every leaf column of `dtype`, depth-first (the sheaf column order).
#[must_use]
pub fn layouts(dtype: &DType) -> Vec<ColumnLayout> {
    let descs = ArraySchema::new("", dtype.clone()).columns();
    let mut runs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); descs.len()];
    let mut next = 0;
    walk(dtype, 0, &mut runs, &mut next);
    descs
        .into_iter()
        .zip(runs)
        .map(|(desc, runs)| {
            let merged = merge(runs);
            let row_width = merged.iter().map(|r| r.1).sum();
            let swap = if desc.leaf.byte_order == ByteOrder::Big && desc.leaf.ty.swap_width() > 1 { desc.leaf.ty.swap_width() } else { 0 };
            ColumnLayout { desc, runs: merged, row_width, swap }
        })
        .collect()
}

/// Visits leaves in column order, appending each leaf element's run at `base`.
fn walk(dtype: &DType, base: usize, runs: &mut [Vec<(usize, usize)>], next: &mut usize) {
    match dtype {
        DType::Leaf(l) => {
            // A row validity column (format 1.5: nullable rows of elements nullable one by one)
            // comes first and has no place in a record.
            if l.items_nullable && l.nullable {
                *next += 1;
            }
            runs[*next].push((base, l.ty.itemsize().unwrap_or(0) as usize));
            *next += 1;
        }
        DType::SubArray { base: inner, shape } => {
            let count: u64 = shape.iter().product();
            let stride = inner.itemsize().unwrap_or(0) as usize;
            let start = *next;
            for e in 0..count as usize {
                *next = start;
                walk(inner, base + e * stride, runs, next);
            }
            if count == 0 {
                // Still number the columns inside an empty subarray.
                let mut dummy = vec![Vec::new(); runs.len()];
                walk(inner, base, &mut dummy, next);
            }
        }
        DType::Struct(s) => {
            // A nullable struct's validity column has no place in a record.
            if s.nullable {
                *next += 1;
            }
            let mut packed = base;
            for f in &s.fields {
                let at = f.offset.map_or(packed, |o| base + o as usize);
                walk(&f.dtype, at, runs, next);
                packed = at + f.dtype.itemsize().unwrap_or(0) as usize;
            }
        }
        // No place in a record: only numbered, so that later columns line up.
        DType::List { .. } => *next += sheaf::ArraySchema::new("", dtype.clone()).columns().len(),
    }
}

fn merge(runs: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for (off, len) in runs {
        match out.last_mut() {
            Some(last) if last.0 + last.1 == off => last.1 += len,
            _ if len > 0 => out.push((off, len)),
            _ => {}
        }
    }
    out
}

fn swap_units(bytes: &mut [u8], unit: usize) {
    if unit > 1 {
        bytes.chunks_exact_mut(unit).for_each(<[u8]>::reverse);
    }
}

/// Runs `$fixed!(N)` for the widths worth a fixed-size copy the compiler can inline, else `$other`
/// (shared by the record-to-column gather and the column-to-record scatter).
macro_rules! by_common_width {
    ($len:expr, $fixed:ident, $other:block) => {
        match $len {
            1 => $fixed!(1),
            2 => $fixed!(2),
            4 => $fixed!(4),
            8 => $fixed!(8),
            12 => $fixed!(12),
            16 => $fixed!(16),
            _ => $other,
        }
    };
}

fn gather_block(records: &[u8], itemsize: usize, l: &ColumnLayout, first_row: usize, out: &mut [u8]) {
    let w = l.row_width;
    if let [(off, len)] = l.runs[..] {
        // One run per row: a strided copy, specialised for common widths.
        macro_rules! fixed {
            ($n:literal) => {
                for (r, dst) in out.chunks_exact_mut($n).enumerate() {
                    let s = (first_row + r) * itemsize + off;
                    let src: &[u8; $n] = records[s..s + $n].try_into().unwrap_or(&[0; $n]);
                    dst.copy_from_slice(src);
                }
            };
        }
        by_common_width!(len, fixed, {
            for (r, dst) in out.chunks_exact_mut(len).enumerate() {
                let s = (first_row + r) * itemsize + off;
                dst.copy_from_slice(&records[s..s + len]);
            }
        });
    } else if w > 0 {
        for (r, dst) in out.chunks_exact_mut(w).enumerate() {
            let rec = (first_row + r) * itemsize;
            let mut at = 0;
            for &(off, len) in &l.runs {
                dst[at..at + len].copy_from_slice(&records[rec + off..rec + off + len]);
                at += len;
            }
        }
    }
    swap_units(out, l.swap);
}

/// Rows of records gathered at a time by one thread: about 256 KiB of records, so that a block
/// stays in the core's cache while every column takes its part of it (column by column over the
/// whole array, a record of 19 fields went through memory 19 times: a quarter of a `convert`).
fn gather_rows(itemsize: usize) -> usize {
    ((256 << 10) / itemsize.max(1)).clamp(64, BLOCK_ROWS)
}

/// Splits records (`rows` of `itemsize` bytes, the caller has checked the length) into one
/// little-endian buffer per column, in parallel, a block of rows at a time.
#[must_use]
pub fn records_to_columns(records: &[u8], itemsize: usize, rows: usize, layouts: &[ColumnLayout]) -> Vec<AlignedBytes> {
    let mut cols: Vec<AlignedBytes> = layouts.iter().map(|l| AlignedBytes::zeroed(rows * l.row_width)).collect();
    let mut outs: Vec<&mut [u8]> = cols.iter_mut().map(AlignedBytes::as_mut_slice).collect();
    records_to_columns_into(records, itemsize, rows, layouts, &mut outs);
    cols
}

/// [`records_to_columns`] into the caller's buffers (`rows * row_width` bytes each, in layout
/// order), so that a writer streaming blocks of records reuses warm memory.
///
/// # Panics
/// If a buffer is shorter than its column's rows.
pub fn records_to_columns_into(records: &[u8], itemsize: usize, rows: usize, layouts: &[ColumnLayout], cols: &mut [&mut [u8]]) {
    let block = gather_rows(itemsize);
    let mut blocks: Vec<Vec<(&ColumnLayout, &mut [u8])>> = (0..rows.div_ceil(block)).map(|_| Vec::with_capacity(layouts.len())).collect();
    for (l, buf) in layouts.iter().zip(cols.iter_mut()) {
        if l.row_width == 0 {
            continue;
        }
        for (parts, out) in blocks.iter_mut().zip(buf[..rows * l.row_width].chunks_mut(block * l.row_width)) {
            parts.push((l, out));
        }
    }
    blocks.into_par_iter().enumerate().for_each(|(b, parts)| {
        for (l, out) in parts {
            gather_block(records, itemsize, l, b * block, out);
        }
    });
}

/// Writes columns (little-endian, `rows` rows each) into records, in parallel; bytes no column
/// covers (padding) are left as they are in `records`.
pub fn columns_to_records(columns: &[&[u8]], layouts: &[ColumnLayout], itemsize: usize, records: &mut [u8]) {
    if itemsize == 0 {
        return;
    }
    records.par_chunks_mut(BLOCK_ROWS * itemsize).enumerate().for_each(|(b, block)| {
        let first = b * BLOCK_ROWS;
        let rows = block.len() / itemsize;
        let mut scratch = Vec::new();
        for (col, l) in columns.iter().zip(layouts) {
            let w = l.row_width;
            if w == 0 {
                continue;
            }
            let mut src = &col[first * w..(first + rows) * w];
            if l.swap > 1 {
                scratch.clear();
                scratch.extend_from_slice(src);
                swap_units(&mut scratch, l.swap);
                src = &scratch;
            }
            scatter_rows(src, w, &l.runs, itemsize, block);
        }
    });
}

/// Writes each `w`-byte row of `src` into its record's runs; one-run columns of common widths
/// get a fixed-size copy the compiler can inline.
fn scatter_rows(src: &[u8], w: usize, runs: &[(usize, usize)], itemsize: usize, block: &mut [u8]) {
    if let [(off, len)] = runs {
        let (off, len) = (*off, *len);
        macro_rules! fixed {
            ($n:literal) => {
                for (row, rec) in src.chunks_exact($n).zip(block.chunks_exact_mut(itemsize)) {
                    if let Ok(dst) = <&mut [u8; $n]>::try_from(&mut rec[off..off + $n]) {
                        dst.copy_from_slice(row);
                    }
                }
            };
        }
        by_common_width!(len, fixed, {
            for (row, rec) in src.chunks_exact(len).zip(block.chunks_exact_mut(itemsize)) {
                rec[off..off + len].copy_from_slice(row);
            }
        });
        return;
    }
    for (row, rec) in src.chunks_exact(w).zip(block.chunks_exact_mut(itemsize)) {
        let mut at = 0;
        for &(off, len) in runs {
            rec[off..off + len].copy_from_slice(&row[at..at + len]);
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheaf::{Field, Leaf, LeafType};

    #[test]
    fn subarray_of_struct_gathers_strided_runs() {
        let inner = DType::structure(vec![Field::new("x", DType::leaf(LeafType::Float(4))), Field::new("s", DType::leaf(LeafType::Bytes(3)))]);
        let dt = DType::structure(vec![Field::new("id", DType::leaf(LeafType::Int(2))), Field::new("p", DType::subarray(inner, vec![2]))]);
        let ls = layouts(&dt);
        assert_eq!(ls[1].runs, vec![(2, 4), (9, 4)]);
        assert_eq!(ls[2].runs, vec![(6, 3), (13, 3)]);
        let itemsize = 16;
        let records: Vec<u8> = (0..3 * itemsize).map(|i| i as u8).collect();
        let cols = records_to_columns(&records, itemsize, 3, &ls);
        let mut back = vec![0u8; records.len()];
        let refs: Vec<&[u8]> = cols.iter().map(|c| c.as_slice()).collect();
        columns_to_records(&refs, &ls, itemsize, &mut back);
        assert_eq!(back, records);
    }

    #[test]
    fn columns_match_a_naive_split_across_block_edges() {
        // Three leaves of widths 8, 2 (big-endian) and 0, a 3-byte string, and padding: 23-byte
        // records, over several gather blocks and a partial one.
        let dt = DType::structure(vec![
            Field::new("a", DType::leaf(LeafType::Int(8))),
            Field::new("b", DType::Leaf(Leaf::new(LeafType::UInt(2)).with_byte_order(ByteOrder::Big))),
            Field::new("e", DType::subarray(DType::leaf(LeafType::Int(4)), vec![0])),
            Field::new("s", DType::leaf(LeafType::Bytes(3))),
        ]);
        let ls = layouts(&dt);
        let itemsize = 23;
        let rows = 2 * gather_rows(itemsize) + 5;
        let records: Vec<u8> = (0..rows * itemsize).map(|i| (i * 7 % 251) as u8).collect();
        let cols = records_to_columns(&records, itemsize, rows, &ls);
        let naive = |l: &ColumnLayout| -> Vec<u8> {
            let mut out = Vec::new();
            for r in 0..rows {
                let rec = &records[r * itemsize..(r + 1) * itemsize];
                for &(off, len) in &l.runs {
                    let mut v = rec[off..off + len].to_vec();
                    if l.swap > 1 {
                        v.reverse();
                    }
                    out.extend_from_slice(&v);
                }
            }
            out
        };
        assert_eq!(cols.len(), ls.len());
        for (c, l) in cols.iter().zip(&ls) {
            assert_eq!(c.as_slice(), &naive(l)[..], "column {}", l.desc.name());
        }
    }

    #[test]
    fn big_endian_leaves_are_swapped_to_little() {
        let dt = DType::Leaf(Leaf::new(LeafType::Int(4)).with_byte_order(ByteOrder::Big));
        let ls = layouts(&dt);
        let cols = records_to_columns(&[0, 0, 1, 2], 4, 1, &ls);
        assert_eq!(i32::from_le_bytes(cols[0][..4].try_into().unwrap()), 0x0102);
    }
}
