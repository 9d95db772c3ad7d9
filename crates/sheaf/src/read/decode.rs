//! Decoding one chunk from its stored bytes: checksum first, then the codec pipeline of each
//! buffer, then the checks that tie buffers together (offsets monotonic and ending at the
//! values' length). A function of the bytes and the chunk entry alone: it knows nothing of
//! files, sources or columns, which fetch the bytes and call it.

use crate::buffer::{AlignedBytes, Buf, SharedSlice};
use crate::codec::{decode_pipeline, PipelineError};
use crate::error::{Error, Result};
use crate::format::{checksum, BufferRef, ChunkEntry};

/// What decoding needs to know of the column a chunk belongs to.
pub(crate) struct ChunkCtx<'c> {
    /// The `array/path` name, for messages.
    pub(crate) name: &'c str,
    /// Bytes of one scalar of the leaf (what byte-oriented codecs work in).
    pub(crate) unit_width: usize,
    /// Bytes of one row for fixed-width columns; `None` for variable-length ones.
    pub(crate) row_width: Option<u64>,
    /// Check the checksum of plain buffers too (they are otherwise handed out unchecked).
    pub(crate) verify_plain: bool,
}

/// The stored bytes of one chunk's buffers, `None` where a buffer is absent.
pub(crate) struct StoredChunk {
    pub(crate) validity: Option<SharedSlice>,
    pub(crate) offsets: Option<SharedSlice>,
    pub(crate) values: Option<SharedSlice>,
}

/// One chunk's buffers after decoding (plain values stay shared with the stored bytes).
pub(crate) struct DecodedChunk {
    pub(crate) rows: u64,
    pub(crate) values: Buf<'static>,
    pub(crate) offsets: Option<Vec<u64>>,
    pub(crate) validity: Option<Vec<u8>>,
}

impl ChunkCtx<'_> {
    pub(crate) fn check_sum(&self, chunk: usize, r: &BufferRef, bytes: &[u8]) -> Result<()> {
        let computed = checksum(bytes);
        if computed == r.checksum {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch { what: format!("column {}, chunk {chunk}", self.name), offset: r.offset, stored: r.checksum, computed })
        }
    }

    fn missing(&self, chunk: usize, role: &str) -> Error {
        Error::internal(format!("column {}, chunk {chunk}: the {role} buffer was not fetched", self.name))
    }

    /// The stored bytes of a plain buffer, checked when asked to.
    fn plain(&self, chunk: usize, r: &BufferRef, stored: Option<&SharedSlice>, role: &str) -> Result<SharedSlice> {
        let bytes = stored.ok_or_else(|| self.missing(chunk, role))?;
        if self.verify_plain {
            self.check_sum(chunk, r, bytes)?;
        }
        Ok(bytes.clone())
    }
}

/// Decodes stored buffer `r` of chunk `chunk` into `out` (exactly its decoded length).
fn decode_buffer_into(ctx: &ChunkCtx<'_>, chunk: usize, r: &BufferRef, stored: &[u8], width: usize, out: &mut [u8]) -> Result<()> {
    ctx.check_sum(chunk, r, stored)?;
    decode_pipeline(r.stage_ids(), stored, width, out).map_err(|e| match e {
        PipelineError::Unknown(id) => Error::UnknownCodec { column: ctx.name.to_string(), chunk, id },
        PipelineError::Failed(codec, reason) => Error::Decode { column: ctx.name.to_string(), chunk, offset: r.offset, codec, reason },
    })
}

/// Memory for a buffer the pipeline decodes into: every byte is overwritten (each codec fills its
/// whole output or fails), so it need not be zeroed first.
fn alloc(ctx: &ChunkCtx<'_>, chunk: usize, len: u64) -> Result<AlignedBytes> {
    usize::try_from(len).ok().and_then(AlignedBytes::try_for_overwrite).ok_or_else(|| Error::LimitExceeded {
        what: format!("memory for column {}, chunk {chunk}", ctx.name),
        value: len,
        limit: isize::MAX as u64,
    })
}

fn decode_owned(ctx: &ChunkCtx<'_>, chunk: usize, r: &BufferRef, stored: Option<&SharedSlice>, width: usize, role: &str) -> Result<AlignedBytes> {
    let stored = stored.ok_or_else(|| ctx.missing(chunk, role))?;
    let mut out = alloc(ctx, chunk, r.decoded_len)?;
    decode_buffer_into(ctx, chunk, r, stored, width, out.as_mut_slice())?;
    Ok(out)
}

