//! `dictionary-ans` (id 10): the distinct values of a buffer (at most 4,096, each at most 8
//! bytes) in ascending order, and each value's index entropy-coded by tabled asymmetric numeral
//! systems (tANS) in four interleaved states. It codes small-range integer columns (delays,
//! times of day, deltas of timestamps: what pcodec was chosen for) at their order-0 entropy, and
//! decodes a value with one table lookup and a few bit operations, several times faster than
//! pcodec. `tuple-ans` (id 11) is the same coder over tuples of 2 to 4 consecutive indices, one
//! symbol a tuple: where few distinct values follow one another in patterns (days, hours,
//! carriers, airports), a lookup yields several values and the coder sees their correlation.
//! Spec: `spec/codecs.md#dictionary-ans`, `spec/codecs.md#tuple-ans`.

use std::collections::BinaryHeap;

use super::{count_bytes, le_u64, Codec, DecodeResult};

mod decode;
use decode::decode;
pub(crate) use decode::decode_delta_into;
#[cfg(test)]
use decode::parse;

pub(crate) struct DictionaryAns;

/// `tuple-ans` (id 11): `dictionary-ans` whose symbols are tuples of consecutive indices.
pub(crate) struct TupleAns;

const HEADER: usize = 24;
/// Most distinct values: beyond a few thousand, the frequency table costs more than the coder
/// saves over a byte codec, and the decode table leaves the L1 cache.
const MAX_ENTRIES: usize = 4096;
/// Largest table log: a decode table entry packs symbol, bit count and next-state base into 32
/// bits (14 + 4 + 14).
const MAX_LOG: u32 = 14;
/// Interleaved coder states: the decoder's table lookups for the four are independent, so they
/// overlap in the CPU; four symbols take at most 56 bits, one 64-bit load.
const LANES: usize = 4;
/// A table log larger than needed must save at least 1/100 of the size to be chosen: larger
/// tables take longer to build and leave the L1 cache (on flights, 1/100 against 1/500 makes a
/// file 0.45% larger that decodes 8% faster).
const LOG_SLACK: f64 = 1.01;
/// The same for `smallest`, which wants the smallest file.
const LOG_SLACK_SMALLEST: f64 = 1.002;
/// `auto` also charges a table this many bits a slot. Building the decode table takes about as
/// long a slot as decoding a symbol: where a buffer has few symbols for its table (a
/// near-constant column's tuples, a short last chunk), a large table doubled the decoding time
/// to save a few bytes. (On flights' month column, 2^14 slots for 18,658 symbols.) On long
/// buffers the charge is a sliver of the size and [`LOG_SLACK`] decides.
const SLOT_BITS: f64 = 0.25;
const SLOTS: usize = 1 << MAX_LOG;
/// Longest tuple: four lanes of four values are 16 values a 64-bit load.
const MAX_TUPLE: usize = 4;
/// Tuples are counted in a dense table of every possible one (no hashing on the write path):
/// a tuple length is tried only where the dictionary size to its power is at most this.
const MOST_TUPLE_KEYS: usize = 1 << 16;
/// A longer tuple is chosen while its estimated size is within this factor of the smallest
/// (it decodes several values a lookup, so a sliver of size buys a good deal of speed).
const TUPLE_SLACK: f64 = 1.005;
/// Plus this many bits (16 bytes), whatever the buffer's size: a near-constant column's tuples
/// cost a few bytes more than its single values, and decode 2x faster.
const TUPLE_ALLOWANCE_BITS: f64 = 128.0;
/// Buffers of fewer values than this are coded one value a symbol (a tuple table would cost
/// more than it saves).
const FEWEST_FOR_TUPLES: usize = 1024;
/// Tuple lengths are judged on this many values at the start of a buffer (a multiple of 2, 3
/// and 4, so that the sample's tuples are the buffer's).
const TUPLE_SAMPLE: usize = 12 * 4096;

fn floor_log2(x: u32) -> u32 {
    31 - x.leading_zeros()
}

/// The sign-extended value of `v` (`width` bytes, little-endian), to find a narrow range.
fn signed(v: u64, width: usize) -> i64 {
    let shift = 64 - 8 * width as u32;
    ((v << shift) as i64) >> shift
}

