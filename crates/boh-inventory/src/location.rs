//! Settings of a stock location: its negative-stock policy, its storage areas (walk-in,
//! freezer, dry store, bar …, the order a count walks), and per item whether it is stocked
//! there, where it is kept and its par, minimum and maximum levels. Plus the company's period
//! lock (postings on or before the locked date are refused).

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::util::required_text;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::in_placeholders;

pub const POLICIES: &[&str] = &["forbid", "allow"];

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LocationSettings {
    pub location_id: String,
    /// `forbid`: a posting that would take on-hand below zero is refused; `allow`: it is
    /// posted and flagged.
    pub negative_policy: String,
}

pub async fn get_settings(
    p: &Platform,
    actor: &Actor,
    location_id: &str,
) -> Result<LocationSettings> {
    let loc = crate::location(p, actor, perm::INVENTORY_READ, location_id).await?;
    let row =
        sqlx::query("SELECT negative_policy FROM inv_location_settings WHERE location_id = $1")
            .bind(&loc.id)
            .fetch_optional(p.db.pool())
            .await?;
    Ok(LocationSettings {
        location_id: loc.id,
        negative_policy: match row {
            Some(r) => r.try_get("negative_policy")?,
            None => "forbid".into(),
        },
    })
}

/// The negative-stock policy of every location the actor may read that has one set (the
/// others forbid), in one query.
pub async fn negative_policies(p: &Platform, actor: &Actor) -> Result<HashMap<String, String>> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT s.location_id, s.negative_policy FROM inv_location_settings s \
         JOIN org_nodes n ON n.id = s.location_id WHERE {}",
        scope.sql("n.path")
    )))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("location_id")?, r.try_get("negative_policy")?)))
        .collect()
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// forbid or allow
    pub negative_policy: String,
}

pub async fn set_settings(
    p: &Platform,
    ctx: &Ctx,
    location_id: &str,
    input: SettingsInput,
) -> Result<LocationSettings> {
    let loc = crate::location(p, &ctx.actor, perm::INVENTORY_LOCATION, location_id).await?;
    if !POLICIES.contains(&input.negative_policy.as_str()) {
        return Err(PlatformError::invalid(
            "negative_policy",
            "must be forbid or allow",
        ));
    }
    let before = get_settings(p, &ctx.actor, location_id).await?;
    let after = LocationSettings {
        location_id: loc.id.clone(),
        negative_policy: input.negative_policy,
    };
    if before == after {
        return Ok(after);
    }
    boh_platform::tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO inv_location_settings (location_id, location_path, negative_policy, updated_at) \
             VALUES ($1,$2,$3,$4) ON CONFLICT (location_id) DO UPDATE SET negative_policy = excluded.negative_policy, \
             updated_at = excluded.updated_at",
        )
        .bind(&loc.id)
        .bind(&loc.path)
        .bind(&after.negative_policy)
        .bind(now().micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.location.settings",
                entity_type: "org_node",
                entity_id: &loc.id,
                org_path: Some(&loc.path),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(after)
}

// ---------------------------------------------------------------- storage areas

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct StorageArea {
    pub id: String,
    pub location_id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub sort: i64,
}

