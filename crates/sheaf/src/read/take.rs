//! Random access: the rows at a list of indices, in the order asked (repeats allowed). Only the
//! chunks that hold those rows are fetched and decoded, in parallel; within a chunk, plain values
//! are copied straight from the stored bytes (for a file read by range only the rows' own bytes
//! are fetched), and a buffer coded by one stage with random access (`bitpack`, `dictionary`,
//! `constant`) is decoded at the asked positions alone. Other pipelines decode the chunk whole.

use std::ops::Range;

use rayon::prelude::*;

use super::decode::{decode_chunk, decode_validity, decode_values_into, ChunkCtx, StoredChunk};
use super::{Array, Column, ColumnData};
use crate::buffer::{AlignedBytes, Buf, SharedSlice};
use crate::codec::{has_random_access, take_pipeline, PipelineError};
use crate::error::{Error, Result};
use crate::format::ChunkEntry;

/// The rows one chunk contributes: `(position in the chunk, slot in the output)`.
struct ChunkRows {
    chunk: usize,
    rows: Vec<(u64, usize)>,
}

/// What one chunk gave: its rows' values one after another (fixed width), or their bytes and
/// lengths (variable length), and each row's validity.
struct Taken {
    values: Vec<u8>,
    lengths: Vec<u64>,
    valid: Option<Vec<bool>>,
}

