//! Least privilege inside the container: user, capabilities, kernel
//! confinement (seccomp, AppArmor, SELinux, no-new-privileges), devices.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Setting, Severity, Source};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

/// Is a `user[:group]` spec root? Only the user part decides: `1000:0` is
/// an unprivileged user in group 0.
pub use crate::model::activity::is_root_user;

/// The `container.root-user` rule: Container runs as root.
pub const ROOT_USER: Rule = Rule {
    id: "container.root-user",
    title: "Container runs as root",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("4.1"),
    seed: SeedRule::LeastPrivilege,
    why: "Root in the container is root on the host's kernel: uid 0 is the same uid 0 unless user \
          namespaces remap it. Any escape, mounted path or kernel bug is reached with full \
          privileges. On a rootless engine, or with user-namespace remapping, root in the \
          container is an unprivileged user on the host: then it is only hygiene (low).",
    attack: "An attacker who gets code execution in the app can write to every file in the image, \
             install tools, read mounted host files as root and use root-only kernel interfaces \
             as the first step of a breakout.",
    fix: Fix {
        summary: "Run as an unprivileged user: set USER in the Dockerfile or override it at run time.",
        run: "--user 10001:10001",
        compose: "user: \"10001:10001\"",
        kube: "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/reference/builder/#user",
    ],
    check: Check::Container(|ctx, c| {
        if !is_root_user(&c.user) {
            return vec![];
        }
        let evidence = match c.source {
            Source::Engine | Source::Compose => format!(
                "{} is {}",
                c.source.field(Setting::User),
                if c.user.is_empty() {
                    "unset (defaults to root)"
                } else {
                    c.user.as_str()
                }
            ),
            // An empty user on a pod spec is `runAsUser` unset and
            // `runAsNonRoot` not true (the source leaves the user empty).
            Source::Kubernetes if !c.user.is_empty() => {
                format!("{} is {}", c.source.field(Setting::User), c.user)
            }
            Source::Kubernetes => {
                if c.kube.as_ref().and_then(|w| w.run_as_non_root) == Some(false) {
                    "runAsNonRoot is false and runAsUser is not set: the image's USER decides, and nothing stops root".into()
                } else {
                    "neither runAsNonRoot nor runAsUser is set: the image's USER decides, and nothing stops root".into()
                }
            }
        };
        match super::contained_root(ctx, c) {
            Some(why) => vec![Hit::graded(Severity::Low, format!("{evidence}; {why}"))],
            None => vec![Hit::new(evidence)],
        }
    }),
};

/// The `container.privileged` rule: Privileged container.
pub const PRIVILEGED: Rule = Rule {
    id: "container.privileged",
    title: "Privileged container",
    severity: Severity::Critical,
    family: Family::Privileges,
    cis: Some("5.5"),
    seed: SeedRule::LeastPrivilege,
    why: "--privileged gives every capability, every host device, and turns off seccomp, AppArmor \
          and SELinux confinement. The container boundary is gone; this holds for a created \
          container too, the moment anyone starts it. On a rootless engine it is high, not \
          critical: the boundary left is your own user's.",
    attack: "Mount the host's disk from /dev (e.g. mount /dev/sda1 /mnt), load a kernel module, or \
             write to /sys to run a program on the host as root: a one-line escape.",
    fix: Fix {
        summary: "Remove --privileged; add only the specific capability or device the workload needs.",
        run: "remove --privileged (use --cap-add <CAP> / --device <path> instead)",
        compose: "privileged: false",
        kube: "securityContext:\n  privileged: false",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities",
    ],
    check: Check::Container(|ctx, c| {
        if !c.privileged {
            return vec![];
        }
        let field = c.source.field(Setting::Privileged);
        let evidence = match c.source {
            Source::Engine => format!("{field} is true (state: {})", c.state.as_str()),
            // A workload's state is its pods'; a service is not created yet.
            Source::Kubernetes | Source::Compose => format!("{field} is true"),
        };
        if ctx.inventory.engine.security.rootless {
            vec![Hit::graded(
                Severity::High,
                format!(
                    "{evidence}; rootless engine: every capability of your own user, not of the host's root"
                ),
            )]
        } else {
            vec![Hit::new(evidence)]
        }
    }),
};

/// Docker's default capability set: adding one of these changes nothing.
pub const DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// What one added capability gives an attacker, by the severity scale of
/// `docs/rules.md`.
pub fn cap_grade(cap: &str, host_network: bool) -> Severity {
    match cap {
        // Load a kernel module, or every capability at once: the host, now.
        "ALL" | "SYS_MODULE" => Severity::Critical,
        // One more step to the host (release_agent, open_by_handle_at,
        // ptrace of a host process, raw I/O, BPF programs).
        "SYS_ADMIN" | "SYS_PTRACE" | "DAC_READ_SEARCH" | "SYS_RAWIO" | "BPF" | "PERFMON"
        | "SYS_BOOT" | "MAC_ADMIN" | "MAC_OVERRIDE" => Severity::High,
        // In the host's network namespace NET_ADMIN rewires the host itself.
        "NET_ADMIN" if host_network => Severity::High,
        _ => Severity::Medium,
    }
}

pub use crate::model::normalise_cap;

/// The `container.cap-add` rule: Capabilities added beyond the default set.
pub const CAP_ADD: Rule = Rule {
    id: "container.cap-add",
    title: "Capabilities added beyond the default set",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("5.4"),
    seed: SeedRule::LeastPrivilege,
    why: "Each Linux capability is a slice of root. Docker already grants a default set; extra \
          ones such as SYS_ADMIN, SYS_MODULE or SYS_PTRACE give kernel interfaces that lead \
          straight out of the container. Graded per capability: ALL and SYS_MODULE are \
          critical; SYS_ADMIN, SYS_PTRACE, DAC_READ_SEARCH, SYS_RAWIO, BPF, PERFMON, SYS_BOOT, \
          MAC_ADMIN/OVERRIDE (and NET_ADMIN on the host network) high; the rest medium.",
    attack: "With SYS_ADMIN an attacker mounts filesystems and abuses cgroup release_agent to run \
             commands on the host; SYS_PTRACE lets them inject into other processes; SYS_MODULE \
             loads a kernel rootkit; NET_ADMIN rewires the network to sniff or redirect traffic.",
    fix: Fix {
        summary: "Drop the extra capabilities; start from --cap-drop ALL and add back only what the process proves it needs.",
        run: "--cap-drop ALL --cap-add <only-needed>",
        compose: "cap_drop: [ALL]\ncap_add: [<only-needed>]",
        kube: "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [<only-needed>]",
    },
    references: &[
        CIS,
        "https://man7.org/linux/man-pages/man7/capabilities.7.html",
    ],
    check: Check::Container(|ctx, c| {
        let host_network = super::joined(ctx, c, super::Ns::Network).mode == "host";
        let mut hits = Vec::new();
        for cap in &c.cap_add {
            let cap = normalise_cap(cap);
            // A default capability is granted anyway (re-adding one after
            // --cap-drop ALL is the recommended pattern): not an escalation.
            if DEFAULT_CAPS.contains(&cap.as_str()) {
                continue;
            }
            hits.push(Hit::graded(
                cap_grade(&cap, host_network),
                format!("{} includes {cap}", c.source.field(Setting::CapAdd)),
            ));
        }
        hits
    }),
};

