//! Byte buffers that keep the format's 64-byte alignment when owned, and the sealed
//! [`NativeType`] trait through which column bytes are viewed as typed slices. Views are checked
//! casts (length and alignment), so no `unsafe` is needed here.

use std::ops::Deref;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rayon::prelude::{ParallelIterator, ParallelSliceMut};

/// An owned, zero-initialised, 64-byte aligned byte buffer.
///
/// Small buffers live in a `Vec<u8>` with up to 63 bytes of slack in front; large ones (decoded
/// columns) in an anonymous memory map, which the kernel hands over already zeroed and
/// page-aligned and which is asked for transparent huge pages. Allocation is fallible
/// ([`AlignedBytes::try_zeroed`]) and no `unsafe` is needed.
#[derive(Default)]
pub struct AlignedBytes {
    storage: Storage,
    len: usize,
}

/// Where the bytes of an [`AlignedBytes`] live.
enum Storage {
    /// A vector whose bytes from `start` on are the buffer.
    Heap { vec: Vec<u8>, start: usize },
    /// An anonymous map whose first `len` bytes are the buffer.
    Mapped(memmap2::MmapMut),
}

impl Default for Storage {
    fn default() -> Self {
        Storage::Heap { vec: Vec::new(), start: 0 }
    }
}

/// Buffers at least this large are anonymous maps, with huge pages asked for, and recycled.
///
/// Why: the first write to each fresh page is what a decode into new memory pays (the kernel
/// clears it; on a VM also the host backs it). With 4 KiB pages that cost 0.17 s for the 820 MB
/// of the suite's `particles` on this host, more than the decoding; with 2 MiB pages about a
/// third of it (NumPy advises huge pages for its large arrays for the same reason), and with a
/// recycled map nothing. From 1 MiB so that columns of a few MB are recycled too: reading the
/// 45 MB `flights` table (2.7 MB a column) in a loop went from 17 to 12 ms.
const MAPPED_FROM: usize = 1 << 20;

impl AlignedBytes {
    /// `len` zero bytes; `None` if the memory cannot be had.
    #[must_use]
    pub fn try_zeroed(len: usize) -> Option<Self> {
        if len >= MAPPED_FROM {
            // A recycled map zeroed costs a fill of warm memory, several times cheaper than the
            // first writes to a fresh one; and a loop of allocations (a conversion's batches)
            // reuses its maps instead of piling them up.
            let (mut bytes, reused) = large(len)?;
            if reused {
                bytes.as_mut_slice().par_chunks_mut(1 << 20).for_each(|c| c.fill(0));
            }
            return Some(bytes);
        }
        let mut vec: Vec<u8> = Vec::new();
        vec.try_reserve_exact(len.checked_add(63)?).ok()?;
        let start = vec.as_ptr().align_offset(64);
        vec.resize(start + len, 0);
        Some(AlignedBytes { storage: Storage::Heap { vec, start }, len })
    }

    /// `len` bytes for a caller that overwrites every one of them (a decoder): large buffers may
    /// be memory a dropped buffer left behind, holding its old bytes; `None` if the memory
    /// cannot be had.
    ///
    /// Why: a fresh page costs the kernel's clearing of it on first write (a fifth of a
    /// `particles` read in a loop on this host), and a process that reads file after file would
    /// pay it on every read. Freed maps (up to 2 GiB of them, each for 10 s) are kept for the
    /// next read, as pyarrow's jemalloc pool keeps freed memory.
    #[must_use]
    pub fn try_for_overwrite(len: usize) -> Option<Self> {
        if len < MAPPED_FROM {
            return Self::try_zeroed(len);
        }
        large(len).map(|(bytes, _)| bytes)
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

    /// A copy of `bytes`, aligned, written once (no zero fill first: that would touch the memory
    /// twice); large copies go to a recycled or fresh map, as decoded columns do.
    ///
    /// # Panics
    /// If the memory cannot be allocated.
    #[must_use]
    pub fn copy_from(bytes: &[u8]) -> Self {
        if bytes.len() >= MAPPED_FROM {
            #[allow(clippy::expect_used)]
            let mut copy = Self::try_for_overwrite(bytes.len()).expect("allocation failed"); // ok: documented panic
            copy.as_mut_slice().copy_from_slice(bytes);
            return copy;
        }
        let mut vec: Vec<u8> = Vec::with_capacity(bytes.len() + 63);
        let start = vec.as_ptr().align_offset(64);
        vec.resize(start, 0);
        vec.extend_from_slice(bytes);
        AlignedBytes { storage: Storage::Heap { vec, start }, len: bytes.len() }
    }

    /// Whether the bytes live in an anonymous map (large buffers) rather than on the heap.
    #[must_use]
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped(_))
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        match &self.storage {
            Storage::Heap { vec, start } => &vec[*start..*start + self.len],
            Storage::Mapped(map) => &map[..self.len],
        }
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.storage {
            Storage::Heap { vec, start } => &mut vec[*start..*start + self.len],
            Storage::Mapped(map) => &mut map[..self.len],
        }
    }
}

