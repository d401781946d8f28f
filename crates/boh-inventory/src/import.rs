//! Inventory master data and opening stock as spreadsheets: one [`Importer`] per kind, registered
//! in the platform's importer registry at start-up ([`register`]).
//!
//! - `categories`: by `code`; `parent_code` names a category of the company or of the same file.
//! - `items`: by `code`, in the columns of the item export (units as `case=12;bag=2`, barcodes
//!   as `6901234567890:case;6901234567891`); the checks are those of [`catalog::plan_items`].
//! - `suppliers`: by `code`, in the columns of the supplier export (`min_order` in major units,
//!   `delivery_days` as `1,3,5`); the checks are those of [`supplier::plan_suppliers`].
//! - `supplier_prices`: a supplier item (supplier × item × pack unit) is created when missing and
//!   a dated price appended; a row whose price is already recorded for that day adds nothing.
//! - `recipes`: rows grouped into one version per item × `effective_from`, lines in file order;
//!   a version that exists with the same lines is unchanged, one with other lines is refused
//!   (versions are never changed).
//! - `opening_balances`: one `opening` document per location × business date through
//!   [`ledger::post_in`]. The document carries the SHA-256 of its lines as its `source_id`: the
//!   same lines again find it and post nothing; any other opening for an item × location that
//!   already has one is refused (correct stock with an adjustment or a count instead).
//!
//! Catalogue kinds need `inventory.catalog.manage` at the company; opening balances need
//! `inventory.move.create` at each location (a location outside it is "not found"). Planning
//! reads each referenced table once (in chunks of 500 keys for `IN` lists); every problem is
//! reported with its row and column. Cells: a column missing from the file leaves that field as
//! it is; for items and suppliers an empty cell keeps the current value of a required field and
//! clears an optional one (category, POS code, units, barcodes, contact fields).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use boh_kernel::qty::MAX_QTY;
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::import::{
    BoxFuture, Changes, Column, Importer, Plan, PlanCtx, RowErrors, Spec, parse_number,
};
use boh_platform::org::{self, OrgNode};
use boh_platform::sheet::{Cell, Sheet, Table};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result};
use sqlx::AnyConnection;

use crate::catalog::{self, Barcode, ItemInput, ItemUnit, UpsertMode};
use crate::supplier::{self, SupplierInput};
use crate::validate_code;

/// Register the inventory importers.
pub fn register(p: &Platform) {
    p.importers.register(Arc::new(CategoriesImporter));
    p.importers.register(Arc::new(ItemsImporter));
    p.importers.register(Arc::new(SuppliersImporter));
}

const fn col(
    name: &'static str,
    required: bool,
    description: &'static str,
    description_zh: &'static str,
    example: &'static str,
) -> Column {
    Column {
        name,
        required,
        description,
        description_zh,
        example,
    }
}

// ---------------------------------------------------------------- shared helpers

/// The company an actor imports into: their own, or the one all their grants lie in.
fn company_of(actor: &Actor) -> Option<String> {
    if let Some(c) = &actor.company_id {
        return Some(c.clone());
    }
    let mut companies = actor.grants.iter().map(|g| {
        g.path
            .trim_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string()
    });
    let first = companies.next().filter(|c| !c.is_empty())?;
    companies.all(|c| c == first).then_some(first)
}

/// The company whose catalogue the actor changes, or a file error.
async fn catalog_company(cx: &PlanCtx<'_>, errors: &mut RowErrors) -> Result<Option<OrgNode>> {
    let Some(id) = company_of(cx.actor) else {
        errors.push_file("the import needs one company: your grants span several");
        return Ok(None);
    };
    let node = org::fetch(cx.platform, &id).await?;
    match node {
        Some(n) if n.kind == "company" && cx.actor.allows(perm::INVENTORY_CATALOG, &n.path) => {
            Ok(Some(n))
        }
        _ => {
            errors.push_file(format!(
                "you do not have the permission {} for the company's catalogue",
                perm::INVENTORY_CATALOG
            ));
            Ok(None)
        }
    }
}

/// The `row N, ` prefix of a row's field errors.
fn prefix(row: u32) -> String {
    catalog::row_prefix(row as usize)
}

