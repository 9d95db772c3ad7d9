//! What a scan knows about one sheaf file and how it reads it: the file opened from a local path
//! (memory-mapped: plain columns reach Arrow without a copy) or from an object store (by byte
//! range), its single array's Arrow schema and per-field leaf columns, its statistics, the row
//! ranges a partition covers after chunk pruning, and the reading of those rows as Arrow
//! batches. All of it is synchronous; callers run it in [`blocking`].

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{new_null_array, RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result, Statistics};
use datafusion::physical_optimizer::pruning::PruningPredicate;
use object_store::local::LocalFileSystem;
use object_store::{ObjectMeta, ObjectStore};

use crate::stats::{column_statistics, file_statistics, PrunableColumn, Segments};
use sheaf_remote::ObjectStoreSource;

/// Fewest rows a decode step covers: chunks are merged up to this so that small chunks do not
/// make small batches.
const MIN_PIECE_ROWS: u64 = 64 << 10;

/// Any error as DataFusion's `External` (it stays matchable: downcast the source).
pub fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Runs `work` on the blocking pool: decoding is CPU work, and reads of a remote object block on
/// the runtime.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(external)?
}

/// Opens `object` of `store`: from the local file system when `local` is set (by its path, memory
/// mapped), else through range requests on `runtime`.
pub(crate) fn open_object(store: &Arc<dyn ObjectStore>, object: &ObjectMeta, local: Option<&LocalFileSystem>, runtime: tokio::runtime::Handle) -> Result<sheaf::File> {
    if let Some(fs) = local {
        let path = fs.path_to_filesystem(&object.location).map_err(external)?;
        return sheaf::File::open(path).map_err(external);
    }
    let url = PathBuf::from(object.location.to_string());
    let source = ObjectStoreSource::new(Arc::clone(store), object.location.clone(), object.size, url, runtime);
    sheaf::File::from_source(Arc::new(source)).map_err(external)
}

/// A sheaf file as a table: its single array, that array's Arrow schema, and the leaf columns of
/// each Arrow field.
pub(crate) struct FileFacts {
    /// The file's only array.
    pub array: sheaf::Array,
    /// Its Arrow schema.
    pub schema: SchemaRef,
    /// Leaf column indices of each field of `schema`.
    pub fields: Vec<Range<usize>>,
}

impl FileFacts {
    /// The facts of `file`, whose single array is the table.
    pub(crate) fn of(file: &sheaf::File) -> Result<FileFacts> {
        let array = file.single().map_err(|e| external(file_error(file, e)))?;
        let schema = Arc::new(sheaf_arrow::types::arrow_schema(array.schema()).map_err(external)?);
        let fields = sheaf_arrow::field_columns(array.schema());
        Ok(FileFacts { array, schema, fields })
    }

    /// The leaf column that alone holds field `index`, where the field is a scalar column (not
    /// a struct, list or subarray): the fields that have per-chunk statistics.
    fn scalar_column(&self, index: usize) -> Option<sheaf::Column> {
        let range = self.fields.get(index)?;
        if range.len() != 1 {
            return None;
        }
        let desc = self.array.column_descs().get(range.start)?;
        if desc.level != 0 || desc.is_list() || !desc.shape.is_empty() || desc.is_row_validity() {
            return None;
        }
        self.array.column_at(range.start).ok()
    }

    /// Planner statistics over `table_schema`'s fields (matched by name).
    pub(crate) fn statistics(&self, table_schema: &Schema) -> Statistics {
        let per_field = table_schema
            .fields()
            .iter()
            .map(|f| {
                let i = self.schema.index_of(f.name()).ok()?;
                let col = self.scalar_column(i)?;
                let merged = col.column_statistics().ok().flatten();
                Some(column_statistics(merged.as_ref(), col.null_count(), f.data_type()))
            })
            .collect();
        let bytes = self.array.columns().map(|cols| cols.iter().map(sheaf::Column::memory_bytes).sum()).unwrap_or(0);
        file_statistics(self.array.rows(), bytes, table_schema, per_field)
    }

    /// The chunk row starts (then the row count) of the first top-level column: the grid that
    /// partition boundaries snap to, so that a chunk is decoded by one partition.
    fn grid(&self) -> Vec<u64> {
        let Some(col) = self.array.column_descs().iter().position(|d| d.level == 0).and_then(|i| self.array.column_at(i).ok()) else { return vec![0, self.array.rows()] };
        col.row_starts().to_vec()
    }

