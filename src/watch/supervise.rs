//! The one supervise loop every source's worker runs: connect, follow,
//! and when the source is lost, say so and try again with backoff —
//! answering the user's commands while it waits. An engine and a cluster
//! differ only in what one session does (`Watched::session`); how they
//! come and go looks the same in the window, the timeline and the audit
//! log.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::messages::{Command, Event};
use super::trail::Sink;

/// The commands a worker takes, if anyone sends any (a headless cluster
/// watch has no one: it waits forever for a command that never comes).
pub(crate) struct Commands(Option<UnboundedReceiver<Command>>);

impl Commands {
    pub(crate) fn new(rx: UnboundedReceiver<Command>) -> Self {
        Self(Some(rx))
    }

    /// No one sends commands.
    #[cfg(any(feature = "kube", test))]
    pub(crate) fn none() -> Self {
        Self(None)
    }

    /// The next command. `None` when the sender is gone (time to stop);
    /// never resolves without a channel.
    pub(crate) async fn next(&mut self) -> Option<Command> {
        match &mut self.0 {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }

    /// `cmd`, as [`Commands::next`] returned it, says to stop.
    pub(crate) fn stops(&self, cmd: &Option<Command>) -> bool {
        match cmd {
            Some(Command::Shutdown) => true,
            None => self.0.is_some(),
            Some(_) => false,
        }
    }
}

/// How one session with a source ended.
pub(crate) enum End {
    /// Told to stop, or nobody listens any more.
    Shutdown,
    /// It was followed, then lost: the backoff starts over.
    Lost(String),
    /// It could not be reached (or not read): wait longer each time.
    Unreachable(String),
    /// Look for the source again now (the user asked).
    Again,
}

/// What one source's worker does inside the loop.
pub(crate) trait Watched {
    /// Connect and follow the source until the session ends. The source
    /// sends `Connected` and writes its own connect and disconnect
    /// records: it knows what it reached.
    async fn session(&mut self, cmds: &mut Commands) -> End;

    /// A command that came while waiting to reconnect (stop, retry and
    /// refresh are the loop's). True: try again now.
    async fn waiting(&mut self, cmd: Command) -> bool;
}

/// Backoff between connection attempts: 1, 2, 4, 8, 15, 15… seconds.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(4)).min(Duration::from_secs(15))
}

/// Run `source` until told to stop: `Connecting`, a session, then
/// `Disconnected` with the retry time, and the wait — cut short by
/// "retry now", a refresh, or whatever [`Watched::waiting`] says.
pub(crate) async fn supervise(source: &mut impl Watched, cmds: &mut Commands, sink: &Sink) {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if !sink.send(Event::Connecting { attempt }) {
            return;
        }
        let (reason, retry_in) = match source.session(cmds).await {
            End::Shutdown => return,
            End::Again => {
                attempt = 0;
                continue;
            }
            End::Lost(reason) => {
                attempt = 0;
                (reason, backoff(1))
            }
            End::Unreachable(reason) => (reason, backoff(attempt)),
        };
        if !sink.send(Event::Disconnected { reason, retry_in }) {
            return;
        }
        let wait = tokio::time::sleep(retry_in);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                cmd = cmds.next() => {
                    if cmds.stops(&cmd) {
                        return;
                    }
                    let now = match cmd {
                        Some(Command::ReconnectNow | Command::Refresh) => true,
                        Some(c) => source.waiting(c).await,
                        None => false,
                    };
                    if now {
                        attempt = 0;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_grows_and_caps() {
        let secs: Vec<u64> = (1..=7).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 15, 15, 15]);
    }

    /// A source that is unreachable `fail` times, then followed until
    /// lost once, then asks to stop.
    struct Flaky {
        fail: u32,
        sessions: Arc<AtomicU32>,
        lost_once: bool,
    }

    impl Watched for Flaky {
        async fn session(&mut self, _: &mut Commands) -> End {
            self.sessions.fetch_add(1, Ordering::SeqCst);
            if self.fail > 0 {
                self.fail -= 1;
                return End::Unreachable("refused".into());
            }
            if !self.lost_once {
                self.lost_once = true;
                return End::Lost("reset".into());
            }
            End::Shutdown
        }

        async fn waiting(&mut self, _: Command) -> bool {
            false
        }
    }

    /// Connecting → Disconnected with growing retry times while
    /// unreachable; a lost session starts the backoff over. (Waits the
    /// real backoff: 1 + 2 + 1 seconds.)
    #[tokio::test]
    async fn the_loop_backs_off_and_starts_over_after_a_session() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Sink::new(tx, Arc::new(|_| {}));
        let sessions = Arc::new(AtomicU32::new(0));
        let mut src = Flaky {
            fail: 2,
            sessions: sessions.clone(),
            lost_once: false,
        };
        supervise(&mut src, &mut Commands::none(), &sink).await;
        assert_eq!(sessions.load(Ordering::SeqCst), 4);
        let mut seen = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            match ev {
                Event::Connecting { attempt } => seen.push(format!("try {attempt}")),
                Event::Disconnected { reason, retry_in } => {
                    seen.push(format!("{reason} {}s", retry_in.as_secs()));
                }
                _ => {}
            }
        }
        assert_eq!(
            seen,
            [
                "try 1",
                "refused 1s",
                "try 2",
                "refused 2s",
                "try 3",
                "reset 1s",
                "try 1",
            ]
        );
    }

    /// "Retry now" cuts the wait short; a closed command channel stops.
    #[tokio::test]
    async fn commands_cut_the_wait_or_stop_the_loop() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Sink::new(tx, Arc::new(|_| {}));
        let sessions = Arc::new(AtomicU32::new(0));
        let mut src = Flaky {
            fail: u32::MAX,
            sessions: sessions.clone(),
            lost_once: true,
        };
        let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut cmds = Commands::new(cmd_rx);
        cmd_tx.send(Command::ReconnectNow).ok();
        cmd_tx.send(Command::ReconnectNow).ok();
        drop(cmd_tx);
        let started = std::time::Instant::now();
        supervise(&mut src, &mut cmds, &sink).await;
        // Two waits cut short, then the closed channel ends the third.
        assert_eq!(sessions.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
