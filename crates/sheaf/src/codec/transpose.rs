//! `transpose` (id 6): rows of `k` values become `k` streams of one value per row, so that the
//! components of a subarray (`pos[3]`: x, y, z) are compressed each on its own, not interleaved.
//! Spec: `spec/codecs.md#transpose`.

use super::{le_u64, Codec, DecodeResult};

pub(crate) struct Transpose;

const HEADER: usize = 8;

/// Encodes with `k` values per row (the caller's parameter; recorded in the header).
pub(crate) fn encode(input: &[u8], width: usize, k: usize, out: &mut Vec<u8>) -> Option<()> {
    let row = width.checked_mul(k)?;
    if k < 2 || row == 0 || input.len() % row != 0 {
        return None;
    }
    let rows = input.len() / row;
    out.reserve(HEADER + input.len());
    out.extend_from_slice(&(k as u64).to_le_bytes());
    for c in 0..k {
        for r in 0..rows {
            let at = r * row + c * width;
            out.extend_from_slice(&input[at..at + width]);
        }
    }
    Some(())
}

impl Codec for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn encode(&self, _input: &[u8], _width: usize, _out: &mut Vec<u8>) -> Option<()> {
        // Needs the row length: see `encode` above (Stage::Transpose carries it).
        None
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        Ok(input.len().saturating_sub(HEADER))
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let k = usize::try_from(le_u64(input, 0)?).map_err(|_| "row length does not fit".to_string())?;
        let data = &input[HEADER..];
        let row = width.checked_mul(k).filter(|&r| r > 0 && k >= 2).ok_or_else(|| format!("bad row length {k}"))?;
        if data.len() % row != 0 || out.len() != data.len() {
            return Err(format!("{} bytes is not a whole number of {k}-value rows", data.len()));
        }
        let rows = data.len() / row;
        for c in 0..k {
            let stream = &data[c * rows * width..(c + 1) * rows * width];
            for (r, v) in stream.chunks_exact(width).enumerate() {
                let at = r * row + c * width;
                out[at..at + width].copy_from_slice(v);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_rows_of_components() {
        let data: Vec<u8> = (0..1200u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
        round_trip(&[Stage::Transpose(3)], &data, 4).unwrap();
        round_trip(&[Stage::Transpose(3), Stage::Delta, Stage::Shuffle, Stage::Zstd(3)], &data, 4).unwrap();
        assert!(round_trip(&[Stage::Transpose(7)], &data, 4).is_none());
    }
}
