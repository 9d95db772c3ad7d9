//! The `.sheaf` [`FileFormat`]: schema and statistics from each file's footer (read by range,
//! from any object store), and the physical scan, a [`DataSourceExec`] over [`SheafSource`].
//! Registered through [`SheafFormatFactory`], so that `ListingTable` (directories, globs, hive
//! partitions, URL tables such as `SELECT * FROM 'a.sheaf'`) handles `.sheaf` like Parquet.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{internal_err, GetExt, Result, Statistics};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
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
        for object in objects {
            schemas.push(facts_of(store, object, |facts| Ok(facts.schema.as_ref().clone())).await?);
        }
        Ok(Arc::new(Schema::try_merge(schemas)?))
    }

    async fn infer_stats(&self, _state: &dyn Session, store: &Arc<dyn ObjectStore>, table_schema: SchemaRef, object: &ObjectMeta) -> Result<Statistics> {
        facts_of(store, object, move |facts| Ok(facts.statistics(&table_schema))).await
    }

    async fn create_physical_plan(&self, _state: &dyn Session, conf: FileScanConfig) -> Result<Arc<dyn ExecutionPlan>> {
        if conf.file_source().downcast_ref::<SheafSource>().is_none() {
            return internal_err!("a sheaf scan was planned with a source of type {}", conf.file_source().file_type());
        }
        Ok(DataSourceExec::from_data_source(conf))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(SheafSource::new(table_schema))
    }
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
