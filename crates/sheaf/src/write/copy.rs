//! Copying another file's stored chunks into a writer as they are: the encoded bytes move, each
//! checked against its checksum on the way, and are neither decoded nor encoded again, so a
//! concatenation of files costs about what copying their bytes does.

use std::borrow::Cow;

use super::encode::{EncodedBuffer, EncodedChunk};
use super::{ArrayId, Writer};
use crate::error::{Error, Result};
use crate::read::Array;

impl Writer {
    /// Appends every row of `from` (an array of another open file, of this array's dtype) by
    /// copying its stored chunks and their statistics as they are. Rows given to
    /// [`Writer::append`] before are written first, so rows keep their order.
    ///
    /// ```
    /// # fn main() -> sheaf::Result<()> {
    /// use sheaf::{ArraySchema, ColumnInput, DType, File, LeafType, WriteOptions, Writer};
    /// let dir = tempfile::tempdir().unwrap();
    /// let (a, out) = (dir.path().join("a.sheaf"), dir.path().join("out.sheaf"));
    /// let schema = ArraySchema::new("x", DType::leaf(LeafType::Int(8)));
    /// let values: Vec<i64> = (0..1000).collect();
    /// sheaf::write_arrays(&a, &[(schema.clone(), vec![ColumnInput::fixed(&values)])], &WriteOptions::new())?;
    /// let from = File::open(&a)?.array("x")?;
    /// let mut w = Writer::create(&out, WriteOptions::new())?;
    /// let id = w.add_array(schema)?;
    /// w.append_stored_chunks(id, &from)?;
    /// w.append_stored_chunks(id, &from)?;
    /// w.finish()?;
    /// assert_eq!(File::open(&out)?.array("x")?.rows(), 2000);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::BadInput`] for another dtype, or for an array with lists (their stored offsets
    /// count items from the start of their own file: append their decoded rows instead); a
    /// stored buffer failing its checksum; I/O errors.
    pub fn append_stored_chunks(&mut self, id: ArrayId, from: &Array) -> Result<()> {
        self.append_stored_rows(id, from, 0..from.rows())
    }

    /// Appends rows `rows` of `from` by copying the stored chunks that hold them, as
    /// [`Writer::append_stored_chunks`] copies all of them. The range must start and end where a
    /// chunk of every column does (see [`Array::shared_chunk_bounds`]).
    ///
    /// # Errors
    /// As [`Writer::append_stored_chunks`]; [`Error::BadInput`] for a range that cuts a chunk.
    pub fn append_stored_rows(&mut self, id: ArrayId, from: &Array, rows: std::ops::Range<u64>) -> Result<()> {
        let state = self.state(id)?;
        let name = state.schema.name.clone();
        let refuse = |reason: String| Error::BadInput { column: name.clone(), reason };
        if from.schema().dtype != state.schema.dtype {
            return Err(refuse(format!("array {:?} has another dtype", from.name())));
        }
        if state.columns.iter().any(crate::ColumnDesc::is_list) {
            return Err(refuse("arrays with lists cannot take stored chunks as they are".into()));
        }
        if let Some(Err(why)) = &state.appended_shape {
            return Err(refuse(format!("cannot append rows: {why}")));
        }
        let columns = from.columns()?;
        if rows.start > rows.end || rows.end > from.rows() {
            return Err(refuse(format!("rows {}..{} of an array of {}", rows.start, rows.end, from.rows())));
        }
        if let Some(col) = columns.iter().find(|c| !(c.row_starts().contains(&rows.start) && c.row_starts().contains(&rows.end))) {
            return Err(refuse(format!("rows {}..{} cut a chunk of column {} (copies take whole chunks)", rows.start, rows.end, col.name())));
        }
        self.flush_pending(id, true)?;
        for (c, col) in columns.iter().enumerate() {
            let stats = col.statistics()?;
            for k in col.chunks_for_rows(rows.clone()) {
                let entry = &col.chunks()[k];
                let refs = [entry.validity, entry.offsets, entry.values];
                let ranges: Vec<_> = refs.iter().map(|r| r.offset..r.offset + r.stored_len).collect();
                let got = col.file().fetch(&ranges)?;
                let mut buffers: [Option<EncodedBuffer<'_>>; 3] = [None, None, None];
                for ((slot, r), bytes) in buffers.iter_mut().zip(&refs).zip(&got) {
                    if r.is_absent() {
                        continue;
                    }
                    // A copy must not carry damage over under a fresh file's name.
                    col.check_plain_sum(k, r, bytes)?;
                    *slot = Some(EncodedBuffer { bytes: Cow::Borrowed(&bytes[..]), decoded_len: r.decoded_len, checksum: Some(r.checksum), stages: r.stages });
                }
                let chunk_stats = stats.as_ref().and_then(|s| s.get(k).cloned());
                let written = self.write_chunk(EncodedChunk { rows: entry.row_count, nulls: entry.null_count, stats: chunk_stats.clone(), buffers })?;
                let state = &mut self.arrays[id.0];
                state.chunks[c].push(written);
                state.stats[c].push(chunk_stats);
            }
        }
        self.arrays[id.0].rows += rows.end - rows.start;
        Ok(())
    }
}
