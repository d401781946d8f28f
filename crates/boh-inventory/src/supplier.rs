//! Suppliers of a company, the items they sell (in which pack unit, under which SKU), and their
//! dated prices.
//!
//! - Suppliers are upserted by code ([`upsert_suppliers`]): one record from the API or many
//!   from an import, all validated first with every problem of every row reported at once,
//!   then one transaction; unchanged rows are not written.
//! - A supplier item names an item of the catalogue and a pack unit the item converts
//!   (`Item::conversions().factor(unit)` is `Some`), so every price converts to the item's base
//!   unit.
//! - Prices are append-only (`inv_supplier_prices` rows are inserted, never updated or
//!   deleted): a price change is a new row with its effective-from date. The price in force on
//!   a day D is the one with the latest `effective_from <= D` (ties: the one recorded last).
//!   Each price records the pack size it was given for, so its cost per base unit never
//!   changes afterwards.
//! - A closed (inactive) supplier gets no new items or prices and is not used for costing; its
//!   history stays readable.
//!
//! Reads need `inventory.read` somewhere in the company, writes `inventory.catalog.manage` at
//! the company.

use std::collections::{HashMap, HashSet};

use boh_db::Row;
use boh_kernel::{Actor, Qty, new_id, now};
use boh_platform::audit::{self, Change};
use boh_platform::org::OrgNode;
use boh_platform::util::{like_escape, required_text};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::catalog::{self, Item, UpsertMode};
use crate::{company, in_placeholders, require_catalog, validate_code};

/// The largest money amount accepted (minor units): ten billion in major units.
pub const MAX_MONEY: i64 = 1_000_000_000_000;

// ---------------------------------------------------------------- suppliers

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Supplier {
    pub id: String,
    pub company_id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Days from order to delivery.
    pub lead_time_days: i64,
    /// ISO weekdays the supplier delivers on (1 = Monday … 7 = Sunday), ascending.
    pub delivery_days: Vec<i64>,
    /// Smallest order the supplier accepts, in minor units of `currency`.
    pub min_order_minor: i64,
    /// ISO 4217 code; every price of the supplier is in it.
    pub currency: String,
    /// False once the supplier is closed: no new items or prices, not used for costing.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Supplier {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }

    fn same_content(&self, o: &Supplier) -> bool {
        self.code == o.code
            && self.name_zh == o.name_zh
            && self.name_en == o.name_en
            && self.contact_name == o.contact_name
            && self.phone == o.phone
            && self.email == o.email
            && self.address == o.address
            && self.lead_time_days == o.lead_time_days
            && self.delivery_days == o.delivery_days
            && self.min_order_minor == o.min_order_minor
            && self.currency == o.currency
            && self.active == o.active
    }
}

/// A supplier to create or update (matched by `code`). Absent optional fields keep the
/// current value on update and take the default on create.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierInput {
    /// The company; default the caller's.
    #[serde(default)]
    pub company_id: Option<String>,
    pub code: String,
    /// Both names at once.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// 0–365 days; default 1.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 365)]
    pub lead_time_days: Option<i64>,
    /// ISO weekdays 1–7; default every day.
    #[serde(default)]
    pub delivery_days: Option<Vec<i64>>,
    /// Minor units, 0 or more; default 0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub min_order_minor: Option<i64>,
    /// Three capital letters (ISO 4217); default CNY. Fixed once the supplier has prices.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    /// On update: the version the change is based on (lost-update guard).
    #[serde(default)]
    pub version: Option<i64>,
}

/// A partial change to a supplier (the API's PATCH): absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierPatch {
    pub version: Option<i64>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    #[schema(minimum = 0, maximum = 365)]
    pub lead_time_days: Option<i64>,
    pub delivery_days: Option<Vec<i64>>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub min_order_minor: Option<i64>,
    pub currency: Option<String>,
    /// `false` closes the supplier, `true` reopens it.
    pub active: Option<bool>,
}

/// What a supplier upsert did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SupplierReport {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// The records as they are after the upsert, in input order.
    #[serde(skip)]
    pub suppliers: Vec<Supplier>,
}

const SUPPLIER_COLS: &str = "id, company_id, code, name_zh, name_en, contact_name, phone, email, address, \
    lead_time_days, delivery_days, min_order_minor, currency, active, created_at, updated_at, version";

