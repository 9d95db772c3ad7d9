//! Turning one chunk of one column into stored buffers: slicing the caller's input by rows,
//! choosing each column's pipelines once (the `auto` rule), encoding, checksumming. Also the
//! streaming writer's pending rows.

use crate::stats::ChunkStats;
use std::borrow::Cow;

use super::{Codec, ColumnInput};
use crate::codec::{choose_pipelines, encode_pipeline, encode_with_fallback, Pipelines, Stage};
use crate::dtype::LeafType;
use crate::error::Result;
use crate::format::{checksum, MAX_STAGES};
use crate::read::copy_bits;
use crate::schema::ColumnDesc;

/// Rows of one column for one chunk: the caller's input plus where the rows start in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slice<'a> {
    pub(crate) input: ColumnInput<'a>,
    /// Bit of the input's validity bitmap where these rows start.
    pub(crate) validity_bit: u64,
}

impl<'a> Slice<'a> {
    pub(crate) fn whole(input: ColumnInput<'a>) -> Self {
        Slice { input, validity_bit: 0 }
    }
}

/// Rows `start..end` of `input` (whose rows were already checked).
pub(crate) fn slice_input<'a>(s: &Slice<'a>, desc: &ColumnDesc, start: u64, end: u64) -> Slice<'a> {
    let input = match s.input {
        ColumnInput::Fixed { bytes, validity } => {
            let w = desc.row_width().unwrap_or(0) as usize;
            ColumnInput::Fixed { bytes: &bytes[start as usize * w..end as usize * w], validity }
        }
        ColumnInput::Var { offsets, data, validity } => ColumnInput::Var { offsets: &offsets[start as usize..=end as usize], data, validity },
    };
    Slice { input, validity_bit: s.validity_bit + start * desc.validity_bits_per_row() }
}

/// The pipelines one column's buffers use, chosen once per column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnPlan {
    values: Pipelines,
    offsets: Pipelines,
    validity: Pipelines,
    /// Whether a chunk of equal values may be stored `constant` (the `auto` rule).
    constant: bool,
}

impl ColumnPlan {
    /// The plan for a column whose first chunk is `sample`; `chunks`: how many chunks the column
    /// has, if known (a whole array written at once).
    pub(crate) fn choose(codec: Codec, desc: &ColumnDesc, sample: &Slice<'_>, chunks: Option<usize>) -> Self {
        let all = |stages: Vec<Stage>| ColumnPlan {
            values: Pipelines::only(stages.clone()),
            offsets: Pipelines::only(stages.clone()),
            validity: Pipelines::only(stages),
            constant: false,
        };
        match codec {
            Codec::None => all(Vec::new()),
            Codec::Zstd(level) => all(vec![Stage::Zstd(level)]),
            Codec::Lz4 => all(vec![Stage::Lz4]),
            Codec::Auto(_) | Codec::Smallest => {
                let (level, strict) = match codec {
                    Codec::Auto(level) => (level, false),
                    _ => (12, true),
                };
                let unit = desc.leaf.ty.unit_width();
                // Values per row as the codecs see them: subarray elements, and the two parts of
                // a complex number.
                let per_unit = desc.leaf.ty.itemsize().map_or(1, |n| (n as usize / unit.max(1)).max(1));
                let k = (desc.elements_per_row() as usize).saturating_mul(per_unit).max(1);
                // A look at a whole chunk (close calls between candidates, pcodec's choices)
                // costs an analysis of one chunk and saves 20-30% of pcodec's time in every
                // later chunk: a loss below 4 chunks.
                let on_chunk = chunks.is_none_or(|n| n >= 4);
                let (values, offsets) = match sample.input {
                    ColumnInput::Fixed { bytes, .. } => (choose_pipelines(bytes, unit, k, level, pco_kind(desc.leaf.ty), strict, on_chunk), Pipelines::default()),
                    ColumnInput::Var { offsets, data, .. } => {
                        let (lo, hi) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
                        let rebased: Vec<u8> = offsets.iter().flat_map(|o| (o - offsets[0]).to_le_bytes()).collect();
                        (choose_pipelines(&data[lo..hi], 1, 1, level, None, strict, on_chunk), choose_pipelines(&rebased, 8, 1, level, None, strict, on_chunk))
                    }
                };
                ColumnPlan { values, offsets, validity: Pipelines::only(vec![Stage::Lz4]), constant: true }
            }
        }
    }
}

/// Buffers at least this large get their checksum computed while they are written.
const DEFER_CHECKSUM: usize = 4 << 20;

/// The same for buffers stored as they are (codec `none`): the writer takes them one after the
/// other, so a checksum computed first would run alone before each write (flights `none`: 45 MB
/// in columns of 2.7 MB, hashed then written, 12.8 ms; hashed while written, see the commit).
const DEFER_PLAIN_CHECKSUM: usize = 64 << 10;

