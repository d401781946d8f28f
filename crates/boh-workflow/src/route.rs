//! Routing: which definition applies to a document and who approves each of its steps. A
//! simulation and a submission run the same code, so the route shown before submitting is the
//! route taken.

use std::collections::BTreeMap;

use boh_db::Row;
use boh_platform::org::OrgNode;
use boh_platform::{Platform, PlatformError, Result};
use serde::Serialize;

use crate::def::{self, Approvers, Step, Version};

/// A document about to be routed.
#[derive(Debug, Clone)]
pub struct Subject {
    pub doc_type: String,
    pub doc_id: String,
    pub title: String,
    pub event: String,
    /// The store or site (or other node) the document belongs to.
    pub node: OrgNode,
    pub requester_id: String,
    /// The document type's own facts (the engine adds `org`, `org_kind` and `requester`).
    pub facts: BTreeMap<String, boh_expr::Value>,
}

/// A user as shown in a route or a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// One approver of a planned step; `on_behalf_of` is set when a delegation applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Approver {
    pub user: UserRef,
    pub on_behalf_of: Option<UserRef>,
}

/// A step as it would run for this document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlannedStep {
    pub step_no: i64,
    pub stage: i64,
    pub name: String,
    pub mode: def::Mode,
    /// False when the step's own condition does not hold (it is skipped).
    pub applies: bool,
    pub approvers: Vec<Approver>,
    pub sla_hours: Option<i64>,
    /// How the approvers were found (e.g. "region_manager at R-EAST"), or why it is skipped.
    pub note: String,
}

/// The definition that applies (if any) and its steps.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Route {
    pub definition_id: Option<String>,
    pub definition_code: Option<String>,
    pub definition_name: Option<String>,
    pub version: Option<i64>,
    #[serde(skip)]
    pub version_id: Option<String>,
    /// Each definition tried, in priority order, with whether its condition held.
    pub tried: Vec<Tried>,
    pub steps: Vec<PlannedStep>,
    /// No definition applies, or no step of the one that does: approved on submission.
    pub auto_approved: bool,
    /// The facts the conditions were evaluated on.
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tried {
    pub code: String,
    pub condition: String,
    pub holds: bool,
    /// Each part of the condition with its value.
    pub parts: Vec<(String, bool)>,
}

/// The facts of a subject with the engine's own added.
pub async fn facts_of(p: &Platform, s: &Subject) -> Result<boh_expr::Facts> {
    let ancestors = boh_platform::org::ancestors(p, &s.node).await?;
    let mut codes: Vec<String> = ancestors.iter().map(|n| n.code.clone()).collect();
    if !codes.contains(&s.node.code) {
        codes.push(s.node.code.clone());
    }
    let requester: String = sqlx::query("SELECT username FROM users WHERE id = $1")
        .bind(&s.requester_id)
        .fetch_optional(p.db.pool())
        .await?
        .map(|r| r.try_get("username"))
        .transpose()?
        .unwrap_or_default();
    let mut m = s.facts.clone();
    m.insert("org".into(), boh_expr::Value::TextList(codes));
    m.insert(
        "org_kind".into(),
        boh_expr::Value::Text(s.node.kind.clone()),
    );
    m.insert("requester".into(), boh_expr::Value::Text(requester));
    Ok(boh_expr::Facts::from(m))
}

/// Facts as JSON (money and integers as numbers, lists as arrays).
pub fn facts_json(f: &BTreeMap<String, boh_expr::Value>) -> serde_json::Value {
    use boh_expr::Value as V;
    let mut o = serde_json::Map::new();
    for (k, v) in f {
        let j = match v {
            V::Bool(b) => serde_json::json!(b),
            V::Int(i) | V::Money(i) => serde_json::json!(i),
            V::Text(t) => serde_json::json!(t),
            V::TextList(l) => serde_json::json!(l),
            V::IntList(l) => serde_json::json!(l),
        };
        o.insert(k.clone(), j);
    }
    serde_json::Value::Object(o)
}