fn days_text(days: &[i64]) -> String {
    days.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_days(s: &str) -> Vec<i64> {
    s.split(',')
        .filter_map(|d| d.trim().parse::<i64>().ok())
        .collect()
}

fn supplier_from_row(r: &boh_db::AnyRow) -> Result<Supplier> {
    Ok(Supplier {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        contact_name: r.try_get("contact_name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        address: r.try_get("address")?,
        lead_time_days: r.try_get("lead_time_days")?,
        delivery_days: parse_days(&r.try_get::<String, _>("delivery_days")?),
        min_order_minor: r.try_get("min_order_minor")?,
        currency: r.try_get("currency")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        version: r.try_get("version")?,
    })
}

/// A supplier by id, unscoped (callers check the company).
pub async fn fetch_supplier(p: &Platform, id: &str) -> Result<Option<Supplier>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {SUPPLIER_COLS} FROM inv_suppliers WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .map(|r| supplier_from_row(&r))
    .transpose()
}

/// One supplier the actor may read.
pub async fn get_supplier(p: &Platform, actor: &Actor, id: &str) -> Result<Supplier> {
    let s = fetch_supplier(p, id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    company(p, actor, Some(&s.company_id)).await?;
    Ok(s)
}

/// Filters for the supplier list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct SupplierFilter {
    /// The company; default the caller's.
    pub company_id: Option<String>,
    /// Text search in code, names, contact, phone and e-mail.
    pub q: Option<String>,
    /// `true` (default) for active suppliers, `false` for closed ones, `all` for both.
    #[param(pattern = "^(true|false|all)?$")]
    pub active: Option<String>,
    /// Page size (1–500, default 50; others are clamped).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// A page of the company's suppliers by code, with the total for paging.
pub async fn list_suppliers(
    p: &Platform,
    actor: &Actor,
    f: &SupplierFilter,
) -> Result<(Vec<Supplier>, i64)> {
    let co = company(p, actor, f.company_id.as_deref()).await?;
    let active: i64 = match f.active.as_deref().unwrap_or("true") {
        "true" | "" => 1,
        "false" => 0,
        "all" => -1,
        _ => {
            return Err(PlatformError::invalid(
                "active",
                "must be true, false or all",
            ));
        }
    };
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    let pattern = format!("%{}%", like_escape(&q.to_lowercase()));
    let where_ = "company_id = $1 AND ($2 < 0 OR active = $2) AND ($3 = '' OR LOWER(code) LIKE $4 ESCAPE '\\' \
        OR LOWER(name_en) LIKE $4 ESCAPE '\\' OR name_zh LIKE $4 ESCAPE '\\' \
        OR LOWER(COALESCE(contact_name, '')) LIKE $4 ESCAPE '\\' OR COALESCE(phone, '') LIKE $4 ESCAPE '\\' \
        OR LOWER(COALESCE(email, '')) LIKE $4 ESCAPE '\\')";
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let b = |sql: String| {
        sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(co.id.clone())
            .bind(active)
            .bind(q.to_string())
            .bind(pattern.clone())
    };
    let total: i64 = b(format!(
        "SELECT COUNT(*) AS n FROM inv_suppliers WHERE {where_}"
    ))
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = b(format!(
        "SELECT {SUPPLIER_COLS} FROM inv_suppliers WHERE {where_} ORDER BY code LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    Ok((
        rows.iter().map(supplier_from_row).collect::<Result<_>>()?,
        total,
    ))
}

/// An optional text field: trimmed, empty = none, at most `max` characters.
fn opt_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    current: Option<&Option<String>>,
    max: usize,
) -> Option<String> {
    match v {
        Some(s) => {
            let s = s.trim();
            if s.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
            Some(s.to_string()).filter(|s| !s.is_empty())
        }
        None => current.cloned().flatten(),
    }
}

/// Validate one input against the current record (if any); field names carry `prefix`.
fn build_supplier(
    input: &SupplierInput,
    current: Option<&Supplier>,
    company_id: &str,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Supplier> {
    let f = |name: &str| format!("{prefix}{name}");
    let mut e = Vec::new();
    let code = validate_code(&mut e, &f("code"), &input.code);
    let name_en_raw = input
        .name_en
        .clone()
        .or_else(|| input.name.clone())
        .or_else(|| current.map(|c| c.name_en.clone()))
        .unwrap_or_default();
    let name_en = required_text(&mut e, &f("name_en"), &name_en_raw, 200);
    let name_zh_raw = input
        .name_zh
        .clone()
        .or_else(|| input.name.clone())
        .or_else(|| current.map(|c| c.name_zh.clone()))
        .unwrap_or_else(|| name_en.clone());
    let name_zh = required_text(&mut e, &f("name_zh"), &name_zh_raw, 200);
    let contact_name = opt_text(
        &mut e,
        &f("contact_name"),
        input.contact_name.as_deref(),
        current.map(|c| &c.contact_name),
        100,
    );
    let phone = opt_text(
        &mut e,
        &f("phone"),
        input.phone.as_deref(),
        current.map(|c| &c.phone),
        40,
    );
    if let Some(ph) = &phone
        && !ph
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.' | '/'))
    {
        e.push(FieldError::new(
            &f("phone"),
            "may contain only digits, spaces and + - ( ) . /",
        ));
    }
    let email = opt_text(
        &mut e,
        &f("email"),
        input.email.as_deref(),
        current.map(|c| &c.email),
        254,
    );
    if let Some(m) = &email
        && (!m.contains('@') || m.starts_with('@') || m.ends_with('@') || m.contains(' '))
    {
        e.push(FieldError::new(&f("email"), "is not an e-mail address"));
    }
    let address = opt_text(
        &mut e,
        &f("address"),
        input.address.as_deref(),
        current.map(|c| &c.address),
        500,
    );
    let lead_time_days = input
        .lead_time_days
        .or(current.map(|c| c.lead_time_days))
        .unwrap_or(1);
    if !(0..=365).contains(&lead_time_days) {
        e.push(FieldError::new(
            &f("lead_time_days"),
            "must be between 0 and 365",
        ));
    }
    let mut delivery_days = input
        .delivery_days
        .clone()
        .or_else(|| current.map(|c| c.delivery_days.clone()))
        .unwrap_or_else(|| (1..=7).collect());
    if delivery_days.iter().any(|d| !(1..=7).contains(d)) {
        e.push(FieldError::new(
            &f("delivery_days"),
            "must list ISO weekdays from 1 (Monday) to 7 (Sunday)",
        ));
    }
    delivery_days.sort_unstable();
    delivery_days.dedup();
    let min_order_minor = input
        .min_order_minor
        .or(current.map(|c| c.min_order_minor))
        .unwrap_or(0);
    if !(0..=MAX_MONEY).contains(&min_order_minor) {
        e.push(FieldError::new(
            &f("min_order_minor"),
            "must be between 0 and 1000000000000",
        ));
    }
    let currency = input
        .currency
        .clone()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .or_else(|| current.map(|c| c.currency.clone()))
        .unwrap_or_else(|| "CNY".into());
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        e.push(FieldError::new(
            &f("currency"),
            "must be three capital letters (ISO 4217), e.g. CNY",
        ));
    }
    let active = input.active.or(current.map(|c| c.active)).unwrap_or(true);
    if let (Some(v), Some(cur)) = (input.version, current)
        && v != cur.version
    {
        e.push(FieldError::new(
            &f("version"),
            "the record was changed by someone else; reload and try again",
        ));
    }
    let ok = e.is_empty();
    errors.extend(e);
    if !ok {
        return None;
    }
    let t = boh_kernel::Instant(now().micros()).rfc3339();
    Some(Supplier {
        id: current.map(|c| c.id.clone()).unwrap_or_else(new_id),
        company_id: company_id.to_string(),
        code,
        name_zh,
        name_en,
        contact_name,
        phone,
        email,
        address,
        lead_time_days,
        delivery_days,
        min_order_minor,
        currency,
        active,
        created_at: current.map(|c| c.created_at.clone()).unwrap_or(t.clone()),
        updated_at: t,
        version: current.map(|c| c.version + 1).unwrap_or(1),
    })
}

/// Validate and apply supplier inputs for one company, all or nothing. `rows` pairs each input
/// with the prefix its field errors carry (`""` for the API, [`catalog::row_prefix`] for
/// imports). With `dry_run`, nothing is written and the report says what would happen.
pub async fn upsert_suppliers(
    p: &Platform,
    ctx: &Ctx,
    company_id: Option<&str>,
    rows: &[(String, SupplierInput)],
    mode: UpsertMode,
    dry_run: bool,
) -> Result<SupplierReport> {
    let co = company(p, &ctx.actor, company_id).await?;
    require_catalog(&ctx.actor, &co.id)?;
    let plan = plan_suppliers(p, &co, rows, mode).await?;
    if dry_run {
        return Ok(plan.report);
    }
    let single = rows.len() == 1;
    if plan.is_empty() {
        if ctx.idem.is_some() {
            boh_platform::tx!(p.db, tx, {
                record_report(tx, ctx, &plan.report, single).await?;
                Ok::<_, PlatformError>(())
            })?;
        }
        return Ok(plan.report);
    }
    boh_platform::tx!(p.db, tx, {
        apply_suppliers(tx, ctx, &plan).await?;
        record_report(tx, ctx, &plan.report, single).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(plan.report)
}

/// Suppliers of a company by code, unscoped (callers check the company): one query per 500
/// codes.
pub async fn suppliers_by_code(
    p: &Platform,
    company_id: &str,
    codes: &[String],
) -> Result<HashMap<String, Supplier>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT {SUPPLIER_COLS} FROM inv_suppliers WHERE company_id = $1 AND code IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(company_id);
        for c in chunk {
            q = q.bind(c);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let s = supplier_from_row(&r)?;
            out.insert(s.code.clone(), s);
        }
    }
    Ok(out)
}

/// What a supplier upsert would write.
#[derive(Debug, Clone, Default)]
pub struct SuppliersPlan {
    pub company_id: String,
    pub company_path: String,
    pub inserts: Vec<Supplier>,
    pub updates: Vec<(Supplier, Supplier)>,
    pub report: SupplierReport,
}

impl SuppliersPlan {
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.updates.is_empty()
    }
}