/// Decodes the values buffer of a fixed-width chunk straight into `out`.
pub(crate) fn decode_values_into(ctx: &ChunkCtx<'_>, chunk: usize, c: &ChunkEntry, stored: &StoredChunk, out: &mut [u8]) -> Result<()> {
    let bytes = stored.values.as_ref().ok_or_else(|| ctx.missing(chunk, "values"))?;
    decode_buffer_into(ctx, chunk, &c.values, bytes, ctx.unit_width, out)
}

/// Decodes the validity bitmap of a chunk, if it has one.
pub(crate) fn decode_validity(ctx: &ChunkCtx<'_>, chunk: usize, c: &ChunkEntry, stored: &StoredChunk) -> Result<Option<Vec<u8>>> {
    if c.null_count == 0 || c.validity.is_absent() {
        return Ok(None);
    }
    Ok(Some(decode_owned(ctx, chunk, &c.validity, stored.validity.as_ref(), 1, "validity")?.to_vec()))
}

/// Decodes one chunk from its stored bytes.
pub(crate) fn decode_chunk(ctx: &ChunkCtx<'_>, chunk: usize, c: &ChunkEntry, stored: &StoredChunk) -> Result<DecodedChunk> {
    let validity = decode_validity(ctx, chunk, c, stored)?;
    let values = |width: usize| -> Result<Buf<'static>> {
        Ok(if c.values.is_plain() {
            if c.values.is_absent() {
                Buf::Owned(AlignedBytes::zeroed(0))
            } else {
                Buf::Shared(ctx.plain(chunk, &c.values, stored.values.as_ref(), "values")?)
            }
        } else {
            Buf::Owned(decode_owned(ctx, chunk, &c.values, stored.values.as_ref(), width, "values")?)
        })
    };
    if ctx.row_width.is_some() {
        return Ok(DecodedChunk { rows: c.row_count, values: values(ctx.unit_width)?, offsets: None, validity });
    }
    let raw = decode_owned(ctx, chunk, &c.offsets, stored.offsets.as_ref(), 8, "offsets")?;
    let offsets: Vec<u64> = raw.chunks_exact(8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect();
    let bad = |reason: String| Error::InvalidChunk { column: ctx.name.to_string(), chunk, reason };
    if offsets.first() != Some(&0) {
        return Err(bad("offsets do not start at 0".into()));
    }
    if offsets.windows(2).any(|w| w[1] < w[0]) {
        return Err(bad("offsets decrease".into()));
    }
    let end = offsets.last().copied().unwrap_or(0);
    if end != c.values.decoded_len {
        return Err(bad(format!("offsets end at {end}, the values buffer holds {} bytes", c.values.decoded_len)));
    }
    Ok(DecodedChunk { rows: c.row_count, values: values(1)?, offsets: Some(offsets), validity })
}

/// Copies `n` bits from `src` starting at bit `src_at` into `dst` starting at bit `dst_at`.
pub(crate) fn copy_bits(src: &[u8], src_at: u64, dst: &mut [u8], dst_at: u64, n: u64) {
    if src_at.is_multiple_of(8) && dst_at.is_multiple_of(8) && n.is_multiple_of(8) {
        let (s, d, len) = ((src_at / 8) as usize, (dst_at / 8) as usize, (n / 8) as usize);
        dst[d..d + len].copy_from_slice(&src[s..s + len]);
        return;
    }
    for k in 0..n {
        let (s, d) = (src_at + k, dst_at + k);
        let bit = src.get((s / 8) as usize).is_some_and(|b| b >> (s % 8) & 1 == 1);
        let byte = &mut dst[(d / 8) as usize];
        if bit {
            *byte |= 1 << (d % 8);
        } else {
            *byte &= !(1 << (d % 8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_bits;

    #[test]
    fn copy_bits_handles_unaligned_runs() {
        let src = [0b1010_1101u8, 0b0000_0011];
        let mut dst = [0xFFu8; 2];
        copy_bits(&src, 2, &mut dst, 3, 8);
        // bits 2..10 of src: 1,1,0,1,0,1,1,1 -> placed at 3..11 of dst
        let got: Vec<bool> = (3..11).map(|i| dst[i / 8] >> (i % 8) & 1 == 1).collect();
        assert_eq!(got, [true, true, false, true, false, true, true, true]);
        assert_eq!(dst[0] & 0b111, 0b111);
    }
}
