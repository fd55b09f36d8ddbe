use std::fmt;

/// A value that may be a secret (an environment variable's value).
///
/// It deliberately implements neither `Display` nor `Serialize`, and its
/// `Debug` prints a placeholder, so it cannot end up on screen or in a report
/// by accident. The only way to read it is [`Sensitive::expose_for_analysis`],
/// used by the secret-detection rules, which report keys and never values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a value that must never be shown.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Read the value in order to classify it. Never print or store the result.
    pub fn expose_for_analysis(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (the one thing about it that may be told).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Sensitive::new("hunter2");
        assert_eq!(format!("{s:?}"), "<hidden>");
        assert!(!format!("{:?}", vec![s]).contains("hunter2"));
    }
}
