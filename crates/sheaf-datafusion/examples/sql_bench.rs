//! The SQL benchmark (issue 21): the same table as a sheaf file (codec `auto`) and as Parquet
//! (zstd, the writer's default row groups), queried by DataFusion side by side in one process:
//! a full scan of the numeric columns, a selective filter (1% of rows by a range on the sorted
//! column; the sheaf scan's pruned chunks are counted), and an aggregate with group-by.
//!
//! ```text
//! cargo run --release -p sheaf-datafusion --example sql_bench -- [--rows N] [--runs K] [--dir D] [--chunk-rows R]
//! ```
//! Prints a Markdown table of medians (in-process: each query runs once untimed first, so both
//! formats read from the page cache and into warm memory), sizes, and the pruning counts.

// A benchmark: a failure is a bug to see at once, with its message.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Float64Array, Int32Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionConfig;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sheaf::{Codec, WriteOptions, Writer};

/// Rows per generated batch.
const BATCH: usize = 1 << 20;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

/// Batch `b` of a trades-like table: `ts` sorted (microseconds), `sym` a group key in 0..1000,
/// `price` a random walk rounded to cents, `qty` small integers.
fn batch(schema: &Arc<Schema>, b: usize, rows: usize, state: &mut u64, price: &mut f64) -> RecordBatch {
    let start = b * BATCH;
    let n = BATCH.min(rows - start);
    let mut next = || {
        *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        *state >> 33
    };
    let ts: Vec<i64> = (start..start + n).map(|i| 1_700_000_000_000_000 + i as i64 * 1_000).collect();
    let mut syms = Vec::with_capacity(n);
    let mut prices = Vec::with_capacity(n);
    let mut qtys = Vec::with_capacity(n);
    for _ in 0..n {
        syms.push((next() % 1000) as i32);
        *price = (*price + (next() % 21) as f64 / 100.0 - 0.10).max(1.0);
        prices.push((*price * 100.0).round() / 100.0);
        qtys.push((next() % 500 + 1) as i64);
    }
    RecordBatch::try_new(
        Arc::clone(schema),
        vec![Arc::new(Int64Array::from(ts)), Arc::new(Int32Array::from(syms)), Arc::new(Float64Array::from(prices)), Arc::new(Int64Array::from(qtys))],
    )
    .expect("a batch of the schema")
}

