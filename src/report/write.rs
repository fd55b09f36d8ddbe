//! Writing report files safely: into a temporary file in the target folder,
//! flushed to disk, then renamed over the target. A crash, a full disk or a
//! bad path never leaves half a report and never destroys the previous one.
//! A target that is not a regular file (`/dev/null`, `/dev/stdout`, a named
//! pipe) is written into, never replaced; a symbolic link stays a link.
//!
//! Every file written here is private to its owner ([`MODE`], 0600),
//! whatever the umask: reports, the image cache, the vulnerability data,
//! the settings and the audit log's head all describe the machine — its
//! containers, their labels and commands, the files of its images — and
//! are no one else's to read. (A report meant to be shared is shared on
//! purpose: `chmod` it.)

use std::io::Write;
use std::path::{Path, PathBuf};

/// A report or file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {reason}")]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// The mode of every file [`write_atomic`] creates: read and write for its
/// owner only.
pub const MODE: u32 = 0o600;

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees half a file; the file is created [`MODE`] (0600).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let fail = |reason: String| WriteError {
        path: path.to_path_buf(),
        reason,
    };
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    match std::fs::metadata(path) {
        // A device, a FIFO or a socket (`-o /dev/null`, `-o /dev/stdout`, a
        // named pipe) is written into, never replaced: renaming a file
        // over it would replace the system's /dev/null for everyone.
        Ok(m) if !m.is_file() => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| fail(e.to_string()))?;
            return f.write_all(bytes).map_err(|e| fail(e.to_string()));
        }
        // A symbolic link stays a link: what it points at is replaced.
        Ok(_) if path.is_symlink() => {
            let target = std::fs::canonicalize(path).map_err(|e| fail(e.to_string()))?;
            return write_atomic(&target, bytes);
        }
        _ => {}
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail(format!("the folder {} does not exist", dir.display())));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".shipshape-").suffix(".tmp");
    // Created with its mode (not chmod-ed after): never readable by
    // others, not even for a moment, whatever the umask.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(MODE));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| fail(e.to_string()))?;
    tmp.write_all(bytes).map_err(|e| fail(e.to_string()))?;
    tmp.as_file().sync_all().map_err(|e| fail(e.to_string()))?;
    tmp.persist(path).map_err(|e| fail(e.error.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scan -o /dev/null` as root replaced the system's /dev/null with a
    /// regular file (the temporary file was renamed over it).
    #[test]
    fn a_device_is_written_into_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"report").unwrap();
        let t = std::fs::metadata("/dev/null").unwrap().file_type();
        assert!(t.is_char_device(), "/dev/null is still the device");
    }

    #[test]
    fn a_symlink_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("latest.json");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(link.is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    /// Reports and the image cache describe the machine: 0600, whatever
    /// the umask, and a file that was readable by others before is not
    /// after it is written again.
    #[test]
    fn files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_atomic(&p, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
    }

    #[test]
    fn replaces_the_target_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn a_missing_folder_is_a_clear_error_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/r.json");
        let e = write_atomic(&p, b"x").unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_report() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_atomic(&p, b"previous").unwrap();
        // Writing to a directory path fails without touching anything.
        assert!(write_atomic(dir.path(), b"x").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"previous");
    }
}