/// Field errors named `row N, field` (from a shared validation) as row errors; `column` maps
/// the field to the file's column.
fn push_prefixed(errors: &mut RowErrors, fields: Vec<FieldError>, column: impl Fn(&str) -> String) {
    for f in fields {
        let parsed = f.field.strip_prefix("row ").and_then(|rest| {
            let (n, field) = rest.split_once(", ")?;
            Some((n.parse::<u32>().ok()?, field.to_string()))
        });
        match parsed {
            Some((n, field)) => errors.push(n, &column(&field), f.message),
            None => errors.push_file(format!("{}: {}", f.field, f.message)),
        }
    }
}

/// A non-empty cell.
fn some(v: Option<&str>) -> Option<String> {
    v.filter(|s| !s.is_empty()).map(str::to_string)
}

/// A yes/no cell (`true`/`false`, `yes`/`no`, `1`/`0`, `是`/`否`); empty is `None`.
fn parse_bool(errors: &mut RowErrors, row: u32, column: &str, v: Option<&str>) -> Option<bool> {
    let v = v.filter(|s| !s.is_empty())?;
    match v.to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" => Some(true),
        "false" | "no" | "n" | "0" | "否" => Some(false),
        _ => {
            errors.push(row, column, "must be true or false");
            None
        }
    }
}

/// A positive quantity cell, or a row error.
#[allow(dead_code)]
fn parse_qty(errors: &mut RowErrors, row: u32, column: &str, v: &str) -> Option<Qty> {
    if v.is_empty() {
        errors.push(row, column, "is required");
        return None;
    }
    match Qty::parse(v) {
        Ok(q) if q.micros() > 0 && q.micros() <= MAX_QTY => Some(q),
        Ok(q) if q.micros() <= 0 => {
            errors.push(row, column, "must be positive");
            None
        }
        Ok(_) => {
            errors.push(row, column, "is too large");
            None
        }
        Err(e) => {
            errors.push(row, column, e.to_string());
            None
        }
    }
}

/// A `YYYY-MM-DD` cell, or a row error.
#[allow(dead_code)]
fn parse_date(
    errors: &mut RowErrors,
    row: u32,
    column: &str,
    v: &str,
) -> Option<jiff::civil::Date> {
    let mut e = Vec::new();
    let Some(d) = crate::validate_date(&mut e, column, v) else {
        errors.push(row, column, "must be a date as YYYY-MM-DD");
        return None;
    };
    if d < jiff::civil::date(2000, 1, 1) {
        errors.push(row, column, "must be in the year 2000 or later");
        return None;
    }
    Some(d)
}

fn count(n: usize) -> usize {
    n
}

/// Errors found in several passes, in row order.
fn sorted(mut errors: RowErrors) -> RowErrors {
    errors.sort_by_row();
    errors
}

// ---------------------------------------------------------------- categories

const CATEGORY_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "Category code, unique in the company",
        "类别编码，公司内唯一",
        "DRY",
    ),
    col(
        "name_zh",
        false,
        "Chinese name (defaults to the English name)",
        "中文名称（默认同英文名称）",
        "干货",
    ),
    col(
        "name_en",
        false,
        "English name; required for a new category",
        "英文名称；新类别必填",
        "Dry goods",
    ),
    col(
        "parent_code",
        false,
        "Code of the parent category (in the company or this file); empty for a top-level one",
        "上级类别编码（公司已有或本文件中）；顶级类别留空",
        "FOOD",
    ),
    col(
        "sort",
        false,
        "Sort order, 0 to 1000000",
        "排序，0 到 1000000",
        "10",
    ),
];

pub static CATEGORIES_SPEC: Spec = Spec {
    kind: "categories",
    title: "Item categories",
    title_zh: "物品类别",
    permissions: &[perm::INVENTORY_CATALOG],
    key: "code",
    columns: CATEGORY_COLUMNS,
};

/// The `categories` importer.
pub struct CategoriesImporter;

impl Importer for CategoriesImporter {
    fn spec(&self) -> &'static Spec {
        &CATEGORIES_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_categories(cx, table))
    }
}

