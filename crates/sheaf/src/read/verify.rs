//! Full verification: everything a lazy open skips. Every chunk table, every buffer's checksum
//! and codec, no two regions of the file overlapping, UTF-8 columns holding valid UTF-8.

use rayon::prelude::*;

use super::File;
use crate::dtype::LeafType;
use crate::error::{Error, Result};
use crate::format::{CHUNK_ENTRY_LEN, HEADER_LEN, TRAILER_LEN};

/// What [`File::verify`] checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Arrays.
    pub arrays: usize,
    /// Leaf columns.
    pub columns: usize,
    /// Chunks decoded.
    pub chunks: usize,
    /// Stored bytes whose checksums were checked.
    pub bytes_checked: u64,
    /// Versions of the file: 1, plus one for each append (format 1.6); the footers and chunk
    /// tables of the earlier ones were checked too.
    pub versions: usize,
    /// Bytes after the last committed footer that an interrupted append left (format 1.6): not
    /// part of any version, never read, and reclaimed by the next append.
    pub uncommitted_bytes: u64,
}

impl File {
    /// Checks the whole file: structure, every checksum, every decode.
    ///
    /// # Errors
    /// The first fault found, naming the column, chunk and offset.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_inner().map_err(|e| self.locate(e))
    }

    fn verify_inner(&self) -> Result<VerifyReport> {
        // Every byte is checked, so the whole file is fetched (a slice of it when mapped).
        let whole = crate::source::fetch_one(self.source().as_ref(), 0..self.len())?;
        crate::format::check_header(&whole[..HEADER_LEN as usize])?;
        let mut report = VerifyReport { arrays: self.array_count(), ..VerifyReport::default() };
        let t = self.trailer();
        let mut regions: Vec<(u64, u64, String)> =
            vec![(t.schema_offset, t.schema_len, "schema document".into()), (t.directory_offset, t.directory_len(), "column directory".into())];
        self.check_extensions(&whole, "", &mut regions)?;
        for array in self.arrays() {
            for (index, col) in array.columns()?.into_iter().enumerate() {
                report.columns += 1;
                col.statistics()?;
                let global = self.stored_array(col.array).first_column + index;
                let entry = self.directory()[global];
                regions.push((entry.chunk_table_offset, u64::from(entry.chunk_count) * CHUNK_ENTRY_LEN, format!("chunk table of {}", col.name())));
                let dir_reserved = t.directory_offset as usize + global * 32 + 12;
                let mut reserved = Vec::with_capacity(entry.chunk_count as usize + 1);
                reserved.push(dir_reserved..dir_reserved + 4);
                for k in 0..entry.chunk_count as usize {
                    let e = entry.chunk_table_offset as usize + k * CHUNK_ENTRY_LEN as usize + 136;
                    reserved.push(e..e + 8);
                }
                for r in reserved {
                    if let Some(i) = whole.get(r.clone()).and_then(|s| s.iter().position(|&b| b != 0)) {
                        return Err(Error::NonZeroPadding { offset: (r.start + i) as u64 });
                    }
                }
                for (i, c) in col.chunks().iter().enumerate() {
                    for (role, r) in c.buffers() {
                        if !r.is_absent() {
                            regions.push((r.offset, r.stored_len, format!("{role} of {}, chunk {i}", col.name())));
                            report.bytes_checked += r.stored_len;
                        }
                    }
                }
                (0..col.chunks().len()).into_par_iter().try_for_each(|i| -> Result<()> {
                    let d = col.read_stored_chunk(i)?;
                    let values = &col.chunks()[i].values;
                    if values.is_plain() && !values.is_absent() {
                        col.check_plain_sum(i, values, crate::format::region(&whole, values.offset, values.stored_len))?;
                    }
                    if col.desc().leaf.ty == LeafType::Utf8 {
                        for row in 0..d.rows as usize {
                            if std::str::from_utf8(d.var_value(row).unwrap_or_default()).is_err() {
                                return Err(Error::InvalidChunk { column: col.name().to_string(), chunk: i, reason: format!("row {row} is not valid UTF-8") });
                            }
                        }
                    }
                    Ok(())
                })?;
                if col.desc().is_list() {
                    // Offsets that decrease or overrun the items are refused by the read.
                    col.read()?;
                }
                report.chunks += col.chunks().len();
            }
        }
        report.versions = 1;
        let mut previous = self.previous_version()?;
        while let Some(version) = previous {
            // An earlier version's buffers are the current one's first chunks; what it has of its
            // own is its footer, trailer, chunk tables and extension regions.
            report.versions += 1;
            let vt = version.trailer();
            let label = |what: &str| format!("{what} of version {}", report.versions);
            regions.push((vt.schema_offset, vt.schema_len, label("schema document")));
            regions.push((vt.directory_offset, vt.directory_len(), label("column directory")));
            regions.push((version.len() - TRAILER_LEN, TRAILER_LEN, label("trailer")));
            version.check_extensions(&whole, &format!(" of version {}", report.versions), &mut regions)?;
            for array in version.arrays() {
                for (index, col) in array.columns()?.into_iter().enumerate() {
                    let entry = version.directory()[version.stored_array(col.array).first_column + index];
                    regions.push((entry.chunk_table_offset, u64::from(entry.chunk_count) * CHUNK_ENTRY_LEN, label(&format!("chunk table of {}", col.name()))));
                }
            }
            previous = version.previous_version()?;
        }
        // An interrupted append wrote after the committed trailer (which it leaves in place) and
        // ended the file with a copy of that trailer: what lies between is unfinished.
        report.uncommitted_bytes = (self.len() - TRAILER_LEN).saturating_sub(t.footer_end() + TRAILER_LEN);
        regions.retain(|r| r.1 > 0);
        regions.sort_unstable_by_key(|r| r.0);
        for w in regions.windows(2) {
            if w[1].0 < w[0].0 + w[0].1 {
                return Err(Error::OverlappingBuffers { column: w[1].2.clone(), offset: w[1].0, previous_end: w[0].0 + w[0].1 });
            }
        }
        self.check_padding(&whole, &regions)?;
        Ok(report)
    }

    /// Extension regions, known or not: each checked whole, and added to `regions` (their bytes
    /// are not padding), labelled with `suffix` (which version).
    fn check_extensions(&self, whole: &[u8], suffix: &str, regions: &mut Vec<(u64, u64, String)>) -> Result<()> {
        for e in self.extensions() {
            let what = format!("extension region {:?}{suffix}", e.name);
            let computed = crate::format::checksum(crate::format::region(whole, e.offset, e.length));
            if computed != e.checksum {
                return Err(Error::ChecksumMismatch { what, offset: e.offset, stored: e.checksum, computed });
            }
            regions.push((e.offset, e.length, what));
        }
        Ok(())
    }

    /// Every byte that no region covers (header padding, alignment gaps) must be zero, so that no
    /// byte of a file goes unchecked.
    fn check_padding(&self, bytes: &[u8], regions: &[(u64, u64, String)]) -> Result<()> {
        let header_rest = 12..HEADER_LEN as usize;
        let mut gaps = vec![header_rest];
        let mut at = HEADER_LEN;
        for (off, len, _) in regions {
            gaps.push(at as usize..*off as usize);
            at = off + len;
        }
        // After an interrupted append the trailer is a copy of the committed one, further on; the
        // bytes between are the unfinished append's (counted, not checked).
        let committed_end = (self.trailer().footer_end() as usize).min(bytes.len() - TRAILER_LEN as usize);
        gaps.push(at as usize..committed_end.max(at as usize));
        let t = bytes.len() - TRAILER_LEN as usize;
        gaps.push(t + 28..t + 32);
        gaps.push(t + 36..t + 40);
        gaps.push(t + 48..t + 56);
        for g in gaps {
            if let Some(i) = bytes.get(g.clone()).and_then(|s| s.iter().position(|&b| b != 0)) {
                return Err(Error::NonZeroPadding { offset: (g.start + i) as u64 });
            }
        }
        Ok(())
    }
}
