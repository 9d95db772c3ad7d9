//! The scan of `.sheaf` files: [`SheafSource`] (a DataFusion [`FileSource`]) takes the
//! projection and the pushed-down filters, splits the files into partitions by row ranges, and
//! makes the [`FileOpener`] that reads one file's partition: the chunk statistics prune row
//! segments the filters cannot match, and the rest is decoded chunk by chunk on the blocking
//! pool and handed out in batches of the session's batch size. Filters are reported as inexact
//! (DataFusion still applies them to the rows read), so pruning never changes a result.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileSource};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_expr::utils::conjunction;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr};
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::physical_plan::filter_pushdown::{FilterPushdownPropagation, PushedDown};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use datafusion::physical_plan::DisplayFormatType;
use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;

use crate::reader::{blocking, open_object, FileFacts};

/// Fewest rows a partition is given when files are split (smaller splits cost more than they
/// gain).
const MIN_PARTITION_ROWS: u64 = 64 << 10;

/// The scan of sheaf files. A [`PartitionedFile::range`] of this source is a range of **rows**
/// of the file (not bytes, as for Parquet): [`SheafSource::repartitioned`] makes them from the
/// files' row counts, and each partition snaps its range to the file's chunk grid, so the
/// partitions of a file tile its rows exactly and a chunk is decoded once.
#[derive(Clone)]
pub struct SheafSource {
    table_schema: TableSchema,
    projection: SplitProjection,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    batch_size: usize,
    metrics: ExecutionPlanMetricsSet,
}

impl SheafSource {
    /// A source reading every column of `table_schema`.
    #[must_use]
    pub fn new(table_schema: TableSchema) -> Self {
        SheafSource { projection: SplitProjection::unprojected(&table_schema), table_schema, predicate: None, batch_size: 8192, metrics: ExecutionPlanMetricsSet::new() }
    }

    /// The filter used to prune chunks, if any.
    #[must_use]
    pub fn predicate(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        self.predicate.as_ref()
    }
}

impl FileSource for SheafSource {
    fn create_file_opener(&self, object_store: Arc<dyn ObjectStore>, config: &FileScanConfig, partition: usize) -> Result<Arc<dyn FileOpener>> {
        let file_schema = Arc::clone(self.table_schema.file_schema());
        let indices = self.projection.file_indices.clone();
        let projected: SchemaRef = Arc::new(file_schema.project(&indices)?);
        // A predicate the pruning builder cannot use only costs pruning, never correctness.
        let pruning = self
            .predicate
            .as_ref()
            .and_then(|p| PruningPredicateBuilder::new().with_file_schema(Arc::clone(&file_schema)).try_build(Arc::clone(p)).ok())
            .filter(|p| !p.always_true())
            .map(Arc::new);
        let local = config.object_store_url.as_str().starts_with("file://").then(|| Arc::new(LocalFileSystem::new()));
        let opener = SheafOpener {
            store: object_store,
            local,
            file_schema: Arc::clone(&file_schema),
            indices,
            projected,
            pruning,
            limit: config.limit,
            batch_size: config.batch_size.unwrap_or(self.batch_size).max(1),
            metrics: ScanMetrics::new(&self.metrics, partition),
        };
        ProjectionOpener::try_new(self.projection.clone(), Arc::new(opener), &file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(SheafSource { batch_size, ..self.clone() })
    }

    fn filter(&self) -> Option<Arc<dyn PhysicalExpr>> {
        self.predicate.clone()
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        crate::EXTENSION
    }

    fn fmt_extra(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match (t, &self.predicate) {
            (DisplayFormatType::Default | DisplayFormatType::Verbose, Some(p)) => write!(f, ", predicate={p}"),
            _ => Ok(()),
        }
    }

    fn repartitioned(&self, target_partitions: usize, _min_size: usize, _ordering: Option<LexOrdering>, config: &FileScanConfig) -> Result<Option<FileScanConfig>> {
        let files: Vec<&PartitionedFile> = config.file_groups.iter().flat_map(FileGroup::iter).collect();
        let rows: Option<Vec<u64>> = files.iter().map(|f| file_rows(f)).collect();
        let Some(rows) = rows else { return Ok(None) };
        let total: u64 = rows.iter().sum();
        if target_partitions <= 1 || total < 2 * MIN_PARTITION_ROWS || files.iter().any(|f| f.range.is_some()) {
            return Ok(None);
        }
        let per = total.div_ceil(target_partitions as u64).max(MIN_PARTITION_ROWS);
        let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new()];
        let mut room = per;
        for (file, &n) in files.iter().zip(&rows) {
            let mut at = 0;
            while at < n {
                if room == 0 {
                    groups.push(Vec::new());
                    room = per;
                }
                let take = room.min(n - at);
                let part = if take == n { (*file).clone() } else { ranged(file, at..at + take, n) };
                if let Some(g) = groups.last_mut() {
                    g.push(part);
                }
                at += take;
                room -= take;
            }
        }
        let mut out = config.clone();
        out.file_groups = groups.into_iter().filter(|g| !g.is_empty()).map(FileGroup::new).collect();
        Ok(Some(out))
    }

