//! `lz4` (id 17): one LZ4 block preceded by its decoded length as u32 LE (the `lz4_flex`
//! "size-prepended" block form). Spec: `spec/codecs.md#lz4`.

use super::{Codec, DecodeResult};

pub(crate) struct Lz4;

impl Codec for Lz4 {
    fn name(&self) -> &'static str {
        "lz4"
    }

    fn encode(&self, input: &[u8], _width: usize, out: &mut Vec<u8>) -> Option<()> {
        u32::try_from(input.len()).ok()?;
        *out = lz4_flex::block::compress_prepend_size(input);
        Some(())
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        let head: [u8; 4] = input.get(..4).and_then(|h| h.try_into().ok()).ok_or("missing length prefix")?;
        Ok(u32::from_le_bytes(head) as usize)
    }

    fn decode_into(&self, input: &[u8], _width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let n = lz4_flex::block::decompress_into(input.get(4..).ok_or("missing length prefix")?, out).map_err(|e| e.to_string())?;
        if n != out.len() {
            return Err(format!("decoded {n} bytes, prefix promised {}", out.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips() {
        let data = b"0123456789".repeat(500);
        assert!(round_trip(&[Stage::Lz4], &data, 1).unwrap() < 200);
        round_trip(&[Stage::Lz4], &[], 1).unwrap();
    }
}
