//! The command line: `shipshape scan` (headless, for CI), `shipshape watch`
//! (headless activity recorder), `shipshape audit verify` and
//! `shipshape rules` (the catalogue).
//!
//! Exit codes (documented in the README):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | scan done; nothing at or above `--fail-on` |
//! | 1 | findings at or above `--fail-on` |
//! | 2 | usage error, bad policy file, or the report could not be written |
//! | 3 | the engine could not be reached (or was lost during the scan); with several engines, none could |

pub mod compose;
pub mod db;
pub mod harden;
pub mod sbom;
pub mod scan;
pub mod verify;
pub mod watch;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::model::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "shipshape",
    version,
    about = "A security dashboard for the containers on your own machine"
)]
/// The command line: global options and one subcommand (none opens the window).
#[command(after_help = "Without a command, shipshape opens the dashboard window.")]
pub struct Cli {
    /// Engine address (unix:///path, tcp://host:port, https://host:port). Default: DOCKER_HOST,
    /// then the current docker context, then the usual Docker and Podman sockets. `scan` takes
    /// it more than once (several engines, scanned in parallel).
    #[arg(long, global = true, value_name = "ADDRESS")]
    pub host: Vec<PathBuf>,

    /// The kubeconfig to read Kubernetes contexts from. Default: KUBECONFIG (every file it
    /// lists), then ~/.kube/config.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Policy file (TOML). Default: policy.toml in the user's config directory, if it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Open the dashboard on the bundled demo lab (no engine needed).
    #[arg(long)]
    pub demo: bool,

    /// Open the dashboard on this container (id, id prefix or name); a window already open
    /// comes to the front on it.
    #[arg(long, value_name = "CONTAINER", conflicts_with = "demo")]
    pub show: Option<String>,

    /// Audit log file (JSON lines, hash-chained). Default for the window and
    /// `watch`: audit/audit.jsonl in the user's data directory. `scan` records
    /// only when this is given.
    #[arg(long, global = true, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// Keep no audit log.
    #[arg(long, global = true, conflicts_with = "audit_log")]
    pub no_audit: bool,

    /// Keep the audit log (all its files) within this many MiB: the oldest
    /// files are removed first and the chain stays verifiable. 0 keeps
    /// everything. Default: `[audit] keep_mib` in the settings, else 256.
    #[arg(long, global = true, value_name = "MIB")]
    pub audit_keep: Option<u64>,

    /// Folder of the vulnerability database. Default: vulndb in the user's
    /// cache directory (~/.cache/shipshape/vulndb).
    #[arg(long, global = true, value_name = "DIR", env = "SHIPSHAPE_VULNDB")]
    pub vulndb: Option<PathBuf>,

    /// Read images no container uses, on an engine whose layers cannot be
    /// read here, through the engine's image export (it copies the image's
    /// layers to a temporary folder first). Also SHIPSHAPE_EXPORT_IMAGES=1.
    #[arg(long, global = true)]
    pub export_images: bool,

