//! What the processes inside a running container do: the well-known signs
//! of an attack that runtime tools (Falco, Tracee) look for, judged on the
//! processes `crate::sources::runtime` read ([`Container::observed`]).
//!
//! Evidence names the process (pid, name, executable, user, arguments
//! with secrets hidden) and its parent chain, never a secret's value. A
//! container whose processes were not read raises none of these: the
//! report says how they were read, or why not.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::runtime::{Ancestor, ProcInfo, Stdio};
use crate::model::{Container, SeedRule, Severity};

const FALCO: &str = "https://falco.org/docs/reference/rules/default-rules/";
const TRACEE: &str = "https://aquasecurity.github.io/tracee/latest/docs/events/builtin/signatures/";
const READ_ONLY_DOCS: &str =
    "https://docs.docker.com/reference/cli/docker/container/run/#read-only";

/// At most this many processes named per rule and container.
const MAX_HITS: usize = 8;

/// Shells, by program name.
const SHELLS: &[&str] = &[
    "sh", "ash", "bash", "dash", "zsh", "ksh", "mksh", "pdksh", "fish", "csh", "tcsh", "rbash",
];

/// Programs that start shells as their job: inits and supervisors, and
/// launchers that run a command they are given.
const LAUNCHERS: &[&str] = &[
    "docker-init",
    "tini",
    "dumb-init",
    "catatonit",
    "init",
    "systemd",
    "s6-svscan",
    "s6-supervise",
    "runsvdir",
    "runsv",
    "supervisord",
    "env",
    "nohup",
    "timeout",
    "nice",
    "xargs",
    "su",
    "sudo",
    "runuser",
    "setpriv",
    "gosu",
    "su-exec",
    "chpst",
    "flock",
    "cron",
    "crond",
    "make",
];

/// Package managers that change the system whatever their arguments.
const PACKAGE_MANAGERS: &[&str] = &[
    "apk", "apt", "apt-get", "aptitude", "yum", "dnf", "microdnf", "zypper", "pacman", "emerge",
    "tdnf",
];

/// Language package managers: only when they install.
const LANGUAGE_INSTALLERS: &[&str] = &["pip", "pip3", "npm", "yarn", "pnpm", "gem", "cargo", "go"];

/// Network tools an attacker brings: shells over the network, scanners,
/// sniffers.
const NETWORK_TOOLS: &[&str] = &[
    "nc", "ncat", "netcat", "socat", "nmap", "masscan", "zmap", "tcpdump", "tshark", "hping3",
    "telnet", "rustscan",
];

/// Downloaders: common in images, weaker signs.
const DOWNLOADERS: &[&str] = &["curl", "wget"];

/// Folders anyone can write and nobody should run programs from.
const SCRATCH: &[&str] = &["/tmp/", "/dev/shm/", "/var/tmp/", "/run/shm/"];

/// The rules of this file.
pub const RULES: [&Rule; 6] = [
    &SHELL_FROM_SERVICE,
    &PACKAGE_MANAGER_RUN,
    &NETWORK_TOOL_RUN,
    &RUN_FROM_SCRATCH,
    &SOCKET_STDIO,
    &ROOT_PROCESS,
];

/// Whether `id` is one of the rules on processes seen running.
pub fn is_process_rule(id: &str) -> bool {
    RULES.iter().any(|r| r.id == id)
}

fn observed(c: &Container) -> &[ProcInfo] {
    c.observed.as_deref().map_or(&[], |o| o.procs.as_slice())
}

fn base(name: &str) -> &str {
    name.trim_end_matches(" (deleted)")
        .rsplit('/')
        .next()
        .unwrap_or("")
}

fn is_shell(p: &ProcInfo) -> bool {
    p.names().any(|n| SHELLS.contains(&n))
}

fn ancestor_is(a: &Ancestor, list: &[&str]) -> bool {
    list.contains(&a.name.as_str()) || a.exe.as_deref().is_some_and(|e| list.contains(&base(e)))
}

/// Whether it descends from the container's first process (else it was
/// started from outside: `docker exec`, a healthcheck).
fn from_init(c: &Container, p: &ProcInfo) -> bool {
    let init = u32::try_from(c.pid).unwrap_or(0);
    init > 0 && (p.pid == init || p.parents.iter().any(|a| a.pid == init))
}