/// The distinct values in ascending (unsigned) order, the count of each, and each value's index;
/// `None` past [`MAX_ENTRIES`]. `delta`: of the deltas of the values (as the `delta` codec
/// makes them, for widths 1, 2, 4 and 8), computed as they are read.
fn index(input: &[u8], width: usize, delta: bool) -> Option<(Vec<u64>, Vec<u64>, Vec<u16>)> {
    match (width, delta) {
        (1, false) => index_of::<1, false>(input),
        (2, false) => index_of::<2, false>(input),
        (3, false) => index_of::<3, false>(input),
        (4, false) => index_of::<4, false>(input),
        (5, false) => index_of::<5, false>(input),
        (6, false) => index_of::<6, false>(input),
        (7, false) => index_of::<7, false>(input),
        (8, false) => index_of::<8, false>(input),
        (1, true) => index_of::<1, true>(input),
        (2, true) => index_of::<2, true>(input),
        (4, true) => index_of::<4, true>(input),
        (8, true) => index_of::<8, true>(input),
        _ => None,
    }
}

/// The values of `input` (W bytes each, sign-extended), or with `DELTA` each minus the one
/// before it (wrapping in W bytes, the first minus zero).
fn values_of<const W: usize, const DELTA: bool>(input: &[u8]) -> impl Iterator<Item = i64> + '_ {
    let mut prev = 0u64;
    input.chunks_exact(W).map(move |c| {
        let v = super::le_uint::<W>(c);
        if DELTA {
            let d = v.wrapping_sub(prev);
            prev = v;
            signed(d, W)
        } else {
            signed(v, W)
        }
    })
}

/// [`index`] for W-byte values. Values within a range of 2^16 (most integer columns and their
/// deltas) are counted in a table, others hashed.
fn index_of<const W: usize, const DELTA: bool>(input: &[u8]) -> Option<(Vec<u64>, Vec<u64>, Vec<u16>)> {
    let mask = if W == 8 { u64::MAX } else { (1u64 << (8 * W)) - 1 };
    let (lo, hi) = values_of::<W, DELTA>(input).fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // (The table costs its span in memory to clear and scan: on a few values spread wide, such
    // as a planning sample, hashing is cheaper.)
    let n = input.len() / W;
    if n > 0 && (i128::from(hi) - i128::from(lo)) < (1 << 16).min(n.max(4096) as i128) {
        let span = (hi - lo) as usize + 1;
        // Counts fit u32 (a buffer of more values is declined). Two tables, for alternate
        // values: in runs of one value (sorted columns, skewed ones) an increment does not wait
        // for the one before it. The offsets from `lo` become the codes once ranked.
        if n > u32::MAX as usize {
            return None;
        }
        let (mut even, mut odd) = (vec![0u32; span], vec![0u32; span]);
        let mut codes: Vec<u16> = Vec::with_capacity(n);
        let mut values = values_of::<W, DELTA>(input).map(|v| (v - lo) as usize);
        while let Some(a) = values.next() {
            even[a] += 1;
            codes.push(a as u16);
            let Some(b) = values.next() else { break };
            odd[b] += 1;
            codes.push(b as u16);
        }
        for (e, o) in even.iter_mut().zip(&odd) {
            *e += o;
        }
        let present: Vec<usize> = (0..span).filter(|&d| even[d] > 0).collect();
        if present.len() > MAX_ENTRIES {
            return None;
        }
        // Ascending as unsigned: the negative values (sign-extended) after the others.
        let mut order: Vec<usize> = present;
        order.sort_unstable_by_key(|&d| ((lo + d as i64) as u64) & mask);
        let mut symbol = vec![0u16; span];
        for (s, &d) in order.iter().enumerate() {
            symbol[d] = s as u16;
        }
        for c in &mut codes {
            *c = symbol[usize::from(*c)];
        }
        let values = order.iter().map(|&d| ((lo + d as i64) as u64) & mask).collect();
        let counts = order.iter().map(|&d| u64::from(even[d])).collect();
        return Some((values, counts, codes));
    }
    // In order of first appearance, then ranked. An open-addressing table of twice the most
    // entries, at most half full (a general hash map took 10-20 ns a value; float delays and
    // times of flights, one chunk in four, come here).
    const HASH_SLOTS: usize = 2 * MAX_ENTRIES;
    const EMPTY: u16 = u16::MAX;
    // Values that pile up in one run of slots (never seen in real data; possible by design)
    // would make each lookup scan thousands of slots: past this the codec does not apply.
    const MOST_PROBES: usize = 64;
    let mut keys = vec![0i64; HASH_SLOTS];
    let mut slot_codes = vec![EMPTY; HASH_SLOTS];
    let mut first: Vec<i64> = Vec::new();
    let mut unranked = Vec::with_capacity(input.len() / W);
    for v in values_of::<W, DELTA>(input) {
        let mut at = ((v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - HASH_SLOTS.trailing_zeros())) as usize;
        let mut probes = 0;
        let code = loop {
            probes += 1;
            if probes > MOST_PROBES {
                return None;
            }
            let code = slot_codes[at];
            if code == EMPTY {
                if first.len() == MAX_ENTRIES {
                    return None;
                }
                slot_codes[at] = first.len() as u16;
                keys[at] = v;
                first.push(v);
                break slot_codes[at];
            }
            if keys[at] == v {
                break code;
            }
            at = (at + 1) % HASH_SLOTS;
        };
        unranked.push(code);
    }
    let mut order: Vec<usize> = (0..first.len()).collect();
    order.sort_unstable_by_key(|&e| (first[e] as u64) & mask);
    let mut rank = vec![0u16; order.len()];
    for (r, &e) in order.iter().enumerate() {
        rank[e] = r as u16;
    }
    let values = order.iter().map(|&e| (first[e] as u64) & mask).collect();
    let codes: Vec<u16> = unranked.iter().map(|&c| rank[usize::from(c)]).collect();
    let mut counts = vec![0u64; order.len()];
    for &c in &codes {
        counts[usize::from(c)] += 1;
    }
    Some((values, counts, codes))
}

