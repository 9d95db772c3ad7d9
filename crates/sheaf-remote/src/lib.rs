//! # sheaf-remote: sheaf files (and other inputs) named by URL
//!
//! `s3://bucket/key`, `gs://`, `az://`, `http(s)://` and `file://` are read where a path is:
//! [`open_file`] opens a sheaf file on a store with one request (a suffix range that brings the
//! footer and the object's size), reads each column's chunk table on first use and fetches the
//! buffers a read touches as parallel range requests, never the whole object. Zero-copy views
//! stay a local-file feature: remote columns are decoded (or copied) into memory.
//!
//! Stores are configured from the usual environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`,
//! ...; see object_store's builders), which are never printed; URLs in messages lose their user
//! name and password. Requests time out and retry as object_store does, with limits fitted to
//! interactive use (a 10 s connect timeout, four retries within a minute); a failed range is an
//! error naming the URL, never a partial result.
//!
//! - [`resolve`] / [`Location`] / [`RemoteObject`]: what an argument names.
//! - [`ObjectStoreSource`]: the [`sheaf::ByteSource`] over an object.
//! - [`download`] / [`upload`]: whole objects, for inputs read by other formats' readers and for
//!   outputs.
//!
//! ```no_run
//! // With AWS_* set in the environment:
//! let file = sheaf_remote::open_file("s3://bucket/trades.sheaf")?;
//! let price = file.array("trades")?.column("price")?.read()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod location;
mod source;
mod transfer;

use std::sync::{Arc, OnceLock};

pub use error::{RemoteError, Result};
pub use location::{is_folder_url, is_url, resolve, store_for, Location, RemoteObject};
pub use source::{ObjectStoreSource, COALESCE_GAP, TAIL_READ};
pub use transfer::{download, upload};

/// The runtime that drives requests made from synchronous code (the CLI, the Python package):
/// started on first use, two worker threads (the requests wait on the network, not the CPU).
///
/// # Errors
/// [`RemoteError::Runtime`] when its threads cannot start.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("sheaf-remote").enable_all().build())
        .as_ref()
        .map_err(|e| RemoteError::Runtime(std::io::Error::new(e.kind(), e.to_string())))
}

/// Runs `work` to completion on `runtime` from synchronous code. Blocking on a runtime is refused
/// on a thread that drives one (a lazy column read on an async task, a command inside a query):
/// from there it waits on a thread of its own.
pub(crate) fn block_on<F: std::future::Future + Send>(runtime: &tokio::runtime::Handle, work: F, url: &str) -> Result<F::Output>
where
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(|| runtime.block_on(work)).join()).map_err(|_| RemoteError::Runtime(std::io::Error::other(format!("{url}: the request thread failed"))))
    } else {
        Ok(runtime.block_on(work))
    }
}

/// Opens the sheaf file `text` names: a local path or `file://` URL is memory-mapped; any
/// other URL is read through an [`ObjectStoreSource`].
///
/// # Errors
/// [`RemoteError::BadUrl`], [`RemoteError::NotFound`], [`RemoteError::Store`] for the object;
/// [`RemoteError::Sheaf`] when it is not a sound sheaf file.
pub fn open_file(text: &str) -> Result<sheaf::File> {
    match resolve(text)? {
        Location::Local(path) => Ok(sheaf::File::open(path)?),
        Location::Remote(object) => open_remote(&object),
    }
}

/// The objects under the folder `prefix` names, at any depth, whose names end in `.{extension}`,
/// in path order.
///
/// # Errors
/// [`RemoteError::Store`] when the store cannot list (plain HTTP servers cannot).
pub fn list_objects(prefix: &RemoteObject, extension: &str) -> Result<Vec<RemoteObject>> {
    use futures::StreamExt;
    let shown = prefix.display();
    let store = Arc::clone(prefix.store());
    let base = prefix.path().clone();
    let (lister, seen) = (Arc::clone(&store), shown.clone());
    let work = async move {
        let at = (!base.as_ref().is_empty()).then_some(&base);
        let mut stream = lister.list(at);
        let mut found = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| RemoteError::store(&seen, e))?;
            if meta.location.extension() == Some(extension) {
                found.push(meta.location);
            }
        }
        Ok::<_, RemoteError>(found)
    };
    let mut paths = block_on(runtime()?.handle(), work, &shown)??;
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let mut url = prefix.url().clone();
            url.set_path(&format!("/{p}"));
            RemoteObject::new(url, Arc::clone(&store), p)
        })
        .collect())
}

