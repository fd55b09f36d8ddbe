//! shipshape's entry point: parse the command line, build the tokio runtime,
//! run the command.

use clap::Parser;
use shipshape::cli::{self, Cli};

/// jemalloc returns what a thousand containers' passes freed; glibc's
/// per-thread arenas keep it (see Cargo.toml).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    crash_reports();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(std::env::var("SHIPSHAPE_LOG").ok()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Few blocking threads: eight cover the concurrent file reads and
    // assessments, and each thread holds an allocator cache of its own.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(8)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shipshape: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = cli::run(cli, &runtime);
    std::process::exit(code as i32);
}

/// What is logged to standard error: `SHIPSHAPE_LOG` (tracing's
/// `EnvFilter` syntax), else warnings. kube-client is silent unless named:
/// it logs whole API server answers it cannot parse (any size, any bytes:
/// the server is outside input), and every error it logs reaches the user
/// once anyway, through shipshape's own error path.
fn log_filter(env: Option<String>) -> tracing_subscriber::EnvFilter {
    let spec = env.filter(|s| !s.trim().is_empty());
    let spec = match spec {
        Some(s) if s.contains("kube_client") => s,
        Some(s) => format!("{s},kube_client=off"),
        None => "warn,kube_client=off".to_string(),
    };
    tracing_subscriber::EnvFilter::try_new(&spec)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kube_client=off"))
}

/// A panic prints, and saves, a crash report with the full backtrace
/// (whatever `RUST_BACKTRACE` says): function names and lines come from the
/// binary's symbols, or from the `shipshape-dbgsym` package for the stripped
/// one of the `.deb` (docs/install.md). Reports go to
/// `~/.local/state/shipshape/crashes/`.
fn crash_reports() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let report = format!(
            "shipshape {} panicked on thread {}: {info}\n\nbacktrace:\n{}\n",
            env!("CARGO_PKG_VERSION"),
            thread.name().unwrap_or("unnamed"),
            std::backtrace::Backtrace::force_capture()
        );
        eprintln!("{report}");
        let saved = directories::ProjectDirs::from("", "", "shipshape").and_then(|d| {
            let dir = d
                .state_dir()
                .unwrap_or_else(|| d.data_dir())
                .join("crashes");
            std::fs::create_dir_all(&dir).ok()?;
            let path = dir.join(format!(
                "crash-{}-{}.txt",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
                std::process::id()
            ));
            std::fs::write(&path, &report).ok().map(|()| path)
        });
        if let Some(path) = saved {
            eprintln!(
                "shipshape: this report is saved in {}; please attach it to a bug report",
                path.display()
            );
        }
    }));
}
