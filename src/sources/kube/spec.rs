//! One view over the three container lists of a pod spec (containers,
//! initContainers, ephemeralContainers): the fields shipshape judges, the
//! same way for each.

use k8s_openapi::api::core::v1::{
    ContainerPort, EnvVar, PodSpec, ResourceRequirements, SecurityContext, VolumeMount,
};

use crate::model::kube::ContainerRole;

/// A container of any of the three lists.
#[derive(Clone, Copy)]
pub struct Ctr<'a> {
    /// Regular or init container.
    pub role: ContainerRole,
    /// Its name.
    pub name: &'a str,
    /// Its image.
    pub image: &'a str,
    /// Its `securityContext`.
    pub security: Option<&'a SecurityContext>,
    /// Its `env`.
    pub env: &'a [EnvVar],
    /// Its `volumeMounts`.
    pub mounts: &'a [VolumeMount],
    /// Its `ports`.
    pub ports: &'a [ContainerPort],
    /// Its `resources`.
    pub resources: Option<&'a ResourceRequirements>,
    /// A liveness probe is set.
    pub liveness: bool,
    /// A readiness probe is set.
    pub readiness: bool,
}

fn slice<T>(v: &Option<Vec<T>>) -> &[T] {
    v.as_deref().unwrap_or(&[])
}

/// Every container of the spec: init containers first, then containers,
/// then ephemeral ones.
pub fn containers(spec: &PodSpec) -> Vec<Ctr<'_>> {
    let mut out = Vec::new();
    for (role, list) in [
        (ContainerRole::Init, slice(&spec.init_containers)),
        (ContainerRole::Container, spec.containers.as_slice()),
    ] {
        out.extend(list.iter().map(|c| Ctr {
            role,
            name: &c.name,
            image: c.image.as_deref().unwrap_or(""),
            security: c.security_context.as_ref(),
            env: slice(&c.env),
            mounts: slice(&c.volume_mounts),
            ports: slice(&c.ports),
            resources: c.resources.as_ref(),
            liveness: c.liveness_probe.is_some(),
            readiness: c.readiness_probe.is_some(),
        }));
    }
    out.extend(slice(&spec.ephemeral_containers).iter().map(|c| Ctr {
        role: ContainerRole::Ephemeral,
        name: &c.name,
        image: c.image.as_deref().unwrap_or(""),
        security: c.security_context.as_ref(),
        env: slice(&c.env),
        mounts: slice(&c.volume_mounts),
        ports: slice(&c.ports),
        resources: c.resources.as_ref(),
        liveness: false,
        readiness: false,
    }));
    out
}
