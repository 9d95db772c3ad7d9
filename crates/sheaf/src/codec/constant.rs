//! `constant` (id 4): every value equal, stored once with the count. Spec:
//! `spec/codecs.md#constant`.

use super::{count_bytes, le_u64, Codec, DecodeResult};

pub(crate) struct Constant;

impl Codec for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if width == 0 || input.len() % width != 0 {
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
        for dst in out.chunks_exact_mut(width) {
            dst.copy_from_slice(value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn stores_one_value() {
        let data: Vec<u8> = [1u8, 2, 3].repeat(1000);
        assert_eq!(round_trip(&[Stage::Constant], &data, 3), Some(11));
        assert!(round_trip(&[Stage::Constant], &[1, 2, 3, 1, 2, 4], 3).is_none());
    }
}