/// Validate supplier inputs for the company `co` (the caller has checked the actor may change
/// its catalogue) and work out the writes, reading in bulk; every problem is one field error
/// with its row's prefix. Writes nothing.
pub async fn plan_suppliers(
    p: &Platform,
    co: &boh_platform::org::OrgNode,
    rows: &[(String, SupplierInput)],
    mode: UpsertMode,
) -> Result<SuppliersPlan> {
    let codes: Vec<String> = rows
        .iter()
        .map(|(_, r)| r.code.trim().to_string())
        .collect();
    let mut current: HashMap<String, Supplier> = HashMap::new();
    for chunk in codes.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT {SUPPLIER_COLS} FROM inv_suppliers WHERE company_id = $1 AND code IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&co.id);
        for c in chunk {
            q = q.bind(c);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let s = supplier_from_row(&r)?;
            current.insert(s.code.clone(), s);
        }
    }
    // Suppliers whose currency would change but that have prices already.
    let currency_changes: Vec<String> = rows
        .iter()
        .filter_map(|(_, r)| {
            let cur = current.get(r.code.trim())?;
            let c = r.currency.as_deref()?.trim();
            (!c.is_empty() && c != cur.currency).then(|| cur.id.clone())
        })
        .collect();
    let priced = suppliers_with_prices(p, &currency_changes).await?;

    let mut errors = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut report = SupplierReport::default();
    let mut inserts: Vec<Supplier> = Vec::new();
    let mut updates: Vec<(Supplier, Supplier)> = Vec::new();
    for (prefix, input) in rows {
        let code = input.code.trim().to_string();
        let cur = current.get(&code);
        if !seen.insert(code.clone()) {
            errors.push(FieldError::new(
                &format!("{prefix}code"),
                format!("code {code} appears more than once"),
            ));
            continue;
        }
        match (mode, cur) {
            (UpsertMode::CreateOnly, Some(_)) => {
                errors.push(FieldError::new(
                    &format!("{prefix}code"),
                    format!("supplier {code} exists already"),
                ));
                continue;
            }
            (UpsertMode::UpdateOnly, None) => {
                errors.push(FieldError::new(
                    &format!("{prefix}code"),
                    format!("no supplier {code}"),
                ));
                continue;
            }
            _ => {}
        }
        let Some(s) = build_supplier(input, cur, &co.id, prefix, &mut errors) else {
            continue;
        };
        if let Some(c) = cur
            && c.currency != s.currency
            && priced.contains(&c.id)
        {
            errors.push(FieldError::new(
                &format!("{prefix}currency"),
                format!(
                    "cannot change from {} once the supplier has prices",
                    c.currency
                ),
            ));
            continue;
        }
        match cur {
            None => {
                report.created += 1;
                report.suppliers.push(s.clone());
                inserts.push(s);
            }
            Some(c) if c.same_content(&s) => {
                report.unchanged += 1;
                report.suppliers.push(c.clone());
            }
            Some(c) => {
                report.updated += 1;
                report.suppliers.push(s.clone());
                updates.push((c.clone(), s));
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    Ok(SuppliersPlan {
        company_id: co.id.clone(),
        company_path: co.path.clone(),
        inserts,
        updates,
        report,
    })
}

/// Write a supplier plan inside the caller's transaction: rows, audit rows and one
/// `inventory.suppliers.changed` event. Writes nothing for an empty plan.
pub async fn apply_suppliers(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    plan: &SuppliersPlan,
) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let (inserts, updates) = (&plan.inserts, &plan.updates);
    let co_path = &plan.company_path;
    write_suppliers(tx, inserts, updates).await?;
    let mut changes: Vec<Change<'_>> = Vec::with_capacity(inserts.len() + updates.len());
    for s in inserts {
        changes.push(Change {
            action: "inventory.supplier.create",
            entity_type: "inv_supplier",
            entity_id: &s.id,
            org_path: Some(co_path),
            before: None,
            after: serde_json::to_value(s).ok(),
        });
    }
    for (before, after) in updates {
        changes.push(Change {
            action: "inventory.supplier.update",
            entity_type: "inv_supplier",
            entity_id: &after.id,
            org_path: Some(co_path),
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
        });
    }
    audit::append_many(tx, ctx, &changes).await?;
    events::emit(
        tx,
        "inventory.suppliers.changed",
        Some(co_path),
        &json!({
            "company_id": plan.company_id,
            "created": inserts.iter().map(|s| &s.code).collect::<Vec<_>>(),
            "updated": updates.iter().map(|(_, s)| &s.code).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(())
}

async fn record_report(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    report: &SupplierReport,
    single: bool,
) -> Result<()> {
    match report.suppliers.first() {
        Some(s) if single => boh_platform::idem::record_created(tx, ctx, s).await,
        _ => boh_platform::idem::record_created(tx, ctx, report).await,
    }
}

async fn suppliers_with_prices(p: &Platform, ids: &[String]) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT DISTINCT si.supplier_id FROM inv_supplier_prices sp JOIN inv_supplier_items si \
             ON si.id = sp.supplier_item_id WHERE si.supplier_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("supplier_id")?);
        }
    }
    Ok(out)
}

