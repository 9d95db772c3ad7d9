//! The `.sheaf` [`FileFormat`]: schema and statistics from each file's footer (read by range,
//! from any object store), and the physical scan, a [`DataSourceExec`] over [`SheafSource`].
//! Registered through [`SheafFormatFactory`], so that `ListingTable` (directories, globs, hive
//! partitions, URL tables such as `SELECT * FROM 'a.sheaf'`) handles `.sheaf` like Parquet.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::{internal_err, plan_err, GetExt, Result, Statistics};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::FileGroup;
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_plan::ExecutionPlan;
use object_store::{ObjectMeta, ObjectStore};

use crate::reader::{blocking, open_object, FileFacts};
use crate::source::SheafSource;

/// The file extension, without its dot.
pub const EXTENSION: &str = "sheaf";

/// Makes [`SheafFormat`]s; register it on a session to read `.sheaf` files by extension.
#[derive(Debug, Default)]
pub struct SheafFormatFactory;

impl FileFormatFactory for SheafFormatFactory {
    fn create(&self, _state: &dyn Session, _options: &HashMap<String, String>) -> Result<Arc<dyn FileFormat>> {
        Ok(Arc::new(SheafFormat))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(SheafFormat)
    }
}

impl GetExt for SheafFormatFactory {
    fn get_ext(&self) -> String {
        EXTENSION.to_string()
    }
}

/// sheaf files as a DataFusion file format. A file's table is its single array; the top-level
/// fields of a record array are the columns.
#[derive(Debug, Default, Clone, Copy)]
pub struct SheafFormat;

#[async_trait]
impl FileFormat for SheafFormat {
    fn get_ext(&self) -> String {
        EXTENSION.to_string()
    }

    fn get_ext_with_compression(&self, compression: &FileCompressionType) -> Result<String> {
        if compression.is_compressed() {
            return internal_err!("sheaf files compress their columns themselves; a compressed .sheaf file is not read");
        }
        Ok(EXTENSION.to_string())
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        None
    }

    async fn infer_schema(&self, _state: &dyn Session, store: &Arc<dyn ObjectStore>, objects: &[ObjectMeta]) -> Result<SchemaRef> {
        let mut schemas = Vec::with_capacity(objects.len());
        let listed: Vec<&ObjectMeta> = objects.iter().filter(|o| !passed_over(o)).collect();
        if listed.is_empty() && !objects.is_empty() {
            return plan_err!("{}: only hidden (. or _) files there, which a sheaf table passes over", objects[0].location);
        }
        for object in listed {
            schemas.push(facts_of(store, object, |facts| Ok(facts.schema.as_ref().clone())).await?);
        }
        Ok(Arc::new(merge_schemas(schemas)?))
    }

    async fn infer_stats(&self, _state: &dyn Session, store: &Arc<dyn ObjectStore>, table_schema: SchemaRef, object: &ObjectMeta) -> Result<Statistics> {
        if passed_over(object) {
            return Ok(Statistics::new_unknown(&table_schema).with_num_rows(Precision::Exact(0)).with_total_byte_size(Precision::Exact(0)));
        }
        facts_of(store, object, move |facts| Ok(facts.statistics(&table_schema))).await
    }

    async fn create_physical_plan(&self, _state: &dyn Session, mut conf: FileScanConfig) -> Result<Arc<dyn ExecutionPlan>> {
        if conf.file_source().downcast_ref::<SheafSource>().is_none() {
            return internal_err!("a sheaf scan was planned with a source of type {}", conf.file_source().file_type());
        }
        conf.file_groups = std::mem::take(&mut conf.file_groups)
            .into_iter()
            .map(|g| FileGroup::new(g.into_inner().into_iter().filter(|f| !passed_over(&f.object_meta)).collect()))
            .filter(|g| !g.is_empty())
            .collect();
        Ok(DataSourceExec::from_data_source(conf))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(SheafSource::new(table_schema))
    }
}

/// Files a table passes over, as dataset readers do (pyarrow, `sheaf_convert::Dataset`): names
/// starting with `.` (temporaries, editor files) or `_` (`_SUCCESS`, `_metadata`).
fn passed_over(object: &ObjectMeta) -> bool {
    object.location.filename().is_some_and(|n| n.starts_with(['.', '_']))
}

/// The table schema of files with `schemas`: their fields merged by name in the order first seen
/// (one type per name), a field nullable where any file lacks it, since that file's rows read it
/// as nulls (schema evolution by added columns).
fn merge_schemas(schemas: Vec<Schema>) -> Result<Schema> {
    let merged = Schema::try_merge(schemas.iter().cloned())?;
    let fields: Vec<arrow_schema::Field> = merged
        .fields()
        .iter()
        .map(|f| {
            let everywhere = schemas.iter().all(|s| s.field_with_name(f.name()).is_ok());
            f.as_ref().clone().with_nullable(f.is_nullable() || !everywhere)
        })
        .collect();
    Ok(Schema::new_with_metadata(fields, merged.metadata().clone()))
}

/// `ask` of the footer facts of one object, off the runtime's worker threads.
async fn facts_of<T: Send + 'static>(store: &Arc<dyn ObjectStore>, object: &ObjectMeta, ask: impl FnOnce(&FileFacts) -> Result<T> + Send + 'static) -> Result<T> {
    let store = Arc::clone(store);
    let object = object.clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let file = open_object(&store, &object, None, runtime)?;
        ask(&FileFacts::of(&file)?)
    })
    .await
}
