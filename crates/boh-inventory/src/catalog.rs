//! The item catalogue of a company: categories (a tree) and items with their base unit, own
//! units (pack and recipe units as factors to the base unit), barcodes, storage type, shelf
//! life and flags. "One entry, shared everywhere": every store of the company reads the same
//! catalogue; changing it needs `inventory.catalog.manage` at the company.
//!
//! Writes go through [`upsert_items`] (one record from the API or a hundred thousand from an
//! import): everything is validated first, every problem of every row reported at once, then
//! one transaction inserts new items, updates changed ones and leaves unchanged ones alone
//! (no write, no audit row), so the same input twice changes nothing.

use std::collections::{HashMap, HashSet};

use boh_db::Row;
use boh_kernel::qty::{MAX_QTY, MICRO};
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::util::{like_escape, required_text};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::units::{self, Conversions};
use crate::{company, in_placeholders, require_catalog, validate_code};

pub const ITEM_KINDS: &[&str] = &[
    "ingredient",
    "prepared",
    "menu",
    "packaging",
    "retail",
    "supply",
    "part",
];
pub const STORAGE_TYPES: &[&str] = &["ambient", "chilled", "frozen"];

// ---------------------------------------------------------------- categories

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Category {
    pub id: String,
    pub company_id: String,
    pub parent_id: Option<String>,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub sort: i64,
}

impl Category {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// The company; default the caller's.
    #[serde(default)]
    pub company_id: Option<String>,
    /// The parent category by id or code; none for a top-level category.
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub parent_code: Option<String>,
    pub code: String,
    /// Both names at once.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub sort: Option<i64>,
}