async fn plan_categories(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let mut errors = RowErrors::default();
    let Some(co) = catalog_company(cx, &mut errors).await? else {
        return Ok(Plan::rejected(errors));
    };
    let existing = catalog::list_categories(cx.platform, cx.actor, Some(&co.id)).await?;
    let by_code: HashMap<&str, &catalog::Category> =
        existing.iter().map(|c| (c.code.as_str(), c)).collect();
    let c_code = table.column("code");
    let c_zh = table.column("name_zh");
    let c_en = table.column("name_en");
    let c_parent = table.column("parent_code");
    let c_sort = table.column("sort");
    // Ids of the file's codes (existing or new), so that parents may come from the file.
    let mut ids: HashMap<String, String> = existing
        .iter()
        .map(|c| (c.code.clone(), c.id.clone()))
        .collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in &table.rows {
        let code = row.get(c_code).unwrap_or("").to_string();
        if !code.is_empty() && !ids.contains_key(&code) {
            ids.insert(code.clone(), new_id());
        }
    }
    struct Pending {
        row: u32,
        cat: catalog::Category,
        parent_code: Option<String>,
    }
    let mut pending: Vec<Pending> = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i);
        }
        let n = row.number;
        let mut e = Vec::new();
        let code = validate_code(&mut e, "code", row.get(c_code).unwrap_or(""));
        for f in e {
            errors.push(n, "code", f.message);
        }
        if code.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(&code) {
            errors.push(n, "code", format!("the same code is also in row {first}"));
            continue;
        }
        seen.insert(code.clone(), n);
        let cur = by_code.get(code.as_str()).copied();
        let name_en = some(row.get(c_en))
            .or_else(|| cur.map(|c| c.name_en.clone()))
            .or_else(|| some(row.get(c_zh)));
        let Some(name_en) = name_en else {
            errors.push(n, "name_en", "is required for a new category");
            continue;
        };
        let name_zh = some(row.get(c_zh))
            .or_else(|| cur.map(|c| c.name_zh.clone()))
            .unwrap_or_else(|| name_en.clone());
        for (column, v) in [("name_en", &name_en), ("name_zh", &name_zh)] {
            if v.chars().count() > 200 {
                errors.push(n, column, "must be at most 200 characters");
            }
        }
        let sort = match row.get(c_sort).filter(|s| !s.is_empty()) {
            Some(v) => match parse_number::<i64>(&mut errors, n, "sort", v) {
                Some(s) if (0..=1_000_000).contains(&s) => Some(s),
                Some(_) => {
                    errors.push(n, "sort", "must be between 0 and 1000000");
                    None
                }
                None => None,
            },
            None => None,
        };
        let parent_code = match row.get(c_parent) {
            // Column missing: the parent stays as it is.
            None => cur.and_then(|c| {
                c.parent_id
                    .as_deref()
                    .and_then(|pid| existing.iter().find(|x| x.id == pid))
                    .map(|x| x.code.clone())
            }),
            Some("") => None,
            Some(pc) => {
                if !ids.contains_key(pc) {
                    errors.push(n, "parent_code", format!("category {pc} not found"));
                    continue;
                }
                if pc == code {
                    errors.push(n, "parent_code", "a category cannot be placed under itself");
                    continue;
                }
                Some(pc.to_string())
            }
        };
        let cat = catalog::Category {
            id: ids.get(&code).cloned().unwrap_or_else(new_id),
            company_id: co.id.clone(),
            parent_id: parent_code.as_ref().and_then(|pc| ids.get(pc).cloned()),
            code: code.clone(),
            name_zh,
            name_en,
            sort: sort.or(cur.map(|c| c.sort)).unwrap_or(0),
        };
        pending.push(Pending {
            row: n,
            cat,
            parent_code,
        });
    }
    // The tree after the import: no category may end up under itself.
    let mut parent_of: HashMap<String, Option<String>> = existing
        .iter()
        .map(|c| (c.id.clone(), c.parent_id.clone()))
        .collect();
    for pd in &pending {
        parent_of.insert(pd.cat.id.clone(), pd.cat.parent_id.clone());
    }
    for pd in &pending {
        let mut at = pd.cat.parent_id.clone();
        let mut hops = 0;
        while let Some(a) = at {
            if a == pd.cat.id || hops > 64 {
                errors.push(
                    pd.row,
                    "parent_code",
                    format!(
                        "{} would end up under itself",
                        pd.parent_code.as_deref().unwrap_or("")
                    ),
                );
                break;
            }
            hops += 1;
            at = parent_of.get(&a).cloned().flatten();
        }
    }
    cx.progress(table.len());
    if !errors.is_empty() {
        return Ok(Plan::rejected(errors));
    }
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut unchanged = 0;
    for pd in pending {
        match by_code.get(pd.cat.code.as_str()) {
            None => inserts.push(pd.cat),
            Some(c) if **c == pd.cat => unchanged += 1,
            Some(c) => updates.push(((*c).clone(), pd.cat)),
        }
    }
    // Parents before children (a new parent may be in the same file).
    let new_ids: HashSet<String> = inserts.iter().map(|c| c.id.clone()).collect();
    let depth = |c: &catalog::Category| {
        let mut d = 0;
        let mut at = c.parent_id.clone();
        while let Some(a) = at.filter(|a| new_ids.contains(a)) {
            d += 1;
            if d > 64 {
                break;
            }
            at = parent_of.get(&a).cloned().flatten();
        }
        d
    };
    inserts.sort_by_key(|c| depth(c));
    Ok(Plan {
        errors,
        created: count(inserts.len()),
        updated: count(updates.len()),
        unchanged,
        changes: Box::new(CategoryChanges {
            company_path: co.path.clone(),
            inserts,
            updates,
        }),
    })
}