impl Drop for AlignedBytes {
    fn drop(&mut self) {
        if let Storage::Mapped(map) = std::mem::take(&mut self.storage) {
            if recycling() {
                with_recycled(|r| r.put(map));
            }
        }
    }
}

/// Whether freed large buffers are kept for reuse (off unless the embedder turns it on).
static RECYCLING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn recycling() -> bool {
    RECYCLING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Turns the recycling of freed decode buffers on or off for this process (off by default).
///
/// When on, dropped column buffers of 1 MiB or more are kept (up to 2 GiB, each for 10 s) and
/// handed to the next decode, as pyarrow's jemalloc pool keeps freed memory: a process that
/// reads file after file then skips the kernel's clearing of fresh pages (on this project's VM,
/// first writes to fresh memory run at about 0.5 GB/s). Expired maps are unmapped on a
/// short-lived thread of their own. A library embedded in a host (Python, a query engine)
/// leaves it off, the default: then no memory is kept and no thread is started. The CLI and the
/// benchmarks turn it on. Turning it off releases what is kept.
pub fn set_memory_recycling(enabled: bool) {
    RECYCLING.store(enabled, std::sync::atomic::Ordering::Relaxed);
    if !enabled {
        release_recycled_memory();
    }
}

/// A large buffer: a recycled map (old bytes in it; `true`) or else a new anonymous map of zero
/// bytes with huge pages asked for (`false`).
fn large(len: usize) -> Option<(AlignedBytes, bool)> {
    let kept = if recycling() { with_recycled(|r| r.take(len)) } else { None };
    let reused = kept.is_some();
    let map = match kept {
        Some(map) => map,
        None => {
            let map = memmap2::MmapMut::map_anon(len).ok()?;
            advise_huge_pages(&map);
            map
        }
    };
    Some((AlignedBytes { storage: Storage::Mapped(map), len }, reused))
}

/// The most bytes of freed maps kept for reuse: enough for the largest table the suite reads
/// (1.35 GB), small beside the memory such a table is read on.
const RECYCLED_LIMIT: usize = 2 << 30;

/// How long a freed map is kept: long enough for a loop over files, short enough that a process
/// done reading soon gives the memory back (checked whenever a map is taken or freed).
const RECYCLED_FOR: Duration = Duration::from_secs(10);

/// Freed maps, newest last, with when each was freed; and the maps expired or evicted under the
/// lock, to be unmapped after it is released.
#[derive(Default)]
struct Recycled {
    maps: Vec<(memmap2::MmapMut, Instant)>,
    bytes: usize,
    gone: Vec<memmap2::MmapMut>,
}

/// Gives back to the system the memory that dropped column buffers left for reuse (up to 2 GiB,
/// otherwise released at the first allocation or drop of a large buffer 10 s after it was
/// freed): for a long-running process done reading for a while. Returns the bytes released.
pub fn release_recycled_memory() -> usize {
    let mut r = recycled();
    let bytes = r.bytes;
    r.maps.clear();
    r.bytes = 0;
    bytes
}

/// Runs `f` on the list, then unmaps what it expired or evicted: on a thread of its own, as
/// unmapping a gigabyte takes milliseconds that a read in progress should not wait for (the
/// maps are unmapped here if no thread can be started).
fn with_recycled<T>(f: impl FnOnce(&mut Recycled) -> T) -> T {
    let (out, gone) = {
        let mut r = recycled();
        let out = f(&mut r);
        (out, std::mem::take(&mut r.gone))
    };
    if !gone.is_empty() {
        let _unmapped_here_if_failed = std::thread::Builder::new().name("sheaf-unmap".into()).spawn(move || drop(gone));
    }
    out
}

fn recycled() -> MutexGuard<'static, Recycled> {
    static RECYCLED: Mutex<Recycled> = Mutex::new(Recycled { maps: Vec::new(), bytes: 0, gone: Vec::new() });
    // A panic while holding the lock leaves the list consistent (each step is one push or
    // remove), so a poisoned lock is still usable.
    RECYCLED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Recycled {
    /// The smallest kept map that holds `len` bytes without wasting more than a quarter.
    fn take(&mut self, len: usize) -> Option<memmap2::MmapMut> {
        self.expire();
        let fits = |m: &memmap2::MmapMut| m.len() >= len && m.len() - len <= len / 4;
        let (at, _) = self.maps.iter().enumerate().filter(|(_, (m, _))| fits(m)).min_by_key(|(_, (m, _))| m.len())?;
        let (map, _) = self.maps.remove(at);
        self.bytes -= map.len();
        Some(map)
    }

    fn put(&mut self, map: memmap2::MmapMut) {
        self.expire();
        if map.len() > RECYCLED_LIMIT {
            return;
        }
        while self.bytes + map.len() > RECYCLED_LIMIT {
            let (oldest, _) = self.maps.remove(0);
            self.bytes -= oldest.len();
            self.gone.push(oldest);
        }
        self.bytes += map.len();
        self.maps.push((map, Instant::now()));
    }

    fn expire(&mut self) {
        self.expire_at(Instant::now());
    }

    fn expire_at(&mut self, now: Instant) {
        let kept = self.maps.iter().position(|(_, freed)| now.duration_since(*freed) < RECYCLED_FOR).unwrap_or(self.maps.len());
        for (map, _) in self.maps.drain(..kept) {
            self.bytes -= map.len();
            self.gone.push(map);
        }
    }
}

/// Asks for transparent huge pages; where the kernel has none or refuses, the map keeps its
/// normal pages, which is only slower.
#[cfg(target_os = "linux")]
fn advise_huge_pages(map: &memmap2::MmapMut) {
    let _ignored = map.advise(memmap2::Advice::HugePage);
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_map: &memmap2::MmapMut) {}

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

/// Bytes with a shared owner: an owner-plus-range buffer (a [`bytes::Bytes`]) that keeps what
/// holds the bytes (a memory map, decoded memory, an Arrow buffer) alive as long as any clone or
/// slice of it. This is how plain columns leave a file without a copy and stay valid after the
/// [`crate::File`] is dropped, and how column data from another library reaches the writer.
#[derive(Clone, Default)]
pub struct SharedSlice(bytes::Bytes);

impl SharedSlice {
    /// Shares `owner`'s bytes; they live as long as any clone of this value.
    pub fn new(owner: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        SharedSlice(bytes::Bytes::from_owner(owner))
    }

    /// Shares decoded, aligned memory (no copy).
    #[must_use]
    pub fn from_aligned(bytes: AlignedBytes) -> Self {
        SharedSlice(bytes::Bytes::from_owner(bytes))
    }

    /// Takes a vector (no copy; its start need not be aligned).
    #[must_use]
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        SharedSlice(bytes::Bytes::from(bytes))
    }

    /// No bytes.
    #[must_use]
    pub fn empty() -> Self {
        SharedSlice(bytes::Bytes::new())
    }

    /// The bytes `range` of these, sharing the owner (no copy).
    ///
    /// # Panics
    /// If `range` is out of bounds.
    #[must_use]
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        SharedSlice(self.0.slice(range))
    }

    /// The [`bytes::Bytes`] inside (for Arrow's `Buffer::from`, which keeps the owner alive).
    #[must_use]
    pub fn into_bytes(self) -> bytes::Bytes {
        self.0
    }

    /// Wraps a [`bytes::Bytes`].
    #[must_use]
    pub fn from_bytes(bytes: bytes::Bytes) -> Self {
        SharedSlice(bytes)
    }
}

