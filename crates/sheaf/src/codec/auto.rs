//! The `auto` rule: per buffer role of a column, try every candidate pipeline on a sample of the
//! data and keep the smallest, preferring the faster-decoding candidate when sizes are within 2%.
//! Every candidate is one measured to decode at >= 1 GB/s per core (`benches/throughput.rs`).
//! Per chunk, a chunk whose values are all equal is stored `constant`, and a chunk that the
//! pipeline does not shrink is stored plain. Spec: `spec/codecs.md#auto`.

use super::{encode_pipeline, Stage};
use crate::format::MAX_STAGES;

/// Values per sample window; three windows (start, middle, end) make the sample.
const SAMPLE_VALUES: usize = 16 * 1024;

/// Candidates in order of decode speed, fastest first.
fn candidates(width: usize, level: i32) -> Vec<Vec<Stage>> {
    let mut c = vec![vec![Stage::Lz4]];
    let int_width = matches!(width, 1 | 2 | 4 | 8);
    if int_width {
        c.push(vec![Stage::BitPack]);
        c.push(vec![Stage::Delta, Stage::BitPack]);
    }
    c.push(vec![Stage::Dictionary]);
    if width >= 2 {
        c.push(vec![Stage::Shuffle, Stage::Zstd(level)]);
    }
    c.push(vec![Stage::Zstd(level)]);
    if int_width {
        c.push(vec![Stage::BitPack, Stage::Zstd(level)]);
        c.push(vec![Stage::Delta, Stage::BitPack, Stage::Zstd(level)]);
        if width >= 2 {
            c.push(vec![Stage::Delta, Stage::Shuffle, Stage::Zstd(level)]);
        }
    }
    c.push(vec![Stage::Dictionary, Stage::Zstd(level)]);
    c
}

/// Windows of the data to try candidates on, each encoded separately (joining them would show
/// `delta` jumps that the data does not have).
fn sample(data: &[u8], width: usize) -> Vec<&[u8]> {
    let n = data.len() / width;
    if n <= 3 * SAMPLE_VALUES {
        return vec![&data[..n * width]];
    }
    [0, n / 2 - SAMPLE_VALUES / 2, n - SAMPLE_VALUES].iter().map(|&start| &data[start * width..(start + SAMPLE_VALUES) * width]).collect()
}

/// Picks the pipeline for a buffer of `width`-byte values from a sample of `data`.
pub(crate) fn choose_pipeline(data: &[u8], width: usize, level: i32) -> Vec<Stage> {
    let windows = sample(data, width.max(1));
    let raw: usize = windows.iter().map(|w| w.len()).sum();
    if raw == 0 {
        return vec![Stage::Lz4];
    }
    let sizes: Vec<(Vec<Stage>, usize)> = candidates(width, level)
        .into_iter()
        .filter_map(|stages| {
            let total = windows.iter().map(|w| encode_pipeline(&stages, w, width).map(|(b, _)| b.len())).sum::<Option<usize>>()?;
            Some((stages, total))
        })
        .collect();
    let Some(best) = sizes.iter().map(|(_, n)| *n).min() else { return Vec::new() };
    if best >= raw {
        return Vec::new();
    }
    let good_enough = best + best / 50;
    sizes.into_iter().find(|(_, n)| *n <= good_enough).map(|(s, _)| s).unwrap_or_default()
}

/// Encodes one chunk's buffer: `constant` if all values are equal, else `stages`, else plain when
/// the stages do not shrink it. Returns the stored bytes (`None`: store the input as is) and ids.
pub(crate) fn encode_with_fallback(stages: &[Stage], data: &[u8], width: usize) -> (Option<Vec<u8>>, [u8; MAX_STAGES]) {
    if stages.is_empty() || data.is_empty() {
        return (None, [0; MAX_STAGES]);
    }
    if data.len() >= 64 {
        if let Some(enc) = encode_pipeline(&[Stage::Constant], data, width) {
            return (Some(enc.0), enc.1);
        }
    }
    match encode_pipeline(stages, data, width) {
        Some((bytes, ids)) if bytes.len() < data.len() => (Some(bytes), ids),
        _ => (None, [0; MAX_STAGES]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_ids_get_a_delta_pipeline() {
        let data: Vec<u8> = (0..200_000i64).flat_map(|v| v.to_le_bytes()).collect();
        let stages = choose_pipeline(&data, 8, 3);
        assert_eq!(stages.first(), Some(&Stage::Delta), "{stages:?}");
        let (enc, _) = encode_pipeline(&stages, &data, 8).unwrap();
        assert!(enc.len() * 100 < data.len(), "{} bytes", enc.len());
    }

    #[test]
    fn random_bytes_stay_plain() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(choose_pipeline(&data, 1, 3).is_empty());
    }
}