/// The capabilities a container's root holds: the default set less
/// `--cap-drop`, plus `--cap-add` (`ALL` expands to every capability).
pub fn effective_caps(c: &crate::model::Container) -> std::collections::BTreeSet<String> {
    let drop: Vec<String> = c.cap_drop.iter().map(|d| normalise_cap(d)).collect();
    let add: Vec<String> = c.cap_add.iter().map(|a| normalise_cap(a)).collect();
    let mut caps: std::collections::BTreeSet<String> = if drop.iter().any(|d| d == "ALL") {
        Default::default()
    } else {
        DEFAULT_CAPS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    };
    caps.extend(add);
    caps
}

/// `no-new-privileges` as the container sets it (the last one wins), if it does.
fn explicit_nnp(c: &crate::model::Container) -> Option<bool> {
    c.security_opts()
        .filter(|(k, _)| *k == "no-new-privileges")
        .map(|(_, v)| v.is_empty() || v == "true")
        .last()
}

/// No process in the container can gain privileges through setuid.
fn no_new_privileges(ctx: &super::Ctx, c: &crate::model::Container) -> bool {
    explicit_nnp(c).unwrap_or(ctx.inventory.engine.security.no_new_privileges)
}

/// The combinations that hand over the host with no further step, each
/// with the chain of settings that makes it, for evidence.
fn host_takeovers(ctx: &super::Ctx, c: &crate::model::Container) -> Vec<Hit> {
    // `--privileged` is its own critical finding; root that is not the
    // host's root (rootless, user namespaces) lands nowhere.
    if c.privileged || super::contained_root(ctx, c).is_some() {
        return vec![];
    }
    // A non-root user gets the capabilities back through any setuid
    // program unless no-new-privileges stops it.
    if !is_root_user(&c.user) && no_new_privileges(ctx, c) {
        return vec![];
    }
    let caps = effective_caps(c);
    let has = |cap: &str| caps.contains(cap) || caps.contains("ALL");
    let apparmor = super::apparmor_confined(ctx, c);
    let selinux = super::selinux_confined(ctx, c);
    let unconfined = match (
        ctx.inventory.engine.security.apparmor,
        ctx.inventory.engine.security.selinux,
    ) {
        (false, false) => "the engine enforces neither AppArmor nor SELinux",
        _ => "its AppArmor/SELinux confinement is off",
    };
    let mut hits = Vec::new();
    // The release_agent escape: mount a cgroup v1 hierarchy, set
    // release_agent, empty the cgroup — the kernel runs the program on
    // the host as root. The default seccomp profile allows mount once
    // SYS_ADMIN is granted; only AppArmor or SELinux stop it.
    if has("SYS_ADMIN") && !apparmor && !selinux && ctx.inventory.engine.cgroup_version == "1" {
        hits.push(Hit::new(format!(
            "CAP_SYS_ADMIN on a cgroup v1 engine, and {unconfined}: mount a cgroup, set its \
             release_agent, and the host runs it as root"
        )));
    }
    // ptrace a host process: inject into a root process outside. AppArmor's
    // docker-default allows ptrace only among its own peers.
    if has("SYS_PTRACE")
        && !apparmor
        && !selinux
        && let Some(pid) = super::Ns::Pid.host_evidence(ctx, c)
    {
        hits.push(Hit::new(format!(
            "CAP_SYS_PTRACE with the host's PID namespace ({pid}), and {unconfined}: attach to a \
             root process on the host and run code in it"
        )));
    }
    // "Shocker": open_by_handle_at (allowed by the default seccomp profile
    // once DAC_READ_SEARCH is granted) opens any file of the host's
    // filesystem by handle, and DAC_OVERRIDE (a default capability) writes
    // it. SELinux's container label denies host files; AppArmor does not.
    if has("DAC_READ_SEARCH") && has("DAC_OVERRIDE") && !selinux {
        hits.push(Hit::new(
            "CAP_DAC_READ_SEARCH with CAP_DAC_OVERRIDE (not dropped): open_by_handle_at opens and \
             rewrites any file on the host's filesystem (/etc/shadow, a cron job)",
        ));
    }
    hits
}

/// The `container.host-takeover` rule: Settings that together hand over the host.
pub const HOST_TAKEOVER: Rule = Rule {
    id: "container.host-takeover",
    title: "Settings that together hand over the host",
    severity: Severity::Critical,
    family: Family::Privileges,
    cis: Some("5.4"),
    seed: SeedRule::LeastPrivilege,
    why: "Some settings that are each graded high on their own remove the last barrier together: \
          a capability whose known escape only AppArmor, SELinux or the cgroup version stops, on \
          a container where nothing stops it; a capability that acts on the host's processes \
          given with the host's process namespace (its own or one it joins). Then a process in \
          the container becomes root on the host with a published technique and no kernel bug: \
          SYS_ADMIN on cgroup v1 without a mandatory access control profile (release_agent), \
          SYS_PTRACE with the host's PIDs unconfined, DAC_READ_SEARCH while DAC_OVERRIDE is \
          kept (open_by_handle_at). A non-root user counts when no-new-privileges is off (any \
          setuid program gives the capabilities back); a rootless or user-namespace-remapped \
          engine does not count.",
    attack: "release_agent: `mount -t cgroup -o rdma cgroup /x; echo 1 > /x/y/notify_on_release; \
             echo /path/on/host/payload > /x/release_agent` and the host runs it. ptrace: attach \
             to a host sshd or PID 1 and inject shellcode. Shocker: walk the host's filesystem by \
             inode handle from any bind-mounted file and overwrite /etc/shadow.",
    fix: Fix {
        summary: "Break the chain: drop the capability (start from --cap-drop ALL), keep the \
                  default AppArmor/SELinux profile, leave the host's PID namespace alone, and \
                  set no-new-privileges.",
        run: "--cap-drop ALL --cap-add <only-needed> --security-opt no-new-privileges (no --pid host, no apparmor=unconfined)",
        compose: "cap_drop: [ALL]\nsecurity_opt: [\"no-new-privileges:true\"]",
        kube: "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n  allowPrivilegeEscalation: false",
    },
    references: &[
        CIS,
        "https://blog.trailofbits.com/2019/07/19/understanding-docker-container-escapes/",
        "https://man7.org/linux/man-pages/man2/open_by_handle_at.2.html",
        "https://docs.docker.com/engine/security/seccomp/",
    ],
    check: Check::Container(host_takeovers),
};

