//! `shuffle` (id 1): byte-stream split. Byte k of every value goes to stream k, so that the
//! slowly varying high bytes of numbers sit together for the next stage to compress. Spec:
//! `spec/codecs.md#shuffle`.

use super::{Codec, DecodeResult};

pub(crate) struct Shuffle;

impl Codec for Shuffle {
    fn name(&self) -> &'static str {
        "shuffle"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if width < 2 || !input.len().is_multiple_of(width) {
            return None;
        }
        let n = input.len() / width;
        out.resize(input.len(), 0);
        for (k, stream) in out.chunks_exact_mut(n.max(1)).enumerate().take(width) {
            for (dst, src) in stream.iter_mut().zip(input.chunks_exact(width)) {
                *dst = src[k];
            }
        }
        Some(())
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        Ok(input.len())
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        if width == 0 || !input.len().is_multiple_of(width) || out.len() != input.len() {
            return Err(format!("{} bytes is not a whole number of {width}-byte values", input.len()));
        }
        let n = input.len() / width;
        if n == 0 {
            return Ok(());
        }
        match width {
            2 => {
                gather::<2>(input, n, out);
                return Ok(());
            }
            4 => {
                gather::<4>(input, n, out);
                return Ok(());
            }
            8 => {
                gather::<8>(input, n, out);
                return Ok(());
            }
            _ => {}
        }
        // Blocks of rows keep the `width` source streams and the destination in cache.
        const BLOCK: usize = 4096;
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            let dst = &mut out[start * width..end * width];
            for k in 0..width {
                let stream = &input[k * n + start..k * n + end];
                for (v, &b) in dst.chunks_exact_mut(width).zip(stream) {
                    v[k] = b;
                }
            }
            start = end;
        }
        Ok(())
    }
}

/// Interleaves `W` streams of `n` bytes: value `i` is byte `i` of every stream. Fixed `W` lets the
/// compiler keep all streams in registers and vectorise.
fn gather<const W: usize>(input: &[u8], n: usize, out: &mut [u8]) {
    let streams: [&[u8]; W] = std::array::from_fn(|k| &input[k * n..(k + 1) * n]);
    for (i, dst) in out.chunks_exact_mut(W).enumerate() {
        for k in 0..W {
            dst[k] = streams[k][i];
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_every_width() {
        let data: Vec<u8> = (0..9000u32).map(|i| (i * 7 % 251) as u8).collect();
        for w in [2, 3, 4, 8, 9] {
            let n = data.len() / w * w;
            round_trip(&[Stage::Shuffle], &data[..n], w).unwrap();
        }
        assert!(round_trip(&[Stage::Shuffle], &data[..5], 4).is_none());
    }
}
