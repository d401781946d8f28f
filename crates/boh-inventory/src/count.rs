//! Stock counts: full or cycle counts of one location, optionally limited to storage areas
//! and (cycle counts) to a list of items.
//!
//! - **Start** takes a snapshot, in the write transaction, of the expected on-hand of every
//!   item (and lot) in scope: the line's `expected_qty`. Lines are grouped by storage area in
//!   walking order (area `sort`, then item code).
//! - **Entries** are added by any number of counters, many times (`add` adds to the line,
//!   `set` replaces what was counted), in the base unit or one of the item's units; each entry
//!   is kept. A full count may add items or lots found that were not expected.
//! - **Submit** checks the whole count at once (every uncounted line is named, unless
//!   `uncounted_as_zero`) and freezes it for review.
//! - **Post** creates one `count` document with an adjustment movement for every difference.
//!   The variance of a line is `counted − (snapshot + movements posted since the snapshot)`.
//!   Because on-hand always equals the sum of its movements ([`crate::ledger::check`]),
//!   `snapshot + movements since` is the on-hand at posting, which is read under the same
//!   valuation-row locks the posting takes, so no movement can slip in between. Values are at
//!   the moving-average cost at posting (increases at the current cost).
//! - **Blind** counts hide expected quantities, movements since the snapshot and variances
//!   while the count is open; afterwards they are shown to whoever may read stock
//!   (`inventory.read`) at the location, never to counters without it.

use std::collections::{BTreeMap, HashMap};

use boh_db::Row;
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{self, Item};
use crate::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec, unit_cost, value_at};
use crate::{QtyText, in_placeholders};

/// States of a count.
pub const STATUSES: &[&str] = &["open", "submitted", "posted", "cancelled"];

/// A count.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub id: String,
    pub company_id: String,
    pub number: String,
    pub location_id: String,
    pub location_code: String,
    /// full or cycle
    pub kind: String,
    pub blind: bool,
    /// open, submitted, posted or cancelled
    pub status: String,
    pub business_date: String,
    pub note: Option<String>,
    /// The storage areas counted (empty: the whole location).
    pub storage_area_ids: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub snapshot_at: String,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<String>,
    pub posted_by: Option<String>,
    pub posted_at: Option<String>,
    /// The `count` document posted.
    pub doc_id: Option<String>,
    pub version: i64,
    pub line_count: i64,
    pub counted_lines: i64,
    /// Whether expected quantities and variances are shown to this caller.
    pub expected_visible: bool,
    /// Net variance value in minor units (when visible).
    pub variance_value: Option<i64>,
    pub lines: Vec<CountLine>,
}

/// A line of a count: one item (and lot) at the location.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountLine {
    /// Position in walking order (the index `lines[i]` in error messages).
    pub index: i64,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    /// Units the count may be entered in (the base unit first).
    pub units: Vec<String>,
    /// `""` for items without lots.
    pub lot_id: String,
    pub lot_code: Option<String>,
    pub storage_area_id: Option<String>,
    pub storage_area_code: Option<String>,
    pub storage_area_name_zh: Option<String>,
    pub storage_area_name_en: Option<String>,
    /// The on-hand in the snapshot (hidden in blind counts).
    #[schema(value_type = Option<String>)]
    pub expected_qty: Option<Qty>,
    /// Movements posted since the snapshot (hidden in blind counts).
    #[schema(value_type = Option<String>)]
    pub moved_since: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub counted_qty: Option<Qty>,
    /// counted − (expected + moved since) (hidden in blind counts).
    #[schema(value_type = Option<String>)]
    pub variance_qty: Option<Qty>,
    /// Variance value in minor units at the moving-average cost.
    pub variance_value: Option<i64>,
    pub entries: i64,
    pub counted_by: Option<String>,
}

/// Starting a count.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountInput {
    pub location_id: String,
    /// `full` (default) or `cycle`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only items kept in these storage areas of the location.
    #[serde(default)]
    pub storage_area_ids: Vec<String>,
    /// Cycle counts: only these items (by id).
    #[serde(default)]
    pub item_ids: Vec<String>,
    /// Cycle counts: only these items (by code).
    #[serde(default)]
    pub item_codes: Vec<String>,
    /// Hide expected quantities from the counters.
    #[serde(default)]
    pub blind: bool,
    /// `YYYY-MM-DD` the adjustments are posted on; default today at the location.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One counted quantity.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub item_code: Option<String>,
    /// The lot (lot-tracked items): needed unless the count has one line of the item.
    #[serde(default)]
    pub lot_code: Option<String>,
    /// Quantity counted, not negative.
    #[schema(value_type = String, example = "3")]
    pub qty: QtyText,
    /// Unit of `qty` (the base unit or one of the item's units); default the base unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// `add` (default) adds to what was counted; `set` replaces it (a recount).
    #[serde(default)]
    pub mode: Option<String>,
}

/// A batch of entries.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntriesInput {
    pub entries: Vec<EntryInput>,
}

/// Submitting a count for review.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitInput {
    /// Take lines nobody counted as counted zero (otherwise each is an error).
    #[serde(default)]
    pub uncounted_as_zero: bool,
}

/// Filters for the count list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CountFilter {
    pub location_id: Option<String>,
    /// open, submitted, posted or cancelled
    pub status: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

struct Head {
    count: Count,
    path: String,
}