    /// The subcommand; `None` opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do instead of opening the window.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan every container, image and the engine once, and write a report.
    Scan(ScanArgs),
    /// Write a bill of materials of images' packages (OS and application):
    /// CycloneDX 1.6 or SPDX 2.3 JSON, with a package URL, licence and
    /// location for each, and the known vulnerabilities (CycloneDX).
    Sbom(SbomArgs),
    /// Record engine activity, exec sessions, drift and new findings to the
    /// audit log without a window, until Ctrl-C.
    Watch(WatchArgs),
    /// Print the hardened version of a container: a `docker run` command, a
    /// compose service, or a diff of its compose file; on standard error,
    /// each change with the findings it clears and what could break.
    Harden(HardenArgs),
    /// Compose projects: check a project's services before anything is
    /// created.
    Compose {
        /// Which compose action.
        #[command(subcommand)]
        action: ComposeAction,
    },
    /// The tamper-evident audit log.
    Audit {
        /// Which audit-log action.
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The vulnerability database (OSV data for Debian, Ubuntu and Alpine).
    Db {
        /// Which vulnerability-database action.
        #[command(subcommand)]
        action: DbAction,
    },
    /// Check an image's cosign signatures against a public key: exit 0 when
    /// verified, 1 when not (unsigned, signed by another key, a signature of
    /// another digest, invalid, or not checked), 2 on a usage or I/O error.
    /// The registry is asked only with --online.
    Verify(verify::VerifyArgs),
    /// List the Kubernetes contexts of the kubeconfig (each can be scanned with
    /// `scan --kube-context NAME`, watched with `watch --kube-context NAME` or from the
    /// window's Settings).
    Contexts,
    /// List every check shipshape runs.
    Rules {
        /// Print the full catalogue (why, attack, fix) as Markdown.
        #[arg(long)]
        markdown: bool,
        /// Print the table of every engine field and how it is judged (Markdown).
        #[arg(long, conflicts_with = "markdown")]
        fields: bool,
    },
    /// Panic on purpose: shows what a crash report carries (with
    /// `RUST_BACKTRACE=1`; docs/install.md). For packagers and tests.
    #[command(hide = true)]
    PanicTest,
}

/// What `shipshape compose` does.
#[derive(Debug, Subcommand)]
pub enum ComposeAction {
    /// Run the catalogue on a project's services before anything is created
    /// (privileges, capabilities, host namespaces, mounts, ports, user,
    /// read-only root, security options, limits, restart, logging, secrets
    /// in environment and env files), each finding with the file and line of
    /// the key that causes it. The same formats, --fail-on and exit codes
    /// as `scan`.
    Check(ComposeArgs),
}

/// Connect to the first engine named (`--host`, else the one discovered)
/// and take one snapshot: (its label, the engine, the inventory). Errors
/// are printed; the exit code is returned.
pub async fn snapshot_first(
    cli: &Cli,
) -> Result<
    (
        String,
        crate::sources::docker::Engine,
        crate::model::Inventory,
    ),
    Exit,
> {
    use crate::sources::docker::{Engine, EnvSnapshot, connect, scan};
    let env = EnvSnapshot::from_process();
    let hosts = cli.hosts();
    let fail = |e: &dyn std::fmt::Display| {
        // The engine's own words may be in it: one line, escapes shown.
        eprintln!("shipshape: {}", crate::model::visible(&e.to_string()));
        Exit::EngineUnreachable
    };
    let target =
        connect::discover(hosts.first().map(String::as_str), &env).map_err(|e| fail(&e))?;
    let name = target.label();
    let engine = Engine::connect(target).await.map_err(|e| fail(&e))?;
    let inventory = scan::snapshot(&engine, &env).await.map_err(|e| fail(&e))?;
    Ok((name, engine, inventory))
}

/// Options of `shipshape harden`.
#[derive(Debug, clap::Args)]
pub struct HardenArgs {
    /// The container: its name, id or an id prefix.
    pub container: String,

    /// What to print: `run` (a docker run command), `compose` (a compose
    /// service), `diff` (a unified diff of the compose file Compose created
    /// it from, for `git apply` or `patch -p1` in the project folder).
    #[arg(long, value_enum, default_value = "run")]
    pub format: HardenFormat,

    /// Do not explain the changes on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `shipshape harden` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HardenFormat {
    /// A `docker run` command.
    Run,
    /// A compose service.
    Compose,
    /// A unified diff of the container's compose file.
    Diff,
}

/// Options of `shipshape compose check`.
#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    /// The compose files, merged in order. Default: COMPOSE_FILE, else the
    /// compose file in the current folder (compose.yaml, docker-compose.yml,
    /// …) and its override, as `docker compose` finds them.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Enable a profile (repeat); COMPOSE_PROFILES counts too.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Report format: json, sarif, html, csv or md.
    #[arg(long, default_value = "json", value_parser = parse_format)]
    pub format: crate::report::Format,

    /// Where to write the report; `-` for standard output.
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub output: String,

    /// Exit with 1 when an active finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Do not print the findings on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `shipshape audit` does with the audit log.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: exit 0 when intact, 1 at the first edited,
    /// deleted or reordered record (file and line), 2 when unreadable.
    Verify {
        /// A log file (with its rotated files beside it), a log directory,
        /// or one rotated file. Default: --audit-log, else the audit log in
        /// the user's data folder.
        path: Option<PathBuf>,
    },
}