fn category_from_row(r: &boh_db::AnyRow) -> Result<Category> {
    Ok(Category {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        parent_id: r.try_get("parent_id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        sort: r.try_get("sort")?,
    })
}

/// Every category of the company, parents before children, then by sort and code.
pub async fn list_categories(
    p: &Platform,
    actor: &Actor,
    company_id: Option<&str>,
) -> Result<Vec<Category>> {
    let c = company(p, actor, company_id).await?;
    let rows = sqlx::query(
        "SELECT id, company_id, parent_id, code, name_zh, name_en, sort FROM inv_categories \
         WHERE company_id = $1 ORDER BY sort, code",
    )
    .bind(&c.id)
    .fetch_all(p.db.pool())
    .await?;
    let all: Vec<Category> = rows.iter().map(category_from_row).collect::<Result<_>>()?;
    // Depth-first order so that a tree can be drawn from the list.
    let mut out = Vec::with_capacity(all.len());
    fn walk(all: &[Category], parent: Option<&str>, out: &mut Vec<Category>, depth: usize) {
        if depth > 32 {
            return;
        }
        for c in all.iter().filter(|c| c.parent_id.as_deref() == parent) {
            out.push(c.clone());
            walk(all, Some(&c.id), out, depth + 1);
        }
    }
    walk(&all, None, &mut out, 0);
    Ok(out)
}

pub async fn get_category(p: &Platform, actor: &Actor, id: &str) -> Result<Category> {
    let row = sqlx::query(
        "SELECT id, company_id, parent_id, code, name_zh, name_en, sort FROM inv_categories WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let c = category_from_row(&row)?;
    company(p, actor, Some(&c.company_id)).await?;
    Ok(c)
}

/// Create a category, or update the one with the same code (names, parent, sort).
pub async fn upsert_category(p: &Platform, ctx: &Ctx, input: NewCategory) -> Result<Category> {
    let co = company(p, &ctx.actor, input.company_id.as_deref()).await?;
    require_catalog(&ctx.actor, &co.id)?;
    let mut errors = Vec::new();
    let code = validate_code(&mut errors, "code", &input.code);
    let fallback = input.name.clone().unwrap_or_default();
    let name_en = required_text(
        &mut errors,
        "name_en",
        input.name_en.as_deref().unwrap_or(&fallback),
        200,
    );
    let name_zh = required_text(
        &mut errors,
        "name_zh",
        input.name_zh.as_deref().unwrap_or(&name_en),
        200,
    );
    let existing = list_categories(p, &ctx.actor, Some(&co.id)).await?;
    let parent = match (
        input.parent_id.as_deref().filter(|s| !s.is_empty()),
        input.parent_code.as_deref().filter(|s| !s.is_empty()),
    ) {
        (Some(id), _) => match existing.iter().find(|c| c.id == id) {
            Some(c) => Some(c.clone()),
            None => {
                errors.push(FieldError::new("parent_id", "no such category"));
                None
            }
        },
        (None, Some(pc)) => match existing.iter().find(|c| c.code == pc) {
            Some(c) => Some(c.clone()),
            None => {
                errors.push(FieldError::new("parent_code", format!("no category {pc}")));
                None
            }
        },
        _ => None,
    };
    let current = existing.iter().find(|c| c.code == code).cloned();
    if let (Some(cur), Some(par)) = (&current, &parent) {
        // A category may not become its own ancestor.
        let mut at = Some(par.clone());
        let mut hops = 0;
        while let Some(a) = at {
            if a.id == cur.id {
                errors.push(FieldError::new(
                    "parent_id",
                    "a category cannot be placed under itself",
                ));
                break;
            }
            hops += 1;
            if hops > 32 {
                break;
            }
            at = a
                .parent_id
                .as_deref()
                .and_then(|pid| existing.iter().find(|c| c.id == pid).cloned());
        }
    }
    if let Some(s) = input.sort
        && !(0..=1_000_000).contains(&s)
    {
        errors.push(FieldError::new("sort", "must be between 0 and 1000000"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let cat = Category {
        id: current
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_else(new_id),
        company_id: co.id.clone(),
        parent_id: parent.map(|p| p.id),
        code,
        name_zh,
        name_en,
        sort: input.sort.or(current.as_ref().map(|c| c.sort)).unwrap_or(0),
    };
    if current.as_ref() == Some(&cat) {
        return Ok(cat);
    }
    let t = now().micros();
    let co_path = co.path.clone();
    boh_platform::tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO inv_categories (id, company_id, parent_id, code, name_zh, name_en, sort, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, \
             name_zh = excluded.name_zh, name_en = excluded.name_en, sort = excluded.sort, updated_at = excluded.updated_at",
        )
        .bind(&cat.id)
        .bind(&cat.company_id)
        .bind(cat.parent_id.as_deref())
        .bind(&cat.code)
        .bind(&cat.name_zh)
        .bind(&cat.name_en)
        .bind(cat.sort)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: if current.is_some() {
                    "inventory.category.update"
                } else {
                    "inventory.category.create"
                },
                entity_type: "inv_category",
                entity_id: &cat.id,
                org_path: Some(&co_path),
                before: current.as_ref().and_then(|c| serde_json::to_value(c).ok()),
                after: serde_json::to_value(&cat).ok(),
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &cat).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(cat)
}

// ---------------------------------------------------------------- items

/// One of an item's own units: how many base units one of it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUnit {
    /// Unit code, e.g. `case`, `bag`, `bottle`.
    pub unit: String,
    /// Base units in one of this unit, as a decimal string (e.g. `"12"` kg in a case).
    #[schema(value_type = String, example = "12")]
    pub factor: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Barcode {
    pub barcode: String,
    /// The unit the barcode stands for (the base unit or one of the item's units).
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: String,
    pub company_id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category_id: Option<String>,
    /// ingredient, prepared, menu, packaging, retail, supply or part
    pub kind: String,
    /// The stock unit every quantity of this item is kept in.
    pub base_unit: String,
    /// ambient, chilled or frozen
    pub storage_type: String,
    pub shelf_life_days: Option<i64>,
    pub lot_tracked: bool,
    /// False for items that are never held in stock (menu items and made-to-order
    /// sub-recipes, which deplete their ingredients instead).
    pub stocked: bool,
    /// The code the POS system sells this item under.
    pub pos_code: Option<String>,
    pub active: bool,
    pub units: Vec<ItemUnit>,
    pub barcodes: Vec<Barcode>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Item {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }

    pub fn conversions(&self) -> Conversions {
        Conversions {
            base_unit: self.base_unit.clone(),
            units: self
                .units
                .iter()
                .map(|u| (u.unit.clone(), u.factor.micros()))
                .collect(),
        }
    }

    /// The fields an upsert compares (everything but ids, timestamps and version).
    fn same_content(&self, o: &Item) -> bool {
        self.code == o.code
            && self.name_zh == o.name_zh
            && self.name_en == o.name_en
            && self.category_id == o.category_id
            && self.kind == o.kind
            && self.base_unit == o.base_unit
            && self.storage_type == o.storage_type
            && self.shelf_life_days == o.shelf_life_days
            && self.lot_tracked == o.lot_tracked
            && self.stocked == o.stocked
            && self.pos_code == o.pos_code
            && self.active == o.active
            && self.units == o.units
            && self.barcodes == o.barcodes
    }
}

/// An item to create or update (matched by `code`). Absent optional fields keep the current
/// value on update and take the default on create.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
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
    pub category_id: Option<String>,
    #[serde(default)]
    pub category_code: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub base_unit: Option<String>,
    #[serde(default)]
    pub storage_type: Option<String>,
    #[serde(default)]
    pub shelf_life_days: Option<i64>,
    #[serde(default)]
    pub lot_tracked: Option<bool>,
    #[serde(default)]
    pub stocked: Option<bool>,
    #[serde(default)]
    pub pos_code: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    /// Replaces the item's own units when given.
    #[serde(default)]
    pub units: Option<Vec<ItemUnit>>,
    /// Replaces the item's barcodes when given.
    #[serde(default)]
    pub barcodes: Option<Vec<Barcode>>,
    /// On update: the version the change is based on (lost-update guard).
    #[serde(default)]
    pub version: Option<i64>,
}

/// What an upsert did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct UpsertReport {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// The records as they are after the upsert, in input order.
    #[serde(skip)]
    pub items: Vec<Item>,
}

const ITEM_COLS: &str = "id, company_id, code, name_zh, name_en, category_id, kind, base_unit, \
    storage_type, shelf_life_days, lot_tracked, stocked, pos_code, active, created_at, updated_at, version";

fn item_from_row(r: &boh_db::AnyRow) -> Result<Item> {
    Ok(Item {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        category_id: r.try_get("category_id")?,
        kind: r.try_get("kind")?,
        base_unit: r.try_get("base_unit")?,
        storage_type: r.try_get("storage_type")?,
        shelf_life_days: r.try_get("shelf_life_days")?,
        lot_tracked: r.try_get::<i64, _>("lot_tracked")? != 0,
        stocked: r.try_get::<i64, _>("stocked")? != 0,
        pos_code: r.try_get("pos_code")?,
        active: r.try_get::<i64, _>("active")? != 0,
        units: Vec::new(),
        barcodes: Vec::new(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        version: r.try_get("version")?,
    })
}

/// Fill in units and barcodes of loaded items (two queries per 500 items).
async fn attach_details<'e, E>(exec: E, items: &mut [Item]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    for chunk in items.chunks_mut(500) {
        if chunk.is_empty() {
            continue;
        }
        let ids: Vec<String> = chunk.iter().map(|i| i.id.clone()).collect();
        let ph = in_placeholders(ids.len(), 1);
        let sql = format!(
            "SELECT item_id, unit, factor FROM inv_item_units WHERE item_id IN ({ph}) ORDER BY item_id, factor, unit"
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(id);
        }
        let mut units: HashMap<String, Vec<ItemUnit>> = HashMap::new();
        for r in q.fetch_all(exec).await? {
            units
                .entry(r.try_get("item_id")?)
                .or_default()
                .push(ItemUnit {
                    unit: r.try_get("unit")?,
                    factor: Qty(r.try_get("factor")?),
                });
        }
        let sql = format!(
            "SELECT item_id, barcode, unit FROM inv_item_barcodes WHERE item_id IN ({ph}) ORDER BY item_id, barcode"
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(id);
        }
        let mut codes: HashMap<String, Vec<Barcode>> = HashMap::new();
        for r in q.fetch_all(exec).await? {
            codes
                .entry(r.try_get("item_id")?)
                .or_default()
                .push(Barcode {
                    barcode: r.try_get("barcode")?,
                    unit: r.try_get("unit")?,
                });
        }
        for it in chunk.iter_mut() {
            it.units = units.remove(&it.id).unwrap_or_default();
            it.barcodes = codes.remove(&it.id).unwrap_or_default();
        }
    }
    Ok(())
}

/// Items of one company by id, unscoped (callers check the company).
pub async fn fetch_items(p: &Platform, ids: &[String]) -> Result<Vec<Item>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT {ITEM_COLS} FROM inv_items WHERE id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.push(item_from_row(&r)?);
        }
    }
    attach_details(p.db.pool(), &mut out).await?;
    Ok(out)
}

