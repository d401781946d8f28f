//! Workflow definitions: a trigger (document type and event), a condition, a priority among the
//! definitions of that trigger, and steps. Every save is a new immutable version; new documents
//! start with the latest version of an active definition, running instances keep theirs.

use boh_db::Row;
use boh_kernel::{Actor, id::new_id, now, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, tx};
use serde::{Deserialize, Serialize};

/// Org node kinds a role approver may be looked up at, relative to the document.
pub const LEVELS: &[&str] = &["store", "warehouse", "central_kitchen", "region", "company"];
/// Most steps in one definition.
pub const MAX_STEPS: usize = 20;
/// Longest SLA of a step, in hours (30 days).
pub const MAX_SLA_HOURS: i64 = 720;

/// Whether one approver of a step is enough, or all of them must approve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = StepMode)]
pub enum Mode {
    #[default]
    Any,
    All,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Any => "any",
            Mode::All => "all",
        }
    }
}

/// Who approves a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Approvers {
    /// The holders of a role at an org level relative to the document, e.g. the
    /// `region_manager` of the store's `region`. With nobody there (or only the requester),
    /// the holders of the role further up are asked.
    Role { role: String, level: String },
    /// One named user.
    User { username: String },
    /// A group of named users (with the step's mode: any one, or all).
    Group { usernames: Vec<String> },
}

/// One step of a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    pub approvers: Approvers,
    #[serde(default)]
    pub mode: Mode,
    /// Runs at the same time as the previous step (both must finish before the next).
    #[serde(default)]
    pub parallel: bool,
    /// The step applies only when this condition holds (empty: always).
    #[serde(default)]
    pub condition: String,
    /// Hours to decide before a reminder goes out (none: no SLA).
    #[serde(default)]
    pub sla_hours: Option<i64>,
    /// Hours after the SLA ends before the step is escalated to the next level up (none: no
    /// escalation).
    #[serde(default)]
    pub escalate_after_hours: Option<i64>,
}

/// A definition as saved (its latest version).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Definition {
    pub id: String,
    pub company_id: String,
    pub code: String,
    pub name: String,
    pub doc_type: String,
    pub event: String,
    pub priority: i64,
    pub active: bool,
    pub version: i64,
    pub version_id: String,
    pub condition: String,
    pub steps: Vec<Step>,
    pub updated_at: String,
}

/// What an editor sends; saving an existing code makes a new version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionInput {
    pub code: String,
    pub name: String,
    pub doc_type: String,
    #[serde(default = "default_event")]
    pub event: String,
    /// Lower runs first among the definitions of one trigger; the first whose condition holds
    /// routes the document.
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    pub condition: String,
    pub steps: Vec<Step>,
}

fn default_event() -> String {
    "submit".into()
}
fn default_priority() -> i64 {
    100
}
fn default_true() -> bool {
    true
}

