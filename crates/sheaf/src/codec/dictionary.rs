//! `dictionary` (id 5): the distinct values (at most 65,536, in order of first appearance) and,
//! for each value, its index bit-packed in the fewest bits. Pays for low-cardinality columns of
//! any width (symbols, categories, masses). Spec: `spec/codecs.md#dictionary`.

use std::collections::HashMap;

use super::bitpack::{pack, packed_len, unpack_into, unpack_one};
use super::{check_positions, count_bytes, le_u64, to_usize, Codec, DecodeResult};

pub(crate) struct Dictionary;

/// Most distinct values a dictionary holds.
const MAX_ENTRIES: usize = 1 << 16;
const HEADER: usize = 24;

impl Codec for Dictionary {
    fn name(&self) -> &'static str {
        "dictionary"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        encode(input, width, false, out)
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let (count, bits, dict, packed) = parse(input, width)?;
        if out.len() != count.checked_mul(width).ok_or("size overflows")? {
            return Err(format!("{count} values do not fill {} bytes", out.len()));
        }
        if bits == 8 {
            // Byte-aligned codes (the form an entropy stage follows): one byte a value.
            return expand(packed, dict, width, out);
        }
        let mut codes = vec![0u16; count];
        unpack_into(packed, bits, 0, 2, bytemuck::cast_slice_mut(&mut codes));
        expand(&codes, dict, width, out)
    }

    fn take_into(&self, input: &[u8], width: usize, positions: &[usize], out: &mut [u8]) -> Option<DecodeResult<()>> {
        Some(parse(input, width).and_then(|(count, bits, dict, packed)| {
            check_positions(positions, count, width, out)?;
            let codes: Vec<u16> = positions.iter().map(|&p| unpack_one(packed, bits, p) as u16).collect();
            expand(&codes, dict, width, out)
        }))
    }
}

/// The parts of an encoded buffer, checked against its length: count, code width, the
/// dictionary's entries and the packed codes.
fn parse(input: &[u8], width: usize) -> DecodeResult<(usize, u32, &[u8], &[u8])> {
    let count = to_usize(le_u64(input, 0)?)?;
    let entries = to_usize(le_u64(input, 8)?)?;
    let bits = u32::from(*input.get(16).ok_or("header truncated")?);
    if entries > MAX_ENTRIES || bits > 16 {
        return Err(format!("{entries} entries of {bits}-bit codes is over the limit"));
    }
    let dict_len = entries.checked_mul(width).ok_or("dictionary size overflows")?;
    let dict = input.get(HEADER..HEADER + dict_len).ok_or("dictionary truncated")?;
    let packed = &input[HEADER + dict_len..];
    let need = packed_len(count, bits).ok_or("packed length overflows")?;
    if packed.len() != need {
        return Err(format!("{} bytes of codes, {count} codes of {bits} bits need {need}", packed.len()));
    }
    if count > 0 && entries == 0 {
        return Err("empty dictionary with values to decode".into());
    }
    Ok((count, bits, dict, packed))
}

/// Writes the dictionary entry of each code to `out`, after checking once that every code has
/// an entry. Entries of a number's width are copied as fixed-size values (a copy of a run-time
/// length per value costs a call to memcpy each).
fn expand<C: Copy + Into<usize> + Ord>(codes: &[C], dict: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
    let entries = dict.len() / width.max(1);
    if let Some(&max) = codes.iter().max() {
        if max.into() >= entries {
            return Err(format!("code {} out of {entries} entries", max.into()));
        }
    }
    fn fixed<C: Copy + Into<usize>, const W: usize>(codes: &[C], dict: &[u8], out: &mut [u8]) {
        for (dst, &code) in out.chunks_exact_mut(W).zip(codes) {
            let at = code.into() * W;
            dst.copy_from_slice(&dict[at..at + W]);
        }
    }
    match width {
        0 => {}
        1 => {
            // A table of every possible byte code: no bounds check per value (codes were
            // checked above, and one-byte values have at most 256 entries).
            let mut table = [0u8; 256];
            let n = dict.len().min(256);
            table[..n].copy_from_slice(&dict[..n]);
            for (dst, &code) in out.iter_mut().zip(codes) {
                *dst = table[code.into() & 255];
            }
        }
        2 => fixed::<C, 2>(codes, dict, out),
        // Short strings (`S3` airport codes, `S6` tail numbers) as well as numbers.
        3 => fixed::<C, 3>(codes, dict, out),
        4 => fixed::<C, 4>(codes, dict, out),
        5 => fixed::<C, 5>(codes, dict, out),
        6 => fixed::<C, 6>(codes, dict, out),
        7 => fixed::<C, 7>(codes, dict, out),
        8 => fixed::<C, 8>(codes, dict, out),
        12 => fixed::<C, 12>(codes, dict, out),
        16 => fixed::<C, 16>(codes, dict, out),
        _ => {
            for (dst, &code) in out.chunks_exact_mut(width).zip(codes) {
                let at = code.into() * width;
                dst.copy_from_slice(&dict[at..at + width]);
            }
        }
    }
    Ok(())
}