fn eval_condition(
    src: &str,
    schema: &boh_expr::Schema,
    facts: &boh_expr::Facts,
    field: &str,
) -> Result<(bool, Vec<(String, bool)>)> {
    if src.trim().is_empty() {
        return Ok((true, Vec::new()));
    }
    let e = boh_expr::Expr::compile(src, schema).map_err(|e| {
        PlatformError::refused(
            "workflow_condition_invalid",
            format!("{field}: {e} (the definition no longer fits the document type)"),
        )
    })?;
    let holds = e.eval(facts).map_err(|e| {
        PlatformError::refused("workflow_condition_failed", format!("{field}: {e}"))
    })?;
    let parts = e.explain(facts).unwrap_or_default();
    Ok((holds, parts))
}

/// The route a document would take now.
pub async fn plan(p: &Platform, s: &Subject) -> Result<Route> {
    let dt = crate::doc_type(p, &s.doc_type).ok_or_else(|| {
        PlatformError::refused(
            "workflow_unknown_type",
            format!("documents of type {} are not routed", s.doc_type),
        )
    })?;
    let facts = facts_of(p, s).await?;
    let facts_map: BTreeMap<String, boh_expr::Value> = facts
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut route = Route {
        definition_id: None,
        definition_code: None,
        definition_name: None,
        version: None,
        version_id: None,
        tried: Vec::new(),
        steps: Vec::new(),
        auto_approved: true,
        facts: facts_json(&facts_map),
    };
    let mut chosen: Option<Version> = None;
    for v in def::candidates(p, &s.node.company_id, &s.doc_type, &s.event).await? {
        let (holds, parts) = eval_condition(
            &v.condition,
            &dt.schema,
            &facts,
            &format!("{} condition", v.code),
        )?;
        route.tried.push(Tried {
            code: v.code.clone(),
            condition: v.condition.clone(),
            holds,
            parts,
        });
        if holds {
            chosen = Some(v);
            break;
        }
    }
    let Some(v) = chosen else { return Ok(route) };
    route.definition_id = Some(v.definition_id.clone());
    route.definition_code = Some(v.code.clone());
    route.definition_name = Some(v.name.clone());
    route.version = Some(v.version);
    route.version_id = Some(v.id.clone());
    route.steps = plan_steps(p, s, &v, &dt.schema, &facts).await?;
    route.auto_approved = route.steps.iter().all(|st| !st.applies);
    Ok(route)
}

/// Steps of a version for a subject: stages, conditions and approvers.
pub async fn plan_steps(
    p: &Platform,
    s: &Subject,
    v: &Version,
    schema: &boh_expr::Schema,
    facts: &boh_expr::Facts,
) -> Result<Vec<PlannedStep>> {
    let chain = chain_of(p, &s.node).await?;
    let mut out = Vec::new();
    let mut stage = 0;
    for (i, step) in v.steps.iter().enumerate() {
        if !step.parallel || i == 0 {
            stage += 1;
        }
        let (applies, _) = eval_condition(
            &step.condition,
            schema,
            facts,
            &format!("step {} condition", i + 1),
        )?;
        let mut ps = PlannedStep {
            step_no: i as i64 + 1,
            stage,
            name: step.name.clone(),
            mode: step.mode,
            applies,
            approvers: Vec::new(),
            sla_hours: step.sla_hours,
            note: String::new(),
        };
        if !applies {
            ps.note = format!("skipped: {} does not hold", step.condition);
            out.push(ps);
            continue;
        }
        let (users, note) = approvers_for(p, &chain, step, &s.requester_id, 0).await?;
        if users.is_empty() {
            return Err(PlatformError::refused(
                "workflow_no_approver",
                format!(
                    "step {} ({}): {note}; nobody else can approve it",
                    i + 1,
                    step.name
                ),
            ));
        }
        ps.approvers = delegate(p, &s.node.company_id, users, &s.requester_id).await?;
        ps.note = note;
        out.push(ps);
    }
    Ok(out)
}

/// The document's node and every node above it, nearest first.
pub async fn chain_of(p: &Platform, node: &OrgNode) -> Result<Vec<OrgNode>> {
    let mut up = boh_platform::org::ancestors(p, node).await?;
    up.retain(|n| n.id != node.id);
    up.sort_by_key(|n| std::cmp::Reverse(n.depth));
    let mut chain = vec![node.clone()];
    chain.extend(up);
    Ok(chain)
}