const COLS: &str = "c.id, c.company_id, c.number, c.location_id, c.location_path, c.kind, c.blind, c.status, \
    c.business_date, c.note, c.area_ids, c.created_by, c.created_at, c.snapshot_at, c.submitted_by, c.submitted_at, \
    c.posted_by, c.posted_at, c.doc_id, c.version, n.code AS location_code, \
    (SELECT COUNT(*) FROM inv_count_lines l WHERE l.count_id = c.id) AS line_count, \
    (SELECT COUNT(*) FROM inv_count_lines l WHERE l.count_id = c.id AND l.counted_qty IS NOT NULL) AS counted_lines";

fn instant(v: Option<i64>) -> Option<String> {
    v.map(|t| boh_kernel::Instant(t).rfc3339())
}

fn head_from_row(r: &boh_db::AnyRow) -> Result<Head> {
    let areas: Option<String> = r.try_get("area_ids")?;
    let created_at: i64 = r.try_get("created_at")?;
    Ok(Head {
        path: r.try_get("location_path")?,
        count: Count {
            id: r.try_get("id")?,
            company_id: r.try_get("company_id")?,
            number: r.try_get("number")?,
            location_id: r.try_get("location_id")?,
            location_code: r.try_get("location_code")?,
            kind: r.try_get("kind")?,
            blind: r.try_get::<i64, _>("blind")? != 0,
            status: r.try_get("status")?,
            business_date: r.try_get("business_date")?,
            note: r.try_get("note")?,
            storage_area_ids: areas
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            created_by: r.try_get("created_by")?,
            created_at: boh_kernel::Instant(created_at).rfc3339(),
            snapshot_at: boh_kernel::Instant(
                r.try_get::<Option<i64>, _>("snapshot_at")?
                    .unwrap_or(created_at),
            )
            .rfc3339(),
            submitted_by: r.try_get("submitted_by")?,
            submitted_at: instant(r.try_get("submitted_at")?),
            posted_by: r.try_get("posted_by")?,
            posted_at: instant(r.try_get("posted_at")?),
            doc_id: r.try_get("doc_id")?,
            version: r.try_get("version")?,
            line_count: r.try_get("line_count")?,
            counted_lines: r.try_get("counted_lines")?,
            expected_visible: false,
            variance_value: None,
            lines: Vec::new(),
        },
    })
}

/// Whether this actor sees expected quantities of this count.
fn expected_visible(actor: &Actor, c: &Count, path: &str) -> bool {
    actor.allows(perm::INVENTORY_READ, path) && !(c.blind && c.status == "open")
}

fn readable(actor: &Actor, path: &str) -> bool {
    actor.allows(perm::INVENTORY_READ, path) || actor.allows(perm::INVENTORY_COUNT, path)
}

async fn head(p: &Platform, actor: &Actor, id: &str) -> Result<Head> {
    let mut conn = p.db.pool().acquire().await?;
    head_in(&mut conn, actor, id).await
}

async fn head_in(conn: &mut sqlx::AnyConnection, actor: &Actor, id: &str) -> Result<Head> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM inv_counts c JOIN org_nodes n ON n.id = c.location_id WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(PlatformError::NotFound)?;
    let h = head_from_row(&r)?;
    if !readable(actor, &h.path) {
        return Err(PlatformError::NotFound);
    }
    Ok(h)
}

/// Internal line state.
#[derive(Debug, Clone)]
struct LineRow {
    item_id: String,
    lot_id: String,
    expected: i64,
    counted: Option<i64>,
    area_id: Option<String>,
    entries: i64,
    counted_by: Option<String>,
    onhand_at_post: Option<i64>,
    variance_qty: Option<i64>,
    variance_value: Option<i64>,
}

async fn line_rows(conn: &mut sqlx::AnyConnection, count_id: &str) -> Result<Vec<LineRow>> {
    let rows = sqlx::query(
        "SELECT item_id, lot_id, expected_qty, counted_qty, storage_area_id, entries, counted_by, \
         onhand_at_post, variance_qty, variance_value FROM inv_count_lines WHERE count_id = $1",
    )
    .bind(count_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LineRow {
                item_id: r.try_get("item_id")?,
                lot_id: r.try_get("lot_id")?,
                expected: r.try_get("expected_qty")?,
                counted: r.try_get("counted_qty")?,
                area_id: r.try_get("storage_area_id")?,
                entries: r.try_get("entries")?,
                counted_by: r.try_get("counted_by")?,
                onhand_at_post: r.try_get("onhand_at_post")?,
                variance_qty: r.try_get("variance_qty")?,
                variance_value: r.try_get("variance_value")?,
            })
        })
        .collect()
}

/// Current on-hand per (item, lot) and moving-average cost per item at a location.
async fn current_stock(
    conn: &mut sqlx::AnyConnection,
    location_id: &str,
    item_ids: &[String],
) -> Result<(HashMap<(String, String), i64>, HashMap<String, i64>)> {
    let mut onhand = HashMap::new();
    let mut cost = HashMap::new();
    for chunk in item_ids.chunks(500) {
        let sql = format!(
            "SELECT item_id, lot_id, qty FROM inv_stock WHERE location_id = $1 AND item_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(location_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            onhand.insert(
                (r.try_get("item_id")?, r.try_get("lot_id")?),
                r.try_get("qty")?,
            );
        }
        let sql = format!(
            "SELECT item_id, qty, value, last_unit_cost FROM inv_valuation WHERE location_id = $1 AND item_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(location_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let qty: i64 = r.try_get("qty")?;
            let value: i64 = r.try_get("value")?;
            let c = if qty > 0 {
                unit_cost(value, qty)
            } else {
                r.try_get("last_unit_cost")?
            };
            cost.insert(r.try_get("item_id")?, c);
        }
    }
    Ok((onhand, cost))
}

