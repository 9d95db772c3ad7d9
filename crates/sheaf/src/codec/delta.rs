//! `delta` (id 2): each integer minus the one before it (wrapping, in the value's own width), the
//! first kept as is. Turns sorted ids and timestamps into small numbers for `bitpack`. Spec:
//! `spec/codecs.md#delta`.

use super::{Codec, DecodeResult};

pub(crate) struct Delta;

macro_rules! with_width {
    ($width:expr, $t:ident, $body:block) => {
        match $width {
            1 => {
                type $t = u8;
                $body
            }
            2 => {
                type $t = u16;
                $body
            }
            4 => {
                type $t = u32;
                $body
            }
            8 => {
                type $t = u64;
                $body
            }
            _ => None,
        }
    };
}

impl Codec for Delta {
    fn name(&self) -> &'static str {
        "delta"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if !input.len().is_multiple_of(width.max(1)) {
            return None;
        }
        out.reserve(input.len());
        with_width!(width, T, {
            let mut prev: T = 0;
            for c in input.chunks_exact(width) {
                let v = T::from_le_bytes(c.try_into().ok()?);
                out.extend_from_slice(&v.wrapping_sub(prev).to_le_bytes());
                prev = v;
            }
            Some(())
        })
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        Ok(input.len())
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        if !matches!(width, 1 | 2 | 4 | 8) || !input.len().is_multiple_of(width) {
            return Err(format!("delta needs 1, 2, 4 or 8-byte values, got {} bytes of width {width}", input.len()));
        }
        // Fast path: both sides aligned for the value type (the usual case: decoded buffers are
        // 64-byte aligned and chunk boundaries fall on value boundaries).
        macro_rules! fast {
            ($t:ty) => {
                if let (Ok(src), Ok(dst)) = (bytemuck::try_cast_slice::<u8, $t>(input), bytemuck::try_cast_slice_mut::<u8, $t>(out)) {
                    let mut acc: $t = 0;
                    for (d, s) in dst.iter_mut().zip(src) {
                        acc = acc.wrapping_add(<$t>::from_le(*s));
                        *d = acc.to_le();
                    }
                    return Ok(());
                }
            };
        }
        match width {
            2 => fast!(u16),
            4 => fast!(u32),
            8 => fast!(u64),
            _ => {}
        }
        let r: Option<()> = (|| {
            with_width!(width, T, {
                let mut acc: T = 0;
                for (src, dst) in input.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
                    acc = acc.wrapping_add(T::from_le_bytes(src.try_into().ok()?));
                    dst.copy_from_slice(&acc.to_le_bytes());
                }
                Some(())
            })
        })();
        r.ok_or_else(|| "delta decode failed".to_string())
    }
}

/// Replaces `buf` (values `width` bytes wide, 1, 2, 4 or 8) by its running sum starting from
/// `acc` (the sum of everything before it), in place; returns the sum at its end. Lets a stage
/// that decodes block by block undo `delta` while the block is still in L1 cache.
pub(crate) fn running_sum_in_place(buf: &mut [u8], width: usize, acc: u64) -> u64 {
    macro_rules! sum {
        ($t:ty) => {{
            let mut acc = acc as $t;
            if let Ok(vals) = bytemuck::try_cast_slice_mut::<u8, $t>(buf) {
                for v in vals {
                    acc = acc.wrapping_add(<$t>::from_le(*v));
                    *v = acc.to_le();
                }
            } else {
                for c in buf.chunks_exact_mut(width) {
                    acc = acc.wrapping_add(<$t>::from_le_bytes(c.try_into().unwrap_or_default()));
                    c.copy_from_slice(&acc.to_le_bytes());
                }
            }
            acc as u64
        }};
    }
    match width {
        1 => sum!(u8),
        2 => sum!(u16),
        4 => sum!(u32),
        _ => sum!(u64),
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Codec, Stage};

    #[test]
    fn round_trips_with_wrapping() {
        let vals: Vec<i64> = vec![i64::MIN, -1, 0, 5, i64::MAX, 3];
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        round_trip(&[Stage::Delta], &bytes, 8).unwrap();
        round_trip(&[Stage::Delta], &[1, 255, 0, 7], 1).unwrap();
        assert!(round_trip(&[Stage::Delta], &[1, 2, 3], 3).is_none());
    }

    #[test]
    fn running_sums_in_place_match_the_stage_at_any_alignment() {
        let vals: Vec<u8> = (0..803u32).map(|i| (i * 37 % 251) as u8).collect();
        for width in [1usize, 2, 4, 8] {
            for skip in 0..width.min(4) {
                // An offset into the buffer makes the slice unaligned for the value type.
                let mut buf = vals.clone();
                let len = (buf.len() - skip) / width * width;
                let part = &mut buf[skip..skip + len];
                let mut want = vec![0u8; len];
                super::Delta.decode_into(part, width, &mut want).unwrap();
                // Two halves, the second continuing from the first's sum, as blocks do.
                let half = len / width / 2 * width;
                let (a, b) = part.split_at_mut(half);
                let acc = super::running_sum_in_place(a, width, 0);
                super::running_sum_in_place(b, width, acc);
                assert_eq!(part, &want[..], "width {width}, offset {skip}");
            }
        }
    }
}
