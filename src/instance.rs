//! One window at a time. The first window listens on a unix socket in the
//! user's runtime directory; a second `shipshape` (without a command)
//! connects, passes on what it was asked (`--demo`), and exits, and the first
//! window comes to the front — instead of a second copy that would find the
//! audit log held and record nothing.
//!
//! The socket is this user's alone, and both ends check it: the folders
//! shipshape makes for it (`$XDG_RUNTIME_DIR/shipshape`, or without a
//! runtime directory `<temp>/shipshape-<uid>` and its `shipshape`) are made
//! with mode 0700 and refused when they are a symbolic link, belong to
//! another user, or let others write in them (a folder of this user's that
//! others may only read, as earlier versions left the temp one, is
//! tightened to 0700); and each end asks the kernel who the other is
//! (`SO_PEERCRED`): a second launch sends nothing to a listener of another
//! user — another user who made the temp folder first learns nothing and
//! cannot keep the window from opening — and the window ignores a caller of
//! another user.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::net::sockopt::socket_peercred;
use rustix::process::geteuid;

/// What a second launch (or a clicked notification of `shipshape watch
/// --notify`) asks of the running window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Come to the front.
    Focus,
    /// Come to the front on the demo lab.
    Demo,
    /// Come to the front on this container (id, id prefix or name).
    Show(String),
}

/// The longest request line read.
const MAX_LINE: u64 = 512;

impl Request {
    fn to_line(&self) -> String {
        match self {
            Self::Focus => "focus".into(),
            Self::Demo => "demo".into(),
            Self::Show(what) => format!("show {}", what.replace(['\n', '\r'], " ")),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "focus" => Some(Self::Focus),
            "demo" => Some(Self::Demo),
            line => line
                .strip_prefix("show ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| Self::Show(w.to_string())),
        }
    }
}

/// `$XDG_RUNTIME_DIR/shipshape/window.sock`, else a folder of this user's
/// own under the temp dir: `<temp>/shipshape-<uid>/shipshape/window.sock`.
pub fn socket_path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .unwrap_or_else(|| std::env::temp_dir().join(fallback_name()));
    base.join("shipshape").join("window.sock")
}

/// `shipshape-<uid>`: the temp-dir folder of this user.
fn fallback_name() -> String {
    format!("shipshape-{}", geteuid().as_raw())
}

fn refused(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, why)
}

/// The folders shipshape makes for the socket, outermost first: the
/// socket's own, and in the temp-dir fallback the `shipshape-<uid>` above
/// it. Each must be this user's alone.
fn own_dirs(path: &Path) -> Vec<&Path> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(up) = dir.parent()
        && up.file_name() == Some(std::ffi::OsStr::new(&fallback_name()))
    {
        out.push(up);
    }
    out.push(dir);
    out
}

/// Make `dir` (mode 0700) when `create` and it is not there, then check it
/// is this user's alone: a real folder (not a symbolic link), this user's,
/// that no one else may write in; when `create`, one that others may only
/// read or enter is tightened to 0700 (no one else could have put anything
/// in it). `Ok(false)`: not there (and not made).
fn private_dir(dir: &Path, create: bool) -> std::io::Result<bool> {
    if create {
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let m = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(false),
        Err(e) => return Err(e),
    };
    let shown = dir.display();
    if m.file_type().is_symlink() {
        return Err(refused(format!(
            "{shown} is a symbolic link, not a folder of this user's own: refused"
        )));
    }
    if !m.is_dir() {
        return Err(refused(format!("{shown} is not a folder: refused")));
    }
    let me = geteuid().as_raw();
    if m.uid() != me {
        return Err(refused(format!(
            "{shown} belongs to uid {}, not to this user (uid {me}): refused",
            m.uid()
        )));
    }
    let mode = m.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(format!(
            "others may write in {shown} (mode {mode:04o}): refused"
        )));
    }
    if create && mode != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(true)
}

/// Whether the other end of `s` runs as this user.
fn same_user(s: &UnixStream) -> std::io::Result<bool> {
    Ok(socket_peercred(s)?.uid == geteuid())
}

/// Ask a running window to handle `req`. `Ok(true)`: it did, this process
/// can end; `Ok(false)`: no window listens there. `Err` when the socket's
/// folder or its listener is not this user's (nothing is sent then).
pub fn forward(path: &Path, req: Request) -> std::io::Result<bool> {
    for dir in own_dirs(path) {
        if !private_dir(dir, false)? {
            return Ok(false);
        }
    }
    ask(path, req)
}