/// The `container.seccomp-unconfined` rule: Seccomp filtering disabled.
pub const SECCOMP_UNCONFINED: Rule = Rule {
    id: "container.seccomp-unconfined",
    title: "Seccomp filtering disabled",
    severity: Severity::High,
    family: Family::Privileges,
    cis: Some("5.22"),
    seed: SeedRule::LeastPrivilege,
    why: "The default seccomp profile blocks about 44 rarely needed system calls (keyctl, \
          add_key, unshare, mount, …) that are the entry point of many kernel exploits.",
    attack: "Without seccomp the attacker can call every system call the kernel offers, so a \
             kernel bug in an obscure syscall becomes a container escape.",
    fix: Fix {
        summary: "Remove seccomp=unconfined; if one syscall is really needed, ship a custom profile that allows just it.",
        run: "remove --security-opt seccomp=unconfined (or --security-opt seccomp=profile.json)",
        compose: "security_opt: [\"seccomp=profile.json\"]",
        kube: "securityContext:\n  seccompProfile:\n    type: RuntimeDefault",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/seccomp/"],
    check: Check::Container(|_, c| {
        let mut set = false;
        for (k, v) in c.security_opts() {
            if k != "seccomp" {
                continue;
            }
            set = true;
            if v == "unconfined" {
                return vec![Hit::new(match (c.source, c.kube.as_deref()) {
                    (Source::Kubernetes, Some(w)) => format!(
                        "seccompProfile.type is Unconfined (set on the {})",
                        w.seccomp.as_ref().map_or("pod", |(_, at)| *at)
                    ),
                    _ => "HostConfig.SecurityOpt contains seccomp=unconfined".into(),
                })];
            }
            // A custom profile is judged by what it lets through.
            match judge_seccomp(v) {
                Seccomp::AllowsEverything(why) => {
                    return vec![Hit::new(format!(
                        "the custom seccomp profile in HostConfig.SecurityOpt {why}: it is no profile"
                    ))];
                }
                Seccomp::Denylist { lets_through } => {
                    return vec![Hit::graded(
                        Severity::Medium,
                        format!(
                            "the custom seccomp profile allows every system call it does not \
                             list, and does not block {}",
                            lets_through.join(", ")
                        ),
                    )];
                }
                Seccomp::Restrictive | Seccomp::Unreadable => {}
            }
        }
        // A privileged container has no filter by design; it is reported
        // as privileged.
        if !set && !c.privileged && c.source.unset_seccomp_is_unconfined() {
            return vec![Hit::graded(
                Severity::Medium,
                "seccompProfile is not set on the pod or the container: it runs Unconfined unless the \
                 kubelet was started with --seccomp-default",
            )];
        }
        vec![]
    }),
};

/// What a custom seccomp profile (the JSON the CLI puts in
/// `seccomp=<profile>`) lets a container do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seccomp {
    /// It blocks by default: an allow-list (the default profile's shape).
    Restrictive,
    /// Nothing is blocked; says how it allows everything.
    AllowsEverything(String),
    /// It allows by default and blocks a few calls, but not these ones of
    /// the kernel interfaces the default profile keeps from containers.
    Denylist {
        /// The calls of those interfaces it lets through.
        lets_through: Vec<&'static str>,
    },
    /// Not a profile shipshape can read (the engine accepted it, so it is
    /// left to the engine).
    Unreadable,
}

/// System calls the default profile denies that escapes and kernel
/// exploits go through.
const DANGEROUS_SYSCALLS: &[&str] = &[
    "add_key",
    "bpf",
    "delete_module",
    "finit_module",
    "init_module",
    "kexec_load",
    "keyctl",
    "mount",
    "open_by_handle_at",
    "perf_event_open",
    "ptrace",
    "request_key",
    "setns",
    "umount2",
    "unshare",
    "userfaultfd",
];

/// Larger than this, a profile is not read (the default profile is ~20 KiB).
pub const MAX_SECCOMP_PROFILE: usize = 1 << 20;

/// Judge a seccomp profile by its content. Pure; the profile is whatever
/// the container's author wrote.
pub fn judge_seccomp(profile: &str) -> Seccomp {
    if profile.len() > MAX_SECCOMP_PROFILE {
        return Seccomp::Unreadable;
    }
    let Ok(serde_json::Value::Object(p)) = serde_json::from_str::<serde_json::Value>(profile)
    else {
        return Seccomp::Unreadable;
    };
    // SCMP_ACT_LOG and SCMP_ACT_NOTIFY let the call through (NOTIFY hands
    // it to an agent nobody here runs); every other action stops it.
    let allows = |a: &str| matches!(a, "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG" | "SCMP_ACT_NOTIFY");
    let Some(default) = p.get("defaultAction").and_then(|a| a.as_str()) else {
        return Seccomp::Unreadable;
    };
    if !allows(default) {
        return Seccomp::Restrictive;
    }
    let mut blocked: std::collections::BTreeSet<&str> = Default::default();
    for rule in p
        .get("syscalls")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
    {
        let action = rule.get("action").and_then(|a| a.as_str()).unwrap_or("");
        // A rule with argument filters blocks only some uses of its calls.
        let narrowed = rule
            .get("args")
            .and_then(|a| a.as_array())
            .is_some_and(|a| !a.is_empty());
        if allows(action) || narrowed {
            continue;
        }
        let names = rule
            .get("names")
            .and_then(|n| n.as_array())
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str())
            .chain(rule.get("name").and_then(|n| n.as_str()));
        blocked.extend(names);
    }
    if blocked.is_empty() {
        return Seccomp::AllowsEverything(format!(
            "allows every system call ({default} by default)"
        ));
    }
    let lets_through: Vec<&'static str> = DANGEROUS_SYSCALLS
        .iter()
        .copied()
        .filter(|s| !blocked.contains(s))
        .collect();
    if lets_through.is_empty() {
        Seccomp::Restrictive
    } else {
        Seccomp::Denylist { lets_through }
    }
}

