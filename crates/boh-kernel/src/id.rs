//! Ids are UUIDv7, stored and sent as lowercase hyphenated text (sorts by creation time).

/// A fresh UUIDv7 as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True when `s` is a canonical lowercase hyphenated UUID. Used to reject junk ids early and to
/// guarantee that ids inlined into org paths contain only `[0-9a-f-]`.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_uuids_and_ordered() {
        let a = new_id();
        let b = new_id();
        assert!(is_uuid(&a) && is_uuid(&b));
        assert!(a < b, "v7 ids sort by creation: {a} {b}");
        assert!(!is_uuid("'; drop table users; --------------------"));
        assert!(!is_uuid(&a.to_uppercase()));
    }
}
