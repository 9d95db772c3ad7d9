//! Big-endian Arrow IPC data (as written on s390x and other big-endian hosts): which bytes of a
//! message body are numbers of which width, worked out from the schema, and the swap that makes
//! them little-endian, so that arrow-rs (which decodes only native byte order) reads them exactly,
//! as pyarrow does. Also the stream reader for such data, one message at a time.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::{IntervalUnit, MetadataVersion, Precision, Type, UnionMode};
use arrow_schema::SchemaRef;

use super::{io, ArrowFormat};
use crate::error::{ArrowInteropError, Result};

/// What one body buffer holds, for the swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Swap {
    /// Bytes or bits: nothing to swap.
    Keep,
    /// Numbers of this many bytes each.
    Width(usize),
    /// Month-day-nano intervals: two 4-byte numbers and an 8-byte one.
    MonthDayNano,
}

/// The swap of every body buffer of a record batch, and of each dictionary batch by its id.
#[derive(Debug)]
pub(super) struct ByteOrder {
    batch: Vec<Swap>,
    dictionaries: HashMap<i64, Vec<Swap>>,
}

/// Whether data of this schema must be byte-swapped to be read here, or is refused because it
/// cannot be (native order needs nothing; big-endian data on a little-endian host is swapped).
pub(super) fn needs_swap(schema: &arrow_ipc::Schema<'_>) -> std::result::Result<bool, String> {
    match (schema.endianness() == arrow_ipc::Endianness::Big, cfg!(target_endian = "big")) {
        (false, false) | (true, true) => Ok(false),
        (true, false) => Ok(true),
        (false, true) => Err("little-endian Arrow IPC data on a big-endian host".into()),
    }
}

impl ByteOrder {
    /// The layout of every message of data of `schema`, written at metadata `version`.
    pub(super) fn of_schema(schema: &arrow_ipc::Schema<'_>, version: MetadataVersion) -> std::result::Result<Self, String> {
        let mut order = ByteOrder { batch: Vec::new(), dictionaries: HashMap::new() };
        let mut batch = Vec::new();
        for field in schema.fields().iter().flatten() {
            order.field(field, version < MetadataVersion::V5, &mut batch)?;
        }
        order.batch = batch;
        Ok(order)
    }

    /// The buffers of one field, in the order IPC lays them out: a dictionary-encoded field holds
    /// its indices (its values are in the dictionary batches, laid out as the field's type).
    fn field(&mut self, field: arrow_ipc::Field<'_>, v4: bool, out: &mut Vec<Swap>) -> std::result::Result<(), String> {
        if let Some(dictionary) = field.dictionary() {
            let width = dictionary.indexType().map_or(Ok(4), |t| int_width(t.bitWidth()))?;
            let mut values = Vec::new();
            self.values(field, v4, &mut values)?;
            self.dictionaries.insert(dictionary.id(), values);
            out.extend([Swap::Keep, Swap::Width(width)]);
            return Ok(());
        }
        self.values(field, v4, out)
    }

    fn values(&mut self, field: arrow_ipc::Field<'_>, v4: bool, out: &mut Vec<Swap>) -> std::result::Result<(), String> {
        let name = field.name().unwrap_or("");
        let numbers = |width: std::result::Result<usize, String>| width.map(|w| [Swap::Keep, Swap::Width(w)]);
        match field.type_type() {
            Type::Null => {}
            Type::Int => out.extend(numbers(field.type_as_int().map_or(Ok(4), |t| int_width(t.bitWidth())))?),
            Type::FloatingPoint => {
                let width = match field.type_as_floating_point().map(|t| t.precision()) {
                    Some(Precision::HALF) => 2,
                    Some(Precision::SINGLE) => 4,
                    _ => 8,
                };
                out.extend([Swap::Keep, Swap::Width(width)]);
            }
            Type::Bool | Type::FixedSizeBinary => out.extend([Swap::Keep, Swap::Keep]),
            Type::Binary | Type::Utf8 => out.extend([Swap::Keep, Swap::Width(4), Swap::Keep]),
            Type::LargeBinary | Type::LargeUtf8 => out.extend([Swap::Keep, Swap::Width(8), Swap::Keep]),
            Type::Decimal => out.extend(numbers(field.type_as_decimal().map_or(Ok(16), |t| int_width(t.bitWidth())))?),
            Type::Date => {
                let width = if field.type_as_date().is_some_and(|t| t.unit() == arrow_ipc::DateUnit::DAY) { 4 } else { 8 };
                out.extend([Swap::Keep, Swap::Width(width)]);
            }
            Type::Time => out.extend(numbers(field.type_as_time().map_or(Ok(4), |t| int_width(t.bitWidth())))?),
            Type::Timestamp | Type::Duration => out.extend([Swap::Keep, Swap::Width(8)]),
            Type::Interval => {
                let swap = match field.type_as_interval().map(|t| t.unit()) {
                    Some(IntervalUnit::MONTH_DAY_NANO) => Swap::MonthDayNano,
                    // Year-month: one 4-byte number; day-time: two.
                    _ => Swap::Width(4),
                };
                out.extend([Swap::Keep, swap]);
            }
            Type::List | Type::Map => out.extend([Swap::Keep, Swap::Width(4)]),
            Type::LargeList => out.extend([Swap::Keep, Swap::Width(8)]),
            Type::FixedSizeList | Type::Struct_ => out.push(Swap::Keep),
            Type::Union => {
                // Metadata before V5 gave unions a validity buffer too.
                if v4 {
                    out.push(Swap::Keep);
                }
                out.push(Swap::Keep);
                if field.type_as_union().is_some_and(|u| u.mode() == UnionMode::Dense) {
                    out.push(Swap::Width(4));
                }
            }
            Type::RunEndEncoded => {}
            other => return Err(format!("field {name:?}: big-endian data of IPC type {other:?} (views) cannot be byte-swapped here")),
        }
        for child in field.children().iter().flatten() {
            self.field(child, v4, out)?;
        }
        Ok(())
    }

