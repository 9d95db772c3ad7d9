//! Decoding of `dictionary-ans` and `tuple-ans`: the header, dictionary, tuples and frequencies
//! parsed and checked against the buffer, the decode table built from the frequencies (in a
//! thread's reused tables), and the loop of four interleaved tANS states that writes the values,
//! or their running sums where a `delta` is undone in the same pass.

use super::{floor_log2, get_varint, spread_into, DecodeResult, HEADER, LANES, MAX_ENTRIES, MAX_LOG, MAX_TUPLE, SLOTS};
use crate::codec::{le_u64, to_usize};

/// The parts of an encoded buffer, checked.
pub(super) struct Parsed<'a> {
    count: usize,
    log: u32,
    /// Values per symbol: 1 for `dictionary-ans`, 2 to 4 for `tuple-ans`.
    tuple: usize,
    /// Each symbol's values, `tuple` a symbol, in symbol order.
    values: Vec<u64>,
    freqs: Vec<u32>,
    states: [u32; LANES],
    pub(super) stream: &'a [u8],
}

/// Parses `dictionary-ans` or, with `tuples`, `tuple-ans`.
pub(super) fn parse(input: &[u8], width: usize, tuples: bool) -> DecodeResult<Parsed<'_>> {
    if !(1..=8).contains(&width) {
        return Err(format!("values of {width} bytes (1 to 8 only)"));
    }
    let count = to_usize(le_u64(input, 0)?)?;
    let entries = to_usize(le_u64(input, 8)?)?;
    let log = u32::from(*input.get(16).ok_or("header truncated")?);
    if log > MAX_LOG || entries > MAX_ENTRIES || (!tuples && entries > 1 << log) {
        return Err(format!("{entries} entries in a table of log {log} is over the limit"));
    }
    if count > 0 && entries == 0 {
        return Err("empty dictionary with values to decode".into());
    }
    let shift = u32::from(*input.get(17).ok_or("header truncated")?);
    if shift > 63 {
        return Err(format!("dictionary step shift {shift} is over 63"));
    }
    let tuple = if tuples {
        let header = input.get(18..HEADER).ok_or("header truncated")?;
        let t = usize::from(header[0]);
        if !(2..=MAX_TUPLE).contains(&t) || header[1..].iter().any(|&b| b != 0) {
            return Err(format!("tuple length {t} (2 to {MAX_TUPLE}) or reserved header bytes not zero"));
        }
        t
    } else {
        1
    };
    let mut at = HEADER;
    let mut values: Vec<u64> = Vec::with_capacity(entries);
    let limit = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
    let scaled = |v: u64| v.checked_mul(1 << shift);
    for e in 0..entries {
        let v = get_varint(input, &mut at)?;
        let value = if e == 0 { scaled(v) } else { v.checked_add(1).and_then(scaled).and_then(|step| values[e - 1].checked_add(step)) };
        match value {
            Some(x) if x <= limit => values.push(x),
            _ => return Err(format!("dictionary entry {e} is out of range for {width}-byte values")),
        }
    }
    let symbols = if tuples && entries > 0 { parse_tuples(input, &mut at, &values, tuple, log)? } else { values };
    let kinds = symbols.len() / tuple;
    let mut freqs = Vec::with_capacity(kinds);
    let mut sum = 0u64;
    for _ in 0..kinds {
        let f = get_varint(input, &mut at)?.saturating_add(1);
        sum = sum.saturating_add(f);
        freqs.push(u32::try_from(f).unwrap_or(u32::MAX));
    }
    if count > 0 && sum != 1 << log {
        return Err(format!("frequencies sum to {sum}, not 2^{log}"));
    }
    let mut states = [0u32; LANES];
    if count > 0 {
        for state in &mut states {
            let b = input.get(at..at + 2).ok_or("initial states truncated")?;
            *state = u32::from(u16::from_le_bytes([b[0], b[1]]));
            if *state >= 1 << log {
                return Err(format!("initial state {state} outside a table of 2^{log}"));
            }
            at += 2;
        }
    }
    Ok(Parsed { count, log, tuple, values: symbols, freqs, states, stream: input.get(at..).unwrap_or_default() })
}

/// Reads `tuple-ans`'s tuples at `at` (their count, then their keys as ascending steps) and
/// returns each tuple's values, `tuple` a tuple, from the dictionary `values`.
fn parse_tuples(input: &[u8], at: &mut usize, values: &[u64], tuple: usize, log: u32) -> DecodeResult<Vec<u64>> {
    let kinds = to_usize(get_varint(input, at)?)?;
    if kinds == 0 || kinds > MAX_ENTRIES || kinds > 1 << log {
        return Err(format!("{kinds} tuples in a table of log {log} (1 to 4,096 and at most the table)"));
    }
    // Keys are below k^tuple <= 4096^4 = 2^48.
    let k = values.len() as u64;
    let possible = k.pow(tuple as u32);
    let mut out = Vec::with_capacity(kinds * tuple);
    let mut key = 0u64;
    for t in 0..kinds {
        let step = get_varint(input, at)?;
        key = if t == 0 { Some(step) } else { key.checked_add(step).and_then(|k| k.checked_add(1)) }
            .filter(|&k| k < possible)
            .ok_or_else(|| format!("tuple {t}'s key is past the {possible} tuples of {k} values"))?;
        let mut digits = key;
        let first = out.len();
        for _ in 0..tuple {
            out.push(values[(digits % k) as usize]);
            digits /= k;
        }
        out[first..].reverse();
    }
    Ok(out)
}