async fn write_suppliers(
    tx: &mut AnyConnection,
    inserts: &[Supplier],
    updates: &[(Supplier, Supplier)],
) -> Result<()> {
    let t = now().micros();
    const COLS: usize = 17;
    for chunk in inserts.chunks(400) {
        let sql = format!(
            "INSERT INTO inv_suppliers ({SUPPLIER_COLS}) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), COLS)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for s in chunk {
            q = q
                .bind(&s.id)
                .bind(&s.company_id)
                .bind(&s.code)
                .bind(&s.name_zh)
                .bind(&s.name_en)
                .bind(s.contact_name.as_deref())
                .bind(s.phone.as_deref())
                .bind(s.email.as_deref())
                .bind(s.address.as_deref())
                .bind(s.lead_time_days)
                .bind(days_text(&s.delivery_days))
                .bind(s.min_order_minor)
                .bind(&s.currency)
                .bind(i64::from(s.active))
                .bind(t)
                .bind(t)
                .bind(s.version);
        }
        let r = q.execute(&mut *tx).await;
        boh_platform::error::unique_conflict(r, "code", || {
            "a supplier with one of these codes was created concurrently; retry".to_string()
        })?;
    }
    for (before, s) in updates {
        let n = sqlx::query(
            "UPDATE inv_suppliers SET name_zh=$1, name_en=$2, contact_name=$3, phone=$4, email=$5, address=$6, \
             lead_time_days=$7, delivery_days=$8, min_order_minor=$9, currency=$10, active=$11, updated_at=$12, \
             version=$13 WHERE id=$14 AND version=$15",
        )
        .bind(&s.name_zh)
        .bind(&s.name_en)
        .bind(s.contact_name.as_deref())
        .bind(s.phone.as_deref())
        .bind(s.email.as_deref())
        .bind(s.address.as_deref())
        .bind(s.lead_time_days)
        .bind(days_text(&s.delivery_days))
        .bind(s.min_order_minor)
        .bind(&s.currency)
        .bind(i64::from(s.active))
        .bind(t)
        .bind(s.version)
        .bind(&s.id)
        .bind(before.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(PlatformError::conflict(
                "version",
                format!(
                    "supplier {} was changed by someone else; reload and try again",
                    s.code
                ),
            ));
        }
    }
    Ok(())
}

/// Create one supplier (the API): a code that exists is refused.
pub async fn create_supplier(p: &Platform, ctx: &Ctx, input: SupplierInput) -> Result<Supplier> {
    let company = input.company_id.clone();
    let r = upsert_suppliers(
        p,
        ctx,
        company.as_deref(),
        &[(String::new(), input)],
        UpsertMode::CreateOnly,
        false,
    )
    .await?;
    r.suppliers
        .into_iter()
        .next()
        .ok_or(PlatformError::NotFound)
}

/// Change a supplier (the API's PATCH and the supplier page).
pub async fn update_supplier(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    patch: SupplierPatch,
) -> Result<Supplier> {
    let cur = get_supplier(p, &ctx.actor, id).await?;
    let input = SupplierInput {
        company_id: Some(cur.company_id.clone()),
        code: cur.code.clone(),
        name: None,
        name_zh: patch.name_zh,
        name_en: patch.name_en,
        contact_name: patch.contact_name,
        phone: patch.phone,
        email: patch.email,
        address: patch.address,
        lead_time_days: patch.lead_time_days,
        delivery_days: patch.delivery_days,
        min_order_minor: patch.min_order_minor,
        currency: patch.currency,
        active: patch.active,
        version: patch.version,
    };
    let r = upsert_suppliers(
        p,
        ctx,
        Some(&cur.company_id),
        &[(String::new(), input)],
        UpsertMode::UpdateOnly,
        false,
    )
    .await?;
    r.suppliers
        .into_iter()
        .next()
        .ok_or(PlatformError::NotFound)
}

/// A supplier the actor may change the catalogue of, open for new items and prices. A closed
/// supplier is refused naming `field`.
async fn open_supplier(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    field: &str,
) -> Result<(Supplier, OrgNode)> {
    let s = get_supplier(p, &ctx.actor, id).await?;
    let co = company(p, &ctx.actor, Some(&s.company_id)).await?;
    require_catalog(&ctx.actor, &co.id)?;
    if !s.active {
        return Err(PlatformError::Refused {
            code: "supplier_inactive",
            message: format!(
                "supplier {} is closed; reopen it before adding items or prices",
                s.code
            ),
            fields: vec![FieldError::new(
                field,
                format!("supplier {} is closed", s.code),
            )],
        });
    }
    Ok((s, co))
}

// ---------------------------------------------------------------- supplier items

/// An item as a supplier sells it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SupplierItem {
    pub id: String,
    pub supplier_id: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    /// The item's stock unit.
    pub base_unit: String,
    /// The supplier's own code for it.
    pub supplier_sku: Option<String>,
    /// The unit the supplier sells and prices it in.
    pub pack_unit: String,
    /// Base units in one pack unit, as the item converts it today.
    #[schema(value_type = String, example = "12")]
    pub pack_factor: Qty,
    /// Preferred suppliers win when several have a price in force.
    pub preferred: bool,
    pub active: bool,
    /// The price in force today, if any.
    pub current_price: Option<Price>,
}

/// An item a supplier sells: matched by item and pack unit (so a second call updates SKU and
/// flags).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierItemInput {
    /// The item by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// The unit the supplier sells it in: the base unit or a unit the item converts (a case,
    /// a bag, g for an item kept in kg). Default the base unit.
    #[serde(default)]
    pub pack_unit: Option<String>,
    #[serde(default)]
    pub supplier_sku: Option<String>,
    #[serde(default)]
    pub preferred: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// What a supplier-item upsert did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SupplierItemReport {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    #[serde(skip)]
    pub items: Vec<SupplierItem>,
}

struct SiRow {
    id: String,
    supplier_id: String,
    item_id: String,
    supplier_sku: Option<String>,
    pack_unit: String,
    preferred: bool,
    active: bool,
}

