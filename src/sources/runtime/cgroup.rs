//! Which container a process belongs to, from its `/proc/PID/cgroup`. Pure.
//!
//! The layouts this knows (each a 64-hex container id in the path):
//!
//! * cgroup v1, one line per controller: `4:memory:/docker/<id>`
//!   (Docker's `cgroupfs` driver), `…:/system.slice/docker-<id>.scope`
//!   (its `systemd` driver), or `…:/<parent>/<id>` with `--cgroup-parent`;
//! * cgroup v2, one line: `0::/system.slice/docker-<id>.scope`, rootless
//!   `0::/user.slice/…/docker-<id>.scope`;
//! * Podman: `libpod-<id>.scope` (and `…/libpod-<id>/container` with
//!   cgroup namespaces), never its monitor `libpod-conmon-<id>.scope`;
//! * Kubernetes nodes (CRI-O `crio-<id>.scope`, containerd
//!   `cri-containerd-<id>.scope`, cgroupfs `/kubepods/…/pod<uid>/<id>`);
//! * Kubernetes in Docker (kind, k3d, minikube's docker driver): the
//!   node's Docker id outermost, the pod container's id inside it
//!   (`/docker/<node>/kubepods/…/<id>` on v1,
//!   `0::/system.slice/docker-<node>.scope/kubelet.slice/…/cri-containerd-<id>.scope` on v2).
//!
//! The outermost id is the container the local engine knows (for kind:
//! the node); the innermost one, when different, is the nested container.

/// Who runs the container an id names, as the cgroup path spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Docker (`/docker/<id>`, `docker-<id>.scope`).
    Docker,
    /// Podman (`libpod-<id>`).
    Podman,
    /// CRI-O (`crio-<id>`).
    CriO,
    /// containerd's CRI plugin (`cri-containerd-<id>`).
    Containerd,
    /// A bare 64-hex segment under some other parent.
    Unknown,
}

/// The container ids a cgroup file names, outermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// `(runtime, id)`, outermost first; empty for a host process.
    pub ids: Vec<(Runtime, String)>,
}

impl Owner {
    /// The outermost container: the one an engine on this machine knows.
    pub fn outer(&self) -> Option<&str> {
        self.ids.first().map(|(_, id)| id.as_str())
    }

    /// The innermost container when it differs from the outermost (a
    /// pod's container inside a kind node).
    pub fn nested(&self) -> Option<&str> {
        (self.ids.len() > 1).then(|| self.ids.last().map(|(_, id)| id.as_str()))?
    }

    /// Whether `id` (a full id) is one of them.
    pub fn names(&self, id: &str) -> bool {
        self.ids.iter().any(|(_, i)| i == id)
    }
}

/// The most lines of a cgroup file looked at (v1 has one per controller).
const MAX_LINES: usize = 64;
/// The most ids kept from one path.
const MAX_IDS: usize = 4;

/// The containers `/proc/PID/cgroup` names. The line naming the most ids
/// wins (v1 controllers normally agree; a hybrid host adds `0::/`).
pub fn parse(text: &str) -> Owner {
    let mut best = Owner::default();
    for line in text.lines().take(MAX_LINES) {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(_), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let ids = ids_in(path);
        if ids.len() > best.ids.len() {
            best.ids = ids;
        }
    }
    best
}

/// The ids in one cgroup path, outermost first, a repeat dropped.
fn ids_in(path: &str) -> Vec<(Runtime, String)> {
    let mut out: Vec<(Runtime, String)> = Vec::new();
    let mut after_docker = false;
    for seg in path.split('/').take(64) {
        let found = segment(seg, after_docker);
        after_docker = seg == "docker";
        if let Some((rt, id)) = found
            && !out.iter().any(|(_, i)| i == id)
            && out.len() < MAX_IDS
        {
            out.push((rt, id.to_string()));
        }
    }
    out
}

