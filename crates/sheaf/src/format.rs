//! The on-disk structures of format version 1 and the constants that never change: magic bytes,
//! header and trailer sizes, fixed-width entry layouts. Parsing here is sans-IO (borrowed byte
//! slices in, owned small structs out) and checks every field against the file's length before
//! anything else trusts it. `spec/format.md` is the normative description of these bytes.

use crate::error::{Error, Result};

/// The 8 magic bytes at the start and at the very end of every sheaf file.
/// `\x89` catches 7-bit transfers and `\r\n`/`\x1a\n` catch newline translation (as PNG does).
pub const MAGIC: [u8; 8] = *b"\x89SHF\r\n\x1a\n";
/// Major format version written and read by this crate.
pub const VERSION_MAJOR: u16 = 1;
/// Minor format version written by this crate.
pub const VERSION_MINOR: u16 = 5;
/// Minor version in the trailer of a file that was appended to (its header keeps the version it
/// was created with): its schema document names the previous version, and its trailer may be a
/// copy after an interrupted append.
pub const APPENDED_MINOR: u16 = 6;
/// Size of the fixed header at offset 0.
pub const HEADER_LEN: u64 = 64;
/// Size of the fixed trailer at the end of the file.
pub const TRAILER_LEN: u64 = 64;
/// Every buffer, chunk table and the schema start at a multiple of this.
pub const ALIGNMENT: u64 = 64;
/// Size of one column-directory entry.
pub const DIR_ENTRY_LEN: u64 = 32;
/// Size of one buffer reference inside a chunk entry.
pub const BUFFER_REF_LEN: usize = 40;
/// Size of one chunk entry.
pub const CHUNK_ENTRY_LEN: u64 = 144;
/// Most codec stages one buffer may have.
pub const MAX_STAGES: usize = 8;

/// Largest schema document a reader accepts (16 MiB: about 100,000 columns).
pub const MAX_SCHEMA_LEN: u64 = 16 << 20;
/// Most leaf columns in one file.
pub const MAX_COLUMNS: u64 = 1 << 20;
/// Deepest nesting of structs and subarrays in one dtype.
pub const MAX_NESTING: usize = 64;
/// Most bytes one encoded (not `none`) buffer may decode to: bounds the memory a hostile chunk
/// can make a reader allocate.
pub const MAX_ENCODED_BUFFER_DECODED: u64 = 1 << 30;

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The 64-byte header: magic, version, zero padding.
pub(crate) fn encode_header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
    h[10..12].copy_from_slice(&VERSION_MINOR.to_le_bytes());
    h
}

/// The fixed 64-byte trailer that locates the footer (schema document and column directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Offset of the UTF-8 JSON schema document.
    pub schema_offset: u64,
    /// Length of the schema document.
    pub schema_len: u64,
    /// Offset of the column directory.
    pub directory_offset: u64,
    /// Number of leaf columns (directory entries).
    pub column_count: u32,
    /// Major format version.
    pub major: u16,
    /// Minor format version.
    pub minor: u16,
    /// xxh3-64 of schema bytes, directory bytes and trailer bytes 0..40.
    pub footer_checksum: u64,
}

impl Trailer {
    /// Serialise; the checksum field is written as given.
    pub(crate) fn encode(&self) -> [u8; TRAILER_LEN as usize] {
        let mut t = [0u8; TRAILER_LEN as usize];
        t[0..8].copy_from_slice(&self.schema_offset.to_le_bytes());
        t[8..16].copy_from_slice(&self.schema_len.to_le_bytes());
        t[16..24].copy_from_slice(&self.directory_offset.to_le_bytes());
        t[24..28].copy_from_slice(&self.column_count.to_le_bytes());
        t[32..34].copy_from_slice(&self.major.to_le_bytes());
        t[34..36].copy_from_slice(&self.minor.to_le_bytes());
        t[40..48].copy_from_slice(&self.footer_checksum.to_le_bytes());
        t[56..64].copy_from_slice(&MAGIC);
        t
    }

    /// Parse and bound-check the trailer of a whole file held in `file`, and check its header.
    ///
    /// # Errors
    /// Too short, bad magic at either end, unknown major version, or regions outside the file.
    pub fn parse(file: &[u8]) -> Result<Self> {
        let len = file.len() as u64;
        if len < HEADER_LEN + TRAILER_LEN {
            return Err(Error::TooShort { len, min: HEADER_LEN + TRAILER_LEN });
        }
        if file[..8] != MAGIC {
            return Err(Error::BadMagic { offset: 0 });
        }
        let trailer = Self::parse_tail(&file[file.len() - TRAILER_LEN as usize..], len)?;
        check_header(&file[..HEADER_LEN as usize])?;
        Ok(trailer)
    }