/// The `container.no-new-privileges` rule: no-new-privileges not set.
pub const NO_NEW_PRIVILEGES: Rule = Rule {
    id: "container.no-new-privileges",
    title: "no-new-privileges not set",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("5.26"),
    seed: SeedRule::LeastPrivilege,
    why: "Without no-new-privileges a process can gain privileges through setuid/setgid binaries \
          or file capabilities inside the image.",
    attack: "An attacker running as an unprivileged user executes a setuid-root binary in the \
             image (su, ping, a planted one) to become root in the container.",
    fix: Fix {
        summary: "Set no-new-privileges on the container, or daemon-wide with \"no-new-privileges\": true in daemon.json.",
        run: "--security-opt no-new-privileges",
        compose: "security_opt: [\"no-new-privileges:true\"]",
        kube: "securityContext:\n  allowPrivilegeEscalation: false",
    },
    references: &[
        CIS,
        "https://docs.docker.com/reference/cli/docker/container/run/#security-opt",
    ],
    check: Check::Container(|ctx, c| {
        let daemon_wide = ctx.inventory.engine.security.no_new_privileges;
        if c.privileged && c.source.privileged_forces_escalation() {
            // Privileged implies it there; that rule says more.
            return vec![];
        }
        let kube = c.source == Source::Kubernetes;
        match explicit_nnp(c) {
            Some(true) => vec![],
            Some(false) if kube => vec![Hit::new("allowPrivilegeEscalation is true")],
            Some(false) => vec![Hit::new(
                "HostConfig.SecurityOpt sets no-new-privileges:false",
            )],
            None if daemon_wide => vec![],
            None if kube => vec![Hit::new(
                "allowPrivilegeEscalation is not set (it defaults to true): setuid programs can gain privileges",
            )],
            None => vec![Hit::new(
                "no-new-privileges is absent from HostConfig.SecurityOpt and not set daemon-wide",
            )],
        }
    }),
};

/// The `container.apparmor-unconfined` rule: No AppArmor profile.
pub const APPARMOR: Rule = Rule {
    id: "container.apparmor-unconfined",
    title: "No AppArmor profile",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("5.2"),
    seed: SeedRule::LeastPrivilege,
    why: "On a host with AppArmor, the docker-default profile denies writes to /proc and /sys \
          and mounting; running unconfined removes that layer.",
    attack: "Unconfined, a process that gained root in the container can write to sensitive \
             /proc and /sys files that the profile would have denied, a common escape path.",
    fix: Fix {
        summary: "Use the default profile (remove apparmor=unconfined) or a custom one.",
        run: "--security-opt apparmor=docker-default",
        compose: "security_opt: [\"apparmor=docker-default\"]",
        kube: "securityContext:\n  appArmorProfile:\n    type: RuntimeDefault",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/apparmor/"],
    check: Check::Container(|ctx, c| {
        // Only meaningful where the engine has AppArmor; otherwise the engine
        // finding `engine.no-mac` says so once.
        // A cluster's nodes are not seen: an explicit Unconfined is known
        // to matter wherever they run AppArmor.
        let sees = c.source.sees_host_mac();
        if sees && !ctx.inventory.engine.security.apparmor {
            return vec![];
        }
        let from_opt = c
            .security_opts()
            .any(|(k, v)| k == "apparmor" && v == "unconfined");
        if from_opt || c.apparmor_profile.eq_ignore_ascii_case("unconfined") {
            vec![Hit::new(if sees {
                "AppArmorProfile is unconfined"
            } else {
                "AppArmor profile is Unconfined"
            })]
        } else if sees && c.apparmor_profile.is_empty() && !c.privileged {
            // Created containers have no profile yet; Docker applies
            // docker-default at start, so only a live container counts.
            if c.state.is_live() {
                vec![Hit::new("AppArmorProfile is empty on a running container")]
            } else {
                vec![]
            }
        } else {
            vec![]
        }
    }),
};

/// The `container.selinux-unlabelled` rule: No SELinux label.
pub const SELINUX: Rule = Rule {
    id: "container.selinux-unlabelled",
    title: "No SELinux label",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("5.3"),
    seed: SeedRule::LeastPrivilege,
    why: "On an SELinux host, the container_t label confines what the container's processes may \
          touch on the host even if they escape the namespace; label=disable removes that.",
    attack: "A process that breaks out of its namespaces runs with an unconfined label and may \
             read and write host files that the policy would have denied.",
    fix: Fix {
        summary: "Remove label=disable; let the engine assign the default container label.",
        run: "remove --security-opt label=disable",
        compose: "security_opt: [\"label=type:container_t\"]",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/security/#other-kernel-security-features",
    ],
    check: Check::Container(|ctx, c| {
        if !ctx.inventory.engine.security.selinux {
            return vec![];
        }
        if c.security_opts()
            .any(|(k, v)| k == "label" && v == "disable")
        {
            vec![Hit::new("HostConfig.SecurityOpt contains label=disable")]
        } else if c.process_label.is_empty() && c.state.is_live() {
            vec![Hit::new("ProcessLabel is empty on a running container")]
        } else {
            vec![]
        }
    }),
};

/// The `container.host-devices` rule: Host devices mapped into the container.
pub const HOST_DEVICES: Rule = Rule {
    id: "container.host-devices",
    title: "Host devices mapped into the container",
    severity: Severity::High,
    family: Family::Privileges,
    cis: Some("5.18"),
    seed: SeedRule::LeastPrivilege,
    why: "A mapped device node gives the container direct access to host hardware: disks, \
          terminals, GPUs, memory. Graded by the device: a disk, /dev/mem, /dev/kmem or \
          /dev/port with write access is critical (the host's data beneath every permission \
          check), read access to them high; /dev/kvm, /dev/fuse, /dev/net/tun, sound and GPU \
          nodes medium; any other device high.",
    attack: "With a block device the attacker reads or rewrites the host filesystem beneath the \
             kernel's permission checks; with /dev/mem or /dev/kmem, host memory.",
    fix: Fix {
        summary: "Remove the device mapping, or map it read-only with the narrowest permissions.",
        run: "remove --device (or --device /dev/x:/dev/x:r)",
        compose: "devices: []",
        kube: "",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        c.devices
            .iter()
            .map(|d| {
                Hit::graded(
                    device_grade(&d.host_path, &d.permissions),
                    format!(
                        "device {} mapped to {} ({})",
                        d.host_path, d.container_path, d.permissions
                    ),
                )
            })
            .collect()
    }),
};