/// The distinct values of `input` in order of first appearance, and each value's index; `None`
/// past [`MAX_ENTRIES`]. Values of up to 8 bytes are hashed as one integer.
fn index(input: &[u8], width: usize) -> Option<(Vec<&[u8]>, Vec<u16>)> {
    if width == 0 || !input.len().is_multiple_of(width) {
        return None;
    }
    // Up to 8 bytes, the value as one integer.
    use super::le_uint as integer;
    match width {
        1 => index_by(input, width, integer::<1>),
        2 => index_by(input, width, integer::<2>),
        3 => index_by(input, width, integer::<3>),
        4 => index_by(input, width, integer::<4>),
        5 => index_by(input, width, integer::<5>),
        6 => index_by(input, width, integer::<6>),
        7 => index_by(input, width, integer::<7>),
        8 => index_by(input, width, integer::<8>),
        _ => index_by(input, width, |v: &[u8]| v),
    }
}

fn index_by<'a, K: std::hash::Hash + Eq>(input: &'a [u8], width: usize, mut key: impl FnMut(&'a [u8]) -> K) -> Option<(Vec<&'a [u8]>, Vec<u16>)> {
    let mut index: HashMap<K, u16, ahash::RandomState> = HashMap::default();
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut codes = Vec::with_capacity(input.len() / width);
    for v in input.chunks_exact(width) {
        let next = entries.len();
        let code = *index.entry(key(v)).or_insert_with(|| {
            entries.push(v);
            u16::try_from(next).unwrap_or(u16::MAX)
        });
        if entries.len() > MAX_ENTRIES {
            return None;
        }
        codes.push(code);
    }
    Some((entries, codes))
}

