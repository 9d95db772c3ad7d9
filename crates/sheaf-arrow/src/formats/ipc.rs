//! Arrow IPC files and streams: the message framing checked before arrow-rs reads it (pre-1.0
//! compression refused by name), and IPC files read from a memory map batch by batch (big-endian
//! ones byte-swapped batch by batch, see `byte_order`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::byte_order::{message_of, needs_swap, schema_of, ByteOrder};
use super::{io, ArrowFormat};
use crate::error::{ArrowInteropError, Result};

/// Reads the IPC message headers (not the bodies) and refuses what the Arrow reader used here
/// would misread without a word: pre-1.0 experimental compression. Returns
/// the rows of all record batches when the framing was read to its end (else `None`).
pub(super) fn check_ipc_messages(path: &Path, format: ArrowFormat) -> Result<Option<u64>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::io::BufReader::new(File::open(path).map_err(|e| io(path, e))?);
    let len = f.get_ref().metadata().map_err(|e| io(path, e))?.len();
    let mut at = if format == ArrowFormat::IpcFile { 8 } else { 0 };
    let refuse = |reason: &str| ArrowInteropError::Unreadable { format: format.name(), reason: reason.to_string() };
    // Malformed framing is left to the real reader (`None`): only headers are read here.
    let mut rows = 0u64;
    loop {
        if f.seek(SeekFrom::Start(at)).is_err() {
            return Ok(None);
        }
        let mut word = [0u8; 4];
        if f.read_exact(&mut word).is_err() {
            return Ok(None);
        }
        let mut header_len = u32::from_le_bytes(word);
        let mut skip = 4u64;
        if header_len == u32::MAX {
            if f.read_exact(&mut word).is_err() {
                return Ok(None);
            }
            header_len = u32::from_le_bytes(word);
            skip = 8;
        }
        if header_len == 0 {
            // End of stream (or, in a file, the footer follows).
            return Ok(Some(rows));
        }
        // A reader allocates what a message declares before it reads: a length past the end of
        // the file is refused here, before it can ask for gigabytes.
        if u64::from(header_len) > len.saturating_sub(at) {
            return Err(refuse(&format!("the message at offset {at} declares a {header_len}-byte header, past the end of the {len}-byte file")));
        }
        let mut buf = vec![0u8; header_len as usize];
        if f.read_exact(&mut buf).is_err() {
            return Ok(None);
        }
        let Ok(msg) = arrow_ipc::root_as_message(&buf) else { return Ok(None) };
        if let Some(b) = msg.header_as_record_batch() {
            rows = rows.saturating_add(u64::try_from(b.length()).unwrap_or(0));
        }
        if let Some(md) = msg.custom_metadata() {
            if md.iter().any(|kv| kv.key() == Some("ARROW:experimental_compression")) {
                return Err(refuse("pre-1.0 experimental IPC compression (ARROW:experimental_compression)"));
            }
        }
        let body_at = at.saturating_add(skip + u64::from(header_len));
        let body = u64::try_from(msg.bodyLength()).map_err(|_| refuse(&format!("the message at offset {at} declares a negative body length")))?;
        if body > len.saturating_sub(body_at) {
            return Err(refuse(&format!("the message at offset {at} declares a {body}-byte body, past the end of the {len}-byte file")));
        }
        let batch = msg.header_as_record_batch().or_else(|| msg.header_as_dictionary_batch().and_then(|d| d.data()));
        if let Some(b) = batch.filter(|b| b.compression().is_some()) {
            check_compressed_sizes(&mut f, path, &b, body_at, body)?;
        }
        at = body_at.saturating_add(body);
    }
}