/// The pcodec numeric type of a leaf's units, if pcodec codes them.
fn pco_kind(ty: LeafType) -> Option<u8> {
    use crate::codec::pco_kinds as k;
    Some(match ty {
        LeafType::Int(2) => k::I16,
        LeafType::Int(4) => k::I32,
        LeafType::Int(8) | LeafType::Datetime(..) | LeafType::Timedelta(..) => k::I64,
        LeafType::UInt(2) => k::U16,
        LeafType::UInt(4) => k::U32,
        LeafType::UInt(8) => k::U64,
        LeafType::Float(4) | LeafType::Complex(8) => k::F32,
        LeafType::Float(8) | LeafType::Complex(16) => k::F64,
        // Fixed-width strings and raw bytes of a number's width: pcodec bins their bit patterns
        // as unsigned integers, which codes a column of few distinct symbols near its entropy.
        LeafType::Bytes(2) | LeafType::Void(2) => k::U16,
        LeafType::Bytes(4) | LeafType::Void(4) | LeafType::Unicode(1) => k::U32,
        LeafType::Bytes(8) | LeafType::Void(8) | LeafType::Unicode(2) => k::U64,
        _ => return None,
    })
}

/// One stored buffer before it has an offset.
pub(crate) struct EncodedBuffer<'a> {
    pub(crate) bytes: Cow<'a, [u8]>,
    pub(crate) decoded_len: u64,
    /// `None`: computed while writing (large plain buffers hash on one thread while another
    /// writes).
    pub(crate) checksum: Option<u64>,
    pub(crate) stages: [u8; MAX_STAGES],
}

/// One chunk's buffers: validity, offsets, values.
pub(crate) struct EncodedChunk<'a> {
    pub(crate) rows: u64,
    pub(crate) nulls: u64,
    /// The chunk's statistics (`None` for leaves without them).
    pub(crate) stats: Option<ChunkStats>,
    pub(crate) buffers: [Option<EncodedBuffer<'a>>; 3],
}

fn encode_buffer<'a>(data: Cow<'a, [u8]>, pipelines: &Pipelines, constant: bool, width: usize) -> EncodedBuffer<'a> {
    let decoded_len = data.len() as u64;
    let stages = &pipelines.first;
    let (encoded, ids) = if stages.is_empty() {
        (None, [0; MAX_STAGES])
    } else if constant {
        encode_with_fallback(pipelines, &data, width)
    } else {
        match encode_pipeline(stages, &data, width) {
            Some((b, ids)) if b.len() < data.len() && !stages.is_empty() => (Some(b), ids),
            _ => (None, [0; MAX_STAGES]),
        }
    };
    let defer = if stages.is_empty() { DEFER_PLAIN_CHECKSUM } else { DEFER_CHECKSUM };
    let bytes = encoded.map_or(data, Cow::Owned);
    let checksum = (bytes.len() < defer).then(|| checksum(&bytes));
    EncodedBuffer { checksum, bytes, decoded_len, stages: ids }
}

/// The validity bits of `rows` rows starting at bit `at`, and the null count; `None` when all
/// rows are valid.
fn validity_bits(bitmap: Option<&[u8]>, at: u64, rows: u64) -> Option<(Vec<u8>, u64)> {
    let bitmap = bitmap?;
    let mut bits = vec![0u8; rows.div_ceil(8) as usize];
    copy_bits(bitmap, at, &mut bits, 0, rows);
    let valid: u64 = bits.iter().map(|b| u64::from(b.count_ones())).sum();
    (valid < rows).then(|| (bits, rows - valid))
}

/// The statistics of rows `rows` of a slice (its nulls left out).
pub(crate) fn chunk_stats(desc: &ColumnDesc, s: &Slice<'_>, rows: u64) -> Option<ChunkStats> {
    let validity = validity_bits(s.input.validity(), s.validity_bit, rows * desc.validity_bits_per_row());
    let (bits, nulls) = match &validity {
        Some((b, n)) => (Some(b.as_slice()), *n),
        None => (None, 0),
    };
    match s.input {
        ColumnInput::Fixed { bytes, .. } => crate::stats::compute(desc, rows, bytes, None, bits, nulls),
        ColumnInput::Var { offsets, data, .. } => crate::stats::compute(desc, rows, data, Some(offsets), bits, nulls),
    }
}

pub(crate) fn encode_chunk<'a>(plan: &ColumnPlan, desc: &ColumnDesc, s: &Slice<'a>, rows: u64) -> Result<EncodedChunk<'a>> {
    let mut chunk = encode_chunk_without_stats(plan, desc, s, rows)?;
    chunk.stats = chunk_stats(desc, s, rows);
    Ok(chunk)
}