/// Frequencies summing to 2^`log`, each >= 1, close to `counts` in proportion: rounded, then
/// corrected one unit at a time where it costs the fewest bits.
fn normalize(counts: &[u64], log: u32) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    let table = 1u64 << log;
    let mut freqs: Vec<u32> = counts.iter().map(|&c| ((u128::from(c) * u128::from(table) + u128::from(total / 2)) / u128::from(total)).max(1) as u32).collect();
    let sum: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
    // Bits a symbol of count c saves when its frequency goes f -> f + 1 (or costs at f -> f - 1).
    let key = |c: u64, from: u32, to: u32| (c as f64 * (f64::from(to) / f64::from(from)).log2() * 1e6) as i64;
    if sum < table {
        let mut heap: BinaryHeap<(i64, usize)> = freqs.iter().enumerate().map(|(s, &f)| (key(counts[s], f, f + 1), s)).collect();
        for _ in sum..table {
            let Some((_, s)) = heap.pop() else { break };
            freqs[s] += 1;
            heap.push((key(counts[s], freqs[s], freqs[s] + 1), s));
        }
    } else if sum > table {
        // The cheapest loss first: the largest (least negative) change in bits.
        let mut heap: BinaryHeap<(i64, usize)> = freqs.iter().enumerate().filter(|(_, &f)| f > 1).map(|(s, &f)| (key(counts[s], f, f - 1), s)).collect();
        for _ in table..sum {
            let Some((_, s)) = heap.pop() else { break };
            freqs[s] -= 1;
            if freqs[s] > 1 {
                heap.push((key(counts[s], freqs[s], freqs[s] - 1), s));
            }
        }
    }
    freqs
}

/// Bits of the coded indices (at frequencies `freqs`) plus the frequency table.
fn cost(counts: &[u64], freqs: &[u32], log: u32) -> f64 {
    let bits: f64 = counts.iter().zip(freqs).map(|(&c, &f)| c as f64 * (f64::from(log) - f64::from(f).log2())).sum();
    bits + 8.0 * freqs.iter().map(|&f| varint_len(u64::from(f - 1))).sum::<usize>() as f64
}

