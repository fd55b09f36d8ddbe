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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHIPSHAPE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
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