async fn supplier_item_rows(p: &Platform, supplier_id: &str) -> Result<Vec<SiRow>> {
    let rows = sqlx::query(
        "SELECT id, supplier_id, item_id, supplier_sku, pack_unit, preferred, active FROM inv_supplier_items \
         WHERE supplier_id = $1",
    )
    .bind(supplier_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SiRow {
                id: r.try_get("id")?,
                supplier_id: r.try_get("supplier_id")?,
                item_id: r.try_get("item_id")?,
                supplier_sku: r.try_get("supplier_sku")?,
                pack_unit: r.try_get("pack_unit")?,
                preferred: r.try_get::<i64, _>("preferred")? != 0,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

fn supplier_item_of(r: &SiRow, item: &Item, price: Option<Price>) -> SupplierItem {
    SupplierItem {
        id: r.id.clone(),
        supplier_id: r.supplier_id.clone(),
        item_id: item.id.clone(),
        item_code: item.code.clone(),
        item_name_zh: item.name_zh.clone(),
        item_name_en: item.name_en.clone(),
        base_unit: item.base_unit.clone(),
        supplier_sku: r.supplier_sku.clone(),
        pack_unit: r.pack_unit.clone(),
        pack_factor: Qty(item.conversions().factor(&r.pack_unit).unwrap_or(0)),
        preferred: r.preferred,
        active: r.active,
        current_price: price,
    }
}

/// The items a supplier sells, by item code, each with its price in force today.
pub async fn list_supplier_items(
    p: &Platform,
    actor: &Actor,
    supplier_id: &str,
) -> Result<Vec<SupplierItem>> {
    let s = get_supplier(p, actor, supplier_id).await?;
    let co = company(p, actor, Some(&s.company_id)).await?;
    let rows = supplier_item_rows(p, &s.id).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.item_id.clone()).collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let today = crate::today_in(&co.timezone).to_string();
    let si_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut current: HashMap<String, Price> = prices_in_force_for(p, &si_ids, &today)
        .await?
        .into_iter()
        .map(|pr| (pr.supplier_item_id.clone(), pr))
        .collect();
    let mut out: Vec<SupplierItem> = rows
        .iter()
        .filter_map(|r| {
            items
                .get(&r.item_id)
                .map(|it| supplier_item_of(r, it, current.remove(&r.id)))
        })
        .collect();
    out.sort_by(|a, b| {
        a.item_code
            .cmp(&b.item_code)
            .then(a.pack_unit.cmp(&b.pack_unit))
    });
    Ok(out)
}

/// Add or update items of an open supplier, all or nothing (field errors carry each row's
/// prefix). The pack unit must be one the item converts.
pub async fn upsert_supplier_items(
    p: &Platform,
    ctx: &Ctx,
    supplier_id: &str,
    rows: &[(String, SupplierItemInput)],
    dry_run: bool,
) -> Result<SupplierItemReport> {
    let (s, co) = open_supplier(p, ctx, supplier_id, "supplier_id").await?;
    let mut errors = Vec::new();
    let refs: Vec<(Option<String>, Option<String>, String)> = rows
        .iter()
        .map(|(prefix, r)| {
            (
                r.item_id.clone().filter(|v| !v.is_empty()),
                r.item_code.clone().filter(|v| !v.is_empty()),
                prefix.trim_end_matches(", ").to_string(),
            )
        })
        .collect();
    let items = resolve_items_prefixed(p, &co.id, &refs, &mut errors).await?;
    let existing = supplier_item_rows(p, &s.id).await?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut report = SupplierItemReport::default();
    let mut inserts: Vec<(SiRow, Item)> = Vec::new();
    let mut updates: Vec<(SiRow, Item)> = Vec::new();
    for ((prefix, input), item) in rows.iter().zip(items) {
        let f = |n: &str| format!("{prefix}{n}");
        let Some(item) = item else { continue };
        let unit = input
            .pack_unit
            .clone()
            .map(|u| u.trim().to_lowercase())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| item.base_unit.clone());
        let mut bad = false;
        if item.conversions().factor(&unit).is_none_or(|f| f <= 0) {
            errors.push(FieldError::new(
                &f("pack_unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            ));
            bad = true;
        }
        let sku = input
            .supplier_sku
            .clone()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if sku.as_deref().is_some_and(|v| v.chars().count() > 64) {
            errors.push(FieldError::new(
                &f("supplier_sku"),
                "must be at most 64 characters",
            ));
            bad = true;
        }
        if !seen.insert((item.id.clone(), unit.clone())) {
            errors.push(FieldError::new(
                &f("pack_unit"),
                format!("item {} in {unit} is listed twice", item.code),
            ));
            bad = true;
        }
        if bad {
            continue;
        }
        let cur = existing
            .iter()
            .find(|r| r.item_id == item.id && r.pack_unit == unit);
        let row = SiRow {
            id: cur.map(|c| c.id.clone()).unwrap_or_else(new_id),
            supplier_id: s.id.clone(),
            item_id: item.id.clone(),
            supplier_sku: if input.supplier_sku.is_some() {
                sku
            } else {
                cur.and_then(|c| c.supplier_sku.clone())
            },
            pack_unit: unit,
            preferred: input
                .preferred
                .or(cur.map(|c| c.preferred))
                .unwrap_or(false),
            active: input.active.or(cur.map(|c| c.active)).unwrap_or(true),
        };
        match cur {
            None => {
                report.created += 1;
                report.items.push(supplier_item_of(&row, &item, None));
                inserts.push((row, item));
            }
            Some(c)
                if c.supplier_sku == row.supplier_sku
                    && c.preferred == row.preferred
                    && c.active == row.active =>
            {
                report.unchanged += 1;
                report.items.push(supplier_item_of(&row, &item, None));
            }
            Some(_) => {
                report.updated += 1;
                report.items.push(supplier_item_of(&row, &item, None));
                updates.push((row, item));
            }
        }
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    if dry_run {
        return Ok(report);
    }
    let single = rows.len() == 1;
    let t = now().micros();
    let co_path = co.path.clone();
    boh_platform::tx!(p.db, tx, {
        for chunk in inserts.chunks(400) {
            let sql = format!(
                "INSERT INTO inv_supplier_items (id, company_id, supplier_id, item_id, supplier_sku, pack_unit, \
                 preferred, active, created_at, updated_at) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 10)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (r, _) in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&co.id)
                    .bind(&r.supplier_id)
                    .bind(&r.item_id)
                    .bind(r.supplier_sku.as_deref())
                    .bind(&r.pack_unit)
                    .bind(i64::from(r.preferred))
                    .bind(i64::from(r.active))
                    .bind(t)
                    .bind(t);
            }
            let res = q.execute(&mut *tx).await;
            boh_platform::error::unique_conflict(res, "pack_unit", || {
                "this item was added to the supplier concurrently; retry".to_string()
            })?;
        }
        for (r, _) in &updates {
            sqlx::query(
                "UPDATE inv_supplier_items SET supplier_sku = $1, preferred = $2, active = $3, updated_at = $4 \
                 WHERE id = $5",
            )
            .bind(r.supplier_sku.as_deref())
            .bind(i64::from(r.preferred))
            .bind(i64::from(r.active))
            .bind(t)
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
        }
        let mut changes: Vec<Change<'_>> = Vec::new();
        let views: Vec<(&'static str, SupplierItem)> = inserts
            .iter()
            .map(|(r, i)| {
                (
                    "inventory.supplier_item.create",
                    supplier_item_of(r, i, None),
                )
            })
            .chain(updates.iter().map(|(r, i)| {
                (
                    "inventory.supplier_item.update",
                    supplier_item_of(r, i, None),
                )
            }))
            .collect();
        for (action, v) in &views {
            changes.push(Change {
                action,
                entity_type: "inv_supplier_item",
                entity_id: &v.id,
                org_path: Some(&co_path),
                before: None,
                after: serde_json::to_value(v).ok(),
            });
        }
        audit::append_many(tx, ctx, &changes).await?;
        match report.items.first() {
            Some(it) if single => boh_platform::idem::record_created(tx, ctx, it).await?,
            _ => boh_platform::idem::record_created(tx, ctx, &report).await?,
        }
        Ok::<_, PlatformError>(())
    })?;
    Ok(report)
}

/// Add or update one item of a supplier (the API).
pub async fn save_supplier_item(
    p: &Platform,
    ctx: &Ctx,
    supplier_id: &str,
    input: SupplierItemInput,
) -> Result<SupplierItem> {
    let r = upsert_supplier_items(p, ctx, supplier_id, &[(String::new(), input)], false).await?;
    r.items.into_iter().next().ok_or(PlatformError::NotFound)
}

/// Resolve items by id or code where field errors carry a row prefix (`""` or `row 3`).
async fn resolve_items_prefixed(
    p: &Platform,
    company_id: &str,
    refs: &[(Option<String>, Option<String>, String)],
    errors: &mut Vec<FieldError>,
) -> Result<Vec<Option<Item>>> {
    // `ledger::resolve_items` names fields `{field}.item_id`; rows here are prefixes
    // (`row 3, item_id`), so map its field names back.
    let mut errs = Vec::new();
    let tagged: Vec<(Option<String>, Option<String>, String)> = refs
        .iter()
        .enumerate()
        .map(|(i, (a, b, _))| (a.clone(), b.clone(), format!("#{i}")))
        .collect();
    let out = crate::ledger::resolve_items(p, company_id, &tagged, &mut errs).await?;
    for e in errs {
        let (tag, name) = e.field.split_once('.').unwrap_or(("", e.field.as_str()));
        let prefix = tag
            .strip_prefix('#')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| refs.get(n))
            .map(|(_, _, pre)| pre.clone())
            .unwrap_or_default();
        let field = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}, {name}")
        };
        errors.push(FieldError::new(&field, e.message));
    }
    Ok(out)
}

// ---------------------------------------------------------------- prices

/// A price a supplier asks for an item in one pack unit from a date on. Never changed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Price {
    pub id: String,
    pub supplier_id: String,
    pub supplier_code: String,
    pub supplier_name_zh: String,
    pub supplier_name_en: String,
    pub supplier_item_id: String,
    pub item_id: String,
    pub pack_unit: String,
    /// Base units in the pack when the price was given.
    #[schema(value_type = String, example = "12")]
    pub pack_factor: Qty,
    /// Price of one pack unit, in minor units of `currency`.
    pub price_minor: i64,
    pub currency: String,
    /// The first day the price applies (`YYYY-MM-DD`).
    pub effective_from: String,
    /// The price per base unit of the item, in minor units × 10^6.
    pub unit_cost_e6: i64,
    pub preferred: bool,
    pub note: Option<String>,
    pub created_at: String,
    /// The user who recorded it.
    pub created_by: String,
}

/// A new price for an item of a supplier.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// The supplier item (an item in one pack unit) the price is for.
    pub supplier_item_id: String,
    /// Price of one pack unit in minor units (fen, cents), 1 or more.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub price_minor: i64,
    /// `YYYY-MM-DD`, default today. Earlier dates record a price that already applied; later
    /// ones (up to a year ahead) announce a change.
    #[serde(default)]
    pub effective_from: Option<String>,
    /// Free text up to 500 characters (quote number, reason).
    #[serde(default)]
    pub note: Option<String>,
}

const PRICE_SELECT: &str = "SELECT sp.id, sp.supplier_item_id, sp.price_minor, sp.currency, sp.effective_from, \
    sp.note, sp.created_at, sp.created_by, sp.pack_factor, si.supplier_id, si.item_id, si.pack_unit, si.preferred, \
    s.code AS supplier_code, s.name_zh AS supplier_name_zh, s.name_en AS supplier_name_en \
    FROM inv_supplier_prices sp JOIN inv_supplier_items si ON si.id = sp.supplier_item_id \
    JOIN inv_suppliers s ON s.id = si.supplier_id";

/// `sp` is the latest price of its supplier item on or before the date bound at `$n`.
fn in_force_sql(n: usize) -> String {
    format!(
        "sp.effective_from <= ${n} AND NOT EXISTS (SELECT 1 FROM inv_supplier_prices sp2 \
         WHERE sp2.supplier_item_id = sp.supplier_item_id AND sp2.effective_from <= ${n} \
         AND (sp2.effective_from > sp.effective_from OR (sp2.effective_from = sp.effective_from \
         AND (sp2.created_at > sp.created_at OR (sp2.created_at = sp.created_at AND sp2.id > sp.id)))))"
    )
}

/// Turn price rows into prices, converting with the pack size recorded on each (or, for old
/// rows without one, the item's current conversion).
async fn prices_from_rows(p: &Platform, rows: &[boh_db::AnyRow]) -> Result<Vec<Price>> {
    let mut need: Vec<String> = Vec::new();
    for r in rows {
        if r.try_get::<i64, _>("pack_factor")? <= 0 {
            need.push(r.try_get("item_id")?);
        }
    }
    need.sort();
    need.dedup();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &need)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let item_id: String = r.try_get("item_id")?;
        let pack_unit: String = r.try_get("pack_unit")?;
        let mut factor: i64 = r.try_get("pack_factor")?;
        if factor <= 0 {
            factor = items
                .get(&item_id)
                .and_then(|i| i.conversions().factor(&pack_unit))
                .unwrap_or(0);
        }
        let price_minor: i64 = r.try_get("price_minor")?;
        out.push(Price {
            id: r.try_get("id")?,
            supplier_id: r.try_get("supplier_id")?,
            supplier_code: r.try_get("supplier_code")?,
            supplier_name_zh: r.try_get("supplier_name_zh")?,
            supplier_name_en: r.try_get("supplier_name_en")?,
            supplier_item_id: r.try_get("supplier_item_id")?,
            item_id,
            pack_unit,
            pack_factor: Qty(factor),
            price_minor,
            currency: r.try_get("currency")?,
            effective_from: r.try_get("effective_from")?,
            unit_cost_e6: crate::ledger::unit_cost(price_minor, factor),
            preferred: r.try_get::<i64, _>("preferred")? != 0,
            note: r.try_get("note")?,
            created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
            created_by: r.try_get("created_by")?,
        });
    }
    Ok(out)
}

