//! sheaf's stored chunk statistics in DataFusion's terms: bounds as [`ScalarValue`]s of a field's
//! Arrow type, a file's [`Statistics`] for the planner, and [`PruningStatistics`] over the row
//! segments of a scan so that a [`PruningPredicate`](datafusion::physical_optimizer::pruning::PruningPredicate)
//! can skip chunks. A bound is only offered where it is a true bound under DataFusion's
//! comparisons: a chunk holding NaN (floats) or NaT (datetimes) has no bounds here, since those
//! compare above (or below) every value in Arrow while sheaf leaves them out of its bounds.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, UInt64Array};
use arrow_schema::{DataType, Schema};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::stats::Precision;
use datafusion::common::{Column as ColumnRef, ColumnStatistics, ScalarValue, Statistics};
use sheaf::{ChunkStats, StatValue};

/// A bound as a value of `ty`, or `None` where it has no exact form there.
pub(crate) fn scalar(value: &StatValue, ty: &DataType) -> Option<ScalarValue> {
    let raw = match value {
        StatValue::Int(v) => ScalarValue::Int64(Some(*v)),
        StatValue::UInt(v) if *ty == DataType::Boolean => ScalarValue::Boolean(Some(*v != 0)),
        StatValue::UInt(v) => ScalarValue::UInt64(Some(*v)),
        StatValue::Float(v) => ScalarValue::Float64(Some(*v)),
        StatValue::Bytes(b) => match ty {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ScalarValue::Utf8(Some(String::from_utf8(b.clone()).ok()?)),
            DataType::FixedSizeBinary(w) if b.len() != usize::try_from(*w).ok()? => return None,
            _ => ScalarValue::Binary(Some(b.clone())),
        },
    };
    if raw.data_type() == *ty {
        return Some(raw);
    }
    let cast = raw.cast_to(ty).ok()?;
    // A cast that changed the value (an out-of-range integer, a float narrowed inexactly) would
    // be a wrong bound: keep only casts that round-trip.
    let back = cast.cast_to(&raw.data_type()).ok()?;
    (back == raw && !cast.is_null()).then_some(cast)
}

/// A bound and whether it is exact (a value that occurs).
pub(crate) type Bound = (ScalarValue, bool);

/// The bounds of `stats` usable by DataFusion, as values of `ty`: `(min, max)`, each with
/// whether it is exact.
pub(crate) fn bounds(stats: &ChunkStats, ty: &DataType) -> (Option<Bound>, Option<Bound>) {
    if stats.nan_count > 0 {
        return (None, None);
    }
    let min = stats.min.as_ref().and_then(|v| scalar(v, ty)).map(|s| (s, stats.min_exact));
    let max = stats.max.as_ref().and_then(|v| scalar(v, ty)).map(|s| (s, stats.max_exact));
    (min, max)
}

/// Planner statistics of one column from its merged chunk statistics.
pub(crate) fn column_statistics(stats: Option<&ChunkStats>, null_count: u64, ty: &DataType) -> ColumnStatistics {
    let mut out = ColumnStatistics::new_unknown();
    out.null_count = Precision::Exact(null_count as usize);
    if let Some(stats) = stats {
        let (min, max) = bounds(stats, ty);
        let precision = |b: Option<Bound>| match b {
            Some((v, true)) => Precision::Exact(v),
            Some((v, false)) => Precision::Inexact(v),
            None => Precision::Absent,
        };
        out.min_value = precision(min);
        out.max_value = precision(max);
    }
    out
}

/// Statistics of a file whose fields are `schema`'s, with per field what is known.
pub(crate) fn file_statistics(rows: u64, bytes: u64, schema: &Schema, per_field: Vec<Option<ColumnStatistics>>) -> Statistics {
    Statistics {
        num_rows: Precision::Exact(rows as usize),
        total_byte_size: Precision::Inexact(bytes as usize),
        column_statistics: schema.fields().iter().zip(per_field.into_iter().chain(std::iter::repeat(None))).map(|(_, s)| s.unwrap_or_else(ColumnStatistics::new_unknown)).collect(),
    }
}