/// [`forward`] without the folder checks: connect, check who listens, ask.
fn ask(path: &Path, req: Request) -> std::io::Result<bool> {
    let mut s = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    if !same_user(&s)? {
        let uid = socket_peercred(&s)?.uid.as_raw();
        return Err(refused(format!(
            "{} is answered by uid {uid}, not by this user: nothing sent",
            path.display()
        )));
    }
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    writeln!(s, "{}", req.to_line())?;
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer)?;
    Ok(answer.trim() == "ok")
}

/// Listen for later launches: each request goes to `on_request` (on the
/// listener's own thread). A socket left by a window that crashed is taken
/// over. `Err`: the socket could not be made, or its folders are not this
/// user's alone (the window then runs alone, as before).
pub fn listen(
    path: &Path,
    on_request: impl Fn(Request) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let dirs = own_dirs(path);
    // Above the folders of its own: the runtime or temp dir, there already.
    if let Some(top) = dirs.first().and_then(|d| d.parent()) {
        std::fs::create_dir_all(top)?;
    }
    for dir in dirs {
        private_dir(dir, true)?;
    }
    // Nobody answered there (checked by `forward`): a stale socket.
    let _ = std::fs::remove_file(path);
    serve(UnixListener::bind(path)?, on_request)
}

/// Answer this user's requests on `listener`, on a thread of its own; a
/// caller of another user is hung up on unread.
fn serve(
    listener: UnixListener,
    on_request: impl Fn(Request) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("shipshape-instance".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if !same_user(&stream).unwrap_or(false) {
                    continue;
                }
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let Ok(reader) = stream.try_clone() else {
                    continue;
                };
                let mut line = String::new();
                // One short line; anything longer or unknown is ignored.
                if BufReader::new(reader.take(MAX_LINE))
                    .read_line(&mut line)
                    .is_ok()
                    && let Some(req) = Request::parse(&line)
                {
                    on_request(req);
                    let mut s = stream;
                    let _ = writeln!(s, "ok");
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_launch_reaches_the_first_and_a_stale_socket_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/shipshape/window.sock");
        assert!(
            !forward(&path, Request::Focus).unwrap(),
            "nobody listens yet"
        );
        // A socket file left behind by a window that crashed.
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        assert!(
            !forward(&path, Request::Focus).unwrap(),
            "stale: nobody answers"
        );

        let (tx, rx) = std::sync::mpsc::channel();
        listen(&path, move |r| tx.send(r).unwrap()).unwrap();
        assert!(forward(&path, Request::Demo).unwrap());
        assert!(forward(&path, Request::Focus).unwrap());
        let id = "a".repeat(64);
        assert!(forward(&path, Request::Show(id.clone())).unwrap());
        assert_eq!(rx.recv().unwrap(), Request::Demo);
        assert_eq!(rx.recv().unwrap(), Request::Focus);
        assert_eq!(rx.recv().unwrap(), Request::Show(id));
        // Garbage is ignored, and the window keeps listening.
        let mut s = UnixStream::connect(&path).unwrap();
        writeln!(s, "rm -rf /").unwrap();
        drop(s);
        assert!(forward(&path, Request::Focus).unwrap());
        assert_eq!(rx.recv().unwrap(), Request::Focus);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "the user's own folder");
    }

    /// Run as another user (uid 65534) by the tests below: listens at, or
    /// asks, the socket named in `SHIPSHAPE_TEST_PEER` (`listen:PATH`,
    /// `ask:PATH`), and writes what it heard to `PATH.heard`.
    #[test]
    #[ignore = "a helper: run as another user by the tests of this module"]
    fn peer_of_another_user() {
        let Ok(what) = std::env::var("SHIPSHAPE_TEST_PEER") else {
            return;
        };
        let (verb, path) = what.split_once(':').unwrap();
        let heard = format!("{path}.heard");
        match verb {
            "listen" => {
                let l = UnixListener::bind(path).unwrap();
                let (s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut line = String::new();
                let _ = BufReader::new(&s).read_line(&mut line);
                std::fs::write(&heard, &line).unwrap();
                let _ = writeln!(&s, "ok");
            }
            _ => {
                let mut s = UnixStream::connect(path).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                // Hung up on at once, the write may fail: what counts is the answer.
                let _ = writeln!(s, "show secret-name");
                let mut answer = String::new();
                let _ = BufReader::new(s).read_line(&mut answer);
                std::fs::write(&heard, format!("answer:{answer}")).unwrap();
            }
        }
    }

    /// This test binary's helper above, as uid 65534 (`setpriv`), on `path`.
    fn as_nobody(verb: &str, path: &Path) -> std::process::Child {
        std::process::Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "instance::tests::peer_of_another_user",
            ])
            .env("SHIPSHAPE_TEST_PEER", format!("{verb}:{}", path.display()))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("setpriv")
    }

    /// A folder another user (65534) may write in, below a temp dir.
    fn shared_dir(top: &Path) -> PathBuf {
        std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o755)).unwrap();
        let d = top.join("shared");
        std::fs::create_dir(&d).unwrap();
        std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
        d
    }

    fn wait_for(p: &Path) {
        let t = std::time::Instant::now();
        while !p.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{} never came",
                p.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Issue 39, D18: folders that are not this user's alone are refused by
    /// both ends; one of this user's that others may only read is tightened.
    #[test]
    fn folders_not_of_this_user_alone_are_refused() {
        let top = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().mode() & 0o777;
        // Others may write in it.
        let open = top.path().join("open/shipshape");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let sock = open.join("window.sock");
        let e = forward(&sock, Request::Focus).unwrap_err();
        assert!(e.to_string().contains("others may write"), "{e}");
        assert!(listen(&sock, |_| {}).is_err());
        assert!(!sock.exists(), "nothing made there");
        // A symbolic link to a folder of this user's own.
        let real = top.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::create_dir(top.path().join("link")).unwrap();
        std::os::unix::fs::symlink(&real, top.path().join("link/shipshape")).unwrap();
        let e = forward(
            &top.path().join("link/shipshape/window.sock"),
            Request::Focus,
        )
        .unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // In the temp-dir fallback, the `shipshape-<uid>` folder is checked too.
        let fallback = top.path().join(fallback_name());
        std::fs::create_dir_all(fallback.join("shipshape")).unwrap();
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o775)).unwrap();
        let sock = fallback.join("shipshape/window.sock");
        assert!(forward(&sock, Request::Focus).is_err());
        assert!(listen(&sock, |_| {}).is_err());
        // Earlier versions left it 0755: others may look, not write. A
        // second launch goes on; the window tightens it to 0700.
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!forward(&sock, Request::Focus).unwrap(), "nobody listens");
        listen(&sock, |_| {}).unwrap();
        assert_eq!(mode(&fallback), 0o700);
        assert_eq!(mode(&fallback.join("shipshape")), 0o700);
        assert!(forward(&sock, Request::Focus).unwrap());
        // Another user's folder: only root can make one (CI and the
        // sandbox run as root).
        if !geteuid().is_root() {
            return;
        }
        let theirs = top.path().join("theirs/shipshape");
        std::fs::create_dir_all(&theirs).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let e = forward(&theirs.join("window.sock"), Request::Focus).unwrap_err();
        assert!(e.to_string().contains("belongs to uid 65534"), "{e}");
        assert!(listen(&theirs.join("window.sock"), |_| {}).is_err());
    }

    /// Issue 39, D18: a listener of another user is sent nothing, and the
    /// window does not answer a caller of another user.
    #[test]
    fn each_end_refuses_a_peer_of_another_user() {
        // Acting as another user needs root (CI and the sandbox run as root).
        if !geteuid().is_root() {
            return;
        }
        let top = tempfile::tempdir().unwrap();
        let shared = shared_dir(top.path());
        // Their listener, where ours would be.
        let sock = shared.join("squat.sock");
        let mut squatter = as_nobody("listen", &sock);
        wait_for(&sock);
        // (Bound a moment before it listens: asked again while refused.)
        let t = std::time::Instant::now();
        let e = loop {
            match ask(&sock, Request::Show("web-1".into())) {
                Ok(false) if t.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.unwrap_err(),
            }
        };
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("uid 65534"), "{e}");
        let _ = squatter.wait();
        let heard = std::fs::read_to_string(format!("{}.heard", sock.display())).unwrap();
        assert_eq!(heard, "", "nothing was sent to them");

        // Our window, asked by them: no request, no answer.
        let ours = shared.join("ours.sock");
        let (tx, rx) = std::sync::mpsc::channel();
        serve(UnixListener::bind(&ours).unwrap(), move |r| {
            tx.send(r).unwrap()
        })
        .unwrap();
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o777)).unwrap();
        let caller = as_nobody("ask", &ours).wait_with_output().unwrap();
        assert!(
            caller.status.success(),
            "{:?}: {}{}",
            caller.status,
            String::from_utf8_lossy(&caller.stdout),
            String::from_utf8_lossy(&caller.stderr)
        );
        let heard = std::fs::read_to_string(format!("{}.heard", ours.display())).unwrap();
        assert_eq!(heard, "answer:", "hung up on, unanswered");
        assert!(rx.try_recv().is_err(), "their request was not taken");
        // This user's own request still is.
        assert!(ask(&ours, Request::Focus).unwrap());
        assert_eq!(rx.recv().unwrap(), Request::Focus);
    }
}
