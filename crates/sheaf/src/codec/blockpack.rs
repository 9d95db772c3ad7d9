//! `blockpack` (id 9, format 1.2): frame of reference and bit packing per block of values, each
//! block with its own minimum and bit width. After `delta`, it codes smooth floats and noisy
//! series about as small as pcodec (the width follows the local noise, and a rare jump costs one
//! block, not the whole chunk as in `bitpack`) while decoding at the speed of bit unpacking.
//! Spec: `spec/codecs.md#blockpack`.

use super::bitpack::{load, pack, packed_len, unpack_into};
use super::{le_u64, to_usize, Codec, DecodeResult};

pub(crate) struct BlockPack;

/// Values per block written by this writer: on smooth floats and random walks, 128 is within a
/// fraction of a percent of the best block length (64 pays more in headers, 1024 more for each
/// block's widest value).
pub(crate) const BLOCK_VALUES: usize = 128;

/// count, block length, zero, the first value.
const HEADER: usize = 24;

/// Minimum and maximum of a block of little-endian `width`-byte integers, read as signed.
fn block_range(block: &[u8], width: usize) -> (i64, i64) {
    macro_rules! range_of {
        ($t:ty) => {{
            let (mut min, mut max) = (<$t>::MAX, <$t>::MIN);
            for c in block.chunks_exact(width) {
                let v = <$t>::from_le_bytes(c.try_into().unwrap_or_default());
                min = min.min(v);
                max = max.max(v);
            }
            (i64::from(min), i64::from(max))
        }};
    }
    match width {
        1 => range_of!(i8),
        2 => range_of!(i16),
        4 => range_of!(i32),
        _ => range_of!(i64),
    }
}

/// Fills `dst` with `value` in `width` bytes (a block of width 0: common after `delta` on slowly
/// changing data). With the width a constant the copies inline; with a run-time width each is a
/// call to memmove (8% of reading the particles benchmark).
fn fill(dst: &mut [u8], width: usize, value: i64) {
    fn fill_of<const W: usize>(dst: &mut [u8], value: i64) {
        let v: [u8; W] = value.to_le_bytes()[..W].try_into().unwrap_or([0; W]);
        dst.chunks_exact_mut(W).for_each(|d| d.copy_from_slice(&v));
    }
    match width {
        1 => fill_of::<1>(dst, value),
        2 => fill_of::<2>(dst, value),
        4 => fill_of::<4>(dst, value),
        _ => fill_of::<8>(dst, value),
    }
}

/// The layout of an encoded buffer, checked against its length.
struct Layout<'a> {
    count: usize,
    first: [u8; 8],
    block: usize,
    widths: &'a [u8],
    references: &'a [u8],
    packed: &'a [u8],
}

impl<'a> Layout<'a> {
    fn parse(input: &'a [u8], width: usize) -> DecodeResult<Self> {
        if !matches!(width, 1 | 2 | 4 | 8) {
            return Err(format!("blockpack needs 1, 2, 4 or 8-byte values, not {width}"));
        }
        let count = to_usize(le_u64(input, 0)?)?;
        let word = le_u64(input, 8)?;
        let block = (word & 0xFFFF_FFFF) as usize;
        if word >> 32 != 0 {
            return Err("bytes 12..16 of the header are not zero".into());
        }
        if block == 0 || !block.is_multiple_of(8) {
            return Err(format!("block length {block} is not a positive multiple of 8"));
        }
        let first = le_u64(input, 16)?.to_le_bytes();
        if first[width..].iter().any(|&b| b != 0) || (count == 0 && first != [0; 8]) {
            return Err("the first value's unused bytes are not zero".into());
        }
        // The first value is stored apart: after `delta` it is the series' start, far from the
        // small differences that follow, and would set the width of the whole first block.
        let blocked = count.saturating_sub(1);
        let blocks = blocked.div_ceil(block);
        let rest = &input[HEADER..];
        let refs_end = blocks.checked_mul(width + 1).ok_or("block count overflows")?;
        if rest.len() < refs_end {
            return Err(format!("{blocks} blocks need {refs_end} bytes of widths and references, {} left", rest.len()));
        }
        let (widths, rest) = rest.split_at(blocks);
        let (references, packed) = rest.split_at(blocks * width);
        let mut need = 0usize;
        for (i, &bits) in widths.iter().enumerate() {
            if usize::from(bits) > 8 * width {
                return Err(format!("block {i}: bit width {bits} is over {} for {width}-byte values", 8 * width));
            }
            let n = block.min(blocked - i * block);
            need = need.checked_add(packed_len(n, u32::from(bits)).ok_or("packed length overflows")?).ok_or("packed length overflows")?;
        }
        if packed.len() != need {
            return Err(format!("{} packed bytes, the blocks' widths need {need}", packed.len()));
        }
        Ok(Layout { count, first, block, widths, references, packed })
    }
}