    /// The rows of partition range `range` (rows of the file, from [`crate::SheafSource`]'s
    /// split; `None` for all), snapped to the chunk grid.
    pub(crate) fn partition_rows(&self, range: Option<Range<u64>>) -> Range<u64> {
        let n = self.array.rows();
        let Some(r) = range else { return 0..n };
        let grid = self.grid();
        let snap = |x: u64| if x >= n { n } else { grid[grid.partition_point(|&s| s <= x).saturating_sub(1)] };
        snap(r.start)..snap(r.end.max(r.start))
    }

    /// The parts of `rows` that `predicate` may match, judged from the chunk statistics of the
    /// columns it names; with the number of segments looked at and pruned.
    pub(crate) fn prune(&self, rows: Range<u64>, predicate: &PruningPredicate) -> Result<(Vec<Range<u64>>, usize, usize)> {
        let mut columns = Vec::new();
        let named = datafusion::physical_expr::utils::collect_columns(predicate.orig_expr());
        for column in &named {
            let Ok(i) = self.schema.index_of(column.name()) else { continue };
            let Some(col) = self.scalar_column(i) else { continue };
            let Some(stats) = col.statistics().map_err(external)? else { continue };
            columns.push(PrunableColumn { name: column.name().to_string(), ty: self.schema.field(i).data_type().clone(), starts: col.row_starts().to_vec(), stats });
        }
        if columns.is_empty() || rows.is_empty() {
            return Ok((vec![rows], 0, 0));
        }
        let segments = Segments::new(rows, &columns);
        let keep = predicate.prune(&segments)?;
        let total = segments.rows.len();
        let mut kept: Vec<Range<u64>> = Vec::new();
        for (r, k) in segments.rows.iter().zip(&keep) {
            if !k {
                continue;
            }
            match kept.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => kept.push(r.clone()),
            }
        }
        let pruned = keep.iter().filter(|k| !**k).count();
        Ok((kept, total, pruned))
    }

    /// `ranges` cut into decode steps at chunk boundaries of the columns `leaves`, merged up to
    /// [`MIN_PIECE_ROWS`] rows.
    pub(crate) fn pieces(&self, ranges: &[Range<u64>], leaves: &[usize]) -> Vec<Range<u64>> {
        let mut cuts: Vec<u64> = Vec::new();
        for &i in leaves {
            if self.array.column_descs().get(i).is_some_and(|d| d.level == 0) {
                if let Ok(col) = self.array.column_at(i) {
                    cuts.extend_from_slice(col.row_starts());
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Vec::new();
        for r in ranges {
            let mut start = r.start;
            for &c in cuts.iter().filter(|&&c| c > r.start && c < r.end) {
                if c - start >= MIN_PIECE_ROWS {
                    out.push(start..c);
                    start = c;
                }
            }
            if start < r.end {
                out.push(start..r.end);
            }
        }
        out
    }

    /// Rows `rows` of the fields `fields` (indices into [`FileFacts::schema`]; `None`: a column
    /// of the table that this file lacks, read as nulls) as one batch of `target` (the projected
    /// table schema: same names and types).
    pub(crate) fn read(&self, fields: &[Option<usize>], rows: Range<u64>, target: &SchemaRef) -> Result<RecordBatch> {
        let n = (rows.end - rows.start) as usize;
        let present: Vec<usize> = fields.iter().flatten().copied().collect();
        if fields.is_empty() {
            let options = RecordBatchOptions::new().with_row_count(Some(n));
            return Ok(RecordBatch::try_new_with_options(Arc::clone(target), Vec::new(), &options)?);
        }
        let mut read =
            if present.is_empty() { Vec::new() } else { sheaf_arrow::read_record_batch(&self.array, Some(&present), rows).map_err(external)?.columns().to_vec() }.into_iter();
        let columns = fields
            .iter()
            .zip(target.fields())
            .map(|(f, field)| match f {
                Some(_) => read.next().ok_or_else(|| DataFusionError::Internal("a sheaf read returned fewer columns than asked".into())),
                None => Ok(new_null_array(field.data_type(), n)),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(target), columns)?)
    }
}

/// `e`, naming `file` when it does not already.
fn file_error(file: &sheaf::File, e: sheaf::Error) -> sheaf::Error {
    match file.path() {
        Some(p) => e.in_file(p),
        None => e,
    }
}