fn header(count: usize, entries: &[&[u8]], byte16: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(&(count as u64).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    out.extend_from_slice(&[byte16, 0, 0, 0, 0, 0, 0, 0]);
    for e in entries {
        out.extend_from_slice(e);
    }
}

/// Encodes `input` as a dictionary plus codes; `aligned` rounds the code width up to 8 or 16
/// bits, so that a following entropy coder (zstd's Huffman stage) sees one symbol per code
/// instead of codes straddling bytes. Readers need not know: the width is in the header.
pub(crate) fn encode(input: &[u8], width: usize, aligned: bool, out: &mut Vec<u8>) -> Option<()> {
    let (entries, codes) = index(input, width)?;
    let needed = 64 - (entries.len().saturating_sub(1) as u64).leading_zeros();
    let bits = match (aligned, needed) {
        (false, n) => n,
        (true, 0..=8) => 8,
        (true, _) => 16,
    };
    header(codes.len(), &entries, bits as u8, out);
    pack(codes.into_iter().map(u64::from), bits, out);
    Some(())
}

/// The length [`encode`] (bit-packed indices) writes for `count` values of `width` bytes with
/// `entries` distinct ones: sized without encoding, from a count of distinct values made anyway.
pub(crate) fn encoded_len(count: usize, entries: usize, width: usize) -> usize {
    let bits = 64 - (entries.saturating_sub(1) as u64).leading_zeros();
    HEADER + entries * width + (count * bits as usize).div_ceil(8)
}

/// `dictionary-pco` (id 8): the same dictionary, its indices coded by pcodec as u16 numbers,
/// which models their frequencies (a column of a few hundred airport codes, tail numbers)
/// close to the entropy, where bit packing spends the same bits on every index.
pub(crate) struct DictionaryPco;

/// Encodes `input` as a dictionary with pcodec-coded indices, pcodec at `level`.
pub(crate) fn encode_pco(input: &[u8], width: usize, level: u8, out: &mut Vec<u8>) -> Option<()> {
    let (entries, codes) = index(input, width)?;
    // Most frequent first: the index distribution then falls off from 0, which pcodec's bins
    // (ranges of indices) follow far better than the order of first appearance.
    let mut counts = vec![0u64; entries.len()];
    for &c in &codes {
        counts[usize::from(c)] += 1;
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&e| std::cmp::Reverse(counts[e]));
    let mut rank = vec![0u16; entries.len()];
    for (r, &e) in order.iter().enumerate() {
        rank[e] = r as u16;
    }
    let entries: Vec<&[u8]> = order.iter().map(|&e| entries[e]).collect();
    let codes: Vec<u16> = codes.iter().map(|&c| rank[usize::from(c)]).collect();
    header(codes.len(), &entries, 0, out);
    out.extend_from_slice(&super::pco::compress_u16(&codes, level)?);
    Some(())
}

impl Codec for DictionaryPco {
    fn name(&self) -> &'static str {
        "dictionary-pco"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        encode_pco(input, width, 8, out)
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let count = to_usize(le_u64(input, 0)?)?;
        let entries = to_usize(le_u64(input, 8)?)?;
        if entries > MAX_ENTRIES {
            return Err(format!("{entries} entries is over the limit"));
        }
        if count > 0 && entries == 0 {
            return Err("empty dictionary with values to decode".into());
        }
        let dict_len = entries.checked_mul(width).ok_or("dictionary size overflows")?;
        let dict = input.get(HEADER..HEADER + dict_len).ok_or("dictionary truncated")?;
        if out.len() != count.checked_mul(width).ok_or("size overflows")? {
            return Err(format!("{count} values do not fill {} bytes", out.len()));
        }
        let mut codes = vec![0u16; count];
        super::pco::decompress_u16(&input[HEADER + dict_len..], &mut codes)?;
        expand(&codes, dict, width, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn encoded_len_is_the_length_encode_writes() {
        for (entries, count, width) in [(1usize, 1000usize, 8usize), (2, 7, 3), (3, 1001, 2), (256, 5000, 1), (257, 5000, 2), (4096, 9000, 8), (5000, 6000, 6)] {
            let data: Vec<u8> = (0..count).flat_map(|i| ((i * 7919) % entries).to_le_bytes()[..width].to_vec()).collect();
            let mut out = Vec::new();
            super::encode(&data, width, false, &mut out).unwrap();
            assert_eq!(super::encoded_len(count, entries.min(count), width), out.len(), "{entries} entries, {count} values of {width} bytes");
        }
    }

    #[test]
    fn round_trips_wide_values() {
        let syms: [&[u8; 8]; 3] = [b"AAPL\0\0\0\0", b"MSFT\0\0\0\0", b"X\0\0\0\0\0\0\0"];
        let data: Vec<u8> = (0..3000).flat_map(|i| syms[i * 7 % 3].to_vec()).collect();
        let n = round_trip(&[Stage::Dictionary], &data, 8).unwrap();
        assert!(n < 24 + 24 + 3000 / 4 + 1, "{n}");
        let aligned = round_trip(&[Stage::ByteDictionary], &data, 8).unwrap();
        assert_eq!(aligned, 24 + 24 + 3000, "one byte a code");
        let modelled = round_trip(&[Stage::DictionaryPco(8)], &data, 8).unwrap();
        assert!(modelled < 24 + 24 + 3000 / 4, "{modelled}");
        round_trip(&[Stage::DictionaryPco(8)], &[], 8).unwrap();
        round_trip(&[Stage::Dictionary], &[], 8).unwrap();
    }

    #[test]
    fn round_trips_every_width_and_refuses_a_code_without_an_entry() {
        use crate::codec::Codec;
        for width in [1usize, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24] {
            // 40 distinct values: 6-bit codes; and 300 (9-bit codes) where the width allows.
            for distinct in [40usize, 300] {
                if width == 1 && distinct > 256 {
                    continue;
                }
                let data: Vec<u8> = (0..5000)
                    .flat_map(|i| {
                        let v = (i * 7919 % distinct) as u64;
                        (0..width).map(move |b| (v >> (8 * (b % 8))) as u8 ^ b as u8)
                    })
                    .collect();
                for stage in [Stage::Dictionary, Stage::ByteDictionary, Stage::DictionaryPco(8)] {
                    round_trip(&[stage], &data, width).unwrap();
                }
            }
        }
        // Two one-byte entries, 1-bit codes. With the header saying one entry and the second
        // entry cut out, code 1 has no entry.
        let data: Vec<u8> = (0..64).map(|i| (i % 2) as u8).collect();
        let mut enc = Vec::new();
        super::encode(&data, 1, false, &mut enc).unwrap();
        enc[8] = 1;
        enc.remove(super::HEADER + 1);
        let err = super::Dictionary.decode_into(&enc, 1, &mut [0u8; 64]).unwrap_err();
        assert!(err.contains("out of 1 entries"), "{err}");
    }
}