/// Disks and memory: raw access beneath every permission check.
fn is_raw_storage_or_memory(path: &str) -> bool {
    let name = path.strip_prefix("/dev/").unwrap_or(path);
    matches!(name, "mem" | "kmem" | "port")
        || [
            "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "dm-", "md", "loop", "mapper/", "disk/",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// The severity of passing this device in with these permissions.
pub fn device_grade(path: &str, permissions: &str) -> Severity {
    let name = path.strip_prefix("/dev/").unwrap_or(path);
    if is_raw_storage_or_memory(path) {
        // Docker's default permissions are `rwm`.
        if permissions.is_empty() || permissions.contains('w') {
            Severity::Critical
        } else {
            Severity::High
        }
    } else if matches!(name, "kvm" | "fuse" | "net/tun")
        || ["snd", "dri/", "nvidia", "video", "bus/usb"]
            .iter()
            .any(|p| name.starts_with(p))
    {
        Severity::Medium
    } else {
        Severity::High
    }
}

/// The `container.device-cgroup-rule` rule: Device access allowed by a cgroup rule.
pub const DEVICE_CGROUP_RULE: Rule = Rule {
    id: "container.device-cgroup-rule",
    title: "Device access allowed by a cgroup rule",
    severity: Severity::High,
    family: Family::Privileges,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "--device-cgroup-rule opens the device cgroup for whole classes of devices, including \
          ones created later. Docker's default capabilities include MKNOD, so a container may \
          create the node itself: `b *:* rwm` is every host disk, read-write. Graded: block or \
          all devices with write or mknod access critical, character devices high, read-only \
          rules medium.",
    attack: "`mknod /dev/sda b 8 0 && mount /dev/sda /mnt` inside the container, then edit the \
             host's files beneath it.",
    fix: Fix {
        summary: "Map the one device the workload needs with --device instead of opening a class of devices.",
        run: "remove --device-cgroup-rule (use --device /dev/x:/dev/x:r)",
        compose: "remove device_cgroup_rules:",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/reference/cli/docker/container/run/#device-cgroup-rule",
        "https://www.kernel.org/doc/Documentation/cgroup-v1/devices.txt",
    ],
    check: Check::Container(|_, c| {
        c.device_cgroup_rules
            .iter()
            .map(|rule| {
                let mut parts = rule.split_whitespace();
                let kind = parts.next().unwrap_or("");
                let _numbers = parts.next();
                let access = parts.next().unwrap_or("");
                let writes = access.contains('w') || access.contains('m');
                let sev = match (kind, writes) {
                    ("a" | "b", true) => Severity::Critical,
                    ("c", true) => Severity::High,
                    _ => Severity::Medium,
                };
                Hit::graded(
                    sev,
                    format!("HostConfig.DeviceCgroupRules includes '{rule}'"),
                )
            })
            .collect()
    }),
};

/// The `container.device-requests` rule: Host GPUs or other devices requested from a driver.
pub const GPU_ACCESS: Rule = Rule {
    id: "container.device-requests",
    title: "Host GPUs or other devices requested from a driver",
    severity: Severity::Low,
    family: Family::Privileges,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "--gpus (DeviceRequests) hands the container device nodes and driver libraries of the \
          host. Often what the workload is for; still, a GPU driver is a large kernel attack \
          surface and GPU memory is shared with other users.",
    attack: "Exploit a bug in the GPU kernel driver through its ioctl interface, or read what \
             other workloads left in GPU memory.",
    fix: Fix {
        summary: "Request only the devices the workload needs, by id, and only for workloads that need them.",
        run: "--gpus device=0 (instead of --gpus all)",
        compose: "deploy.resources.reservations.devices: [{ driver: nvidia, device_ids: [\"0\"], capabilities: [gpu] }]",
        kube: "",
    },
    references: &["https://docs.docker.com/engine/containers/resource_constraints/#gpu"],
    check: Check::Container(|_, c| {
        c.device_requests
            .iter()
            .map(|d| Hit::new(format!("HostConfig.DeviceRequests: {d}")))
            .collect()
    }),
};

/// The `container.unmasked-paths` rule: Kernel interfaces in /proc and /sys not masked.
pub const UNMASKED_PATHS: Rule = Rule {
    id: "container.unmasked-paths",
    title: "Kernel interfaces in /proc and /sys not masked",
    severity: Severity::High,
    family: Family::Privileges,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "The engine normally hides /proc/kcore, /proc/keys, /proc/timer_list, /sys/firmware … \
          and makes /proc/sys, /proc/sysrq-trigger and /proc/irq read-only. \
          `--security-opt systempaths=unconfined` (empty MaskedPaths or ReadonlyPaths) turns \
          that off: host kernel memory layout, other processes' keys and host-wide kernel \
          switches become reachable.",
    attack: "Read /proc/kcore or /proc/kallsyms to defeat KASLR for a kernel exploit; write \
             /proc/sysrq-trigger to crash or reboot the host.",
    fix: Fix {
        summary: "Remove systempaths=unconfined.",
        run: "remove --security-opt systempaths=unconfined",
        compose: "remove systempaths=unconfined from security_opt:",
        kube: "securityContext:\n  procMount: Default",
    },
    references: &[
        "https://docs.docker.com/reference/cli/docker/container/run/#security-opt",
        "https://github.com/moby/moby/blob/master/oci/defaults.go",
    ],
    check: Check::Container(|_, c| {
        // A privileged container has neither list by design; it is
        // reported as privileged.
        if c.privileged {
            return vec![];
        }
        let mut hits = Vec::new();
        if c.masked_paths.as_ref().is_some_and(Vec::is_empty) {
            hits.push(Hit::new(match c.source {
                Source::Engine => "HostConfig.MaskedPaths is empty",
                Source::Compose => "security_opt has systempaths=unconfined",
                Source::Kubernetes => {
                    "securityContext.procMount is Unmasked: /proc/kcore, /proc/sys and the rest are not masked"
                }
            }));
        }
        if c.readonly_paths.as_ref().is_some_and(Vec::is_empty) {
            hits.push(Hit::new("HostConfig.ReadonlyPaths is empty"));
        }
        hits
    }),
};

/// Does this process look like an SSH daemon?
pub fn is_sshd(comm: &str, command: &str) -> bool {
    let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let first = command.split_whitespace().next().unwrap_or("");
    comm == "sshd"
        || base(first) == "sshd"
        || base(first) == "sshd:"
        || command.starts_with("sshd:")
}

/// The `container.sshd` rule: SSH daemon running inside the container.
pub const SSHD: Rule = Rule {
    id: "container.sshd",
    title: "SSH daemon running inside the container",
    severity: Severity::Medium,
    family: Family::Privileges,
    cis: Some("5.7"),
    seed: SeedRule::LeastPrivilege,
    why: "An SSH server in a container is a second way in that bypasses the engine's access \
          control and audit trail, with its own keys and passwords to manage.",
    attack: "Attackers brute-force or reuse credentials against the SSH port, or plant a key in \
             authorized_keys to keep access that `docker exec` auditing never sees.",
    fix: Fix {
        summary: "Remove sshd from the image; use `docker exec` for administration.",
        run: "use docker exec instead of running sshd",
        compose: "command: <the app, not sshd>",
        kube: "",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        let Some(procs) = &c.processes else {
            return vec![];
        };
        procs
            .iter()
            .filter(|p| is_sshd(&p.comm, &p.command))
            .take(1)
            .map(|p| {
                Hit::new(format!(
                    "process {} (pid {}, user {}) is sshd",
                    p.command, p.pid, p.user
                ))
            })
            .collect()
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{Device, Process};

    /// A rootful engine with no AppArmor or SELinux, on cgroup v1: the
    /// machines of the real-engine tests.
    fn bare_engine(cgroup: &str) -> crate::model::Inventory {
        let mut inv = inventory_with(vec![], vec![clean_image()]);
        inv.engine.security =
            crate::model::SecurityOptions::parse(&["name=seccomp,profile=builtin"]);
        inv.engine.cgroup_version = cgroup.into();
        inv
    }

    fn takeover(c: &crate::model::Container, inv: &mut crate::model::Inventory) -> Vec<Hit> {
        inv.containers = vec![c.clone()];
        run_container_in(
            &HOST_TAKEOVER,
            c,
            inv,
            &crate::model::policy::Policy::default(),
        )
    }

    /// Effective privilege: combinations, and the traps that must not fire.
    #[test]
    fn host_takeover_needs_the_whole_chain() {
        let mut inv = bare_engine("1");
        let mut c = hardened();
        c.user = String::new();
        c.cap_drop.clear();
        c.security_opt.clear();
        assert!(takeover(&c, &mut inv).is_empty(), "the default set alone");
        // SYS_ADMIN unconfined on cgroup v1: release_agent.
        c.cap_add = vec!["CAP_SYS_ADMIN".into()];
        let h = takeover(&c, &mut inv);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h[0].evidence.contains("release_agent"), "{}", h[0].evidence);
        // Not on cgroup v2, not under AppArmor, not for a user that cannot
        // become root.
        assert!(takeover(&c, &mut bare_engine("2")).is_empty());
        let mut armoured = bare_engine("1");
        armoured.engine.security.apparmor = true;
        c.apparmor_profile = "docker-default".into();
        assert!(takeover(&c, &mut armoured).is_empty());
        c.security_opt = vec!["apparmor=unconfined".into()];
        assert_eq!(
            takeover(&c, &mut armoured).len(),
            1,
            "apparmor=unconfined undoes it"
        );
        c.security_opt = vec!["no-new-privileges:true".into()];
        c.user = "10001".into();
        assert!(
            takeover(&c, &mut inv).is_empty(),
            "non-root with no-new-privileges"
        );
        c.security_opt.clear();
        assert_eq!(
            takeover(&c, &mut inv).len(),
            1,
            "non-root, but setuid gives root back"
        );
        // SYS_PTRACE: only with the host's PIDs.
        c.user = String::new();
        c.cap_add = vec!["SYS_PTRACE".into()];
        assert!(takeover(&c, &mut inv).is_empty());
        c.pid_mode = "host".into();
        let h = takeover(&c, &mut inv);
        assert!(
            h[0].evidence.contains("HostConfig.PidMode is host"),
            "{h:?}"
        );
        // Shocker: DAC_READ_SEARCH while DAC_OVERRIDE is kept.
        c.pid_mode = String::new();
        c.cap_add = vec!["DAC_READ_SEARCH".into()];
        assert!(
            takeover(&c, &mut inv)[0]
                .evidence
                .contains("open_by_handle_at")
        );
        c.cap_drop = vec!["DAC_OVERRIDE".into()];
        assert!(
            takeover(&c, &mut inv).is_empty(),
            "read-only shocker is cap-add's high"
        );
        c.cap_drop = vec!["ALL".into()];
        c.cap_add = vec!["ALL".into()];
        assert_eq!(
            takeover(&c, &mut inv).len(),
            2,
            "ALL after drop ALL: SYS_ADMIN and DAC"
        );
        // Rootless: root in the container is not the host's.
        let mut rootless = bare_engine("1");
        rootless.engine.security.rootless = true;
        assert!(takeover(&c, &mut rootless).is_empty());
    }

    /// What a container joins, it inherits: SYS_PTRACE in the PID namespace
    /// of a container that has the host's.
    #[test]
    fn a_joined_host_pid_namespace_is_the_hosts() {
        let mut owner = hardened();
        owner.id = "a".repeat(64);
        owner.name = "owner".into();
        owner.pid_mode = "host".into();
        let mut joiner = hardened();
        joiner.id = "b".repeat(64);
        joiner.name = "joiner".into();
        joiner.user = String::new();
        joiner.security_opt.clear();
        joiner.cap_drop.clear();
        joiner.cap_add = vec!["SYS_PTRACE".into()];
        joiner.pid_mode = format!("container:{}", owner.id);
        let mut inv = bare_engine("2");
        inv.containers = vec![owner.clone(), joiner.clone()];
        let p = crate::model::policy::Policy::default();
        let pid = run_container_in(&super::super::namespaces::HOST_PID, &joiner, &inv, &p);
        assert_eq!(pid.len(), 1);
        assert_eq!(
            pid[0].evidence,
            "HostConfig.PidMode joins container owner, whose namespace is the host's"
        );
        assert_eq!(run_container_in(&HOST_TAKEOVER, &joiner, &inv, &p).len(), 1);
        // A loop of joins ends; a missing owner is not the host.
        owner.pid_mode = format!("container:{}", joiner.id);
        inv.containers = vec![owner, joiner.clone()];
        assert!(
            run_container_in(&super::super::namespaces::HOST_PID, &joiner, &inv, &p).is_empty()
        );
        inv.containers = vec![joiner.clone()];
        assert!(
            run_container_in(&super::super::namespaces::HOST_PID, &joiner, &inv, &p).is_empty()
        );
    }

    /// Profiles judged by their content.
    #[test]
    fn seccomp_profiles_are_judged_by_what_they_let_through() {
        let allow_all = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#;
        let log_all = r#"{"defaultAction":"SCMP_ACT_LOG"}"#;
        let strict = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","mount"],"action":"SCMP_ACT_ALLOW"}]}"#;
        let only_allow_rules = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ALLOW"}]}"#;
        let thin = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}"#;
        let narrowed = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#;
        assert!(matches!(
            judge_seccomp(allow_all),
            Seccomp::AllowsEverything(_)
        ));
        assert!(matches!(
            judge_seccomp(log_all),
            Seccomp::AllowsEverything(_)
        ));
        assert!(matches!(
            judge_seccomp(only_allow_rules),
            Seccomp::AllowsEverything(_)
        ));
        assert!(matches!(
            judge_seccomp(narrowed),
            Seccomp::AllowsEverything(_)
        ));
        assert_eq!(judge_seccomp(strict), Seccomp::Restrictive);
        match judge_seccomp(thin) {
            Seccomp::Denylist { lets_through } => {
                assert!(lets_through.contains(&"mount") && !lets_through.contains(&"kexec_load"));
            }
            other => panic!("{other:?}"),
        }
        let all: Vec<String> = DANGEROUS_SYSCALLS
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        let full_deny = format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":[{}],"action":"SCMP_ACT_ERRNO"}}]}}"#,
            all.join(",")
        );
        assert_eq!(judge_seccomp(&full_deny), Seccomp::Restrictive);
        for junk in [
            "",
            "[]",
            "{}",
            "not json",
            &"x".repeat(MAX_SECCOMP_PROFILE + 1),
        ] {
            assert_eq!(judge_seccomp(junk), Seccomp::Unreadable, "{junk:.20}");
        }
        let mut c = hardened();
        c.security_opt = vec![format!("seccomp={allow_all}")];
        let h = run_container(&SECCOMP_UNCONFINED, &c);
        assert_eq!(h.len(), 1);
        assert!(
            h[0].evidence.contains("it is no profile"),
            "{}",
            h[0].evidence
        );
        c.security_opt = vec![format!("seccomp={strict}")];
        assert!(run_container(&SECCOMP_UNCONFINED, &c).is_empty());
        c.security_opt = vec![format!("seccomp={thin}")];
        assert_eq!(
            run_container(&SECCOMP_UNCONFINED, &c)[0].severity,
            Some(Severity::Medium)
        );
    }

    #[test]
    fn root_user_variants() {
        for u in ["", "0", "root", "0:0", "root:root", "0:1000", "root:staff"] {
            assert!(is_root_user(u), "{u:?} is root");
        }
        for u in ["1000", "app", "1000:0", "nobody:root"] {
            assert!(!is_root_user(u), "{u:?} is not root");
        }
        let mut c = hardened();
        c.user = String::new();
        let hits = run_container(&ROOT_USER, &c);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].evidence.contains("unset"));
    }

    #[test]
    fn privileged_fires_for_created_containers() {
        let mut c = hardened();
        c.privileged = true;
        c.state = crate::model::ContainerState::Created;
        let hits = run_container(&PRIVILEGED, &c);
        assert!(hits[0].evidence.contains("created"));
    }

    #[test]
    fn caps_are_normalised_and_graded() {
        let mut c = hardened();
        c.cap_drop.clear();
        c.cap_add = vec![
            "CAP_SYS_ADMIN".into(),
            "net_admin".into(),
            "AUDIT_CONTROL".into(),
            "CHOWN".into(),
        ];
        let hits = run_container(&CAP_ADD, &c);
        let sev: Vec<_> = hits
            .iter()
            .map(|h| (h.evidence.clone(), h.severity))
            .collect();
        assert_eq!(
            sev,
            vec![
                (
                    "HostConfig.CapAdd includes SYS_ADMIN".into(),
                    Some(Severity::High)
                ),
                (
                    "HostConfig.CapAdd includes NET_ADMIN".into(),
                    Some(Severity::Medium)
                ),
                (
                    "HostConfig.CapAdd includes AUDIT_CONTROL".into(),
                    Some(Severity::Medium)
                ),
            ]
        );
    }

    #[test]
    fn re_adding_a_default_cap_after_drop_all_is_fine() {
        let mut c = hardened();
        c.cap_add = vec!["NET_BIND_SERVICE".into()];
        assert!(run_container(&CAP_ADD, &c).is_empty());
        c.cap_add = vec!["ALL".into()];
        assert_eq!(
            run_container(&CAP_ADD, &c)[0].severity,
            Some(Severity::Critical)
        );
        // NET_ADMIN rewires the host itself on the host network.
        c.cap_add = vec!["NET_ADMIN".into()];
        c.network_mode = "host".into();
        assert_eq!(
            run_container(&CAP_ADD, &c)[0].severity,
            Some(Severity::High)
        );
    }

    #[test]
    fn seccomp_both_spellings() {
        for opt in ["seccomp=unconfined", "seccomp:unconfined"] {
            let mut c = hardened();
            c.security_opt.push(opt.into());
            assert_eq!(run_container(&SECCOMP_UNCONFINED, &c).len(), 1, "{opt}");
        }
        let mut c = hardened();
        c.security_opt.push("seccomp=/etc/profile.json".into());
        assert!(run_container(&SECCOMP_UNCONFINED, &c).is_empty());
    }

    #[test]
    fn no_new_privileges_container_and_daemon() {
        let p = crate::model::policy::Policy::default();
        let mut c = hardened();
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.no_new_privileges = false;
        c.security_opt.clear();
        assert_eq!(run_container_in(&NO_NEW_PRIVILEGES, &c, &inv, &p).len(), 1);
        c.security_opt = vec!["no-new-privileges".into()];
        assert!(run_container_in(&NO_NEW_PRIVILEGES, &c, &inv, &p).is_empty());
        c.security_opt = vec!["no-new-privileges=true".into()];
        assert!(run_container_in(&NO_NEW_PRIVILEGES, &c, &inv, &p).is_empty());

        // Daemon-wide setting covers containers that do not say otherwise…
        c.security_opt.clear();
        inv.engine.security.no_new_privileges = true;
        assert!(run_container_in(&NO_NEW_PRIVILEGES, &c, &inv, &p).is_empty());
        // …but not one that turns it off explicitly.
        c.security_opt = vec!["no-new-privileges:false".into()];
        assert_eq!(run_container_in(&NO_NEW_PRIVILEGES, &c, &inv, &p).len(), 1);
    }

    #[test]
    fn apparmor_only_where_the_engine_has_it() {
        let mut c = hardened();
        c.security_opt.push("apparmor=unconfined".into());
        assert_eq!(run_container(&APPARMOR, &c).len(), 1);
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.apparmor = false;
        assert!(
            run_container_in(
                &APPARMOR,
                &c,
                &inv,
                &crate::model::policy::Policy::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn selinux_only_where_the_engine_has_it() {
        let mut c = hardened();
        c.process_label = "system_u:system_r:container_t:s0:c1,c2".into();
        c.security_opt.push("label=disable".into());
        // The hardened engine has AppArmor, not SELinux.
        assert!(run_container(&SELINUX, &c).is_empty());
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.selinux = true;
        let p = crate::model::policy::Policy::default();
        assert_eq!(run_container_in(&SELINUX, &c, &inv, &p).len(), 1);
        c.security_opt.pop();
        assert!(run_container_in(&SELINUX, &c, &inv, &p).is_empty());
    }

    #[test]
    fn devices() {
        let mut c = hardened();
        c.devices.push(Device {
            host_path: "/dev/sda".into(),
            container_path: "/dev/sda".into(),
            permissions: "rwm".into(),
        });
        assert!(
            run_container(&HOST_DEVICES, &c)[0]
                .evidence
                .contains("/dev/sda")
        );
    }

    #[test]
    fn sshd_detection() {
        assert!(is_sshd("sshd", "/bin/sh /usr/sbin/sshd -D"));
        assert!(is_sshd("", "/usr/sbin/sshd -D"));
        assert!(is_sshd(
            "",
            "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
        ));
        assert!(!is_sshd("sleep", "sleep 3600"));
        assert!(!is_sshd("grep", "grep sshd"));
        let mut c = hardened();
        c.processes.as_mut().unwrap().push(Process {
            user: "root".into(),
            pid: "7".into(),
            comm: "sshd".into(),
            command: "/usr/sbin/sshd -D".into(),
            cap_eff: None,
        });
        assert_eq!(run_container(&SSHD, &c).len(), 1);
        c.processes = None;
        assert!(run_container(&SSHD, &c).is_empty());
    }

    fn rootful(inv: &mut crate::model::Inventory) {
        inv.engine.security.rootless = false;
        inv.engine.security.userns = false;
    }

    #[test]
    fn root_means_what_the_engine_makes_it() {
        let mut c = hardened();
        c.user = String::new();
        // The test engine is rootless.
        let h = run_container(&ROOT_USER, &c);
        assert_eq!(h[0].severity, Some(Severity::Low));
        assert!(h[0].evidence.contains("your own user"), "{h:?}");
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        rootful(&mut inv);
        let p = crate::model::policy::Policy::default();
        assert_eq!(run_container_in(&ROOT_USER, &c, &inv, &p)[0].severity, None);
        // userns-remap protects, unless the container opts out.
        inv.engine.security.userns = true;
        assert_eq!(
            run_container_in(&ROOT_USER, &c, &inv, &p)[0].severity,
            Some(Severity::Low)
        );
        c.userns_mode = "host".into();
        assert_eq!(run_container_in(&ROOT_USER, &c, &inv, &p)[0].severity, None);
    }

    #[test]
    fn privileged_is_critical_unless_rootless() {
        let mut c = hardened();
        c.privileged = true;
        assert_eq!(
            run_container(&PRIVILEGED, &c)[0].severity,
            Some(Severity::High)
        );
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        rootful(&mut inv);
        let h = run_container_in(
            &PRIVILEGED,
            &c,
            &inv,
            &crate::model::policy::Policy::default(),
        );
        assert_eq!(h[0].severity, None, "the rule's own: critical");
        assert_eq!(PRIVILEGED.severity, Severity::Critical);
    }

    #[test]
    fn devices_graded_by_what_they_reach() {
        use Severity::*;
        for (path, perms, want) in [
            ("/dev/sda", "rwm", Critical),
            ("/dev/nvme0n1", "", Critical),
            ("/dev/mem", "rw", Critical),
            ("/dev/sda", "r", High),
            ("/dev/kvm", "rwm", Medium),
            ("/dev/net/tun", "rwm", Medium),
            ("/dev/dri/renderD128", "rw", Medium),
            ("/dev/ttyUSB0", "rwm", High),
        ] {
            assert_eq!(device_grade(path, perms), want, "{path} {perms}");
        }
        let mut c = hardened();
        c.devices = vec![crate::model::Device {
            host_path: "/dev/sda".into(),
            container_path: "/dev/xvda".into(),
            permissions: "rwm".into(),
        }];
        let h = run_container(&HOST_DEVICES, &c);
        assert_eq!(h[0].severity, Some(Critical));
        assert_eq!(h[0].evidence, "device /dev/sda mapped to /dev/xvda (rwm)");
    }

    #[test]
    fn device_cgroup_rules() {
        let mut c = hardened();
        c.device_cgroup_rules = vec!["b *:* rwm".into(), "c 189:* rmw".into(), "c 1:3 r".into()];
        let sev: Vec<_> = run_container(&DEVICE_CGROUP_RULE, &c)
            .into_iter()
            .map(|h| h.severity)
            .collect();
        assert_eq!(
            sev,
            vec![
                Some(Severity::Critical),
                Some(Severity::High),
                Some(Severity::Medium)
            ]
        );
        c.device_cgroup_rules.clear();
        assert!(run_container(&DEVICE_CGROUP_RULE, &c).is_empty());
    }

    #[test]
    fn gpus_and_unmasked_paths() {
        let mut c = hardened();
        assert!(run_container(&GPU_ACCESS, &c).is_empty());
        c.device_requests = vec!["all devices of driver nvidia (gpu)".into()];
        assert!(
            run_container(&GPU_ACCESS, &c)[0]
                .evidence
                .contains("all devices")
        );

        // Not reported (Podman's compatible API): not a finding.
        assert!(run_container(&UNMASKED_PATHS, &c).is_empty());
        c.masked_paths = Some(vec!["/proc/kcore".into()]);
        c.readonly_paths = Some(vec!["/proc/sys".into()]);
        assert!(run_container(&UNMASKED_PATHS, &c).is_empty());
        c.masked_paths = Some(vec![]);
        c.readonly_paths = Some(vec![]);
        assert_eq!(run_container(&UNMASKED_PATHS, &c).len(), 2);
        c.privileged = true;
        assert!(
            run_container(&UNMASKED_PATHS, &c).is_empty(),
            "said once, as privileged"
        );
    }
}