impl Deref for SharedSlice {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for SharedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SharedSlice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedSlice({} bytes)", self.len())
    }
}

/// Column bytes: borrowed from the caller (writer input), decoded into owned memory, or shared
/// with an owner (a slice of a file's memory map that a read hands out without copying, or an
/// Arrow buffer going into the writer).
#[derive(Debug, Clone)]
pub enum Buf<'a> {
    /// Bytes the caller lends (writer input only; readers never return these).
    Borrowed(&'a [u8]),
    /// Decoded bytes.
    Owned(AlignedBytes),
    /// Bytes another owner holds: for reads, a slice of the file's map (zero-copy).
    Shared(SharedSlice),
}

impl Buf<'_> {
    /// Whether these bytes are shared with an owner rather than decoded here: for a read, a
    /// zero-copy slice of the file.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self, Buf::Shared(_))
    }

    /// The bytes as a shared buffer: no copy for shared or owned bytes, a copy of borrowed ones.
    #[must_use]
    pub fn into_shared(self) -> SharedSlice {
        match self {
            Buf::Borrowed(b) => SharedSlice::from_aligned(AlignedBytes::copy_from(b)),
            Buf::Owned(o) => SharedSlice::from_aligned(o),
            Buf::Shared(s) => s,
        }
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
        for n in [0usize, 1, 63, 64, 65, 1000, MAPPED_FROM - 1, MAPPED_FROM, MAPPED_FROM + 13] {
            let a = AlignedBytes::zeroed(n);
            assert_eq!((a.len(), a.is_mapped()), (n, n >= MAPPED_FROM));
            assert_eq!(a.as_ptr() as usize % 64, 0);
            assert!(a.iter().all(|&b| b == 0));
            let src: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut c = AlignedBytes::copy_from(&src);
            assert_eq!((c.as_ptr() as usize % 64, &c[..]), (0, &src[..]));
            assert_eq!(c.clone()[..], src[..]);
            if n > 0 {
                c.as_mut_slice()[n - 1] ^= 1;
                assert_ne!(c[..], src[..]);
            }
        }
    }

    #[test]
    fn dropped_large_buffers_are_reused_and_zeroed_when_asked_and_released_on_demand() {
        // A size no other test of this crate allocates, so that the shared list is ours here.
        let n = 37 * MAPPED_FROM / 4 + 1;
        set_memory_recycling(true);
        let mut a = AlignedBytes::try_for_overwrite(n).unwrap();
        a.as_mut_slice().fill(0x5A);
        let at = a.as_ptr();
        drop(a);
        let b = AlignedBytes::try_for_overwrite(n).unwrap();
        assert_eq!((b.as_ptr(), b.len(), b[n - 1]), (at, n, 0x5A), "the freed map comes back with its bytes");
        drop(b);
        let z = AlignedBytes::try_zeroed(n).unwrap();
        assert_eq!(z.as_ptr(), at, "zeroed buffers reuse freed maps too");
        assert!(z.iter().all(|&v| v == 0));
        drop(z);
        let kept = |n: usize| recycled().maps.iter().any(|(m, _)| m.len() == n);
        assert!(kept(n));
        assert!(release_recycled_memory() >= n);
        assert!(!kept(n), "released");
    }

    #[test]
    fn recycled_maps_fit_the_request_stay_under_the_limit_and_expire() {
        let map = |n: usize| memmap2::MmapMut::map_anon(n).unwrap(); // address space only: never touched
        let mut r = Recycled::default();
        r.put(map(RECYCLED_LIMIT / 4 * 3));
        r.put(map(RECYCLED_LIMIT / 2));
        assert_eq!((r.maps.len(), r.bytes), (1, RECYCLED_LIMIT / 2), "the older map goes to stay under the limit");
        assert_eq!(r.gone.iter().map(|m| m.len()).collect::<Vec<_>>(), [RECYCLED_LIMIT / 4 * 3], "to be unmapped outside the lock");
        assert!(r.take(RECYCLED_LIMIT / 4).is_none(), "twice the size asked for wastes too much");
        assert_eq!(r.take(RECYCLED_LIMIT / 2 - 1000).map(|m| m.len()), Some(RECYCLED_LIMIT / 2));
        assert_eq!(r.bytes, 0);
        r.put(map(MAPPED_FROM));
        r.expire_at(Instant::now() + RECYCLED_FOR);
        assert_eq!((r.maps.len(), r.bytes, r.gone.len()), (0, 0, 2));
    }

    #[test]
    fn cast_checks_alignment_and_length() {
        let a = AlignedBytes::copy_from(&[1, 0, 0, 0, 2, 0, 0, 0, 9]);
        assert_eq!(cast::<u32>(&a[..8]), Some(&[1u32, 2][..]));
        assert!(cast::<u32>(&a[..7]).is_none());
        assert!(cast::<u32>(&a[1..5]).is_none());
    }
}
