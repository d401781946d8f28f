//! Who is acting, and where. An [`Actor`] is built from a session or an API token (never from a
//! request body) and carries the grants that apply to this request. A grant covers one org node
//! and its whole subtree, identified by the node's materialised path (`/company/region/store/`).

use std::collections::BTreeSet;
use std::sync::Arc;

/// How the actor authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    /// A browser session; state-changing requests must carry this CSRF token.
    Session {
        session_hash: String,
        csrf_token: String,
    },
    /// A machine token, limited to the one grant it was issued under.
    Token { token_id: String },
    /// A command-line or internal actor (seeding, jobs).
    System,
}

/// One grant in effect: a set of permissions over the subtree at `path` (`/` = everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorGrant {
    pub grant_id: String,
    pub role_code: String,
    pub node_id: Option<String>,
    pub path: String,
    pub permissions: Arc<BTreeSet<String>>,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub company_id: Option<String>,
    pub locale: String,
    pub grants: Arc<Vec<ActorGrant>>,
    pub via: AuthVia,
}

impl Actor {
    /// An all-powerful actor for the command line and internal jobs.
    pub fn system() -> Actor {
        let all: BTreeSet<String> = crate::perm::CATALOGUE
            .iter()
            .map(|(k, _, _)| (*k).to_string())
            .collect();
        Actor {
            user_id: "system".into(),
            username: "system".into(),
            display_name: "System".into(),
            company_id: None,
            locale: "en".into(),
            grants: Arc::new(vec![ActorGrant {
                grant_id: "system".into(),
                role_code: "system".into(),
                node_id: None,
                path: "/".into(),
                permissions: Arc::new(all),
            }]),
            via: AuthVia::System,
        }
    }

    /// True when some grant gives `perm` on the node at `path` (a grant on an ancestor counts).
    pub fn allows(&self, perm: &str, path: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.permissions.contains(perm) && path.starts_with(g.path.as_str()))
    }

    /// True when some grant gives `perm` on the node at `path` or anywhere below it: for
    /// records shared by a whole subtree, such as a company's item catalogue, which every store
    /// of the company reads.
    pub fn allows_within(&self, perm: &str, path: &str) -> bool {
        self.grants.iter().any(|g| {
            g.permissions.contains(perm)
                && (path.starts_with(g.path.as_str()) || g.path.starts_with(path))
        })
    }

    /// True when the actor holds `perm` anywhere.
    pub fn has_anywhere(&self, perm: &str) -> bool {
        self.grants.iter().any(|g| g.permissions.contains(perm))
    }

    /// The subtrees in which the actor holds `perm`.
    pub fn scope(&self, perm: &str) -> Scope {
        let mut prefixes: Vec<String> = self
            .grants
            .iter()
            .filter(|g| g.permissions.contains(perm))
            .map(|g| g.path.clone())
            .collect();
        prefixes.sort();
        // Drop prefixes covered by a shorter one.
        let mut kept: Vec<String> = Vec::new();
        for p in prefixes {
            if !kept.iter().any(|k| p.starts_with(k.as_str())) {
                kept.push(p);
            }
        }
        Scope { prefixes: kept }
    }

    /// All permissions the actor holds anywhere (for the UI: which menus to show).
    pub fn permissions(&self) -> BTreeSet<String> {
        self.grants
            .iter()
            .flat_map(|g| g.permissions.iter().cloned())
            .collect()
    }

    pub fn is_session(&self) -> bool {
        matches!(self.via, AuthVia::Session { .. })
    }
}

/// A set of subtrees, turned into a SQL predicate over a path column. Paths are built only from
/// UUID text and `/` (checked in [`Scope::sql`]), so inlining them as literals cannot inject SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub prefixes: Vec<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// True when the whole tree is in scope.
    pub fn is_global(&self) -> bool {
        self.prefixes.iter().any(|p| p == "/")
    }

    pub fn contains(&self, path: &str) -> bool {
        self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// A SQL boolean expression that is true for rows whose `column` lies inside the scope.
    pub fn sql(&self, column: &str) -> String {
        if self.is_global() {
            return "1=1".into();
        }
        let parts: Vec<String> = self
            .prefixes
            .iter()
            .filter(|p| {
                p.bytes()
                    .all(|b| b == b'/' || b == b'-' || b.is_ascii_hexdigit())
            })
            .map(|p| format!("{column} LIKE '{p}%'"))
            .collect();
        if parts.is_empty() {
            "1=0".into()
        } else {
            format!("({})", parts.join(" OR "))
        }
    }
}

