//! `bitpack` (id 3): frame of reference plus bit packing. Integers (sign-extended from their
//! width) are stored as `value - min` in the fewest bits that hold `max - min`, LSB first. Spec:
//! `spec/codecs.md#bitpack`.

use super::{count_bytes, le_u64, to_usize, Codec, DecodeResult};

pub(crate) struct BitPack;

const HEADER: usize = 24;

/// Sign-extends a little-endian integer of `width` bytes.
fn load(src: &[u8]) -> i64 {
    match src.len() {
        1 => i64::from(src[0] as i8),
        2 => i64::from(i16::from_le_bytes([src[0], src[1]])),
        4 => i64::from(i32::from_le_bytes([src[0], src[1], src[2], src[3]])),
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&src[..8]);
            i64::from_le_bytes(b)
        }
    }
}

/// Appends `values` packed at `bits` bits each (LSB first) to `out`.
pub(crate) fn pack(values: impl Iterator<Item = u64>, bits: u32, out: &mut Vec<u8>) {
    if bits == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut filled = 0u32;
    for v in values {
        acc |= u128::from(v) << filled;
        filled += bits;
        while filled >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            filled -= 64;
        }
    }
    let tail = filled.div_ceil(8) as usize;
    out.extend_from_slice(&(acc as u64).to_le_bytes()[..tail]);
}

/// Bytes needed for `count` values of `bits` bits.
pub(crate) fn packed_len(count: usize, bits: u32) -> Option<usize> {
    count.checked_mul(bits as usize).map(|b| b.div_ceil(8))
}

/// The `i`-th packed value; `packed` must hold [`packed_len`] bytes.
#[inline]
pub(crate) fn unpack_one(packed: &[u8], bits: u32, i: usize) -> u64 {
    let bit = i * bits as usize;
    let byte = bit >> 3;
    let shift = (bit & 7) as u32;
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    if let Some(w) = packed.get(byte..byte + 8) {
        let lo = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if shift + bits <= 64 {
            return (lo >> shift) & mask;
        }
        let hi = u64::from(packed.get(byte + 8).copied().unwrap_or(0));
        return ((lo >> shift) | (hi << (64 - shift))) & mask;
    }
    // Near the end: gather the remaining bytes one by one.
    let mut word: u128 = 0;
    for (k, &b) in packed.iter().skip(byte).take(9).enumerate() {
        word |= u128::from(b) << (8 * k);
    }
    ((word >> shift) as u64) & mask
}

/// Fills `out` (values `width` bytes wide) with `reference + packed[i]`.
pub(crate) fn unpack_into(packed: &[u8], bits: u32, reference: i64, width: usize, out: &mut [u8]) {
    macro_rules! fill {
        ($t:ty) => {
            for (i, dst) in out.chunks_exact_mut(width).enumerate() {
                let v = reference.wrapping_add(unpack_one(packed, bits, i) as i64) as $t;
                dst.copy_from_slice(&v.to_le_bytes());
            }
        };
    }
    match width {
        1 => fill!(u8),
        2 => fill!(u16),
        4 => fill!(u32),
        _ => fill!(u64),
    }
}

impl Codec for BitPack {
    fn name(&self) -> &'static str {
        "bitpack"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if !matches!(width, 1 | 2 | 4 | 8) || input.len() % width != 0 {
            return None;
        }
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for c in input.chunks_exact(width) {
            let v = load(c);
            min = min.min(v);
            max = max.max(v);
        }
        let count = input.len() / width;
        let range = if count == 0 { 0 } else { (i128::from(max) - i128::from(min)) as u64 };
        let bits = 64 - range.leading_zeros();
        let reference = if count == 0 { 0 } else { min };
        out.reserve(HEADER + packed_len(count, bits)?);
        out.extend_from_slice(&(count as u64).to_le_bytes());
        out.extend_from_slice(&reference.to_le_bytes());
        out.extend_from_slice(&[bits as u8, 0, 0, 0, 0, 0, 0, 0]);
        pack(input.chunks_exact(width).map(|c| load(c).wrapping_sub(reference) as u64), bits, out);
        Some(())
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        if !matches!(width, 1 | 2 | 4 | 8) {
            return Err(format!("bitpack needs 1, 2, 4 or 8-byte values, not {width}"));
        }
        let count = to_usize(le_u64(input, 0)?)?;
        let reference = le_u64(input, 8)? as i64;
        let bits = u32::from(*input.get(16).ok_or("header truncated")?);
        if bits > 64 {
            return Err(format!("bit width {bits} is over 64"));
        }
        let need = packed_len(count, bits).ok_or("packed length overflows")?;
        let packed = input.get(HEADER..).ok_or("header truncated")?;
        if packed.len() != need {
            return Err(format!("{} packed bytes, {count} values of {bits} bits need {need}", packed.len()));
        }
        unpack_into(packed, bits, reference, width, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_signed_unsigned_and_extremes() {
        let sets: Vec<Vec<i64>> = vec![
            vec![],
            vec![7; 100],
            (0..1000).map(|i| i % 37 - 10).collect(),
            vec![i64::MIN, i64::MAX, 0],
            (0..513).map(|i| i * 1_000_003).collect(),
        ];
        for vals in &sets {
            let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
            round_trip(&[Stage::BitPack], &bytes, 8).unwrap();
            let small: Vec<u8> = vals.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect();
            round_trip(&[Stage::BitPack], &small, 4).unwrap();
        }
        let u: Vec<u8> = [0u16, 65535, 3, 40000].iter().flat_map(|v| v.to_le_bytes()).collect();
        round_trip(&[Stage::BitPack], &u, 2).unwrap();
    }

    #[test]
    fn packs_small_ranges_tightly() {
        let bytes: Vec<u8> = (0..8000i64).map(|i| 1_000_000 + i % 16).flat_map(|v| v.to_le_bytes()).collect();
        let n = round_trip(&[Stage::BitPack], &bytes, 8).unwrap();
        assert_eq!(n, 24 + 8000 * 4 / 8);
    }
}