/// The symbol of each of the 2^`log` table slots: symbol by symbol, each frequency's worth of
/// slots, stepping through the table by an odd stride (which visits every slot once) so that a
/// symbol's slots spread over the whole table.
fn spread(freqs: &[u32], log: u32) -> Vec<u16> {
    let mut slots = vec![0u16; 1 << log];
    spread_into(freqs, log, |slot, s| slots[slot] = s as u16);
    slots
}

/// [`spread`]'s layout, given to `put` as (slot, symbol) pairs.
fn spread_into(freqs: &[u32], log: u32, mut put: impl FnMut(usize, usize)) {
    let size = 1usize << log;
    let mask = size - 1;
    let step = ((size >> 1) + (size >> 3) + 3) | 1;
    let mut pos = 0usize;
    for (s, &f) in freqs.iter().enumerate() {
        for _ in 0..f {
            put(pos, s);
            pos = (pos + step) & mask;
        }
    }
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(input: &[u8], at: &mut usize) -> DecodeResult<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *input.get(*at).ok_or_else(|| format!("varint truncated at byte {at}"))?;
        *at += 1;
        let low = u64::from(b & 0x7f);
        if shift == 63 && low > 1 {
            break;
        }
        v |= low << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(format!("varint over 64 bits ending at byte {at}"))
}

/// Encodes `input` (values of `width` <= 8 bytes) as `dictionary-ans` or, where tuples code it
/// in about as few bytes, `tuple-ans`; the id it used. `None` for other widths or more than
/// [`MAX_ENTRIES`] distinct values. `smallest`: the table that codes smallest, not one that
/// decodes faster for a sliver more.
pub(crate) fn encode(input: &[u8], width: usize, smallest: bool, out: &mut Vec<u8>) -> Option<u8> {
    encode_values(input, width, false, Tuples::Best, smallest, out)
}

/// `delta` then `dictionary-ans` in one pass over the values, with the same bytes as the two
/// stages one after the other (without the deltas' buffer: a pass and a column's worth of fresh
/// memory less).
pub(crate) fn encode_delta(input: &[u8], width: usize, smallest: bool, out: &mut Vec<u8>) -> Option<u8> {
    if !matches!(width, 1 | 2 | 4 | 8) {
        return None;
    }
    encode_values(input, width, true, Tuples::Best, smallest, out)
}

/// How the encoder picks the values a symbol.
#[derive(Clone, Copy)]
enum Tuples {
    /// One value a symbol (`dictionary-ans`).
    Single,
    /// The tuple length [`tuple_length`] picks.
    Best,
    /// Tuples of this length, where they fit the tables (for tests of every length).
    #[cfg(test)]
    Fixed(usize),
}

/// What the encoder settles before coding: the distinct values, the tuple length and the tuples'
/// keys (ascending; empty for single values), each symbol's code, the table.
struct Model {
    values: Vec<u64>,
    tuple: usize,
    keys: Vec<u64>,
    codes: Vec<u16>,
    log: u32,
    freqs: Vec<u32>,
}

