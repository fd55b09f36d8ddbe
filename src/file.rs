//! Reading a file that someone else named: the compose files, `extends`
//! files, `.env` and `env_file`s a container's labels lead to (written by
//! the image's or the container's author), and the files a user names
//! (`--policy`, `--baseline`, the settings, `db import`, an audit log to
//! verify). The one way shipshape opens such a file.
//!
//! A name may lead anywhere: a FIFO (opening it waits for a writer that
//! never comes), `/proc/kmsg` (a "regular" file whose read waits for the
//! kernel, and consumes its messages), `/dev/zero` (endless),
//! `/dev/watchdog` (merely opening it arms the machine's watchdog), a
//! folder, a file on a network or FUSE mount that no longer answers. So:
//!
//! 1. a path under `/proc`, `/sys` or `/dev` is refused by its name
//!    (made absolute, `..` resolved as written);
//! 2. the file is looked up with `O_PATH`, which opens nothing: no device
//!    driver is called, no FIFO waited on;
//! 3. `fstat` of that descriptor: only a regular file goes on; `fstatfs`:
//!    a file of a kernel pseudo file system (procfs, sysfs, debugfs,
//!    tracefs, securityfs, configfs, cgroup, bpf, efivarfs, pstore, …)
//!    does not, wherever it is mounted or linked from;
//! 4. only then is that very file opened for reading, through
//!    `/proc/self/fd` (so it cannot be swapped in between), with
//!    `O_NONBLOCK | O_NOCTTY | O_CLOEXEC`, and checked again;
//! 5. at most a ceiling of bytes is read ([`Limit`]), a larger file is an
//!    error naming the ceiling;
//! 6. all of it on a thread of its own, waited for at most [`TIME`]: a read
//!    that blocks (a hung NFS or sshfs mount) is given up, and at most
//!    [`MAX_WAITING`] such reads are left waiting before further reads are
//!    refused at once — a hostile or dead file never stalls a scan.
//!
//! Symbolic links are followed, to the end: compose files are commonly
//! linked from a dotfiles folder, and the checks above apply to the file
//! the links lead to (a link to a FIFO, to `/proc/kmsg` or to a device is
//! refused as the file itself would be). Refusing links would protect
//! nothing: whoever writes the name can write the link's target instead.
//! A loop of links is the system's error ("too many levels of symbolic
//! links").
//!
//! Errors are `std::io::Error`s (kind kept: `NotFound` stays `NotFound`)
//! whose text does not repeat the path: the caller names it, as with
//! `std::fs`.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use rustix::fs::{FileType, Mode, OFlags};

/// How much of a kind of file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What the file is, for the message (`a compose file`).
    pub what: &'static str,
    /// The most bytes read; a larger file is refused.
    pub bytes: u64,
}

/// How long opening and reading one file may take.
pub const TIME: Duration = Duration::from_secs(10);
/// How many reads that took longer than [`TIME`] may still be waiting (on
/// their own threads) before further reads are refused at once.
pub const MAX_WAITING: usize = 4;
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Folders whose files are never read, by name.
const REFUSED_DIRS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Kernel pseudo file systems (`linux/magic.h`): their "regular" files are
/// the kernel's interfaces, not data.
const PSEUDO_FS: [(u32, &str); 16] = [
    (0x9fa0, "procfs"),
    (0x6265_6572, "sysfs"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0x6265_6570, "configfs"),
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0xcafe_4a11, "bpf"),
    (0xde5e_81e4, "efivarfs"),
    (0x6165_676c, "pstore"),
    (0x1cd1, "devpts"),
    (0x4249_4e4d, "binfmt_misc"),
    (0xf97c_ff8c, "selinuxfs"),
    (0x4341_5d53, "smackfs"),
    (0x6573_5543, "fusectl"),
];

fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

/// The path made absolute, `.` and `..` resolved as written (links are
/// not: this is only the first, by-name check).
fn lexical(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

fn kind(t: FileType) -> &'static str {
    match t {
        FileType::Fifo => "a named pipe",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Directory => "a folder",
        FileType::Socket => "a socket",
        FileType::Symlink => "a symbolic link",
        _ => "of an unknown kind",
    }
}

