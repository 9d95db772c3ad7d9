//! Atomic replacement of a file that leaves no debris: [`AtomicFile`] is the file every writer of
//! the project (sheaf, `.npy`, `.npz`, Arrow, Parquet, CSV) fills before it takes the target's
//! place in one rename. On Linux it is an unnamed file (`O_TMPFILE`) in the target's directory:
//! a process killed while writing leaves nothing, the kernel frees the inode. It gets a name only
//! at the end, for the instant between linking it in and renaming it over the target. Elsewhere
//! (or on file systems without `O_TMPFILE`) it is a named temporary `.NAME.sheaf-PID.XXXX.tmp`,
//! and a writer removes the temporaries of dead writers of the same target before it starts.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A file being written that replaces `target` atomically on [`AtomicFile::persist`]; dropped
/// unpersisted, it leaves no file behind and the target untouched.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    target: PathBuf,
    dir: PathBuf,
    /// The temporary's name when it has one (not `O_TMPFILE`).
    named: Option<tempfile::TempPath>,
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The name prefix of this process's temporaries for `target`: `.NAME.sheaf-PID.`.
fn temp_prefix(target: &Path, pid: u32) -> String {
    format!(".{}.sheaf-{pid}.", target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

impl AtomicFile {
    /// Starts a file that will replace `target`, in the target's directory (so that the final
    /// rename is atomic), with the mode a new file gets (0666 less the umask).
    ///
    /// # Errors
    /// I/O errors creating the file (a missing or read-only directory).
    pub fn create(target: impl AsRef<Path>) -> std::io::Result<Self> {
        let target = target.as_ref().to_path_buf();
        let dir = dir_of(&target);
        remove_stale_temporaries(&target, &dir);
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed_in(&dir) {
            return Ok(AtomicFile { file, target, dir, named: None });
        }
        let mut builder = tempfile::Builder::new();
        let prefix = temp_prefix(&target, std::process::id());
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let (file, path) = builder.tempfile_in(&dir)?.into_parts();
        Ok(AtomicFile { file, target, dir, named: Some(path) })
    }

    /// The file being written.
    #[must_use]
    pub fn as_file(&self) -> &File {
        &self.file
    }

    /// The file being written, mutably.
    pub fn as_file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// The path this file will replace.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Whether the file has no name while it is written (`O_TMPFILE`): a killed writer leaves
    /// nothing.
    #[must_use]
    pub fn is_unnamed(&self) -> bool {
        self.named.is_none()
    }

    /// Puts the file in the target's place in one rename (readers with the old file open keep
    /// it).
    ///
    /// # Errors
    /// I/O errors linking or renaming; the target is then unchanged.
    pub fn persist(self) -> std::io::Result<()> {
        match self.named {
            Some(path) => path.persist(&self.target).map_err(|e| e.error),
            #[cfg(target_os = "linux")]
            None => link_unnamed(&self.file, &self.target, &self.dir),
            #[cfg(not(target_os = "linux"))]
            None => Err(std::io::Error::other("an unnamed temporary file outside Linux")),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        self.file.write_vectored(bufs)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

/// An unnamed file in `dir`, when the file system has `O_TMPFILE` and `/proc` is there to give
/// it a name at the end (`None` otherwise: the caller makes a named temporary instead).
#[cfg(target_os = "linux")]
fn unnamed_in(dir: &Path) -> Option<File> {
    use rustix::fs::{Mode, OFlags, CWD};
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let fd = rustix::fs::openat(CWD, dir, OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC, Mode::from_raw_mode(0o666)).ok()?;
    Some(File::from(fd))
}

/// Links the unnamed `file` into `dir` under a temporary name, then renames it over `target`:
/// `linkat` cannot replace a file, `rename` can, atomically.
#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, target: &Path, dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let prefix = temp_prefix(target, std::process::id());
    for attempt in 0u32..16 {
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) ^ attempt.wrapping_mul(0x9E37_79B9);
        let temp = dir.join(format!("{prefix}{nonce:08x}.tmp"));
        match rustix::fs::linkat(rustix::fs::CWD, proc_path.as_str(), rustix::fs::CWD, &temp, rustix::fs::AtFlags::SYMLINK_FOLLOW) {
            Ok(()) => {
                return std::fs::rename(&temp, target).inspect_err(|_| {
                    let _ = std::fs::remove_file(&temp);
                });
            }
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temporary name to link the written file"))
}

/// Removes `dir`'s temporaries for `target` left by writers that are no longer running (named
/// `.NAME.sheaf-PID.*.tmp` with a PID that is gone). Best effort: what cannot be listed or
/// removed stays. Only on Linux, where a PID's liveness can be told from `/proc`.
fn remove_stale_temporaries(target: &Path, dir: &Path) {
    #[cfg(target_os = "linux")]
    {
        let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
        let head = format!(".{name}.sheaf-");
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = file_name.strip_prefix(&head).filter(|_| file_name.ends_with(".tmp")) else { continue };
            let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (target, dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn an_unfinished_file_leaves_nothing_and_a_persisted_one_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.sheaf");
        std::fs::write(&target, b"old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new bytes").unwrap();
        #[cfg(target_os = "linux")]
        assert!(f.is_unnamed(), "O_TMPFILE is expected on this project's Linux hosts");
        assert_eq!(names(dir.path()), ["out.sheaf"], "nothing named while writing");
        drop(f);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new bytes").unwrap();
        f.persist().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new bytes");
        assert_eq!(names(dir.path()), ["out.sheaf"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temporaries_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.npy");
        // PID 0 is never a process; this process is alive.
        let dead = dir.path().join(format!("{}abcd.tmp", temp_prefix(&target, 0)));
        let live = dir.path().join(format!("{}abcd.tmp", temp_prefix(&target, std::process::id())));
        let other = dir.path().join(".other.sheaf-0.abcd.tmp");
        for p in [&dead, &live, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let f = AtomicFile::create(&target).unwrap();
        drop(f);
        assert!(!dead.exists() && live.exists() && other.exists());
    }
}
