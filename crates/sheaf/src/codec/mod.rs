//! Codecs: small byte-to-byte stages that compose into a per-buffer pipeline, one file per codec,
//! and an explicit registry from the numeric ids of `spec/codecs.md` to implementations.
//!
//! Every stage sees the buffer as a run of values `width` bytes wide (the column's unit width)
//! and can tell, from its own encoded bytes, how long its output will be; decoding checks that
//! length against a bound before allocating, so no encoded buffer can make a reader allocate more
//! than the file's declared sizes justify.

mod auto;
mod bitpack;
mod blockpack;
mod constant;
mod decimal;
mod delta;
mod dictionary;
mod dictionary_ans;
mod lz4;
mod pco;
mod shuffle;
mod transpose;
mod zstd;

pub(crate) use auto::{choose_pipelines, encode_with_fallback, Pipelines};
pub use pco::kinds as pco_kinds;
pub use pco::PcoChoice;

use crate::format::MAX_STAGES;

/// Numeric codec ids, fixed forever by the spec. 0 ends a stage list; 128..=255 are private.
pub mod ids {
    /// Byte-stream split (shuffle).
    pub const SHUFFLE: u8 = 1;
    /// Delta of consecutive integers.
    pub const DELTA: u8 = 2;
    /// Frame of reference plus bit packing.
    pub const BITPACK: u8 = 3;
    /// One value repeated.
    pub const CONSTANT: u8 = 4;
    /// Dictionary of distinct values plus bit-packed indices.
    pub const DICTIONARY: u8 = 5;
    /// Rows of several values into one stream per value position.
    pub const TRANSPOSE: u8 = 6;
    /// Exact decimal floats as scaled integers.
    pub const DECIMAL: u8 = 7;
    /// Dictionary with pcodec-coded indices.
    pub const DICTIONARY_PCO: u8 = 8;
    /// Frame of reference plus bit packing per block of values.
    pub const BLOCKPACK: u8 = 9;
    /// Dictionary with tANS-coded indices.
    pub const DICTIONARY_ANS: u8 = 10;
    /// Dictionary with tANS-coded tuples of consecutive indices.
    pub const TUPLE_ANS: u8 = 11;
    /// Zstandard frame.
    pub const ZSTD: u8 = 16;
    /// LZ4 block with its decoded length in front.
    pub const LZ4: u8 = 17;
    /// pcodec numeric compression.
    pub const PCO: u8 = 18;
}

/// Why a stage could not decode its input (the caller adds column, chunk and offset).
pub(crate) type DecodeResult<T> = std::result::Result<T, String>;

/// One stage of a pipeline.
pub(crate) trait Codec: Sync {
    /// The codec's name in the spec.
    fn name(&self) -> &'static str;
    /// Encodes `input` (values `width` bytes wide) onto `out`; `None` if the codec does not apply
    /// to this data or width.
    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()>;
    /// The decoded length promised by the encoded bytes.
    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize>;
    /// Decodes into `out`, whose length is [`Codec::decoded_len`].
    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()>;
    /// Decodes only the values at `positions` (indices of `width`-byte values) into `out`, one
    /// after another, without decoding the others; `None` where the codec has no random access
    /// (the caller decodes the whole buffer instead). A position past the end is an error.
    fn take_into(&self, _input: &[u8], _width: usize, _positions: &[usize], _out: &mut [u8]) -> Option<DecodeResult<()>> {
        None
    }
}

/// A codec stage with its encode-time parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Byte-stream split.
    Shuffle,
    /// Delta of consecutive integers (width 1, 2, 4 or 8).
    Delta,
    /// Frame of reference plus bit packing (width 1, 2, 4 or 8).
    BitPack,
    /// Frame of reference plus bit packing per block of values (width 1, 2, 4 or 8).
    BlockPack,
    /// One repeated value.
    Constant,
    /// Dictionary plus bit-packed indices.
    Dictionary,
    /// Dictionary with indices of 8 or 16 bits (same id and format as `Dictionary`), for an
    /// entropy coder to follow.
    ByteDictionary,
    /// Rows of this many values into one stream per position.
    Transpose(usize),
    /// Floats that are exact decimals as the integers they scale from.
    Decimal,
    /// Dictionary whose indices pcodec codes, at a pcodec level (encode-time only).
    DictionaryPco(u8),
    /// Dictionary (values of up to 8 bytes, at most 4,096 distinct) whose indices are
    /// entropy-coded by tANS (or `tuple-ans`, where tuples of them code about as small), with the
    /// smallest table within 1% of the smallest size (a smaller table decodes faster).
    DictionaryAns,
    /// `DictionaryAns` with the table that codes smallest (same ids and format), for
    /// `smallest`.
    DictionaryAnsSmallest,
    /// Zstandard at a level.
    Zstd(i32),
    /// LZ4 block.
    Lz4,
    /// pcodec with the numeric type id of `pco_kinds`, the data cut into `parts` equal chunks
    /// each with its own model (the components after a `transpose`), at a pcodec compression
    /// level (0..=12), with pcodec's per-chunk choices searched for or fixed (encode-time
    /// only).
    Pco(u8, usize, u8, PcoChoice),
}

