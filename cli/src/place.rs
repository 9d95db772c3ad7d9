//! Paths and URLs alike: what a command's file argument names (a local path, or an object named
//! by `s3://`, `gs://`, `az://`, `http(s)://`, `file://`), opened the way that costs least. A
//! remote sheaf file is read by byte ranges; a remote file of another format is spooled to a
//! local temporary file first (its reader wants a seekable file); a remote output is written
//! locally and uploaded when complete. Messages name the URL, never the temporary file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use sheaf_arrow::formats::CsvOptions;
use sheaf_convert::{Format, Source};
use sheaf_remote::{Location, RemoteObject};

/// Temporary paths and the URLs they stand for, so that messages show the URL.
static SHOWN_AS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// `message` with every temporary path replaced by the URL it holds.
pub(crate) fn as_shown(message: String) -> String {
    let known = SHOWN_AS.lock().map(|k| k.clone()).unwrap_or_default();
    known.iter().fold(message, |m, (tmp, url)| m.replace(tmp.as_str(), url))
}

fn show_as(tmp: &Path, url: String) {
    if let Ok(mut k) = SHOWN_AS.lock() {
        k.push((tmp.display().to_string(), url));
    }
}

/// What `arg` names (a path that is not valid UTF-8 is a local path).
pub(crate) fn resolve(arg: &Path) -> anyhow::Result<Location> {
    match arg.to_str() {
        Some(text) => Ok(sheaf_remote::resolve(text)?),
        None => Ok(Location::Local(arg.to_path_buf())),
    }
}

/// The format `arg`'s extension names; for a URL, the extension of its object's name (a query
/// string is not part of it).
pub(crate) fn format_of(arg: &Path) -> anyhow::Result<Format> {
    if is_remote_folder(arg) {
        return Ok(Format::Sheaf);
    }
    match resolve(arg)? {
        Location::Local(p) => Ok(Format::from_path(&p)?),
        Location::Remote(o) => Ok(Format::from_path(Path::new(o.file_name())).map_err(|_| sheaf_convert::ConvertError::UnknownFormat {
            path: PathBuf::from(o.display()),
            reason: "the URL's object name has no known extension (pass the format)".into(),
        })?),
    }
}

/// Whether `arg` is a URL naming a dataset on a store: a folder (ending in `/`) or a glob.
fn is_remote_folder(arg: &Path) -> bool {
    arg.to_str().is_some_and(sheaf_remote::is_dataset_url)
}

/// The dataset `arg` names, if it names one: a local directory or glob of sheaf files, or a
/// store folder or glob (`s3://bucket/events/`, `s3://bucket/events/*/part-*.sheaf`), whose
/// files are opened by range.
pub(crate) fn open_dataset(arg: &Path) -> anyhow::Result<Option<sheaf_convert::Dataset>> {
    let Some(url) = arg.to_str().filter(|t| sheaf_remote::is_dataset_url(t)) else {
        return Ok(sheaf_convert::Dataset::is_dataset(arg).then(|| sheaf_convert::Dataset::open(arg)).transpose()?);
    };
    let (root, files) = sheaf_remote::open_dataset_url(url)?;
    let files = files.into_iter().map(|(url, f)| (PathBuf::from(url), f)).collect();
    Ok(Some(sheaf_convert::Dataset::from_files(arg, Path::new(&root), files)?))
}

/// Opens the sheaf file `arg` names: memory-mapped when local, by range requests when remote.
pub(crate) fn open_sheaf(arg: &Path) -> anyhow::Result<sheaf::File> {
    match resolve(arg)? {
        Location::Local(path) => Ok(sheaf::File::open(path)?),
        Location::Remote(object) => Ok(sheaf_remote::open_remote(&object)?),
    }
}

/// An input file: the local path its reader reads (the file, or a spooled copy of a remote one).
pub(crate) struct Input {
    /// Where the bytes are on this machine (none for a sheaf file read by range).
    pub(crate) local: Option<PathBuf>,
    _spool: Option<tempfile::TempDir>,
}

/// Copies a remote object into a temporary directory, under its own name.
fn spool(object: &RemoteObject) -> anyhow::Result<(PathBuf, tempfile::TempDir)> {
    let dir = tempfile::Builder::new().prefix("sheaf-remote").tempdir().context("creating a temporary directory")?;
    let path = dir.path().join(object.file_name());
    show_as(&path, object.display());
    sheaf_remote::download(object, &path)?;
    Ok((path, dir))
}

/// Opens `arg` as `format`: a sheaf file by range (local: memory-mapped), others from a local
/// file (spooled when remote).
pub(crate) fn open_source(arg: &Path, format: Format, csv: &CsvOptions, skip_unsupported: bool) -> anyhow::Result<(Source, Input)> {
    if format == Format::Sheaf {
        if let Some(d) = open_dataset(arg)? {
            return Ok((Source::Dataset(d), Input { local: None, _spool: None }));
        }
    }
    match resolve(arg)? {
        Location::Local(path) => {
            let source = Source::open_skipping(&path, format, csv, skip_unsupported)?;
            Ok((source, Input { local: Some(path), _spool: None }))
        }
        Location::Remote(object) if format == Format::Sheaf => Ok((Source::Sheaf(sheaf_remote::open_remote(&object)?), Input { local: None, _spool: None })),
        Location::Remote(object) => {
            let (path, dir) = spool(&object)?;
            let source = Source::open_skipping(&path, format, csv, skip_unsupported).map_err(|e| anyhow::anyhow!(as_shown(e.to_string())))?;
            Ok((source, Input { local: Some(path), _spool: Some(dir) }))
        }
    }
}

/// A local copy of `arg` for readers that take a path: the file itself, or a spooled copy.
pub(crate) fn local_copy(arg: &Path) -> anyhow::Result<Input> {
    match resolve(arg)? {
        Location::Local(path) => Ok(Input { local: Some(path), _spool: None }),
        Location::Remote(object) => {
            let (path, dir) = spool(&object)?;
            Ok(Input { local: Some(path), _spool: Some(dir) })
        }
    }
}

/// Where a command writes: the file itself, or a local file uploaded by [`Output::publish`].
pub(crate) struct Output {
    /// The file the writer writes.
    pub(crate) path: PathBuf,
    remote: Option<(RemoteObject, tempfile::TempDir)>,
}

impl Output {
    /// The output `arg` names.
    pub(crate) fn new(arg: &Path) -> anyhow::Result<Self> {
        match resolve(arg)? {
            Location::Local(path) => Ok(Output { path, remote: None }),
            Location::Remote(object) => {
                let dir = tempfile::Builder::new().prefix("sheaf-upload").tempdir().context("creating a temporary directory")?;
                let path = dir.path().join(object.file_name());
                show_as(&path, object.display());
                Ok(Output { path, remote: Some((object, dir)) })
            }
        }
    }

    /// Uploads a remote output once it is complete (the store publishes it whole or not at all).
    pub(crate) fn publish(self) -> anyhow::Result<()> {
        if let Some((object, _dir)) = &self.remote {
            sheaf_remote::upload(&self.path, object)?;
        }
        Ok(())
    }
}