    fn try_pushdown_filters(&self, filters: Vec<Arc<dyn PhysicalExpr>>, _config: &ConfigOptions) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        let answer = vec![PushedDown::No; filters.len()];
        if filters.is_empty() {
            return Ok(FilterPushdownPropagation::with_parent_pushdown_result(answer));
        }
        let mut source = self.clone();
        source.predicate = Some(conjunction(self.predicate.iter().cloned().chain(filters)));
        Ok(FilterPushdownPropagation::with_parent_pushdown_result(answer).with_updated_node(Arc::new(source) as Arc<dyn FileSource>))
    }

    fn try_pushdown_projection(&self, projection: &ProjectionExprs) -> Result<Option<Arc<dyn FileSource>>> {
        let mut source = self.clone();
        source.projection = SplitProjection::new(self.table_schema.file_schema(), &self.projection.source.try_merge(projection)?);
        Ok(Some(Arc::new(source)))
    }

    fn apply_expressions(&self, f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        match datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)? {
            TreeNodeRecursion::Continue => match &self.predicate {
                Some(p) => f(p),
                None => Ok(TreeNodeRecursion::Continue),
            },
            other => Ok(other),
        }
    }
}

/// A file's exact row count, from the statistics the listing gathered.
fn file_rows(file: &PartitionedFile) -> Option<u64> {
    match file.statistics.as_ref()?.num_rows {
        Precision::Exact(n) => Some(n as u64),
        _ => None,
    }
}

/// `file` limited to `rows` of its `total`; its statistics become those of a part (bounds
/// inexact, null counts unknown), so that the partitions' statistics do not add up to more
/// than the file.
fn ranged(file: &PartitionedFile, rows: Range<u64>, total: u64) -> PartitionedFile {
    let mut part = file.clone().with_range(rows.start as i64, rows.end as i64);
    if let Some(stats) = &file.statistics {
        let n = rows.end - rows.start;
        let share = |b: &Precision<usize>| b.get_value().map(|&v| Precision::Inexact((v as u128 * n as u128 / total.max(1) as u128) as usize)).unwrap_or(Precision::Absent);
        let columns = stats
            .column_statistics
            .iter()
            .map(|c| {
                let mut c = c.clone().to_inexact();
                c.null_count = Precision::Absent;
                c
            })
            .collect();
        part.statistics = Some(Arc::new(Statistics { num_rows: Precision::Exact(n as usize), total_byte_size: share(&stats.total_byte_size), column_statistics: columns }));
    }
    part
}

/// What the scan counts, shown by `EXPLAIN ANALYZE`.
#[derive(Clone)]
struct ScanMetrics {
    segments: Count,
    segments_pruned: Count,
    rows_pruned: Count,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        ScanMetrics {
            segments: MetricBuilder::new(set).counter("chunk_segments", partition),
            segments_pruned: MetricBuilder::new(set).counter("chunk_segments_pruned", partition),
            rows_pruned: MetricBuilder::new(set).counter("rows_pruned", partition),
        }
    }
}

