//! Object stores for the URLs a query names: a registry that builds the store for an
//! unregistered `s3://bucket`, `gs://`, `az://` or `http(s)://host` on first use (configured from
//! the environment by [`sheaf_remote::store_for`]), so `SELECT ... FROM 's3://bucket/t.sheaf'`
//! works without registering anything first. Stores registered by hand take precedence.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use url::Url;

use crate::reader::external;

/// An [`ObjectStoreRegistry`] that creates stores for URLs it has not seen.
#[derive(Debug, Default)]
pub struct UrlStoreRegistry {
    known: DefaultObjectStoreRegistry,
}

impl UrlStoreRegistry {
    /// A registry with the local file system registered for `file://`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl ObjectStoreRegistry for UrlStoreRegistry {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        let (store, _) = sheaf_remote::store_for(url).map_err(external)?;
        self.known.register_store(url, Arc::clone(&store));
        Ok(store)
    }
}