/// Process and chain, for evidence.
fn evidence(p: &ProcInfo, what: &str) -> String {
    format!("{what}: {}; {}", p.describe(), p.chain())
}

/// At most [`MAX_HITS`] hits, then one that counts the rest.
fn capped(mut hits: Vec<Hit>) -> Vec<Hit> {
    if hits.len() > MAX_HITS {
        let more = hits.len() - MAX_HITS;
        hits.truncate(MAX_HITS);
        hits.push(Hit::new(format!("and {more} more processes")));
    }
    hits
}

/// The `container.shell-from-service` rule.
pub const SHELL_FROM_SERVICE: Rule = Rule {
    id: "container.shell-from-service",
    title: "Shell started by a service (not by a shell or an init)",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::MonitorActivity,
    why: "A service that starts `sh` or `bash` is how remote code execution looks from the \
          outside: a web server, a database or an application runtime has no business running \
          a shell. Shells started by shells, by an init or supervisor (tini, docker-init, \
          supervisord, s6), by the container's first process, or from outside the container \
          (`docker exec`, healthchecks, which the exec rules cover) are not reported. The \
          first process is left out because entrypoint scripts start helpers and then `exec` \
          the service, which then looks like the helpers' parent: a service that is itself \
          the first process and starts a shell is a blind spot of this rule.",
    attack: "An attacker who finds command injection, a deserialisation bug or a template \
             injection in the service makes it run `sh -c '…'`: to download tools, open a \
             reverse shell or read the service's secrets.",
    fix: Fix {
        summary: "Investigate the parent chain. Ship images without a shell (distroless, \
                  scratch) so injected commands have nothing to run, run read-only and as a \
                  non-root user.",
        run: "--read-only --user 10001:10001 --cap-drop ALL (image without /bin/sh)",
        compose: "read_only: true, user: \"10001:10001\", cap_drop: [ALL]",
        kube: "",
    },
    references: &[FALCO, TRACEE],
    check: Check::Container(|_, c| shell_from_service(c)),
};

fn shell_from_service(c: &Container) -> Vec<Hit> {
    let init = u32::try_from(c.pid).unwrap_or(0);
    capped(
        observed(c)
            .iter()
            .filter(|p| is_shell(p))
            .filter(|p| {
                p.parents.first().is_some_and(|a| {
                    a.in_container
                        && a.pid != init
                        && !a.name.is_empty()
                        && !SHELLS.contains(&a.name.as_str())
                        && !ancestor_is(a, SHELLS)
                        && !ancestor_is(a, LAUNCHERS)
                })
            })
            .map(|p| {
                let parent = p.parents.first().map_or("", |a| a.name.as_str());
                Hit::new(evidence(p, &format!("shell started by {parent}")))
            })
            .collect(),
    )
}

/// The `container.package-manager-run` rule.
pub const PACKAGE_MANAGER_RUN: Rule = Rule {
    id: "container.package-manager-run",
    title: "Package manager run in a running container",
    severity: Severity::Medium,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "A container should run what its reviewed image holds. A package manager at runtime \
          (apk, apt, yum, dnf, or dpkg/rpm installing, pip or npm install) changes the software \
          after every scan and signature, and is rarely how a service is meant to work.",
    attack: "After a foothold an attacker installs what the image left out: a compiler, \
             netcat, nmap, an SSH server; or pulls a malicious package from a public index.",
    fix: Fix {
        summary: "Install everything at build time, run read-only so nothing can be added, and \
                  leave package managers out of the final image (multi-stage builds).",
        run: "--read-only --tmpfs /tmp:rw,noexec,nosuid",
        compose: "read_only: true + tmpfs: [\"/tmp:rw,noexec,nosuid\"]",
        kube: "",
    },
    references: &[FALCO, READ_ONLY_DOCS],
    check: Check::Container(|_, c| package_managers(c)),
};

