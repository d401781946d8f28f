//! Approval workflows, a platform service every module routes its approvals through.
//!
//! - [`def`]: definitions as data (trigger, condition, steps), versioned; a running instance
//!   keeps the version it started with.
//! - [`route`]: which definition applies to a document and who approves each step (a role at an
//!   org level relative to the document, a named user or a group), with delegation; the same
//!   code answers a simulation and a submission.
//! - [`run`]: instances and tasks: submit, approve / reject, changes after approval, withdrawal,
//!   the document's history.
//! - [`sla`]: reminders and escalation of overdue steps (a scheduled job).
//! - [`inbox`]: "my approvals" and in-app notifications.
//!
//! A module makes a document type routable by registering a [`DocType`] at start-up: its facts
//! schema (what conditions may test) and a hook the engine calls, inside the deciding
//! transaction, when an instance is approved or rejected.
//!
//! Invariants: nobody approves their own document; a task is decided once (a second decision
//! or a decision on a step not yet reached is a conflict); every decision and system action is
//! a history row and an audit row in the same transaction as the change.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use boh_platform::group::BoxFuture;
use boh_platform::{Ctx, Platform, Result};
use sqlx::AnyConnection;

pub mod def;
pub mod inbox;
pub mod route;
pub mod run;
pub mod sla;

/// How an instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Approved,
    Rejected,
}

/// What the engine tells a document type's hook.
#[derive(Debug, Clone)]
pub struct Finished {
    pub instance_id: String,
    pub doc_id: String,
    pub outcome: Outcome,
    /// Who made the last decision (the system for an automatic approval).
    pub by: String,
}

/// Called inside the transaction that finished an instance.
pub type Hook = Arc<
    dyn for<'a> Fn(&'a mut AnyConnection, &'a Ctx, &'a Finished) -> BoxFuture<'a, Result<()>>
        + Send
        + Sync,
>;

/// A document type that can be routed for approval.
pub struct DocType {
    pub code: &'static str,
    pub label_en: &'static str,
    pub label_zh: &'static str,
    /// Events that may trigger a definition (e.g. `submit`).
    pub events: &'static [&'static str],
    /// The facts conditions may test ([`base_schema`] plus the type's own).
    pub schema: boh_expr::Schema,
    /// Where the document's page is, given its id.
    pub url: fn(&str) -> String,
    pub on_finished: Option<Hook>,
}

/// Facts every document has: `org` (codes of its org node and all above it), `org_kind`
/// (that node's kind) and `requester` (the submitter's username).
pub fn base_schema() -> boh_expr::Schema {
    boh_expr::Schema::new()
        .field(
            "org",
            boh_expr::Type::TextList,
            "codes of the document's store or site and every node above it",
        )
        .field(
            "org_kind",
            boh_expr::Type::Text,
            "kind of the document's node: store, warehouse, central_kitchen, region, company",
        )
        .field(
            "requester",
            boh_expr::Type::Text,
            "username of the person who submitted",
        )
}

/// The document types of this process, registered at start-up.
#[derive(Default)]
pub struct Registry {
    types: RwLock<BTreeMap<&'static str, Arc<DocType>>>,
}

/// Make a document type routable (replaces an earlier registration of the same code).
pub fn register(p: &Platform, t: DocType) {
    let r = p.shared::<Registry>();
    if let Ok(mut m) = r.types.write() {
        m.insert(t.code, Arc::new(t));
    }
}

/// A registered document type.
pub fn doc_type(p: &Platform, code: &str) -> Option<Arc<DocType>> {
    let r = p.shared::<Registry>();
    let m = r.types.read().ok()?;
    m.get(code).cloned()
}

/// Every registered document type, by code.
pub fn doc_types(p: &Platform) -> Vec<Arc<DocType>> {
    let r = p.shared::<Registry>();
    r.types
        .read()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

/// Stable SHA-256 of a document's facts (for "changed after approval").
pub(crate) fn facts_hash(facts: &serde_json::Value) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(facts.to_string().as_bytes()))
}