/// What `shipshape db` does with the vulnerability database.
#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Download the OSV data and replace the database (the only network
    /// access shipshape makes). The old database stays if anything fails.
    Update {
        /// Where to download from (a mirror with the same layout:
        /// `<URL>/<Ecosystem>/all.zip`). http:// only to loopback.
        #[arg(long, value_name = "URL", default_value = crate::sources::osv::DEFAULT_BASE)]
        from: String,
        /// Which ecosystems (repeat): Debian, Ubuntu, Alpine (the default:
        /// all three); on request the RPM distributions (Red Hat, AlmaLinux,
        /// "Rocky Linux", SUSE, openSUSE, Mageia, "Photon OS", "Azure Linux")
        /// and the languages (PyPI, npm, Go, crates.io, Maven — npm's and
        /// Maven's are large). A broken download resumes when run again.
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// Also fetch exploit data: `kev` (CISA's Known Exploited
        /// Vulnerabilities catalogue) and/or `epss` (FIRST's EPSS scores).
        #[arg(long = "with", value_name = "kev,epss", value_delimiter = ',')]
        with: Vec<String>,
        /// Where the KEV catalogue is fetched from (a mirror).
        #[arg(long, value_name = "URL", default_value = crate::vulndb::exploits::KEV_URL)]
        kev_from: String,
        /// Where the EPSS scores are fetched from (a mirror).
        #[arg(long, value_name = "URL", default_value = crate::vulndb::exploits::EPSS_URL)]
        epss_from: String,
    },
    /// Import OSV data from files, for machines without internet and for
    /// tests: OSV zips (Debian/all.zip …), record files, or folders of them;
    /// and exploit data: CISA's KEV catalogue (its JSON) and FIRST's EPSS
    /// scores (the CSV, gzip'd or not), recognised by their content.
    Import {
        /// The files to import.
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },
    /// What is loaded, from when and from where.
    Status,
}

/// Which engines and clusters `scan` and `watch` take (with the global
/// `--host` and `--kubeconfig`): one definition for both.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Every engine this machine knows of: each --host, DOCKER_HOST, every docker context and
    /// every engine socket that exists (the same engine reached two ways counts once), and
    /// every context of the kubeconfig (their exec plugins run).
    #[arg(long)]
    pub all: bool,

    /// This Kubernetes context's cluster (repeat for several). Alone, only clusters are
    /// taken; with --host or --all, engines too.
    #[arg(long = "kube-context", value_name = "NAME")]
    pub kube_contexts: Vec<String>,
}

/// Options of `shipshape scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The engines and clusters to scan.
    #[command(flatten)]
    pub sources: SourceArgs,

    /// Ask registries for the signatures of images the policy's
    /// `[[integrity.require]]` covers (read-only). Without it, only
    /// signatures cached by an earlier online check are judged.
    #[arg(long)]
    pub online: bool,

    /// Report format: json, sarif, html, csv or md.
    #[arg(long, default_value = "json", value_parser = parse_format)]
    pub format: crate::report::Format,

    /// An earlier JSON report: mark findings as new or unchanged and list fixed ones.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// Where to write the report; `-` for standard output.
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub output: String,

    /// Exit with 1 when an active finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Do not print the summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,

    /// Do not check running containers for filesystem drift (GET /changes).
    #[arg(long)]
    pub no_drift: bool,

    /// Do not read images' package databases and setuid files (GET
    /// /containers/{id}/archive); their vulnerabilities are then "not assessed".
    #[arg(long)]
    pub no_vulns: bool,
}

/// Options of `shipshape sbom`.
///
/// Exit codes: 0 written and complete; 1 written, but something named could
/// not be taken or an image's packages were read only in part (each said on
/// standard error and in the document); 2 usage error, nothing to describe,
/// or the file could not be written; 3 the engine could not be reached.
#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// Images or containers (id, id prefix, name, repo:tag). A container
    /// stands for its image.
    #[arg(value_name = "IMAGE|CONTAINER")]
    pub targets: Vec<String>,

    /// Every image a container uses (one document describing them all).
    #[arg(long)]
    pub all: bool,

    /// cyclonedx (1.6, JSON) or spdx (2.3, JSON).
    #[arg(long, default_value = "cyclonedx", value_parser = parse_sbom_format)]
    pub format: crate::report::sbom::SbomFormat,

    /// Where to write it; `-` for standard output.
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub output: String,

    /// Leave the known vulnerabilities out (no database is loaded).
    #[arg(long)]
    pub no_vulns: bool,

    /// Print only problems on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_sbom_format(s: &str) -> Result<crate::report::sbom::SbomFormat, String> {
    s.parse()
}

/// Options of `shipshape watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The engines and clusters to watch, as `scan` takes them; `--host` given more than once
    /// watches those.
    #[command(flatten)]
    pub sources: SourceArgs,

    /// Seconds between full re-scans (events trigger scans in between).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub poll: u64,

    /// Do not check running containers for filesystem drift.
    #[arg(long)]
    pub no_drift: bool,

    /// Print each activity as a JSON line instead of text.
    #[arg(long)]
    pub json: bool,

    /// Also send desktop notifications (new findings at or above --notify-min, privileged or
    /// root execs, gaps in monitoring, forbidden images), bursts grouped; clicking one opens
    /// the window on that container.
    #[arg(long)]
    pub notify: bool,

    /// The lowest severity of a new finding that makes a notification.
    #[arg(
        long,
        default_value = "high",
        value_name = "SEVERITY",
        requires = "notify"
    )]
    pub notify_min: crate::model::Severity,
}