    /// Parse and bound-check the trailer from the file's last [`TRAILER_LEN`] bytes (`tail`) and
    /// its length: what a reader that fetches by range can check before anything else.
    ///
    /// # Errors
    /// Too short, bad magic, unknown major version, or regions outside the file.
    pub fn parse_tail(tail: &[u8], len: u64) -> Result<Self> {
        if len < HEADER_LEN + TRAILER_LEN || tail.len() != TRAILER_LEN as usize {
            return Err(Error::TooShort { len, min: HEADER_LEN + TRAILER_LEN });
        }
        let t = tail;
        if t[56..64] != MAGIC {
            return Err(Error::BadMagic { offset: len - 8 });
        }
        let trailer = Trailer {
            schema_offset: read_u64(t, 0),
            schema_len: read_u64(t, 8),
            directory_offset: read_u64(t, 16),
            column_count: read_u32(t, 24),
            major: read_u16(t, 32),
            minor: read_u16(t, 34),
            footer_checksum: read_u64(t, 40),
        };
        if trailer.major != VERSION_MAJOR {
            return Err(Error::UnsupportedVersion { major: trailer.major, minor: trailer.minor, supported: VERSION_MAJOR });
        }
        let footer_end = len - TRAILER_LEN;
        if trailer.schema_len > MAX_SCHEMA_LEN {
            return Err(Error::LimitExceeded { what: "schema document length".into(), value: trailer.schema_len, limit: MAX_SCHEMA_LEN });
        }
        if u64::from(trailer.column_count) > MAX_COLUMNS {
            return Err(Error::LimitExceeded { what: "column count".into(), value: trailer.column_count.into(), limit: MAX_COLUMNS });
        }
        check_region("schema document", trailer.schema_offset, trailer.schema_len, HEADER_LEN, footer_end)?;
        let dir_len = trailer.directory_len();
        check_region("column directory", trailer.directory_offset, dir_len, HEADER_LEN, footer_end)?;
        Ok(trailer)
    }

    /// The file region holding the schema document and the directory (and whatever lies between
    /// them): what open reads after the trailer. It ends where the later of the two ends, which is
    /// the trailer's offset in a committed file; after an interrupted append (format 1.6) the
    /// trailer is a copy of the last committed one further on, and the bytes between are not read.
    #[must_use]
    pub fn footer_span(&self) -> std::ops::Range<u64> {
        self.metadata_start()..self.footer_end()
    }

    /// Where the footer's schema document and directory end (the later of the two ends).
    #[must_use]
    pub fn footer_end(&self) -> u64 {
        (self.schema_offset + self.schema_len).max(self.directory_offset + self.directory_len())
    }

    /// Byte length of the column directory.
    #[must_use]
    pub fn directory_len(&self) -> u64 {
        u64::from(self.column_count) * DIR_ENTRY_LEN
    }

    /// The lowest offset of footer metadata: data buffers and chunk tables must end before it.
    #[must_use]
    pub fn metadata_start(&self) -> u64 {
        self.schema_offset.min(self.directory_offset)
    }
}

/// `bytes[offset..offset+len]`, clamped to `bytes` (callers have bound-checked the region).
pub(crate) fn region(bytes: &[u8], offset: u64, len: u64) -> &[u8] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    let end = usize::try_from(offset.saturating_add(len)).unwrap_or(usize::MAX).min(bytes.len());
    &bytes[start..end.max(start)]
}

/// Checks the 64-byte header: magic and major version.
///
/// # Errors
/// Bad magic or an unknown major version.
pub fn check_header(header: &[u8]) -> Result<()> {
    if header.len() < 12 || header[..8] != MAGIC {
        return Err(Error::BadMagic { offset: 0 });
    }
    let (major, minor) = (read_u16(header, 8), read_u16(header, 10));
    if major != VERSION_MAJOR {
        return Err(Error::UnsupportedVersion { major, minor, supported: VERSION_MAJOR });
    }
    Ok(())
}

/// Checks that `offset..offset+len` lies within `lo..hi`, naming `what` otherwise.
pub(crate) fn check_region(what: &str, offset: u64, len: u64, lo: u64, hi: u64) -> Result<()> {
    match offset.checked_add(len) {
        Some(end) if offset >= lo && end <= hi => Ok(()),
        _ => Err(Error::OutOfBounds { what: what.to_string(), offset, len, bound_name: "the data region", bound: hi }),
    }
}

/// One column-directory entry: where the column's chunk table is and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirEntry {
    /// Offset of the chunk table.
    pub chunk_table_offset: u64,
    /// Number of chunks.
    pub chunk_count: u32,
    /// xxh3-64 of the chunk table bytes.
    pub chunk_table_checksum: u64,
    /// Total nulls in the column.
    pub null_count: u64,
}

impl DirEntry {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chunk_table_offset.to_le_bytes());
        out.extend_from_slice(&self.chunk_count.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.chunk_table_checksum.to_le_bytes());
        out.extend_from_slice(&self.null_count.to_le_bytes());
    }

    /// Parse one 32-byte entry (caller passes exactly [`DIR_ENTRY_LEN`] bytes).
    pub(crate) fn parse(b: &[u8]) -> Self {
        DirEntry { chunk_table_offset: read_u64(b, 0), chunk_count: read_u32(b, 8), chunk_table_checksum: read_u64(b, 16), null_count: read_u64(b, 24) }
    }
}