/// Whether `p` changes installed packages. Pure.
pub fn is_package_install(p: &ProcInfo) -> bool {
    let args = p.args.get(1..).unwrap_or(&[]);
    let short = |letters: &[char]| {
        args.iter().any(|a| {
            a.strip_prefix('-')
                .filter(|r| !r.starts_with('-'))
                .and_then(|r| r.chars().next())
                .is_some_and(|ch| letters.contains(&ch))
        })
    };
    let long = |words: &[&str]| args.iter().any(|a| words.contains(&a.as_str()));
    p.names().any(|n| {
        PACKAGE_MANAGERS.contains(&n)
            || (n == "dpkg"
                && (short(&['i', 'r', 'P'])
                    || long(&[
                        "--install",
                        "--remove",
                        "--purge",
                        "--unpack",
                        "--configure",
                    ])))
            || (n == "rpm"
                && (short(&['i', 'U', 'F', 'e'])
                    || long(&["--install", "--upgrade", "--freshen", "--erase"])))
            || (LANGUAGE_INSTALLERS.contains(&n)
                && long(&["install", "add", "i", "update", "upgrade", "get"]))
    })
}

fn package_managers(c: &Container) -> Vec<Hit> {
    capped(
        observed(c)
            .iter()
            .filter(|p| is_package_install(p))
            .map(|p| Hit::new(evidence(p, "package manager")))
            .collect(),
    )
}

/// The `container.network-tool-run` rule.
pub const NETWORK_TOOL_RUN: Rule = Rule {
    id: "container.network-tool-run",
    title: "Network tool or scanner run in a container",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "netcat, socat, nmap, masscan or tcpdump running in a service container is how \
          attackers open shells over the network, map the network around them and sniff it. \
          curl and wget are graded low: images use them for healthchecks and downloads, so \
          only those started by the container's own processes are reported.",
    attack: "From a compromised container an attacker runs `nc -e /bin/sh` to get a shell, \
             scans the other containers and the host's services with nmap, or captures \
             traffic with tcpdump (with NET_RAW, which Docker grants by default).",
    fix: Fix {
        summary: "Investigate; leave network tools out of service images, drop NET_RAW, and \
                  put the container on a network with only the peers it needs.",
        run: "--cap-drop NET_RAW (or --cap-drop ALL)",
        compose: "cap_drop: [NET_RAW]",
        kube: "",
    },
    references: &[FALCO, TRACEE],
    check: Check::Container(|_, c| network_tools(c)),
};

fn network_tools(c: &Container) -> Vec<Hit> {
    let mut hits = Vec::new();
    for p in observed(c) {
        if let Some(n) = p.names().find(|n| NETWORK_TOOLS.contains(n)) {
            hits.push(Hit::new(evidence(p, &format!("network tool {n}"))));
        } else if let Some(n) = p.names().find(|n| DOWNLOADERS.contains(n))
            && from_init(c, p)
        {
            hits.push(Hit::graded(
                Severity::Low,
                evidence(p, &format!("downloader {n}")),
            ));
        }
    }
    capped(hits)
}

/// The `container.run-from-scratch-dir` rule.
pub const RUN_FROM_SCRATCH: Rule = Rule {
    id: "container.run-from-scratch-dir",
    title: "Program run from /tmp, /dev/shm, a deleted file or memory",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "Programs of a service live in the image's bin folders. One that runs from a folder \
          anyone can write (/tmp, /var/tmp, /dev/shm), from a file deleted after it started, \
          or from an anonymous memory file (memfd: fileless malware) was put there after the \
          image was built, and hides from file scans.",
    attack: "A dropper downloads a miner or an implant into /tmp or /dev/shm, runs it and \
             deletes the file, or loads it straight into memory with memfd_create, so \
             nothing is left on disk to find.",
    fix: Fix {
        summary: "Investigate; run read-only and mount scratch space noexec, so nothing \
                  written at runtime can be run.",
        run: "--read-only --tmpfs /tmp:rw,noexec,nosuid --tmpfs /dev/shm:rw,noexec,nosuid",
        compose: "read_only: true + tmpfs: [\"/tmp:rw,noexec,nosuid\"]",
        kube: "",
    },
    references: &[FALCO, TRACEE, READ_ONLY_DOCS],
    check: Check::Container(|_, c| from_scratch(c)),
};