/// Who approves a step (the requester never does), and how they were found. `skip_levels`
/// looks that many nodes further up than the step's own level (escalation).
pub async fn approvers_for(
    p: &Platform,
    chain: &[OrgNode],
    step: &Step,
    requester_id: &str,
    skip_levels: usize,
) -> Result<(Vec<UserRef>, String)> {
    match &step.approvers {
        Approvers::Role { role, level } => {
            let Some(start) = chain.iter().position(|n| &n.kind == level) else {
                return Ok((Vec::new(), format!("the document has no {level} above it")));
            };
            let mut notes = Vec::new();
            for n in chain.iter().skip(start + skip_levels) {
                let users = role_holders(p, role, n).await?;
                let others: Vec<UserRef> =
                    users.into_iter().filter(|u| u.id != requester_id).collect();
                if others.is_empty() {
                    notes.push(format!("no {role} at {}", n.code));
                    continue;
                }
                let mut note = format!("{role} at {}", n.code);
                if !notes.is_empty() {
                    note = format!("{note} ({})", notes.join("; "));
                }
                return Ok((others, note));
            }
            Ok((Vec::new(), notes.join("; ")))
        }
        Approvers::User { username } => {
            let users = users_named(p, chain, std::slice::from_ref(username)).await?;
            let others: Vec<UserRef> = users.into_iter().filter(|u| u.id != requester_id).collect();
            let note = if others.is_empty() {
                format!("{username} is the requester or inactive")
            } else {
                format!("named user {username}")
            };
            Ok((others, note))
        }
        Approvers::Group { usernames } => {
            let users = users_named(p, chain, usernames).await?;
            let others: Vec<UserRef> = users.into_iter().filter(|u| u.id != requester_id).collect();
            Ok((others, format!("group of {}", usernames.join(", "))))
        }
    }
}

fn user_ref(r: &boh_db::AnyRow) -> Result<UserRef> {
    Ok(UserRef {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
    })
}

/// Active users holding `role` on exactly this node.
async fn role_holders(p: &Platform, role: &str, node: &OrgNode) -> Result<Vec<UserRef>> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.username, u.display_name FROM grants g \
         JOIN roles r ON r.id = g.role_id JOIN users u ON u.id = g.user_id \
         WHERE r.code = $1 AND (r.company_id = $2 OR r.company_id IS NULL) AND u.active = 1 \
         AND (g.org_node_id = $3 OR ($4 = 'company' AND g.org_node_id IS NULL AND u.company_id = $2)) \
         ORDER BY u.username",
    )
    .bind(role)
    .bind(&node.company_id)
    .bind(&node.id)
    .bind(&node.kind)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(user_ref).collect()
}

async fn users_named(p: &Platform, chain: &[OrgNode], names: &[String]) -> Result<Vec<UserRef>> {
    let company = chain
        .first()
        .map(|n| n.company_id.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in names {
        if let Some(r) = sqlx::query(
            "SELECT id, username, display_name FROM users WHERE username = $1 AND active = 1 \
             AND (company_id = $2 OR company_id IS NULL)",
        )
        .bind(n)
        .bind(&company)
        .fetch_optional(p.db.pool())
        .await?
        {
            out.push(user_ref(&r)?);
        }
    }
    Ok(out)
}

/// Replace approvers who are away by their delegates (never by the requester).
pub async fn delegate(
    p: &Platform,
    company_id: &str,
    users: Vec<UserRef>,
    requester_id: &str,
) -> Result<Vec<Approver>> {
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let mut out: Vec<Approver> = Vec::new();
    for u in users {
        let row = sqlx::query(
            "SELECT d.id, d.username, d.display_name FROM wf_delegations g JOIN users d ON d.id = g.delegate_id \
             WHERE g.user_id = $1 AND g.company_id = $2 AND g.revoked_at IS NULL AND g.starts_on <= $3 \
             AND g.ends_on >= $3 AND d.active = 1 ORDER BY g.created_at DESC LIMIT 1",
        )
        .bind(&u.id)
        .bind(company_id)
        .bind(&today)
        .fetch_optional(p.db.pool())
        .await?;
        let a = match row {
            Some(r) => {
                let d = user_ref(&r)?;
                if d.id == requester_id {
                    Approver {
                        user: u,
                        on_behalf_of: None,
                    }
                } else {
                    Approver {
                        user: d,
                        on_behalf_of: Some(u),
                    }
                }
            }
            None => Approver {
                user: u,
                on_behalf_of: None,
            },
        };
        if !out.iter().any(|o| o.user.id == a.user.id) {
            out.push(a);
        }
    }
    Ok(out)
}