/// One item the actor may read.
pub async fn get_item(p: &Platform, actor: &Actor, id: &str) -> Result<Item> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let item = fetch_items(p, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or(PlatformError::NotFound)?;
    company(p, actor, Some(&item.company_id)).await?;
    Ok(item)
}

/// An item of the company by code.
pub async fn find_item_by_code(p: &Platform, company_id: &str, code: &str) -> Result<Option<Item>> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {ITEM_COLS} FROM inv_items WHERE company_id = $1 AND code = $2"
    )))
    .bind(company_id)
    .bind(code)
    .fetch_optional(p.db.pool())
    .await?;
    match row {
        Some(r) => {
            let mut v = vec![item_from_row(&r)?];
            attach_details(p.db.pool(), &mut v).await?;
            Ok(v.pop())
        }
        None => Ok(None),
    }
}

/// Filters for the item list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ItemFilter {
    /// The company; default the caller's.
    pub company_id: Option<String>,
    /// Text search in code, names, POS code and barcodes.
    pub q: Option<String>,
    /// Only this category and its subcategories.
    pub category_id: Option<String>,
    /// Only items of this kind.
    pub kind: Option<String>,
    /// Only items kept at this storage type.
    pub storage_type: Option<String>,
    /// `true` (default) for active items, `false` for inactive ones, `all` for both.
    pub active: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Active items per category id of the actor's company, in one query.
pub async fn active_items_by_category(p: &Platform, actor: &Actor) -> Result<HashMap<String, i64>> {
    let company = crate::company(p, actor, None).await?;
    let rows = sqlx::query(
        "SELECT category_id, COUNT(*) AS n FROM inv_items \
         WHERE company_id = $1 AND active = 1 AND category_id IS NOT NULL GROUP BY category_id",
    )
    .bind(&company.id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("category_id")?, r.try_get("n")?)))
        .collect()
}

