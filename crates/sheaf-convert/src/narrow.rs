//! The memory advisor behind `sheaf suggest` and `convert --shrink`: per column, the value range
//! and the narrowest dtype that holds every value exactly (int64 in 0..200 -> uint8; float64
//! values that round-trip through float32 -> float32), and low-cardinality byte strings that
//! dictionary encoding will shrink.

use std::collections::HashSet;

use sheaf::{AlignedBytes, Buf, ColumnData, DType, Leaf, LeafType};

use crate::error::Result;
use crate::source::SourceArray;

const BATCH_ROWS: u64 = 1 << 20;
/// Distinct values counted before a column is called high-cardinality.
const MAX_DISTINCT: usize = 1 << 16;

/// What was found in one column.
#[derive(Debug, Clone)]
pub struct ColumnAdvice {
    /// The column's dotted path.
    pub name: String,
    /// Its dtype as text.
    pub dtype: String,
    /// The least value (integers), as text.
    pub min: Option<String>,
    /// The greatest value (integers), as text.
    pub max: Option<String>,
    /// The narrower leaf type, if one holds every value.
    pub narrower: Option<LeafType>,
    /// Distinct values of a byte-string column, when few.
    pub distinct: Option<usize>,
    /// Bytes the column takes in memory now.
    pub bytes_now: u64,
    /// Bytes it would take narrowed (or dictionary-encoded).
    pub bytes_after: u64,
}

impl ColumnAdvice {
    /// The advice in words (`-> u1`, `dictionary (12 distinct)`, `keep`).
    #[must_use]
    pub fn suggestion(&self) -> String {
        match (self.narrower, self.distinct) {
            (Some(t), _) => format!("-> {t}"),
            (None, Some(d)) => format!("dictionary ({d} distinct)"),
            _ => "keep".into(),
        }
    }
}

#[derive(Default)]
struct Scan {
    imin: i128,
    imax: i128,
    any: bool,
    f32_exact: bool,
    distinct: Option<HashSet<Vec<u8>>>,
    /// Rows seen (for a column inside a list: items).
    rows: u64,
}

fn int_value(ty: LeafType, b: &[u8]) -> Option<i128> {
    Some(match ty {
        LeafType::Int(1) => i128::from(b[0] as i8),
        LeafType::Int(2) => i128::from(i16::from_le_bytes(b.try_into().ok()?)),
        LeafType::Int(4) => i128::from(i32::from_le_bytes(b.try_into().ok()?)),
        LeafType::Int(8) => i128::from(i64::from_le_bytes(b.try_into().ok()?)),
        LeafType::UInt(1) => i128::from(b[0]),
        LeafType::UInt(2) => i128::from(u16::from_le_bytes(b.try_into().ok()?)),
        LeafType::UInt(4) => i128::from(u32::from_le_bytes(b.try_into().ok()?)),
        LeafType::UInt(8) => i128::from(u64::from_le_bytes(b.try_into().ok()?)),
        _ => return None,
    })
}

fn narrowest_int(ty: LeafType, lo: i128, hi: i128) -> Option<LeafType> {
    let width = ty.itemsize()?;
    let candidates: [(LeafType, i128, i128); 6] = [
        (LeafType::UInt(1), 0, 255),
        (LeafType::Int(1), -128, 127),
        (LeafType::UInt(2), 0, 65_535),
        (LeafType::Int(2), -32_768, 32_767),
        (LeafType::UInt(4), 0, u32::MAX.into()),
        (LeafType::Int(4), i32::MIN.into(), i32::MAX.into()),
    ];
    candidates.into_iter().find(|(t, a, b)| lo >= *a && hi <= *b && t.itemsize() < Some(width)).map(|(t, _, _)| t)
}

fn scan_batch(ty: LeafType, d: &ColumnData<'_>, per_row: usize, s: &mut Scan) {
    let Some(unit) = ty.itemsize().map(|n| n as usize) else { return };
    if unit == 0 {
        return;
    }
    for (i, v) in d.values.chunks_exact(unit).enumerate() {
        if per_row > 0 && !d.is_valid(i / per_row) {
            continue;
        }
        if let Some(x) = int_value(ty, v) {
            s.imin = if s.any { s.imin.min(x) } else { x };
            s.imax = if s.any { s.imax.max(x) } else { x };
        } else if ty == LeafType::Float(8) {
            let x = f64::from_le_bytes(v.try_into().unwrap_or([0; 8]));
            let back = f64::from(x as f32);
            s.f32_exact &= back.to_bits() == x.to_bits();
            s.imin = 0;
        } else if let Some(set) = s.distinct.as_mut() {
            if set.len() <= MAX_DISTINCT {
                set.insert(v.to_vec());
            }
        }
        s.any = true;
    }
}

