//! `zstd` (id 16): one Zstandard frame with its content size in the frame header, which is how
//! the reader learns (and bounds) the decoded length before allocating. Spec:
//! `spec/codecs.md#zstd`.

use super::{Codec, DecodeResult};

pub(crate) struct Zstd;

/// Compresses `input` as one frame at `level`, with the content size recorded.
pub(crate) fn encode(input: &[u8], level: i32, out: &mut Vec<u8>) -> Option<()> {
    let mut c = zstd::bulk::Compressor::new(level).ok()?;
    c.include_contentsize(true).ok()?;
    c.include_checksum(false).ok()?;
    *out = c.compress(input).ok()?;
    Some(())
}

impl Codec for Zstd {
    fn name(&self) -> &'static str {
        "zstd"
    }

    fn encode(&self, input: &[u8], _width: usize, out: &mut Vec<u8>) -> Option<()> {
        encode(input, 3, out)
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        match zstd::zstd_safe::get_frame_content_size(input) {
            Ok(Some(n)) => usize::try_from(n).map_err(|_| format!("content size {n} does not fit in memory")),
            Ok(None) => Err("frame does not record its content size".into()),
            Err(_) => Err("not a zstd frame".into()),
        }
    }

    fn decode_into(&self, input: &[u8], _width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let n = zstd::bulk::decompress_to_buffer(input, out).map_err(|e| e.to_string())?;
        if n != out.len() {
            return Err(format!("decoded {n} bytes, frame header promised {}", out.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_and_shrinks_repetitive_data() {
        let data = b"abcdefgh".repeat(1000);
        assert!(round_trip(&[Stage::Zstd(3)], &data, 1).unwrap() < 100);
        round_trip(&[Stage::Zstd(3)], &[], 1).unwrap();
    }
}
