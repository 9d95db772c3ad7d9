//! Byte buffers that keep the format's 64-byte alignment when owned, and the sealed
//! [`NativeType`] trait through which column bytes are viewed as typed slices. Views are checked
//! casts (length and alignment), so no `unsafe` is needed here.

use std::ops::Deref;

use rayon::iter::ParallelExtend;

/// An owned, zero-initialised, 64-byte aligned byte buffer.
///
/// Backed by a `Vec<u8>` with up to 63 bytes of slack in front, so that allocation is fallible
/// ([`AlignedBytes::try_zeroed`]) and no `unsafe` is needed.
#[derive(Default)]
pub struct AlignedBytes {
    vec: Vec<u8>,
    start: usize,
    len: usize,
}

/// Buffers at least this large are zeroed on the thread pool.
const PARALLEL_ZEROING: usize = 8 << 20;

impl AlignedBytes {
    /// `len` zero bytes; `None` if the memory cannot be had.
    #[must_use]
    pub fn try_zeroed(len: usize) -> Option<Self> {
        let mut vec: Vec<u8> = Vec::new();
        vec.try_reserve_exact(len.checked_add(63)?).ok()?;
        let start = vec.as_ptr().align_offset(64);
        vec.resize(start, 0);
        if len >= PARALLEL_ZEROING {
            // The first write to fresh pages is what costs (the kernel clears them; on a VM
            // that handed them back to its host, at ~0.5 GB/s): on every thread it goes 2-3x
            // faster than on one, and so does a fill of warm memory.
            vec.par_extend(rayon::iter::repeat_n(0u8, len));
        } else {
            vec.resize(start + len, 0);
        }
        Some(AlignedBytes { vec, start, len })
    }

    /// `len` zero bytes.
    ///
    /// # Panics
    /// If the memory cannot be allocated.
    #[must_use]
    pub fn zeroed(len: usize) -> Self {
        #[allow(clippy::expect_used)]
        Self::try_zeroed(len).expect("allocation failed") // ok: documented panic, as Vec::with_capacity
    }

    /// A copy of `bytes`, aligned. Written once (no zero fill first: that would touch the
    /// memory twice).
    ///
    /// # Panics
    /// If the memory cannot be allocated.
    #[must_use]
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut vec: Vec<u8> = Vec::with_capacity(bytes.len() + 63);
        let start = vec.as_ptr().align_offset(64);
        vec.resize(start, 0);
        vec.extend_from_slice(bytes);
        AlignedBytes { vec, start, len: bytes.len() }
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.vec[self.start..self.start + self.len]
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.vec[self.start..self.start + self.len]
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Clone for AlignedBytes {
    fn clone(&self) -> Self {
        // A plain Vec clone could land at another alignment.
        Self::copy_from(self.as_slice())
    }
}

impl Deref for AlignedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for AlignedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBytes({} bytes)", self.len)
    }
}

/// Bytes that something else owns (an Arrow buffer, say), held through a shared handle: how
/// column data from another library reaches the writer without a copy.
#[derive(Clone)]
pub struct SharedSlice(std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>);

impl SharedSlice {
    /// Shares `owner`'s bytes; they live as long as any clone of this value.
    pub fn new(owner: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        SharedSlice(std::sync::Arc::new(owner))
    }
}

impl Deref for SharedSlice {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl std::fmt::Debug for SharedSlice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedSlice({} bytes)", self.len())
    }
}

/// Column bytes either borrowed from the file (zero-copy), decoded into owned memory, or shared
/// with their owner elsewhere.
#[derive(Debug, Clone)]
pub enum Buf<'a> {
    /// A slice of the file.
    Borrowed(&'a [u8]),
    /// Decoded bytes.
    Owned(AlignedBytes),
    /// Bytes another owner holds (for writing; readers never return these).
    Shared(SharedSlice),
}

impl Buf<'_> {
    /// Whether these bytes point into the file.
    #[must_use]
    pub fn is_borrowed(&self) -> bool {
        matches!(self, Buf::Borrowed(_))
    }
}

impl Deref for Buf<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Borrowed(b) => b,
            Buf::Owned(o) => o.as_slice(),
            Buf::Shared(s) => s,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A plain little-endian number type that column bytes may be viewed as.
///
/// Sealed: implemented for `u8..u64`, `i8..i64`, `f32`, `f64`, which have no invalid bit
/// patterns and no padding.
pub trait NativeType: bytemuck::Pod + sealed::Sealed {
    /// The Rust name, for error messages.
    const NAME: &'static str;
}

macro_rules! native {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl NativeType for $t {
            const NAME: &'static str = stringify!($t);
        }
    )*};
}
native!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

/// Views `bytes` as `&[T]`; `None` if the length is not a multiple of `T`'s size or the start is
/// misaligned for `T`.
#[must_use]
pub(crate) fn cast<T: NativeType>(bytes: &[u8]) -> Option<&[T]> {
    bytemuck::try_cast_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_bytes_are_64_byte_aligned() {
        for n in [0usize, 1, 63, 64, 65, 1000, PARALLEL_ZEROING, PARALLEL_ZEROING + 13] {
            let a = AlignedBytes::zeroed(n);
            assert_eq!(a.len(), n);
            assert_eq!(a.as_ptr() as usize % 64, 0);
            assert!(a.iter().all(|&b| b == 0));
            let src: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let c = AlignedBytes::copy_from(&src);
            assert_eq!((c.as_ptr() as usize % 64, &c[..]), (0, &src[..]));
        }
    }

    #[test]
    fn cast_checks_alignment_and_length() {
        let a = AlignedBytes::copy_from(&[1, 0, 0, 0, 2, 0, 0, 0, 9]);
        assert_eq!(cast::<u32>(&a[..8]), Some(&[1u32, 2][..]));
        assert!(cast::<u32>(&a[..7]).is_none());
        assert!(cast::<u32>(&a[1..5]).is_none());
    }
}
