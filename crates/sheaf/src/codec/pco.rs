//! `pco` (id 18): pcodec, which compresses numeric sequences (integers, floats, timestamps)
//! beyond what byte-oriented codecs reach, by modelling their distribution. The stage records
//! the count and numeric type in an 16-byte header before pcodec's standalone format. Spec:
//! `spec/codecs.md#pco`.

use pco::metadata::{DeltaEncoding, Mode};
use pco::standalone::{simple_compress, simple_decompress_into};
use pco::wrapped::FileCompressor;
use pco::{ChunkConfig, DeltaSpec, ModeSpec};

use super::{count_bytes, le_u64, Codec, DecodeResult};

pub(crate) struct Pco;

const HEADER: usize = 16;

/// Numeric types pcodec codes, by their id in the stage header.
pub mod kinds {
    /// u16
    pub const U16: u8 = 1;
    /// u32
    pub const U32: u8 = 2;
    /// u64
    pub const U64: u8 = 3;
    /// i16
    pub const I16: u8 = 4;
    /// i32
    pub const I32: u8 = 5;
    /// i64
    pub const I64: u8 = 6;
    /// f32
    pub const F32: u8 = 7;
    /// f64
    pub const F64: u8 = 8;
}

/// Calls the generic `f` with the Rust type of numeric type `kind` (callers checked the width,
/// so the last arm is f64).
macro_rules! by_kind {
    ($kind:expr, $f:ident($($arg:expr),*)) => {
        match $kind {
            kinds::U16 => $f::<u16>($($arg),*),
            kinds::U32 => $f::<u32>($($arg),*),
            kinds::U64 => $f::<u64>($($arg),*),
            kinds::I16 => $f::<i16>($($arg),*),
            kinds::I32 => $f::<i32>($($arg),*),
            kinds::I64 => $f::<i64>($($arg),*),
            kinds::F32 => $f::<f32>($($arg),*),
            _ => $f::<f64>($($arg),*),
        }
    };
}

fn width_of(kind: u8) -> Option<usize> {
    Some(match kind {
        kinds::U16 | kinds::I16 => 2,
        kinds::U32 | kinds::I32 | kinds::F32 => 4,
        kinds::U64 | kinds::I64 | kinds::F64 => 8,
        _ => return None,
    })
}

/// pcodec's own per-chunk choices (delta encoding, mode), either searched for in every chunk or
/// fixed once per column from its first chunk: the search is 20-30% of pcodec's encode time, and
/// the first chunk's answer is the other chunks' answer on typical columns (encode-time only;
/// the choices are in pcodec's own format, so readers never see this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PcoChoice {
    /// pcodec searches in every chunk.
    #[default]
    Search,
    /// Fixed for every chunk.
    Fixed {
        /// Consecutive deltas of this order (0: none).
        delta_order: u8,
        /// The classic mode (else pcodec still looks for a multiplier or a quantization in
        /// each chunk).
        classic: bool,
    },
}

/// Aligned input (the usual case: buffers and stage outputs come from the allocator) is read in
/// place; only unaligned input is copied.
fn numbers<T: bytemuck::Pod>(input: &[u8]) -> std::borrow::Cow<'_, [T]> {
    match bytemuck::try_cast_slice(input) {
        Ok(nums) => std::borrow::Cow::Borrowed(nums),
        Err(_) => std::borrow::Cow::Owned(input.chunks_exact(std::mem::size_of::<T>()).map(bytemuck::pod_read_unaligned).collect()),
    }
}

/// The `parts` components of `nums`, after the remainder in front (see `compress`).
fn parts_of<T>(nums: &[T], parts: usize) -> Vec<&[T]> {
    let base = nums.len() / parts.max(1);
    let rest = nums.len() % parts.max(1);
    (0..parts.max(1)).map(|i| &nums[rest + i * base..rest + (i + 1) * base]).collect()
}