/// Why `p` runs from somewhere it should not, if it does. Pure.
pub fn scratch_reason(p: &ProcInfo) -> Option<String> {
    if let Some(exe) = &p.exe {
        if exe.starts_with("/memfd:") {
            return Some(format!("runs from an anonymous memory file ({exe})"));
        }
        if exe.ends_with(" (deleted)") {
            return Some(format!("its program was deleted after it started ({exe})"));
        }
    }
    if let Some(path) = p.path()
        && SCRATCH.iter().any(|d| path.starts_with(d))
    {
        return Some(format!("runs {path}"));
    }
    // A script in a scratch folder run by a shell or an interpreter.
    let script = p
        .args
        .get(1)
        .filter(|a| SCRATCH.iter().any(|d| a.starts_with(*d)))?;
    Some(format!("runs the script {script}"))
}

fn from_scratch(c: &Container) -> Vec<Hit> {
    capped(
        observed(c)
            .iter()
            .filter_map(|p| scratch_reason(p).map(|why| Hit::new(evidence(p, &why))))
            .collect(),
    )
}

/// The `container.socket-stdio` rule.
pub const SOCKET_STDIO: Rule = Rule {
    id: "container.socket-stdio",
    title: "Process whose standard input or output is a socket (reverse or bind shell)",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::MonitorActivity,
    why: "A program reading its commands from a network connection and writing its output \
          back to it is a remote shell. Services read sockets they open themselves, not on \
          fd 0 and 1. Graded critical for a shell: someone holds one in this container now.",
    attack: "`nc -e /bin/sh`, `socat exec:sh tcp:…`, `bash -i >& /dev/tcp/…` hand a shell to a \
             listener on the attacker's machine (reverse) or to whoever connects to a port \
             (bind).",
    fix: Fix {
        summary: "Investigate and stop the container; ship images without shells or network \
                  tools, and restrict egress so a reverse shell cannot call out.",
        run: "--network <internal network> --read-only (image without /bin/sh)",
        compose: "networks: [internal] with internal: true",
        kube: "",
    },
    references: &[FALCO, TRACEE],
    check: Check::Container(|_, c| socket_stdio(c)),
};

fn socket_stdio(c: &Container) -> Vec<Hit> {
    capped(
        observed(c)
            .iter()
            .filter(|p| {
                matches!(p.stdio[0], Stdio::Socket(_)) || matches!(p.stdio[1], Stdio::Socket(_))
            })
            .map(|p| {
                let what = format!(
                    "stdin {}, stdout {}",
                    p.stdio[0].describe(),
                    p.stdio[1].describe()
                );
                let e = evidence(p, &what);
                if is_shell(p) {
                    Hit::graded(Severity::Critical, e)
                } else {
                    Hit::new(e)
                }
            })
            .collect(),
    )
}

/// The `container.root-process` rule.
pub const ROOT_PROCESS: Rule = Rule {
    id: "container.root-process",
    title: "Root process in a container configured for another user",
    severity: Severity::Medium,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "The container was configured to run as an unprivileged user, yet one of its own \
          processes runs as root: something raised its privileges (a setuid program, a \
          capability, an entrypoint that does not drop them). Graded high for a setuid \
          transition (real user not root, effective root). Processes started with \
          `docker exec -u 0` are the exec rules' business, and with user namespaces or a \
          rootless engine root here is not root on the host, so neither is reported.",
    attack: "An attacker in a non-root service runs a setuid binary left in the image (su, \
             passwd, a vulnerable helper) to become root in the container, one step closer \
             to the host.",
    fix: Fix {
        summary: "Remove setuid bits from the image, set no-new-privileges and drop every \
                  capability, so a process can never gain root.",
        run: "--security-opt no-new-privileges --cap-drop ALL",
        compose: "security_opt: [no-new-privileges:true], cap_drop: [ALL]",
        kube: "",
    },
    references: &[FALCO],
    check: Check::Container(root_processes),
};

/// Whether a configured user (`USER`, `--user`) is root or unset.
fn user_is_root(user: &str) -> bool {
    matches!(user.split(':').next().unwrap_or(""), "" | "0" | "root")
}

