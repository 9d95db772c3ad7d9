//! `sheaf sql QUERY`: a SQL query (DataFusion) over files named in it. `.sheaf`, Parquet, CSV,
//! Arrow IPC (`.arrow`) and JSON files, directories and globs of them are read by DataFusion's
//! listing tables (sheaf's through `sheaf-datafusion`: projection, chunk pruning, partitions);
//! `.npy`, `.npz`, `.feather`, `.ipc` and `.arrows` files are read through `sheaf-convert` and
//! registered as in-memory tables under the name the query gives them. Results print as an
//! aligned table, JSON or CSV, or stream into a file of any format the CLI writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use sheaf::{WriteOptions, Writer};
use sheaf_arrow::formats::{ArrowCompression, BatchWriter, CsvOptions};
use sheaf_arrow::{batch_from_leaves, LeafBuffers};
use sheaf_convert::Format;

use crate::args::SqlArgs;

/// Rows per batch read from the files registered in memory.
const MEMORY_BATCH_ROWS: u64 = 64 << 10;

/// Extensions DataFusion has no reader for, read here through `sheaf-convert`.
const CONVERTED: &[&str] = &["npy", "npz", "feather", "ipc", "arrows"];

pub(crate) fn run(a: &SqlArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the query runtime")?;
    runtime.block_on(query(a))
}

async fn query(a: &SqlArgs) -> anyhow::Result<()> {
    let mut config = SessionConfig::new();
    if let Some(p) = a.partitions {
        if p == 0 {
            bail!("--partitions must be at least 1");
        }
        config = config.with_target_partitions(p);
    }
    let ctx = sheaf_datafusion::session_context(config)?;
    register_converted(&ctx, &a.query).await?;
    let frame = ctx.sql(&a.query).await?;
    let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let mut stream = frame.execute_stream().await?;
    if let Some(out) = &a.output {
        let to = match a.to {
            Some(f) => f,
            None => crate::place::format_of(out)?,
        };
        let output = crate::place::Output::new(out)?;
        write_file(&output.path, to, &schema, &mut stream).await?;
        return output.publish();
    }
    let stdout = std::io::stdout();
    if a.json {
        let mut w = datafusion::arrow::json::ArrayWriter::new(stdout.lock());
        while let Some(b) = stream.next().await {
            w.write(&b?)?;
        }
        w.finish()?;
        let mut inner = w.into_inner();
        writeln!(inner)?;
    } else if a.csv {
        let mut w = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(stdout.lock());
        let mut any = false;
        while let Some(b) = stream.next().await {
            w.write(&b?)?;
            any = true;
        }
        if !any {
            w.write(&RecordBatch::new_empty(schema))?;
        }
    } else {
        let mut batches = Vec::new();
        while let Some(b) = stream.next().await {
            batches.push(b?);
        }
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut out = stdout.lock();
        writeln!(out, "{}", datafusion::arrow::util::pretty::pretty_format_batches(&batches)?)?;
        writeln!(out, "{rows} row{}", if rows == 1 { "" } else { "s" })?;
    }
    Ok(())
}

