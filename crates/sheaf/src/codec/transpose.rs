//! `transpose` (id 6): rows of `k` values become `k` streams of one value per row, so that the
//! components of a subarray (`pos[3]`: x, y, z) are compressed each on its own, not interleaved.
//! Spec: `spec/codecs.md#transpose`.

use super::{le_u64, Codec, DecodeResult};

pub(crate) struct Transpose;

const HEADER: usize = 8;

/// Encodes with `k` values per row (the caller's parameter; recorded in the header).
pub(crate) fn encode(input: &[u8], width: usize, k: usize, out: &mut Vec<u8>) -> Option<()> {
    let row = width.checked_mul(k)?;
    if k < 2 || row == 0 || !input.len().is_multiple_of(row) {
        return None;
    }
    out.reserve(HEADER + input.len());
    out.extend_from_slice(&(k as u64).to_le_bytes());
    let start = out.len();
    out.resize(start + input.len(), 0);
    by_width(width, input, &mut out[start..], k, true);
    Some(())
}

/// Calls `gather`/`scatter` with the value width known at compile time where it is a number's
/// (a copy of a run-time length per value costs a call to memcpy each).
fn by_width(width: usize, from: &[u8], to: &mut [u8], k: usize, to_streams: bool) {
    if from.is_empty() {
        return;
    }
    macro_rules! go {
        ($w:literal) => {
            if to_streams {
                to_streams_of::<$w>(from, to, k)
            } else {
                to_rows_of::<$w>(from, to, k)
            }
        };
    }
    match width {
        1 => go!(1),
        2 => go!(2),
        4 => go!(4),
        8 => go!(8),
        16 => go!(16),
        _ => {
            let row = width * k;
            let rows = from.len() / row;
            for c in 0..k {
                for r in 0..rows {
                    let (row_at, stream_at) = (r * row + c * width, (c * rows + r) * width);
                    if to_streams {
                        to[stream_at..stream_at + width].copy_from_slice(&from[row_at..row_at + width]);
                    } else {
                        to[row_at..row_at + width].copy_from_slice(&from[stream_at..stream_at + width]);
                    }
                }
            }
        }
    }
}

/// Rows per block: the rows of a block (a few KiB) stay in L1 cache while each position's
/// stream is copied in or out; a pass over all rows per position would bring every row into
/// cache `k` times.
const BLOCK_ROWS: usize = 512;

/// Rows of `k` values of `W` bytes in `rows` into one stream per position in `streams`.
fn to_streams_of<const W: usize>(rows: &[u8], streams: &mut [u8], k: usize) {
    let n = rows.len() / (W * k);
    let mut outs: Vec<&mut [u8]> = streams.chunks_exact_mut(n * W).take(k).collect();
    for (b, block) in rows.chunks(BLOCK_ROWS * W * k).enumerate() {
        for (c, stream) in outs.iter_mut().enumerate() {
            let dst = &mut stream[b * BLOCK_ROWS * W..];
            for (d, row) in dst.chunks_exact_mut(W).zip(block.chunks_exact(W * k)) {
                d.copy_from_slice(&row[c * W..(c + 1) * W]);
            }
        }
    }
}

/// The inverse of [`to_streams_of`].
fn to_rows_of<const W: usize>(streams: &[u8], rows: &mut [u8], k: usize) {
    let n = rows.len() / (W * k);
    let ins: Vec<&[u8]> = streams.chunks_exact(n * W).take(k).collect();
    for (b, block) in rows.chunks_mut(BLOCK_ROWS * W * k).enumerate() {
        for (c, stream) in ins.iter().enumerate() {
            let src = &stream[b * BLOCK_ROWS * W..];
            for (row, s) in block.chunks_exact_mut(W * k).zip(src.chunks_exact(W)) {
                row[c * W..(c + 1) * W].copy_from_slice(s);
            }
        }
    }
}

impl Codec for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn encode(&self, _input: &[u8], _width: usize, _out: &mut Vec<u8>) -> Option<()> {
        // Needs the row length: see `encode` above (Stage::Transpose carries it).
        None
    }

    fn decoded_len(&self, input: &[u8], _width: usize) -> DecodeResult<usize> {
        Ok(input.len().saturating_sub(HEADER))
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let k = usize::try_from(le_u64(input, 0)?).map_err(|_| "row length does not fit".to_string())?;
        let data = &input[HEADER..];
        let row = width.checked_mul(k).filter(|&r| r > 0 && k >= 2).ok_or_else(|| format!("bad row length {k}"))?;
        if !data.len().is_multiple_of(row) || out.len() != data.len() {
            return Err(format!("{} bytes is not a whole number of {k}-value rows", data.len()));
        }
        by_width(width, data, out, k, false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_rows_of_components() {
        let data: Vec<u8> = (0..1200u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
        round_trip(&[Stage::Transpose(3)], &data, 4).unwrap();
        round_trip(&[Stage::Transpose(3), Stage::Delta, Stage::Shuffle, Stage::Zstd(3)], &data, 4).unwrap();
        assert!(round_trip(&[Stage::Transpose(7)], &data, 4).is_none());
    }

    #[test]
    fn streams_hold_each_position_in_row_order_for_every_width() {
        for (width, k) in [1usize, 2, 3, 4, 8, 16, 24].into_iter().flat_map(|w| [2usize, 3, 5].map(|k| (w, k))) {
            for rows in [0usize, 1, 5, 1000] {
                let data: Vec<u8> = (0..rows * k * width).map(|i| (i * 7 % 251) as u8).collect();
                let mut encoded = Vec::new();
                super::encode(&data, width, k, &mut encoded).unwrap();
                let mut want = (k as u64).to_le_bytes().to_vec();
                for c in 0..k {
                    for r in 0..rows {
                        want.extend_from_slice(&data[(r * k + c) * width..(r * k + c + 1) * width]);
                    }
                }
                assert_eq!(encoded, want, "width {width}, k {k}, {rows} rows");
                round_trip(&[Stage::Transpose(k)], &data, width).unwrap();
            }
        }
    }
}