fn root_processes(ctx: &Ctx, c: &Container) -> Vec<Hit> {
    if user_is_root(&c.user) || super::contained_root(ctx, c).is_some() {
        return Vec::new();
    }
    capped(
        observed(c)
            .iter()
            .filter(|p| p.euid == Some(0) && from_init(c, p))
            .map(|p| {
                let what = format!("runs as root, configured user {}", c.user);
                match p.uid {
                    Some(u) if u != 0 => Hit::graded(
                        Severity::High,
                        evidence(p, &format!("{what} (setuid from uid {u})")),
                    ),
                    _ => Hit::new(evidence(p, &what)),
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::runtime::Observed;

    const INIT: u32 = 100;

    fn anc(pid: u32, name: &str, in_container: bool) -> Ancestor {
        Ancestor {
            pid,
            name: name.into(),
            exe: None,
            in_container,
        }
    }

    fn proc(pid: u32, name: &str, exe: &str, args: &[&str], parents: Vec<Ancestor>) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: parents.first().map_or(0, |a| a.pid),
            name: name.into(),
            exe: (!exe.is_empty()).then(|| exe.into()),
            args: args.iter().map(|a| a.to_string()).collect(),
            uid: Some(0),
            euid: Some(0),
            parents,
            ..ProcInfo::default()
        }
    }

    /// `sh -c "httpd …"` as init (pid 100, parent the shim), httpd below it.
    fn web(extra: Vec<ProcInfo>) -> Container {
        let mut procs = vec![
            proc(
                INIT,
                "sh",
                "/bin/busybox",
                &["sh", "-c", "httpd -f"],
                vec![anc(1, "containerd-shim", false)],
            ),
            proc(
                101,
                "httpd",
                "/bin/busybox",
                &["httpd", "-f"],
                vec![anc(INIT, "sh", true), anc(1, "containerd-shim", false)],
            ),
        ];
        procs.extend(extra);
        let mut c = hardened();
        c.pid = i64::from(INIT);
        c.observed = Some(std::sync::Arc::new(Observed {
            source: "test".into(),
            procs,
            ..Observed::default()
        }));
        c
    }

    fn under_httpd() -> Vec<Ancestor> {
        vec![
            anc(101, "httpd", true),
            anc(INIT, "sh", true),
            anc(1, "containerd-shim", false),
        ]
    }

    fn under_exec() -> Vec<Ancestor> {
        vec![anc(7, "runc", false)]
    }

    #[test]
    fn shell_from_service() {
        assert!(
            run_container(&SHELL_FROM_SERVICE, &hardened()).is_empty(),
            "not read"
        );
        assert!(run_container(&SHELL_FROM_SERVICE, &web(vec![])).is_empty());
        let cgi = proc(
            102,
            "sh",
            "/bin/busybox",
            &["/bin/sh", "/www/cgi-bin/x"],
            under_httpd(),
        );
        let hits = run_container(&SHELL_FROM_SERVICE, &web(vec![cgi]));
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].evidence.contains("shell started by httpd"),
            "{}",
            hits[0].evidence
        );
        assert!(
            hits[0].evidence.contains("httpd (pid 101) ← sh (pid 100)"),
            "{}",
            hits[0].evidence
        );
        // A bash by name (exe), started by node.
        let node = proc(
            103,
            "bash",
            "/usr/bin/bash",
            &["bash", "-c", "id"],
            vec![anc(101, "node", true)],
        );
        assert_eq!(
            run_container(&SHELL_FROM_SERVICE, &web(vec![node])).len(),
            1
        );
        // Quiet: a shell from a shell, from tini, from outside (exec,
        // healthcheck), and a non-shell from httpd.
        for p in [
            proc(
                104,
                "sh",
                "/bin/busybox",
                &["sh"],
                vec![anc(INIT, "sh", true)],
            ),
            proc(
                105,
                "sh",
                "/bin/busybox",
                &["sh"],
                vec![anc(INIT, "tini", true)],
            ),
            proc(
                106,
                "sh",
                "/bin/busybox",
                &["/bin/sh", "-c", "wget -q localhost"],
                under_exec(),
            ),
            proc(107, "cat", "/bin/busybox", &["cat"], under_httpd()),
            // The first process, which ran `exec sleep` after starting it.
            proc(
                108,
                "worker.sh",
                "/bin/busybox",
                &["/bin/sh", "/usr/local/bin/worker.sh"],
                vec![anc(INIT, "sleep", true)],
            ),
        ] {
            assert!(
                run_container(&SHELL_FROM_SERVICE, &web(vec![p.clone()])).is_empty(),
                "{p:?}"
            );
        }
    }

    #[test]
    fn package_managers() {
        let fire = [
            proc(
                110,
                "apk",
                "/bin/busybox",
                &["/bin/sh", "/sbin/apk", "add", "nmap"],
                under_exec(),
            ),
            proc(
                111,
                "apt-get",
                "/usr/bin/apt-get",
                &["apt-get", "install", "-y", "nc"],
                under_exec(),
            ),
            proc(
                112,
                "dpkg",
                "/usr/bin/dpkg",
                &["dpkg", "-i", "x.deb"],
                under_exec(),
            ),
            proc(
                113,
                "rpm",
                "/usr/bin/rpm",
                &["rpm", "-Uvh", "x.rpm"],
                under_exec(),
            ),
            proc(
                114,
                "pip",
                "/usr/bin/python3",
                &["pip", "install", "requests"],
                under_exec(),
            ),
            proc(
                115,
                "npm",
                "/usr/bin/node",
                &["npm", "install", "left-pad"],
                under_exec(),
            ),
        ];
        for p in fire {
            assert!(is_package_install(&p), "{p:?}");
            assert_eq!(run_container(&PACKAGE_MANAGER_RUN, &web(vec![p])).len(), 1);
        }
        for p in [
            proc(120, "dpkg", "/usr/bin/dpkg", &["dpkg", "-l"], under_exec()),
            proc(121, "rpm", "/usr/bin/rpm", &["rpm", "-qa"], under_exec()),
            proc(
                122,
                "rpm",
                "/usr/bin/rpm",
                &["rpm", "-qi", "bash"],
                under_exec(),
            ),
            proc(
                123,
                "pip",
                "/usr/bin/python3",
                &["pip", "list"],
                under_exec(),
            ),
            proc(
                124,
                "npm",
                "/usr/bin/node",
                &["npm", "start"],
                under_httpd(),
            ),
        ] {
            assert!(!is_package_install(&p), "{p:?}");
        }
        assert!(run_container(&PACKAGE_MANAGER_RUN, &web(vec![])).is_empty());
    }

    #[test]
    fn network_tools_graded() {
        let nc = proc(
            130,
            "nc",
            "/bin/busybox",
            &["nc", "-l", "-p", "4444", "-e", "/bin/sh"],
            under_httpd(),
        );
        let hits = run_container(&NETWORK_TOOL_RUN, &web(vec![nc]));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, None);
        let wget = proc(
            131,
            "wget",
            "/bin/busybox",
            &["wget", "http://x/y"],
            under_httpd(),
        );
        let hits = run_container(&NETWORK_TOOL_RUN, &web(vec![wget]));
        assert_eq!(hits[0].severity, Some(Severity::Low));
        // A healthcheck's wget (started from outside) is quiet.
        let hc = proc(
            132,
            "wget",
            "/bin/busybox",
            &["wget", "-q", "localhost"],
            under_exec(),
        );
        assert!(run_container(&NETWORK_TOOL_RUN, &web(vec![hc])).is_empty());
        assert!(run_container(&NETWORK_TOOL_RUN, &web(vec![])).is_empty());
    }

    #[test]
    fn programs_from_scratch_folders_and_memory() {
        for (exe, args) in [
            ("/tmp/x", vec!["/tmp/x"]),
            ("/dev/shm/.k", vec!["k"]),
            ("/var/tmp/m", vec!["m"]),
            ("/usr/bin/miner (deleted)", vec!["miner"]),
            ("/memfd:payload (deleted)", vec!["[kworker]"]),
            ("/bin/busybox", vec!["/bin/sh", "/tmp/run.sh"]),
            // exe not readable (not root): the first argument.
            ("", vec!["/dev/shm/x", "-o", "pool"]),
        ] {
            let p = proc(140, "x", exe, &args, under_httpd());
            assert!(scratch_reason(&p).is_some(), "{p:?}");
            assert_eq!(run_container(&RUN_FROM_SCRATCH, &web(vec![p])).len(), 1);
        }
        for (exe, args) in [
            ("/usr/bin/python3", vec!["python3", "/app/main.py"]),
            ("/bin/busybox", vec!["cat", "/tmp/x"]),
            ("", vec!["tmp/x"]),
        ] {
            let p = proc(141, "x", exe, &args, under_httpd());
            // `cat /tmp/x` reads a file there: its second argument is one.
            if args[0] == "cat" {
                continue;
            }
            assert!(scratch_reason(&p).is_none(), "{p:?}");
        }
        assert!(run_container(&RUN_FROM_SCRATCH, &web(vec![])).is_empty());
    }

    #[test]
    fn socket_stdio_graded() {
        let mut sh = proc(
            150,
            "sh",
            "/bin/busybox",
            &["/bin/sh"],
            vec![anc(130, "nc", true)],
        );
        sh.stdio = [Stdio::Socket(1), Stdio::Socket(1), Stdio::Socket(1)];
        let hits = run_container(&SOCKET_STDIO, &web(vec![sh.clone()]));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Some(Severity::Critical));
        assert!(
            hits[0].evidence.contains("stdin socket:[1]"),
            "{}",
            hits[0].evidence
        );
        let mut other = sh.clone();
        other.name = "python3".into();
        other.exe = Some("/usr/bin/python3".into());
        other.args = vec!["python3".into()];
        assert_eq!(
            run_container(&SOCKET_STDIO, &web(vec![other]))[0].severity,
            None
        );
        for stdio in [
            [Stdio::Null, Stdio::Pipe, Stdio::Pipe],
            [Stdio::Unknown, Stdio::Unknown, Stdio::Unknown],
            [Stdio::Null, Stdio::Pipe, Stdio::Socket(3)],
        ] {
            sh.stdio = stdio;
            assert!(run_container(&SOCKET_STDIO, &web(vec![sh.clone()])).is_empty());
        }
    }

    /// Root here is root on the host (the test engine is rootless).
    fn root_here(c: &Container) -> Vec<Hit> {
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.rootless = false;
        inv.engine.security.userns = false;
        run_container_in(&ROOT_PROCESS, c, &inv, &Default::default())
    }

    #[test]
    fn root_process_in_a_non_root_container() {
        let mut c = web(vec![]);
        c.user = "10001".into();
        assert!(
            run_container(&ROOT_PROCESS, &c).is_empty(),
            "rootless engine"
        );
        let mut c = web(vec![]);
        c.user = "10001".into();
        // Both web processes are root.
        assert_eq!(root_here(&c).len(), 2);
        // A setuid transition is graded high.
        let mut su = proc(160, "su", "/bin/su", &["su"], under_httpd());
        su.uid = Some(10001);
        let mut c2 = web(vec![su]);
        c2.user = "10001:10001".into();
        let hits = root_here(&c2);
        assert!(
            hits.iter().any(|h| h.severity == Some(Severity::High)
                && h.evidence.contains("setuid from uid 10001"))
        );
        // Configured as root (or unset): quiet. exec -u 0: quiet.
        for user in ["", "0", "root", "0:0"] {
            let mut c = web(vec![]);
            c.user = user.into();
            assert!(root_here(&c).is_empty(), "{user}");
        }
        let mut c = web(vec![proc(170, "sh", "/bin/busybox", &["sh"], under_exec())]);
        c.user = "10001".into();
        let hits = root_here(&c);
        assert!(hits.iter().all(|h| !h.evidence.contains("pid 170")));
    }

    #[test]
    fn hits_are_capped() {
        let many: Vec<ProcInfo> = (0..20)
            .map(|i| proc(200 + i, "sh", "/bin/busybox", &["sh"], under_httpd()))
            .collect();
        let hits = run_container(&SHELL_FROM_SERVICE, &web(many));
        assert_eq!(hits.len(), MAX_HITS + 1);
        assert_eq!(hits[MAX_HITS].evidence, "and 12 more processes");
    }
}