/// The model of `n` > 0 values (or of their deltas).
fn model(input: &[u8], width: usize, delta: bool, tuples: Tuples, smallest: bool) -> Option<Model> {
    let (values, counts, codes) = index(input, width, delta)?;
    let tuple = match tuples {
        Tuples::Single => 1,
        Tuples::Best => tuple_length(&codes, values.len(), &counts, smallest),
        #[cfg(test)]
        Tuples::Fixed(t) => t,
    };
    let (keys, codes, counts) = if tuple > 1 {
        if values.len().checked_pow(tuple as u32).is_none_or(|p| p > MOST_TUPLE_KEYS) {
            return None;
        }
        tuple_codes(&codes, values.len(), tuple)
    } else {
        (Vec::new(), codes, counts)
    };
    if counts.len() > MAX_ENTRIES {
        return None;
    }
    // The smallest table that holds every symbol, or a larger one where it saves bits.
    // Larger tables approach the entropy and cost more frequency bytes: the sizes fall, then
    // rise; the search stops at the first rise.
    let mut tried: Vec<(u32, Vec<u32>, f64)> = Vec::new();
    for log in min_log(counts.len())..=MAX_LOG {
        let freqs = normalize(&counts, log);
        let c = cost(&counts, &freqs, log);
        let rising = tried.last().is_some_and(|t| c > t.2);
        tried.push((log, freqs, c));
        if rising {
            break;
        }
    }
    // (Not the closed-form estimate of `estimated_coding`: its frequencies are not corrected to
    // the table size, and on small tables of many rare symbols it picked logs whose coding came
    // out 3% larger than it estimated.)
    let (slack, slot_bits) = if smallest { (LOG_SLACK_SMALLEST, 0.0) } else { (LOG_SLACK, SLOT_BITS) };
    let charged = |t: &(u32, Vec<u32>, f64)| t.2 + slot_bits * f64::from(1u32 << t.0);
    let best = tried.iter().map(charged).fold(f64::INFINITY, f64::min);
    let (log, freqs, _) = tried.into_iter().find(|t| charged(t) <= best * slack)?;
    Some(Model { values, tuple, keys, codes, log, freqs })
}

/// The key of the tuple of indices `codes` (padded with index 0 past the end) over an alphabet
/// of `k`: the indices as the digits of a base-`k` number, the first most significant.
fn tuple_key(codes: &[u16], k: usize, tuple: usize) -> usize {
    (0..tuple).fold(0, |key, j| key * k + codes.get(j).map_or(0, |&c| usize::from(c)))
}

/// The tuple length to code `codes` (indices into `k` distinct values, counted in `counts`)
/// with: the longest within [`TUPLE_SLACK`] of the smallest estimated size (for `smallest`,
/// the smallest), 1 where no tuple length applies. Tuples are counted on the first
/// [`TUPLE_SAMPLE`] indices, their coded bits scaled to the whole (counting every index took an
/// eighth of the flights table's write).
fn tuple_length(codes: &[u16], k: usize, counts: &[u64], smallest: bool) -> usize {
    // Each length sized at its smallest table; `auto`'s table slack then applies to the length
    // chosen. (Sized at the faster tables, pairs of skewed values were chosen and came out 1.35%
    // larger than single values.)
    let log_slack = LOG_SLACK_SMALLEST;
    if codes.len() < FEWEST_FOR_TUPLES || k < 2 {
        return 1;
    }
    let sample = &codes[..codes.len().min(TUPLE_SAMPLE)];
    let scale = codes.len() as f64 / sample.len() as f64;
    // Coded bits scaled to the whole buffer, the table's bytes as they are.
    let size = |counts: &[u64], symbols: usize, kinds: usize| {
        estimated_coding(counts, symbols as u64, kinds, log_slack).map_or(f64::INFINITY, |(total, table)| (total - 8.0 * table as f64) * scale + 8.0 * table as f64)
    };
    let singles = if sample.len() == codes.len() {
        counts.to_vec()
    } else {
        sample.iter().fold(vec![0u64; k], |mut c, &i| {
            c[usize::from(i)] += 1;
            c
        })
    };
    let mut sizes = vec![(1, size(&singles, sample.len(), singles.iter().filter(|&&c| c > 0).count()))];
    let mut dense: Vec<u32> = Vec::new();
    for tuple in 2..=MAX_TUPLE {
        let Some(possible) = k.checked_pow(tuple as u32).filter(|&p| p <= MOST_TUPLE_KEYS) else { break };
        dense.clear();
        dense.resize(possible, 0);
        each_tuple_key(sample, k, tuple, |key| dense[key] += 1);
        let present: Vec<(usize, u64)> = dense.iter().enumerate().filter(|(_, &c)| c > 0).map(|(key, &c)| (key, u64::from(c))).collect();
        if present.len() > MAX_ENTRIES {
            break;
        }
        let tuple_counts: Vec<u64> = present.iter().map(|&(_, c)| c).collect();
        let key_bytes: usize = present.iter().scan(None, |prev: &mut Option<usize>, &(key, _)| Some(varint_len(prev.replace(key).map_or(key, |p| key - p - 1) as u64))).sum();
        sizes.push((tuple, size(&tuple_counts, sample.len().div_ceil(tuple), present.len()) + 8.0 * key_bytes as f64));
    }
    let best = sizes.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let within = if smallest { best } else { best * TUPLE_SLACK + TUPLE_ALLOWANCE_BITS };
    sizes.iter().rev().find(|s| s.1 <= within).map_or(1, |s| s.0)
}