/// The price in force on `date` of each of these supplier items (those with one). Unscoped:
/// for callers that checked the supplier (invoice matching reads the list price of the
/// invoice date).
pub async fn prices_in_force_for(
    p: &Platform,
    supplier_item_ids: &[String],
    date: &str,
) -> Result<Vec<Price>> {
    let mut out = Vec::new();
    for chunk in supplier_item_ids.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "{PRICE_SELECT} WHERE sp.supplier_item_id IN ({}) AND {}",
            in_placeholders(chunk.len(), 2),
            in_force_sql(1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(date);
        for id in chunk {
            q = q.bind(id);
        }
        let rows = q.fetch_all(p.db.pool()).await?;
        out.extend(prices_from_rows(p, &rows).await?);
    }
    Ok(out)
}

/// Order candidate prices: preferred first, then the lowest cost per base unit, then supplier
/// code (so the choice is stable).
fn rank(prices: &mut [Price]) {
    prices.sort_by(|a, b| {
        b.preferred
            .cmp(&a.preferred)
            .then(a.unit_cost_e6.cmp(&b.unit_cost_e6))
            .then(a.supplier_code.cmp(&b.supplier_code))
            .then(a.pack_unit.cmp(&b.pack_unit))
    });
}

/// The prices in force on `date` for each item, from active items of open suppliers of the
/// company, best first (preferred, then cheapest per base unit). Unscoped: for costing inside
/// the crate and for callers that checked the company.
pub async fn prices_in_force(
    p: &Platform,
    company_id: &str,
    item_ids: &[String],
    date: &str,
) -> Result<HashMap<String, Vec<Price>>> {
    let mut out: HashMap<String, Vec<Price>> = HashMap::new();
    for chunk in item_ids.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "{PRICE_SELECT} WHERE si.company_id = $2 AND si.item_id IN ({}) AND si.active = 1 AND s.active = 1 AND {}",
            in_placeholders(chunk.len(), 3),
            in_force_sql(1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(date)
            .bind(company_id);
        for id in chunk {
            q = q.bind(id);
        }
        let rows = q.fetch_all(p.db.pool()).await?;
        for pr in prices_from_rows(p, &rows).await? {
            out.entry(pr.item_id.clone()).or_default().push(pr);
        }
    }
    for v in out.values_mut() {
        rank(v);
    }
    Ok(out)
}