struct AreaInfo {
    code: String,
    name_zh: String,
    name_en: String,
    sort: i64,
}

async fn areas_of(p: &Platform, location_id: &str) -> Result<HashMap<String, AreaInfo>> {
    let rows = sqlx::query(
        "SELECT id, code, name_zh, name_en, sort FROM inv_storage_areas WHERE location_id = $1",
    )
    .bind(location_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                AreaInfo {
                    code: r.try_get("code")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                    sort: r.try_get("sort")?,
                },
            ))
        })
        .collect()
}

/// Lines in walking order: area sort and code (lines without an area last), item code, lot.
fn walking_order(
    lines: &mut [LineRow],
    items: &HashMap<String, Item>,
    areas: &HashMap<String, AreaInfo>,
    lots: &HashMap<String, String>,
) {
    lines.sort_by_cached_key(|l| {
        let area = l.area_id.as_ref().and_then(|a| areas.get(a));
        (
            area.is_none(),
            area.map(|a| a.sort).unwrap_or(0),
            area.map(|a| a.code.clone()).unwrap_or_default(),
            items
                .get(&l.item_id)
                .map(|i| i.code.clone())
                .unwrap_or_default(),
            lots.get(&l.lot_id).cloned().unwrap_or_default(),
        )
    });
}

/// One count with its lines in walking order; expected quantities and variances only where
/// the caller may see them.
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Count> {
    let mut conn = p.db.pool().acquire().await?;
    get_in(p, &mut conn, actor, id).await
}

/// [`get`] on a given connection (inside a transaction: what it wrote so far).
async fn get_in(
    p: &Platform,
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<Count> {
    let h = head_in(conn, actor, id).await?;
    let mut c = h.count;
    let mut rows = line_rows(conn, &c.id).await?;
    let ids: Vec<String> = {
        let mut v: Vec<String> = rows.iter().map(|l| l.item_id.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let areas = areas_of(p, &c.location_id).await?;
    let lot_ids: Vec<String> = rows
        .iter()
        .filter(|l| !l.lot_id.is_empty())
        .map(|l| l.lot_id.clone())
        .collect();
    let lots = ledger::lot_codes(p, &lot_ids).await?;
    walking_order(&mut rows, &items, &areas, &lots);
    c.expected_visible = expected_visible(actor, &c, &h.path);
    let live = matches!(c.status.as_str(), "open" | "submitted");
    let (onhand, cost) = if c.expected_visible && live {
        current_stock(conn, &c.location_id, &ids).await?
    } else {
        Default::default()
    };
    let mut total = 0i64;
    for (i, l) in rows.iter().enumerate() {
        let item = items.get(&l.item_id);
        let area = l.area_id.as_ref().and_then(|a| areas.get(a));
        let (moved, var_q, var_v) = if !c.expected_visible {
            (None, None, None)
        } else if live {
            let now_q = onhand
                .get(&(l.item_id.clone(), l.lot_id.clone()))
                .copied()
                .unwrap_or(0);
            let var = l.counted.map(|q| q - now_q);
            let v = var.map(|q| value_at(q, cost.get(&l.item_id).copied().unwrap_or(0)));
            (Some(now_q - l.expected), var, v)
        } else {
            (
                l.onhand_at_post.map(|q| q - l.expected),
                l.variance_qty,
                l.variance_value,
            )
        };
        total += var_v.unwrap_or(0);
        c.lines.push(CountLine {
            index: i as i64,
            item_id: l.item_id.clone(),
            item_code: item.map(|i| i.code.clone()).unwrap_or_default(),
            item_name_zh: item.map(|i| i.name_zh.clone()).unwrap_or_default(),
            item_name_en: item.map(|i| i.name_en.clone()).unwrap_or_default(),
            base_unit: item.map(|i| i.base_unit.clone()).unwrap_or_default(),
            units: item
                .map(|i| {
                    std::iter::once(i.base_unit.clone())
                        .chain(i.units.iter().map(|u| u.unit.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            lot_id: l.lot_id.clone(),
            lot_code: lots.get(&l.lot_id).cloned(),
            storage_area_id: l.area_id.clone(),
            storage_area_code: area.map(|a| a.code.clone()),
            storage_area_name_zh: area.map(|a| a.name_zh.clone()),
            storage_area_name_en: area.map(|a| a.name_en.clone()),
            expected_qty: c.expected_visible.then_some(Qty(l.expected)),
            moved_since: moved.map(Qty),
            counted_qty: l.counted.map(Qty),
            variance_qty: var_q.map(Qty),
            variance_value: var_v,
            entries: l.entries,
            counted_by: l.counted_by.clone(),
        });
    }
    if c.expected_visible && c.status != "cancelled" {
        c.variance_value = Some(total);
    }
    Ok(c)
}

/// Counts the actor may see, newest first (without lines).
pub async fn list(p: &Platform, actor: &Actor, f: &CountFilter) -> Result<(Vec<Count>, i64)> {
    let status = f.status.clone().unwrap_or_default();
    if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
        return Err(PlatformError::invalid(
            "status",
            format!("must be one of {}", STATUSES.join(", ")),
        ));
    }
    let loc_id = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            let n = boh_platform::org::fetch(p, id)
                .await?
                .ok_or(PlatformError::NotFound)?;
            if !n.is_site() || !readable(actor, &n.path) {
                return Err(PlatformError::NotFound);
            }
            n.id
        }
        None => String::new(),
    };
    let where_ = format!(
        "({} OR {}) AND ($1 = '' OR c.location_id = $1) AND ($2 = '' OR c.status = $2)",
        actor.scope(perm::INVENTORY_READ).sql("c.location_path"),
        actor.scope(perm::INVENTORY_COUNT).sql("c.location_path")
    );
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM inv_counts c WHERE {where_}"
    )))
    .bind(&loc_id)
    .bind(&status)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM inv_counts c JOIN org_nodes n ON n.id = c.location_id WHERE {where_} \
         ORDER BY c.created_at DESC, c.id DESC LIMIT {limit} OFFSET {offset}"
    )))
    .bind(&loc_id)
    .bind(&status)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let h = head_from_row(r)?;
        let mut c = h.count;
        c.expected_visible = expected_visible(actor, &c, &h.path);
        out.push(c);
    }
    Ok((out, total))
}