/// Opens every object of `objects` as a sheaf file (a footer request each, up to 16 at a time),
/// in their order.
///
/// # Errors
/// The first object that cannot be opened, naming its URL.
pub fn open_all(objects: &[RemoteObject]) -> Result<Vec<sheaf::File>> {
    let mut out = Vec::with_capacity(objects.len());
    for batch in objects.chunks(16) {
        let opened: Vec<Result<sheaf::File>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch.iter().map(|o| s.spawn(move || open_remote(o))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(RemoteError::Runtime(std::io::Error::other("a footer request thread failed"))))).collect()
        });
        for f in opened {
            out.push(f?);
        }
    }
    Ok(out)
}

/// The `.sheaf` files under the folder `prefix` names (a dataset on a store), opened: each with
/// its URL, in path order, names starting with `.` or `_` passed over as dataset readers do.
/// Returns the folder's URL (no trailing `/`) too, where partition folders start.
///
/// # Errors
/// As [`list_objects`] and [`open_all`].
pub fn open_folder(prefix: &RemoteObject) -> Result<(String, Vec<(String, sheaf::File)>)> {
    let objects: Vec<RemoteObject> = list_objects(prefix, "sheaf")?.into_iter().filter(|o| !o.file_name().starts_with(['.', '_'])).collect();
    let files = open_all(&objects)?;
    let root = prefix.display().trim_end_matches('/').to_string();
    Ok((root, objects.iter().map(RemoteObject::display).zip(files).collect()))
}

/// Whether `text` is a URL naming a dataset on a store: a folder (ending in `/`) or a glob, whose
/// path holds `*` (`**` crosses folders) or a `[...]` class.
#[must_use]
pub fn is_dataset_url(text: &str) -> bool {
    is_folder_url(text) || (is_url(text) && !text.starts_with("file://") && text.split_once("://").is_some_and(|(_, rest)| rest.contains(['*', '['])))
}

/// The `.sheaf` objects a glob URL matches (`s3://bucket/events/*/part-*.sheaf`), in path order,
/// names starting with `.` or `_` passed over, with the URL of the glob's fixed part (the folder
/// before the first segment with a pattern: where partition folders start). The listing asks
/// for that folder only; `*` and `[...]` stay inside one path segment, `**` crosses them.
///
/// # Errors
/// A bad URL or pattern; the listing's errors.
pub fn glob_objects(text: &str) -> Result<(String, Vec<RemoteObject>)> {
    let bad = |reason: String| RemoteError::BadUrl { url: text.to_string(), reason };
    let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("not a URL".into()))?;
    let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no path to match".into()))?;
    let segments: Vec<&str> = path.split('/').collect();
    let fixed = segments.iter().position(|s| s.contains(['*', '['])).ok_or_else(|| bad("no pattern in the path".into()))?;
    let folder = segments[..fixed].iter().map(|s| format!("{s}/")).collect::<String>();
    let root = format!("{scheme}://{authority}/{folder}");
    let Location::Remote(prefix) = resolve(&root)? else { return Err(bad("not a store URL".into())) };
    let pattern = glob::Pattern::new(path).map_err(|e| bad(format!("bad pattern: {e}")))?;
    let options = glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: true };
    let objects = list_objects(&prefix, "sheaf")?.into_iter().filter(|o| !o.file_name().starts_with(['.', '_']) && pattern.matches_with(o.path().as_ref(), options)).collect();
    Ok((root.trim_end_matches('/').to_string(), objects))
}

/// The files of the dataset a store URL names ([`is_dataset_url`]: a folder or a glob), opened
/// by range, each with its URL, and the URL partition folders start from.
///
/// # Errors
/// As [`open_folder`] and [`glob_objects`]; a glob that matches nothing.
pub fn open_dataset_url(text: &str) -> Result<(String, Vec<(String, sheaf::File)>)> {
    if is_folder_url(text) {
        let Location::Remote(prefix) = resolve(text)? else { return Err(RemoteError::BadUrl { url: text.to_string(), reason: "not a store folder".into() }) };
        return open_folder(&prefix);
    }
    let (root, objects) = glob_objects(text)?;
    if objects.is_empty() {
        return Err(RemoteError::BadUrl { url: text.to_string(), reason: "no .sheaf objects match".into() });
    }
    let files = open_all(&objects)?;
    Ok((root, objects.iter().map(RemoteObject::display).zip(files).collect()))
}

/// Opens the sheaf file `object` through range requests.
///
/// # Errors
/// As [`open_file`].
pub fn open_remote(object: &RemoteObject) -> Result<sheaf::File> {
    let source = ObjectStoreSource::open(object, runtime()?.handle().clone())?;
    Ok(sheaf::File::from_source(Arc::new(source))?)
}
