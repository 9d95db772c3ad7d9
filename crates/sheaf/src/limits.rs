//! The memory limit that bounds what a file may make a reader allocate at once: a foreign
//! decoder (a Parquet row group, an `.npz` member) runs only when the size the file declares is
//! within it, so a small hostile file cannot exhaust memory. By default it is a quarter of the
//! physical memory, at most 2 GiB, and at most half the address-space limit (`RLIMIT_AS`) when
//! the process has one; `SHEAF_MEMORY_LIMIT` (bytes, or with a K/M/G/T suffix, e.g. `8G`) or
//! [`set_memory_limit`] sets it.

use std::sync::atomic::{AtomicU64, Ordering};

/// The default's cap: what one row group or member may declare without the user saying more.
const DEFAULT_CAP: u64 = 2 << 30;

/// 0 until set: then the limit in bytes.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// The limit in bytes on what one decode of a foreign format may allocate (see the module docs).
#[must_use]
pub fn memory_limit() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let limit = std::env::var("SHEAF_MEMORY_LIMIT").ok().and_then(|v| parse_size(&v)).unwrap_or_else(default_limit).max(1);
            LIMIT.store(limit, Ordering::Relaxed);
            limit
        }
        n => n,
    }
}

/// Sets the memory limit (bytes, at least 1) for the rest of the process.
pub fn set_memory_limit(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// A size as `123`, `64K`, `512M`, `8G` or `1T` (powers of 1024; a trailing `B`/`iB` allowed).
#[must_use]
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, shift) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 10),
        'm' | 'M' => (&t[..t.len() - 1], 20),
        'g' | 'G' => (&t[..t.len() - 1], 30),
        't' | 'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

fn default_limit() -> u64 {
    let mut limit = DEFAULT_CAP;
    if let Some(total) = physical_memory() {
        limit = limit.min(total / 4);
    }
    if let Some(address_space) = address_space_limit() {
        limit = limit.min(address_space / 2);
    }
    limit.max(64 << 20)
}

#[cfg(target_os = "linux")]
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(not(target_os = "linux"))]
fn physical_memory() -> Option<u64> {
    None
}

#[cfg(target_os = "linux")]
fn address_space_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::As).current
}

#[cfg(not(target_os = "linux"))]
fn address_space_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes_and_junk_is_refused() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size(" 8G "), Some(8 << 30));
        assert_eq!(parse_size("1t"), Some(1 << 40));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999T"), None, "overflow is refused");
    }

    #[test]
    fn the_default_is_bounded_and_positive() {
        let d = default_limit();
        assert!((64 << 20..=DEFAULT_CAP).contains(&d), "{d}");
    }
}