/// Decodes `blockpack` and then undoes `delta` (the pipeline `delta+blockpack`) in one pass:
/// each block's running sum is taken while the block is in L1 cache, instead of a second pass
/// over the whole chunk.
pub(crate) fn decode_delta_into(input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
    BlockPack.decode_blocks(input, width, out, true)
}

impl BlockPack {
    fn decode_blocks(&self, input: &[u8], width: usize, out: &mut [u8], running_sum: bool) -> DecodeResult<()> {
        let l = Layout::parse(input, width)?;
        if out.len() != l.count * width {
            return Err(format!("{} values, {} bytes to fill", l.count, out.len()));
        }
        if l.count == 0 {
            return Ok(());
        }
        let (first, out) = out.split_at_mut(width);
        first.copy_from_slice(&l.first[..width]);
        let mut sum = u64::from_le_bytes(l.first);
        let mut at = 0;
        for ((dst, &bits), r) in out.chunks_mut(l.block * width).zip(l.widths).zip(l.references.chunks_exact(width)) {
            let reference = load(r);
            if bits == 0 {
                fill(dst, width, reference);
            } else {
                // The rest of the stream goes in, not just this block's bytes: the grouped
                // unpacker loads 8 bytes at a time and may read (and mask off) the next block's
                // first bytes.
                unpack_into(&l.packed[at..], u32::from(bits), reference, width, dst);
                at += packed_len(dst.len() / width, u32::from(bits)).unwrap_or(0);
            }
            if running_sum {
                sum = super::delta::running_sum_in_place(dst, width, sum);
            }
        }
        Ok(())
    }
}

impl Codec for BlockPack {
    fn name(&self) -> &'static str {
        "blockpack"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if !matches!(width, 1 | 2 | 4 | 8) || !input.len().is_multiple_of(width) {
            return None;
        }
        let count = input.len() / width;
        let (first, input) = input.split_at(width.min(input.len()));
        let blocks: Vec<(u32, i64)> = input
            .chunks(BLOCK_VALUES * width)
            .map(|b| {
                let (min, max) = block_range(b, width);
                // max >= min, so the wrapped difference is the true range even across i64.
                (64 - (max.wrapping_sub(min) as u64).leading_zeros(), min)
            })
            .collect();
        let packed: usize = input.chunks(BLOCK_VALUES * width).zip(&blocks).map(|(b, &(bits, _))| packed_len(b.len() / width, bits).unwrap_or(0)).sum();
        out.reserve(HEADER + blocks.len() * (1 + width) + packed);
        out.extend_from_slice(&(count as u64).to_le_bytes());
        out.extend_from_slice(&(BLOCK_VALUES as u64).to_le_bytes());
        let mut first_value = [0u8; 8];
        first_value[..first.len()].copy_from_slice(first);
        out.extend_from_slice(&first_value);
        out.extend(blocks.iter().map(|&(bits, _)| bits as u8));
        for &(_, min) in &blocks {
            out.extend_from_slice(&min.to_le_bytes()[..width]);
        }
        for (b, &(bits, min)) in input.chunks(BLOCK_VALUES * width).zip(&blocks) {
            pack(b.chunks_exact(width).map(|c| load(c).wrapping_sub(min) as u64), bits, out);
        }
        Some(())
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        super::count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        self.decode_blocks(input, width, out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::{BlockPack, BLOCK_VALUES};
    use crate::codec::{test_support::round_trip, Codec, Stage};

    fn xorshift(r: &mut u64) -> u64 {
        *r ^= *r << 13;
        *r ^= *r >> 7;
        *r ^= *r << 17;
        *r
    }

    #[test]
    fn round_trips_every_width_and_partial_last_blocks() {
        let mut r = 0x2545_F491_4F6C_DD1Du64;
        for width in [1usize, 2, 4, 8] {
            for n in [0usize, 1, 7, 127, 128, 129, 1000, 4096 + 3] {
                // Blocks of every kind: constant, narrow, full-width, and extremes.
                let vals: Vec<u64> = (0..n)
                    .map(|i| match (i / BLOCK_VALUES) % 4 {
                        0 => 42,
                        1 => xorshift(&mut r) % 1000,
                        2 => xorshift(&mut r),
                        _ => {
                            if i % 2 == 0 {
                                u64::MAX >> (64 - 8 * width)
                            } else {
                                0
                            }
                        }
                    })
                    .collect();
                let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()[..width].to_vec()).collect();
                round_trip(&[Stage::BlockPack], &bytes, width).unwrap();
                // Decoded in one fused pass, into the output or (after transpose) a scratch buffer.
                round_trip(&[Stage::Delta, Stage::BlockPack], &bytes, width).unwrap();
                if n % 2 == 0 {
                    round_trip(&[Stage::Transpose(2), Stage::Delta, Stage::BlockPack], &bytes, width).unwrap();
                }
            }
        }
    }