/// A thread's decode tables, reused from buffer to buffer (a buffer of a few hundred thousand
/// values spent a tenth of its decode time clearing fresh ones). Entries past the current table
/// size and dictionary hold earlier buffers' data and are never read: states stay below 2^log
/// and symbols below the number of symbols by construction, and every index is masked or
/// shifted into range.
struct DecodeTables {
    /// Per slot: bits to read (bits 0-5), base of the next state (6-19), symbol (20-31).
    slots: Box<[u32; SLOTS]>,
    /// Each symbol's values, `tuple` a symbol (undoing a delta: each tuple's running sums).
    values: Box<[u64; MAX_TUPLE * MAX_ENTRIES]>,
}

thread_local! {
    static DECODE_TABLES: std::cell::RefCell<Option<Box<DecodeTables>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's decode tables.
fn with_decode_tables<T>(f: impl FnOnce(&mut DecodeTables) -> T) -> T {
    let mut tables =
        DECODE_TABLES.with(|t| t.borrow_mut().take()).unwrap_or_else(|| Box::new(DecodeTables { slots: Box::new([0; SLOTS]), values: Box::new([0; MAX_TUPLE * MAX_ENTRIES]) }));
    let result = f(&mut tables);
    DECODE_TABLES.with(|t| *t.borrow_mut() = Some(tables));
    result
}

/// Fills the first 2^`log` slots of the decode table: each slot's symbol as [`super::spread`] lays them
/// out (written in place first), then its bits and next-state base.
fn fill_decode_table(freqs: &[u32], log: u32, slots: &mut [u32; SLOTS]) {
    let size = 1u32 << log;
    spread_into(freqs, log, |slot, s| slots[slot & (SLOTS - 1)] = s as u32);
    let mut next = freqs.to_vec();
    for slot in &mut slots[..size as usize] {
        let s = *slot;
        let Some(y) = next.get_mut(s as usize) else { continue };
        let bits = log - floor_log2(*y);
        let base = (*y << bits) - size;
        *y += 1;
        *slot = bits | (base << 6) | (s << 20);
    }
}

/// 8 bytes of `stream` from `byte`, zero past its end.
fn load(stream: &[u8], byte: usize) -> u64 {
    match stream.get(byte..byte + 8) {
        Some(b) => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
        None => {
            let mut pad = [0u8; 8];
            let tail = stream.get(byte..).unwrap_or_default();
            pad[..tail.len()].copy_from_slice(tail);
            u64::from_le_bytes(pad)
        }
    }
}

/// Decodes every value into `out`, `T` values a symbol; with `RUNNING_SUM`, writes the running
/// sum of the values (wrapping in W bytes) instead: `delta` undone in the same pass.
fn decode_values<const W: usize, const T: usize, const RUNNING_SUM: bool>(p: &Parsed<'_>, out: &mut [u8]) -> DecodeResult<()> {
    with_decode_tables(|tables| {
        fill_decode_table(&p.freqs, p.log, &mut tables.slots);
        let values = &mut tables.values[..p.values.len()];
        values.copy_from_slice(&p.values);
        if RUNNING_SUM {
            // Each tuple's running sums from its start: a symbol's outputs are then the sum so
            // far plus each, and the sum moves once a symbol (not once a value, one chain).
            for tuple in values.chunks_exact_mut(T) {
                for j in 1..T {
                    tuple[j] = tuple[j].wrapping_add(tuple[j - 1]);
                }
            }
        }
        run_decode::<W, T, RUNNING_SUM>(p, &tables.slots, &tables.values, out)
    })
}

/// The decoding loop of [`decode_values`] over filled tables.
fn run_decode<const W: usize, const T: usize, const RUNNING_SUM: bool>(
    p: &Parsed<'_>,
    table: &[u32; SLOTS],
    values: &[u64; MAX_TUPLE * MAX_ENTRIES],
    out: &mut [u8],
) -> DecodeResult<()> {
    const MASK: u32 = (SLOTS - 1) as u32;
    let stream = p.stream;
    let mut states = p.states;
    let mut bit = 0usize;
    let mut sum = 0u64;
    // One lane's step: the T values of its state's slot, then the next state from the slot's
    // base and bits of `word` (the stream from this group's first bit).
    let mut step = |state: &mut u32, word: u64, used: &mut u32, dst: &mut [u8]| {
        let entry = table[(*state & MASK) as usize];
        let first = (entry >> 20) as usize * T;
        let tuple = &values[first..first + T];
        for (dst, &value) in dst.chunks_exact_mut(W).zip(tuple) {
            let value = if RUNNING_SUM { sum.wrapping_add(value) } else { value };
            dst.copy_from_slice(&value.to_le_bytes()[..W]);
        }
        if RUNNING_SUM {
            sum = sum.wrapping_add(tuple[T - 1]);
        }
        // The bits to read are the entry's low bits, which is all a shift count uses: `used`
        // adds whole entries, and its low 6 bits are the bits read so far in this group (at
        // most 4 x 14). The next state keeps the symbol's bits above its own 14, which the
        // next lookup masks off. Fields are not taken out: three instructions a symbol fewer.
        *state = (entry >> 6) + ((word >> (*used & 63)) as u32 & ((1 << (entry & 31)) - 1));
        *used = used.wrapping_add(entry);
    };
    let mut groups = out.chunks_exact_mut(LANES * T * W);
    for group in &mut groups {
        let word = load(stream, bit >> 3) >> (bit & 7);
        let mut used = 0u32;
        let (a, rest) = group.split_at_mut(T * W);
        let (b, rest) = rest.split_at_mut(T * W);
        let (c, d) = rest.split_at_mut(T * W);
        let [s0, s1, s2, s3] = &mut states;
        step(s0, word, &mut used, a);
        step(s1, word, &mut used, b);
        step(s2, word, &mut used, c);
        step(s3, word, &mut used, d);
        bit += (used & 63) as usize;
    }
    // The last symbols (fewer than four, or four whose last tuple runs past the end) decode into
    // a scratch group, of which the values up to the end are kept.
    let tail = groups.into_remainder();
    if !tail.is_empty() {
        let mut scratch = [0u8; LANES * MAX_TUPLE * 8];
        let symbols = (tail.len() / W).div_ceil(T);
        let word = load(stream, bit >> 3) >> (bit & 7);
        let mut used = 0u32;
        for (state, dst) in states.iter_mut().zip(scratch.chunks_exact_mut(T * W)).take(symbols) {
            step(state, word, &mut used, dst);
        }
        bit += (used & 63) as usize;
        tail.copy_from_slice(&scratch[..tail.len()]);
    }
    if bit.div_ceil(8) != stream.len() {
        return Err(format!("{} bytes of coded indices, {} read", stream.len(), bit.div_ceil(8)));
    }
    if states.map(|s| s & MASK) != [0; LANES] {
        return Err("coded indices end in the wrong state (corrupt)".into());
    }
    Ok(())
}

/// Decodes `dictionary-ans` (or, with `tuples`, `tuple-ans`) and undoes a `delta` applied before
/// it, in one pass (their output lengths are equal).
pub(crate) fn decode_delta_into(input: &[u8], width: usize, tuples: bool, out: &mut [u8]) -> DecodeResult<()> {
    if !matches!(width, 1 | 2 | 4 | 8) {
        return Err(format!("delta needs 1, 2, 4 or 8-byte values, not {width}"));
    }
    decode(input, width, out, true, tuples)
}

pub(super) fn decode(input: &[u8], width: usize, out: &mut [u8], running_sum: bool, tuples: bool) -> DecodeResult<()> {
    let parsed = parse(input, width, tuples)?;
    if out.len() != parsed.count.checked_mul(width).ok_or("size overflows")? {
        return Err(format!("{} values do not fill {} bytes", parsed.count, out.len()));
    }
    if parsed.count == 0 {
        return Ok(());
    }
    match parsed.tuple {
        1 => decode_width::<1>(&parsed, width, running_sum, out),
        2 => decode_width::<2>(&parsed, width, running_sum, out),
        3 => decode_width::<3>(&parsed, width, running_sum, out),
        _ => decode_width::<4>(&parsed, width, running_sum, out),
    }
}

/// [`decode_values`] for tuples of T, by width.
fn decode_width<const T: usize>(parsed: &Parsed<'_>, width: usize, running_sum: bool, out: &mut [u8]) -> DecodeResult<()> {
    match (width, running_sum) {
        (1, false) => decode_values::<1, T, false>(parsed, out),
        (2, false) => decode_values::<2, T, false>(parsed, out),
        (3, false) => decode_values::<3, T, false>(parsed, out),
        (4, false) => decode_values::<4, T, false>(parsed, out),
        (5, false) => decode_values::<5, T, false>(parsed, out),
        (6, false) => decode_values::<6, T, false>(parsed, out),
        (7, false) => decode_values::<7, T, false>(parsed, out),
        (_, false) => decode_values::<8, T, false>(parsed, out),
        (1, true) => decode_values::<1, T, true>(parsed, out),
        (2, true) => decode_values::<2, T, true>(parsed, out),
        (4, true) => decode_values::<4, T, true>(parsed, out),
        (_, true) => decode_values::<8, T, true>(parsed, out),
    }
}
