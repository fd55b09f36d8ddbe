//! Which of the seven threats each rule defends against: one table, read by
//! the Overview, the HTML report and the rule docs. A test keeps it in step
//! with the registry (every rule feeds at least one threat, every threat
//! has rules, no id is unknown).

use crate::model::Threat::{self, *};

/// `(rule id, threats)`, in catalogue order.
const TABLE: &[(&str, &[Threat])] = &[
    ("container.root-user", &[BreakoutViaRoot]),
    ("container.privileged", &[BreakoutViaRoot, AttackSurface]),
    ("container.cap-add", &[BreakoutViaRoot, AttackSurface]),
    ("container.host-takeover", &[BreakoutViaRoot]),
    ("container.seccomp-unconfined", &[BreakoutViaRoot]),
    ("container.no-new-privileges", &[BreakoutViaRoot]),
    ("container.apparmor-unconfined", &[BreakoutViaRoot]),
    ("container.selinux-unlabelled", &[BreakoutViaRoot]),
    ("container.host-devices", &[BreakoutViaRoot, AttackSurface]),
    ("container.device-cgroup-rule", &[BreakoutViaRoot]),
    ("container.device-requests", &[AttackSurface]),
    ("container.unmasked-paths", &[BreakoutViaRoot]),
    ("container.sshd", &[AttackSurface, LateralNetwork]),
    (
        "container.caps-not-dropped",
        &[BreakoutViaRoot, LateralNetwork],
    ),
    ("container.host-pid", &[BreakoutViaRoot]),
    ("container.host-ipc", &[BreakoutViaRoot]),
    ("container.host-uts", &[BreakoutViaRoot]),
    ("container.host-userns", &[BreakoutViaRoot]),
    ("container.joins-namespace", &[LateralNetwork]),
    ("container.cgroupns-host", &[BreakoutViaRoot]),
    ("container.sysctls", &[BreakoutViaRoot, LateralNetwork]),
    ("container.engine-socket", &[BreakoutViaRoot]),
    (
        "container.sensitive-mount",
        &[BreakoutViaRoot, AttackSurface],
    ),
    (
        "container.sensitive-mount-extra",
        &[BreakoutViaRoot, AttackSurface],
    ),
    ("container.host-socket", &[BreakoutViaRoot, AttackSurface]),
    ("container.shared-propagation", &[BreakoutViaRoot]),
    ("container.writable-rootfs", &[AttackSurface]),
    ("container.host-path", &[BreakoutViaRoot, AttackSurface]),
    ("container.host-network", &[LateralNetwork]),
    ("container.privileged-port", &[AttackSurface]),
    (
        "container.published-ports",
        &[AttackSurface, LateralNetwork],
    ),
    (
        "container.port-all-interfaces",
        &[AttackSurface, LateralNetwork],
    ),
    ("container.default-bridge", &[LateralNetwork]),
    ("container.lateral-connection", &[LateralNetwork]),
    ("container.reaches-host", &[LateralNetwork, BreakoutViaRoot]),
    ("container.default-bridge-talk", &[LateralNetwork]),
    (
        "container.suspicious-port",
        &[AttackSurface, LateralNetwork],
    ),
    ("container.unpublished-listener", &[AttackSurface]),
    ("container.no-memory-limit", &[ContainerDos]),
    ("container.no-cpu-limit", &[ContainerDos]),
    ("container.no-pids-limit", &[ContainerDos]),
    ("container.restart-policy", &[ContainerDos]),
    ("container.cgroup-parent", &[ContainerDos]),
    ("container.oom-kill-disabled", &[ContainerDos]),
    ("container.oom-score-adj", &[ContainerDos]),
    ("container.ulimits", &[ContainerDos]),
    ("container.no-healthcheck", &[Observability]),
    ("container.logging-disabled", &[Observability, ShortLived]),
    ("container.log-unbounded", &[Observability, ContainerDos]),
    ("container.mutable-image-ref", &[VulnerableImages]),
    ("container.stale-image", &[VulnerableImages]),
    ("container.unapproved-image", &[VulnerableImages]),
    ("container.secret-env", &[AttackSurface, LateralNetwork]),
    ("image.secret-env", &[AttackSurface, LateralNetwork]),
    (
        "container.secret-in-config",
        &[AttackSurface, LateralNetwork],
    ),
    ("image.secret-in-config", &[AttackSurface, LateralNetwork]),
    ("image.secret-file", &[AttackSurface, LateralNetwork]),
    (
        "container.service-account-token",
        &[LateralNetwork, AttackSurface],
    ),
    ("container.exec-privileged", &[ShortLived, BreakoutViaRoot]),
    ("container.exec-root", &[ShortLived, Observability]),
    ("container.drift-program", &[ShortLived, AttackSurface]),
    (
        "container.shell-from-service",
        &[Observability, AttackSurface],
    ),
    (
        "container.package-manager-run",
        &[AttackSurface, Observability],
    ),
    (
        "container.network-tool-run",
        &[LateralNetwork, Observability],
    ),
    (
        "container.run-from-scratch-dir",
        &[ShortLived, AttackSurface],
    ),
    ("container.socket-stdio", &[LateralNetwork, Observability]),
    ("container.root-process", &[BreakoutViaRoot]),
    ("container.drift-sensitive", &[ShortLived, AttackSurface]),
    ("image.known-vulnerabilities", &[VulnerableImages]),
    ("container.known-vulnerabilities", &[VulnerableImages]),
    ("image.vulns-not-assessed", &[VulnerableImages]),
    ("image.release-end-of-life", &[VulnerableImages]),
    ("image.root-user", &[BreakoutViaRoot]),
    ("image.no-healthcheck", &[Observability]),
    ("image.update-alone", &[VulnerableImages]),
    ("image.add-instead-of-copy", &[VulnerableImages]),
    ("image.unverified-download", &[VulnerableImages]),
    ("image.signature-checks-off", &[VulnerableImages]),
    ("image.signature", &[VulnerableImages]),
    ("image.old", &[VulnerableImages]),
    ("image.dangling", &[AttackSurface]),
    ("image.unused", &[AttackSurface]),
    ("image.setuid-files", &[BreakoutViaRoot, AttackSurface]),
    ("image.world-writable", &[BreakoutViaRoot, AttackSurface]),
    ("engine.not-rootless", &[BreakoutViaRoot]),
    ("engine.icc", &[LateralNetwork]),
    ("engine.insecure-registry", &[VulnerableImages]),
    ("engine.tcp-without-tls", &[BreakoutViaRoot, LateralNetwork]),
    ("engine.no-userns", &[BreakoutViaRoot]),
    ("engine.cgroupns-host-default", &[BreakoutViaRoot]),
    ("engine.no-authz-plugin", &[Observability]),
    ("engine.local-logging", &[Observability, ShortLived]),
    ("engine.no-daemon-no-new-privileges", &[BreakoutViaRoot]),
    ("engine.no-live-restore", &[ContainerDos]),
    ("engine.experimental", &[AttackSurface]),
    ("engine.old-version", &[VulnerableImages, BreakoutViaRoot]),
    ("engine.no-content-trust", &[VulnerableImages]),
    ("engine.swarm", &[LateralNetwork]),
    ("engine.no-mac", &[BreakoutViaRoot]),
    ("engine.warnings", &[Observability]),
    ("engine.debug", &[Observability]),
    ("engine.seccomp-unconfined", &[BreakoutViaRoot]),
    ("policy.waiver-expired", &[Observability]),
];

/// The threats a rule defends against (empty for an unknown id).
pub fn of(rule_id: &str) -> &'static [Threat] {
    static INDEX: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static [Threat]>> =
        std::sync::LazyLock::new(|| TABLE.iter().copied().collect());
    INDEX.get(rule_id).copied().unwrap_or(&[])
}

/// The rules that defend against a threat, in catalogue order.
pub fn rules_for(threat: Threat) -> impl Iterator<Item = &'static str> {
    TABLE
        .iter()
        .filter(move |(_, t)| t.contains(&threat))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_feeds_a_threat_and_every_threat_has_rules() {
        for r in crate::rules::ALL {
            assert!(!of(r.id).is_empty(), "{} feeds no threat", r.id);
        }
        for (id, _) in TABLE {
            assert!(crate::rules::by_id(id).is_some(), "unknown rule {id}");
        }
        assert_eq!(TABLE.len(), crate::rules::ALL.len(), "one row per rule");
        for t in Threat::ALL {
            assert!(rules_for(t).count() >= 3, "{t:?} has too few rules");
        }
        assert_eq!(of("no.such-rule"), &[] as &[Threat]);
    }
}
