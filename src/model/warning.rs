//! What went wrong for single objects without failing a whole snapshot: a
//! container the engine refused, a compose file that could not be read, a
//! list cut at a ceiling. Each warning has a kind, set where it is made, so
//! the window can say "14 about compose files" on one line instead of
//! fourteen boxes, and a report can group them.

use std::fmt;

/// What a warning is about: the groups the window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningKind {
    /// A container or image the engine refused, or that vanished, or whose
    /// answer was over a ceiling: it is missing from the snapshot.
    NotRead,
    /// A list (containers, images, pods…) cut at a ceiling: the snapshot is
    /// incomplete.
    Truncated,
    /// What an image holds could not be read (packages, files): it is not
    /// assessed for vulnerabilities or baked secrets.
    Contents,
    /// The vulnerability data is missing, stale or unreadable.
    Vulnerabilities,
    /// Compose files named by a project's labels: not read, changed since,
    /// a service gone.
    Compose,
    /// What a Kubernetes cluster said or did not say.
    Cluster,
    /// Anything else.
    Other,
}

impl WarningKind {
    /// Every kind, in the order the window lists them (what is missing from
    /// the snapshot first).
    pub const ALL: [WarningKind; 7] = [
        WarningKind::NotRead,
        WarningKind::Truncated,
        WarningKind::Contents,
        WarningKind::Vulnerabilities,
        WarningKind::Compose,
        WarningKind::Cluster,
        WarningKind::Other,
    ];

    /// A heading for the group.
    pub fn title(self) -> &'static str {
        match self {
            WarningKind::NotRead => "Not read",
            WarningKind::Truncated => "Lists cut at a ceiling",
            WarningKind::Contents => "Image contents not read",
            WarningKind::Vulnerabilities => "Vulnerability data",
            WarningKind::Compose => "Compose files",
            WarningKind::Cluster => "Kubernetes",
            WarningKind::Other => "Other",
        }
    }

    /// "3 not read", "14 about compose files": the count in words for the
    /// one-line summary.
    pub fn count(self, n: usize) -> String {
        match self {
            WarningKind::NotRead => format!("{n} not read"),
            WarningKind::Truncated => format!("{n} cut at a ceiling"),
            WarningKind::Contents => format!("{n} about image contents"),
            WarningKind::Vulnerabilities => format!("{n} about vulnerability data"),
            WarningKind::Compose => format!("{n} about compose files"),
            WarningKind::Cluster => format!("{n} about the cluster"),
            WarningKind::Other => format!("{n} other"),
        }
    }
}

/// One warning of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Its group.
    pub kind: WarningKind,
    /// What happened, for a person (may quote what an engine or an author
    /// wrote: escape it for its target before showing it).
    pub text: String,
}

impl Warning {
    /// A warning of a kind.
    pub fn new(kind: WarningKind, text: impl Into<String>) -> Self {
        Warning {
            kind,
            text: text.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How many warnings of each kind, in [`WarningKind::ALL`]'s order, kinds
/// with none left out.
pub fn counts<'a>(warnings: impl IntoIterator<Item = &'a Warning>) -> Vec<(WarningKind, usize)> {
    let mut n = [0usize; WarningKind::ALL.len()];
    for w in warnings {
        if let Some(i) = WarningKind::ALL.iter().position(|k| *k == w.kind) {
            n[i] += 1;
        }
    }
    WarningKind::ALL
        .iter()
        .zip(n)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (*k, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_order_of_kinds_and_skip_empty_ones() {
        let w = [
            Warning::new(WarningKind::Compose, "a"),
            Warning::new(WarningKind::NotRead, "b"),
            Warning::new(WarningKind::Compose, "c"),
        ];
        assert_eq!(
            counts(&w),
            vec![(WarningKind::NotRead, 1), (WarningKind::Compose, 2)]
        );
        assert_eq!(WarningKind::Compose.count(2), "2 about compose files");
    }
}