/// A page of the company's items, sorted by code, with the total for paging.
pub async fn list_items(p: &Platform, actor: &Actor, f: &ItemFilter) -> Result<(Vec<Item>, i64)> {
    let co = company(p, actor, f.company_id.as_deref()).await?;
    let mut errors = Vec::new();
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty())
        && !ITEM_KINDS.contains(&k)
    {
        errors.push(FieldError::new(
            "kind",
            format!("must be one of {}", ITEM_KINDS.join(", ")),
        ));
    }
    if let Some(k) = f.storage_type.as_deref().filter(|k| !k.is_empty())
        && !STORAGE_TYPES.contains(&k)
    {
        errors.push(FieldError::new(
            "storage_type",
            format!("must be one of {}", STORAGE_TYPES.join(", ")),
        ));
    }
    let active: i64 = match f.active.as_deref().unwrap_or("true") {
        "true" | "" => 1,
        "false" => 0,
        "all" => -1,
        _ => {
            errors.push(FieldError::new("active", "must be true, false or all"));
            1
        }
    };
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    // The category and its descendants.
    let cat_ids: Vec<String> = match f.category_id.as_deref().filter(|s| !s.is_empty()) {
        Some(cid) => {
            let all = list_categories(p, actor, Some(&co.id)).await?;
            if !all.iter().any(|c| c.id == cid) {
                return Err(PlatformError::NotFound);
            }
            let mut ids = vec![cid.to_string()];
            let mut i = 0;
            while i < ids.len() {
                let cur = ids[i].clone();
                ids.extend(
                    all.iter()
                        .filter(|c| c.parent_id.as_deref() == Some(cur.as_str()))
                        .map(|c| c.id.clone()),
                );
                i += 1;
            }
            ids
        }
        None => Vec::new(),
    };
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    let pattern = format!("%{}%", like_escape(&q.to_lowercase()));
    let cat_sql = if cat_ids.is_empty() {
        "1=1".to_string()
    } else {
        format!("category_id IN ({})", in_placeholders(cat_ids.len(), 8))
    };
    let where_ = format!(
        "company_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR storage_type = $3) \
         AND ($4 < 0 OR active = $4) AND ($5 = '' OR LOWER(code) LIKE $6 ESCAPE '\\' \
         OR LOWER(name_en) LIKE $6 ESCAPE '\\' OR name_zh LIKE $6 ESCAPE '\\' OR pos_code = $5 \
         OR id IN (SELECT item_id FROM inv_item_barcodes WHERE company_id = $1 AND barcode = $5)) \
         AND $7 = $7 AND {cat_sql}"
    );
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let bind_all = |sql: String| {
        let mut qy = sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(co.id.clone())
            .bind(f.kind.clone().unwrap_or_default())
            .bind(f.storage_type.clone().unwrap_or_default())
            .bind(active)
            .bind(q.to_string())
            .bind(pattern.clone())
            .bind(0i64);
        for c in &cat_ids {
            qy = qy.bind(c.clone());
        }
        qy
    };
    let total: i64 = bind_all(format!(
        "SELECT COUNT(*) AS n FROM inv_items WHERE {where_}"
    ))
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = bind_all(format!(
        "SELECT {ITEM_COLS} FROM inv_items WHERE {where_} ORDER BY code LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    let mut items: Vec<Item> = rows.iter().map(item_from_row).collect::<Result<_>>()?;
    attach_details(p.db.pool(), &mut items).await?;
    Ok((items, total))
}

/// Validate one input against the current record (if any) and the company's categories;
/// field names are prefixed with `prefix` (`""` for the API, `row 12, ` for imports).
fn build_item(
    input: &ItemInput,
    current: Option<&Item>,
    company_id: &str,
    cats_by_id: &HashMap<String, String>,
    cats_by_code: &HashMap<String, String>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Item> {
    let start = errors.len();
    let f = |name: &str| format!("{prefix}{name}");
    let mut e = Vec::new();
    let code = validate_code(&mut e, &f("code"), &input.code);
    let fallback = input.name.clone().unwrap_or_default();
    let name_en_raw = input
        .name_en
        .clone()
        .or_else(|| input.name.clone())
        .or_else(|| current.map(|c| c.name_en.clone()))
        .unwrap_or(fallback);
    let name_en = required_text(&mut e, &f("name_en"), &name_en_raw, 200);
    let name_zh_raw = input
        .name_zh
        .clone()
        .or_else(|| input.name.clone())
        .or_else(|| current.map(|c| c.name_zh.clone()))
        .unwrap_or_else(|| name_en.clone());
    let name_zh = required_text(&mut e, &f("name_zh"), &name_zh_raw, 200);
    let category_id = match (input.category_id.as_deref(), input.category_code.as_deref()) {
        (Some(""), _) | (None, Some("")) => None,
        (Some(id), _) => {
            if cats_by_id.contains_key(id) {
                Some(id.to_string())
            } else {
                e.push(FieldError::new(&f("category_id"), "no such category"));
                None
            }
        }
        (None, Some(code)) => match cats_by_code.get(code) {
            Some(id) => Some(id.clone()),
            None => {
                e.push(FieldError::new(
                    &f("category_code"),
                    format!("no category {code}"),
                ));
                None
            }
        },
        (None, None) => current.and_then(|c| c.category_id.clone()),
    };
    let kind = input
        .kind
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| current.map(|c| c.kind.clone()))
        .unwrap_or_else(|| "ingredient".into());
    if !ITEM_KINDS.contains(&kind.as_str()) {
        e.push(FieldError::new(
            &f("kind"),
            format!("must be one of {}", ITEM_KINDS.join(", ")),
        ));
    }
    let base_unit = input
        .base_unit
        .clone()
        .map(|u| u.trim().to_lowercase())
        .filter(|u| !u.is_empty())
        .or_else(|| current.map(|c| c.base_unit.clone()));
    let base_unit = match base_unit {
        Some(u) if units::valid_unit_code(&u) => u,
        Some(_) => {
            e.push(FieldError::new(
                &f("base_unit"),
                "must be a unit code of 1 to 16 lowercase letters, digits, _ or -",
            ));
            String::new()
        }
        None => {
            e.push(FieldError::new(&f("base_unit"), "is required"));
            String::new()
        }
    };
    if let Some(cur) = current
        && cur.base_unit != base_unit
        && !base_unit.is_empty()
    {
        e.push(FieldError::new(
            &f("base_unit"),
            format!(
                "cannot change from {} once the item exists (its stock is kept in it); create a new item",
                cur.base_unit
            ),
        ));
    }
    let storage_type = input
        .storage_type
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| current.map(|c| c.storage_type.clone()))
        .unwrap_or_else(|| "ambient".into());
    if !STORAGE_TYPES.contains(&storage_type.as_str()) {
        e.push(FieldError::new(
            &f("storage_type"),
            format!("must be one of {}", STORAGE_TYPES.join(", ")),
        ));
    }
    let shelf_life_days = match input.shelf_life_days {
        Some(d) if !(1..=3650).contains(&d) => {
            e.push(FieldError::new(
                &f("shelf_life_days"),
                "must be between 1 and 3650",
            ));
            None
        }
        Some(d) => Some(d),
        None => current.and_then(|c| c.shelf_life_days),
    };
    let lot_tracked = input
        .lot_tracked
        .or(current.map(|c| c.lot_tracked))
        .unwrap_or(false);
    let stocked = input
        .stocked
        .or(current.map(|c| c.stocked))
        .unwrap_or(kind != "menu");
    if lot_tracked && !stocked {
        e.push(FieldError::new(
            &f("lot_tracked"),
            "only stocked items can be lot-tracked",
        ));
    }
    let pos_code = match input.pos_code.as_deref() {
        Some(c) => {
            let c = c.trim();
            if c.chars().count() > 64 {
                e.push(FieldError::new(
                    &f("pos_code"),
                    "must be at most 64 characters",
                ));
            }
            Some(c.to_string()).filter(|c| !c.is_empty())
        }
        None => current.and_then(|c| c.pos_code.clone()),
    };
    let active = input.active.or(current.map(|c| c.active)).unwrap_or(true);
    let units_in = input
        .units
        .clone()
        .or_else(|| current.map(|c| c.units.clone()))
        .unwrap_or_default();
    let mut units_out: Vec<ItemUnit> = Vec::new();
    for (i, u) in units_in.iter().enumerate() {
        let unit = u.unit.trim().to_lowercase();
        let fname = f(&format!("units[{i}].unit"));
        if !units::valid_unit_code(&unit) {
            e.push(FieldError::new(
                &fname,
                "must be a unit code of 1 to 16 lowercase letters, digits, _ or -",
            ));
        } else if unit == base_unit {
            e.push(FieldError::new(&fname, "is the base unit already"));
        } else if units_out.iter().any(|x| x.unit == unit) {
            e.push(FieldError::new(
                &fname,
                format!("unit {unit} is listed twice"),
            ));
        }
        if u.factor.micros() <= 0 || u.factor.micros() > MAX_QTY / MICRO {
            e.push(FieldError::new(
                &f(&format!("units[{i}].factor")),
                "must be a positive number of base units",
            ));
        }
        units_out.push(ItemUnit {
            unit,
            factor: u.factor,
        });
    }
    units_out.sort_by(|a, b| a.factor.cmp(&b.factor).then(a.unit.cmp(&b.unit)));
    let barcodes_in = input
        .barcodes
        .clone()
        .or_else(|| current.map(|c| c.barcodes.clone()))
        .unwrap_or_default();
    let mut barcodes_out: Vec<Barcode> = Vec::new();
    for (i, b) in barcodes_in.iter().enumerate() {
        let code = b.barcode.trim().to_string();
        if code.len() < 4
            || code.len() > 64
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            e.push(FieldError::new(
                &f(&format!("barcodes[{i}].barcode")),
                "must be 4 to 64 letters, digits or -",
            ));
        }
        let unit = if b.unit.trim().is_empty() {
            base_unit.clone()
        } else {
            b.unit.trim().to_lowercase()
        };
        if unit != base_unit && !units_out.iter().any(|u| u.unit == unit) {
            e.push(FieldError::new(
                &f(&format!("barcodes[{i}].unit")),
                format!("{unit} is not a unit of this item"),
            ));
        }
        if barcodes_out.iter().any(|x| x.barcode == code) {
            e.push(FieldError::new(
                &f(&format!("barcodes[{i}].barcode")),
                "is listed twice",
            ));
        }
        barcodes_out.push(Barcode {
            barcode: code,
            unit,
        });
    }
    barcodes_out.sort_by(|a, b| a.barcode.cmp(&b.barcode));
    if let (Some(v), Some(cur)) = (input.version, current)
        && v != cur.version
    {
        e.push(FieldError::new(
            &f("version"),
            "the item was changed by someone else; reload and try again",
        ));
    }
    errors.extend(e);
    if errors.len() > start {
        return None;
    }
    let t = boh_kernel::Instant(now().micros()).rfc3339();
    Some(Item {
        id: current.map(|c| c.id.clone()).unwrap_or_else(new_id),
        company_id: company_id.to_string(),
        code,
        name_zh,
        name_en,
        category_id,
        kind,
        base_unit,
        storage_type,
        shelf_life_days,
        lot_tracked,
        stocked,
        pos_code,
        active,
        units: units_out,
        barcodes: barcodes_out,
        created_at: current.map(|c| c.created_at.clone()).unwrap_or(t.clone()),
        updated_at: t,
        version: current.map(|c| c.version + 1).unwrap_or(1),
    })
}