/// Start a count: validate, then take the snapshot of expected on-hand in one transaction.
pub async fn start(p: &Platform, ctx: &Ctx, input: CountInput) -> Result<Count> {
    let mut errors = Vec::new();
    let loc = crate::location(p, &ctx.actor, perm::INVENTORY_COUNT, &input.location_id).await?;
    let kind = input
        .kind
        .clone()
        .filter(|k| !k.is_empty())
        .unwrap_or("full".into());
    if !matches!(kind.as_str(), "full" | "cycle") {
        errors.push(FieldError::new("kind", "must be full or cycle"));
    }
    let business_date = input
        .business_date
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| crate::today_in(&loc.timezone).to_string());
    crate::validate_date(&mut errors, "business_date", &business_date);
    if input
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 2000)
    {
        errors.push(FieldError::new("note", "must be at most 2000 characters"));
    }
    let areas = areas_of(p, &loc.id).await?;
    let mut area_ids: Vec<String> = Vec::new();
    for (i, a) in input.storage_area_ids.iter().enumerate() {
        if !areas.contains_key(a) {
            errors.push(FieldError::new(
                &format!("storage_area_ids[{i}]"),
                "no such storage area at this location",
            ));
        } else if !area_ids.contains(a) {
            area_ids.push(a.clone());
        }
    }
    let listed = !input.item_ids.is_empty() || !input.item_codes.is_empty();
    if kind == "full" && listed {
        errors.push(FieldError::new(
            "item_ids",
            "a full count covers every item; list items only for a cycle count",
        ));
    }
    if kind == "cycle" && !listed && area_ids.is_empty() {
        errors.push(FieldError::new(
            "item_ids",
            "a cycle count needs items or storage areas",
        ));
    }
    if input.item_ids.len() + input.item_codes.len() > 20_000 {
        errors.push(FieldError::new("item_ids", "at most 20000 items"));
    }
    // Listed items, every unknown one reported.
    let mut listed_items: Vec<Item> = Vec::new();
    if listed {
        let refs: Vec<(Option<String>, Option<String>, String)> = input
            .item_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (Some(id.clone()), None, format!("item_ids[{i}]")))
            .chain(
                input
                    .item_codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (None, Some(c.clone()), format!("item_codes[{i}]"))),
            )
            .collect();
        let mut item_errors = Vec::new();
        let found = ledger::resolve_items(p, &loc.company_id, &refs, &mut item_errors).await?;
        // resolve_items names `{field}.item_id`; here the field is the list entry itself.
        for e in item_errors {
            let field = e
                .field
                .trim_end_matches(".item_id")
                .trim_end_matches(".item_code")
                .to_string();
            errors.push(FieldError::new(&field, e.message));
        }
        for (i, it) in found.into_iter().enumerate() {
            if let Some(it) = it {
                if !it.stocked {
                    errors.push(FieldError::new(
                        &refs[i].2,
                        format!("item {} is not kept in stock", it.code),
                    ));
                } else if !listed_items.iter().any(|x| x.id == it.id) {
                    listed_items.push(it);
                }
            }
        }
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let id = new_id();
    let t = now().micros();
    let listed_ids: Vec<String> = listed_items.iter().map(|i| i.id.clone()).collect();
    boh_platform::tx!(p.db, tx, {
        // Items in scope: listed ones, else every active stocked item configured or held at
        // the location; with storage areas, only those kept there.
        let mut item_area: BTreeMap<String, Option<String>> = BTreeMap::new();
        let settings = sqlx::query(
            "SELECT il.item_id, il.storage_area_id, il.stocked FROM inv_item_locations il WHERE il.location_id = $1",
        )
        .bind(&loc.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut area_by_item: HashMap<String, (Option<String>, bool)> = HashMap::new();
        for r in &settings {
            area_by_item.insert(
                r.try_get("item_id")?,
                (
                    r.try_get("storage_area_id")?,
                    r.try_get::<i64, _>("stocked")? != 0,
                ),
            );
        }
        let stock = sqlx::query(
            "SELECT s.item_id, s.lot_id, s.qty FROM inv_stock s WHERE s.location_id = $1",
        )
        .bind(&loc.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut stock_by_item: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for r in &stock {
            stock_by_item
                .entry(r.try_get("item_id")?)
                .or_default()
                .push((r.try_get("lot_id")?, r.try_get("qty")?));
        }
        if listed {
            for id in &listed_ids {
                item_area.insert(id.clone(), area_by_item.get(id).and_then(|a| a.0.clone()));
            }
        } else {
            for (id, (area, stocked)) in &area_by_item {
                if *stocked {
                    item_area.insert(id.clone(), area.clone());
                }
            }
            for (id, lots) in &stock_by_item {
                if lots.iter().any(|(_, q)| *q != 0) {
                    item_area
                        .entry(id.clone())
                        .or_insert_with(|| area_by_item.get(id).and_then(|a| a.0.clone()));
                }
            }
        }
        if !area_ids.is_empty() {
            item_area.retain(|_, a| a.as_ref().is_some_and(|a| area_ids.contains(a)));
        }
        // Only active, stocked items of the company.
        let ids: Vec<String> = item_area.keys().cloned().collect();
        let mut keep: std::collections::HashSet<String> = Default::default();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id FROM inv_items WHERE company_id = $1 AND active = 1 AND stocked = 1 AND id IN ({})",
                in_placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&loc.company_id);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&mut *tx).await? {
                keep.insert(r.try_get("id")?);
            }
        }
        item_area.retain(|id, _| keep.contains(id));
        if item_area.is_empty() {
            return Err(PlatformError::invalid(
                if area_ids.is_empty() {
                    "location_id"
                } else {
                    "storage_area_ids"
                },
                "there is nothing to count here",
            ));
        }
        let number = crate::next_number(tx, &loc.company_id, "count", "CT").await?;
        sqlx::query(
            "INSERT INTO inv_counts (id, company_id, number, location_id, location_path, kind, storage_area_id, blind, \
             status, business_date, note, created_by, created_at, version, updated_at, snapshot_at, area_ids) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'open',$9,$10,$11,$12,1,$12,$12,$13)",
        )
        .bind(&id)
        .bind(&loc.company_id)
        .bind(&number)
        .bind(&loc.id)
        .bind(&loc.path)
        .bind(&kind)
        .bind(area_ids.first())
        .bind(i64::from(input.blind))
        .bind(&business_date)
        .bind(input.note.as_deref())
        .bind(&ctx.actor.user_id)
        .bind(t)
        .bind(serde_json::to_string(&area_ids).map_err(anyhow::Error::from)?)
        .execute(&mut *tx)
        .await?;
        // The snapshot: one line per lot held (non-zero), or one line (lot "") if none.
        let mut lines: Vec<(String, String, i64, Option<String>)> = Vec::new();
        for (item, area) in &item_area {
            let held: Vec<&(String, i64)> = stock_by_item
                .get(item)
                .map(|v| v.iter().filter(|(_, q)| *q != 0).collect())
                .unwrap_or_default();
            if held.is_empty() {
                lines.push((item.clone(), String::new(), 0, area.clone()));
            }
            for (lot, q) in held {
                lines.push((item.clone(), lot.clone(), *q, area.clone()));
            }
        }
        for chunk in lines.chunks(500) {
            let sql = format!(
                "INSERT INTO inv_count_lines (count_id, item_id, lot_id, expected_qty, storage_area_id, entries) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 6)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
            for (item, lot, qty, area) in chunk {
                q = q
                    .bind(&id)
                    .bind(item)
                    .bind(lot)
                    .bind(*qty)
                    .bind(area.as_deref())
                    .bind(0i64);
            }
            q.execute(&mut *tx).await?;
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.count.start",
                entity_type: "inv_count",
                entity_id: &id,
                org_path: Some(&loc.path),
                before: None,
                after: Some(json!({"number": number, "kind": kind, "blind": input.blind,
                                   "lines": lines.len(), "storage_area_ids": area_ids})),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.count.started",
            Some(&loc.path),
            &json!({"count_id": id, "number": number, "location_id": loc.id, "lines": lines.len()}),
        )
        .await?;
        let out = get_in(p, tx, &ctx.actor, &id).await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

async fn for_change(p: &Platform, actor: &Actor, id: &str) -> Result<Head> {
    let h = head(p, actor, id).await?;
    if !actor.allows(perm::INVENTORY_COUNT, &h.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_COUNT));
    }
    Ok(h)
}

