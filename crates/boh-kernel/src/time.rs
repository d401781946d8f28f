//! Instants are stored as microseconds since the Unix epoch (UTC) in BIGINT columns, so they
//! compare cheaply in SQL on both databases, and rendered as RFC 3339 UTC at the edges.

use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Instant(pub i64);

impl Instant {
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> Instant {
        Instant(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }
    /// RFC 3339 in UTC with second precision, e.g. `2026-11-25T08:00:00Z`.
    pub fn rfc3339(self) -> String {
        match jiff::Timestamp::from_microsecond(self.0) {
            Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Err(_) => String::new(),
        }
    }
}

/// The current instant.
pub fn now() -> Instant {
    Instant(jiff::Timestamp::now().as_microsecond())
}

/// Render an optional stored instant.
pub fn rfc3339_opt(v: Option<i64>) -> Option<String> {
    v.map(|m| Instant(m).rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc() {
        assert_eq!(Instant(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Instant(1_000_000).plus_secs(59).rfc3339(),
            "1970-01-01T00:01:00Z"
        );
    }
}
