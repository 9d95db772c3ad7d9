//! `constant` (id 4): every value equal, stored once with the count. Spec:
//! `spec/codecs.md#constant`.

use super::{check_positions, count_bytes, le_u64, to_usize, Codec, DecodeResult};

pub(crate) struct Constant;

impl Codec for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if width == 0 || !input.len().is_multiple_of(width) {
            return None;
        }
        let first = input.get(..width)?;
        if !input.chunks_exact(width).all(|c| c == first) {
            return None;
        }
        out.extend_from_slice(&((input.len() / width) as u64).to_le_bytes());
        out.extend_from_slice(first);
        Some(())
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let value = input.get(8..).filter(|v| v.len() == width).ok_or_else(|| format!("value must be {width} bytes"))?;
        fill(out, value);
        Ok(())
    }

    fn take_into(&self, input: &[u8], width: usize, positions: &[usize], out: &mut [u8]) -> Option<DecodeResult<()>> {
        Some((|| {
            let count = to_usize(le_u64(input, 0)?)?;
            let value = input.get(8..).filter(|v| v.len() == width).ok_or_else(|| format!("value must be {width} bytes"))?;
            check_positions(positions, count, width, out)?;
            fill(out, value);
            Ok(())
        })())
    }
}

/// Fills `out` (a whole number of values) with `value` repeated: a copy per value is a call to
/// `memcpy` per value for widths known only at run time (0.9 ms for flights' 2.6 MB year column,
/// a seventh of the table's decode), so the filled part is copied onto the rest, doubling each
/// time, in copies of at most 64 KiB (a whole number of values) that stay in the L1/L2 cache.
fn fill(out: &mut [u8], value: &[u8]) {
    let width = value.len();
    let Some(first) = out.get_mut(..width).filter(|_| width > 0) else { return };
    first.copy_from_slice(value);
    let most = (64 * 1024 / width).max(1) * width;
    let mut filled = width;
    while filled < out.len() {
        let n = filled.min(most).min(out.len() - filled);
        out.copy_within(..n, filled);
        filled += n;
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn fills_every_value_at_any_width_and_count() {
        for width in [1usize, 2, 3, 7, 8, 16, 100] {
            let value: Vec<u8> = (0..width as u8).map(|b| b.wrapping_mul(37).wrapping_add(1)).collect();
            for count in [0usize, 1, 2, 3, 1000, 70_001] {
                let mut out = vec![0u8; width * count];
                super::fill(&mut out, &value);
                assert!(out.chunks_exact(width).all(|c| c == value), "width {width}, count {count}");
            }
        }
        // An output shorter than one value is left alone, not indexed past.
        let mut short = [0u8; 3];
        super::fill(&mut short, &[7u8; 8]);
        assert_eq!(short, [0u8; 3]);
    }

    #[test]
    fn stores_one_value() {
        let data: Vec<u8> = [1u8, 2, 3].repeat(1000);
        assert_eq!(round_trip(&[Stage::Constant], &data, 3), Some(11));
        assert!(round_trip(&[Stage::Constant], &[1, 2, 3, 1, 2, 4], 3).is_none());
    }
}
