//! What one API server can make shipshape read, bounded: the bytes of one
//! answer (a layer on kube-rs's service stack, so no answer is held whole
//! past its ceiling), and the pages, objects, bytes and time of one listing
//! (applied by the pager in [`super`]). A list that reaches a ceiling is
//! kept as far as it was read and said to be cut, never shown as complete
//! (docs/untrusted-input.md, docs/kubernetes.md).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// The ceilings of one cluster's reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One answer (a list page, `/version`), and one line of a watch
    /// stream (one event), in bytes.
    pub answer_bytes: u64,
    /// Every page of one resource's listing together, in bytes.
    pub list_bytes: u64,
    /// Objects of one resource (pods, namespaces, ReplicaSets, Jobs),
    /// listed or followed through the watch.
    pub items: usize,
    /// Pages of one listing.
    pub pages: usize,
    /// A `continue` token (real ones are a few hundred bytes).
    pub token_bytes: usize,
    /// One read of the cluster: every list, every page.
    pub read_time: Duration,
}

/// The ceilings shipshape uses. A page of 500 pods is 2–15 MiB on real
/// clusters; 50,000 pods is a third of Kubernetes' documented maximum per
/// cluster (150,000), and ten times a large one. At these ceilings a
/// hostile server makes a scan hold about 730 MiB at most, what 50,000
/// honest pods cost (bench/kube-hostile-results.md).
pub const LIMITS: Limits = Limits {
    answer_bytes: 64 << 20,
    list_bytes: 256 << 20,
    items: 50_000,
    pages: 1_000,
    token_bytes: 16 << 10,
    read_time: Duration::from_secs(300),
};

impl Default for Limits {
    fn default() -> Self {
        LIMITS
    }
}

/// Which ceiling cut a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// This many objects.
    Items(usize),
    /// This many pages, and the server still said "continue".
    Pages(usize),
    /// This many bytes of answers in all.
    Bytes(u64),
    /// One answer was larger than this (it was not read).
    Answer(u64),
    /// The server gave a `continue` token it had given before.
    RepeatedToken,
    /// A `continue` token longer than this.
    LongToken(usize),
    /// The read took this long.
    Time(Duration),
}

impl std::fmt::Display for Ceiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ceiling::Items(n) => write!(f, "at the ceiling of {} objects", grouped(*n as u64)),
            Ceiling::Pages(n) => write!(
                f,
                "at the ceiling of {} pages (the API server's paging did not end)",
                grouped(*n as u64)
            ),
            Ceiling::Bytes(n) => write!(
                f,
                "at the ceiling of {} of answers",
                crate::model::text::ceiling(*n)
            ),
            Ceiling::Answer(n) => write!(
                f,
                "at the ceiling of {} for one answer (a larger answer was not read)",
                crate::model::text::ceiling(*n)
            ),
            Ceiling::RepeatedToken => write!(
                f,
                "at a repeated continue token (the API server's paging would never end)"
            ),
            Ceiling::LongToken(n) => write!(
                f,
                "at a continue token over the ceiling of {}",
                crate::model::text::ceiling(*n as u64)
            ),
            Ceiling::Time(d) => write!(
                f,
                "at the ceiling of {} s for reading a cluster",
                d.as_secs()
            ),
        }
    }
}

/// `100000` → `100,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a person is told about a list that was cut: which list, at which
/// ceiling, and how much of it is shown.
pub fn cut_note(what: &str, read: usize, ceiling: &Ceiling) -> crate::model::Warning {
    crate::model::Warning::new(
        crate::model::WarningKind::Truncated,
        format!(
            "the cluster's list of {what} was truncated {ceiling}: {} {what} read, the rest are \
             not shown",
            grouped(read as u64)
        ),
    )
}

/// An answer (or one watch event) over [`Limits::answer_bytes`]: the read
/// stopped there.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the API server's answer is larger than {} (not read)", crate::model::text::ceiling(*.0))]
pub struct TooLarge(pub u64);

/// The [`TooLarge`] in an error's chain, if any.
pub fn too_large(e: &(dyn std::error::Error + 'static)) -> Option<TooLarge> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<TooLarge>() {
            return Some(*t);
        }
        cur = err.source();
    }
    None
}

/// The layer that bounds every answer of one client: a list answer to
/// `answer_bytes` in all (a declared `Content-Length` over it fails before
/// a byte is read), a watch stream to `answer_bytes` per line (per event:
/// the stream itself runs for minutes). Every byte received is counted in
/// `received`, for the ceiling of a whole listing.
#[derive(Debug, Clone)]
pub struct CapLayer {
    answer_bytes: u64,
    received: Arc<AtomicU64>,
}

impl CapLayer {
    /// A layer with this ceiling per answer, counting into `received`.
    pub fn new(answer_bytes: u64, received: Arc<AtomicU64>) -> Self {
        Self {
            answer_bytes,
            received,
        }
    }
}

impl<S> tower::Layer<S> for CapLayer {
    type Service = Cap<S>;