/// The price of an item in force on a day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PriceInForce {
    pub item_id: String,
    pub base_unit: String,
    pub date: String,
    /// The best price: a preferred supplier's first, else the cheapest per base unit.
    pub price: Option<Price>,
    /// Every open supplier's price in force that day, best first.
    pub candidates: Vec<Price>,
}

/// The price in force for an item on `date` (default today in the company's time zone), from
/// one supplier or the best of all open ones.
pub async fn item_price(
    p: &Platform,
    actor: &Actor,
    item_id: &str,
    date: Option<&str>,
    supplier_id: Option<&str>,
) -> Result<PriceInForce> {
    let item = catalog::get_item(p, actor, item_id).await?;
    let co = company(p, actor, Some(&item.company_id)).await?;
    let date = match date.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => {
            let mut e = Vec::new();
            crate::validate_date(&mut e, "date", d);
            if !e.is_empty() {
                return Err(PlatformError::Validation(e));
            }
            d.to_string()
        }
        None => crate::today_in(&co.timezone).to_string(),
    };
    let supplier = match supplier_id.filter(|s| !s.is_empty()) {
        Some(sid) => {
            let s = match fetch_supplier(p, sid).await? {
                Some(s) if s.company_id == item.company_id => s,
                _ => return Err(PlatformError::invalid("supplier_id", "no such supplier")),
            };
            if !s.active {
                return Err(PlatformError::Refused {
                    code: "supplier_inactive",
                    message: format!("supplier {} is closed", s.code),
                    fields: vec![FieldError::new(
                        "supplier_id",
                        format!("supplier {} is closed", s.code),
                    )],
                });
            }
            Some(s)
        }
        None => None,
    };
    let mut all = prices_in_force(p, &co.id, std::slice::from_ref(&item.id), &date)
        .await?
        .remove(&item.id)
        .unwrap_or_default();
    if let Some(s) = &supplier {
        all.retain(|pr| pr.supplier_id == s.id);
    }
    Ok(PriceInForce {
        item_id: item.id,
        base_unit: item.base_unit,
        date,
        price: all.first().cloned(),
        candidates: all,
    })
}

/// Filters for a supplier's price history.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PriceFilter {
    /// Only this supplier item.
    pub supplier_item_id: Option<String>,
    /// Page size (1–500, default 50; others are clamped).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// A supplier's prices, newest effective date first (then newest recorded), with the total.
pub async fn list_prices(
    p: &Platform,
    actor: &Actor,
    supplier_id: &str,
    f: &PriceFilter,
) -> Result<(Vec<Price>, i64)> {
    let s = get_supplier(p, actor, supplier_id).await?;
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let si = f.supplier_item_id.clone().unwrap_or_default();
    let where_ = "si.supplier_id = $1 AND ($2 = '' OR sp.supplier_item_id = $2)";
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM inv_supplier_prices sp JOIN inv_supplier_items si ON si.id = sp.supplier_item_id \
         WHERE {where_}"
    )))
    .bind(&s.id)
    .bind(&si)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{PRICE_SELECT} WHERE {where_} ORDER BY sp.effective_from DESC, sp.created_at DESC, sp.id DESC \
         LIMIT {limit} OFFSET {offset}"
    )))
    .bind(&s.id)
    .bind(&si)
    .fetch_all(p.db.pool())
    .await?;
    Ok((prices_from_rows(p, &rows).await?, total))
}