impl Cli {
    /// The `--host` addresses, in the order given.
    pub fn hosts(&self) -> Vec<String> {
        self.host
            .iter()
            .map(|h| h.to_string_lossy().into_owned())
            .collect()
    }

    /// Which images may be read through the engine's image export.
    pub fn export_policy(&self) -> crate::sources::docker::packages::Export {
        use crate::sources::docker::packages::Export;
        if self.export_images {
            Export::Always
        } else {
            Export::from_env()
        }
    }

    /// The vulnerability database's folder.
    pub fn vulndb_store(&self) -> Option<crate::vulndb::store::Store> {
        self.vulndb
            .clone()
            .or_else(crate::vulndb::store::Store::default_dir)
            .map(crate::vulndb::store::Store::at)
    }

    /// The audit log for long-running modes (window, watch): the flag, else
    /// the default in the user's data directory; none with --no-audit.
    pub fn audit_path(&self) -> Option<PathBuf> {
        if self.no_audit {
            None
        } else {
            self.audit_log
                .clone()
                .or_else(crate::audit::AuditLog::default_path)
        }
    }

    /// How much of the audit log is kept: `--audit-keep`, else the
    /// settings file's `[audit] keep_mib`, else the default.
    pub fn audit_retention(&self) -> crate::audit::Retention {
        let mib = self.audit_keep.unwrap_or_else(|| {
            crate::settings::Settings::default_path().map_or(crate::audit::DEFAULT_KEEP_MIB, |p| {
                crate::settings::Settings::load(&p).0.audit.keep_mib
            })
        });
        crate::audit::Retention::mib(mib)
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_format(s: &str) -> Result<crate::report::Format, String> {
    s.parse()
}

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above the `--fail-on` severity was found.
    Clean = 0,
    /// Something at or above the `--fail-on` severity was found.
    Findings = 1,
    /// The command line or the policy file is wrong.
    Usage = 2,
    /// No engine could be reached, so nothing was assessed.
    EngineUnreachable = 3,
}

/// Run a command; without one, open the dashboard.
pub fn run(cli: Cli, runtime: &tokio::runtime::Runtime) -> Exit {
    match cli.command {
        Some(Command::Scan(ref args)) => runtime.block_on(scan::run(&cli, args)),
        Some(Command::Watch(ref args)) => runtime.block_on(watch::run(&cli, args)),
        Some(Command::Sbom(ref args)) => runtime.block_on(sbom::run(&cli, args)),
        Some(Command::Harden(ref args)) => runtime.block_on(harden::run(&cli, args)),
        Some(Command::Verify(ref args)) => runtime.block_on(verify::run(&cli, args)),
        Some(Command::Compose {
            action: ComposeAction::Check(ref args),
        }) => compose::check(&cli, args),
        Some(Command::Contexts) => contexts(&cli),
        Some(Command::Rules { markdown, fields }) => {
            if fields {
                print!("{}", crate::rules::fields::fields_markdown());
            } else if markdown {
                print!("{}", crate::rules::docs::catalogue_markdown());
            } else {
                print!("{}", rules_table());
            }
            Exit::Clean
        }
        Some(Command::Audit {
            action: AuditAction::Verify { ref path },
        }) => audit_verify(path.as_deref().or(cli.audit_log.as_deref())),
        Some(Command::Db { ref action }) => runtime.block_on(db::run(&cli, action)),
        Some(Command::PanicTest) => panic_test(),
        None => gui(&cli, runtime),
    }
}

/// A panic a few calls deep, so a backtrace shows whether function names
/// and lines come through.
#[inline(never)]
fn panic_test() -> Exit {
    #[inline(never)]
    fn deeper(depth: u32) -> Exit {
        if depth == 0 {
            panic!("shipshape panic-test: a panic on purpose");
        }
        std::hint::black_box(deeper(std::hint::black_box(depth) - 1))
    }
    deeper(3)
}

/// Open the dashboard window. Start-up problems that leave the app usable
/// (a bad policy or settings file) are shown in the window, not only here.
/// The window's icon: `assets/icons/shipshape-64.png` as raw RGBA (made by
/// `scripts/icons.sh`, so no image decoder is built for one picture).
fn window_icon() -> egui::IconData {
    egui::IconData {
        rgba: include_bytes!("../../assets/icons/shipshape-64.rgba").to_vec(),
        width: 64,
        height: 64,
    }
}

fn gui(cli: &Cli, runtime: &tokio::runtime::Runtime) -> Exit {
    use std::sync::Arc;

    use crate::app::{App, Launch, Notice};
    use crate::policy::Policy;
    use crate::settings::Settings;

    let mut notices = Vec::new();
    let policy = match scan::load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("shipshape: policy error: {e}");
            notices.push(Notice {
                text: format!(
                    "Policy not applied — {e}. Using the built-in defaults until it is fixed."
                ),
                error: true,
            });
            Policy::default()
        }
    };
    let settings_path = Settings::default_path();
    let settings = match &settings_path {
        Some(p) => {
            let (s, warning) = Settings::load(p);
            if let Some(w) = warning {
                notices.push(Notice {
                    text: format!("Settings: {w}"),
                    error: true,
                });
            }
            s
        }
        None => Settings::default(),
    };
    // Every engine at once: `--host` given more than once, or, when
    // neither `--host` nor DOCKER_HOST/DOCKER_CONTEXT names one engine,
    // every engine this machine has (contexts and sockets) when there is
    // more than one.
    let env = crate::sources::docker::EnvSnapshot::from_process();
    let hosts = cli.hosts();
    let listed = settings.engines.iter().any(|e| e.enabled);
    // Every engine on this machine: offered in Settings, and watched when
    // nothing names one (discovered once for both).
    let (found, found_problems) = crate::sources::docker::connect::discover_all(&[], &env);
    let (fleet, problems) = if hosts.len() > 1 {
        crate::sources::docker::connect::discover_all_of(&hosts, &env)
    } else if hosts.is_empty() && listed {
        // The user's own list, as many or as few as it names.
        settings.engine_targets(&env)
    } else if hosts.is_empty() && env.docker_host.is_none() && env.docker_context.is_none() {
        (found.clone(), found_problems)
    } else {
        (Vec::new(), Vec::new())
    };
    let fleet = if fleet.len() > 1 || listed && hosts.is_empty() {
        fleet
    } else {
        Vec::new()
    };
    for p in problems {
        notices.push(Notice {
            text: p,
            error: true,
        });
    }
    let launch = Launch {
        host: hosts.into_iter().next(),
        fleet,
        found,
        policy: Arc::new(policy),
        settings_path,
        audit: cli.audit_path(),
        audit_retention: crate::audit::Retention::mib(
            cli.audit_keep.unwrap_or(settings.audit.keep_mib),
        ),
        vulndb: cli.vulndb_store(),
        kubeconfig: cli.kubeconfig.clone(),
        contexts: kube_context_names(cli),
    };
    let demo = cli.demo;
    let handle = runtime.handle().clone();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("shipshape")
            .with_app_id("shipshape")
            .with_inner_size([1360.0, 820.0])
            .with_min_inner_size([900.0, 560.0])
            .with_icon(window_icon()),
        ..Default::default()
    };
    // One window: a second launch brings the first to the front.
    let instance = crate::instance::socket_path();
    let show = cli.show.clone();
    let ask = match (&show, demo) {
        (Some(what), _) => crate::instance::Request::Show(what.clone()),
        (None, true) => crate::instance::Request::Demo,
        (None, false) => crate::instance::Request::Focus,
    };
    match crate::instance::forward(&instance, ask) {
        Ok(true) => {
            eprintln!("shipshape: a window is already open; brought it to the front");
            return Exit::Clean;
        }
        Ok(false) => {}
        // Not this user's socket (or no answer): this window opens.
        Err(e) => eprintln!("shipshape: {e}; opening a window"),
    }
    let result = eframe::run_native(
        "shipshape",
        options,
        Box::new(move |cc| {
            let mut app = if demo {
                App::demo(&cc.egui_ctx, handle, launch, settings)
            } else {
                App::live(&cc.egui_ctx, handle, launch, settings)
            };
            let (tx, rx) = std::sync::mpsc::channel();
            let ctx = cc.egui_ctx.clone();
            match crate::instance::listen(&instance, move |r| {
                let _ = tx.send(r);
                ctx.request_repaint();
            }) {
                Ok(_) => app = app.with_instance(rx),
                Err(e) => tracing::warn!(
                    "{}: {e}; a second launch will open a second window",
                    instance.display()
                ),
            }
            for n in notices {
                app.state.notify(n.text, n.error);
            }
            if let Some(what) = show {
                app.show_when_seen(what);
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!(
                "shipshape: cannot open the window: {e}. (No display? `shipshape scan` works without one.)"
            );
            Exit::Usage
        }
    }
}

fn audit_verify(path: Option<&std::path::Path>) -> Exit {
    let Some(path) = path
        .map(std::path::Path::to_path_buf)
        .or_else(crate::audit::AuditLog::default_path)
    else {
        eprintln!("shipshape: no audit log path given and no data directory is known");
        return Exit::Usage;
    };
    if !path.exists() {
        eprintln!("shipshape: {} does not exist", path.display());
        return Exit::Usage;
    }
    match crate::audit::verify(&path) {
        Ok(Ok(v)) => {
            println!(
                "audit log intact: {} records in {} file(s) ({})",
                v.records,
                v.files,
                path.display()
            );
            if let Some(n) = v.pruned_through {
                println!(
                    "note: records 1..{n} are no longer in the log: retention removed them, as a \
                     retention record in the chain says (--audit-keep, [audit] keep_mib). The \
                     chain was verified from record {}.",
                    n + 1
                );
            }
            if let Some(bytes) = v.torn_tail {
                println!(
                    "note: the log ends in a write that was cut short ({bytes} bytes after the last \
                     committed record, as a crash leaves it). It is not tampering; the next shipshape \
                     that opens the log seals it with a torn_tail record."
                );
            }
            Exit::Clean
        }
        Ok(Err(problem)) => {
            println!(
                "audit log TAMPERED: {}",
                crate::model::visible(&problem.to_string())
            );
            Exit::Findings
        }
        Err(e) => {
            eprintln!("shipshape: {e}");
            Exit::Usage
        }
    }
}

/// Write a command's document to `output` (`-`: standard output), a file
/// atomically (a reader never sees half of it).
pub(crate) fn write_output(output: &str, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    if output == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to standard output: {e}"))
    } else {
        crate::report::write::write_atomic(std::path::Path::new(output), text.as_bytes())
            .map_err(|e| e.to_string())
    }
}