fn choice_of<T: pco::data_types::Number>(nums: &[T], level: u8) -> Option<PcoChoice> {
    let config = ChunkConfig::default().with_compression_level(usize::from(level.min(12)));
    let compressor = FileCompressor::default().chunk_compressor(nums, &config).ok()?;
    let meta = compressor.meta();
    let delta_order = match meta.delta_encoding {
        DeltaEncoding::NoOp => 0,
        DeltaEncoding::Consecutive { order, secondary_uses_delta: false } => u8::try_from(order).ok()?,
        _ => return None,
    };
    Some(PcoChoice::Fixed { delta_order, classic: matches!(meta.mode, Mode::Classic) })
}

fn probe<T: pco::data_types::Number + bytemuck::Pod>(windows: &[&[u8]], parts: usize, level: u8) -> PcoChoice {
    let mut found = None;
    for w in windows {
        let nums = numbers::<T>(w);
        for part in parts_of(&nums, parts) {
            let choice = if part.is_empty() { continue } else { choice_of(part, level) };
            match (found, choice) {
                (_, None) => return PcoChoice::Search,
                (None, Some(c)) => found = Some(c),
                (Some(f), Some(c)) if f != c => return PcoChoice::Search,
                _ => {}
            }
        }
    }
    found.unwrap_or_default()
}

/// The choices pcodec makes on every one of `windows` (data as it reaches the pco stage) and
/// every component, when they all agree (else `Search`).
pub(crate) fn choose(windows: &[&[u8]], width: usize, kind: u8, parts: usize, level: u8) -> PcoChoice {
    if width_of(kind) != Some(width) || windows.iter().any(|w| w.len() % width != 0) {
        return PcoChoice::Search;
    }
    by_kind!(kind, probe(windows, parts, level))
}

fn compress<T: pco::data_types::Number + bytemuck::Pod>(input: &[u8], parts: usize, level: u8, choice: PcoChoice) -> Option<Vec<u8>> {
    let nums = numbers::<T>(input);
    let mut config = ChunkConfig::default().with_compression_level(usize::from(level.min(12)));
    if let PcoChoice::Fixed { delta_order, classic } = choice {
        config = config.with_delta_spec(if delta_order == 0 { DeltaSpec::NoOp } else { DeltaSpec::TryConsecutive(usize::from(delta_order)) });
        if classic {
            config = config.with_mode_spec(ModeSpec::Classic);
        }
    }
    if parts > 1 && nums.len() >= parts {
        // One pcodec chunk per part, so that each component gets a model of its own. A remainder
        // (a preceding stage's header) is a chunk of its own in front, so that it neither
        // shifts the boundaries nor spoils a component's model.
        let base = nums.len() / parts;
        let rest = nums.len() % parts;
        let mut sizes = Vec::with_capacity(parts + 1);
        if rest > 0 {
            sizes.push(rest);
        }
        for _ in 0..parts {
            // Within a part, pcodec's own default paging: equal pages of at most 2^18 values
            // (its models are best at about that size).
            let pages = base.div_ceil(1 << 18).max(1);
            let low = base / pages;
            sizes.extend((0..pages).map(|i| low + usize::from(i < base % pages)));
        }
        config = config.with_paging_spec(pco::PagingSpec::Exact(sizes));
    }
    simple_compress(&nums, &config).ok()
}