/// Where one buffer of a chunk is stored and how to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferRef {
    /// Offset in the file (multiple of 64); 0 with `stored_len` 0 means absent.
    pub offset: u64,
    /// Bytes stored in the file.
    pub stored_len: u64,
    /// Bytes after decoding every stage.
    pub decoded_len: u64,
    /// xxh3-64 of the stored bytes.
    pub checksum: u64,
    /// Codec stage ids in the order they were applied when encoding; 0 ends the list.
    pub stages: [u8; MAX_STAGES],
}

impl BufferRef {
    /// Whether the buffer is absent.
    #[must_use]
    pub fn is_absent(&self) -> bool {
        *self == BufferRef::default()
    }

    /// The stage ids actually used.
    #[must_use]
    pub fn stage_ids(&self) -> &[u8] {
        let n = self.stages.iter().position(|&s| s == 0).unwrap_or(MAX_STAGES);
        &self.stages[..n]
    }

    /// Stored raw: readable in place without decoding.
    #[must_use]
    pub fn is_plain(&self) -> bool {
        self.stage_ids().is_empty()
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.stored_len.to_le_bytes());
        out.extend_from_slice(&self.decoded_len.to_le_bytes());
        out.extend_from_slice(&self.checksum.to_le_bytes());
        out.extend_from_slice(&self.stages);
    }

    fn parse(b: &[u8]) -> Self {
        let mut stages = [0u8; MAX_STAGES];
        stages.copy_from_slice(&b[32..40]);
        BufferRef { offset: read_u64(b, 0), stored_len: read_u64(b, 8), decoded_len: read_u64(b, 16), checksum: read_u64(b, 24), stages }
    }
}

/// One chunk of one column: a run of consecutive rows and up to three buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkEntry {
    /// Rows in the chunk.
    pub row_count: u64,
    /// Null rows in the chunk.
    pub null_count: u64,
    /// Validity bitmap (LSB first, 1 = valid); absent when the chunk has no nulls.
    pub validity: BufferRef,
    /// Offsets (u64 LE, `row_count + 1` of them) for variable-length columns; else absent.
    pub offsets: BufferRef,
    /// The values.
    pub values: BufferRef,
}

impl ChunkEntry {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.row_count.to_le_bytes());
        out.extend_from_slice(&self.null_count.to_le_bytes());
        self.validity.encode(out);
        self.offsets.encode(out);
        self.values.encode(out);
        out.extend_from_slice(&[0u8; 8]);
    }

    /// Parse one entry (caller passes exactly [`CHUNK_ENTRY_LEN`] bytes).
    pub(crate) fn parse(b: &[u8]) -> Self {
        let r = BUFFER_REF_LEN;
        ChunkEntry {
            row_count: read_u64(b, 0),
            null_count: read_u64(b, 8),
            validity: BufferRef::parse(&b[16..16 + r]),
            offsets: BufferRef::parse(&b[16 + r..16 + 2 * r]),
            values: BufferRef::parse(&b[16 + 2 * r..16 + 3 * r]),
        }
    }

    /// The buffers with their role names, in file order of the entry.
    pub(crate) fn buffers(&self) -> [(&'static str, &BufferRef); 3] {
        [("validity", &self.validity), ("offsets", &self.offsets), ("values", &self.values)]
    }
}

/// Rounds `n` up to a multiple of [`ALIGNMENT`].
#[must_use]
pub fn align_up(n: u64) -> u64 {
    n.div_ceil(ALIGNMENT) * ALIGNMENT
}

/// xxh3-64, the one checksum of the format.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// xxh3-64 over several byte slices as if concatenated.
pub(crate) fn checksum_parts(parts: &[&[u8]]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p);
    }
    h.digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_entry_round_trips_at_fixed_width() {
        let e = ChunkEntry {
            row_count: 7,
            null_count: 2,
            validity: BufferRef { offset: 64, stored_len: 1, decoded_len: 1, checksum: 9, stages: [0; 8] },
            offsets: BufferRef::default(),
            values: BufferRef { offset: 128, stored_len: 20, decoded_len: 56, checksum: 3, stages: [1, 16, 0, 0, 0, 0, 0, 0] },
        };
        let mut out = Vec::new();
        e.encode(&mut out);
        assert_eq!(out.len() as u64, CHUNK_ENTRY_LEN);
        assert_eq!(ChunkEntry::parse(&out), e);
        assert_eq!(e.values.stage_ids(), &[1, 16]);
    }

    #[test]
    fn trailer_rejects_short_and_bad_magic() {
        assert!(matches!(Trailer::parse(&[0u8; 100]), Err(Error::TooShort { .. })));
        let mut f = vec![0u8; 128];
        f[..8].copy_from_slice(&MAGIC);
        assert!(matches!(Trailer::parse(&f), Err(Error::BadMagic { offset: 120 })));
    }
}