/// Registers every quoted file name in `sql` whose format DataFusion does not read, as an
/// in-memory table named as quoted (so `FROM 'a.npy'` finds it).
async fn register_converted(ctx: &SessionContext, sql: &str) -> anyhow::Result<()> {
    for name in sql.split('\'').skip(1).step_by(2) {
        let path = Path::new(name);
        if name.contains(['*', '?', '[']) && !ctx.table_exist(name)? {
            register_glob(ctx, name).await?;
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let local = !name.contains("://") && !name.contains(['*', '?', '[']);
        // DataFusion would say only "table not found" of a file that is not there.
        if local && (Format::from_path(path).is_ok() || ext.as_deref() == Some("json")) && !path.exists() {
            bail!("{name}: no such file");
        }
        if !ext.is_some_and(|e| CONVERTED.contains(&e.as_str())) || ctx.table_exist(name)? {
            continue;
        }
        let (source, _input) = crate::place::open_source(path, crate::place::format_of(path)?, &CsvOptions::default(), false)?;
        let arrays = source.arrays(&[])?;
        let [array] = arrays.as_slice() else {
            bail!("{name}: holds {} arrays; a table is one array (convert the one you want to a file of its own)", arrays.len());
        };
        let arrow = Arc::new(sheaf_arrow::types::arrow_schema(&array.schema)?);
        let which: Vec<usize> = (0..array.schema.columns().len()).collect();
        let mut batches = Vec::new();
        for b in array.batches(&which, 0, array.rows, MEMORY_BATCH_ROWS) {
            let (n, cols) = b?;
            let leaves = cols.into_iter().map(LeafBuffers::from_data).collect();
            batches.push(batch_from_leaves(&array.schema, &arrow, leaves, n as usize)?);
        }
        ctx.register_table(name, Arc::new(MemTable::try_new(arrow, vec![batches])?))?;
    }
    Ok(())
}

/// Registers the glob `pattern` of sheaf files as a listing table of the files it matches, named
/// as quoted. The files are listed as datasets list them (hidden and `_` names passed over);
/// DataFusion's own patterns match paths with their `key=value` folders taken out, which is
/// not what the pattern says. Hive partition columns come with directory tables.
async fn register_glob(ctx: &SessionContext, pattern: &str) -> anyhow::Result<()> {
    use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
    if Path::new(pattern).extension().and_then(|e| e.to_str()) != Some(sheaf_datafusion::EXTENSION) {
        bail!("{pattern}: a pattern in a query names .sheaf files (end it in .sheaf)");
    }
    let urls = if sheaf_remote::is_dataset_url(pattern) {
        let (_, objects) = sheaf_remote::glob_objects(pattern)?;
        objects.iter().map(|o| ListingTableUrl::parse(o.url().as_str())).collect::<Result<Vec<_>, _>>()?
    } else {
        let (_, files) = sheaf_convert::Dataset::list(Path::new(pattern))?;
        files.iter().map(|f| ListingTableUrl::parse(std::path::absolute(f)?.to_string_lossy())).collect::<Result<Vec<_>, _>>()?
    };
    if urls.is_empty() {
        bail!("{pattern}: no .sheaf files match");
    }
    let format = Arc::new(sheaf_datafusion::SheafFormat);
    let options = ListingOptions::new(format.clone()).with_file_extension(format!(".{}", sheaf_datafusion::EXTENSION));
    let state = ctx.state();
    // The schema of every file (ListingTableConfig would infer it from the first path's only).
    let store = ctx.runtime_env().object_store(&urls[0])?;
    let mut objects = Vec::with_capacity(urls.len());
    for u in &urls {
        objects.push(datafusion::object_store::ObjectStoreExt::head(store.as_ref(), u.prefix()).await?);
    }
    let schema = datafusion::datasource::file_format::FileFormat::infer_schema(format.as_ref(), &state, &store, &objects).await.map_err(|e| anyhow::anyhow!("{pattern}: {e}"))?;
    let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).with_schema(schema);
    ctx.register_table(pattern, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Streams the result into `out` as `to`.
async fn write_file(out: &Path, to: Format, schema: &SchemaRef, stream: &mut datafusion::physical_plan::SendableRecordBatchStream) -> anyhow::Result<()> {
    match to {
        Format::Sheaf => {
            let name = out.file_stem().and_then(|s| s.to_str()).unwrap_or("result");
            let array = sheaf_arrow::types::schema_from_arrow(name, schema)?;
            let dtype = array.dtype.clone();
            let mut w = Writer::create(out, WriteOptions::new())?;
            let id = w.add_array(array)?;
            while let Some(b) = stream.next().await {
                let b = b?;
                let cols = sheaf_arrow::columns_from_batch(&b, &dtype)?;
                let inputs: Vec<sheaf::ColumnInput<'_>> = cols.iter().map(sheaf::ColumnInput::from_data).collect();
                w.append_rows(id, Some(b.num_rows() as u64), &inputs)?;
            }
            w.finish()?;
        }
        Format::Npy | Format::Npz => {
            // NumPy headers need the row count first: write sheaf beside, then convert it.
            let dir = tempfile::Builder::new().prefix(".sheaf-sql").tempdir_in(out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))?;
            let staged: PathBuf = dir.path().join("result.sheaf");
            Box::pin(write_file(&staged, Format::Sheaf, schema, stream)).await?;
            let cli =
                <crate::args::Cli as clap::Parser>::try_parse_from([Path::new("sheaf"), Path::new("--quiet"), Path::new("convert"), &staged, out].iter().map(|p| p.as_os_str()))?;
            crate::cmd::run(&cli)?;
        }
        other => {
            let format = other.arrow().context("not an Arrow format")?;
            let compression = if other == Format::Parquet { ArrowCompression::Zstd(3) } else { ArrowCompression::None };
            let mut w = BatchWriter::create(out, format, schema, compression, &CsvOptions::default())?;
            while let Some(b) = stream.next().await {
                w.write(&b?)?;
            }
            w.finish()?;
        }
    }
    Ok(())
}