fn valid_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Check a definition against the document type's facts, the company's roles and users.
/// Every problem is named by its field; nothing is written when there is one.
pub async fn validate(p: &Platform, company_id: &str, input: &DefinitionInput) -> Result<()> {
    let mut errors = Vec::new();
    if !valid_code(&input.code) {
        errors.push(FieldError::new(
            "code",
            "1–64 letters, digits, '-', '_' or '.'",
        ));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        errors.push(FieldError::new("name", "required, at most 120 characters"));
    }
    if !(0..=10_000).contains(&input.priority) {
        errors.push(FieldError::new("priority", "between 0 and 10000"));
    }
    let Some(dt) = crate::doc_type(p, &input.doc_type) else {
        let known: Vec<&str> = crate::doc_types(p).iter().map(|t| t.code).collect();
        errors.push(FieldError::new(
            "doc_type",
            format!(
                "unknown document type {:?}; known: {}",
                input.doc_type,
                known.join(", ")
            ),
        ));
        return Err(PlatformError::Validation(errors));
    };
    if !dt.events.contains(&input.event.as_str()) {
        errors.push(FieldError::new(
            "event",
            format!(
                "{} documents have the events: {}",
                dt.code,
                dt.events.join(", ")
            ),
        ));
    }
    if !input.condition.trim().is_empty()
        && let Err(e) = boh_expr::Expr::compile(&input.condition, &dt.schema)
    {
        errors.push(FieldError::new("condition", e.to_string()));
    }
    if input.steps.is_empty() {
        errors.push(FieldError::new("steps", "at least one step is required"));
    }
    if input.steps.len() > MAX_STEPS {
        errors.push(FieldError::new(
            "steps",
            format!("at most {MAX_STEPS} steps"),
        ));
    }
    let roles: Vec<String> = sqlx::query(
        "SELECT code FROM roles WHERE company_id = $1 OR company_id IS NULL ORDER BY code",
    )
    .bind(company_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String, _>("code").ok())
    .collect();
    for (i, s) in input.steps.iter().enumerate() {
        let f = |k: &str| format!("steps[{i}].{k}");
        let n = s.name.trim();
        if n.is_empty() || n.chars().count() > 120 {
            errors.push(FieldError::new(
                &f("name"),
                "required, at most 120 characters",
            ));
        }
        if i == 0 && s.parallel {
            errors.push(FieldError::new(
                &f("parallel"),
                "the first step has no previous step to run beside",
            ));
        }
        if !s.condition.trim().is_empty()
            && let Err(e) = boh_expr::Expr::compile(&s.condition, &dt.schema)
        {
            errors.push(FieldError::new(&f("condition"), e.to_string()));
        }
        if let Some(h) = s.sla_hours
            && !(1..=MAX_SLA_HOURS).contains(&h)
        {
            errors.push(FieldError::new(
                &f("sla_hours"),
                format!("between 1 and {MAX_SLA_HOURS} hours"),
            ));
        }
        if let Some(h) = s.escalate_after_hours {
            if !(1..=MAX_SLA_HOURS).contains(&h) {
                errors.push(FieldError::new(
                    &f("escalate_after_hours"),
                    format!("between 1 and {MAX_SLA_HOURS} hours"),
                ));
            }
            if s.sla_hours.is_none() {
                errors.push(FieldError::new(
                    &f("escalate_after_hours"),
                    "escalation counts from the end of the SLA; set sla_hours first",
                ));
            }
        }
        match &s.approvers {
            Approvers::Role { role, level } => {
                if !roles.iter().any(|r| r == role) {
                    errors.push(FieldError::new(
                        &f("approvers.role"),
                        format!("unknown role {role:?}; roles: {}", roles.join(", ")),
                    ));
                }
                if !LEVELS.contains(&level.as_str()) {
                    errors.push(FieldError::new(
                        &f("approvers.level"),
                        format!("unknown level {level:?}; levels: {}", LEVELS.join(", ")),
                    ));
                }
            }
            Approvers::User { username } => {
                if !user_exists(p, company_id, username).await? {
                    errors.push(FieldError::new(
                        &f("approvers.username"),
                        format!("no active user {username:?} in this company"),
                    ));
                }
            }
            Approvers::Group { usernames } => {
                if usernames.is_empty() || usernames.len() > 50 {
                    errors.push(FieldError::new(&f("approvers.usernames"), "1–50 usernames"));
                }
                for (k, u) in usernames.iter().enumerate() {
                    if !user_exists(p, company_id, u).await? {
                        errors.push(FieldError::new(
                            &format!("steps[{i}].approvers.usernames[{k}]"),
                            format!("no active user {u:?} in this company"),
                        ));
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PlatformError::Validation(errors))
    }
}

async fn user_exists(p: &Platform, company_id: &str, username: &str) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 AS x FROM users WHERE username = $1 AND active = 1 AND (company_id = $2 OR company_id IS NULL)",
    )
    .bind(username)
    .bind(company_id)
    .fetch_optional(p.db.pool())
    .await?
    .is_some())
}

/// The company a definition editor works in.
pub fn company_of(actor: &Actor) -> Result<String> {
    actor
        .company_id
        .clone()
        .ok_or_else(|| PlatformError::invalid("company", "this user belongs to no company"))
}

fn require_manage(actor: &Actor) -> Result<()> {
    if actor.has_anywhere(perm::WORKFLOW_MANAGE) {
        Ok(())
    } else {
        Err(PlatformError::Forbidden(perm::WORKFLOW_MANAGE))
    }
}

/// Create a definition, or save a new version of the one with this code.
pub async fn save(p: &Platform, ctx: &Ctx, input: &DefinitionInput) -> Result<Definition> {
    require_manage(&ctx.actor)?;
    let company_id = company_of(&ctx.actor)?;
    validate(p, &company_id, input).await?;
    let steps = serde_json::to_string(&input.steps).map_err(anyhow::Error::from)?;
    let t = now().micros();
    let name = input.name.trim().to_string();
    let id = tx!(p.db, tx, {
        let existing = sqlx::query(
            "SELECT id, version FROM wf_definitions WHERE company_id = $1 AND code = $2",
        )
        .bind(&company_id)
        .bind(&input.code)
        .fetch_optional(&mut *tx)
        .await?;
        let (def_id, version, before) = match existing {
            Some(r) => {
                let id: String = r.try_get("id")?;
                let v: i64 = r.try_get("version")?;
                sqlx::query(
                    "UPDATE wf_definitions SET name = $1, doc_type = $2, event = $3, priority = $4, \
                     active = $5, version = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(&name)
                .bind(&input.doc_type)
                .bind(&input.event)
                .bind(input.priority)
                .bind(i64::from(input.active))
                .bind(v + 1)
                .bind(t)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                (id, v + 1, Some(serde_json::json!({ "version": v })))
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO wf_definitions (id, company_id, code, name, doc_type, event, priority, active, \
                     version, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,1,$9,$9)",
                )
                .bind(&id)
                .bind(&company_id)
                .bind(&input.code)
                .bind(&name)
                .bind(&input.doc_type)
                .bind(&input.event)
                .bind(input.priority)
                .bind(i64::from(input.active))
                .bind(t)
                .execute(&mut *tx)
                .await?;
                (id, 1, None)
            }
        };
        sqlx::query(
            "INSERT INTO wf_versions (id, definition_id, version, name, doc_type, event, priority, condition, \
             steps, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        )
        .bind(new_id())
        .bind(&def_id)
        .bind(version)
        .bind(&name)
        .bind(&input.doc_type)
        .bind(&input.event)
        .bind(input.priority)
        .bind(input.condition.trim())
        .bind(&steps)
        .bind(t)
        .bind(&ctx.actor.user_id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "workflow.definition.save",
                entity_type: "wf_definition",
                entity_id: &def_id,
                org_path: None,
                before,
                after: Some(serde_json::json!({
                    "code": input.code, "version": version, "doc_type": input.doc_type,
                    "active": input.active, "condition": input.condition, "steps": input.steps.len(),
                })),
            },
        )
        .await?;
        Ok(def_id)
    })?;
    get(p, &ctx.actor, &id).await
}