/// Says of every selected column of `array` what could be narrower: integer columns of a sheaf
/// file that stores statistics (format 1.5) from those, without reading their data; the other
/// columns by scanning them.
pub fn advise(array: &SourceArray<'_>, which: &[usize]) -> Result<Vec<ColumnAdvice>> {
    let all = array.schema.columns();
    let descs: Vec<_> = which.iter().map(|&i| all[i].clone()).collect();
    let mut scans: Vec<Scan> =
        descs.iter().map(|d| Scan { f32_exact: true, distinct: matches!(d.leaf.ty, LeafType::Bytes(_) | LeafType::Unicode(_)).then(HashSet::new), ..Scan::default() }).collect();
    let mut scanned = Vec::new();
    for (k, (&i, d)) in which.iter().zip(&descs).enumerate() {
        let stored = if matches!(d.leaf.ty, LeafType::Int(_) | LeafType::UInt(_)) && !d.is_list() { array.stored_statistics(i)? } else { None };
        let s = &mut scans[k];
        match stored {
            Some((st, rows)) => {
                s.rows = rows;
                let bound = |v: &Option<sheaf::StatValue>| match v {
                    Some(sheaf::StatValue::Int(x)) => Some(i128::from(*x)),
                    Some(sheaf::StatValue::UInt(x)) => Some(i128::from(*x)),
                    _ => None,
                };
                if let (Some(lo), Some(hi)) = (bound(&st.min), bound(&st.max)) {
                    (s.imin, s.imax, s.any) = (lo, hi, true);
                }
            }
            None => scanned.push(k),
        }
    }
    if !scanned.is_empty() {
        let scan_which: Vec<usize> = scanned.iter().map(|&k| which[k]).collect();
        for b in array.batches(&scan_which, 0, array.rows, BATCH_ROWS) {
            let (_, cols) = b?;
            for (&k, c) in scanned.iter().zip(&cols) {
                let (d, s) = (&descs[k], &mut scans[k]);
                s.rows += c.rows;
                if !d.is_list() {
                    scan_batch(d.leaf.ty, c, d.elements_per_row() as usize, s);
                }
            }
        }
    }
    Ok(descs
        .iter()
        .zip(scans)
        .map(|(d, s)| {
            let rows = s.rows;
            let now = d.row_width().unwrap_or(0) * rows;
            let per_row = d.elements_per_row();
            let narrower = match d.leaf.ty {
                LeafType::Int(_) | LeafType::UInt(_) if s.any => narrowest_int(d.leaf.ty, s.imin, s.imax),
                LeafType::Int(_) | LeafType::UInt(_) => None,
                LeafType::Float(8) if s.any && s.f32_exact => Some(LeafType::Float(4)),
                _ => None,
            };
            let distinct = s.distinct.as_ref().map(HashSet::len).filter(|&n| n <= MAX_DISTINCT && (n as u64) * 4 < rows.max(1));
            let after = match (narrower, distinct) {
                (Some(t), _) => t.itemsize().unwrap_or(0) * per_row * rows,
                (None, Some(n)) => {
                    let bits = 64 - (n.max(2) as u64 - 1).leading_zeros() as u64;
                    n as u64 * d.leaf.ty.itemsize().unwrap_or(0) + (rows * per_row * bits).div_ceil(8)
                }
                _ => now,
            };
            let (min, max) = match d.leaf.ty {
                LeafType::Int(_) | LeafType::UInt(_) if s.any => (Some(s.imin.to_string()), Some(s.imax.to_string())),
                _ => (None, None),
            };
            ColumnAdvice { name: d.name(), dtype: d.type_text(), min, max, narrower, distinct, bytes_now: now, bytes_after: after.min(now) }
        })
        .collect())
}

/// The narrowings `convert --shrink` applies to one array.
pub struct Narrowing {
    /// The dtype with the narrowed leaves.
    pub dtype: DType,
    casts: Vec<Option<(LeafType, LeafType)>>,
}

/// Plans the narrowings of the selected columns (a full scan of the data).
pub fn plan(array: &SourceArray<'_>, which: &[usize], dtype: &DType) -> Result<Narrowing> {
    let advice = advise(array, which)?;
    let all = array.schema.columns();
    let casts: Vec<Option<(LeafType, LeafType)>> = which.iter().zip(&advice).map(|(&i, a)| a.narrower.map(|t| (all[i].leaf.ty, t))).collect();
    let mut index = 0;
    let new = replace_leaves(dtype, &casts, &mut index);
    Ok(Narrowing { dtype: new, casts })
}