struct CategoryChanges {
    company_path: String,
    inserts: Vec<catalog::Category>,
    updates: Vec<(catalog::Category, catalog::Category)>,
}

impl Changes for CategoryChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let t = now().micros();
            for chunk in self.inserts.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_categories (id, company_id, parent_id, code, name_zh, name_en, sort, created_at, updated_at) VALUES {}",
                    boh_platform::util::values_list(tx, chunk.len(), 9)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for c in chunk {
                    q = q
                        .bind(&c.id)
                        .bind(&c.company_id)
                        .bind(c.parent_id.as_deref())
                        .bind(&c.code)
                        .bind(&c.name_zh)
                        .bind(&c.name_en)
                        .bind(c.sort)
                        .bind(t)
                        .bind(t);
                }
                let r = q.execute(&mut *tx).await;
                boh_platform::error::unique_conflict(r, "code", || {
                    "a category with one of these codes was created concurrently; retry".into()
                })?;
            }
            for (_, c) in &self.updates {
                sqlx::query(
                    "UPDATE inv_categories SET parent_id = $1, name_zh = $2, name_en = $3, sort = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(c.parent_id.as_deref())
                .bind(&c.name_zh)
                .bind(&c.name_en)
                .bind(c.sort)
                .bind(t)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
            }
            let mut changes = Vec::with_capacity(self.inserts.len() + self.updates.len());
            for c in &self.inserts {
                changes.push(Change {
                    action: "inventory.category.create",
                    entity_type: "inv_category",
                    entity_id: &c.id,
                    org_path: Some(&self.company_path),
                    before: None,
                    after: serde_json::to_value(c).ok(),
                });
            }
            for (b, a) in &self.updates {
                changes.push(Change {
                    action: "inventory.category.update",
                    entity_type: "inv_category",
                    entity_id: &a.id,
                    org_path: Some(&self.company_path),
                    before: serde_json::to_value(b).ok(),
                    after: serde_json::to_value(a).ok(),
                });
            }
            audit::append_many(tx, ctx, &changes).await?;
            Ok(())
        })
    }
}

/// The company's categories as a sheet in the importer's columns (parents first).
pub async fn export_categories(p: &Platform, actor: &Actor) -> Result<Sheet> {
    let cats = catalog::list_categories(p, actor, None).await?;
    let codes: HashMap<&str, &str> = cats
        .iter()
        .map(|c| (c.id.as_str(), c.code.as_str()))
        .collect();
    let rows = cats
        .iter()
        .map(|c| {
            vec![
                Cell::Text(c.code.clone()),
                Cell::Text(c.name_zh.clone()),
                Cell::Text(c.name_en.clone()),
                Cell::from(
                    c.parent_id
                        .as_deref()
                        .and_then(|id| codes.get(id))
                        .map(|s| s.to_string()),
                ),
                Cell::Int(c.sort),
            ]
        })
        .collect();
    Ok(boh_platform::import::export_sheet(
        "categories",
        &CATEGORY_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(),
        rows,
    ))
}

// ---------------------------------------------------------------- items