impl Stage {
    /// The stage's id in the file.
    #[must_use]
    pub fn id(self) -> u8 {
        match self {
            Stage::Shuffle => ids::SHUFFLE,
            Stage::Delta => ids::DELTA,
            Stage::BitPack => ids::BITPACK,
            Stage::BlockPack => ids::BLOCKPACK,
            Stage::Constant => ids::CONSTANT,
            Stage::Dictionary | Stage::ByteDictionary => ids::DICTIONARY,
            Stage::Transpose(_) => ids::TRANSPOSE,
            Stage::Decimal => ids::DECIMAL,
            Stage::DictionaryPco(_) => ids::DICTIONARY_PCO,
            Stage::DictionaryAns | Stage::DictionaryAnsSmallest => ids::DICTIONARY_ANS,
            Stage::Zstd(_) => ids::ZSTD,
            Stage::Lz4 => ids::LZ4,
            Stage::Pco(..) => ids::PCO,
        }
    }

    /// `dictionary-ans` with either table choice.
    pub(crate) fn is_dictionary_ans(self) -> bool {
        matches!(self, Stage::DictionaryAns | Stage::DictionaryAnsSmallest)
    }

    /// Whether this stage codes values by a dictionary of the distinct ones (each kind has an
    /// entry limit past which it declines).
    pub(crate) fn is_dictionary(self) -> bool {
        matches!(self, Stage::Dictionary | Stage::ByteDictionary | Stage::DictionaryPco(_)) || self.is_dictionary_ans()
    }

    fn encode(self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        match self {
            Stage::Zstd(level) => zstd::encode(input, level, out),
            Stage::Transpose(k) => transpose::encode(input, width, k, out),
            Stage::Pco(kind, parts, level, choice) => pco::encode(input, width, kind, parts, level, choice, out),
            Stage::ByteDictionary => dictionary::encode(input, width, true, out),
            Stage::DictionaryPco(level) => dictionary::encode_pco(input, width, level, out),
            other => codec(other.id())?.encode(input, width, out),
        }
    }
}

/// The registry: an implementation for each id this reader knows.
pub(crate) fn codec(id: u8) -> Option<&'static dyn Codec> {
    Some(match id {
        ids::SHUFFLE => &shuffle::Shuffle,
        ids::DELTA => &delta::Delta,
        ids::BITPACK => &bitpack::BitPack,
        ids::BLOCKPACK => &blockpack::BlockPack,
        ids::CONSTANT => &constant::Constant,
        ids::DICTIONARY => &dictionary::Dictionary,
        ids::TRANSPOSE => &transpose::Transpose,
        ids::DECIMAL => &decimal::Decimal,
        ids::DICTIONARY_PCO => &dictionary::DictionaryPco,
        ids::DICTIONARY_ANS => &dictionary_ans::DictionaryAns,
        ids::TUPLE_ANS => &dictionary_ans::TupleAns,
        ids::ZSTD => &zstd::Zstd,
        ids::LZ4 => &lz4::Lz4,
        ids::PCO => &pco::Pco,
        _ => return None,
    })
}

/// The name of a stage list, `none` when empty: `shuffle+zstd`.
#[must_use]
pub fn pipeline_name(ids: &[u8]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let names: Vec<String> = ids.iter().map(|&i| codec(i).map_or_else(|| format!("#{i}"), |c| c.name().to_string())).collect();
    names.join("+")
}

/// Whether a buffer coded by pipeline `ids` can be decoded at chosen positions alone
/// ([`take_pipeline`]).
pub(crate) fn has_random_access(ids: &[u8]) -> bool {
    matches!(ids, [ids::BITPACK | ids::DICTIONARY | ids::CONSTANT])
}

