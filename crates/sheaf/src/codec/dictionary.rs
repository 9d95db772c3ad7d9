//! `dictionary` (id 5): the distinct values (at most 65,536, in order of first appearance) and,
//! for each value, its index bit-packed in the fewest bits. Pays for low-cardinality columns of
//! any width (symbols, categories, masses). Spec: `spec/codecs.md#dictionary`.

use std::collections::HashMap;

use super::bitpack::{pack, packed_len, unpack_one};
use super::{count_bytes, le_u64, to_usize, Codec, DecodeResult};

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
        let entry = |code: usize| dict.get(code * width..code * width + width).ok_or_else(|| format!("code {code} out of {entries} entries"));
        if bits == 8 {
            // Byte-aligned codes (the form an entropy stage follows): one byte a value.
            for (dst, &code) in out.chunks_exact_mut(width).zip(packed) {
                dst.copy_from_slice(entry(usize::from(code))?);
            }
            return Ok(());
        }
        for (i, dst) in out.chunks_exact_mut(width).enumerate() {
            dst.copy_from_slice(entry(unpack_one(packed, bits, i) as usize)?);
        }
        Ok(())
    }
}

/// Encodes `input` as a dictionary plus codes; `aligned` rounds the code width up to 8 or 16
/// bits, so that a following entropy coder (zstd's Huffman stage) sees one symbol per code
/// instead of codes straddling bytes. Readers need not know: the width is in the header.
pub(crate) fn encode(input: &[u8], width: usize, aligned: bool, out: &mut Vec<u8>) -> Option<()> {
    if width == 0 || input.len() % width != 0 {
        return None;
    }
    let mut index: HashMap<&[u8], u32> = HashMap::new();
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut codes = Vec::with_capacity(input.len() / width);
    for v in input.chunks_exact(width) {
        let next = entries.len() as u32;
        let code = *index.entry(v).or_insert_with(|| {
            entries.push(v);
            next
        });
        if entries.len() > MAX_ENTRIES {
            return None;
        }
        codes.push(u64::from(code));
    }
    let needed = 64 - (entries.len().saturating_sub(1) as u64).leading_zeros();
    let bits = match (aligned, needed) {
        (false, n) => n,
        (true, 0..=8) => 8,
        (true, _) => 16,
    };
    out.extend_from_slice(&(codes.len() as u64).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    out.extend_from_slice(&[bits as u8, 0, 0, 0, 0, 0, 0, 0]);
    for e in &entries {
        out.extend_from_slice(e);
    }
    pack(codes.into_iter(), bits, out);
    Some(())
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_wide_values() {
        let syms: [&[u8; 8]; 3] = [b"AAPL\0\0\0\0", b"MSFT\0\0\0\0", b"X\0\0\0\0\0\0\0"];
        let data: Vec<u8> = (0..3000).flat_map(|i| syms[i * 7 % 3].to_vec()).collect();
        let n = round_trip(&[Stage::Dictionary], &data, 8).unwrap();
        assert!(n < 24 + 24 + 3000 / 4 + 1, "{n}");
        let aligned = round_trip(&[Stage::ByteDictionary], &data, 8).unwrap();
        assert_eq!(aligned, 24 + 24 + 3000, "one byte a code");
        round_trip(&[Stage::Dictionary], &[], 8).unwrap();
    }
}