const ITEM_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "Item code, unique in the company; matches existing items",
        "物品编码，公司内唯一；按编码匹配已有物品",
        "FLOUR-25",
    ),
    col(
        "name_zh",
        false,
        "Chinese name (defaults to the English name)",
        "中文名称（默认同英文名称）",
        "高筋面粉",
    ),
    col(
        "name_en",
        false,
        "English name; required for a new item",
        "英文名称；新物品必填",
        "Bread flour",
    ),
    col(
        "category_code",
        false,
        "Code of the item's category; empty for none",
        "所属类别编码；留空表示无类别",
        "DRY",
    ),
    col(
        "kind",
        false,
        "ingredient, prepared, menu, packaging, retail, supply or part (new items: ingredient)",
        "类型：ingredient、prepared、menu、packaging、retail、supply 或 part（默认 ingredient）",
        "ingredient",
    ),
    col(
        "base_unit",
        false,
        "The stock unit (kg, l, ea, …); required for a new item, never changed",
        "库存单位（kg、l、ea 等）；新物品必填，之后不可更改",
        "kg",
    ),
    col(
        "storage_type",
        false,
        "ambient, chilled or frozen (new items: ambient)",
        "储存方式：ambient、chilled 或 frozen（默认 ambient）",
        "ambient",
    ),
    col(
        "shelf_life_days",
        false,
        "Shelf life in days, 1 to 3650",
        "保质期天数，1 到 3650",
        "180",
    ),
    col(
        "lot_tracked",
        false,
        "true when stock is kept by lot (batch) and expiry",
        "是否按批次和效期管理（true/false）",
        "false",
    ),
    col(
        "stocked",
        false,
        "false for items never held in stock (menu items)",
        "是否入库存（菜品为 false）",
        "true",
    ),
    col(
        "pos_code",
        false,
        "The code the POS system sells the item under",
        "收银系统中的商品编码",
        "",
    ),
    col(
        "active",
        false,
        "false to retire the item",
        "停用填 false",
        "true",
    ),
    col(
        "units",
        false,
        "The item's own units as unit=base units, separated by ; (e.g. bag=25;case=100)",
        "物品自有单位，格式 单位=基本单位数量，用 ; 分隔（如 bag=25;case=100）",
        "bag=25",
    ),
    col(
        "barcodes",
        false,
        "Barcodes as code or code:unit, separated by ;",
        "条码，格式 条码 或 条码:单位，用 ; 分隔",
        "6901234567890:bag",
    ),
];

pub static ITEMS_SPEC: Spec = Spec {
    kind: "items",
    title: "Items",
    title_zh: "物品",
    permissions: &[perm::INVENTORY_CATALOG],
    key: "code",
    columns: ITEM_COLUMNS,
};

/// The `items` importer.
pub struct ItemsImporter;

impl Importer for ItemsImporter {
    fn spec(&self) -> &'static Spec {
        &ITEMS_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_items(cx, table))
    }
}

fn item_column(field: &str) -> String {
    if field.starts_with("units") {
        "units".into()
    } else if field.starts_with("barcodes") {
        "barcodes".into()
    } else {
        match field {
            "category_id" => "category_code".into(),
            "version" => "code".into(),
            other => other.into(),
        }
    }
}

/// `bag=25;case=100`.
fn parse_units(errors: &mut RowErrors, row: u32, v: &str) -> Option<Vec<ItemUnit>> {
    let mut out = Vec::new();
    for part in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((unit, factor)) = part.split_once('=') else {
            errors.push(
                row,
                "units",
                format!("{part}: write each unit as unit=base units, e.g. case=12"),
            );
            return None;
        };
        match Qty::parse(factor.trim()) {
            Ok(f) => out.push(ItemUnit {
                unit: unit.trim().to_string(),
                factor: f,
            }),
            Err(_) => {
                errors.push(
                    row,
                    "units",
                    format!("{part}: the factor must be a number of base units"),
                );
                return None;
            }
        }
    }
    Some(out)
}

/// `6901234567890:case;6901234567891`.
fn parse_barcodes(v: &str) -> Vec<Barcode> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|part| match part.split_once(':') {
            Some((code, unit)) => Barcode {
                barcode: code.trim().to_string(),
                unit: unit.trim().to_string(),
            },
            None => Barcode {
                barcode: part.to_string(),
                unit: String::new(),
            },
        })
        .collect()
}