/// Encodes `input` (values of `width` bytes) as pcodec numbers of type `kind`, in `parts`
/// equal chunks, at pcodec compression `level`.
pub(crate) fn encode(input: &[u8], width: usize, kind: u8, parts: usize, level: u8, choice: PcoChoice, out: &mut Vec<u8>) -> Option<()> {
    if width_of(kind) != Some(width) || !input.len().is_multiple_of(width) {
        return None;
    }
    let body = by_kind!(kind, compress(input, parts, level, choice))?;
    out.reserve(HEADER + body.len());
    out.extend_from_slice(&((input.len() / width) as u64).to_le_bytes());
    out.extend_from_slice(&[kind, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&body);
    Some(())
}

/// pcodec's standalone format of u16 values, at `level` (dictionary indices).
pub(crate) fn compress_u16(values: &[u16], level: u8) -> Option<Vec<u8>> {
    compress::<u16>(bytemuck::cast_slice(values), 1, level, PcoChoice::Search)
}

/// Decodes exactly `out.len()` u16 values of pcodec's standalone format.
pub(crate) fn decompress_u16(src: &[u8], out: &mut [u16]) -> DecodeResult<()> {
    decompress::<u16>(src, bytemuck::cast_slice_mut(out))
}

fn decompress<T: pco::data_types::Number + bytemuck::Pod>(src: &[u8], out: &mut [u8]) -> DecodeResult<()> {
    let n = out.len() / std::mem::size_of::<T>();
    let run = |dst: &mut [T]| -> DecodeResult<()> {
        // pcodec is a dependency decoding hostile bytes: a panic in it is an error here.
        let progress = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| simple_decompress_into(src, dst)))
            .map_err(|_| "pcodec failed on these bytes".to_string())?
            .map_err(|e| e.to_string())?;
        if progress.n_processed != dst.len() {
            return Err(format!("{} values decoded, {} declared", progress.n_processed, dst.len()));
        }
        Ok(())
    };
    match bytemuck::try_cast_slice_mut::<u8, T>(out) {
        Ok(dst) => run(dst),
        Err(_) => {
            let mut tmp = vec![T::default(); n];
            run(&mut tmp)?;
            out.copy_from_slice(bytemuck::cast_slice(&tmp));
            Ok(())
        }
    }
}

impl Codec for Pco {
    fn name(&self) -> &'static str {
        "pco"
    }

    fn encode(&self, _input: &[u8], _width: usize, _out: &mut Vec<u8>) -> Option<()> {
        // Needs the numeric type: see `encode` above (Stage::Pco carries it).
        None
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        count_bytes(le_u64(input, 0)?, width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        let kind = *input.get(8).ok_or("header truncated")?;
        if width_of(kind) != Some(width) {
            return Err(format!("numeric type {kind} does not have width {width}"));
        }
        let body = input.get(HEADER..).ok_or("header truncated")?;
        by_kind!(kind, decompress(body, out))
    }
}

#[cfg(test)]
mod tests {
    use super::{kinds, PcoChoice};
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn round_trips_and_beats_zstd_on_a_smooth_signal() {
        let vals: Vec<f64> = (0..50_000).map(|i| (f64::from(i) / 1000.0).sin() * 100.0 + f64::from(i % 7) * 1e-3).collect();
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = round_trip(&[Stage::Pco(kinds::F64, 1, 8, PcoChoice::Search)], &bytes, 8).unwrap();
        let z = round_trip(&[Stage::Zstd(3)], &bytes, 8).unwrap();
        assert!(p < z, "pco {p} vs zstd {z}");
        let ints: Vec<u8> = (0..1000i32).flat_map(|v| (v * 3 - 100).to_le_bytes()).collect();
        round_trip(&[Stage::Transpose(2), Stage::Pco(kinds::I32, 2, 8, PcoChoice::Search)], &ints, 4).unwrap();
        assert!(round_trip(&[Stage::Pco(kinds::F64, 1, 8, PcoChoice::Search)], &ints, 4).is_none(), "width mismatch refused");
    }
}

#[cfg(test)]
mod component_tests {
    use super::{kinds, PcoChoice};
    use crate::codec::{encode_pipeline, Stage};

    #[test]
    fn transposed_components_get_a_model_each() {
        // Three interleaved random walks of different scales.
        let mut x = [0f32; 3];
        let mut r = 0x1234_5678u64;
        let mut bytes = Vec::new();
        for _ in 0..60_000 {
            for (k, v) in x.iter_mut().enumerate() {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                *v += ((r >> 40) as f32 / 16_777_216.0 - 0.5) * [0.01, 1.0, 100.0][k];
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let plain = encode_pipeline(&[Stage::Pco(kinds::F32, 1, 8, PcoChoice::Search)], &bytes, 4).unwrap().0.len();
        let split = encode_pipeline(&[Stage::Transpose(3), Stage::Pco(kinds::F32, 3, 8, PcoChoice::Search)], &bytes, 4).unwrap().0.len();
        assert!(split < plain, "transposed {split} vs interleaved {plain}");
    }
}