/// One path segment's id, if it is one.
fn segment(seg: &str, after_docker: bool) -> Option<(Runtime, &str)> {
    if seg.starts_with("libpod-conmon-") {
        return None;
    }
    let bare = seg.strip_suffix(".scope").unwrap_or(seg);
    let (rt, id) = [
        ("docker-", Runtime::Docker),
        ("libpod-", Runtime::Podman),
        ("crio-", Runtime::CriO),
        ("cri-containerd-", Runtime::Containerd),
    ]
    .iter()
    .find_map(|(prefix, rt)| bare.strip_prefix(prefix).map(|id| (*rt, id)))
    .unwrap_or(if after_docker {
        (Runtime::Docker, bare)
    } else {
        (Runtime::Unknown, bare)
    });
    is_id(id).then_some((rt, id))
}

/// 64 lowercase hex digits.
fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "4f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605a4b3";
    const B: &str = "9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605a4b34f1c0a";

    fn outer(text: &str) -> Option<String> {
        parse(text).outer().map(str::to_string)
    }

    #[test]
    fn docker_v1_per_controller_lines() {
        let text = format!(
            "12:pids:/docker/{A}\n11:memory:/docker/{A}\n1:name=systemd:/docker/{A}\n0::/\n"
        );
        let o = parse(&text);
        assert_eq!(o.ids, [(Runtime::Docker, A.to_string())]);
        assert_eq!(o.nested(), None);
        assert!(o.names(A));
    }

    #[test]
    fn docker_v2_systemd_scope_and_rootless() {
        assert_eq!(
            outer(&format!("0::/system.slice/docker-{A}.scope\n")).as_deref(),
            Some(A)
        );
        assert_eq!(
            outer(&format!(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-{A}.scope\n"
            ))
            .as_deref(),
            Some(A)
        );
        // v1 with the systemd driver.
        assert_eq!(
            outer(&format!("5:cpu,cpuacct:/system.slice/docker-{A}.scope\n")).as_deref(),
            Some(A)
        );
    }

    #[test]
    fn podman_but_never_its_monitor() {
        let o = parse(&format!("0::/machine.slice/libpod-{A}.scope/container\n"));
        assert_eq!(o.ids, [(Runtime::Podman, A.to_string())]);
        assert_eq!(
            parse(&format!("0::/machine.slice/libpod-conmon-{A}.scope\n")),
            Owner::default()
        );
    }

    #[test]
    fn kind_nodes_nest_the_pod_container() {
        // v1: the node's docker id, then the kubepods path.
        let v1 = format!("7:memory:/docker/{A}/kubepods/burstable/pod1234-5678/{B}\n");
        let o = parse(&v1);
        assert_eq!(o.outer(), Some(A));
        assert_eq!(o.nested(), Some(B));
        // v2: systemd scopes inside the node's scope.
        let v2 = format!(
            "0::/system.slice/docker-{A}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod12.slice/cri-containerd-{B}.scope\n"
        );
        let o = parse(&v2);
        assert_eq!(o.ids[0], (Runtime::Docker, A.to_string()));
        assert_eq!(o.ids[1], (Runtime::Containerd, B.to_string()));
        // A bare Kubernetes node (no Docker around it).
        let o = parse(&format!(
            "0::/kubepods.slice/kubepods-pod1.slice/crio-{B}.scope\n"
        ));
        assert_eq!(o.ids, [(Runtime::CriO, B.to_string())]);
    }

    #[test]
    fn host_processes_and_garbage_name_nothing() {
        for text in [
            "0::/init.scope\n",
            "0::/user.slice/user-0.slice/session-1.scope\n",
            "12:pids:/\n",
            "",
            "garbage",
            "0::/docker/ABCDEF\n",
            // 63 and 65 digits, upper case.
            &format!("0::/docker/{}\n", &A[1..]),
            &format!("0::/docker/{A}0\n"),
            &format!("0::/docker/{}\n", A.to_uppercase()),
        ] {
            assert_eq!(parse(text), Owner::default(), "{text:?}");
        }
        // A custom --cgroup-parent still names the id.
        assert_eq!(outer(&format!("3:cpu:/ci-jobs/{A}\n")).as_deref(), Some(A));
        // The path may hold ':'.
        assert_eq!(
            outer(&format!("3:cpu:/a:b/docker-{A}.scope\n")).as_deref(),
            Some(A)
        );
    }
}