/// How [`upsert_items`] treats codes that exist already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertMode {
    /// Insert new codes, update existing ones (imports).
    Upsert,
    /// Refuse existing codes (the API's create).
    CreateOnly,
    /// Refuse unknown codes (the API's update).
    UpdateOnly,
}

/// Field-name prefix for an import row.
pub fn row_prefix(row: usize) -> String {
    format!("row {row}, ")
}

/// Validate and apply item inputs for one company, all or nothing. `rows` pairs each input with
/// the prefix its field errors carry. With `dry_run`, nothing is written and the report says
/// what would happen.
pub async fn upsert_items(
    p: &Platform,
    ctx: &Ctx,
    company_id: Option<&str>,
    rows: &[(String, ItemInput)],
    mode: UpsertMode,
    dry_run: bool,
) -> Result<UpsertReport> {
    let co = company(p, &ctx.actor, company_id).await?;
    require_catalog(&ctx.actor, &co.id)?;
    let plan = plan_items(p, &ctx.actor, &co, rows, mode).await?;
    if dry_run {
        return Ok(plan.report);
    }
    if plan.is_empty() {
        // Nothing changes; a keyed request still records its key, so a replay answers the same.
        if ctx.idem.is_some() {
            boh_platform::tx!(p.db, tx, {
                boh_platform::idem::record_created(tx, ctx, &plan.report).await?;
                Ok::<_, PlatformError>(())
            })?;
        }
        return Ok(plan.report);
    }
    let single = rows.len() == 1;
    boh_platform::tx!(p.db, tx, {
        apply_items(tx, ctx, &plan).await?;
        if single && let Some(it) = plan.report.items.first() {
            boh_platform::idem::record_created(tx, ctx, it).await?;
        } else {
            boh_platform::idem::record_created(tx, ctx, &plan.report).await?;
        }
        Ok::<_, PlatformError>(())
    })?;
    Ok(plan.report)
}