fn replace_leaves(dtype: &DType, casts: &[Option<(LeafType, LeafType)>], index: &mut usize) -> DType {
    match dtype {
        DType::Leaf(l) => {
            // A row validity column (format 1.5) comes first and is never narrowed.
            if l.items_nullable && l.nullable {
                *index += 1;
            }
            let out = match casts.get(*index).copied().flatten() {
                Some((_, to)) => DType::Leaf(Leaf::new(to).with_nullable(l.nullable).with_items_nullable(l.items_nullable)),
                None => dtype.clone(),
            };
            *index += 1;
            out
        }
        DType::SubArray { base, shape } => DType::subarray(replace_leaves(base, casts, index), shape.clone()),
        DType::List { item, nullable } => {
            // The list's own offsets column is never narrowed.
            *index += 1;
            DType::list(replace_leaves(item, casts, index), *nullable)
        }
        DType::Struct(s) => {
            if s.nullable {
                // The struct's validity column (format 1.5) comes first and is never narrowed.
                *index += 1;
            }
            let changed = casts.iter().any(Option::is_some);
            let fields = s
                .fields
                .iter()
                .map(|f| sheaf::Field {
                    name: f.name.clone(),
                    title: f.title.clone(),
                    // Narrower fields change the record layout: drop the source offsets.
                    offset: if changed { None } else { f.offset },
                    dtype: replace_leaves(&f.dtype, casts, index),
                })
                .collect();
            DType::Struct(sheaf::StructType { fields, itemsize: if changed { None } else { s.itemsize }, aligned: s.aligned && !changed, nullable: s.nullable })
        }
    }
}

impl Narrowing {
    /// Casts the columns of one batch (checked: every value was seen to fit).
    pub fn apply<'a>(&self, cols: Vec<ColumnData<'a>>) -> Result<Vec<ColumnData<'a>>> {
        cols.into_iter()
            .zip(&self.casts)
            .map(|(c, cast)| {
                let Some((from, to)) = cast else { return Ok(c) };
                let (fw, tw) = (from.itemsize().unwrap_or(1) as usize, to.itemsize().unwrap_or(1) as usize);
                let n = c.values.len() / fw;
                let mut out = AlignedBytes::zeroed(n * tw);
                for (src, dst) in c.values.chunks_exact(fw).zip(out.as_mut_slice().chunks_exact_mut(tw)) {
                    if *from == LeafType::Float(8) {
                        let x = f64::from_le_bytes(src.try_into().unwrap_or([0; 8]));
                        dst.copy_from_slice(&(x as f32).to_le_bytes());
                    } else {
                        let v = int_value(*from, src).unwrap_or(0);
                        dst.copy_from_slice(&(v as i64).to_le_bytes()[..tw]);
                    }
                }
                Ok(ColumnData { rows: c.rows, values: Buf::Owned(out), offsets: None, validity: c.validity })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, Source};
    use sheaf::{ArraySchema, Codec, ColumnInput, Field, WriteOptions};

    /// Integer columns are advised from the stored statistics alone: with their data corrupted
    /// (which any read would refuse) the advice still comes, and says the same as a scan.
    #[test]
    fn integer_columns_are_advised_from_stored_statistics_without_reading_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sheaf");
        let small: Vec<i64> = (0..5000).map(|i| i % 200).collect();
        let wide: Vec<i32> = (0..5000).map(|i| i * 1000 - 70_000).collect();
        let dtype = DType::structure(vec![Field::new("small", DType::leaf(LeafType::Int(8))), Field::new("wide", DType::leaf(LeafType::Int(4)))]);
        let inputs = vec![ColumnInput::fixed(&small), ColumnInput::fixed(&wide)];
        sheaf::write_arrays(&path, &[(ArraySchema::new("t", dtype), inputs)], &WriteOptions::new().with_codec(Codec::Zstd(1))).unwrap();
        let advice = |p: &std::path::Path| {
            let source = Source::open(p, Format::Sheaf).unwrap();
            let arrays = source.arrays(&[]).unwrap();
            advise(&arrays[0], &[0, 1]).map(|a| a.iter().map(|c| (c.narrower, c.min.clone(), c.max.clone())).collect::<Vec<_>>())
        };
        let clean = advice(&path).unwrap();
        assert_eq!(clean, [(Some(LeafType::UInt(1)), Some("0".into()), Some("199".into())), (None, Some("-70000".into()), Some("4929000".into()))]);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = sheaf::File::open(&path).unwrap().single().unwrap().column("small").unwrap().chunks()[0].values.offset as usize;
        bytes[at + 20] ^= 0xFF;
        let bad = dir.path().join("bad.sheaf");
        std::fs::write(&bad, &bytes).unwrap();
        assert!(sheaf::File::open(&bad).unwrap().single().unwrap().column("small").unwrap().read().is_err(), "the data is corrupt");
        assert_eq!(advice(&bad).unwrap(), clean, "advised from the statistics, the data unread");
    }
}