/// Opens one file's partition of a scan.
struct SheafOpener {
    store: Arc<dyn ObjectStore>,
    local: Option<Arc<LocalFileSystem>>,
    file_schema: SchemaRef,
    indices: Vec<usize>,
    projected: SchemaRef,
    pruning: Option<Arc<PruningPredicate>>,
    limit: Option<usize>,
    batch_size: usize,
    metrics: ScanMetrics,
}

/// Where the batch stream of one partition stands.
struct Progress {
    facts: Arc<FileFacts>,
    fields: Vec<Option<usize>>,
    pieces: VecDeque<Range<u64>>,
    ready: VecDeque<RecordBatch>,
    left: Option<usize>,
}

impl FileOpener for SheafOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = Arc::clone(&self.store);
        let local = self.local.clone();
        let file_schema = Arc::clone(&self.file_schema);
        let indices = self.indices.clone();
        let projected = Arc::clone(&self.projected);
        let pruning = self.pruning.clone();
        let (limit, batch_size, metrics) = (self.limit, self.batch_size, self.metrics.clone());
        Ok(Box::pin(async move {
            let runtime = tokio::runtime::Handle::current();
            let range = file.range.as_ref().map(|r| r.start.max(0) as u64..r.end.max(0) as u64);
            let object = file.object_meta.clone();
            let progress = blocking(move || {
                let sheaf_file = open_object(&store, &object, local.as_deref(), runtime)?;
                let facts = FileFacts::of(&sheaf_file)?;
                // Table columns by name in this file; those it lacks (added in later files of
                // the dataset) read as nulls.
                let fields: Vec<Option<usize>> = indices.iter().map(|&i| facts.schema.index_of(file_schema.field(i).name()).ok()).collect();
                let rows = facts.partition_rows(range);
                let (kept, segments, pruned) = match &pruning {
                    Some(p) => facts.prune(rows.clone(), p)?,
                    None => (vec![rows.clone()], 0, 0),
                };
                metrics.segments.add(segments);
                metrics.segments_pruned.add(pruned);
                let read: u64 = kept.iter().map(|r| r.end - r.start).sum();
                metrics.rows_pruned.add((rows.end - rows.start - read) as usize);
                let leaves: Vec<usize> = fields.iter().flatten().flat_map(|&f| facts.fields[f].clone()).collect();
                let pieces = facts.pieces(&kept, &leaves).into();
                Ok(Progress { facts: Arc::new(facts), fields, pieces, ready: VecDeque::new(), left: limit })
            })
            .await?;
            let stream = futures::stream::unfold(progress, move |mut p| {
                let projected = Arc::clone(&projected);
                async move {
                    loop {
                        if let Some(batch) = p.ready.pop_front() {
                            return Some((Ok(batch), p));
                        }
                        if p.left == Some(0) {
                            return None;
                        }
                        let piece = p.pieces.pop_front()?;
                        let (facts, fields, target) = (Arc::clone(&p.facts), p.fields.clone(), Arc::clone(&projected));
                        let piece = match p.left {
                            Some(left) => piece.start..piece.end.min(piece.start + left as u64),
                            None => piece,
                        };
                        match blocking(move || facts.read(&fields, piece, &target)).await {
                            Ok(batch) => {
                                p.left = p.left.map(|l| l.saturating_sub(batch.num_rows()));
                                let mut at = 0;
                                while at < batch.num_rows() {
                                    let n = batch_size.min(batch.num_rows() - at);
                                    p.ready.push_back(batch.slice(at, n));
                                    at += n;
                                }
                            }
                            Err(e) => {
                                p.pieces.clear();
                                return Some((Err(e), p));
                            }
                        }
                    }
                }
            });
            Ok(stream.boxed())
        }))
    }
}
