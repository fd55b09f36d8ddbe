//! One window at a time. The first window listens on a unix socket in the
//! user's runtime directory; a second `shipshape` (without a command)
//! connects, passes on what it was asked (`--demo`), and exits, and the first
//! window comes to the front — instead of a second copy that would find the
//! audit log held and record nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
/// own under the temp dir.
pub fn socket_path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| {
            use std::os::unix::fs::MetadataExt;
            let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
            std::env::temp_dir().join(format!("shipshape-{uid}"))
        });
    base.join("shipshape").join("window.sock")
}

/// Ask a running window to handle `req`. `Ok(true)`: it did, this process
/// can end; `Ok(false)`: no window listens there.
pub fn forward(path: &Path, req: Request) -> std::io::Result<bool> {
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
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    writeln!(s, "{}", req.to_line())?;
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer)?;
    Ok(answer.trim() == "ok")
}

/// Listen for later launches: each request goes to `on_request` (on the
/// listener's own thread). A socket left by a window that crashed is taken
/// over. `Err`: the socket could not be made (the window then runs alone,
/// as before).
pub fn listen(
    path: &Path,
    on_request: impl Fn(Request) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // Nobody answered there (checked by `forward`): a stale socket.
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::thread::Builder::new()
        .name("shipshape-instance".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
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
}
