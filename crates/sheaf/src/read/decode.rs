//! Decoding one chunk: checksum first, then the codec pipeline of each buffer, then the checks
//! that tie buffers together (offsets monotonic and ending at the values' length).

use super::column::Column;
use crate::buffer::{AlignedBytes, Buf};
use crate::codec::{decode_pipeline, PipelineError};
use crate::error::{Error, Result};
use crate::format::{BufferRef, ChunkEntry};

/// One chunk's buffers after decoding (plain values stay borrowed from the file).
pub(crate) struct DecodedChunk<'f> {
    pub(crate) rows: u64,
    pub(crate) values: Buf<'f>,
    pub(crate) offsets: Option<Vec<u64>>,
    pub(crate) validity: Option<Vec<u8>>,
}

/// Decodes buffer `r` of chunk `chunk` into `out` (exactly its decoded length).
pub(crate) fn decode_buffer_into(col: &Column<'_>, chunk: usize, r: &BufferRef, width: usize, out: &mut [u8]) -> Result<()> {
    let stored = super::slice(col.file.bytes(), r.offset, r.stored_len);
    col.check_sum(chunk, r, stored)?;
    decode_pipeline(r.stage_ids(), stored, width, out).map_err(|e| match e {
        PipelineError::Unknown(id) => Error::UnknownCodec { column: col.name.clone(), chunk, id },
        PipelineError::Failed(codec, reason) => Error::Decode { column: col.name.clone(), chunk, offset: r.offset, codec, reason },
    })
}

/// Memory for a buffer the pipeline decodes into: every byte is overwritten (each codec fills its
/// whole output or fails), so it need not be zeroed first.
fn alloc(col: &Column<'_>, chunk: usize, len: u64) -> Result<AlignedBytes> {
    usize::try_from(len).ok().and_then(AlignedBytes::try_for_overwrite).ok_or_else(|| Error::LimitExceeded {
        what: format!("memory for column {}, chunk {chunk}", col.name),
        value: len,
        limit: isize::MAX as u64,
    })
}

fn decode_owned(col: &Column<'_>, chunk: usize, r: &BufferRef, width: usize) -> Result<AlignedBytes> {
    let mut out = alloc(col, chunk, r.decoded_len)?;
    decode_buffer_into(col, chunk, r, width, out.as_mut_slice())?;
    Ok(out)
}

/// Decodes the values buffer of a fixed-width chunk straight into `out`.
pub(crate) fn decode_values_into(col: &Column<'_>, chunk: usize, c: &ChunkEntry, out: &mut [u8]) -> Result<()> {
    decode_buffer_into(col, chunk, &c.values, col.desc.leaf.ty.unit_width(), out)
}

/// Decodes the validity bitmap of a chunk, if it has one.
pub(crate) fn decode_validity(col: &Column<'_>, chunk: usize, c: &ChunkEntry) -> Result<Option<Vec<u8>>> {
    if c.null_count == 0 || c.validity.is_absent() {
        return Ok(None);
    }
    Ok(Some(decode_owned(col, chunk, &c.validity, 1)?.to_vec()))
}

pub(crate) fn decode_chunk<'f>(col: &Column<'f>, chunk: usize, c: &ChunkEntry) -> Result<DecodedChunk<'f>> {
    let validity = decode_validity(col, chunk, c)?;
    if col.desc.row_width().is_some() {
        let values =
            if c.values.is_plain() { Buf::Borrowed(col.plain_bytes(chunk, &c.values)?) } else { Buf::Owned(decode_owned(col, chunk, &c.values, col.desc.leaf.ty.unit_width())?) };
        return Ok(DecodedChunk { rows: c.row_count, values, offsets: None, validity });
    }
    let raw = decode_owned(col, chunk, &c.offsets, 8)?;
    let offsets: Vec<u64> = raw.chunks_exact(8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect();
    let bad = |reason: String| Error::InvalidChunk { column: col.name.clone(), chunk, reason };
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
    let values = if c.values.is_plain() { Buf::Borrowed(col.plain_bytes(chunk, &c.values)?) } else { Buf::Owned(decode_owned(col, chunk, &c.values, 1)?) };
    Ok(DecodedChunk { rows: c.row_count, values, offsets: Some(offsets), validity })
}

/// Copies `n` bits from `src` starting at bit `src_at` into `dst` starting at bit `dst_at`.
pub(crate) fn copy_bits(src: &[u8], src_at: u64, dst: &mut [u8], dst_at: u64, n: u64) {
    if src_at % 8 == 0 && dst_at % 8 == 0 && n % 8 == 0 {
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