async fn plan_items(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let mut errors = RowErrors::default();
    let Some(co) = catalog_company(cx, &mut errors).await? else {
        return Ok(Plan::rejected(errors));
    };
    let c = |name: &str| table.column(name);
    let (c_code, c_zh, c_en, c_cat, c_kind, c_base) = (
        c("code"),
        c("name_zh"),
        c("name_en"),
        c("category_code"),
        c("kind"),
        c("base_unit"),
    );
    let (c_storage, c_shelf, c_lot, c_stocked, c_pos, c_active, c_units, c_codes) = (
        c("storage_type"),
        c("shelf_life_days"),
        c("lot_tracked"),
        c("stocked"),
        c("pos_code"),
        c("active"),
        c("units"),
        c("barcodes"),
    );
    let mut inputs: Vec<(String, ItemInput)> = Vec::with_capacity(table.len());
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i / 2);
        }
        let n = row.number;
        let shelf_life_days = some(row.get(c_shelf))
            .and_then(|v| parse_number::<i64>(&mut errors, n, "shelf_life_days", &v));
        let lot_tracked = parse_bool(&mut errors, n, "lot_tracked", row.get(c_lot));
        let stocked = parse_bool(&mut errors, n, "stocked", row.get(c_stocked));
        let active = parse_bool(&mut errors, n, "active", row.get(c_active));
        let units = match row.get(c_units) {
            None => None,
            Some(v) => parse_units(&mut errors, n, v),
        };
        // A row with bad cells still goes through the shared checks (with those cells left
        // out), so that duplicates and the other columns are reported too.
        inputs.push((
            prefix(n),
            ItemInput {
                company_id: None,
                code: row.get(c_code).unwrap_or("").to_string(),
                name: None,
                name_zh: some(row.get(c_zh)),
                name_en: some(row.get(c_en)),
                category_id: None,
                category_code: row.get(c_cat).map(str::to_string),
                kind: some(row.get(c_kind)),
                base_unit: some(row.get(c_base)),
                storage_type: some(row.get(c_storage)),
                shelf_life_days,
                lot_tracked,
                stocked,
                pos_code: row.get(c_pos).map(str::to_string),
                active,
                units,
                barcodes: row.get(c_codes).map(parse_barcodes),
                version: None,
            },
        ));
    }
    let planned =
        catalog::plan_items(cx.platform, cx.actor, &co, &inputs, UpsertMode::Upsert).await;
    cx.progress(table.len());
    let plan = match planned {
        Ok(plan) => plan,
        Err(PlatformError::Validation(fields)) => {
            push_prefixed(&mut errors, fields, item_column);
            return Ok(Plan::rejected(sorted(errors)));
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Ok(Plan::rejected(errors));
    }
    Ok(Plan {
        errors,
        created: plan.inserts.len(),
        updated: plan.updates.len(),
        unchanged: usize::try_from(plan.report.unchanged).unwrap_or(0),
        changes: Box::new(ItemChanges(plan)),
    })
}

struct ItemChanges(catalog::ItemsPlan);

impl Changes for ItemChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(catalog::apply_items(tx, ctx, &self.0))
    }
}

// ---------------------------------------------------------------- suppliers

const SUPPLIER_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "Supplier code, unique in the company; matches existing suppliers",
        "供应商编码，公司内唯一；按编码匹配已有供应商",
        "SUP-001",
    ),
    col(
        "name_zh",
        false,
        "Chinese name (defaults to the English name)",
        "中文名称（默认同英文名称）",
        "华东粮油",
    ),
    col(
        "name_en",
        false,
        "English name; required for a new supplier",
        "英文名称；新供应商必填",
        "East China Grain & Oil",
    ),
    col("contact_name", false, "Contact person", "联系人", "王强"),
    col("phone", false, "Phone", "电话", "+86 21 5555 0101"),
    col("email", false, "E-mail", "电子邮件", "orders@example.cn"),
    col("address", false, "Address", "地址", "上海市浦东新区 1 号"),
    col(
        "lead_time_days",
        false,
        "Days from order to delivery, 0 to 365 (new suppliers: 1)",
        "下单到送达天数，0 到 365（默认 1）",
        "2",
    ),
    col(
        "delivery_days",
        false,
        "ISO weekdays the supplier delivers on, 1 (Monday) to 7, e.g. 1,3,5 (new: every day)",
        "送货日（ISO 星期，1 为周一到 7 为周日），如 1,3,5（默认每天）",
        "1,3,5",
    ),
    col(
        "min_order",
        false,
        "Smallest order in the supplier's currency, e.g. 500.00",
        "最低订货金额（供应商币种），如 500.00",
        "500.00",
    ),
    col(
        "currency",
        false,
        "ISO 4217 currency (new suppliers: CNY); fixed once the supplier has prices",
        "币种 ISO 4217（默认 CNY）；有价格后不可更改",
        "CNY",
    ),
    col(
        "active",
        false,
        "false to close the supplier",
        "停用填 false",
        "true",
    ),
];