/// [`encode_chunk`] leaving the statistics to the caller (`stats` is `None`).
fn encode_chunk_without_stats<'a>(plan: &ColumnPlan, desc: &ColumnDesc, s: &Slice<'a>, rows: u64) -> Result<EncodedChunk<'a>> {
    let validity = validity_bits(s.input.validity(), s.validity_bit, rows * desc.validity_bits_per_row());
    let nulls = validity.as_ref().map_or(0, |v| v.1);
    let stats = None;
    let validity = validity.map(|(bits, _)| encode_buffer(Cow::Owned(bits), &plan.validity, false, 1));
    let (offsets, values) = match s.input {
        ColumnInput::Fixed { bytes, .. } => (None, encode_buffer(Cow::Borrowed(bytes), &plan.values, plan.constant, desc.leaf.ty.unit_width())),
        ColumnInput::Var { offsets, data, .. } => {
            let base = offsets[0];
            let rebased: Vec<u8> = offsets.iter().flat_map(|o| (o - base).to_le_bytes()).collect();
            let bytes = &data[base as usize..offsets[offsets.len() - 1] as usize];
            (Some(encode_buffer(Cow::Owned(rebased), &plan.offsets, plan.constant, 8)), encode_buffer(Cow::Borrowed(bytes), &plan.values, plan.constant, 1))
        }
    };
    Ok(EncodedChunk { rows, nulls, stats, buffers: [validity, offsets, Some(values)] })
}

/// A whole column stored plain as one chunk (no copy of fixed-width values), its statistics
/// left to the caller (who computes them beside the writing: [`chunk_stats`]).
pub(crate) fn plain_chunk<'a>(desc: &ColumnDesc, input: &ColumnInput<'a>, rows: u64) -> EncodedChunk<'a> {
    let plan = ColumnPlan { values: Pipelines::default(), offsets: Pipelines::default(), validity: Pipelines::default(), constant: false };
    // Cannot fail: encoding with no stages only slices and checksums.
    match encode_chunk_without_stats(&plan, desc, &Slice::whole(*input), rows) {
        Ok(c) => c,
        Err(_) => EncodedChunk { rows, nulls: 0, stats: None, buffers: [None, None, None] },
    }
}

/// Rows copied from appended batches, waiting for a full row group.
pub(crate) struct Pending {
    values: Vec<u8>,
    offsets: Option<Vec<u64>>,
    validity: Option<Vec<u8>>,
    rows: u64,
    /// Validity bits a row has (its elements' count where they are nullable one by one).
    bits_per_row: u64,
}

impl Pending {
    pub(crate) fn new(desc: &ColumnDesc) -> Self {
        let offsets = desc.row_width().is_none().then(|| vec![0u64]);
        Pending { values: Vec::new(), offsets, validity: None, rows: 0, bits_per_row: desc.validity_bits_per_row() }
    }

    pub(crate) fn push(&mut self, input: &ColumnInput<'_>, rows: u64) {
        match (input, self.offsets.as_mut()) {
            (ColumnInput::Fixed { bytes, .. }, _) => self.values.extend_from_slice(bytes),
            (ColumnInput::Var { offsets, data, .. }, Some(own)) => {
                let base = offsets[0];
                let shift = self.values.len() as u64;
                self.values.extend_from_slice(&data[base as usize..offsets[offsets.len() - 1] as usize]);
                own.extend(offsets[1..].iter().map(|o| o - base + shift));
            }
            (ColumnInput::Var { .. }, None) => {}
        }
        let k = self.bits_per_row;
        let (have, add) = (self.rows * k, rows * k);
        if let Some(bits) = input.validity() {
            let v = self.validity.get_or_insert_with(|| vec![0xFF; have.div_ceil(8) as usize]);
            v.resize((have + add).div_ceil(8) as usize, 0);
            copy_bits(bits, 0, v, have, add);
        } else if let Some(v) = self.validity.as_mut() {
            v.resize((have + add).div_ceil(8) as usize, 0);
            let ones = vec![0xFF; add.div_ceil(8) as usize];
            copy_bits(&ones, 0, v, have, add);
        }
        self.rows += rows;
    }

    /// Splits off the first `n` rows.
    pub(crate) fn take_front(&mut self, n: u64, desc: &ColumnDesc) -> Pending {
        let (values, offsets) = match self.offsets.as_mut() {
            None => {
                let cut = (n * desc.row_width().unwrap_or(0)) as usize;
                let rest = self.values.split_off(cut);
                (std::mem::replace(&mut self.values, rest), None)
            }
            Some(own) => {
                let cut = own[n as usize];
                let rest_values = self.values.split_off(cut as usize);
                let rest_offsets: Vec<u64> = own[n as usize..].iter().map(|o| o - cut).collect();
                let head_offsets = own[..=n as usize].to_vec();
                *own = rest_offsets;
                (std::mem::replace(&mut self.values, rest_values), Some(head_offsets))
            }
        };
        let k = self.bits_per_row;
        let validity = self.validity.as_mut().map(|v| {
            let mut head = vec![0u8; (n * k).div_ceil(8) as usize];
            copy_bits(v, 0, &mut head, 0, n * k);
            let left = (self.rows - n) * k;
            let mut rest = vec![0u8; left.div_ceil(8) as usize];
            copy_bits(v, n * k, &mut rest, 0, left);
            *v = rest;
            head
        });
        self.rows -= n;
        Pending { values, offsets, validity, rows: n, bits_per_row: k }
    }

    pub(crate) fn as_input(&self) -> ColumnInput<'_> {
        match &self.offsets {
            None => ColumnInput::Fixed { bytes: &self.values, validity: self.validity.as_deref() },
            Some(o) => ColumnInput::Var { offsets: o, data: &self.values, validity: self.validity.as_deref() },
        }
    }
}