impl StorageArea {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

fn area_from_row(r: &boh_db::AnyRow) -> Result<StorageArea> {
    Ok(StorageArea {
        id: r.try_get("id")?,
        location_id: r.try_get("location_id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        sort: r.try_get("sort")?,
    })
}

pub async fn list_areas(
    p: &Platform,
    actor: &Actor,
    location_id: &str,
) -> Result<Vec<StorageArea>> {
    let loc = crate::location(p, actor, perm::INVENTORY_READ, location_id).await?;
    sqlx::query(
        "SELECT id, location_id, code, name_zh, name_en, sort FROM inv_storage_areas WHERE location_id = $1 \
         ORDER BY sort, code",
    )
    .bind(&loc.id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(area_from_row)
    .collect()
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaInput {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Walking order in a count.
    #[serde(default)]
    pub sort: Option<i64>,
}

/// Create a storage area, or rename / reorder the one with the same code.
pub async fn upsert_area(
    p: &Platform,
    ctx: &Ctx,
    location_id: &str,
    input: AreaInput,
) -> Result<StorageArea> {
    let loc = crate::location(p, &ctx.actor, perm::INVENTORY_LOCATION, location_id).await?;
    let mut errors = Vec::new();
    let code = crate::validate_code(&mut errors, "code", &input.code);
    let fallback = input.name.clone().unwrap_or_default();
    let name_en = required_text(
        &mut errors,
        "name_en",
        input.name_en.as_deref().unwrap_or(&fallback),
        100,
    );
    let name_zh = required_text(
        &mut errors,
        "name_zh",
        input.name_zh.as_deref().unwrap_or(&name_en),
        100,
    );
    if let Some(s) = input.sort
        && !(0..=10_000).contains(&s)
    {
        errors.push(FieldError::new("sort", "must be between 0 and 10000"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let existing = list_areas(p, &ctx.actor, &loc.id).await?;
    let cur = existing.iter().find(|a| a.code == code);
    let area = StorageArea {
        id: cur.map(|a| a.id.clone()).unwrap_or_else(new_id),
        location_id: loc.id.clone(),
        code,
        name_zh,
        name_en,
        sort: input
            .sort
            .or(cur.map(|a| a.sort))
            .unwrap_or(existing.len() as i64 * 10),
    };
    if cur == Some(&area) {
        return Ok(area);
    }
    boh_platform::tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO inv_storage_areas (id, location_id, location_path, code, name_zh, name_en, sort, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, \
             name_en = excluded.name_en, sort = excluded.sort",
        )
        .bind(&area.id)
        .bind(&loc.id)
        .bind(&loc.path)
        .bind(&area.code)
        .bind(&area.name_zh)
        .bind(&area.name_en)
        .bind(area.sort)
        .bind(now().micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.storage_area.save",
                entity_type: "inv_storage_area",
                entity_id: &area.id,
                org_path: Some(&loc.path),
                before: cur.and_then(|c| serde_json::to_value(c).ok()),
                after: serde_json::to_value(&area).ok(),
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &area).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(area)
}

// ---------------------------------------------------------------- item settings per location

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ItemLocation {
    pub location_id: String,
    pub item_id: String,
    pub stocked: bool,
    pub storage_area_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub par_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub min_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub max_qty: Option<Qty>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemLocationInput {
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub item_code: Option<String>,
    /// Default true.
    #[serde(default)]
    pub stocked: Option<bool>,
    /// The storage area by id …
    #[serde(default)]
    pub storage_area_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub storage_area_code: Option<String>,
    /// Levels in the item's base unit.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub par_qty: Option<Qty>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub min_qty: Option<Qty>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub max_qty: Option<Qty>,
}

fn item_location_from_row(r: &boh_db::AnyRow) -> Result<ItemLocation> {
    Ok(ItemLocation {
        location_id: r.try_get("location_id")?,
        item_id: r.try_get("item_id")?,
        stocked: r.try_get::<i64, _>("stocked")? != 0,
        storage_area_id: r.try_get("storage_area_id")?,
        par_qty: r.try_get::<Option<i64>, _>("par_qty")?.map(Qty),
        min_qty: r.try_get::<Option<i64>, _>("min_qty")?.map(Qty),
        max_qty: r.try_get::<Option<i64>, _>("max_qty")?.map(Qty),
    })
}

/// The item settings of a location (every item configured there).
pub async fn list_item_locations(
    p: &Platform,
    actor: &Actor,
    location_id: &str,
) -> Result<Vec<ItemLocation>> {
    let loc = crate::location(p, actor, perm::INVENTORY_READ, location_id).await?;
    sqlx::query(
        "SELECT location_id, item_id, stocked, storage_area_id, par_qty, min_qty, max_qty \
         FROM inv_item_locations WHERE location_id = $1 ORDER BY item_id",
    )
    .bind(&loc.id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(item_location_from_row)
    .collect()
}

/// Set item levels at a location (many at once: an order guide or a par sheet). All rows are
/// validated before anything is written.
pub async fn set_item_locations(
    p: &Platform,
    ctx: &Ctx,
    location_id: &str,
    rows: Vec<ItemLocationInput>,
) -> Result<Vec<ItemLocation>> {
    let loc = crate::location(p, &ctx.actor, perm::INVENTORY_LOCATION, location_id).await?;
    let mut errors = Vec::new();
    if rows.is_empty() || rows.len() > 10_000 {
        errors.push(FieldError::new("items", "must list 1 to 10000 items"));
    }
    let refs: Vec<(Option<String>, Option<String>, String)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                r.item_id.clone().filter(|s| !s.is_empty()),
                r.item_code.clone().filter(|s| !s.is_empty()),
                format!("items[{i}]"),
            )
        })
        .collect();
    let items = crate::ledger::resolve_items(p, &loc.company_id, &refs, &mut errors).await?;
    let areas = list_areas(p, &ctx.actor, &loc.id).await?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (r, item)) in rows.iter().zip(items).enumerate() {
        let f = |n: &str| format!("items[{i}].{n}");
        let Some(item) = item else { continue };
        if !seen.insert(item.id.clone()) {
            errors.push(FieldError::new(&f("item_id"), "item is listed twice"));
            continue;
        }
        let area = match (
            r.storage_area_id.as_deref().filter(|s| !s.is_empty()),
            r.storage_area_code.as_deref().filter(|s| !s.is_empty()),
        ) {
            (Some(id), _) => match areas.iter().find(|a| a.id == id) {
                Some(a) => Some(a.id.clone()),
                None => {
                    errors.push(FieldError::new(
                        &f("storage_area_id"),
                        "no such storage area here",
                    ));
                    None
                }
            },
            (None, Some(code)) => match areas.iter().find(|a| a.code == code) {
                Some(a) => Some(a.id.clone()),
                None => {
                    errors.push(FieldError::new(
                        &f("storage_area_code"),
                        format!("no storage area {code} here"),
                    ));
                    None
                }
            },
            _ => None,
        };
        for (n, v) in [
            ("par_qty", r.par_qty),
            ("min_qty", r.min_qty),
            ("max_qty", r.max_qty),
        ] {
            if v.is_some_and(|q| q.is_negative()) {
                errors.push(FieldError::new(&f(n), "must not be negative"));
            }
        }
        if let (Some(mn), Some(mx)) = (r.min_qty, r.max_qty)
            && mn > mx
        {
            errors.push(FieldError::new(&f("min_qty"), "must not exceed max_qty"));
        }
        out.push(ItemLocation {
            location_id: loc.id.clone(),
            item_id: item.id.clone(),
            stocked: r.stocked.unwrap_or(true),
            storage_area_id: area,
            par_qty: r.par_qty,
            min_qty: r.min_qty,
            max_qty: r.max_qty,
        });
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let t = now().micros();
    boh_platform::tx!(p.db, tx, {
        for chunk in out.chunks(400) {
            let sql = format!(
                "INSERT INTO inv_item_locations (location_id, item_id, location_path, storage_area_id, stocked, \
                 par_qty, min_qty, max_qty, updated_at) VALUES {} ON CONFLICT (location_id, item_id) DO UPDATE SET \
                 storage_area_id = excluded.storage_area_id, stocked = excluded.stocked, par_qty = excluded.par_qty, \
                 min_qty = excluded.min_qty, max_qty = excluded.max_qty, updated_at = excluded.updated_at",
                boh_platform::util::values_list(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
            for il in chunk {
                q = q
                    .bind(&il.location_id)
                    .bind(&il.item_id)
                    .bind(&loc.path)
                    .bind(il.storage_area_id.as_deref())
                    .bind(i64::from(il.stocked))
                    .bind(il.par_qty.map(|q| q.micros()))
                    .bind(il.min_qty.map(|q| q.micros()))
                    .bind(il.max_qty.map(|q| q.micros()))
                    .bind(t);
            }
            q.execute(&mut *tx).await?;
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.location.items",
                entity_type: "org_node",
                entity_id: &loc.id,
                org_path: Some(&loc.path),
                before: None,
                after: Some(json!({ "items": out.len() })),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(out)
}

/// Item settings of one location for some items, unscoped (callers checked the location).
pub async fn item_locations_for(
    p: &Platform,
    location_id: &str,
    item_ids: &[String],
) -> Result<HashMap<String, ItemLocation>> {
    let mut out = HashMap::new();
    for chunk in item_ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT location_id, item_id, stocked, storage_area_id, par_qty, min_qty, max_qty \
             FROM inv_item_locations WHERE location_id = $1 AND item_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(location_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let il = item_location_from_row(&r)?;
            out.insert(il.item_id.clone(), il);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- period lock

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeriodLock {
    pub company_id: String,
    /// Postings dated on or before this day are refused; `null` when nothing is locked.
    pub locked_through: Option<String>,
}

pub async fn get_period_lock(
    p: &Platform,
    actor: &Actor,
    company_id: Option<&str>,
) -> Result<PeriodLock> {
    let co = crate::company(p, actor, company_id).await?;
    let row = sqlx::query("SELECT locked_through FROM inv_period_locks WHERE company_id = $1")
        .bind(&co.id)
        .fetch_optional(p.db.pool())
        .await?;
    Ok(PeriodLock {
        company_id: co.id,
        locked_through: row.map(|r| r.try_get("locked_through")).transpose()?,
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodLockInput {
    #[serde(default)]
    pub company_id: Option<String>,
    /// `YYYY-MM-DD`; may only move forward.
    pub locked_through: String,
}

/// Lock the inventory period through a date (company-wide). Locks only move forward.
pub async fn lock_period(p: &Platform, ctx: &Ctx, input: PeriodLockInput) -> Result<PeriodLock> {
    let co = crate::company(p, &ctx.actor, input.company_id.as_deref()).await?;
    if !ctx.actor.allows(perm::INVENTORY_PERIOD, &co.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_PERIOD));
    }
    let mut errors = Vec::new();
    let Some(d) = crate::validate_date(&mut errors, "locked_through", &input.locked_through) else {
        return Err(PlatformError::Validation(errors));
    };
    if d >= crate::today_in(&co.timezone) {
        return Err(PlatformError::invalid(
            "locked_through",
            "must be before today",
        ));
    }
    let before = get_period_lock(p, &ctx.actor, Some(&co.id)).await?;
    let date = d.to_string();
    if before
        .locked_through
        .as_deref()
        .is_some_and(|b| b > date.as_str())
    {
        return Err(PlatformError::refused(
            "period_lock_backwards",
            format!(
                "the period is locked through {}; a lock cannot move back",
                before.locked_through.unwrap_or_default()
            ),
        ));
    }
    boh_platform::tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO inv_period_locks (company_id, locked_through, updated_at, updated_by) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (company_id) DO UPDATE SET locked_through = excluded.locked_through, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(&co.id)
        .bind(&date)
        .bind(now().micros())
        .bind(&ctx.actor.user_id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.period.lock",
                entity_type: "org_node",
                entity_id: &co.id,
                org_path: Some(&co.path),
                before: Some(json!({ "locked_through": before.locked_through })),
                after: Some(json!({ "locked_through": date })),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(PeriodLock {
        company_id: co.id,
        locked_through: Some(date),
    })
}