/// What an item upsert would write: new items, changed ones (before, after), and the report.
#[derive(Debug, Clone, Default)]
pub struct ItemsPlan {
    pub company_id: String,
    pub company_path: String,
    pub inserts: Vec<Item>,
    pub updates: Vec<(Item, Item)>,
    pub report: UpsertReport,
}

impl ItemsPlan {
    /// True when applying would write nothing.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.updates.is_empty()
    }
}

/// Validate item inputs for the company `co` (the caller has checked the actor may change its
/// catalogue) and work out the writes, reading in bulk. Every problem of every row is one
/// field error (`Validation`), with each row's prefix. Writes nothing.
pub async fn plan_items(
    p: &Platform,
    actor: &Actor,
    co: &boh_platform::org::OrgNode,
    rows: &[(String, ItemInput)],
    mode: UpsertMode,
) -> Result<ItemsPlan> {
    let cats = list_categories(p, actor, Some(&co.id)).await?;
    let cats_by_id: HashMap<String, String> = cats
        .iter()
        .map(|c| (c.id.clone(), c.code.clone()))
        .collect();
    let cats_by_code: HashMap<String, String> = cats
        .iter()
        .map(|c| (c.code.clone(), c.id.clone()))
        .collect();

    // Current records of every code in the input, in bulk.
    let codes: Vec<String> = rows
        .iter()
        .map(|(_, r)| r.code.trim().to_string())
        .collect();
    let mut current: HashMap<String, Item> = HashMap::new();
    for chunk in codes.chunks(500) {
        let sql = format!(
            "SELECT {ITEM_COLS} FROM inv_items WHERE company_id = $1 AND code IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&co.id);
        for c in chunk {
            q = q.bind(c);
        }
        let mut found: Vec<Item> = q
            .fetch_all(p.db.pool())
            .await?
            .iter()
            .map(item_from_row)
            .collect::<Result<_>>()?;
        attach_details(p.db.pool(), &mut found).await?;
        for it in found {
            current.insert(it.code.clone(), it);
        }
    }
    // Barcodes already used by other items of the company.
    let all_barcodes: Vec<String> = rows
        .iter()
        .flat_map(|(_, r)| {
            r.barcodes
                .iter()
                .flatten()
                .map(|b| b.barcode.trim().to_string())
        })
        .collect();
    let mut barcode_owner: HashMap<String, String> = HashMap::new();
    for chunk in all_barcodes.chunks(500) {
        let sql = format!(
            "SELECT b.barcode, i.code FROM inv_item_barcodes b JOIN inv_items i ON i.id = b.item_id \
             WHERE b.company_id = $1 AND b.barcode IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&co.id);
        for c in chunk {
            q = q.bind(c);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            barcode_owner.insert(r.try_get("barcode")?, r.try_get("code")?);
        }
    }

    let mut errors = Vec::new();
    let mut seen_codes: HashSet<String> = HashSet::new();
    let mut seen_barcodes: HashMap<String, String> = HashMap::new();
    let mut report = UpsertReport::default();
    let mut inserts: Vec<Item> = Vec::new();
    let mut updates: Vec<(Item, Item)> = Vec::new();
    for (prefix, input) in rows {
        let code = input.code.trim().to_string();
        let cur = current.get(&code);
        if !seen_codes.insert(code.clone()) {
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
                    format!("item {code} exists already"),
                ));
                continue;
            }
            (UpsertMode::UpdateOnly, None) => {
                errors.push(FieldError::new(
                    &format!("{prefix}code"),
                    format!("no item {code}"),
                ));
                continue;
            }
            _ => {}
        }
        let Some(item) = build_item(
            input,
            cur,
            &co.id,
            &cats_by_id,
            &cats_by_code,
            prefix,
            &mut errors,
        ) else {
            continue;
        };
        for b in &item.barcodes {
            if let Some(owner) = barcode_owner.get(&b.barcode)
                && *owner != item.code
            {
                errors.push(FieldError::new(
                    &format!("{prefix}barcodes"),
                    format!("barcode {} belongs to item {owner}", b.barcode),
                ));
            }
            if let Some(other) = seen_barcodes.insert(b.barcode.clone(), item.code.clone())
                && other != item.code
            {
                errors.push(FieldError::new(
                    &format!("{prefix}barcodes"),
                    format!("barcode {} is also given to item {other}", b.barcode),
                ));
            }
        }
        match cur {
            None => {
                report.created += 1;
                report.items.push(item.clone());
                inserts.push(item);
            }
            Some(c) if c.same_content(&item) => {
                report.unchanged += 1;
                report.items.push(c.clone());
            }
            Some(c) => {
                report.updated += 1;
                report.items.push(item.clone());
                updates.push((c.clone(), item));
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    Ok(ItemsPlan {
        company_id: co.id.clone(),
        company_path: co.path.clone(),
        inserts,
        updates,
        report,
    })
}

/// Write a plan inside the caller's transaction: the items with multi-row statements, their
/// audit rows and one `inventory.items.changed` event. Writes nothing for an empty plan.
pub async fn apply_items(tx: &mut AnyConnection, ctx: &Ctx, plan: &ItemsPlan) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let (inserts, updates) = (&plan.inserts, &plan.updates);
    let co_path = &plan.company_path;
    write_items(tx, inserts, updates).await?;
    let mut changes: Vec<Change<'_>> = Vec::with_capacity(inserts.len() + updates.len());
    for it in inserts {
        changes.push(Change {
            action: "inventory.item.create",
            entity_type: "inv_item",
            entity_id: &it.id,
            org_path: Some(co_path),
            before: None,
            after: serde_json::to_value(it).ok(),
        });
    }
    for (before, after) in updates {
        changes.push(Change {
            action: "inventory.item.update",
            entity_type: "inv_item",
            entity_id: &after.id,
            org_path: Some(co_path),
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
        });
    }
    audit::append_many(tx, ctx, &changes).await?;
    events::emit(
        tx,
        "inventory.items.changed",
        Some(co_path),
        &json!({
            "company_id": plan.company_id,
            "created": inserts.iter().map(|i| &i.code).collect::<Vec<_>>(),
            "updated": updates.iter().map(|(_, i)| &i.code).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(())
}

async fn write_items(
    tx: &mut AnyConnection,
    inserts: &[Item],
    updates: &[(Item, Item)],
) -> Result<()> {
    let t = now().micros();
    const COLS: usize = 17;
    for chunk in inserts.chunks(400) {
        let sql = format!(
            "INSERT INTO inv_items ({ITEM_COLS}) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), COLS)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for it in chunk {
            q = q
                .bind(&it.id)
                .bind(&it.company_id)
                .bind(&it.code)
                .bind(&it.name_zh)
                .bind(&it.name_en)
                .bind(it.category_id.as_deref())
                .bind(&it.kind)
                .bind(&it.base_unit)
                .bind(&it.storage_type)
                .bind(it.shelf_life_days)
                .bind(i64::from(it.lot_tracked))
                .bind(i64::from(it.stocked))
                .bind(it.pos_code.as_deref())
                .bind(i64::from(it.active))
                .bind(t)
                .bind(t)
                .bind(it.version);
        }
        let r = q.execute(&mut *tx).await;
        boh_platform::error::unique_conflict(r, "code", || {
            "an item with one of these codes was created concurrently; retry".to_string()
        })?;
    }
    for (before, it) in updates {
        let n = sqlx::query(
            "UPDATE inv_items SET name_zh=$1, name_en=$2, category_id=$3, kind=$4, storage_type=$5, \
             shelf_life_days=$6, lot_tracked=$7, stocked=$8, pos_code=$9, active=$10, updated_at=$11, \
             version=$12 WHERE id=$13 AND version=$14",
        )
        .bind(&it.name_zh)
        .bind(&it.name_en)
        .bind(it.category_id.as_deref())
        .bind(&it.kind)
        .bind(&it.storage_type)
        .bind(it.shelf_life_days)
        .bind(i64::from(it.lot_tracked))
        .bind(i64::from(it.stocked))
        .bind(it.pos_code.as_deref())
        .bind(i64::from(it.active))
        .bind(t)
        .bind(it.version)
        .bind(&it.id)
        .bind(before.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(PlatformError::conflict(
                "version",
                format!(
                    "item {} was changed by someone else; reload and try again",
                    it.code
                ),
            ));
        }
    }
    // Units and barcodes: replace for updated items whose lists changed, insert for new ones.
    let mut unit_rows: Vec<(&str, &ItemUnit)> = Vec::new();
    let mut code_rows: Vec<(&str, &str, &Barcode)> = Vec::new();
    let mut clear_units: Vec<&str> = Vec::new();
    let mut clear_codes: Vec<&str> = Vec::new();
    for it in inserts {
        unit_rows.extend(it.units.iter().map(|u| (it.id.as_str(), u)));
        code_rows.extend(
            it.barcodes
                .iter()
                .map(|b| (it.id.as_str(), it.company_id.as_str(), b)),
        );
    }
    for (before, it) in updates {
        if before.units != it.units {
            clear_units.push(&it.id);
            unit_rows.extend(it.units.iter().map(|u| (it.id.as_str(), u)));
        }
        if before.barcodes != it.barcodes {
            clear_codes.push(&it.id);
            code_rows.extend(
                it.barcodes
                    .iter()
                    .map(|b| (it.id.as_str(), it.company_id.as_str(), b)),
            );
        }
    }
    for chunk in clear_units.chunks(500) {
        let sql = format!(
            "DELETE FROM inv_item_units WHERE item_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in clear_codes.chunks(500) {
        let sql = format!(
            "DELETE FROM inv_item_barcodes WHERE item_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in unit_rows.chunks(500) {
        let sql = format!(
            "INSERT INTO inv_item_units (item_id, unit, factor) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 3)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (id, u) in chunk {
            q = q.bind(*id).bind(&u.unit).bind(u.factor.micros());
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in code_rows.chunks(500) {
        let sql = format!(
            "INSERT INTO inv_item_barcodes (company_id, barcode, item_id, unit) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 4)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (id, company, b) in chunk {
            q = q.bind(*company).bind(&b.barcode).bind(*id).bind(&b.unit);
        }
        let r = q.execute(&mut *tx).await;
        boh_platform::error::unique_conflict(r, "barcodes", || {
            "a barcode was given to another item concurrently; retry".to_string()
        })?;
    }
    Ok(())
}

/// Create one item (the API): a code that exists is refused.
pub async fn create_item(p: &Platform, ctx: &Ctx, input: ItemInput) -> Result<Item> {
    let company = input.company_id.clone();
    let r = upsert_items(
        p,
        ctx,
        company.as_deref(),
        &[(String::new(), input)],
        UpsertMode::CreateOnly,
        false,
    )
    .await?;
    r.items.into_iter().next().ok_or(PlatformError::NotFound)
}

/// A partial change to an item (the API's PATCH): absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    pub version: Option<i64>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub category_id: Option<String>,
    pub kind: Option<String>,
    pub storage_type: Option<String>,
    pub shelf_life_days: Option<i64>,
    pub lot_tracked: Option<bool>,
    pub stocked: Option<bool>,
    pub pos_code: Option<String>,
    pub active: Option<bool>,
    pub units: Option<Vec<ItemUnit>>,
    pub barcodes: Option<Vec<Barcode>>,
}

pub async fn update_item(p: &Platform, ctx: &Ctx, id: &str, patch: ItemPatch) -> Result<Item> {
    let cur = get_item(p, &ctx.actor, id).await?;
    let input = ItemInput {
        company_id: Some(cur.company_id.clone()),
        code: cur.code.clone(),
        name_zh: patch.name_zh,
        name_en: patch.name_en,
        category_id: patch.category_id,
        kind: patch.kind,
        storage_type: patch.storage_type,
        shelf_life_days: patch.shelf_life_days,
        lot_tracked: patch.lot_tracked,
        stocked: patch.stocked,
        pos_code: patch.pos_code,
        active: patch.active,
        units: patch.units,
        barcodes: patch.barcodes,
        version: patch.version,
        ..ItemInput::default()
    };
    let r = upsert_items(
        p,
        ctx,
        Some(&cur.company_id),
        &[(String::new(), input)],
        UpsertMode::UpdateOnly,
        false,
    )
    .await?;
    r.items.into_iter().next().ok_or(PlatformError::NotFound)
}

/// Items of a company by code (for documents and imports that name items by code). Unknown
/// codes are absent from the map.
pub async fn items_by_code(
    p: &Platform,
    company_id: &str,
    codes: &[String],
) -> Result<HashMap<String, Item>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT {ITEM_COLS} FROM inv_items WHERE company_id = $1 AND code IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(company_id);
        for c in chunk {
            q = q.bind(c);
        }
        let mut found: Vec<Item> = q
            .fetch_all(p.db.pool())
            .await?
            .iter()
            .map(item_from_row)
            .collect::<Result<_>>()?;
        attach_details(p.db.pool(), &mut found).await?;
        for it in found {
            out.insert(it.code.clone(), it);
        }
    }
    Ok(out)
}

/// True when the actor may read the company's catalogue (for pages deciding what to show).
pub fn can_read(actor: &Actor, company_id: &str) -> bool {
    actor.allows_within(perm::INVENTORY_READ, &crate::company_path(company_id))
}