fn write_files(dir: &Path, rows: usize, chunk_rows: u64) -> (PathBuf, PathBuf) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Int64, false),
        Field::new("sym", DataType::Int32, false),
        Field::new("price", DataType::Float64, false),
        Field::new("qty", DataType::Int64, false),
    ]));
    let (sheaf_path, parquet_path) = (dir.join("trades.sheaf"), dir.join("trades.parquet"));
    let array = sheaf_arrow::types::schema_from_arrow("trades", &schema).expect("a sheaf schema");
    let dtype = array.dtype.clone();
    let mut sw = Writer::create(&sheaf_path, WriteOptions::new().with_codec(Codec::AUTO).with_row_group_rows(chunk_rows)).expect("creating the sheaf file");
    let id = sw.add_array(array).expect("adding the array");
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let mut pw = ArrowWriter::try_new(std::fs::File::create(&parquet_path).expect("creating the Parquet file"), Arc::clone(&schema), Some(props)).expect("a Parquet writer");
    let (mut state, mut price) = (42u64, 100.0f64);
    for b in 0..rows.div_ceil(BATCH) {
        let rb = batch(&schema, b, rows, &mut state, &mut price);
        let cols = sheaf_arrow::columns_from_batch(&rb, &dtype).expect("columns");
        let inputs: Vec<sheaf::ColumnInput<'_>> = cols.iter().map(sheaf::ColumnInput::from_data).collect();
        sw.append_rows(id, Some(rb.num_rows() as u64), &inputs).expect("appending");
        pw.write(&rb).expect("writing Parquet");
    }
    sw.finish().expect("finishing the sheaf file");
    pw.close().expect("finishing the Parquet file");
    (sheaf_path, parquet_path)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> datafusion::common::Result<()> {
    let rows: usize = arg("--rows", "20000000").parse().expect("--rows N");
    let runs: usize = arg("--runs", "5").parse().expect("--runs K");
    let keep = arg("--dir", "");
    let scratch = tempfile::tempdir()?;
    let dir = if keep.is_empty() { scratch.path().to_path_buf() } else { PathBuf::from(keep) };
    std::fs::create_dir_all(&dir)?;
    let t = Instant::now();
    let chunk_rows: u64 = arg("--chunk-rows", &sheaf::DEFAULT_ROW_GROUP_ROWS.to_string()).parse().expect("--chunk-rows N");
    let (sheaf_path, parquet_path) = write_files(&dir, rows, chunk_rows);
    eprintln!("wrote {rows} rows in {:.1} s", t.elapsed().as_secs_f64());
    let ctx = sheaf_datafusion::session_context(SessionConfig::new())?;
    let lo = 1_700_000_000_000_000i64 + (rows as i64 / 2) * 1_000;
    let hi = lo + (rows as i64 / 100) * 1_000;
    // Float sums are rounded (their order, and so their last bits, depends on the partitions);
    // the group-by takes exact aggregates.
    let queries = [
        ("full scan (sum of 3 numeric columns)", "SELECT round(sum(price), 2), sum(qty), max(ts) FROM {t}".to_string()),
        ("1% range on the sorted column", format!("SELECT count(*), round(sum(price), 2) FROM {{t}} WHERE ts >= {lo} AND ts < {hi}")),
        ("group-by (1000 groups)", "SELECT sym, count(*), min(price), max(price), sum(qty) FROM {t} GROUP BY sym".to_string()),
    ];
    println!("DataFusion {}, {rows} rows, {runs} runs each, medians (in-process, warm cache)\n", datafusion::DATAFUSION_VERSION);
    println!("| query | sheaf (auto) | Parquet (zstd) | Parquet / sheaf |");
    println!("|---|---:|---:|---:|");
    for (what, q) in &queries {
        let mut times = Vec::new();
        let mut answers = Vec::new();
        for path in [&sheaf_path, &parquet_path] {
            let sql = q.replace("{t}", &format!("'{}'", path.display()));
            let first = ctx.sql(&sql).await?.collect().await?;
            let mut ts = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                ctx.sql(&sql).await?.collect().await?;
                ts.push(t.elapsed().as_secs_f64());
            }
            times.push(median(ts));
            // The cells only: the headers name the file, so the column widths differ.
            let mut text: Vec<String> = datafusion::arrow::util::pretty::pretty_format_batches(&first)?
                .to_string()
                .lines()
                .skip(3)
                .filter(|l| !l.starts_with('+'))
                .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>().join("|"))
                .collect();
            text.sort();
            answers.push(text);
        }
        if answers[0] != answers[1] {
            let first = answers[0].iter().zip(&answers[1]).find(|(a, b)| a != b);
            panic!("{what}: the two formats answered differently, first at {first:?}");
        }
        println!("| {what} | {:.1} ms | {:.1} ms | {:.2}x |", times[0] * 1e3, times[1] * 1e3, times[1] / times[0]);
    }
    let explain = format!("EXPLAIN ANALYZE {}", queries[1].1.replace("{t}", &format!("'{}'", sheaf_path.display())));
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(&ctx.sql(&explain).await?.collect().await?)?.to_string();
    let metric = |name: &str| plan.split(&format!("{name}=")).nth(1).and_then(|s| s.split([',', ']', ' ']).next()).unwrap_or("?").to_string();
    println!(
        "\nsizes: sheaf {:.1} MB, Parquet {:.1} MB; the 1% range: {} of {} chunk segments pruned, {} rows pruned",
        std::fs::metadata(&sheaf_path)?.len() as f64 / 1e6,
        std::fs::metadata(&parquet_path)?.len() as f64 / 1e6,
        metric("chunk_segments_pruned"),
        metric("chunk_segments"),
        metric("rows_pruned")
    );
    Ok(())
}
