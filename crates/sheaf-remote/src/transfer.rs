//! Whole objects to and from local files, for what is not read by range: inputs in other
//! formats are spooled to a local temporary file (their readers want a seekable file), outputs
//! are written locally and then uploaded. An upload is atomic where the store is (S3, GCS and
//! Azure publish an object only when its upload completes): a failed one leaves the old object.

use std::io::{Read, Write};
use std::path::Path as FsPath;

use futures::StreamExt;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};

use crate::error::{RemoteError, Result};
use crate::location::RemoteObject;

/// Objects up to this size go up in one request; larger ones in parts of this size.
const PART_BYTES: usize = 16 << 20;

fn io(path: &FsPath) -> impl Fn(std::io::Error) -> RemoteError + '_ {
    move |source| RemoteError::Io { path: path.display().to_string(), source }
}

/// Copies `object` into the local file `dest` (created or truncated), streaming: memory stays
/// bounded whatever the object's size. Returns the bytes copied.
///
/// # Errors
/// [`RemoteError::NotFound`], [`RemoteError::Store`], or [`RemoteError::Io`] writing `dest`.
pub fn download(object: &RemoteObject, dest: &FsPath) -> Result<u64> {
    let shown = object.display();
    let mut file = std::fs::File::create(dest).map_err(io(dest))?;
    let work = async {
        let mut stream = object.store().get(object.path()).await.map_err(|e| RemoteError::store(&shown, e))?.into_stream();
        let mut copied = 0u64;
        while let Some(piece) = stream.next().await {
            let piece = piece.map_err(|e| RemoteError::store(&shown, e))?;
            file.write_all(&piece).map_err(io(dest))?;
            copied += piece.len() as u64;
        }
        Ok::<u64, RemoteError>(copied)
    };
    let copied = crate::block_on(crate::runtime()?.handle(), work, &shown)??;
    file.sync_all().map_err(io(dest))?;
    Ok(copied)
}

/// Uploads the local file `src` as `object`, replacing it. Returns the bytes sent.
///
/// # Errors
/// [`RemoteError::Io`] reading `src`; [`RemoteError::Store`] when the store refuses the upload
/// (which it then aborts, leaving no parts behind).
pub fn upload(src: &FsPath, object: &RemoteObject) -> Result<u64> {
    let shown = object.display();
    let mut file = std::fs::File::open(src).map_err(io(src))?;
    let len = file.metadata().map_err(io(src))?.len();
    let store = object.store();
    // HTTP (WebDAV) servers take one PUT; the object stores take parts above a part's size.
    let one_request = len <= PART_BYTES as u64 || object.url().scheme().starts_with("http");
    let work = async {
        if one_request {
            let mut all = Vec::with_capacity(len as usize);
            file.read_to_end(&mut all).map_err(io(src))?;
            store.put(object.path(), PutPayload::from(all)).await.map_err(|e| RemoteError::store(&shown, e))?;
            return Ok(len);
        }
        let parts = store.put_multipart(object.path()).await.map_err(|e| RemoteError::store(&shown, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(parts, PART_BYTES);
        let mut piece = vec![0u8; PART_BYTES];
        let sent = loop {
            let n = match file.read(&mut piece) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(io(src)(e)),
            };
            // Bounded memory: at most a few parts in flight.
            if let Err(e) = writer.wait_for_capacity(4).await {
                break Err(RemoteError::store(&shown, e));
            }
            writer.write(&piece[..n]);
        };
        match sent {
            Ok(()) => writer.finish().await.map(|_| len).map_err(|e| RemoteError::store(&shown, e)),
            Err(e) => {
                // The upload's parts are dropped so the store keeps the old object only.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    };
    crate::block_on(crate::runtime()?.handle(), work, &shown)?
}
