//! Column statistics for `inspect`: min and max of numeric and datetime columns, computed chunk
//! by chunk so memory stays bounded by one chunk.

use sheaf::{Column, ColumnData, LeafType, StatValue, TimeUnit};

/// Min and max as display text, `None` when the type has no order we show: from the statistics
/// the file stores (format 1.5, no data read), else by scanning chunk by chunk.
pub fn min_max(col: &Column) -> sheaf::Result<Option<(String, String)>> {
    let mut r = RangeAcc::new(col.desc());
    r.add_column(col)?;
    Ok(r.finish())
}

/// Accumulates the range of a column over batches.
pub struct RangeAcc {
    ty: LeafType,
    per_row: usize,
    acc: Option<(f64, f64, i128, i128)>,
}

impl RangeAcc {
    /// An empty range for a column of `desc`.
    #[must_use]
    pub fn new(desc: &sheaf::ColumnDesc) -> Self {
        RangeAcc { ty: desc.leaf.ty, per_row: desc.elements_per_row() as usize, acc: None }
    }

    /// Widens the range by one batch's values (null rows, NaN and NaT left out).
    pub fn add(&mut self, d: &ColumnData<'_>) {
        if let Some(range) = chunk_range(self.ty, d, self.per_row) {
            self.widen(range);
        }
    }

    /// Widens the range by a whole column: from the statistics the file stores (format 1.5, no
    /// data read), else by scanning chunk by chunk.
    ///
    /// # Errors
    /// A chunk or the statistics cannot be read.
    pub fn add_column(&mut self, col: &Column) -> sheaf::Result<()> {
        let ty = col.desc().leaf.ty;
        let shown = matches!(ty, LeafType::Bool | LeafType::Int(_) | LeafType::UInt(_) | LeafType::Float(_) | LeafType::Datetime(..) | LeafType::Timedelta(..));
        if let Some(stats) = col.column_statistics()?.filter(|_| shown) {
            let range = match (stats.min, stats.max) {
                (Some(StatValue::Int(lo)), Some(StatValue::Int(hi))) => Some((lo as f64, hi as f64, i128::from(lo), i128::from(hi))),
                (Some(StatValue::UInt(lo)), Some(StatValue::UInt(hi))) => Some((lo as f64, hi as f64, i128::from(lo), i128::from(hi))),
                (Some(StatValue::Float(lo)), Some(StatValue::Float(hi))) => Some((lo, hi, 0, 0)),
                _ => None,
            };
            if let Some(range) = range {
                self.widen(range);
            }
            return Ok(());
        }
        for i in 0..col.chunks().len() {
            self.add(&col.read_chunk(i)?);
        }
        Ok(())
    }

    fn widen(&mut self, (lo, hi, ilo, ihi): (f64, f64, i128, i128)) {
        self.acc = Some(match self.acc {
            None => (lo, hi, ilo, ihi),
            Some((a, b, c, e)) => (a.min(lo), b.max(hi), c.min(ilo), e.max(ihi)),
        });
    }

    /// The range as text (`None` when no value counted or the type has no order shown).
    #[must_use]
    pub fn finish(&self) -> Option<(String, String)> {
        let (lo, hi, ilo, ihi) = self.acc?;
        Some(format_range(self.ty, lo, hi, ilo, ihi))
    }
}

fn format_range(ty: LeafType, lo: f64, hi: f64, ilo: i128, ihi: i128) -> (String, String) {
    match ty {
        LeafType::Float(4) => (fmt_float(f64::from(lo as f32), true), fmt_float(f64::from(hi as f32), true)),
        LeafType::Float(_) => (fmt_float(lo, false), fmt_float(hi, false)),
        LeafType::Datetime(unit, mult) => (datetime(ilo, unit, mult), datetime(ihi, unit, mult)),
        LeafType::Timedelta(unit, _) => (format!("{ilo} {}", unit.code()), format!("{ihi} {}", unit.code())),
        _ => (ilo.to_string(), ihi.to_string()),
    }
}

/// Shortest text that reads back to the same value (of the column's own precision).
fn fmt_float(v: f64, single: bool) -> String {
    let text = if single { format!("{}", v as f32) } else { format!("{v}") };
    if v.is_finite() && !text.contains('.') && !text.contains('e') && !text.contains("inf") {
        format!("{text}.0")
    } else {
        text
    }
}