/// The catalogue as an aligned text table.
pub fn rules_table() -> String {
    let mut out = format!(
        "{:<38} {:<9} {:<6} {:<4} {}\n",
        "RULE", "SEVERITY", "CIS", "SEED", "TITLE"
    );
    for r in crate::rules::ALL {
        out.push_str(&format!(
            "{:<38} {:<9} {:<6} {:<4} {}\n",
            r.id,
            r.severity.as_str(),
            r.cis.unwrap_or("-"),
            r.seed.number(),
            r.title
        ));
    }
    out
}

/// The kubeconfig's context names, for the window's Settings. A kubeconfig
/// that cannot be read is said once, on standard error; the window opens.
#[cfg(feature = "kube")]
fn kube_context_names(cli: &Cli) -> Vec<String> {
    match crate::sources::kube::contexts(cli.kubeconfig.as_deref()) {
        Ok(list) => list.into_iter().map(|c| c.name).collect(),
        Err(e) => {
            eprintln!("shipshape: {e}");
            Vec::new()
        }
    }
}

#[cfg(not(feature = "kube"))]
fn kube_context_names(_: &Cli) -> Vec<String> {
    Vec::new()
}

/// `shipshape contexts`: the kubeconfig's contexts, one per line.
#[cfg(feature = "kube")]
fn contexts(cli: &Cli) -> Exit {
    match crate::sources::kube::contexts(cli.kubeconfig.as_deref()) {
        Ok(list) if list.is_empty() => {
            eprintln!("shipshape: no kubeconfig contexts (KUBECONFIG, ~/.kube/config)");
            Exit::Clean
        }
        Ok(list) => {
            for c in list {
                let v = crate::model::visible;
                println!(
                    "{}{}\t{}\tnamespace {}",
                    if c.current { "* " } else { "  " },
                    v(&c.name),
                    v(&c.server),
                    v(c.namespace.as_deref().unwrap_or("default"))
                );
            }
            Exit::Clean
        }
        Err(e) => {
            eprintln!("shipshape: {e}");
            Exit::Usage
        }
    }
}

#[cfg(not(feature = "kube"))]
fn contexts(_: &Cli) -> Exit {
    eprintln!("shipshape: this build has no Kubernetes support (the `kube` feature)");
    Exit::Usage
}