/// Checks that a compressed record batch's buffers, which decompress into memory of the length
/// each declares in its first 8 bytes, declare no more in all than [`sheaf::memory_limit`]:
/// a small file of compressed buffers could otherwise make the reader allocate without bound.
fn check_compressed_sizes(f: &mut (impl std::io::Read + std::io::Seek), path: &Path, batch: &arrow_ipc::RecordBatch<'_>, body_at: u64, body_len: u64) -> Result<()> {
    let limit = sheaf::memory_limit();
    let mut declared = 0u64;
    for buf in batch.buffers().into_iter().flatten() {
        let (offset, len) = (u64::try_from(buf.offset()).unwrap_or(u64::MAX), u64::try_from(buf.length()).unwrap_or(u64::MAX));
        // Empty buffers carry no length prefix; malformed extents are the real reader's to refuse.
        if len < 8 || offset.checked_add(len).is_none_or(|end| end > body_len) {
            continue;
        }
        let mut prefix = [0u8; 8];
        if f.seek(std::io::SeekFrom::Start(body_at + offset)).is_err() || f.read_exact(&mut prefix).is_err() {
            return Ok(());
        }
        // -1: stored uncompressed (the buffer's own length).
        let size = match i64::from_le_bytes(prefix) {
            -1 => len - 8,
            n => u64::try_from(n).unwrap_or(u64::MAX),
        };
        declared = declared.saturating_add(size);
    }
    if declared > limit {
        return Err(ArrowInteropError::MemoryLimit { what: format!("{}: a compressed Arrow IPC record batch", path.display()), declared, limit });
    }
    Ok(())
}

/// [`check_compressed_sizes`] for one block of an IPC file, found through the footer (which may
/// point at messages the sequential scan of [`check_ipc_messages`] never met).
fn check_block(path: &Path, block_bytes: &arrow_buffer::Buffer, block: &arrow_ipc::Block) -> Result<()> {
    let Ok(meta_len) = usize::try_from(block.metaDataLength()) else { return Ok(()) };
    // The message as arrow-rs's FileDecoder finds it (after the length prefix, the whole block:
    // it does not cut at the prefix's length), so that the check sees what the decoder will.
    let prefix = if block_bytes.get(..4) == Some(&[0xff; 4][..]) { 8 } else { 4 };
    let Some(message) = block_bytes.get(prefix..).and_then(|b| arrow_ipc::root_as_message(b).ok()) else { return Ok(()) };
    let batch = message.header_as_record_batch().or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
    if let Some(b) = batch.filter(|b| b.compression().is_some()) {
        let body_len = (block_bytes.len() - meta_len) as u64;
        check_compressed_sizes(&mut std::io::Cursor::new(block_bytes.as_slice()), path, &b, meta_len as u64, body_len)?;
    }
    Ok(())
}

/// A memory map's bytes as an Arrow buffer's owner.
struct MapOwner(sheaf::MappedFile);

impl AsRef<[u8]> for MapOwner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An Arrow IPC file read through a memory map: record batches' buffers are slices of the map
/// (no copy into memory of the file's bytes; compressed buffers are decompressed). The footer's
/// block offsets and lengths are checked against the file before any slice is taken.
pub(super) struct MappedIpcFile {
    pub(super) bytes: arrow_buffer::Buffer,
    pub(super) schema: SchemaRef,
    decoder: arrow_ipc::reader::FileDecoder,
    blocks: Vec<arrow_ipc::Block>,
    next: usize,
    path: std::path::PathBuf,
    /// For big-endian data: how to swap each batch (its bytes then copied out of the map).
    order: Option<ByteOrder>,
}