/// Steps 1 to 4: the file, open for reading, and its size.
fn checked_open(path: &Path) -> io::Result<(File, u64)> {
    let abs = lexical(path);
    if let Some(dir) = REFUSED_DIRS.iter().find(|d| abs.starts_with(d)) {
        return Err(refused(format!(
            "a file under {dir}: shipshape does not read files there"
        )));
    }
    let found = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
    let st = rustix::fs::fstat(&found)?;
    let t = FileType::from_raw_mode(st.st_mode);
    if t != FileType::RegularFile {
        return Err(refused(format!("not a regular file ({})", kind(t))));
    }
    // The magic number is 32 bits wide whatever the width of `f_type`.
    let magic = rustix::fs::fstatfs(&found)?.f_type as u32;
    if let Some((_, name)) = PSEUDO_FS.iter().find(|(m, _)| *m == magic) {
        return Err(refused(format!(
            "a file of {name}, a kernel file system: not read"
        )));
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(
        format!("/proc/self/fd/{}", found.as_raw_fd()).as_str(),
        flags,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // No /proc here: the path again, checked below to be the same file.
        Err(rustix::io::Errno::NOENT) => rustix::fs::open(path, flags, Mode::empty())?,
        Err(e) => return Err(e.into()),
    };
    let again = rustix::fs::fstat(&fd)?;
    if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino)
        || FileType::from_raw_mode(again.st_mode) != FileType::RegularFile
    {
        return Err(refused(
            "changed while it was being opened: not read".into(),
        ));
    }
    Ok((File::from(fd), u64::try_from(again.st_size).unwrap_or(0)))
}

fn too_big(limit: Limit) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "over the ceiling of {} for {} (not read)",
            crate::model::text::ceiling(limit.bytes),
            limit.what
        ),
    )
}

/// Step 6: `job` on a thread of its own, waited for at most `time`.
/// `waiting` counts the jobs given up on that still run; while
/// [`MAX_WAITING`] do, a new job is refused at once.
fn within<T: Send + 'static>(
    time: Duration,
    waiting: &'static AtomicUsize,
    job: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    const RUNNING: u8 = 0;
    const DONE: u8 = 1;
    const GIVEN_UP: u8 = 2;
    if waiting.load(Ordering::SeqCst) >= MAX_WAITING {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "not read: {MAX_WAITING} earlier reads of files still wait for an answer \
                 (a network or FUSE file system that hangs?)"
            ),
        ));
    }
    let state = std::sync::Arc::new(AtomicU8::new(RUNNING));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let theirs = state.clone();
    std::thread::Builder::new()
        .name("shipshape-read".into())
        .spawn(move || {
            let r = job();
            if theirs.swap(DONE, Ordering::SeqCst) == GIVEN_UP {
                waiting.fetch_sub(1, Ordering::SeqCst);
            }
            let _ = tx.send(r);
        })?;
    let lost = || io::Error::other("the read stopped without an answer");
    match rx.recv_timeout(time) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            if state
                .compare_exchange(RUNNING, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                waiting.fetch_add(1, Ordering::SeqCst);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no answer within {} s (a network or FUSE file system that hangs?): \
                         not read",
                        time.as_secs()
                    ),
                ));
            }
            // It answered just now.
            rx.recv().unwrap_or_else(|_| Err(lost()))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(lost()),
    }
}

/// Open a regular file for reading, checked as the module says, within
/// [`TIME`]: for a caller that reads it as a stream with ceilings of its
/// own (an audit log line by line, a zip).
pub fn open(path: &Path) -> io::Result<File> {
    let path = path.to_path_buf();
    within(TIME, &WAITING, move || checked_open(&path).map(|(f, _)| f))
}

/// A regular file's bytes, at most `limit.bytes` of them, within [`TIME`].
pub fn read(path: &Path, limit: Limit) -> io::Result<Vec<u8>> {
    let path = path.to_path_buf();
    within(TIME, &WAITING, move || {
        let (f, size) = checked_open(&path)?;
        if size > limit.bytes {
            return Err(too_big(limit));
        }
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        f.take(limit.bytes + 1).read_to_end(&mut buf)?;
        if buf.len() as u64 > limit.bytes {
            return Err(too_big(limit));
        }
        Ok(buf)
    })
}