/// Range of one chunk, skipping null rows, NaN and NaT.
fn chunk_range(ty: LeafType, d: &ColumnData<'_>, per_row: usize) -> Option<(f64, f64, i128, i128)> {
    let valid = |elem: usize| per_row == 0 || d.is_valid(elem / per_row);
    macro_rules! ints {
        ($t:ty, $skip_nat:expr) => {{
            let v: &[$t] = d.values_as().ok()?;
            let it = v.iter().enumerate().filter(|(i, x)| valid(*i) && !($skip_nat && i128::from(**x) == i128::from(i64::MIN)));
            let (lo, hi) = it.fold((i128::MAX, i128::MIN), |(lo, hi), (_, &x)| (lo.min(i128::from(x)), hi.max(i128::from(x))));
            (lo <= hi).then_some((lo as f64, hi as f64, lo, hi))
        }};
    }
    macro_rules! floats {
        ($t:ty) => {{
            let v: &[$t] = d.values_as().ok()?;
            let (lo, hi) = v
                .iter()
                .enumerate()
                .filter(|(i, x)| valid(*i) && !x.is_nan())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, &x)| (lo.min(f64::from(x)), hi.max(f64::from(x))));
            (lo <= hi).then_some((lo, hi, 0, 0))
        }};
    }
    match ty {
        LeafType::Bool | LeafType::UInt(1) => ints!(u8, false),
        LeafType::Int(1) => ints!(i8, false),
        LeafType::Int(2) => ints!(i16, false),
        LeafType::UInt(2) => ints!(u16, false),
        LeafType::Int(4) => ints!(i32, false),
        LeafType::UInt(4) => ints!(u32, false),
        LeafType::Int(8) => ints!(i64, false),
        LeafType::UInt(8) => ints!(u64, false),
        LeafType::Datetime(..) | LeafType::Timedelta(..) => ints!(i64, true),
        LeafType::Float(4) => floats!(f32),
        LeafType::Float(8) => floats!(f64),
        _ => None,
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// ISO 8601 text of a datetime64 value, as NumPy prints it.
pub fn datetime(v: i128, unit: TimeUnit, mult: u32) -> String {
    if v == i128::from(i64::MIN) {
        return "NaT".into();
    }
    let v = v * i128::from(mult);
    let (per_sec, digits): (i128, usize) = match unit {
        TimeUnit::Year => return format!("{}", 1970 + v),
        TimeUnit::Month => return format!("{}-{:02}", 1970 + v.div_euclid(12), v.rem_euclid(12) + 1),
        TimeUnit::Week => return date(v * 7),
        TimeUnit::Day => return date(v),
        TimeUnit::Hour => return format!("{}T{:02}", date(v.div_euclid(24)), v.rem_euclid(24)),
        TimeUnit::Minute => {
            let m = v.rem_euclid(1440);
            return format!("{}T{:02}:{:02}", date(v.div_euclid(1440)), m / 60, m % 60);
        }
        TimeUnit::Second | TimeUnit::Generic => (1, 0),
        TimeUnit::Milli => (1_000, 3),
        TimeUnit::Micro => (1_000_000, 6),
        TimeUnit::Nano => (1_000_000_000, 9),
        TimeUnit::Pico => (1_000_000_000_000, 12),
        TimeUnit::Femto => (1_000_000_000_000_000, 15),
        TimeUnit::Atto => (1_000_000_000_000_000_000, 18),
    };
    let secs = v.div_euclid(per_sec);
    let frac = v.rem_euclid(per_sec);
    let s = secs.rem_euclid(86_400);
    let mut out = format!("{}T{:02}:{:02}:{:02}", date(secs.div_euclid(86_400)), s / 3600, s / 60 % 60, s % 60);
    if digits > 0 {
        out.push_str(&format!(".{frac:0digits$}"));
    }
    out
}

fn date(days: i128) -> String {
    let (y, m, d) = civil(i64::try_from(days).unwrap_or(i64::MAX / 2));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_print_as_numpy_does() {
        assert_eq!(datetime(0, TimeUnit::Nano, 1), "1970-01-01T00:00:00.000000000");
        assert_eq!(datetime(1_700_000_000, TimeUnit::Second, 1), "2023-11-14T22:13:20");
        assert_eq!(datetime(-1, TimeUnit::Day, 1), "1969-12-31");
        assert_eq!(datetime(i128::from(i64::MIN), TimeUnit::Nano, 1), "NaT");
        assert_eq!(datetime(11_016, TimeUnit::Day, 1), "2000-02-29");
    }
}