/// The values at `positions` of a stored buffer whose pipeline is `ids`, decoded without the
/// rest: `None` unless the pipeline is one stage with random access (`bitpack`, `dictionary`,
/// `constant`). `decoded_len` is the buffer's declared decoded length, checked as a whole decode
/// checks it.
pub(crate) fn take_pipeline(ids: &[u8], stored: &[u8], width: usize, decoded_len: u64, positions: &[usize], out: &mut [u8]) -> Option<Result<(), PipelineError>> {
    let &[id] = ids else { return None };
    let c = codec(id).filter(|_| has_random_access(ids))?;
    let fail = |e: String| PipelineError::Failed(c.name(), e);
    let result = c.take_into(stored, width, positions, out)?;
    Some(match c.decoded_len(stored, width) {
        Err(e) => Err(fail(e)),
        Ok(len) if len as u64 != decoded_len => Err(fail(format!("decodes to {len} bytes, the chunk declares {decoded_len}"))),
        Ok(_) => result.map_err(fail),
    })
}

/// Checks that `out` holds one `width`-byte value per position and that every position is below
/// `count`: what each codec's random access relies on.
pub(crate) fn check_positions(positions: &[usize], count: usize, width: usize, out: &[u8]) -> DecodeResult<()> {
    if out.len() != positions.len().saturating_mul(width) {
        return Err(format!("{} positions do not fill {} bytes", positions.len(), out.len()));
    }
    match positions.iter().find(|&&p| p >= count) {
        Some(p) => Err(format!("value {p} asked for, the buffer holds {count}")),
        None => Ok(()),
    }
}

/// Runs `stages` over `input`. `None` if a stage does not apply.
pub(crate) fn encode_pipeline(stages: &[Stage], input: &[u8], width: usize) -> Option<(Vec<u8>, [u8; MAX_STAGES])> {
    let mut ids = [0u8; MAX_STAGES];
    if stages.len() > MAX_STAGES {
        return None;
    }
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < stages.len() {
        let mut next = Vec::new();
        let src: &[u8] = if i == 0 { input } else { &cur };
        ids[i] = stages[i].id();
        // `delta+dictionary-ans` in one pass, as it is decoded. The coder picks the id:
        // `dictionary-ans`, or `tuple-ans` where tuples of values code about as small.
        let smallest = |s: Stage| s == Stage::DictionaryAnsSmallest;
        if stages[i] == Stage::Delta && stages.get(i + 1).is_some_and(|s| s.is_dictionary_ans()) {
            i += 1;
            ids[i] = dictionary_ans::encode_delta(src, width, smallest(stages[i]), &mut next)?;
        } else if stages[i].is_dictionary_ans() {
            ids[i] = dictionary_ans::encode(src, width, smallest(stages[i]), &mut next)?;
        } else {
            stages[i].encode(src, width, &mut next)?;
        }
        cur = next;
        i += 1;
    }
    if stages.is_empty() {
        cur = input.to_vec();
    }
    Some((cur, ids))
}