/// The same, as UTF-8 text (anything else is an `InvalidData` error).
pub fn read_to_string(path: &Path, limit: Limit) -> io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text, as {} is", limit.what),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit {
        what: "a test file",
        bytes: 64,
    };

    fn why(r: io::Result<Vec<u8>>) -> String {
        r.expect_err("refused").to_string()
    }

    #[test]
    fn only_regular_files_of_real_file_systems_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.txt");
        std::fs::write(&ok, "hello").unwrap();
        assert_eq!(read(&ok, SMALL).unwrap(), b"hello");
        assert_eq!(read_to_string(&ok, SMALL).unwrap(), "hello");
        // A link to it (a dotfiles folder) is followed.
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&ok, &link).unwrap();
        assert_eq!(read(&link, SMALL).unwrap(), b"hello");

        // A FIFO with no writer: refused at once, never waited on.
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(why(read(&fifo, SMALL)).contains("not a regular file (a named pipe)"));
        let to_fifo = dir.path().join("to-fifo.yaml");
        std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
        assert!(why(read(&to_fifo, SMALL)).contains("named pipe"));
        assert!(why(read(dir.path(), SMALL)).contains("(a folder)"));

        // By name, however it is written.
        for p in [
            "/proc/kmsg",
            "/dev/zero",
            "/sys/kernel/notes",
            "/dev/../dev/zero",
        ] {
            assert!(
                why(read(Path::new(p), SMALL)).contains("shipshape does not read files there"),
                "{p}"
            );
        }
        // Linked from elsewhere: procfs by its file system, a device by its type.
        let kmsg = dir.path().join("kmsg.yaml");
        std::os::unix::fs::symlink("/proc/kmsg", &kmsg).unwrap();
        assert!(why(read(&kmsg, SMALL)).contains("a file of procfs"));
        let version = dir.path().join("version");
        std::os::unix::fs::symlink("/proc/version", &version).unwrap();
        assert!(why(read(&version, SMALL)).contains("a file of procfs"));
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(why(read(&zero, SMALL)).contains("(a character device)"));

        // Over the ceiling: refused by its size, and by what is read.
        let big = dir.path().join("big");
        std::fs::write(&big, [b'x'; 65]).unwrap();
        let e = read(&big, SMALL).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("for a test file"), "{e}");
        // Not there: the system's error, its kind kept.
        let e = read(&dir.path().join("absent"), SMALL).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // A loop of links.
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(dir.path().join("b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("b")).unwrap();
        assert!(read(&a, SMALL).is_err());
        // Not text.
        std::fs::write(&ok, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_to_string(&ok, SMALL).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert!(open(&fifo).is_err());
        assert!(open(&ok).is_ok());
    }

    #[test]
    fn a_read_that_hangs_is_given_up_and_the_waiting_ones_are_bounded() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Arc::new(std::sync::Mutex::new(held));
        let hang = || {
            let held = held.clone();
            move || -> io::Result<()> {
                let _ = held.lock().unwrap().recv();
                Ok(())
            }
        };
        // Many reads at once, none late: none refused.
        let quick: Vec<_> = (0..4 * MAX_WAITING)
            .map(|i| {
                std::thread::spawn(move || {
                    within(Duration::from_secs(60), &COUNT, move || {
                        std::thread::sleep(Duration::from_millis(50));
                        Ok(i)
                    })
                })
            })
            .collect();
        for (i, q) in quick.into_iter().enumerate() {
            assert_eq!(q.join().unwrap().unwrap(), i);
        }
        let short = Duration::from_millis(50);
        for _ in 0..MAX_WAITING {
            let e = within(short, &COUNT, hang()).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
            assert!(e.to_string().contains("no answer within"), "{e}");
        }
        // The waiting ones are bounded: the next is refused at once.
        let e = within(Duration::from_secs(60), &COUNT, || Ok(())).unwrap_err();
        assert!(e.to_string().contains("still wait"), "{e}");
        // They answer at last: reads go on.
        for _ in 0..MAX_WAITING {
            release.send(()).unwrap();
        }
        let t = std::time::Instant::now();
        while COUNT.load(Ordering::SeqCst) > 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            within(Duration::from_secs(60), &COUNT, || Ok(7)).unwrap(),
            7
        );
    }
}