    fn layer(&self, inner: S) -> Cap<S> {
        Cap {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`CapLayer`] makes.
#[derive(Debug, Clone)]
pub struct Cap<S> {
    inner: S,
    layer: CapLayer,
}

/// A watch request (`?watch=true`): its answer is a stream of lines.
fn is_watch(uri: &http::Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"))
}

impl<S, ReqBody, B> tower::Service<http::Request<ReqBody>> for Cap<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Capped<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let per_line = is_watch(req.uri());
        let layer = self.layer.clone();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let res = answer.await?;
            Ok(res.map(|body| Capped {
                inner: body,
                limit: layer.answer_bytes,
                per_line,
                run: 0,
                failed: false,
                received: layer.received,
            }))
        })
    }
}

/// An answer's body that fails with [`TooLarge`] past its ceiling.
pub struct Capped<B> {
    inner: B,
    limit: u64,
    /// Count the bytes since the last newline (a watch), not in all.
    per_line: bool,
    run: u64,
    failed: bool,
    received: Arc<AtomicU64>,
}

impl<B> Capped<B> {
    /// The bytes of `data` count against the ceiling: true when over it.
    fn over(&mut self, data: &[u8]) -> bool {
        self.received
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        if !self.per_line {
            self.run = self.run.saturating_add(data.len() as u64);
            return self.run > self.limit;
        }
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                self.run = 0;
            }
            self.run = self.run.saturating_add(line.len() as u64);
            if self.run > self.limit {
                return true;
            }
        }
        false
    }
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        // A declared length over the ceiling: not a byte is read.
        if !this.per_line && this.run == 0 && this.inner.size_hint().lower() > this.limit {
            this.failed = true;
            return Poll::Ready(Some(Err(Box::new(TooLarge(this.limit)))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && this.over(data)
                {
                    this.failed = true;
                    return Poll::Ready(Some(Err(Box::new(TooLarge(this.limit)))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn body(
        chunks: Vec<&'static [u8]>,
        per_line: bool,
        limit: u64,
    ) -> (
        Capped<impl Body<Data = Bytes, Error = std::io::Error> + Unpin>,
        Arc<AtomicU64>,
    ) {
        let received = Arc::new(AtomicU64::new(0));
        let frames = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(c)))),
        );
        (
            Capped {
                inner: StreamBody::new(frames),
                limit,
                per_line,
                run: 0,
                failed: false,
                received: received.clone(),
            },
            received,
        )
    }

    async fn read<B: Body<Data = Bytes> + Unpin>(mut b: B) -> (Vec<u8>, Option<String>)
    where
        B::Error: std::fmt::Display,
    {
        let mut out = Vec::new();
        while let Some(f) = b.frame().await {
            match f {
                Ok(f) => out.extend_from_slice(f.data_ref().map_or(&[][..], |d| &d[..])),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
        (out, None)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    }

    #[test]
    fn an_answer_stops_at_its_ceiling_and_says_which() {
        static KIB: [u8; 1024] = [b'x'; 1024];
        let (b, received) = body(vec![&KIB[..]; 4], false, 4 << 10);
        let (out, err) = rt().block_on(read(b));
        assert_eq!(
            (out.len(), err),
            (4 << 10, None),
            "exactly at the ceiling is fine"
        );
        assert_eq!(received.load(Ordering::Relaxed), 4 << 10);
        let (b, _) = body(vec![&KIB[..], &KIB, &KIB, &KIB, b"x"], false, 4 << 10);
        let (out, err) = rt().block_on(read(b));
        assert_eq!(
            out.len(),
            4 << 10,
            "the frame that passes the ceiling is not handed on"
        );
        assert_eq!(
            err.as_deref(),
            Some("the API server's answer is larger than 4 KiB (not read)")
        );
    }

    #[test]
    fn a_watch_is_bounded_per_line_not_in_all() {
        // Many short events: fine however long the stream runs.
        let chunk: &'static [u8] = b"{\"a\":1}\n{\"b\"";
        let (b, received) = body(vec![chunk; 50], true, 16);
        let (_, err) = rt().block_on(read(b));
        assert_eq!(err, None);
        assert_eq!(received.load(Ordering::Relaxed), 50 * chunk.len() as u64);
        // One event that never ends: stopped.
        let (b, _) = body(
            vec![b"{\"a\":1}\n{\"b\":", b"[[[[[[[[", b"[[[[[[[["],
            true,
            16,
        );
        let (_, err) = rt().block_on(read(b));
        assert!(err.is_some_and(|e| e.contains("answer is larger than")));
    }

    #[test]
    fn only_watch_requests_are_streams() {
        let uri = |s: &str| s.parse::<http::Uri>().expect("a uri");
        assert!(is_watch(&uri(
            "/api/v1/pods?&watch=true&timeoutSeconds=290&resourceVersion=1"
        )));
        assert!(!is_watch(&uri("/api/v1/pods?limit=500")));
        assert!(!is_watch(&uri("/api/v1/pods?labelSelector=watch%3Dtrue")));
    }

    #[test]
    fn notes_name_the_list_and_the_ceiling() {
        assert_eq!(
            cut_note("pods", 7000, &Ceiling::Pages(1000)).text,
            "the cluster's list of pods was truncated at the ceiling of 1,000 pages (the API \
             server's paging did not end): 7,000 pods read, the rest are not shown"
        );
        assert_eq!(
            Ceiling::Answer(64 << 20).to_string(),
            "at the ceiling of 64 MiB for one answer (a larger answer was not read)"
        );
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }
}