    /// Swaps the numbers of one record or dictionary batch's `body` into little-endian order, in
    /// place; other messages are left as they are. Every buffer is checked against the body.
    pub(super) fn swap_body(&self, message: &arrow_ipc::Message<'_>, body: &mut [u8]) -> std::result::Result<(), String> {
        let (batch, plan) = if let Some(batch) = message.header_as_record_batch() {
            (batch, &self.batch)
        } else if let Some(d) = message.header_as_dictionary_batch() {
            let plan = self.dictionaries.get(&d.id()).ok_or_else(|| format!("a dictionary batch for id {}, which no field uses", d.id()))?;
            (d.data().ok_or("a dictionary batch without data")?, plan)
        } else {
            return Ok(());
        };
        if batch.compression().is_some() {
            return Err("compressed big-endian Arrow IPC data (the swap needs the decompressed bytes)".into());
        }
        let buffers: Vec<_> = batch.buffers().iter().flatten().collect();
        if buffers.len() != plan.len() {
            return Err(format!("a batch of {} buffers where the schema lays out {}", buffers.len(), plan.len()));
        }
        let body_len = body.len();
        for (buffer, swap) in buffers.iter().zip(plan) {
            let range = usize::try_from(buffer.offset())
                .ok()
                .zip(usize::try_from(buffer.length()).ok())
                .and_then(|(start, len)| Some(start..start.checked_add(len)?))
                .filter(|r| r.end <= body_len)
                .ok_or_else(|| format!("a buffer at offset {} of {} bytes outside the message body ({body_len} bytes)", buffer.offset(), buffer.length()))?;
            let bytes = &mut body[range];
            match *swap {
                Swap::Keep | Swap::Width(1) => {}
                Swap::Width(w) => bytes.chunks_exact_mut(w).for_each(<[u8]>::reverse),
                Swap::MonthDayNano => {
                    for c in bytes.chunks_exact_mut(16) {
                        c[..4].reverse();
                        c[4..8].reverse();
                        c[8..].reverse();
                    }
                }
            }
        }
        Ok(())
    }
}

/// The Arrow schema of a big-endian IPC schema, field by field and with its metadata (arrow-rs's
/// own conversion stops at any decimal field of big-endian data, which the swap reads exactly).
/// Panics (contained by the callers) where arrow-rs's field conversion does, on malformed input.
pub(super) fn schema_of(schema: arrow_ipc::Schema<'_>) -> arrow_schema::Schema {
    let fields: Vec<arrow_schema::Field> = schema.fields().iter().flatten().map(arrow_schema::Field::from).collect();
    let metadata = schema.custom_metadata().iter().flatten().filter_map(|kv| Some((kv.key()?.to_string(), kv.value()?.to_string()))).collect();
    arrow_schema::Schema::new_with_metadata(fields, metadata)
}

fn int_width(bits: i32) -> std::result::Result<usize, String> {
    match bits {
        8 | 16 | 32 | 64 | 128 | 256 => Ok(bits as usize / 8),
        _ => Err(format!("an integer or decimal of {bits} bits")),
    }
}

/// The IPC message whose encapsulated metadata (continuation marker or not, length, flatbuffer)
/// starts `meta`.
pub(super) fn message_of(meta: &[u8]) -> Option<arrow_ipc::Message<'_>> {
    let word = |at: usize| Some(u32::from_le_bytes(meta.get(at..at + 4)?.try_into().ok()?) as usize);
    let (len, start): (usize, usize) = if word(0)? == u32::MAX as usize { (word(4)?, 8) } else { (word(0)?, 4) };
    arrow_ipc::root_as_message(meta.get(start..start.checked_add(len)?)?).ok()
}

/// Whether the Arrow IPC stream at `path` opens with a schema whose data must be byte-swapped.
pub(super) fn stream_needs_swap(path: &Path) -> Result<bool> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let len = f.metadata().map_err(|e| io(path, e))?.len();
    Ok(read_message(&mut f, 0, len)?.is_some_and(|(meta, _)| message_of(&meta).and_then(|m| m.header_as_schema()).is_some_and(|s| needs_swap(&s) == Ok(true))))
}