/// One column a predicate names: its Arrow type and, per chunk, row starts and statistics.
pub(crate) struct PrunableColumn {
    /// The column name the predicate uses.
    pub name: String,
    /// The field's Arrow type.
    pub ty: DataType,
    /// First row of each chunk, then the row count.
    pub starts: Vec<u64>,
    /// Statistics of each chunk.
    pub stats: Arc<Vec<ChunkStats>>,
}

impl PrunableColumn {
    fn chunk_of(&self, row: u64) -> usize {
        self.starts.partition_point(|&s| s <= row).saturating_sub(1)
    }
}

/// Row segments of a scan as pruning containers: the segments split the scanned rows at every
/// chunk boundary of every column the predicate names, so each lies inside one chunk of each
/// of them and that chunk's statistics hold for it. Pruning segments rather than one column's
/// chunks keeps columns chunked differently correct (and `OR`s across them).
pub(crate) struct Segments<'a> {
    /// The segments, in row order, tiling the scanned range.
    pub rows: Vec<Range<u64>>,
    columns: &'a [PrunableColumn],
}

impl<'a> Segments<'a> {
    /// The segments of `range` for `columns`.
    pub(crate) fn new(range: Range<u64>, columns: &'a [PrunableColumn]) -> Self {
        let mut cuts: Vec<u64> = columns.iter().flat_map(|c| c.starts.iter().copied()).filter(|&s| s > range.start && s < range.end).collect();
        cuts.push(range.start);
        cuts.push(range.end);
        cuts.sort_unstable();
        cuts.dedup();
        let rows = cuts.windows(2).map(|w| w[0]..w[1]).collect();
        Segments { rows, columns }
    }

    fn column(&self, column: &ColumnRef) -> Option<&PrunableColumn> {
        self.columns.iter().find(|c| c.name == column.name)
    }

    fn bound(&self, column: &ColumnRef, max: bool) -> Option<ArrayRef> {
        let col = self.column(column)?;
        let values: Vec<ScalarValue> = self
            .rows
            .iter()
            .map(|r| {
                let (lo, hi) = col.stats.get(col.chunk_of(r.start)).map(|s| bounds(s, &col.ty)).unwrap_or((None, None));
                let b = if max { hi } else { lo };
                b.map(|(v, _)| v).unwrap_or_else(|| ScalarValue::try_from(&col.ty).unwrap_or(ScalarValue::Null))
            })
            .collect();
        ScalarValue::iter_to_array(values).ok()
    }
}

impl PruningStatistics for Segments<'_> {
    fn min_values(&self, column: &ColumnRef) -> Option<ArrayRef> {
        self.bound(column, false)
    }

    fn max_values(&self, column: &ColumnRef) -> Option<ArrayRef> {
        self.bound(column, true)
    }

    fn num_containers(&self) -> usize {
        self.rows.len()
    }

    fn null_counts(&self, column: &ColumnRef) -> Option<ArrayRef> {
        let col = self.column(column)?;
        // A chunk's null count holds for a segment when the segment is the whole chunk, or when it
        // is 0.
        let counts: Vec<Option<u64>> = self
            .rows
            .iter()
            .map(|r| {
                let i = col.chunk_of(r.start);
                let whole = col.starts.get(i) == Some(&r.start) && col.starts.get(i + 1) == Some(&r.end);
                col.stats.get(i).filter(|s| whole || s.null_count == 0).map(|s| s.null_count)
            })
            .collect();
        Some(Arc::new(UInt64Array::from(counts)))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from(self.rows.iter().map(|r| r.end - r.start).collect::<Vec<_>>())))
    }

    #[allow(clippy::mutable_key_type)]
    fn contained(&self, _column: &ColumnRef, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}
