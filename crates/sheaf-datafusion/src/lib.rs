//! # sheaf-datafusion: SQL over sheaf files
//!
//! sheaf files as a [DataFusion](https://datafusion.apache.org) file format: register
//! [`SheafFormatFactory`] on a session (or make one with [`session_context`]) and `.sheaf` files,
//! directories and globs of them are tables, local or in any object store DataFusion knows.
//! Scans read only the projected columns, skip the chunks the stored statistics rule out for the
//! query's filters, stop at a limit, give the planner row counts and per-column
//! min/max/null counts, and split files into partitions by row ranges so every core decodes.
//!
//! It plugs in as a `FileFormat` rather than a `TableProvider` so that DataFusion's
//! `ListingTable` does what it does for Parquet (listing, globs, hive partitions, URL tables,
//! object stores, file-level pruning) and sheaf supplies only what is sheaf's.
//!
//! Errors are DataFusion's; those from sheaf are `DataFusionError::External` holding the
//! [`sheaf::Error`] or [`sheaf_arrow::ArrowInteropError`], which a caller can downcast.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> datafusion::common::Result<()> {
//! use sheaf::{ArraySchema, ColumnInput, DType, Field, LeafType, WriteOptions};
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("t.sheaf");
//! let ids: Vec<i64> = (0..1000).collect();
//! let schema = ArraySchema::new("t", DType::structure(vec![Field::new("id", DType::leaf(LeafType::Int(8)))]));
//! sheaf::write_arrays(&path, &[(schema, vec![ColumnInput::fixed(&ids)])], &WriteOptions::new()).map_err(sheaf_datafusion::external)?;
//!
//! let ctx = sheaf_datafusion::session_context(Default::default())?;
//! let sql = format!("SELECT count(*) AS n, sum(id) AS s FROM '{}' WHERE id >= 500", path.display());
//! let batches = ctx.sql(&sql).await?.collect().await?;
//! let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
//! assert!(text.contains("| 500 | 374750 |"));
//! # Ok(())
//! # }
//! ```

mod format;
mod reader;
mod registry;
mod source;
mod stats;

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

pub use format::{SheafFormat, SheafFormatFactory, EXTENSION};
pub use reader::external;
pub use registry::UrlStoreRegistry;
pub use sheaf_remote::ObjectStoreSource;
pub use source::SheafSource;

/// A session with DataFusion's defaults but listing tables that read folders recursively,
/// `.sheaf` registered as a file format, URL tables
/// enabled (`SELECT ... FROM 'path/or/url.sheaf'`), and a [`UrlStoreRegistry`]: tables named by
/// `s3://`, `gs://`, `az://` or `http(s)://` URLs reach their stores, configured from the
/// environment, with nothing registered first.
///
/// # Errors
/// When the format cannot be registered or the runtime cannot be built.
pub fn session_context(mut config: SessionConfig) -> Result<SessionContext> {
    // A directory or glob is every file under it, as `sheaf_convert::Dataset` lists it (the
    // default would pass over files below the first level that are not hive partitions, and
    // glob patterns across folders would find nothing).
    config.options_mut().execution.listing_table_ignore_subdirectory = false;
    let runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(UrlStoreRegistry::new())).build_arc()?;
    let mut state = SessionStateBuilder::new().with_config(config).with_runtime_env(runtime).with_default_features().build();
    state.register_file_format(Arc::new(SheafFormatFactory), true)?;
    Ok(SessionContext::new_with_state(state).enable_url_table())
}