/// One encapsulated message read from `at` of a stream of `len` bytes: its metadata bytes (marker
/// and length included) and its body length; `None` at the end-of-stream marker or the end.
fn read_message(f: &mut impl Read, at: u64, len: u64) -> Result<Option<(Vec<u8>, u64)>> {
    let bad = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::IpcStream.name(), reason };
    let mut meta = vec![0u8; 4];
    if f.read_exact(&mut meta).is_err() {
        return Ok(None);
    }
    let mut header_len = u32::from_le_bytes(meta[..4].try_into().unwrap_or_default());
    if header_len == u32::MAX {
        meta.resize(8, 0);
        f.read_exact(&mut meta[4..]).map_err(|_| bad(format!("the stream ends in a message's length at offset {at}")))?;
        header_len = u32::from_le_bytes(meta[4..].try_into().unwrap_or_default());
    }
    if header_len == 0 {
        return Ok(None);
    }
    let prefix = meta.len() as u64;
    if at + prefix + u64::from(header_len) > len {
        return Err(bad(format!("a message header of {header_len} bytes at offset {at} runs past the end ({len} bytes)")));
    }
    meta.resize(prefix as usize + header_len as usize, 0);
    f.read_exact(&mut meta[prefix as usize..]).map_err(|e| bad(format!("at offset {at}: {e}")))?;
    let message = message_of(&meta).ok_or_else(|| bad(format!("an unreadable message header at offset {at}")))?;
    let body = u64::try_from(message.bodyLength()).map_err(|_| bad(format!("a negative body length at offset {at}")))?;
    let end = at + meta.len() as u64;
    if body > len - end {
        return Err(bad(format!("a message body of {body} bytes at offset {end} runs past the end ({len} bytes)")));
    }
    Ok(Some((meta, body)))
}

/// An Arrow IPC stream of big-endian data, read message by message (one batch in memory at a
/// time), each body swapped into little-endian order before arrow-rs decodes it.
pub(super) struct SwappedIpcStream {
    file: std::io::BufReader<std::fs::File>,
    at: u64,
    len: u64,
    order: ByteOrder,
    decoder: arrow_ipc::reader::FileDecoder,
    pub(super) schema: SchemaRef,
    done: bool,
}

impl SwappedIpcStream {
    pub(super) fn open(path: &Path) -> Result<Self> {
        let bad = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::IpcStream.name(), reason };
        let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
        let len = file.metadata().map_err(|e| io(path, e))?.len();
        let mut file = std::io::BufReader::new(file);
        let (meta, body) = read_message(&mut file, 0, len)?.ok_or_else(|| bad("the stream holds no schema".into()))?;
        let message = message_of(&meta).ok_or_else(|| bad("an unreadable schema message".into()))?;
        let ipc_schema = message.header_as_schema().ok_or_else(|| bad("the stream does not open with a schema".into()))?;
        let order = ByteOrder::of_schema(&ipc_schema, message.version()).map_err(bad)?;
        // arrow's schema conversion panics on some malformed flatbuffers: contain it.
        let schema = std::panic::catch_unwind(|| schema_of(ipc_schema)).map_err(|_| bad("the schema cannot be converted".into()))?;
        let schema = Arc::new(schema);
        let decoder = arrow_ipc::reader::FileDecoder::new(schema.clone(), message.version());
        std::io::copy(&mut (&mut file).take(body), &mut std::io::sink()).map_err(|e| io(path, e))?;
        Ok(SwappedIpcStream { file, at: meta.len() as u64 + body, len, order, decoder, schema, done: false })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let bad = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::IpcStream.name(), reason };
        loop {
            let Some((meta, body)) = read_message(&mut self.file, self.at, self.len)? else { return Ok(None) };
            let limit = sheaf::memory_limit();
            if body > limit {
                return Err(ArrowInteropError::MemoryLimit { what: format!("an Arrow IPC message at offset {}", self.at), declared: body, limit });
            }
            let meta_len = meta.len();
            let mut bytes = meta;
            bytes.resize(meta_len + body as usize, 0);
            self.file.read_exact(&mut bytes[meta_len..]).map_err(|e| bad(format!("at offset {}: {e}", self.at)))?;
            self.at += bytes.len() as u64;
            let (head, rest) = bytes.split_at_mut(meta_len);
            let message = message_of(head).ok_or_else(|| bad("an unreadable message header".into()))?;
            self.order.swap_body(&message, rest).map_err(bad)?;
            let is_dictionary = message.header_as_dictionary_batch().is_some();
            let block = arrow_ipc::Block::new(0, i32::try_from(meta_len).map_err(|_| bad("a message header over 2 GiB".into()))?, body as i64);
            let buffer = arrow_buffer::Buffer::from(bytes);
            if is_dictionary {
                self.decoder.read_dictionary(&block, &buffer)?;
            } else if let Some(batch) = self.decoder.read_record_batch(&block, &buffer)? {
                return Ok(Some(batch));
            }
        }
    }
}

impl Iterator for SwappedIpcStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_batch().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}