/// Record prices for items of an open supplier, all or nothing: rows pair each input with the
/// prefix of its field errors. Prices are appended; earlier ones stay as they were.
pub async fn add_prices(
    p: &Platform,
    ctx: &Ctx,
    supplier_id: &str,
    rows: &[(String, PriceInput)],
) -> Result<Vec<Price>> {
    let (s, co) = open_supplier(p, ctx, supplier_id, "supplier_id").await?;
    let sis = supplier_item_rows(p, &s.id).await?;
    let ids: Vec<String> = sis.iter().map(|r| r.item_id.clone()).collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let today = crate::today_in(&co.timezone);
    let latest = today
        .checked_add(jiff::Span::new().days(366))
        .unwrap_or(today);
    let mut errors = Vec::new();
    let mut refused = Vec::new();
    let mut out: Vec<Price> = Vec::new();
    let t = now().micros();
    for (prefix, input) in rows {
        let f = |n: &str| format!("{prefix}{n}");
        let si = sis.iter().find(|r| r.id == input.supplier_item_id);
        let item = si.and_then(|r| items.get(&r.item_id));
        let (si, item) = match (si, item) {
            (Some(si), Some(item)) => (si, item),
            _ => {
                errors.push(FieldError::new(
                    &f("supplier_item_id"),
                    format!("no such item of supplier {}", s.code),
                ));
                continue;
            }
        };
        if !si.active {
            refused.push(FieldError::new(
                &f("supplier_item_id"),
                format!(
                    "{} in {} is no longer bought from {}",
                    item.code, si.pack_unit, s.code
                ),
            ));
        }
        if !(1..=MAX_MONEY).contains(&input.price_minor) {
            errors.push(FieldError::new(
                &f("price_minor"),
                "must be a positive amount in minor units up to 1000000000000",
            ));
        }
        let date = match input
            .effective_from
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(d) => {
                let before = errors.len();
                match crate::validate_date(&mut errors, &f("effective_from"), d) {
                    Some(x) if x < jiff::civil::date(2000, 1, 1) => {
                        errors.push(FieldError::new(
                            &f("effective_from"),
                            "must be in the year 2000 or later",
                        ));
                    }
                    Some(x) if x > latest => {
                        errors.push(FieldError::new(
                            &f("effective_from"),
                            "may be at most a year ahead",
                        ));
                    }
                    _ => {}
                }
                if errors.len() > before {
                    continue;
                }
                d.to_string()
            }
            None => today.to_string(),
        };
        let note = input
            .note
            .clone()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if note.as_deref().is_some_and(|n| n.chars().count() > 500) {
            errors.push(FieldError::new(
                &f("note"),
                "must be at most 500 characters",
            ));
        }
        let Some(factor) = item.conversions().factor(&si.pack_unit).filter(|f| *f > 0) else {
            errors.push(FieldError::new(
                &f("supplier_item_id"),
                format!(
                    "item {} no longer converts {} to {}",
                    item.code, si.pack_unit, item.base_unit
                ),
            ));
            continue;
        };
        out.push(Price {
            id: new_id(),
            supplier_id: s.id.clone(),
            supplier_code: s.code.clone(),
            supplier_name_zh: s.name_zh.clone(),
            supplier_name_en: s.name_en.clone(),
            supplier_item_id: si.id.clone(),
            item_id: item.id.clone(),
            pack_unit: si.pack_unit.clone(),
            pack_factor: Qty(factor),
            price_minor: input.price_minor,
            currency: s.currency.clone(),
            effective_from: date,
            unit_cost_e6: crate::ledger::unit_cost(input.price_minor, factor),
            preferred: si.preferred,
            note,
            created_at: boh_kernel::Instant(t).rfc3339(),
            created_by: ctx.actor.user_id.clone(),
        });
    }
    if !errors.is_empty() {
        errors.extend(refused);
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    if !refused.is_empty() {
        return Err(PlatformError::Refused {
            code: "supplier_item_inactive",
            message: "an item is no longer bought from this supplier; reactivate it first".into(),
            fields: refused,
        });
    }
    let single = rows.len() == 1;
    let co_path = co.path.clone();
    boh_platform::tx!(p.db, tx, {
        for chunk in out.chunks(300) {
            let sql = format!(
                "INSERT INTO inv_supplier_prices (id, supplier_item_id, price_minor, currency, effective_from, note, \
                 created_at, created_by, pack_factor) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for pr in chunk {
                q = q
                    .bind(&pr.id)
                    .bind(&pr.supplier_item_id)
                    .bind(pr.price_minor)
                    .bind(&pr.currency)
                    .bind(&pr.effective_from)
                    .bind(pr.note.as_deref())
                    .bind(t)
                    .bind(&pr.created_by)
                    .bind(pr.pack_factor.micros());
            }
            q.execute(&mut *tx).await?;
        }
        let changes: Vec<Change<'_>> = out
            .iter()
            .map(|pr| Change {
                action: "inventory.supplier_price.add",
                entity_type: "inv_supplier_price",
                entity_id: &pr.id,
                org_path: Some(&co_path),
                before: None,
                after: serde_json::to_value(pr).ok(),
            })
            .collect();
        audit::append_many(tx, ctx, &changes).await?;
        events::emit(
            tx,
            "inventory.prices.added",
            Some(&co_path),
            &json!({
                "company_id": co.id,
                "supplier_id": s.id,
                "prices": out.iter().map(|pr| json!({
                    "id": pr.id, "item_id": pr.item_id, "pack_unit": pr.pack_unit,
                    "price_minor": pr.price_minor, "currency": pr.currency,
                    "effective_from": pr.effective_from,
                })).collect::<Vec<_>>(),
            }),
        )
        .await?;
        match out.first() {
            Some(pr) if single => boh_platform::idem::record_created(tx, ctx, pr).await?,
            _ => boh_platform::idem::record_created(tx, ctx, &out).await?,
        }
        Ok::<_, PlatformError>(())
    })?;
    Ok(out)
}

/// Record one price (the API and the supplier page).
pub async fn add_price(
    p: &Platform,
    ctx: &Ctx,
    supplier_id: &str,
    input: PriceInput,
) -> Result<Price> {
    add_prices(p, ctx, supplier_id, &[(String::new(), input)])
        .await?
        .into_iter()
        .next()
        .ok_or(PlatformError::NotFound)
}

/// Price per base unit (minor units × 10^6) of `price_minor` for a pack of `pack_factor` micro
/// base units.
pub fn per_base_unit(price_minor: i64, pack_factor: i64) -> i64 {
    crate::ledger::unit_cost(price_minor, pack_factor)
}

/// A cost in minor units × 10^6 (per base unit) as major units with 2 to 4 decimals, for
/// display: `1_000_000_000` → `10.00`, `333_333_333` → `3.3333`.
pub fn cost_e6_text(cost_e6: i64) -> String {
    // minor × 10^6 = major × 10^8; keep 4 decimals of the major unit.
    let v = boh_kernel::qty::mul_div_round(cost_e6, 1, 10_000).unwrap_or(0);
    let s = boh_kernel::qty::format_scaled(v, 4);
    match s.split_once('.') {
        Some((i, f)) if f.len() < 2 => format!("{i}.{f:0<2}"),
        Some(_) => s,
        None => format!("{s}.00"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boh_kernel::qty::MICRO;

    #[test]
    fn per_base_unit_is_exact_to_the_micro_minor() {
        // 120.00 per case of 12 kg = 10.00 per kg = 1000 minor = 1000 × 10^6.
        assert_eq!(per_base_unit(12_000, 12 * MICRO), 1_000 * MICRO);
        // 10.00 per 3 kg bag = 3.333… per kg.
        assert_eq!(per_base_unit(1_000, 3 * MICRO), 333_333_333);
        assert_eq!(cost_e6_text(1_000 * MICRO), "10.00");
        assert_eq!(cost_e6_text(333_333_333), "3.3333");
        assert_eq!(cost_e6_text(5 * MICRO / 10), "0.005");
    }

    #[test]
    fn ranking_prefers_preferred_then_cheapest() {
        let base = Price {
            id: "a".into(),
            supplier_id: "s".into(),
            supplier_code: "B".into(),
            supplier_name_zh: String::new(),
            supplier_name_en: String::new(),
            supplier_item_id: "si".into(),
            item_id: "i".into(),
            pack_unit: "kg".into(),
            pack_factor: Qty(MICRO),
            price_minor: 100,
            currency: "CNY".into(),
            effective_from: "2026-01-01".into(),
            unit_cost_e6: 100 * MICRO,
            preferred: false,
            note: None,
            created_at: String::new(),
            created_by: String::new(),
        };
        let cheap = Price {
            supplier_code: "C".into(),
            unit_cost_e6: 90 * MICRO,
            ..base.clone()
        };
        let preferred = Price {
            supplier_code: "A".into(),
            unit_cost_e6: 120 * MICRO,
            preferred: true,
            ..base.clone()
        };
        let mut v = vec![base.clone(), cheap.clone(), preferred.clone()];
        rank(&mut v);
        assert_eq!(
            v.iter()
                .map(|p| p.supplier_code.as_str())
                .collect::<Vec<_>>(),
            vec!["A", "C", "B"]
        );
    }
}