impl Column {
    /// The rows at `indices` (this column's own rows; any order, repeats allowed) as one run of
    /// rows in that order. Touches only the chunks that hold them; see the module doc for what
    /// is decoded within a chunk.
    ///
    /// ```
    /// # fn main() -> sheaf::Result<()> {
    /// use sheaf::{ArraySchema, ColumnInput, DType, File, LeafType, WriteOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("t.sheaf");
    /// let values: Vec<i64> = (0..1000).map(|i| i * 3).collect();
    /// let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
    /// sheaf::write_arrays(&path, &[(schema, vec![ColumnInput::fixed(&values)])], &WriteOptions::new().with_row_group_rows(100))?;
    /// let taken = File::open(&path)?.array("x")?.column("")?.take(&[999, 0, 500])?;
    /// assert_eq!(taken.values_as::<i64>()?, &[2997, 0, 1500]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::RowRange`] for an index past the end; [`Error::BadInput`] for a list column or a
    /// column inside a list (use [`Array::take`]); checksum and codec errors as
    /// [`Column::read`].
    pub fn take(&self, indices: &[u64]) -> Result<ColumnData<'static>> {
        if self.desc().is_list() || self.desc().level > 0 {
            return Err(Error::BadInput { column: self.name.clone(), reason: "take reads columns outside lists; use Array::take for lists".into() });
        }
        let rows = self.rows();
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::RowRange { array: self.file.stored_array(self.array).schema.name.clone(), start: bad, end: bad + 1, rows });
        }
        let groups = self.group_by_chunk(indices);
        let taken: Vec<Taken> = groups.par_iter().map(|g| self.take_from_chunk(g)).collect::<Result<_>>()?;
        Ok(self.scatter(&groups, &taken, indices.len()))
    }

    /// The indices grouped by the chunk that holds each, chunks in file order.
    fn group_by_chunk(&self, indices: &[u64]) -> Vec<ChunkRows> {
        let starts = self.row_starts();
        let mut located: Vec<(usize, u64, usize)> = indices
            .iter()
            .enumerate()
            .map(|(slot, &row)| {
                // The last chunk starting at or before the row: empty chunks share their start
                // with the next one, so this is the chunk that holds it.
                let chunk = starts.partition_point(|&s| s <= row) - 1;
                (chunk, row - starts[chunk], slot)
            })
            .collect();
        located.sort_unstable_by_key(|&(chunk, row, _)| (chunk, row));
        let mut groups: Vec<ChunkRows> = Vec::new();
        for (chunk, row, slot) in located {
            match groups.last_mut() {
                Some(g) if g.chunk == chunk => g.rows.push((row, slot)),
                _ => groups.push(ChunkRows { chunk, rows: vec![(row, slot)] }),
            }
        }
        groups
    }

    fn take_from_chunk(&self, g: &ChunkRows) -> Result<Taken> {
        let c = &self.table.chunks[g.chunk];
        let ctx = self.ctx();
        let positions: Vec<u64> = g.rows.iter().map(|&(r, _)| r).collect();
        let Some(w) = self.desc().row_width() else {
            return self.take_decoded(&ctx, g.chunk, c, &positions);
        };
        let plain = c.values.is_plain() && !ctx.verify_plain;
        if plain && self.file.contiguous_bytes().is_none() && c.null_count == 0 {
            // Read by range: fetch the rows' own bytes, not the chunk's.
            let ranges: Vec<Range<u64>> = positions.iter().map(|&p| c.values.offset + p * w..c.values.offset + (p + 1) * w).collect();
            let got = self.file.fetch(&ranges)?;
            let values = got.iter().flat_map(|s| s.iter().copied()).collect();
            return Ok(Taken { values, lengths: Vec::new(), valid: None });
        }
        let ids = c.values.stage_ids();
        let stored = self.fetch_stored(c)?;
        if !plain && !has_random_access(ids) {
            return self.take_decoded_fixed(&ctx, g.chunk, c, &stored, &positions, w);
        }
        let valid = decode_validity(&ctx, g.chunk, c, &stored)?.map(|bits| pick_bits(&bits, &positions, self.desc().validity_bits_per_row()));
        let bytes = stored.values.as_ref().map_or(&[][..], |s| &s[..]);
        let mut values = vec![0u8; positions.len() * w as usize];
        if w == 0 {
            // Rows of zero bytes (`S0`, `U0`): nothing to copy or decode.
        } else if plain {
            for (dst, &p) in values.chunks_exact_mut(w as usize).zip(&positions) {
                dst.copy_from_slice(&bytes[(p * w) as usize..((p + 1) * w) as usize]);
            }
        } else {
            ctx.check_sum(g.chunk, &c.values, bytes)?;
            // A row of a subarray holds several values of the leaf.
            let per_row = (w as usize / ctx.unit_width.max(1)).max(1);
            let units: Vec<usize> = positions.iter().flat_map(|&p| (0..per_row).map(move |k| p as usize * per_row + k)).collect();
            let result = take_pipeline(ids, bytes, ctx.unit_width, c.values.decoded_len, &units, &mut values).unwrap_or(Ok(()));
            result.map_err(|e| match e {
                PipelineError::Unknown(id) => Error::UnknownCodec { column: self.name.clone(), chunk: g.chunk, id },
                PipelineError::Failed(codec, reason) => Error::Decode { column: self.name.clone(), chunk: g.chunk, offset: c.values.offset, codec, reason },
            })?;
        }
        Ok(Taken { values, lengths: Vec::new(), valid })
    }

    /// A fixed-width chunk decoded whole into this thread's scratch memory, then the rows copied
    /// out. Why scratch: a chunk decoded into fresh memory each time pays for the first touch of
    /// every page (on hosts that hand freed memory back, more than the decode itself), while the
    /// rows taken are few.
    fn take_decoded_fixed(&self, ctx: &ChunkCtx<'_>, chunk: usize, c: &ChunkEntry, stored: &StoredChunk, positions: &[u64], w: u64) -> Result<Taken> {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        /// Scratch larger than this is let go after use rather than kept by the thread.
        const KEEP: usize = 64 << 20;
        let valid = decode_validity(ctx, chunk, c, stored)?.map(|bits| pick_bits(&bits, positions, self.desc().validity_bits_per_row()));
        let len = usize::try_from(c.values.decoded_len).map_err(|_| Error::LimitExceeded {
            what: format!("memory for column {}, chunk {chunk}", self.name),
            value: c.values.decoded_len,
            limit: usize::MAX as u64,
        })?;
        let mut values = Vec::with_capacity(positions.len() * w as usize);
        SCRATCH.with(|cell| -> Result<()> {
            let mut scratch = cell.borrow_mut();
            if scratch.len() < len {
                scratch.resize(len, 0);
            }
            decode_values_into(ctx, chunk, c, stored, &mut scratch[..len])?;
            for &p in positions {
                values.extend_from_slice(&scratch[(p * w) as usize..((p + 1) * w) as usize]);
            }
            if scratch.len() > KEEP {
                *scratch = Vec::new();
            }
            Ok(())
        })?;
        Ok(Taken { values, lengths: Vec::new(), valid })
    }

    /// The chunk decoded whole, then the rows picked from it.
    fn take_decoded(&self, ctx: &ChunkCtx<'_>, chunk: usize, c: &ChunkEntry, positions: &[u64]) -> Result<Taken> {
        let stored = self.fetch_stored(c)?;
        let d = decode_chunk(ctx, chunk, c, &stored)?;
        let valid = d.validity.as_ref().map(|bits| pick_bits(bits, positions, self.desc().validity_bits_per_row()));
        let mut values = Vec::new();
        let mut lengths = Vec::new();
        match (self.desc().row_width(), d.offsets.as_ref()) {
            (Some(w), _) => {
                values.reserve(positions.len() * w as usize);
                for &p in positions {
                    values.extend_from_slice(&d.values[(p * w) as usize..((p + 1) * w) as usize]);
                }
            }
            (None, Some(o)) => {
                for &p in positions {
                    let (s, e) = (o[p as usize] as usize, o[p as usize + 1] as usize);
                    values.extend_from_slice(&d.values[s..e]);
                    lengths.push((e - s) as u64);
                }
            }
            (None, None) => return Err(Error::internal(format!("column {}: a variable-length chunk decoded without offsets", self.name))),
        }
        Ok(Taken { values, lengths, valid })
    }

    fn fetch_stored(&self, c: &ChunkEntry) -> Result<StoredChunk> {
        let mut got = self.file.fetch(&[c.validity, c.offsets, c.values].map(|r| r.offset..r.offset + r.stored_len))?.into_iter();
        let mut next = |absent: bool| -> Option<SharedSlice> { got.next().filter(|_| !absent) };
        Ok(StoredChunk { validity: next(c.validity.is_absent()), offsets: next(c.offsets.is_absent()), values: next(c.values.is_absent()) })
    }

    /// Puts each chunk's rows into their slots of the output.
    fn scatter(&self, groups: &[ChunkRows], taken: &[Taken], n: usize) -> ColumnData<'static> {
        let k = self.desc().validity_bits_per_row();
        let any_nulls = taken.iter().any(|t| t.valid.is_some());
        let mut validity = any_nulls.then(|| vec![0u8; (n as u64 * k).div_ceil(8) as usize]);
        if let Some(v) = validity.as_mut() {
            for (g, t) in groups.iter().zip(taken) {
                for (i, &(_, slot)) in g.rows.iter().enumerate() {
                    for bit in 0..k as usize {
                        let ok = t.valid.as_ref().is_none_or(|b| b[i * k as usize + bit]);
                        let at = slot * k as usize + bit;
                        if ok {
                            v[at / 8] |= 1 << (at % 8);
                        }
                    }
                }
            }
        }
        match self.desc().row_width() {
            Some(w) => {
                let w = w as usize;
                let mut values = AlignedBytes::zeroed(n * w);
                let out = values.as_mut_slice();
                for (g, t) in groups.iter().zip(taken) {
                    for (src, &(_, slot)) in t.values.chunks_exact(w.max(1)).zip(&g.rows) {
                        out[slot * w..(slot + 1) * w].copy_from_slice(src);
                    }
                }
                ColumnData { rows: n as u64, values: Buf::Owned(values), offsets: None, validity }
            }
            None => {
                // Each row's bytes where its chunk put them, then laid out in slot order.
                let mut pieces: Vec<&[u8]> = vec![&[]; n];
                for (g, t) in groups.iter().zip(taken) {
                    let mut at = 0usize;
                    for (&len, &(_, slot)) in t.lengths.iter().zip(&g.rows) {
                        pieces[slot] = &t.values[at..at + len as usize];
                        at += len as usize;
                    }
                }
                let mut offsets = Vec::with_capacity(n + 1);
                offsets.push(0u64);
                let mut bytes = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
                for p in pieces {
                    bytes.extend_from_slice(p);
                    offsets.push(bytes.len() as u64);
                }
                ColumnData { rows: n as u64, values: Buf::Owned(AlignedBytes::copy_from(&bytes)), offsets: Some(offsets), validity }
            }
        }
    }
}

