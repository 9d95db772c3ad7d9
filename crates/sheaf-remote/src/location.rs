//! What a path-or-URL argument names: a local file, or an object of a store built from the URL
//! and the usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`), never printed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path;
use object_store::{ClientConfigKey, ClientOptions, ObjectStore, ObjectStoreScheme, RetryConfig};
use url::Url;

use crate::error::{RemoteError, Result};

/// A local file or a remote object.
#[derive(Debug, Clone)]
pub enum Location {
    /// A path on this machine (also what a `file://` URL names).
    Local(PathBuf),
    /// An object in a store.
    Remote(RemoteObject),
}

/// One object of a store, and the URL it was named by.
#[derive(Debug, Clone)]
pub struct RemoteObject {
    url: Url,
    store: Arc<dyn ObjectStore>,
    path: Path,
}

impl RemoteObject {
    /// The object `path` of `store`, known as `url`.
    #[must_use]
    pub fn new(url: Url, store: Arc<dyn ObjectStore>, path: Path) -> Self {
        RemoteObject { url, store, path }
    }

    /// The URL, for messages: user name and password removed.
    #[must_use]
    pub fn display(&self) -> String {
        redact(&self.url)
    }

    /// The URL as given.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The store the object lives in.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object's path within the store.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last segment of the object's path (`data.sheaf` of `s3://b/dir/data.sheaf`).
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.path.filename().unwrap_or("object")
    }
}

/// The URL without its user name and password.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        // Setting these fails only for URLs that cannot hold them, which then have none.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
    }
    shown.to_string()
}

/// Whether `text` is a URL naming a folder of a store (`s3://bucket/events/`: ending in `/`,
/// not `file://`), which dataset readers list.
#[must_use]
pub fn is_folder_url(text: &str) -> bool {
    is_url(text) && text.ends_with('/') && !text.starts_with("file://")
}

/// Whether `text` is a URL (`scheme://...`) rather than a path. A one-letter scheme is a Windows
/// drive, not a URL.
#[must_use]
pub fn is_url(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, _)) => scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')),
        None => false,
    }
}

/// What `text` names: a path is local; `file://` URLs are local too; `s3://`, `s3a://`, `gs://`,
/// `az://`/`azure://`/`abfs(s)://`, `http(s)://` are objects of stores configured from the
/// environment.
///
/// # Errors
/// [`RemoteError::BadUrl`] for a URL that cannot be parsed or whose scheme no store serves.
pub fn resolve(text: &str) -> Result<Location> {
    if !is_url(text) {
        return Ok(Location::Local(PathBuf::from(text)));
    }
    let url = Url::parse(text).map_err(|e| RemoteError::BadUrl { url: text.to_string(), reason: e.to_string() })?;
    if url.scheme() == "file" {
        let path = url.to_file_path().map_err(|()| RemoteError::BadUrl { url: text.to_string(), reason: "not a local file path".into() })?;
        return Ok(Location::Local(path));
    }
    let (store, path) = store_for(&url)?;
    Ok(Location::Remote(RemoteObject { url, store, path }))
}

/// How hard requests try: object_store's defaults wait up to three minutes on a dead server,
/// which a command-line user reads as a hang. Variables in the environment override these.
const DEFAULTS: [(ClientConfigKey, &str); 2] = [(ClientConfigKey::ConnectTimeout, "10s"), (ClientConfigKey::Timeout, "120s")];

fn retry_config() -> RetryConfig {
    RetryConfig { max_retries: 4, retry_timeout: Duration::from_secs(60), ..RetryConfig::default() }
}

/// The environment's variables that start with `prefix`, lower-cased, as config keys of `K`.
fn env_config<K: std::str::FromStr>(prefix: &str) -> Vec<(K, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with(prefix))
        .filter_map(|(k, v)| Some((k.to_ascii_lowercase().parse().ok()?, v)))
        .collect()
}

/// A builder configured with [`DEFAULTS`], then the environment (as each store's `from_env`
/// reads it), then `url`.
macro_rules! configured {
    ($builder:ty, $key:ty, $prefix:expr, $url:expr) => {{
        let mut b = <$builder>::new();
        for (key, value) in DEFAULTS {
            b = b.with_config(<$key>::Client(key), value);
        }
        for (key, value) in env_config::<$key>($prefix) {
            b = b.with_config(key, value);
        }
        b.with_url($url.as_str()).with_retry(retry_config())
    }};
}

/// The store that serves `url` (configured from the environment) and the object's path in it.
///
/// # Errors
/// [`RemoteError::BadUrl`] for an unknown scheme or a store that cannot be configured (no bucket,
/// bad options).
pub fn store_for(url: &Url) -> Result<(Arc<dyn ObjectStore>, Path)> {
    use object_store::{aws, azure, gcp, http};
    let shown = redact(url);
    let bad = |reason: String| RemoteError::BadUrl { url: shown.clone(), reason };
    let (scheme, path) = ObjectStoreScheme::parse(url).map_err(|_| bad(format!("unknown scheme {:?} (s3, gs, az, http, https, file)", url.scheme())))?;
    let configured_err = |e: object_store::Error| bad(e.to_string());
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => Arc::new(configured!(aws::AmazonS3Builder, aws::AmazonS3ConfigKey, "AWS_", url).build().map_err(configured_err)?),
        ObjectStoreScheme::GoogleCloudStorage => Arc::new(configured!(gcp::GoogleCloudStorageBuilder, gcp::GoogleConfigKey, "GOOGLE_", url).build().map_err(configured_err)?),
        ObjectStoreScheme::MicrosoftAzure => Arc::new(configured!(azure::MicrosoftAzureBuilder, azure::AzureConfigKey, "AZURE_", url).build().map_err(configured_err)?),
        ObjectStoreScheme::Http => {
            let options = DEFAULTS.iter().fold(ClientOptions::new(), |o, (k, v)| o.with_config(*k, *v)).with_allow_http(url.scheme() == "http");
            Arc::new(http::HttpBuilder::new().with_url(&url[..url::Position::BeforePath]).with_client_options(options).with_retry(retry_config()).build().map_err(configured_err)?)
        }
        ObjectStoreScheme::Local => Arc::new(object_store::local::LocalFileSystem::new()),
        other => return Err(bad(format!("{other:?} URLs are not served"))),
    };
    Ok((store, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_urls_and_drives_are_told_apart() {
        assert!(is_url("s3://bucket/key.sheaf"));
        assert!(is_url("http://127.0.0.1:9/a.sheaf"));
        assert!(!is_url("C://data/a.sheaf"));
        assert!(!is_url("dir/a.sheaf"));
        assert!(matches!(resolve("dir/a.sheaf").unwrap(), Location::Local(p) if p == std::path::Path::new("dir/a.sheaf")));
        assert!(matches!(resolve("file:///tmp/a.sheaf").unwrap(), Location::Local(p) if p == std::path::Path::new("/tmp/a.sheaf")));
    }

    #[test]
    fn urls_name_their_objects_and_hide_credentials() {
        let Location::Remote(o) = resolve("http://user:secret@127.0.0.1:9/dir/a.sheaf").unwrap() else { panic!("not remote") };
        assert_eq!(o.path().as_ref(), "dir/a.sheaf");
        assert_eq!(o.file_name(), "a.sheaf");
        assert!(!o.display().contains("secret"), "{}", o.display());
        let e = resolve("ftp://host/a.sheaf").unwrap_err();
        assert!(matches!(e, RemoteError::BadUrl { .. }), "{e}");
        assert!(e.to_string().contains("unknown scheme \"ftp\""), "{e}");
    }
}