/// `codes` as tuples of `tuple` (the last padded with index 0): the tuples' keys ascending, each
/// tuple's rank among them, and the count of each.
fn tuple_codes(codes: &[u16], k: usize, tuple: usize) -> (Vec<u64>, Vec<u16>, Vec<u64>) {
    let mut rank = vec![u16::MAX; k.pow(tuple as u32)];
    each_tuple_key(codes, k, tuple, |key| rank[key] = 0);
    let mut present = Vec::new();
    for (key, r) in rank.iter_mut().enumerate().filter(|(_, r)| **r == 0) {
        *r = present.len() as u16;
        present.push(key as u64);
    }
    let mut counts = vec![0u64; present.len()];
    let mut ranked = Vec::with_capacity(codes.len().div_ceil(tuple));
    each_tuple_key(codes, k, tuple, |key| {
        counts[usize::from(rank[key])] += 1;
        ranked.push(rank[key]);
    });
    (present, ranked, counts)
}

/// Calls `f` with the key of each tuple of `tuple` (2 to 4) indices of `codes` in turn.
fn each_tuple_key(codes: &[u16], k: usize, tuple: usize, f: impl FnMut(usize)) {
    match tuple {
        2 => tuple_keys::<2>(codes, k, f),
        3 => tuple_keys::<3>(codes, k, f),
        _ => tuple_keys::<4>(codes, k, f),
    }
}

/// [`each_tuple_key`] for tuples of T (fixed at compile time: the loop over a tuple unrolls).
fn tuple_keys<const T: usize>(codes: &[u16], k: usize, mut f: impl FnMut(usize)) {
    let mut tuples = codes.chunks_exact(T);
    for t in &mut tuples {
        f(t.iter().fold(0, |key, &c| key * k + usize::from(c)));
    }
    if !tuples.remainder().is_empty() {
        f(tuple_key(tuples.remainder(), k, T));
    }
}

/// The shift of the stored steps between sorted distinct `values`: the most low zero bits they
/// and the first value share.
fn entry_shift(values: &[u64]) -> u32 {
    values.windows(2).map(|p| (p[1] - p[0]).trailing_zeros()).chain([values[0].trailing_zeros()]).min().unwrap_or(0).min(63)
}

/// The sorted distinct `values` as varints: the first, then each step less one, in units of
/// 2^`shift`.
fn put_entries(values: &[u64], shift: u32, out: &mut Vec<u8>) {
    put_varint(values[0] >> shift, out);
    for pair in values.windows(2) {
        put_varint(((pair[1] - pair[0]) >> shift) - 1, out);
    }
}

/// The smallest table log that holds `entries` symbols.
fn min_log(entries: usize) -> u32 {
    (usize::BITS - (entries - 1).leading_zeros()).max(1)
}

/// The header, distinct values and frequencies of `m` for `n` values.
fn write_model(m: &Model, n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&(m.values.len() as u64).to_le_bytes());
    // Sorted values step by multiples of a power of two when their low bits are all zero (floats
    // with short mantissas: delays, times): the steps are stored in units of it.
    let shift = entry_shift(&m.values);
    let tuple = if m.tuple > 1 { m.tuple as u8 } else { 0 };
    out.extend_from_slice(&[m.log as u8, shift as u8, tuple, 0, 0, 0, 0, 0]);
    put_entries(&m.values, shift, out);
    if m.tuple > 1 {
        put_varint(m.keys.len() as u64, out);
        put_varint(m.keys[0], out);
        for pair in m.keys.windows(2) {
            put_varint(pair[1] - pair[0] - 1, out);
        }
    }
    for &f in &m.freqs {
        put_varint(u64::from(f - 1), out);
    }
}