/// The validity bits of the rows at `positions` (`per_row` bits each), one bool per bit.
fn pick_bits(bits: &[u8], positions: &[u64], per_row: u64) -> Vec<bool> {
    let mut out = Vec::with_capacity(positions.len() * per_row as usize);
    for &p in positions {
        for k in 0..per_row {
            let at = p * per_row + k;
            out.push(bits.get((at / 8) as usize).is_some_and(|b| b >> (at % 8) & 1 == 1));
        }
    }
    out
}

impl Array {
    /// The rows at `indices` (any order, repeats allowed) of the columns at `which` (indices in
    /// [`Array::column_descs`] order), shaped as [`Array::read_columns`] shapes a run of rows:
    /// columns inside lists get the items of those rows, list columns offsets into them.
    /// Columns outside lists decode only the chunks that hold the rows ([`Column::take`]); an
    /// array with lists reads each row as a one-row range.
    ///
    /// # Errors
    /// As [`Column::take`] and [`Array::read_columns`].
    pub fn take(&self, which: &[usize], indices: &[u64]) -> Result<Vec<ColumnData<'static>>> {
        let cols = self.columns_at(which)?;
        if self.column_descs().iter().all(|d| !d.is_list() && d.level == 0) {
            return cols.par_iter().map(|c| c.take(indices).map_err(|e| self.file().locate(e))).collect();
        }
        let rows = self.rows();
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::RowRange { array: self.name().to_string(), start: bad, end: bad + 1, rows });
        }
        let per_row: Vec<Vec<ColumnData<'static>>> = indices.par_iter().map(|&i| self.read_columns(which, i..i + 1)).collect::<Result<_>>()?;
        Ok(cols
            .iter()
            .enumerate()
            .map(|(k, col)| {
                let parts: Vec<&ColumnData<'_>> = per_row.iter().map(|r| &r[k]).collect();
                ColumnData::concat(col.desc(), &parts)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::pick_bits;

    #[test]
    fn pick_bits_takes_each_rows_bits_in_order() {
        // rows of 2 bits: row0 = 1,0  row1 = 1,1  row2 = 0,1
        let bits = [0b10_11_01u8];
        assert_eq!(pick_bits(&bits, &[2, 0], 2), [false, true, true, false]);
    }
}