/// Errors of a pipeline decode, before the caller adds where it happened.
#[derive(Debug)]
pub(crate) enum PipelineError {
    Unknown(u8),
    Failed(&'static str, String),
}

thread_local! {
    /// Two buffers per thread for the intermediate results of multi-stage pipelines: reused from
    /// chunk to chunk, so decoding touches warm memory instead of faulting in fresh pages.
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Decodes `stored` through the stage ids (applied in order when encoding, so undone in reverse)
/// into `out`, whose length is the buffer's declared decoded length.
pub(crate) fn decode_pipeline(ids: &[u8], stored: &[u8], width: usize, out: &mut [u8]) -> Result<(), PipelineError> {
    let (mut a, mut b) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let r = decode_with(ids, stored, width, out, &mut a, &mut b);
    SCRATCH.with(|s| *s.borrow_mut() = (a, b));
    r
}

fn decode_with(ids: &[u8], stored: &[u8], width: usize, out: &mut [u8], cur: &mut Vec<u8>, next: &mut Vec<u8>) -> Result<(), PipelineError> {
    // No intermediate result may exceed this: every stage at most keeps the size plus a header.
    let bound = out.len().saturating_mul(2).saturating_add(1 << 20);
    let mut k = ids.len();
    while k > 0 {
        k -= 1;
        let id = ids[k];
        let c = codec(id).ok_or(PipelineError::Unknown(id))?;
        let src: &[u8] = if k + 1 == ids.len() { stored } else { cur };
        // `blockpack` over `delta` in one pass (their output lengths are equal): saves a pass
        // over the chunk, a third of decoding smooth floats.
        // Likewise `dictionary-ans` over `delta`.
        let fused = matches!(id, ids::BLOCKPACK | ids::DICTIONARY_ANS | ids::TUPLE_ANS) && k >= 1 && ids[k - 1] == ids::DELTA;
        if fused {
            k -= 1;
        }
        let decode = |src: &[u8], out: &mut [u8]| match (fused, id) {
            (true, ids::BLOCKPACK) => blockpack::decode_delta_into(src, width, out),
            (true, _) => dictionary_ans::decode_delta_into(src, width, id == ids::TUPLE_ANS, out),
            _ => c.decode_into(src, width, out),
        };
        let fail = |e: String| PipelineError::Failed(c.name(), e);
        let len = c.decoded_len(src, width).map_err(fail)?;
        if k == 0 {
            if len != out.len() {
                return Err(fail(format!("decodes to {len} bytes, the chunk declares {}", out.len())));
            }
            decode(src, out).map_err(fail)?;
            return Ok(());
        }
        if len > bound {
            return Err(fail(format!("intermediate length {len} is over the bound {bound}")));
        }
        // Every codec writes all of its output, so stale bytes from an earlier chunk never show.
        next.resize(len, 0);
        decode(src, &mut next[..len]).map_err(fail)?;
        std::mem::swap(cur, next);
    }
    // No stages: plain bytes.
    if stored.len() != out.len() {
        return Err(PipelineError::Failed("none", format!("{} bytes stored, {} declared", stored.len(), out.len())));
    }
    out.copy_from_slice(stored);
    Ok(())
}

/// The unsigned little-endian integer of the first W (<= 8) bytes of `v`, W fixed at compile
/// time (a copy of a run-time length costs a call to memcpy per value).
pub(crate) fn le_uint<const W: usize>(v: &[u8]) -> u64 {
    let mut pad = [0u8; 8];
    pad[..W].copy_from_slice(&v[..W]);
    u64::from_le_bytes(pad)
}

/// Reads a little-endian u64 at `at`, if there.
pub(crate) fn le_u64(b: &[u8], at: usize) -> DecodeResult<u64> {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes).ok_or_else(|| format!("header truncated at byte {at}"))
}

/// Converts a length from the file to usize.
pub(crate) fn to_usize(n: u64) -> DecodeResult<usize> {
    usize::try_from(n).map_err(|_| format!("length {n} does not fit in memory"))
}

/// Checks `count * width` against the caller's promise.
pub(crate) fn count_bytes(count: u64, width: usize) -> DecodeResult<usize> {
    to_usize(count)?.checked_mul(width).ok_or_else(|| format!("{count} values of {width} bytes overflow"))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Encodes and decodes through `stages`, asserting the bytes come back.
    pub(crate) fn round_trip(stages: &[Stage], input: &[u8], width: usize) -> Option<usize> {
        let (enc, ids) = encode_pipeline(stages, input, width)?;
        let n = ids.iter().position(|&i| i == 0).unwrap_or(MAX_STAGES);
        let mut out = vec![0u8; input.len()];
        decode_pipeline(&ids[..n], &enc, width, &mut out).unwrap();
        assert_eq!(out, input, "{stages:?} width {width}");
        // Decoders must write every byte of their output, the last stage's and the scratch
        // buffers' alike: the reader hands them memory that still holds an earlier read's bytes.
        let stale = vec![0xA5u8; 2 * input.len() + 64];
        SCRATCH.with(|s| *s.borrow_mut() = (stale.clone(), stale.clone()));
        let mut out = vec![0xA5u8; input.len()];
        decode_pipeline(&ids[..n], &enc, width, &mut out).unwrap();
        assert_eq!(out, input, "{stages:?} width {width}, decoded over stale bytes");
        let ids = &ids[..n];
        if has_random_access(ids) && width > 0 {
            // Every value backwards, then the first twice: each as the whole decode gave it.
            let count = input.len() / width;
            let positions: Vec<usize> = (0..count).rev().chain([0, 0].into_iter().filter(|_| count > 0)).collect();
            let mut got = vec![0u8; positions.len() * width];
            take_pipeline(ids, &enc, width, input.len() as u64, &positions, &mut got).unwrap().unwrap();
            let want: Vec<u8> = positions.iter().flat_map(|&p| input[p * width..(p + 1) * width].iter().copied()).collect();
            assert_eq!(got, want, "{stages:?} width {width}, taken at positions");
            let mut one = vec![0u8; width];
            assert!(take_pipeline(ids, &enc, width, input.len() as u64, &[count], &mut one).unwrap().is_err(), "a position past the end");
            assert!(take_pipeline(ids, &enc, width, input.len() as u64 + 1, &[], &mut []).unwrap().is_err(), "a wrong declared length");
        }
        Some(enc.len())
    }
}