pub static SUPPLIERS_SPEC: Spec = Spec {
    kind: "suppliers",
    title: "Suppliers",
    title_zh: "供应商",
    permissions: &[perm::INVENTORY_CATALOG],
    key: "code",
    columns: SUPPLIER_COLUMNS,
};

/// The `suppliers` importer.
pub struct SuppliersImporter;

impl Importer for SuppliersImporter {
    fn spec(&self) -> &'static Spec {
        &SUPPLIERS_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_suppliers(cx, table))
    }
}

fn supplier_column(field: &str) -> String {
    match field {
        "min_order_minor" => "min_order".into(),
        "version" => "code".into(),
        other => other.into(),
    }
}

async fn plan_suppliers(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let mut errors = RowErrors::default();
    let Some(co) = catalog_company(cx, &mut errors).await? else {
        return Ok(Plan::rejected(errors));
    };
    let c = |name: &str| table.column(name);
    let mut inputs: Vec<(String, SupplierInput)> = Vec::with_capacity(table.len());
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i / 2);
        }
        let n = row.number;
        let lead = some(row.get(c("lead_time_days")))
            .and_then(|v| parse_number::<i64>(&mut errors, n, "lead_time_days", &v));
        let days = match some(row.get(c("delivery_days"))) {
            None => None,
            Some(v) => {
                let parsed: std::result::Result<Vec<i64>, _> = v
                    .split([',', ';', ' ', '，'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::parse::<i64>)
                    .collect();
                match parsed {
                    Ok(d) => Some(d),
                    Err(_) => {
                        errors.push(
                            n,
                            "delivery_days",
                            "must list ISO weekdays from 1 (Monday) to 7 (Sunday), e.g. 1,3,5",
                        );
                        None
                    }
                }
            }
        };
        let min_order = match some(row.get(c("min_order"))) {
            None => None,
            Some(v) => match boh_kernel::qty::parse_money(&v) {
                Ok(m) => Some(m),
                Err(_) => {
                    errors.push(
                        n,
                        "min_order",
                        "must be an amount with at most 2 decimals, e.g. 500.00",
                    );
                    None
                }
            },
        };
        let active = parse_bool(&mut errors, n, "active", row.get(c("active")));
        inputs.push((
            prefix(n),
            SupplierInput {
                company_id: None,
                code: row.get(c("code")).unwrap_or("").to_string(),
                name: None,
                name_zh: some(row.get(c("name_zh"))),
                name_en: some(row.get(c("name_en"))),
                contact_name: row.get(c("contact_name")).map(str::to_string),
                phone: row.get(c("phone")).map(str::to_string),
                email: row.get(c("email")).map(str::to_string),
                address: row.get(c("address")).map(str::to_string),
                lead_time_days: lead,
                delivery_days: days,
                min_order_minor: min_order,
                currency: some(row.get(c("currency"))),
                active,
                version: None,
            },
        ));
    }
    let planned = supplier::plan_suppliers(cx.platform, &co, &inputs, UpsertMode::Upsert).await;
    cx.progress(table.len());
    let plan = match planned {
        Ok(plan) => plan,
        Err(PlatformError::Validation(fields)) => {
            push_prefixed(&mut errors, fields, supplier_column);
            return Ok(Plan::rejected(sorted(errors)));
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Ok(Plan::rejected(errors));
    }
    Ok(Plan {
        errors,
        created: plan.inserts.len(),
        updated: plan.updates.len(),
        unchanged: usize::try_from(plan.report.unchanged).unwrap_or(0),
        changes: Box::new(SupplierChanges(plan)),
    })
}

struct SupplierChanges(supplier::SuppliersPlan);

impl Changes for SupplierChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(supplier::apply_suppliers(tx, ctx, &self.0))
    }
}