/// Lock the count row for a change inside the transaction, if it is in `status`.
async fn lock_in(tx: &mut sqlx::AnyConnection, c: &Count, status: &str) -> Result<()> {
    let n = sqlx::query(
        "UPDATE inv_counts SET version = version + 1, updated_at = $1 WHERE id = $2 AND status = $3",
    )
    .bind(now().micros())
    .bind(&c.id)
    .bind(status)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(PlatformError::refused(
            "invalid_state",
            format!("count {} is no longer {status}; reload it", c.number),
        ));
    }
    Ok(())
}

fn not_state(c: &Count, want: &str) -> PlatformError {
    PlatformError::refused(
        "invalid_state",
        format!("count {} is {}; this needs it {want}", c.number, c.status),
    )
}

/// The result of adding entries: how many lines changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntriesResult {
    pub count_id: String,
    pub entries: i64,
    pub lines_changed: i64,
    pub counted_lines: i64,
    pub line_count: i64,
}

/// Record counted quantities (any number of counters, any number of times). Every bad entry
/// is reported at once; nothing is written unless all are good.
pub async fn add_entries(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    input: EntriesInput,
) -> Result<EntriesResult> {
    let h = for_change(p, &ctx.actor, id).await?;
    let c = &h.count;
    if c.status != "open" {
        return Err(not_state(c, "open"));
    }
    let mut errors = Vec::new();
    if input.entries.is_empty() {
        errors.push(FieldError::new("entries", "at least one entry is required"));
    }
    if input.entries.len() > 10_000 {
        errors.push(FieldError::new(
            "entries",
            "at most 10000 entries at a time",
        ));
    }
    let refs: Vec<(Option<String>, Option<String>, String)> = input
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                e.item_id.clone().filter(|s| !s.is_empty()),
                e.item_code.clone().filter(|s| !s.is_empty()),
                format!("entries[{i}]"),
            )
        })
        .collect();
    let items = ledger::resolve_items(p, &c.company_id, &refs, &mut errors).await?;
    let mut conn = p.db.pool().acquire().await?;
    let lines = line_rows(&mut conn, &c.id).await?;
    drop(conn);
    let mut lines_by_item: HashMap<String, Vec<String>> = HashMap::new();
    for l in &lines {
        lines_by_item
            .entry(l.item_id.clone())
            .or_default()
            .push(l.lot_id.clone());
    }
    let area_of: HashMap<String, Option<String>> = lines
        .iter()
        .map(|l| (l.item_id.clone(), l.area_id.clone()))
        .collect();
    // Lot codes of the lot-tracked items involved.
    let lot_items: Vec<String> = items
        .iter()
        .flatten()
        .filter(|i| i.lot_tracked)
        .map(|i| i.id.clone())
        .collect();
    let mut lots_by_code: HashMap<(String, String), String> = HashMap::new();
    for chunk in lot_items.chunks(500) {
        let sql = format!(
            "SELECT id, item_id, lot_code FROM inv_lots WHERE item_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for i in chunk {
            q = q.bind(i);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            lots_by_code.insert(
                (r.try_get("item_id")?, r.try_get("lot_code")?),
                r.try_get("id")?,
            );
        }
    }
    struct Op {
        item: Item,
        lot_id: Option<String>,
        lot_code: Option<String>,
        set: bool,
        qty: i64,
        entered: i64,
        unit: String,
    }
    let mut ops: Vec<Op> = Vec::new();
    for (i, (e, item)) in input.entries.iter().zip(items).enumerate() {
        let field = format!("entries[{i}]");
        let qty = e.qty.parse(&mut errors, &format!("{field}.qty"));
        let mode = e.mode.clone().unwrap_or_else(|| "add".into());
        if !matches!(mode.as_str(), "add" | "set") {
            errors.push(FieldError::new(
                &format!("{field}.mode"),
                "must be add or set",
            ));
        }
        let (Some(item), Some(qty)) = (item, qty) else {
            continue;
        };
        if qty.is_negative() {
            errors.push(FieldError::new(
                &format!("{field}.qty"),
                "must not be negative (use mode set to correct a count)",
            ));
            continue;
        }
        let unit = e
            .unit
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| item.base_unit.clone());
        let Some(base) = item.conversions().to_base(qty, &unit) else {
            errors.push(FieldError::new(
                &format!("{field}.unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            ));
            continue;
        };
        let on_count = lines_by_item.get(&item.id);
        if on_count.is_none() && c.kind == "cycle" {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is not on this count", item.code),
            ));
            continue;
        }
        if on_count.is_none() && !item.stocked {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is not kept in stock", item.code),
            ));
            continue;
        }
        let code = e
            .lot_code
            .clone()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let (lot_id, lot_code) = match (&code, item.lot_tracked) {
            (Some(_), false) => {
                errors.push(FieldError::new(
                    &format!("{field}.lot_code"),
                    format!("item {} is not lot-tracked", item.code),
                ));
                continue;
            }
            (None, false) => (Some(String::new()), None),
            (Some(code), true) => {
                if code.chars().count() > 64 {
                    errors.push(FieldError::new(
                        &format!("{field}.lot_code"),
                        "must be at most 64 characters",
                    ));
                    continue;
                }
                match lots_by_code.get(&(item.id.clone(), code.clone())) {
                    Some(l) => (Some(l.clone()), None),
                    None => (None, Some(code.clone())),
                }
            }
            (None, true) => {
                let held: Vec<&String> = on_count
                    .map(|v| v.iter().filter(|l| !l.is_empty()).collect())
                    .unwrap_or_default();
                if held.len() == 1 {
                    (Some(held[0].clone()), None)
                } else {
                    errors.push(FieldError::new(
                        &format!("{field}.lot_code"),
                        format!("item {} is lot-tracked: name the lot counted", item.code),
                    ));
                    continue;
                }
            }
        };
        ops.push(Op {
            item,
            lot_id,
            lot_code,
            set: mode == "set",
            qty: base.micros(),
            entered: qty.micros(),
            unit,
        });
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let t = now().micros();
    let user = ctx.actor.user_id.clone();
    let n_entries = ops.len() as i64;
    boh_platform::tx!(p.db, tx, {
        lock_in(tx, c, "open").await?;
        // New lots get their lot row now.
        let mut resolved: Vec<String> = Vec::with_capacity(ops.len());
        for op in &ops {
            let lot = match (&op.lot_id, &op.lot_code) {
                (Some(l), _) => l.clone(),
                (None, Some(code)) => ledger::ensure_lot(tx, &op.item, code, None).await?,
                (None, None) => String::new(),
            };
            resolved.push(lot);
        }
        // One change per line: the last `set` of the batch plus the adds after it, or the sum
        // of the adds.
        let mut per_line: BTreeMap<(String, String), (bool, i64, i64)> = BTreeMap::new();
        for (op, lot) in ops.iter().zip(&resolved) {
            let e = per_line
                .entry((op.item.id.clone(), lot.clone()))
                .or_insert((false, 0, 0));
            if op.set {
                *e = (true, op.qty, e.2 + 1);
            } else {
                e.1 += op.qty;
                e.2 += 1;
            }
        }
        for chunk in ops.iter().zip(&resolved).collect::<Vec<_>>().chunks(400) {
            let sql = format!(
                "INSERT INTO inv_count_entries (id, count_id, item_id, lot_id, mode, qty, entered_qty, entered_unit, \
                 counted_by, counted_at) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 10)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
            for (op, lot) in chunk {
                q = q
                    .bind(new_id())
                    .bind(&c.id)
                    .bind(&op.item.id)
                    .bind(*lot)
                    .bind(if op.set { "set" } else { "add" })
                    .bind(op.qty)
                    .bind(op.entered)
                    .bind(&op.unit)
                    .bind(&user)
                    .bind(t);
            }
            q.execute(&mut *tx).await?;
        }
        let entries: Vec<_> = per_line.into_iter().collect();
        for set in [true, false] {
            let rows: Vec<_> = entries.iter().filter(|(_, (s, _, _))| *s == set).collect();
            let counted = if set {
                "excluded.counted_qty"
            } else {
                "COALESCE(inv_count_lines.counted_qty, 0) + excluded.counted_qty"
            };
            for chunk in rows.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_count_lines (count_id, item_id, lot_id, expected_qty, counted_qty, storage_area_id, \
                     entries, counted_by, counted_at) VALUES {} ON CONFLICT (count_id, item_id, lot_id) DO UPDATE SET \
                     counted_qty = {counted}, entries = inv_count_lines.entries + excluded.entries, \
                     counted_by = excluded.counted_by, counted_at = excluded.counted_at",
                    boh_platform::util::values_list(tx, chunk.len(), 9)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
                for ((item, lot), (_, qty, n)) in chunk {
                    q = q
                        .bind(&c.id)
                        .bind(item)
                        .bind(lot)
                        .bind(0i64)
                        .bind(*qty)
                        .bind(area_of.get(item).cloned().flatten())
                        .bind(*n)
                        .bind(&user)
                        .bind(t);
                }
                q.execute(&mut *tx).await?;
            }
        }
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN counted_qty IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS k \
             FROM inv_count_lines WHERE count_id = $1",
        )
        .bind(&c.id)
        .fetch_one(&mut *tx)
        .await?;
        let out = EntriesResult {
            count_id: c.id.clone(),
            entries: n_entries,
            lines_changed: entries.len() as i64,
            counted_lines: r.try_get("k")?,
            line_count: r.try_get("n")?,
        };
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Submit an open count for review: every uncounted line is an error (all listed), unless
/// `uncounted_as_zero`. A lot-tracked item counted in some lot counts as counted.
pub async fn submit(p: &Platform, ctx: &Ctx, id: &str, input: SubmitInput) -> Result<Count> {
    let c = get(p, &ctx.actor, id).await?;
    let h = for_change(p, &ctx.actor, id).await?;
    if c.status != "open" {
        return Err(not_state(&c, "open"));
    }
    let counted_items: std::collections::HashSet<&str> = c
        .lines
        .iter()
        .filter(|l| l.counted_qty.is_some())
        .map(|l| l.item_id.as_str())
        .collect();
    let uncounted: Vec<&CountLine> = c
        .lines
        .iter()
        .filter(|l| l.counted_qty.is_none() && !counted_items.contains(l.item_id.as_str()))
        .collect();
    if !uncounted.is_empty() && !input.uncounted_as_zero {
        return Err(PlatformError::Validation(
            uncounted
                .iter()
                .map(|l| {
                    FieldError::new(
                        &format!("lines[{}].counted_qty", l.index),
                        format!(
                            "{}{} has not been counted",
                            l.item_code,
                            l.lot_code
                                .as_ref()
                                .map(|c| format!(" lot {c}"))
                                .unwrap_or_default()
                        ),
                    )
                })
                .collect(),
        ));
    }
    let t = now().micros();
    boh_platform::tx!(p.db, tx, {
        lock_in(tx, &c, "open").await?;
        // Lines left empty count as zero now (also other lots of items counted elsewhere).
        sqlx::query("UPDATE inv_count_lines SET counted_qty = 0 WHERE count_id = $1 AND counted_qty IS NULL")
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE inv_counts SET status = 'submitted', submitted_by = $1, submitted_at = $2 WHERE id = $3",
        )
        .bind(&ctx.actor.user_id)
        .bind(t)
        .bind(&c.id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.count.submit",
                entity_type: "inv_count",
                entity_id: &c.id,
                org_path: Some(&h.path),
                before: Some(json!({"status": "open"})),
                after: Some(json!({"status": "submitted", "uncounted_as_zero": uncounted.len()})),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.count.submitted",
            Some(&h.path),
            &json!({"count_id": c.id, "number": c.number, "location_id": c.location_id}),
        )
        .await?;
        let out = get_in(p, tx, &ctx.actor, id).await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Post a submitted count: one `count` document with the variances (see the module
/// documentation for the arithmetic).
pub async fn post(p: &Platform, ctx: &Ctx, id: &str) -> Result<Count> {
    let h = for_change(p, &ctx.actor, id).await?;
    let c = h.count.clone();
    if c.status != "submitted" {
        return Err(not_state(&c, "submitted"));
    }
    let loc = boh_platform::org::fetch(p, &c.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::INVENTORY_COUNT, &loc.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_COUNT));
    }
    let mut conn = p.db.pool().acquire().await?;
    let lines = line_rows(&mut conn, &c.id).await?;
    drop(conn);
    let mut ids: Vec<String> = lines.iter().map(|l| l.item_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let backend = p.db.backend();
    let t = now().micros();
    boh_platform::tx!(p.db, tx, {
        lock_in(tx, &c, "submitted").await?;
        // Lock the valuation rows of every item counted, in item order (creating the missing
        // ones, as posting does), so on-hand cannot change until this commits.
        for chunk in ids.chunks(400) {
            let sql = format!(
                "INSERT INTO inv_valuation (location_id, item_id, company_id, location_path, qty, value, \
                 last_unit_cost, negative_since, last_movement_at) VALUES {} ON CONFLICT (location_id, item_id) \
                 DO UPDATE SET location_path = excluded.location_path",
                boh_platform::util::values_list(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
            for id in chunk {
                q = q
                    .bind(&loc.id)
                    .bind(id)
                    .bind(&loc.company_id)
                    .bind(&loc.path)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(None::<i64>)
                    .bind(t);
            }
            q.execute(&mut *tx).await?;
        }
        let (onhand, cost) = current_stock(tx, &loc.id, &ids).await?;
        let mut post_lines = Vec::new();
        let mut results: Vec<(String, String, i64, i64, i64)> = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let now_q = onhand
                .get(&(l.item_id.clone(), l.lot_id.clone()))
                .copied()
                .unwrap_or(0);
            let counted = l.counted.unwrap_or(0);
            let var = counted - now_q;
            let item = items
                .get(&l.item_id)
                .cloned()
                .ok_or(PlatformError::NotFound)?;
            let val = value_at(var, cost.get(&l.item_id).copied().unwrap_or(0));
            results.push((l.item_id.clone(), l.lot_id.clone(), now_q, var, val));
            if var == 0 {
                continue;
            }
            post_lines.push(PostLine {
                lot: if l.lot_id.is_empty() {
                    if item.lot_tracked {
                        LotPick::Fefo
                    } else {
                        LotPick::NoLot
                    }
                } else {
                    LotPick::Lot(l.lot_id.clone())
                },
                item,
                qty: var,
                value: ValueSpec::AtCost,
                kind: "count",
                reason: Some("count variance".into()),
                reverses_id: None,
                field: format!("lines[{i}]"),
            });
        }
        let doc = if post_lines.is_empty() {
            None
        } else {
            Some(
                ledger::post_in(
                    tx,
                    backend,
                    ctx,
                    &PostDoc {
                        location: loc.clone(),
                        kind: "count",
                        business_date: c.business_date.clone(),
                        reference: Some(c.number.clone()),
                        note: c.note.clone(),
                        source_type: Some("count".into()),
                        source_id: Some(c.id.clone()),
                        reverses_id: None,
                        lines: post_lines,
                        allow_negative: false,
                    },
                )
                .await?,
            )
        };
        // The values actually posted replace the estimates, line by line.
        let mut posted_value: HashMap<(String, String), i64> = HashMap::new();
        if let Some(d) = &doc {
            for m in &d.movements {
                *posted_value
                    .entry((m.item_id.clone(), m.lot_id.clone()))
                    .or_insert(0) += m.value;
            }
        }
        for chunk in results.chunks(400) {
            let sql = format!(
                "INSERT INTO inv_count_lines (count_id, item_id, lot_id, expected_qty, onhand_at_post, variance_qty, \
                 variance_value, entries) VALUES {} ON CONFLICT (count_id, item_id, lot_id) DO UPDATE SET \
                 onhand_at_post = excluded.onhand_at_post, variance_qty = excluded.variance_qty, \
                 variance_value = excluded.variance_value",
                boh_platform::util::values_list(tx, chunk.len(), 8)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
            for (item, lot, now_q, var, val) in chunk {
                let v = posted_value
                    .get(&(item.clone(), lot.clone()))
                    .copied()
                    .unwrap_or(*val);
                q = q
                    .bind(&c.id)
                    .bind(item)
                    .bind(lot)
                    .bind(0i64)
                    .bind(*now_q)
                    .bind(*var)
                    .bind(if *var == 0 { 0 } else { v })
                    .bind(0i64);
            }
            q.execute(&mut *tx).await?;
        }
        let doc_id = doc.as_ref().map(|d| d.id.clone());
        sqlx::query(
            "UPDATE inv_counts SET status = 'posted', posted_by = $1, posted_at = $2, doc_id = $3 WHERE id = $4",
        )
        .bind(&ctx.actor.user_id)
        .bind(t)
        .bind(doc_id.as_deref())
        .bind(&c.id)
        .execute(&mut *tx)
        .await?;
        let total: i64 = doc.as_ref().map(|d| d.total_value).unwrap_or(0);
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.count.post",
                entity_type: "inv_count",
                entity_id: &c.id,
                org_path: Some(&loc.path),
                before: Some(json!({"status": "submitted"})),
                after: Some(
                    json!({"status": "posted", "doc_id": doc_id, "variance_value": total,
                                   "lines": results.len(),
                                   "variances": results.iter().filter(|r| r.3 != 0).count()}),
                ),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.count.posted",
            Some(&loc.path),
            &json!({"count_id": c.id, "number": c.number, "location_id": loc.id, "doc_id": doc_id,
                    "variance_value": total}),
        )
        .await?;
        let out = get_in(p, tx, &ctx.actor, id).await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Cancel an open or submitted count (nothing is posted).
pub async fn cancel(p: &Platform, ctx: &Ctx, id: &str) -> Result<Count> {
    let h = for_change(p, &ctx.actor, id).await?;
    let c = h.count.clone();
    if !matches!(c.status.as_str(), "open" | "submitted") {
        return Err(not_state(&c, "open or submitted"));
    }
    boh_platform::tx!(p.db, tx, {
        lock_in(tx, &c, &c.status).await?;
        sqlx::query("UPDATE inv_counts SET status = 'cancelled' WHERE id = $1")
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.count.cancel",
                entity_type: "inv_count",
                entity_id: &c.id,
                org_path: Some(&h.path),
                before: Some(json!({"status": c.status})),
                after: Some(json!({"status": "cancelled"})),
            },
        )
        .await?;
        let out = get_in(p, tx, &ctx.actor, id).await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}
