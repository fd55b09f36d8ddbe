/// A parsed image reference: `[registry/]repository[:tag][@digest]`,
/// or a bare image id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io`, `ghcr.io`, `localhost:5000`, …
    pub registry: String,
    /// `library/nginx`, `acme/app`, …
    pub repository: String,
    /// The tag, when the reference names one.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), when the reference names one.
    pub digest: Option<String>,
    /// The reference was an image id (`sha256:…` or a hex prefix).
    pub is_id: bool,
}

const DEFAULT_REGISTRY: &str = "docker.io";

impl ImageRef {
    /// Parse the way the docker CLI normalises names. `None` for an empty
    /// or syntactically impossible reference.
    pub fn parse(reference: &str) -> Option<Self> {
        let r = reference.trim();
        if r.is_empty() || r == "<none>:<none>" || r == "<none>@<none>" {
            return None;
        }
        if let Some(hex) = r.strip_prefix("sha256:")
            && is_hex(hex)
        {
            return Some(Self::id(r));
        }
        let (rest, digest) = match r.split_once('@') {
            Some((a, d)) => (a, Some(d.to_string())),
            None => (r, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if name.is_empty() {
            return None;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => (DEFAULT_REGISTRY.to_string(), name.to_string()),
        };
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        Some(Self {
            registry,
            repository,
            tag,
            digest,
            is_id: false,
        })
    }

    fn id(r: &str) -> Self {
        Self {
            registry: String::new(),
            repository: String::new(),
            tag: None,
            digest: Some(r.to_string()),
            is_id: true,
        }
    }

    /// `registry/repository` — what approved-image patterns match against.
    pub fn name(&self) -> String {
        if self.is_id {
            return self.digest.clone().unwrap_or_default();
        }
        format!("{}/{}", self.registry, self.repository)
    }

    /// Fully normalised `registry/repository:tag` (tag defaults to `latest`),
    /// or `registry/repository@digest` when pinned.
    pub fn canonical(&self) -> String {
        if self.is_id {
            return self.name();
        }
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.name()),
            (None, Some(t)) => format!("{}:{t}", self.name()),
            (None, None) => format!("{}:latest", self.name()),
        }
    }

    /// Pinned by digest or by image id: the same reference always means the
    /// same bytes.
    pub fn is_immutable(&self) -> bool {
        self.is_id || self.digest.is_some()
    }

    /// `latest`, or no tag at all (which means `latest`).
    pub fn is_latest(&self) -> bool {
        !self.is_immutable() && self.tag.as_deref().is_none_or(|t| t == "latest")
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_short_names() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.canonical(), "docker.io/library/nginx:latest");
        assert!(r.is_latest());
        let r = ImageRef::parse("acme/app:1.2").unwrap();
        assert_eq!(r.canonical(), "docker.io/acme/app:1.2");
        assert!(!r.is_latest());
        assert!(!r.is_immutable());
    }

    #[test]
    fn registries_with_ports_and_digests() {
        let r = ImageRef::parse("localhost:5000/team/app:v1").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = ImageRef::parse("ghcr.io/a/b@sha256:abcd").unwrap();
        assert!(r.is_immutable());
        assert_eq!(r.canonical(), "ghcr.io/a/b@sha256:abcd");
        let r = ImageRef::parse("registry.local:5000/app").unwrap();
        assert_eq!(r.canonical(), "registry.local:5000/app:latest");
    }

    #[test]
    fn ids_are_immutable() {
        let r = ImageRef::parse("sha256:e9fecd50744fcf35a2d5c3b62e47d3c1a4c9d15f").unwrap();
        assert!(r.is_id && r.is_immutable() && !r.is_latest());
    }

    #[test]
    fn rejects_empty() {
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("<none>:<none>").is_none());
        assert!(ImageRef::parse(":tag").is_none());
    }
}