/// The size of the encoding of `input` (or, with `delta`, of its deltas), as (model bytes:
/// header, distinct values, frequencies, initial states; coded-index bytes), estimated without
/// coding it, for `auto`'s planning (where a chunk pays the model once). The frequencies are
/// each count's share of each table size, rounded but not corrected to the exact sum (the
/// correction took four fifths of the time on planning samples of spread values), and the
/// indices cost their entropy under them.
pub(crate) fn estimate(input: &[u8], width: usize, delta: bool) -> Option<Estimate> {
    if !(1..=8).contains(&width) || !input.len().is_multiple_of(width) || (delta && !matches!(width, 1 | 2 | 4 | 8)) {
        return None;
    }
    let n = input.len() / width;
    if n == 0 {
        return Some(Estimate { model: HEADER, coded: 0, distinct: 0 });
    }
    let (values, counts, _) = index(input, width, delta)?;
    let (total, table) = estimated_coding(&counts, n as u64, values.len(), LOG_SLACK)?;
    let mut steps = Vec::new();
    put_entries(&values, entry_shift(&values), &mut steps);
    let coded = ((total - 8.0 * table as f64) / 8.0).ceil() as usize;
    Some(Estimate { model: HEADER + steps.len() + table + 2 * LANES, coded, distinct: values.len() })
}

/// The estimated bits of `n` symbols of `entries` kinds counted in `counts`, coded and with their
/// frequency table, and the table's bytes, at the smallest table log within `log_slack` of the
/// best estimate.
fn estimated_coding(counts: &[u64], n: u64, entries: usize, log_slack: f64) -> Option<(f64, usize)> {
    let at_log = |log: u32| {
        let freqs: Vec<u64> = counts.iter().map(|&c| ((c << log) + n / 2) / n).map(|f| f.max(1)).collect();
        let sum = freqs.iter().sum::<u64>() as f64;
        let bits: f64 = counts.iter().zip(&freqs).map(|(&c, &f)| c as f64 * (sum / f as f64).log2()).sum();
        (bits, freqs.iter().map(|&f| varint_len(f - 1)).sum::<usize>())
    };
    let mut best: Option<(f64, usize)> = None;
    for log in min_log(entries)..=MAX_LOG {
        let (bits, table) = at_log(log);
        let total = bits + 8.0 * table as f64;
        match best {
            Some((b, ..)) if total > b => break,
            Some((b, ..)) if total > b / log_slack => {}
            _ => best = Some((total, table)),
        }
    }
    best
}

/// What [`estimate`] finds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimate {
    /// Bytes of header, distinct values, frequencies and initial states: paid once a buffer.
    pub(crate) model: usize,
    /// Bytes of the coded indices.
    pub(crate) coded: usize,
    /// Distinct values (or deltas).
    pub(crate) distinct: usize,
}