    #[test]
    fn one_jump_costs_one_block_not_the_chunk() {
        // A smooth series of f64 bits (small deltas) with one sign flip in the middle: bitpack
        // takes the jump's width for every value, blockpack for one block.
        let mut x = 100.0f64;
        let bytes: Vec<u8> = (0..100_000)
            .flat_map(|i| {
                x += 0.001;
                if i == 50_000 {
                    x = -x;
                }
                x.to_le_bytes()
            })
            .collect();
        let blocked = round_trip(&[Stage::Delta, Stage::BlockPack], &bytes, 8).unwrap();
        let whole = round_trip(&[Stage::Delta, Stage::BitPack], &bytes, 8).unwrap();
        assert!(blocked * 3 < whole, "blockpack {blocked} bytes, bitpack {whole}");
    }

    #[test]
    fn the_first_value_does_not_widen_the_first_block() {
        // After `delta`, sequential ids are their start and then ones: every block is constant.
        let bytes: Vec<u8> = (0..1000i64).flat_map(|i| (1_000_000_000 + i).to_le_bytes()).collect();
        let n = round_trip(&[Stage::Delta, Stage::BlockPack], &bytes, 8).unwrap();
        assert_eq!(n, 24 + 999usize.div_ceil(BLOCK_VALUES) * (1 + 8));
    }

    #[test]
    fn every_truncation_and_flipped_byte_is_an_error_or_a_value_never_a_panic() {
        // Tests build with overflow checks: arithmetic on a hostile count or width would panic.
        let mut x = 0u64;
        let bytes: Vec<u8> = (0..700u64)
            .flat_map(|i| {
                x = x.wrapping_add(i * i % 977);
                x.to_le_bytes()
            })
            .collect();
        let mut enc = Vec::new();
        BlockPack.encode(&bytes, 8, &mut enc).unwrap();
        let mut out = vec![0u8; bytes.len()];
        for cut in 0..enc.len() {
            assert!(BlockPack.decode_into(&enc[..cut], 8, &mut out).is_err(), "cut at {cut}");
        }
        for at in 0..enc.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut e = enc.clone();
                e[at] ^= flip;
                let _ = BlockPack.decode_into(&e, 8, &mut out);
                let _ = super::decode_delta_into(&e, 8, &mut out);
            }
        }
    }

    #[test]
    fn rejects_bad_headers_widths_and_lengths() {
        let bytes: Vec<u8> = (0..300u32).flat_map(|v| (v * 7).to_le_bytes()).collect();
        let mut enc = Vec::new();
        BlockPack.encode(&bytes, 4, &mut enc).unwrap();
        let mut out = vec![0u8; bytes.len()];
        BlockPack.decode_into(&enc, 4, &mut out).unwrap();
        assert_eq!(out, bytes);
        let bad = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut e = enc.clone();
            f(&mut e);
            BlockPack.decode_into(&e, 4, &mut vec![0u8; bytes.len()]).unwrap_err()
        };
        assert!(bad(&|e| e[8] = 12).contains("multiple of 8"));
        assert!(bad(&|e| e[8] = 0).contains("multiple of 8"));
        assert!(bad(&|e| e[13] = 1).contains("not zero"));
        assert!(bad(&|e| e[20] = 1).contains("first value"));
        assert!(bad(&|e| e[24] = 33).contains("over 32"));
        assert!(bad(&|e| e[24] += 1).contains("packed bytes"));
        assert!(bad(&|e| e.truncate(e.len() - 1)).contains("packed bytes"));
        assert!(bad(&|e| e.truncate(28)).contains("blocks need"));
        assert!(bad(&|e| e[0..8].copy_from_slice(&u64::MAX.to_le_bytes())).contains("blocks need"));
        assert!(BlockPack.decode_into(&enc, 3, &mut out).unwrap_err().contains("1, 2, 4 or 8"));
        assert!(BlockPack.decode_into(&enc[..20], 4, &mut out).unwrap_err().contains("truncated"));
    }
}