impl Scope {
    /// [`Scope::sql`] for a table that also carries the company of each row: a prefix that is a
    /// whole company (`/id/`) becomes `company_col = 'id'`. The same rows (a row's path lies
    /// under its company), but a predicate the query planner does not mistake for a selective
    /// range of the path index when the grant covers the whole company.
    pub fn sql_by_company(&self, path_col: &str, company_col: &str) -> String {
        if self.is_global() {
            return "1=1".into();
        }
        let parts: Vec<String> = self
            .prefixes
            .iter()
            .filter(|p| {
                p.bytes()
                    .all(|b| b == b'/' || b == b'-' || b.is_ascii_hexdigit())
            })
            .map(|p| {
                let inner = p.trim_matches('/');
                if !inner.is_empty() && !inner.contains('/') {
                    format!("{company_col} = '{inner}'")
                } else {
                    format!("{path_col} LIKE '{p}%'")
                }
            })
            .collect();
        if parts.is_empty() {
            "1=0".into()
        } else {
            format!("({})", parts.join(" OR "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(path: &str, perms: &[&str]) -> ActorGrant {
        ActorGrant {
            grant_id: "g".into(),
            role_code: "r".into(),
            node_id: None,
            path: path.into(),
            permissions: Arc::new(perms.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn actor(grants: Vec<ActorGrant>) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            display_name: "u".into(),
            company_id: None,
            locale: "en".into(),
            grants: Arc::new(grants),
            via: AuthVia::System,
        }
    }

    #[test]
    fn grants_cover_subtrees_only() {
        let a = actor(vec![
            grant("/c/r1/", &["org.node.read"]),
            grant("/c/r1/s1/", &["x"]),
        ]);
        assert!(a.allows("org.node.read", "/c/r1/s1/"));
        assert!(!a.allows("org.node.read", "/c/r2/s9/"));
        assert!(!a.allows("org.node.read", "/c/"));
        assert!(a.allows("x", "/c/r1/s1/"));
        assert!(!a.allows("x", "/c/r1/s2/"));
        assert!(a.allows_within("x", "/c/"));
        assert!(a.allows_within("x", "/c/r1/s1/"));
        assert!(!a.allows_within("x", "/d/"));
        assert!(!a.allows_within("x", "/c/r1/s2/"));
        assert_eq!(
            a.scope("org.node.read").prefixes,
            vec!["/c/r1/".to_string()]
        );
    }

    #[test]
    fn scope_sql_is_a_safe_predicate() {
        let a = actor(vec![
            grant("/ab-1/", &["p"]),
            grant("/ab-1/cd/", &["p"]),
            grant("/x' OR 1=1 --/", &["p"]),
        ]);
        let s = a.scope("p");
        assert_eq!(s.prefixes.len(), 2);
        assert_eq!(s.sql("n.path"), "(n.path LIKE '/ab-1/%')");
        assert_eq!(
            s.sql_by_company("n.path", "n.company_id"),
            "(n.company_id = 'ab-1')"
        );
        let r = actor(vec![grant("/ab-1/cd/", &["p"]), grant("/ef/", &["p"])]).scope("p");
        assert_eq!(
            r.sql_by_company("n.path", "n.company_id"),
            "(n.path LIKE '/ab-1/cd/%' OR n.company_id = 'ef')"
        );
        assert_eq!(actor(vec![]).scope("p").sql("n.path"), "1=0");
        assert_eq!(
            actor(vec![grant("/", &["p"])]).scope("p").sql("n.path"),
            "1=1"
        );
    }
}