/// Encodes `input` (or, with `delta`, its deltas), in tuples as `tuples` says; the id used.
fn encode_values(input: &[u8], width: usize, delta: bool, tuples: Tuples, smallest: bool, out: &mut Vec<u8>) -> Option<u8> {
    if !(1..=8).contains(&width) || !input.len().is_multiple_of(width) {
        return None;
    }
    let n = input.len() / width;
    if n == 0 {
        out.extend_from_slice(&[0u8; HEADER]);
        return Some(super::ids::DICTIONARY_ANS);
    }
    let m = model(input, width, delta, tuples, smallest)?;
    write_model(&m, n, out);
    let id = if m.tuple > 1 { super::ids::TUPLE_ANS } else { super::ids::DICTIONARY_ANS };
    let Model { codes, log, freqs, .. } = m;
    let n = codes.len();

    // The encoder runs backwards (the decoder pops what it pushed last), so it records each
    // symbol's bits and writes them in reading order afterwards.
    let size = 1u32 << log;
    let slots = spread(&freqs, log);
    let mut start = Vec::with_capacity(freqs.len());
    let mut acc = 0u32;
    for &f in &freqs {
        start.push(acc);
        acc += f;
    }
    let mut seen = vec![0u32; freqs.len()];
    let mut next_state = vec![0u16; size as usize];
    for (slot, &s) in slots.iter().enumerate() {
        let s = usize::from(s);
        next_state[(start[s] + seen[s]) as usize] = slot as u16;
        seen[s] += 1;
    }
    // Per symbol: the bits to write at most, the state below which one fewer is written, and
    // where its next states start in `next_state` less its frequency.
    let coding: Vec<(u32, u32, i64)> = freqs
        .iter()
        .zip(&start)
        .map(|(&f, &at)| {
            let most = log - floor_log2(f);
            (most, f << most, i64::from(at) - i64::from(f))
        })
        .collect();
    // One state's step: the bits it emits (value, count) and its next state.
    let step = |x: &mut u32, code: u16| -> (u64, u32) {
        let (most, below, base) = coding[usize::from(code)];
        let bits = most - u32::from(*x < below);
        let emitted = u64::from(*x & ((1 << bits) - 1));
        *x = size + u32::from(next_state[(i64::from(*x >> bits) + base) as usize]);
        (emitted, bits)
    };
    let mut states = [size; LANES];
    let whole = n / LANES * LANES;
    let mut tail = [(0u64, 0u32); LANES];
    for ((x, &code), e) in states.iter_mut().zip(&codes[whole..]).zip(&mut tail) {
        *e = step(x, code);
    }
    // A group of four values is at most 56 bits, as the decoder reads it with one load: each
    // group's bits are joined here (count in the top byte), so that the serial part, laying
    // them out in reading order, runs once a group rather than once a value.
    let mut groups: Vec<u64> = Vec::with_capacity(whole / LANES);
    for group in codes[..whole].chunks_exact(LANES).rev() {
        let [s0, s1, s2, s3] = &mut states;
        let (v0, b0) = step(s0, group[0]);
        let (v1, b1) = step(s1, group[1]);
        let (v2, b2) = step(s2, group[2]);
        let (v3, b3) = step(s3, group[3]);
        let joined = v0 | v1 << b0 | v2 << (b0 + b1) | v3 << (b0 + b1 + b2);
        groups.push(joined | u64::from(b0 + b1 + b2 + b3) << 56);
    }
    for state in states {
        out.extend_from_slice(&((state - size) as u16).to_le_bytes());
    }
    let total_bits = groups.iter().map(|&g| (g >> 56) as usize).sum::<usize>() + tail.iter().map(|&(_, b)| b as usize).sum::<usize>();
    let at = out.len();
    out.resize(at + total_bits.div_ceil(8) + 8, 0);
    // Whole bytes of a 64-bit word are stored (8 bytes written, the finished ones kept) at a
    // position that moves on by them: no branch per group.
    let stream = &mut out[at..];
    let (mut word, mut filled, mut pos) = (0u64, 0u32, 0usize);
    let mut put = |bits: u64, count: u32| -> Option<()> {
        word |= bits << filled;
        filled += count;
        stream.get_mut(pos..pos + 8)?.copy_from_slice(&word.to_le_bytes());
        let bytes = filled >> 3;
        pos += bytes as usize;
        word = word.checked_shr(8 * bytes).unwrap_or(0);
        filled &= 7;
        Some(())
    };
    for &g in groups.iter().rev() {
        put(g & ((1 << 56) - 1), (g >> 56) as u32)?;
    }
    for &(bits, count) in tail.iter().take(n - whole) {
        put(bits, count)?;
    }
    out.truncate(at + total_bits.div_ceil(8));
    Some(id)
}

impl Codec for DictionaryAns {
    fn name(&self) -> &'static str {
        "dictionary-ans"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        encode_values(input, width, false, Tuples::Single, false, out).map(|_| ())
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        decode(input, width, out, false, false)
    }
}

impl Codec for TupleAns {
    fn name(&self) -> &'static str {
        "tuple-ans"
    }

    /// Applies only where tuples code the values about as small as single values do.
    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        let at = out.len();
        let id = encode_values(input, width, false, Tuples::Best, false, out)?;
        if id != super::ids::TUPLE_ANS {
            out.truncate(at);
            return None;
        }
        Some(())
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        decode(input, width, out, false, true)
    }
}

#[cfg(test)]
mod tests;
