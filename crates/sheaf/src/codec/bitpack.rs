//! `bitpack` (id 3): frame of reference plus bit packing. Integers (sign-extended from their
//! width) are stored as `value - min` in the fewest bits that hold `max - min`, LSB first. Spec:
//! `spec/codecs.md#bitpack`.

use super::{check_positions, count_bytes, le_u64, to_usize, Codec, DecodeResult};

pub(crate) struct BitPack;

const HEADER: usize = 24;

/// Sign-extends a little-endian integer of `width` bytes.
pub(crate) fn load(src: &[u8]) -> i64 {
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
    let done = match bits {
        1 => unpack_groups::<1>(packed, reference, width, out),
        2 => unpack_groups::<2>(packed, reference, width, out),
        3 => unpack_groups::<3>(packed, reference, width, out),
        4 => unpack_groups::<4>(packed, reference, width, out),
        5 => unpack_groups::<5>(packed, reference, width, out),
        6 => unpack_groups::<6>(packed, reference, width, out),
        7 => unpack_groups::<7>(packed, reference, width, out),
        8 => unpack_groups::<8>(packed, reference, width, out),
        9 => unpack_groups::<9>(packed, reference, width, out),
        10 => unpack_groups::<10>(packed, reference, width, out),
        11 => unpack_groups::<11>(packed, reference, width, out),
        12 => unpack_groups::<12>(packed, reference, width, out),
        13 => unpack_groups::<13>(packed, reference, width, out),
        14 => unpack_groups::<14>(packed, reference, width, out),
        15 => unpack_groups::<15>(packed, reference, width, out),
        16 => unpack_groups::<16>(packed, reference, width, out),
        17 => unpack_groups::<17>(packed, reference, width, out),
        18 => unpack_groups::<18>(packed, reference, width, out),
        19 => unpack_groups::<19>(packed, reference, width, out),
        20 => unpack_groups::<20>(packed, reference, width, out),
        21 => unpack_groups::<21>(packed, reference, width, out),
        22 => unpack_groups::<22>(packed, reference, width, out),
        23 => unpack_groups::<23>(packed, reference, width, out),
        24 => unpack_groups::<24>(packed, reference, width, out),
        25 => unpack_groups::<25>(packed, reference, width, out),
        26 => unpack_groups::<26>(packed, reference, width, out),
        27 => unpack_groups::<27>(packed, reference, width, out),
        28 => unpack_groups::<28>(packed, reference, width, out),
        29 => unpack_groups::<29>(packed, reference, width, out),
        30 => unpack_groups::<30>(packed, reference, width, out),
        31 => unpack_groups::<31>(packed, reference, width, out),
        32 => unpack_groups::<32>(packed, reference, width, out),
        33 => unpack_groups::<33>(packed, reference, width, out),
        34 => unpack_groups::<34>(packed, reference, width, out),
        35 => unpack_groups::<35>(packed, reference, width, out),
        36 => unpack_groups::<36>(packed, reference, width, out),
        37 => unpack_groups::<37>(packed, reference, width, out),
        38 => unpack_groups::<38>(packed, reference, width, out),
        39 => unpack_groups::<39>(packed, reference, width, out),
        40 => unpack_groups::<40>(packed, reference, width, out),
        41 => unpack_groups::<41>(packed, reference, width, out),
        42 => unpack_groups::<42>(packed, reference, width, out),
        43 => unpack_groups::<43>(packed, reference, width, out),
        44 => unpack_groups::<44>(packed, reference, width, out),
        45 => unpack_groups::<45>(packed, reference, width, out),
        46 => unpack_groups::<46>(packed, reference, width, out),
        47 => unpack_groups::<47>(packed, reference, width, out),
        48 => unpack_groups::<48>(packed, reference, width, out),
        49 => unpack_groups::<49>(packed, reference, width, out),
        50 => unpack_groups::<50>(packed, reference, width, out),
        51 => unpack_groups::<51>(packed, reference, width, out),
        52 => unpack_groups::<52>(packed, reference, width, out),
        53 => unpack_groups::<53>(packed, reference, width, out),
        54 => unpack_groups::<54>(packed, reference, width, out),
        55 => unpack_groups::<55>(packed, reference, width, out),
        56 => unpack_groups::<56>(packed, reference, width, out),
        _ => 0,
    };
    macro_rules! fill {
        ($t:ty) => {
            for (i, dst) in out.chunks_exact_mut(width).enumerate().skip(done) {
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

/// Unpacks values of `B` bits (at most 56) eight at a time: eight values fill exactly `B` bytes,
/// so each value's byte and shift within its group are constants and one 8-byte load holds it
/// (a value-by-value loop with the width known only at run time is 3-8x slower). Returns how
/// many values it wrote: every whole group whose loads stay inside `packed`; the caller does
/// the rest.
fn unpack_groups<const B: usize>(packed: &[u8], reference: i64, width: usize, out: &mut [u8]) -> usize {
    // A group's last load starts at byte 7B/8 and reads 8 bytes.
    let span = 7 * B / 8 + 8;
    let groups = (out.len() / width / 8).min(if packed.len() >= span { (packed.len() - span) / B + 1 } else { 0 });
    let mask = (1u64 << B) - 1;
    macro_rules! groups_of {
        ($t:ty) => {{
            const W: usize = std::mem::size_of::<$t>();
            for (g, dst) in out[..groups * 8 * W].chunks_exact_mut(8 * W).enumerate() {
                let src = &packed[g * B..g * B + span];
                for j in 0..8 {
                    let (byte, shift) = (j * B / 8, j * B % 8);
                    let word = src[byte..byte + 8].try_into().map_or(0, u64::from_le_bytes);
                    let v = reference.wrapping_add(((word >> shift) & mask) as i64) as $t;
                    dst[j * W..(j + 1) * W].copy_from_slice(&v.to_le_bytes());
                }
            }
        }};
    }
    match width {
        1 => groups_of!(u8),
        2 => groups_of!(u16),
        4 => groups_of!(u32),
        _ => groups_of!(u64),
    }
    groups * 8
}

impl Codec for BitPack {
    fn name(&self) -> &'static str {
        "bitpack"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if !matches!(width, 1 | 2 | 4 | 8) || !input.len().is_multiple_of(width) {
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
        let (_, reference, bits, packed) = parse(input, width)?;
        unpack_into(packed, bits, reference, width, out);
        Ok(())
    }

    fn take_into(&self, input: &[u8], width: usize, positions: &[usize], out: &mut [u8]) -> Option<DecodeResult<()>> {
        Some(parse(input, width).and_then(|(count, reference, bits, packed)| {
            check_positions(positions, count, width, out)?;
            for (dst, &p) in out.chunks_exact_mut(width).zip(positions) {
                let v = reference.wrapping_add(unpack_one(packed, bits, p) as i64).to_le_bytes();
                dst.copy_from_slice(&v[..width]);
            }
            Ok(())
        }))
    }
}

/// The header of an encoded buffer, checked against its length: count, reference, bit width and
/// the packed values.
fn parse(input: &[u8], width: usize) -> DecodeResult<(usize, i64, u32, &[u8])> {
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
    Ok((count, reference, bits, packed))
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_signed_unsigned_and_extremes() {
        let sets: Vec<Vec<i64>> = vec![vec![], vec![7; 100], (0..1000).map(|i| i % 37 - 10).collect(), vec![i64::MIN, i64::MAX, 0], (0..513).map(|i| i * 1_000_003).collect()];
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
    fn unpacks_every_bit_width_into_every_value_width_at_any_length() {
        let mut r = 0x9E37_79B9_7F4A_7C15u64;
        for bits in 0..=64u32 {
            for width in [1usize, 2, 4, 8] {
                if bits as usize > 8 * width {
                    continue;
                }
                // Lengths around the 8-value groups and the end of the buffer, where the
                // grouped path hands over to the value-by-value one.
                for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1001] {
                    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
                    let vals: Vec<u64> = (0..n)
                        .map(|_| {
                            r ^= r << 13;
                            r ^= r >> 7;
                            r ^= r << 17;
                            r & mask
                        })
                        .collect();
                    let mut packed = Vec::new();
                    super::pack(vals.iter().copied(), bits, &mut packed);
                    let reference = -3i64;
                    let mut out = vec![0u8; n * width];
                    super::unpack_into(&packed, bits, reference, width, &mut out);
                    let want: Vec<u8> = vals.iter().flat_map(|&v| reference.wrapping_add(v as i64).to_le_bytes()[..width].to_vec()).collect();
                    assert_eq!(out, want, "{bits} bits, width {width}, {n} values");
                }
            }
        }
    }

    #[test]
    fn packs_small_ranges_tightly() {
        let bytes: Vec<u8> = (0..8000i64).map(|i| 1_000_000 + i % 16).flat_map(|v| v.to_le_bytes()).collect();
        let n = round_trip(&[Stage::BitPack], &bytes, 8).unwrap();
        assert_eq!(n, 24 + 8000 * 4 / 8);
    }
}