impl MappedIpcFile {
    pub(super) fn open(path: &Path) -> Result<Self> {
        let name = ArrowFormat::IpcFile.name();
        let bad = |reason: String| ArrowInteropError::Unreadable { format: name, reason };
        let map = sheaf::MappedFile::open(path).map_err(|e| bad(e.to_string()))?;
        let bytes = arrow_buffer::Buffer::from(bytes::Bytes::from_owner(MapOwner(map)));
        let len = bytes.len();
        // Magic (6 bytes, padded to 8) in front; footer length (4) and magic (6) at the end.
        let tail: [u8; 10] = bytes
            .get(len.saturating_sub(10)..)
            .and_then(|t| t.try_into().ok())
            .filter(|_| len >= 18)
            .ok_or_else(|| bad(format!("{len} bytes is too short for an Arrow IPC file")))?;
        let footer_len = arrow_ipc::reader::read_footer_length(tail)?;
        let footer_start =
            (len - 10).checked_sub(footer_len).filter(|&s| s >= 8).ok_or_else(|| bad(format!("a footer of {footer_len} bytes does not fit in the file ({len} bytes)")))?;
        let footer = arrow_ipc::root_as_footer(&bytes[footer_start..len - 10]).map_err(|e| bad(format!("unreadable footer: {e}")))?;
        let ipc_schema = footer.schema().ok_or_else(|| bad("the footer has no schema".into()))?;
        let order = if needs_swap(&ipc_schema).map_err(bad)? { Some(ByteOrder::of_schema(&ipc_schema, footer.version()).map_err(bad)?) } else { None };
        // arrow 59's schema conversion panics on some malformed flatbuffers instead of returning an
        // error: contain it, so a hostile file is refused with a message.
        let convert = || if order.is_some() { schema_of(ipc_schema) } else { arrow_ipc::convert::fb_to_schema(ipc_schema) };
        let schema = std::panic::catch_unwind(convert).map_err(|_| bad("the footer's schema cannot be converted".into()))?;
        let schema = Arc::new(schema);
        let mut decoder = arrow_ipc::reader::FileDecoder::new(schema.clone(), footer.version());
        for block in footer.dictionaries().iter().flatten() {
            let raw = block_bytes(&bytes, block)?;
            check_block(path, &raw, block)?;
            decoder.read_dictionary(block, &native(order.as_ref(), raw, block)?)?;
        }
        let blocks = footer.recordBatches().ok_or_else(|| bad("the footer lists no record batches".into()))?.iter().copied().collect();
        Ok(MappedIpcFile { bytes: bytes.clone(), schema, decoder, blocks, next: 0, path: path.to_path_buf(), order })
    }
}

/// A block's bytes in native order: as they are, or (big-endian data) a copy with its body's
/// numbers swapped.
fn native(order: Option<&ByteOrder>, bytes: arrow_buffer::Buffer, block: &arrow_ipc::Block) -> Result<arrow_buffer::Buffer> {
    let Some(order) = order else { return Ok(bytes) };
    let bad = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::IpcFile.name(), reason: format!("block at offset {}: {reason}", block.offset()) };
    let mut copy = bytes.to_vec();
    let meta_len = usize::try_from(block.metaDataLength()).ok().filter(|&m| m <= copy.len()).ok_or_else(|| bad("metadata longer than the block".into()))?;
    let (head, body) = copy.split_at_mut(meta_len);
    let message = message_of(head).ok_or_else(|| bad("an unreadable message header".into()))?;
    order.swap_body(&message, body).map_err(bad)?;
    Ok(arrow_buffer::Buffer::from(copy))
}

/// The bytes of one block (message metadata and body) of an IPC file, checked against the file.
fn block_bytes(file: &arrow_buffer::Buffer, block: &arrow_ipc::Block) -> Result<arrow_buffer::Buffer> {
    let start = usize::try_from(block.offset()).ok();
    let size = usize::try_from(block.metaDataLength()).ok().zip(usize::try_from(block.bodyLength()).ok()).and_then(|(m, b)| m.checked_add(b));
    match (start, size) {
        (Some(start), Some(size)) if start.checked_add(size).is_some_and(|end| end <= file.len()) => Ok(file.slice_with_length(start, size)),
        _ => Err(ArrowInteropError::Unreadable {
            format: ArrowFormat::IpcFile.name(),
            reason: format!("a block at offset {} of {} + {} bytes is outside the file ({} bytes)", block.offset(), block.metaDataLength(), block.bodyLength(), file.len()),
        }),
    }
}

impl Iterator for MappedIpcFile {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        while let Some(block) = self.blocks.get(self.next).copied() {
            self.next += 1;
            let batch = block_bytes(&self.bytes, &block)
                .and_then(|buf| check_block(&self.path, &buf, &block).map(|()| buf))
                .and_then(|buf| native(self.order.as_ref(), buf, &block))
                .and_then(|buf| self.decoder.read_record_batch(&block, &buf).map_err(Into::into));
            match batch {
                Ok(Some(b)) => return Some(Ok(b)),
                Ok(None) => {}
                Err(e) => {
                    self.next = self.blocks.len();
                    return Some(Err(e));
                }
            }
        }
        None
    }
}