const DEF_SQL: &str = "SELECT d.id, d.company_id, d.code, d.name, d.doc_type, d.event, d.priority, d.active, \
     d.version, d.updated_at, v.id AS version_id, v.condition, v.steps FROM wf_definitions d \
     JOIN wf_versions v ON v.definition_id = d.id AND v.version = d.version";

fn from_row(r: &boh_db::AnyRow) -> Result<Definition> {
    let steps: String = r.try_get("steps")?;
    Ok(Definition {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        doc_type: r.try_get("doc_type")?,
        event: r.try_get("event")?,
        priority: r.try_get("priority")?,
        active: r.try_get::<i64, _>("active")? != 0,
        version: r.try_get("version")?,
        version_id: r.try_get("version_id")?,
        condition: r.try_get("condition")?,
        steps: serde_json::from_str(&steps).map_err(anyhow::Error::from)?,
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
    })
}

/// The definitions of the actor's company (anyone who may manage or read workflows).
pub async fn list(p: &Platform, actor: &Actor) -> Result<Vec<Definition>> {
    if !actor.has_anywhere(perm::WORKFLOW_MANAGE) && !actor.has_anywhere(perm::WORKFLOW_READ) {
        return Err(PlatformError::Forbidden(perm::WORKFLOW_READ));
    }
    let company_id = company_of(actor)?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{DEF_SQL} WHERE d.company_id = $1 ORDER BY d.doc_type, d.priority, d.code"
    )))
    .bind(&company_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One definition of the actor's company (404 for another company's).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Definition> {
    if !actor.has_anywhere(perm::WORKFLOW_MANAGE) && !actor.has_anywhere(perm::WORKFLOW_READ) {
        return Err(PlatformError::NotFound);
    }
    let company_id = company_of(actor)?;
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{DEF_SQL} WHERE d.id = $1 AND d.company_id = $2"
    )))
    .bind(id)
    .bind(&company_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    from_row(&row)
}

/// A version as an instance uses it.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: String,
    pub definition_id: String,
    pub code: String,
    pub name: String,
    pub version: i64,
    pub condition: String,
    pub steps: Vec<Step>,
}

/// The active definitions of a trigger in a company, in priority order, at their latest version.
pub async fn candidates(
    p: &Platform,
    company_id: &str,
    doc_type: &str,
    event: &str,
) -> Result<Vec<Version>> {
    let rows = sqlx::query(
        "SELECT v.id, d.id AS definition_id, d.code, v.name, v.version, v.condition, v.steps \
         FROM wf_definitions d JOIN wf_versions v ON v.definition_id = d.id AND v.version = d.version \
         WHERE d.company_id = $1 AND d.doc_type = $2 AND d.event = $3 AND d.active = 1 \
         ORDER BY d.priority, d.code",
    )
    .bind(company_id)
    .bind(doc_type)
    .bind(event)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(version_from).collect()
}

fn version_from(r: &boh_db::AnyRow) -> Result<Version> {
    let steps: String = r.try_get("steps")?;
    Ok(Version {
        id: r.try_get("id")?,
        definition_id: r.try_get("definition_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        condition: r.try_get("condition")?,
        steps: serde_json::from_str(&steps).map_err(anyhow::Error::from)?,
    })
}

/// The version an instance started with.
pub async fn version(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Version> {
    let r = sqlx::query(
        "SELECT v.id, d.id AS definition_id, d.code, v.name, v.version, v.condition, v.steps \
         FROM wf_versions v JOIN wf_definitions d ON d.id = v.definition_id WHERE v.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(PlatformError::NotFound)?;
    version_from(&r)
}
