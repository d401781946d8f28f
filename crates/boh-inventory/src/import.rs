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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use boh_db::{Backend, Row};
use boh_kernel::qty::{MAX_QTY, MICRO, mul_div_round, parse_scaled};
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::import::{
    BoxFuture, Changes, Column, Importer, Plan, PlanCtx, RowErrors, Spec, parse_number,
};
use boh_platform::org::{self, OrgNode};
use boh_platform::sheet::{Cell, Sheet, Table};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde_json::json;
use sqlx::AnyConnection;

use crate::catalog::{self, Barcode, Item, ItemInput, ItemUnit, UpsertMode};
use crate::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};
use crate::supplier::{self, SupplierInput};
use crate::{in_placeholders, validate_code};

/// Register the inventory importers.
pub fn register(p: &Platform) {
    p.importers.register(Arc::new(CategoriesImporter));
    p.importers.register(Arc::new(ItemsImporter));
    p.importers.register(Arc::new(SuppliersImporter));
    p.importers.register(Arc::new(PricesImporter));
    p.importers.register(Arc::new(RecipesImporter));
    p.importers.register(Arc::new(OpeningImporter));
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

/// The plan of a module's own bulk planner (`plan_items`, `plan_suppliers`), whose field
/// errors join the importer's as row errors (`None` when it refused the rows).
fn from_module<P>(
    planned: Result<P>,
    errors: &mut RowErrors,
    column: impl Fn(&str) -> String,
) -> Result<Option<P>> {
    match planned {
        Ok(plan) => Ok(Some(plan)),
        Err(PlatformError::Validation(fields)) => {
            push_prefixed(errors, fields, column);
            Ok(None)
        }
        Err(e) => Err(e),
    }
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
    let plan = match from_module(planned, &mut errors, item_column)? {
        Some(plan) if errors.is_empty() => plan,
        _ => return Ok(Plan::rejected(sorted(errors))),
    };
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
        Box::pin(async move {
            catalog::apply_items(tx, ctx, &self.0).await?;
            let rows = self.0.inserts.len() + self.0.updates.len();
            analyze_after_bulk(tx, rows, "inv_items, inv_item_units, inv_item_barcodes").await
        })
    }
}

/// After a bulk write on PostgreSQL, refresh the planner's statistics of the tables in the same
/// transaction. Without it the next import of the same codes (before autovacuum has analysed the
/// tables) is planned for the tables as they were, with sequential scans for every chunk of
/// codes: a re-import of 100,000 items took minutes instead of seconds.
async fn analyze_after_bulk(tx: &mut AnyConnection, rows: usize, tables: &str) -> Result<()> {
    if rows >= 5_000 && !tx.backend_name().eq_ignore_ascii_case("sqlite") {
        sqlx::query(boh_db::AssertSqlSafe(format!("ANALYZE {tables}")))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
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
    let plan = match from_module(planned, &mut errors, supplier_column)? {
        Some(plan) if errors.is_empty() => plan,
        _ => return Ok(Plan::rejected(sorted(errors))),
    };
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

// ---------------------------------------------------------------- supplier prices

const PRICE_COLUMNS: &[Column] = &[
    col(
        "supplier_code",
        true,
        "Code of an open supplier",
        "供应商编码（未停用）",
        "SUP-001",
    ),
    col(
        "item_code",
        true,
        "Code of the item",
        "物品编码",
        "FLOUR-25",
    ),
    col(
        "supplier_sku",
        false,
        "The supplier's own code for the item",
        "供应商的商品编码",
        "HD-8812",
    ),
    col(
        "pack_unit",
        false,
        "The unit the supplier sells and prices it in: the base unit (default) or one the item converts",
        "供应商销售和报价的单位：基本单位（默认）或物品可换算的单位",
        "bag",
    ),
    col(
        "price",
        true,
        "Price of one pack unit in the supplier's currency, e.g. 125.50",
        "每个包装单位的价格（供应商币种），如 125.50",
        "125.50",
    ),
    col(
        "effective_from",
        false,
        "First day the price applies, YYYY-MM-DD (default today; at most a year ahead)",
        "价格生效日期 YYYY-MM-DD（默认今天；最多提前一年）",
        "2027-01-01",
    ),
    col(
        "preferred",
        false,
        "true when this supplier is preferred for the item",
        "是否为该物品的首选供应商（true/false）",
        "true",
    ),
    col(
        "note",
        false,
        "Quote number or reason",
        "报价单号或说明",
        "Q-2027-01",
    ),
];

pub static PRICES_SPEC: Spec = Spec {
    kind: "supplier_prices",
    title: "Supplier prices",
    title_zh: "供应商价格",
    permissions: &[perm::INVENTORY_CATALOG],
    key: "supplier_code, item_code, pack_unit, effective_from",
    columns: PRICE_COLUMNS,
};

/// The `supplier_prices` importer.
pub struct PricesImporter;

impl Importer for PricesImporter {
    fn spec(&self) -> &'static Spec {
        &PRICES_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_prices(cx, table))
    }
}

/// A supplier item row as the importer reads and writes it.
#[derive(Debug, Clone, PartialEq)]
struct Si {
    id: String,
    supplier_id: String,
    item_id: String,
    supplier_sku: Option<String>,
    pack_unit: String,
    preferred: bool,
    active: bool,
}

/// Distinct non-empty cells of a column.
fn distinct(table: &Table, column: Option<usize>) -> Vec<String> {
    let mut out: Vec<String> = table
        .rows
        .iter()
        .filter_map(|r| some(r.get(column)))
        .collect();
    out.sort();
    out.dedup();
    out
}

async fn supplier_items_of(p: &Platform, supplier_ids: &[String]) -> Result<Vec<Si>> {
    let mut out = Vec::new();
    for chunk in supplier_ids.chunks(500) {
        let sql = format!(
            "SELECT id, supplier_id, item_id, supplier_sku, pack_unit, preferred, active FROM inv_supplier_items \
             WHERE supplier_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.push(Si {
                id: r.try_get("id")?,
                supplier_id: r.try_get("supplier_id")?,
                item_id: r.try_get("item_id")?,
                supplier_sku: r.try_get("supplier_sku")?,
                pack_unit: r.try_get("pack_unit")?,
                preferred: r.try_get::<i64, _>("preferred")? != 0,
                active: r.try_get::<i64, _>("active")? != 0,
            });
        }
    }
    Ok(out)
}

/// Recorded prices of supplier items: (supplier item, effective_from) → [(price, pack factor)].
async fn prices_of(
    p: &Platform,
    si_ids: &[String],
) -> Result<HashMap<(String, String), Vec<(i64, i64)>>> {
    let mut out: HashMap<(String, String), Vec<(i64, i64)>> = HashMap::new();
    for chunk in si_ids.chunks(500) {
        let sql = format!(
            "SELECT supplier_item_id, effective_from, price_minor, pack_factor FROM inv_supplier_prices \
             WHERE supplier_item_id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.entry((r.try_get("supplier_item_id")?, r.try_get("effective_from")?))
                .or_default()
                .push((r.try_get("price_minor")?, r.try_get("pack_factor")?));
        }
    }
    Ok(out)
}

struct NewPrice {
    id: String,
    supplier_item_id: String,
    supplier_id: String,
    item_id: String,
    item_code: String,
    pack_unit: String,
    pack_factor: i64,
    price_minor: i64,
    currency: String,
    effective_from: String,
    note: Option<String>,
}

async fn plan_prices(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let p = cx.platform;
    let mut errors = RowErrors::default();
    let Some(co) = catalog_company(cx, &mut errors).await? else {
        return Ok(Plan::rejected(errors));
    };
    let c = |name: &str| table.column(name);
    let (c_sup, c_item, c_sku, c_unit, c_price, c_date, c_pref, c_note) = (
        c("supplier_code"),
        c("item_code"),
        c("supplier_sku"),
        c("pack_unit"),
        c("price"),
        c("effective_from"),
        c("preferred"),
        c("note"),
    );
    let suppliers = supplier::suppliers_by_code(p, &co.id, &distinct(table, c_sup)).await?;
    let items = catalog::items_by_code(p, &co.id, &distinct(table, c_item)).await?;
    let sup_ids: Vec<String> = suppliers.values().map(|s| s.id.clone()).collect();
    let existing = supplier_items_of(p, &sup_ids).await?;
    let si_ids: Vec<String> = existing.iter().map(|s| s.id.clone()).collect();
    let recorded = prices_of(p, &si_ids).await?;
    let mut by_key: HashMap<(String, String, String), Si> = existing
        .into_iter()
        .map(|s| {
            (
                (
                    s.supplier_id.clone(),
                    s.item_id.clone(),
                    s.pack_unit.clone(),
                ),
                s,
            )
        })
        .collect();
    let originals = by_key.clone();
    let today = crate::today_in(&co.timezone);
    let latest = today
        .checked_add(jiff::Span::new().days(366))
        .unwrap_or(today);
    let mut seen: HashMap<(String, String, String, String), u32> = HashMap::new();
    let mut prices: Vec<NewPrice> = Vec::new();
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i);
        }
        let n = row.number;
        let before = errors.count();
        let sup_code = row.get(c_sup).unwrap_or("");
        let item_code = row.get(c_item).unwrap_or("");
        let sup = match suppliers.get(sup_code) {
            _ if sup_code.is_empty() => {
                errors.push(n, "supplier_code", "is required");
                None
            }
            None => {
                errors.push(n, "supplier_code", format!("supplier {sup_code} not found"));
                None
            }
            Some(s) if !s.active => {
                errors.push(
                    n,
                    "supplier_code",
                    format!("supplier {sup_code} is closed: it gets no new prices"),
                );
                None
            }
            Some(s) => Some(s),
        };
        let item = match items.get(item_code) {
            _ if item_code.is_empty() => {
                errors.push(n, "item_code", "is required");
                None
            }
            None => {
                errors.push(n, "item_code", format!("item {item_code} not found"));
                None
            }
            Some(it) if !it.active => {
                errors.push(n, "item_code", format!("item {item_code} is inactive"));
                None
            }
            Some(it) => Some(it),
        };
        let price = match row.get(c_price).unwrap_or("") {
            "" => {
                errors.push(n, "price", "is required");
                None
            }
            v => match boh_kernel::qty::parse_money(v) {
                Ok(m) if (1..=supplier::MAX_MONEY).contains(&m) => Some(m),
                _ => {
                    errors.push(
                        n,
                        "price",
                        "must be a positive amount with at most 2 decimals, e.g. 125.50",
                    );
                    None
                }
            },
        };
        let date = match row.get(c_date).filter(|s| !s.is_empty()) {
            None => Some(today),
            Some(v) => match parse_date(&mut errors, n, "effective_from", v) {
                Some(d) if d > latest => {
                    errors.push(n, "effective_from", "may be at most a year ahead");
                    None
                }
                d => d,
            },
        };
        let sku = some(row.get(c_sku));
        if sku.as_deref().is_some_and(|s| s.chars().count() > 64) {
            errors.push(n, "supplier_sku", "must be at most 64 characters");
        }
        let note = some(row.get(c_note));
        if note.as_deref().is_some_and(|s| s.chars().count() > 500) {
            errors.push(n, "note", "must be at most 500 characters");
        }
        let preferred = parse_bool(&mut errors, n, "preferred", row.get(c_pref));
        let Some(item) = item else { continue };
        let unit = some(row.get(c_unit))
            .map(|u| u.to_lowercase())
            .unwrap_or_else(|| item.base_unit.clone());
        let factor = item.conversions().factor(&unit).filter(|f| *f > 0);
        if factor.is_none() {
            errors.push(
                n,
                "pack_unit",
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            );
        }
        let (Some(sup), Some(price), Some(date), Some(factor)) = (sup, price, date, factor) else {
            continue;
        };
        if errors.count() > before {
            continue;
        }
        let date = date.to_string();
        let key = (sup.id.clone(), item.id.clone(), unit.clone(), date.clone());
        if let Some(first) = seen.get(&key) {
            errors.push(
                n,
                "effective_from",
                format!("the same supplier, item, pack unit and date are also in row {first}"),
            );
            continue;
        }
        seen.insert(key, n);
        let si_key = (sup.id.clone(), item.id.clone(), unit.clone());
        let si = by_key.entry(si_key.clone()).or_insert_with(|| Si {
            id: new_id(),
            supplier_id: sup.id.clone(),
            item_id: item.id.clone(),
            supplier_sku: None,
            pack_unit: unit.clone(),
            preferred: false,
            active: true,
        });
        if !si.active {
            errors.push(
                n,
                "item_code",
                format!(
                    "{} in {unit} is no longer bought from {}; reactivate it first",
                    item.code, sup.code
                ),
            );
            continue;
        }
        let before_si = si.clone();
        if let Some(s) = sku {
            si.supplier_sku = Some(s);
        }
        if let Some(pf) = preferred {
            si.preferred = pf;
        }
        let si_changed = originals.contains_key(&si_key) && *si != before_si;
        let known = recorded
            .get(&(si.id.clone(), date.clone()))
            .is_some_and(|v| v.iter().any(|(pr, f)| *pr == price && *f == factor));
        if !known {
            created += 1;
            prices.push(NewPrice {
                id: new_id(),
                supplier_item_id: si.id.clone(),
                supplier_id: sup.id.clone(),
                item_id: item.id.clone(),
                item_code: item.code.clone(),
                pack_unit: unit,
                pack_factor: factor,
                price_minor: price,
                currency: sup.currency.clone(),
                effective_from: date,
                note,
            });
        } else if si_changed {
            updated += 1;
        } else {
            unchanged += 1;
        }
    }
    cx.progress(table.len());
    if !errors.is_empty() {
        return Ok(Plan::rejected(errors));
    }
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for (key, si) in by_key {
        match originals.get(&key) {
            None => inserts.push(si),
            Some(o) if *o != si => updates.push((o.clone(), si)),
            Some(_) => {}
        }
    }
    inserts.sort_by(|a, b| a.id.cmp(&b.id));
    updates.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    Ok(Plan {
        errors,
        created,
        updated,
        unchanged,
        changes: Box::new(PriceChanges {
            company_id: co.id.clone(),
            company_path: co.path.clone(),
            inserts,
            updates,
            prices,
        }),
    })
}

struct PriceChanges {
    company_id: String,
    company_path: String,
    inserts: Vec<Si>,
    updates: Vec<(Si, Si)>,
    prices: Vec<NewPrice>,
}

fn si_json(s: &Si) -> serde_json::Value {
    json!({
        "id": s.id, "supplier_id": s.supplier_id, "item_id": s.item_id,
        "supplier_sku": s.supplier_sku, "pack_unit": s.pack_unit,
        "preferred": s.preferred, "active": s.active,
    })
}

impl Changes for PriceChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let t = now().micros();
            for chunk in self.inserts.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_supplier_items (id, company_id, supplier_id, item_id, supplier_sku, pack_unit, \
                     preferred, active, created_at, updated_at) VALUES {}",
                    boh_platform::util::values_list(tx, chunk.len(), 10)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for s in chunk {
                    q = q
                        .bind(&s.id)
                        .bind(&self.company_id)
                        .bind(&s.supplier_id)
                        .bind(&s.item_id)
                        .bind(s.supplier_sku.as_deref())
                        .bind(&s.pack_unit)
                        .bind(i64::from(s.preferred))
                        .bind(i64::from(s.active))
                        .bind(t)
                        .bind(t);
                }
                let r = q.execute(&mut *tx).await;
                boh_platform::error::unique_conflict(r, "pack_unit", || {
                    "an item was added to a supplier concurrently; retry".into()
                })?;
            }
            for (_, s) in &self.updates {
                sqlx::query(
                    "UPDATE inv_supplier_items SET supplier_sku = $1, preferred = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(s.supplier_sku.as_deref())
                .bind(i64::from(s.preferred))
                .bind(t)
                .bind(&s.id)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in self.prices.chunks(400) {
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
                        .bind(&ctx.actor.user_id)
                        .bind(pr.pack_factor);
                }
                q.execute(&mut *tx).await?;
            }
            let path = Some(self.company_path.as_str());
            let mut changes = Vec::new();
            for s in &self.inserts {
                changes.push(Change {
                    action: "inventory.supplier_item.create",
                    entity_type: "inv_supplier_item",
                    entity_id: &s.id,
                    org_path: path,
                    before: None,
                    after: Some(si_json(s)),
                });
            }
            for (b, a) in &self.updates {
                changes.push(Change {
                    action: "inventory.supplier_item.update",
                    entity_type: "inv_supplier_item",
                    entity_id: &a.id,
                    org_path: path,
                    before: Some(si_json(b)),
                    after: Some(si_json(a)),
                });
            }
            for pr in &self.prices {
                changes.push(Change {
                    action: "inventory.supplier_price.add",
                    entity_type: "inv_supplier_price",
                    entity_id: &pr.id,
                    org_path: path,
                    before: None,
                    after: Some(json!({
                        "supplier_item_id": pr.supplier_item_id, "item_code": pr.item_code,
                        "pack_unit": pr.pack_unit, "pack_factor": Qty(pr.pack_factor),
                        "price_minor": pr.price_minor, "currency": pr.currency,
                        "effective_from": pr.effective_from, "note": pr.note,
                        "unit_cost_e6": ledger::unit_cost(pr.price_minor, pr.pack_factor),
                    })),
                });
            }
            audit::append_many(tx, ctx, &changes).await?;
            // One event per supplier with new prices, like `supplier::add_prices`.
            let mut by_supplier: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
            for pr in &self.prices {
                by_supplier.entry(&pr.supplier_id).or_default().push(json!({
                    "id": pr.id, "item_id": pr.item_id, "pack_unit": pr.pack_unit,
                    "price_minor": pr.price_minor, "currency": pr.currency,
                    "effective_from": pr.effective_from,
                }));
            }
            let outbox: Vec<(&str, Option<&str>, serde_json::Value)> = by_supplier
                .into_iter()
                .map(|(sid, prices)| {
                    (
                        "inventory.prices.added",
                        path,
                        json!({"company_id": self.company_id, "supplier_id": sid, "prices": prices}),
                    )
                })
                .collect();
            events::emit_many(tx, &outbox).await?;
            Ok(())
        })
    }
}

/// Every recorded price of the company's suppliers (the price history), as a sheet in the
/// importer's columns: importing it back adds nothing.
pub async fn export_prices(p: &Platform, actor: &Actor) -> Result<Sheet> {
    let co = crate::company(p, actor, None).await?;
    let rows = sqlx::query(
        "SELECT s.code AS supplier_code, i.code AS item_code, si.supplier_sku, si.pack_unit, sp.price_minor, \
         sp.effective_from, si.preferred, sp.note FROM inv_supplier_prices sp \
         JOIN inv_supplier_items si ON si.id = sp.supplier_item_id JOIN inv_suppliers s ON s.id = si.supplier_id \
         JOIN inv_items i ON i.id = si.item_id WHERE s.company_id = $1 \
         ORDER BY s.code, i.code, si.pack_unit, sp.effective_from, sp.created_at, sp.id",
    )
    .bind(&co.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(vec![
            Cell::Text(r.try_get("supplier_code")?),
            Cell::Text(r.try_get("item_code")?),
            Cell::from(r.try_get::<Option<String>, _>("supplier_sku")?),
            Cell::Text(r.try_get("pack_unit")?),
            Cell::Text(boh_kernel::qty::money_text(r.try_get("price_minor")?)),
            Cell::Date(r.try_get("effective_from")?),
            Cell::Text((r.try_get::<i64, _>("preferred")? != 0).to_string()),
            Cell::from(r.try_get::<Option<String>, _>("note")?),
        ]);
    }
    Ok(boh_platform::import::export_sheet(
        "supplier_prices",
        &PRICE_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(),
        out,
    ))
}

// ---------------------------------------------------------------- recipes

const RECIPE_COLUMNS: &[Column] = &[
    col(
        "item_code",
        true,
        "Code of the menu or prepared item the recipe makes",
        "菜品或半成品编码",
        "LATTE",
    ),
    col(
        "effective_from",
        true,
        "First day of the version, YYYY-MM-DD; rows with the same item and date form one version",
        "版本生效日期 YYYY-MM-DD；同一物品同一日期的行组成一个版本",
        "2027-01-01",
    ),
    col(
        "ingredient_code",
        true,
        "Code of the ingredient (or sub-recipe) of this line",
        "本行原料（或子配方）编码",
        "MILK",
    ),
    col(
        "qty",
        true,
        "Net quantity per batch, positive",
        "每批净用量，正数",
        "0.25",
    ),
    col(
        "unit",
        false,
        "Unit of qty: the ingredient's base unit (default) or one it converts",
        "用量单位：原料的基本单位（默认）或可换算的单位",
        "l",
    ),
    col(
        "yield_pct",
        false,
        "Usable share of what is taken, more than 0 and at most 100 (default 100)",
        "出成率（%），大于 0 且不超过 100（默认 100）",
        "100",
    ),
    col(
        "batch_yield",
        false,
        "Base units of the item one batch makes (default 1); the same on every row of a version",
        "每批产出的基本单位数量（默认 1）；同一版本各行相同",
        "1",
    ),
    col("note", false, "Note of the version", "版本备注", ""),
];

pub static RECIPES_SPEC: Spec = Spec {
    kind: "recipes",
    title: "Recipes",
    title_zh: "配方",
    permissions: &[perm::INVENTORY_CATALOG],
    key: "item_code, effective_from",
    columns: RECIPE_COLUMNS,
};

/// The `recipes` importer.
pub struct RecipesImporter;

impl Importer for RecipesImporter {
    fn spec(&self) -> &'static Spec {
        &RECIPES_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_recipes(cx, table))
    }
}

/// One line of a recipe version, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VLine {
    component_id: String,
    qty: i64,
    unit: String,
    base_qty: i64,
    yield_bp: i64,
}

/// A stored version of one of the file's items.
struct OldVersion {
    item_id: String,
    version_no: i64,
    effective_from: String,
    yield_qty: i64,
    lines: Vec<VLine>,
}

struct Group {
    item: Item,
    date: String,
    first_row: u32,
    yield_row: Option<(u32, i64)>,
    note: Option<String>,
    lines: Vec<(u32, Item, VLine)>,
    bad: bool,
}

struct NewVersion {
    id: String,
    item: Item,
    version_no: i64,
    effective_from: String,
    yield_qty: i64,
    note: Option<String>,
    lines: Vec<(Item, VLine)>,
}

async fn old_versions(
    p: &Platform,
    company_id: &str,
    item_ids: &[String],
) -> Result<Vec<OldVersion>> {
    let mut versions: Vec<OldVersion> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for chunk in item_ids.chunks(500) {
        let sql = format!(
            "SELECT r.item_id, v.id AS version_id, v.version_no, v.effective_from, v.yield_qty, \
             l.line_no, l.component_id, l.qty, l.unit, l.base_qty, l.yield_bp FROM inv_recipes r \
             JOIN inv_recipe_versions v ON v.recipe_id = r.id \
             LEFT JOIN inv_recipe_lines l ON l.version_id = v.id \
             WHERE r.company_id = $1 AND r.item_id IN ({}) ORDER BY v.id, l.line_no",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(company_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let vid: String = r.try_get("version_id")?;
            let at = match index.get(&vid) {
                Some(i) => *i,
                None => {
                    versions.push(OldVersion {
                        item_id: r.try_get("item_id")?,
                        version_no: r.try_get("version_no")?,
                        effective_from: r.try_get("effective_from")?,
                        yield_qty: r.try_get("yield_qty")?,
                        lines: Vec::new(),
                    });
                    index.insert(vid, versions.len() - 1);
                    versions.len() - 1
                }
            };
            if let Some(component_id) = r.try_get::<Option<String>, _>("component_id")? {
                versions[at].lines.push(VLine {
                    component_id,
                    qty: r.try_get("qty")?,
                    unit: r.try_get("unit")?,
                    base_qty: r.try_get("base_qty")?,
                    yield_bp: r.try_get("yield_bp")?,
                });
            }
        }
    }
    Ok(versions)
}

/// What each recipe of the company uses from `today` on (the version in force today and any
/// later ones): output item → components.
async fn recipe_edges(
    p: &Platform,
    company_id: &str,
    today: &str,
) -> Result<HashMap<String, HashSet<String>>> {
    let rows = sqlx::query(
        "SELECT r.item_id, v.effective_from, l.component_id FROM inv_recipes r \
         JOIN inv_recipe_versions v ON v.recipe_id = r.id JOIN inv_recipe_lines l ON l.version_id = v.id \
         WHERE r.company_id = $1 AND (v.effective_from > $2 OR NOT EXISTS (SELECT 1 FROM inv_recipe_versions v2 \
         WHERE v2.recipe_id = v.recipe_id AND v2.effective_from <= $2 AND v2.effective_from > v.effective_from))",
    )
    .bind(company_id)
    .bind(today)
    .fetch_all(p.db.pool())
    .await?;
    let mut edges: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &rows {
        edges
            .entry(r.try_get("item_id")?)
            .or_default()
            .insert(r.try_get("component_id")?);
    }
    Ok(edges)
}

/// A path from `start` back to itself, if any.
fn cycle_from(start: &str, edges: &HashMap<String, HashSet<String>>) -> Option<Vec<String>> {
    fn dfs(
        at: &str,
        target: &str,
        edges: &HashMap<String, HashSet<String>>,
        path: &mut Vec<String>,
        done: &mut HashSet<String>,
    ) -> bool {
        let mut next: Vec<&String> = edges
            .get(at)
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        next.sort();
        for n in next {
            if n == target {
                path.push(n.clone());
                return true;
            }
            if done.contains(n) || path.contains(n) || path.len() > 64 {
                continue;
            }
            path.push(n.clone());
            if dfs(n, target, edges, path, done) {
                return true;
            }
            path.pop();
            done.insert(n.clone());
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut done = HashSet::new();
    dfs(start, start, edges, &mut path, &mut done).then_some(path)
}

const FULL_YIELD_BP: i64 = 10_000;

async fn plan_recipes(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let p = cx.platform;
    let mut errors = RowErrors::default();
    let Some(co) = catalog_company(cx, &mut errors).await? else {
        return Ok(Plan::rejected(errors));
    };
    let c = |name: &str| table.column(name);
    let (c_item, c_date, c_ing, c_qty, c_unit, c_yield, c_batch, c_note) = (
        c("item_code"),
        c("effective_from"),
        c("ingredient_code"),
        c("qty"),
        c("unit"),
        c("yield_pct"),
        c("batch_yield"),
        c("note"),
    );
    let mut codes = distinct(table, c_item);
    codes.extend(distinct(table, c_ing));
    codes.sort();
    codes.dedup();
    let items = catalog::items_by_code(p, &co.id, &codes).await?;
    let today = crate::today_in(&co.timezone);
    let today_s = today.to_string();
    let horizon = today
        .checked_add(jiff::Span::new().days(3660))
        .unwrap_or(today);

    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<(String, String), usize> = HashMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i);
        }
        let n = row.number;
        let before = errors.count();
        let item_code = row.get(c_item).unwrap_or("");
        let item = match items.get(item_code) {
            _ if item_code.is_empty() => {
                errors.push(n, "item_code", "is required");
                None
            }
            None => {
                errors.push(n, "item_code", format!("item {item_code} not found"));
                None
            }
            Some(it) if !it.active => {
                errors.push(n, "item_code", format!("item {item_code} is inactive"));
                None
            }
            Some(it) if !crate::recipe::RECIPE_KINDS.contains(&it.kind.as_str()) => {
                errors.push(
                    n,
                    "item_code",
                    format!(
                        "item {item_code} is of kind {}; only menu and prepared items have recipes",
                        it.kind
                    ),
                );
                None
            }
            Some(it) => Some(it),
        };
        let date = match row.get(c_date).unwrap_or("") {
            "" => {
                errors.push(n, "effective_from", "is required");
                None
            }
            v => match parse_date(&mut errors, n, "effective_from", v) {
                Some(d) if d > horizon => {
                    errors.push(n, "effective_from", "may be at most ten years ahead");
                    None
                }
                d => d,
            },
        };
        let ing_code = row.get(c_ing).unwrap_or("");
        let ing = match items.get(ing_code) {
            _ if ing_code.is_empty() => {
                errors.push(n, "ingredient_code", "is required");
                None
            }
            None => {
                errors.push(n, "ingredient_code", format!("item {ing_code} not found"));
                None
            }
            Some(it) if !it.active => {
                errors.push(n, "ingredient_code", format!("item {ing_code} is inactive"));
                None
            }
            Some(it) if Some(&it.id) == item.map(|x| &x.id) => {
                errors.push(
                    n,
                    "ingredient_code",
                    format!("{ing_code} cannot be an ingredient of itself"),
                );
                None
            }
            Some(it) => Some(it),
        };
        let qty = parse_qty(&mut errors, n, "qty", row.get(c_qty).unwrap_or(""));
        let yield_bp = match row.get(c_yield).filter(|s| !s.is_empty()) {
            None => Some(FULL_YIELD_BP),
            Some(v) => match Qty::parse(v) {
                Ok(pct) if pct.micros() % 10_000 != 0 => {
                    errors.push(n, "yield_pct", "may have at most 2 decimal places");
                    None
                }
                Ok(pct) if pct.micros() <= 0 || pct.micros() > 100 * MICRO => {
                    errors.push(n, "yield_pct", "must be more than 0 and at most 100");
                    None
                }
                Ok(pct) => Some(pct.micros() / 10_000),
                Err(e) => {
                    errors.push(n, "yield_pct", e.to_string());
                    None
                }
            },
        };
        let batch = match row.get(c_batch).filter(|s| !s.is_empty()) {
            None => None,
            Some(v) => parse_qty(&mut errors, n, "batch_yield", v).map(|q| q.micros()),
        };
        let note = some(row.get(c_note));
        if note.as_deref().is_some_and(|s| s.chars().count() > 500) {
            errors.push(n, "note", "must be at most 500 characters");
        }
        let line = match (ing, qty) {
            (Some(ing), Some(qty)) => {
                let unit = some(row.get(c_unit))
                    .map(|u| u.to_lowercase())
                    .unwrap_or_else(|| ing.base_unit.clone());
                match ing.conversions().to_base(qty, &unit) {
                    None => {
                        errors.push(
                            n,
                            "unit",
                            format!(
                                "item {} has no conversion from {unit} to {}",
                                ing.code, ing.base_unit
                            ),
                        );
                        None
                    }
                    Some(base) if base.micros() <= 0 || base.micros() > MAX_QTY => {
                        errors.push(
                            n,
                            "qty",
                            format!("is out of range once converted to {}", ing.base_unit),
                        );
                        None
                    }
                    Some(base) => yield_bp.map(|bp| {
                        (
                            ing.clone(),
                            VLine {
                                component_id: ing.id.clone(),
                                qty: qty.micros(),
                                unit,
                                base_qty: base.micros(),
                                yield_bp: bp,
                            },
                        )
                    }),
                }
            }
            _ => None,
        };
        let (Some(item), Some(date)) = (item, date) else {
            continue;
        };
        let key = (item.id.clone(), date.to_string());
        let gi = *group_of.entry(key).or_insert_with(|| {
            groups.push(Group {
                item: item.clone(),
                date: date.to_string(),
                first_row: n,
                yield_row: None,
                note: None,
                lines: Vec::new(),
                bad: false,
            });
            groups.len() - 1
        });
        let g = &mut groups[gi];
        if let Some(b) = batch {
            match g.yield_row {
                Some((r, y)) if y != b => {
                    errors.push(
                        n,
                        "batch_yield",
                        format!("differs from row {r} of the same version"),
                    );
                }
                Some(_) => {}
                None => g.yield_row = Some((n, b)),
            }
        }
        if g.note.is_none() {
            g.note = note;
        }
        match line {
            Some((ing, l)) if errors.count() == before => g.lines.push((n, ing, l)),
            _ => g.bad = true,
        }
        if g.lines.len() > 500 {
            errors.push(n, "ingredient_code", "at most 500 lines per version");
        }
    }

    // Stored versions of the file's items and of the sub-recipes it uses.
    let mut ids: Vec<String> = groups.iter().map(|g| g.item.id.clone()).collect();
    ids.extend(
        groups
            .iter()
            .flat_map(|g| g.lines.iter())
            .filter(|(_, ing, _)| !ing.stocked)
            .map(|(_, ing, _)| ing.id.clone()),
    );
    ids.sort();
    ids.dedup();
    let old = old_versions(p, &co.id, &ids).await?;
    let mut old_by_item: HashMap<&str, Vec<&OldVersion>> = HashMap::new();
    for v in &old {
        old_by_item.entry(v.item_id.as_str()).or_default().push(v);
    }
    // Versions the file adds, in date order per item (a later one follows the earlier).
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|a, b| {
        (&groups[*a].item.code, &groups[*a].date).cmp(&(&groups[*b].item.code, &groups[*b].date))
    });
    let mut latest: HashMap<String, (String, i64)> = HashMap::new();
    for v in &old {
        let e = latest
            .entry(v.item_id.clone())
            .or_insert((v.effective_from.clone(), v.version_no));
        if v.effective_from > e.0 {
            e.0 = v.effective_from.clone();
        }
        e.1 = e.1.max(v.version_no);
    }
    let mut new_versions: Vec<NewVersion> = Vec::new();
    let mut unchanged = 0;
    let mut new_dates: HashMap<String, Vec<String>> = HashMap::new();
    for gi in order {
        let g = &groups[gi];
        if g.bad {
            continue;
        }
        let yield_qty = g.yield_row.map(|(_, y)| y).unwrap_or(MICRO);
        let lines: Vec<VLine> = g.lines.iter().map(|(_, _, l)| l.clone()).collect();
        let stored = old_by_item
            .get(g.item.id.as_str())
            .and_then(|vs| vs.iter().find(|v| v.effective_from == g.date));
        if let Some(v) = stored {
            if v.yield_qty == yield_qty && v.lines == lines {
                unchanged += 1;
            } else {
                errors.push(
                    g.first_row,
                    "effective_from",
                    format!(
                        "version {} of {} from {} has other lines; versions are never changed: give the new version a later date",
                        v.version_no, g.item.code, g.date
                    ),
                );
            }
            continue;
        }
        if let Some((last, no)) = latest.get(&g.item.id) {
            if g.date.as_str() <= last.as_str() {
                errors.push(
                    g.first_row,
                    "effective_from",
                    format!("must be after {last} (version {no} of {})", g.item.code),
                );
                continue;
            }
            if g.date.as_str() < today_s.as_str() {
                errors.push(
                    g.first_row,
                    "effective_from",
                    format!(
                        "must be on or after today ({today_s}): earlier days may already have used version {no} of {}",
                        g.item.code
                    ),
                );
                continue;
            }
        }
        let no = latest.get(&g.item.id).map(|(_, no)| *no).unwrap_or(0) + 1;
        latest.insert(g.item.id.clone(), (g.date.clone(), no));
        new_dates
            .entry(g.item.id.clone())
            .or_default()
            .push(g.date.clone());
        new_versions.push(NewVersion {
            id: new_id(),
            item: g.item.clone(),
            version_no: no,
            effective_from: g.date.clone(),
            yield_qty,
            note: g.note.clone(),
            lines: g
                .lines
                .iter()
                .map(|(_, i, l)| (i.clone(), l.clone()))
                .collect(),
        });
    }
    // Sub-recipes need a version in force on the version's date (stored or in the file).
    let has_version_by = |item_id: &str, date: &str| {
        old_by_item
            .get(item_id)
            .is_some_and(|vs| vs.iter().any(|v| v.effective_from.as_str() <= date))
            || new_dates
                .get(item_id)
                .is_some_and(|ds| ds.iter().any(|d| d.as_str() <= date))
    };
    for g in groups.iter().filter(|g| !g.bad) {
        for (n, ing, _) in &g.lines {
            if !ing.stocked && !has_version_by(&ing.id, &g.date) {
                errors.push(
                    *n,
                    "ingredient_code",
                    format!(
                        "item {} is not kept in stock and has no recipe in force on {}; give it a recipe first or keep it in stock",
                        ing.code, g.date
                    ),
                );
            }
        }
    }
    // No recipe may contain itself once the file's versions are added.
    if !new_versions.is_empty() {
        let mut edges = recipe_edges(p, &co.id, &today_s).await?;
        for v in &new_versions {
            edges
                .entry(v.item.id.clone())
                .or_default()
                .extend(v.lines.iter().map(|(i, _)| i.id.clone()));
        }
        let mut reported: HashSet<String> = HashSet::new();
        for v in &new_versions {
            if reported.contains(&v.item.id) {
                continue;
            }
            if let Some(path) = cycle_from(&v.item.id, &edges) {
                let codes: HashMap<String, String> = catalog::fetch_items(p, &path)
                    .await?
                    .into_iter()
                    .map(|i| (i.id, i.code))
                    .collect();
                let text = path
                    .iter()
                    .map(|id| codes.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .collect::<Vec<_>>()
                    .join(" → ");
                let row = groups
                    .iter()
                    .find(|g| g.item.id == v.item.id && g.date == v.effective_from)
                    .map(|g| g.first_row)
                    .unwrap_or(0);
                errors.push(
                    row,
                    "ingredient_code",
                    format!("the recipe would contain itself: {text}"),
                );
                reported.insert(v.item.id.clone());
            }
        }
    }
    cx.progress(table.len());
    if !errors.is_empty() {
        return Ok(Plan::rejected(sorted(errors)));
    }
    Ok(Plan {
        errors,
        created: new_versions.len(),
        updated: 0,
        unchanged,
        changes: Box::new(RecipeChanges {
            company_id: co.id.clone(),
            company_path: co.path.clone(),
            versions: new_versions,
        }),
    })
}

struct RecipeChanges {
    company_id: String,
    company_path: String,
    versions: Vec<NewVersion>,
}

impl Changes for RecipeChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if self.versions.is_empty() {
                return Ok(());
            }
            let t = now().micros();
            let mut item_ids: Vec<&str> =
                self.versions.iter().map(|v| v.item.id.as_str()).collect();
            item_ids.sort();
            item_ids.dedup();
            for chunk in item_ids.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_recipes (id, company_id, item_id, created_at, updated_at) VALUES {} \
                     ON CONFLICT (item_id) DO UPDATE SET updated_at = excluded.updated_at",
                    boh_platform::util::values_list(tx, chunk.len(), 5)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for id in chunk {
                    q = q
                        .bind(new_id())
                        .bind(&self.company_id)
                        .bind(*id)
                        .bind(t)
                        .bind(t);
                }
                q.execute(&mut *tx).await?;
            }
            let mut recipe_of: HashMap<String, String> = HashMap::new();
            for chunk in item_ids.chunks(500) {
                let sql = format!(
                    "SELECT id, item_id FROM inv_recipes WHERE item_id IN ({})",
                    in_placeholders(chunk.len(), 1)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    recipe_of.insert(r.try_get("item_id")?, r.try_get("id")?);
                }
            }
            for chunk in self.versions.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_recipe_versions (id, recipe_id, version_no, effective_from, yield_qty, note, \
                     created_at, created_by) VALUES {}",
                    boh_platform::util::values_list(tx, chunk.len(), 8)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for v in chunk {
                    q = q
                        .bind(&v.id)
                        .bind(recipe_of.get(&v.item.id).cloned().unwrap_or_default())
                        .bind(v.version_no)
                        .bind(&v.effective_from)
                        .bind(v.yield_qty)
                        .bind(v.note.as_deref())
                        .bind(t)
                        .bind(&ctx.actor.user_id);
                }
                let r = q.execute(&mut *tx).await;
                boh_platform::error::unique_conflict(r, "effective_from", || {
                    "another version of one of these recipes was saved at the same time; try again"
                        .into()
                })?;
            }
            let lines: Vec<(&str, i64, &VLine)> = self
                .versions
                .iter()
                .flat_map(|v| {
                    v.lines
                        .iter()
                        .enumerate()
                        .map(|(i, (_, l))| (v.id.as_str(), i as i64 + 1, l))
                })
                .collect();
            for chunk in lines.chunks(400) {
                let sql = format!(
                    "INSERT INTO inv_recipe_lines (version_id, line_no, component_id, qty, unit, base_qty, yield_bp) VALUES {}",
                    boh_platform::util::values_list(tx, chunk.len(), 7)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
                for (vid, no, l) in chunk {
                    q = q
                        .bind(*vid)
                        .bind(*no)
                        .bind(&l.component_id)
                        .bind(l.qty)
                        .bind(&l.unit)
                        .bind(l.base_qty)
                        .bind(l.yield_bp);
                }
                q.execute(&mut *tx).await?;
            }
            let path = Some(self.company_path.as_str());
            let changes: Vec<Change<'_>> = self
                .versions
                .iter()
                .map(|v| Change {
                    action: "inventory.recipe.version",
                    entity_type: "inv_recipe_version",
                    entity_id: &v.id,
                    org_path: path,
                    before: None,
                    after: Some(json!({
                        "item": v.item.code, "version_no": v.version_no,
                        "effective_from": v.effective_from, "yield_qty": Qty(v.yield_qty),
                        "note": v.note,
                        "lines": v.lines.iter().map(|(i, l)| json!({
                            "component": i.code, "qty": Qty(l.qty), "unit": l.unit,
                            "base_qty": Qty(l.base_qty), "yield_bp": l.yield_bp,
                        })).collect::<Vec<_>>(),
                    })),
                })
                .collect();
            audit::append_many(tx, ctx, &changes).await?;
            let outbox: Vec<(&str, Option<&str>, serde_json::Value)> = self
                .versions
                .iter()
                .map(|v| {
                    (
                        "inventory.recipe.versioned",
                        path,
                        json!({
                            "company_id": self.company_id, "item_id": v.item.id, "version_id": v.id,
                            "version_no": v.version_no, "effective_from": v.effective_from,
                        }),
                    )
                })
                .collect();
            events::emit_many(tx, &outbox).await?;
            Ok(())
        })
    }
}

/// Every recipe version of the company, one row per line, in the importer's columns:
/// importing it back changes nothing.
pub async fn export_recipes(p: &Platform, actor: &Actor) -> Result<Sheet> {
    let co = crate::company(p, actor, None).await?;
    let rows = sqlx::query(
        "SELECT i.code AS item_code, v.effective_from, c.code AS ingredient_code, l.qty, l.unit, l.yield_bp, \
         v.yield_qty, v.note FROM inv_recipes r JOIN inv_items i ON i.id = r.item_id \
         JOIN inv_recipe_versions v ON v.recipe_id = r.id JOIN inv_recipe_lines l ON l.version_id = v.id \
         JOIN inv_items c ON c.id = l.component_id WHERE r.company_id = $1 \
         ORDER BY i.code, v.effective_from, l.line_no",
    )
    .bind(&co.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(vec![
            Cell::Text(r.try_get("item_code")?),
            Cell::Date(r.try_get("effective_from")?),
            Cell::Text(r.try_get("ingredient_code")?),
            Cell::Text(Qty(r.try_get("qty")?).to_text()),
            Cell::Text(r.try_get("unit")?),
            Cell::Text(crate::recipe::bp_text(r.try_get("yield_bp")?)),
            Cell::Text(Qty(r.try_get("yield_qty")?).to_text()),
            Cell::from(r.try_get::<Option<String>, _>("note")?),
        ]);
    }
    Ok(boh_platform::import::export_sheet(
        "recipes",
        &RECIPE_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(),
        out,
    ))
}

// ---------------------------------------------------------------- opening balances

const OPENING_COLUMNS: &[Column] = &[
    col(
        "location_code",
        true,
        "Code of the store, warehouse or central kitchen",
        "门店、仓库或中央厨房编码",
        "S001",
    ),
    col(
        "item_code",
        true,
        "Code of a stocked item",
        "库存物品编码",
        "FLOUR-25",
    ),
    col(
        "qty",
        true,
        "Quantity on hand, positive",
        "现有数量，正数",
        "12.5",
    ),
    col(
        "unit",
        false,
        "Unit of qty: the item's base unit (default) or one it converts",
        "数量单位：基本单位（默认）或可换算的单位",
        "bag",
    ),
    col(
        "unit_cost",
        false,
        "Cost of one unit (in unit) in major currency units, e.g. 3.25 (default: the current average cost)",
        "每单位成本（元），如 3.25（默认按当前平均成本）",
        "3.25",
    ),
    col(
        "lot_code",
        false,
        "Lot (batch) code; required for lot-tracked items",
        "批次号；批次管理的物品必填",
        "L2027-001",
    ),
    col(
        "expiry_date",
        false,
        "Expiry of the lot, YYYY-MM-DD (default: from the shelf life)",
        "批次到期日 YYYY-MM-DD（默认按保质期计算）",
        "2027-06-30",
    ),
    col(
        "business_date",
        false,
        "Business day of the opening balance, YYYY-MM-DD (default today at the location)",
        "期初营业日 YYYY-MM-DD（默认门店今天）",
        "2027-01-01",
    ),
];

pub static OPENING_SPEC: Spec = Spec {
    kind: "opening_balances",
    title: "Opening stock",
    title_zh: "期初库存",
    permissions: &[perm::INVENTORY_MOVE_CREATE],
    key: "location_code, item_code, lot_code",
    columns: OPENING_COLUMNS,
};

/// The document source of imported opening balances; the source id is the hash of the lines.
pub const OPENING_SOURCE: &str = "import.opening_balances";

/// The `opening_balances` importer.
pub struct OpeningImporter;

impl Importer for OpeningImporter {
    fn spec(&self) -> &'static Spec {
        &OPENING_SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan_opening(cx, table))
    }
}

struct OpeningLine {
    row: u32,
    item: Item,
    qty: i64,
    value: Option<i64>,
    lot_code: Option<String>,
    expiry: Option<String>,
}

struct OpeningDoc {
    location: OrgNode,
    business_date: String,
    hash: String,
    lines: Vec<OpeningLine>,
}

/// The content hash of one opening document: location, date and every line.
fn opening_hash(location_id: &str, date: &str, lines: &[OpeningLine]) -> String {
    let mut keyed: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "{}|{}|{}|{}|{}",
                l.item.id,
                l.qty,
                l.value.map(|v| v.to_string()).unwrap_or_default(),
                l.lot_code.as_deref().unwrap_or(""),
                l.expiry.as_deref().unwrap_or("")
            )
        })
        .collect();
    keyed.sort();
    let text = format!("{location_id}\n{date}\n{}", keyed.join("\n"));
    boh_platform::util::sha256_hex(text.as_bytes())
}

async fn plan_opening(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let p = cx.platform;
    let actor = cx.actor;
    let mut errors = RowErrors::default();
    let Some(company_id) = company_of(actor) else {
        errors.push_file("the import needs one company: your grants span several");
        return Ok(Plan::rejected(errors));
    };
    let nodes = org::company_nodes(p, &company_id).await?;
    let by_code: HashMap<&str, &OrgNode> = nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    let c = |name: &str| table.column(name);
    let (c_loc, c_item, c_qty, c_unit, c_cost, c_lot, c_exp, c_date) = (
        c("location_code"),
        c("item_code"),
        c("qty"),
        c("unit"),
        c("unit_cost"),
        c("lot_code"),
        c("expiry_date"),
        c("business_date"),
    );
    let items = catalog::items_by_code(p, &company_id, &distinct(table, c_item)).await?;
    let locked: Option<String> =
        sqlx::query("SELECT locked_through FROM inv_period_locks WHERE company_id = $1")
            .bind(&company_id)
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get("locked_through"))
            .transpose()?;
    // Openings already posted (and not reversed) at the file's locations.
    let loc_ids: Vec<String> = distinct(table, c_loc)
        .iter()
        .filter_map(|code| by_code.get(code.as_str()).map(|n| n.id.clone()))
        .collect();
    let mut opened: HashMap<(String, String), Option<String>> = HashMap::new();
    for chunk in loc_ids.chunks(500) {
        let sql = format!(
            "SELECT DISTINCT m.location_id, m.item_id, d.source_type, d.source_id FROM inv_movements m \
             JOIN inv_docs d ON d.id = m.doc_id WHERE d.company_id = $1 AND m.kind = 'opening' \
             AND d.reverses_id IS NULL AND NOT EXISTS (SELECT 1 FROM inv_docs r WHERE r.reverses_id = d.id) \
             AND m.location_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&company_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let source = match r.try_get::<Option<String>, _>("source_type")?.as_deref() {
                Some(OPENING_SOURCE) => r.try_get::<Option<String>, _>("source_id")?,
                _ => None,
            };
            opened.insert((r.try_get("location_id")?, r.try_get("item_id")?), source);
        }
    }

    let mut docs: Vec<OpeningDoc> = Vec::new();
    let mut doc_of: HashMap<(String, String), usize> = HashMap::new();
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i);
        }
        let n = row.number;
        let before = errors.count();
        let loc_code = row.get(c_loc).unwrap_or("");
        let loc = match by_code.get(loc_code) {
            _ if loc_code.is_empty() => {
                errors.push(n, "location_code", "is required");
                None
            }
            Some(node) if actor.allows(perm::INVENTORY_MOVE_CREATE, &node.path) => {
                if node.is_site() {
                    Some(*node)
                } else {
                    errors.push(
                        n,
                        "location_code",
                        format!("{loc_code} is a {}, not a stock location", node.kind),
                    );
                    None
                }
            }
            Some(node) if actor.allows(perm::INVENTORY_READ, &node.path) => {
                errors.push(
                    n,
                    "location_code",
                    format!(
                        "you do not have the permission {} at {loc_code}",
                        perm::INVENTORY_MOVE_CREATE
                    ),
                );
                None
            }
            // Out of scope is the same as missing.
            _ => {
                errors.push(n, "location_code", format!("location {loc_code} not found"));
                None
            }
        };
        let item_code = row.get(c_item).unwrap_or("");
        let item = match items.get(item_code) {
            _ if item_code.is_empty() => {
                errors.push(n, "item_code", "is required");
                None
            }
            None => {
                errors.push(n, "item_code", format!("item {item_code} not found"));
                None
            }
            Some(it) if !it.active => {
                errors.push(n, "item_code", format!("item {item_code} is inactive"));
                None
            }
            Some(it) if !it.stocked => {
                errors.push(
                    n,
                    "item_code",
                    format!("item {item_code} is not kept in stock"),
                );
                None
            }
            Some(it) => Some(it),
        };
        let qty = parse_qty(&mut errors, n, "qty", row.get(c_qty).unwrap_or(""));
        let cost = match row.get(c_cost).filter(|s| !s.is_empty()) {
            None => None,
            Some(v) => match parse_scaled(v, 6) {
                Ok(c) if c >= 0 => Some(c),
                _ => {
                    errors.push(
                        n,
                        "unit_cost",
                        "must be a non-negative amount with at most 6 decimals",
                    );
                    None
                }
            },
        };
        let lot_code = some(row.get(c_lot));
        if lot_code.as_deref().is_some_and(|s| s.chars().count() > 64) {
            errors.push(n, "lot_code", "must be at most 64 characters");
        }
        let expiry = match row.get(c_exp).filter(|s| !s.is_empty()) {
            None => None,
            Some(v) => parse_date(&mut errors, n, "expiry_date", v).map(|d| d.to_string()),
        };
        let date = match (row.get(c_date).filter(|s| !s.is_empty()), loc) {
            (_, None) => None,
            (None, Some(l)) => Some(crate::today_in(&l.timezone)),
            (Some(v), Some(l)) => match parse_date(&mut errors, n, "business_date", v) {
                Some(d) if d > crate::today_in(&l.timezone) => {
                    errors.push(n, "business_date", "cannot be in the future");
                    None
                }
                d => d,
            },
        };
        if let (Some(d), Some(through)) = (&date, &locked)
            && d.to_string().as_str() <= through.as_str()
        {
            errors.push(
                n,
                "business_date",
                format!("inventory is locked through {through}; use a later date"),
            );
        }
        let Some(item) = item else { continue };
        match (&lot_code, item.lot_tracked) {
            (None, true) => errors.push(
                n,
                "lot_code",
                format!("item {} is lot-tracked: the lot is required", item.code),
            ),
            (Some(_), false) => errors.push(
                n,
                "lot_code",
                format!("item {} is not lot-tracked", item.code),
            ),
            _ => {}
        }
        if expiry.is_some() && !item.lot_tracked {
            errors.push(
                n,
                "expiry_date",
                format!("item {} is not lot-tracked", item.code),
            );
        }
        let unit = some(row.get(c_unit))
            .map(|u| u.to_lowercase())
            .unwrap_or_else(|| item.base_unit.clone());
        let base = match qty {
            Some(q) => match item.conversions().to_base(q, &unit) {
                Some(b) if b.micros() > 0 && b.micros() <= MAX_QTY => Some(b.micros()),
                Some(_) => {
                    errors.push(n, "qty", format!("is out of range in {}", item.base_unit));
                    None
                }
                None => {
                    errors.push(
                        n,
                        "unit",
                        format!(
                            "item {} has no conversion from {unit} to {}",
                            item.code, item.base_unit
                        ),
                    );
                    None
                }
            },
            None => None,
        };
        let value = match (cost, qty) {
            // `cost` is major units × 10^6 per `unit`; the value is in minor units.
            (Some(c), Some(q)) => {
                match mul_div_round(q.micros(), c.saturating_mul(100), MICRO * MICRO) {
                    Some(v) => Some(v),
                    None => {
                        errors.push(n, "unit_cost", "is too large");
                        None
                    }
                }
            }
            _ => None,
        };
        let (Some(loc), Some(base), Some(date)) = (loc, base, date) else {
            continue;
        };
        if errors.count() > before {
            continue;
        }
        let key = (
            loc.id.clone(),
            item.id.clone(),
            lot_code.clone().unwrap_or_default(),
        );
        if let Some(first) = seen.get(&key) {
            errors.push(
                n,
                "item_code",
                format!("the same location, item and lot are also in row {first}"),
            );
            continue;
        }
        seen.insert(key, n);
        let date = date.to_string();
        let di = *doc_of
            .entry((loc.id.clone(), date.clone()))
            .or_insert_with(|| {
                docs.push(OpeningDoc {
                    location: loc.clone(),
                    business_date: date.clone(),
                    hash: String::new(),
                    lines: Vec::new(),
                });
                docs.len() - 1
            });
        docs[di].lines.push(OpeningLine {
            row: n,
            item: item.clone(),
            qty: base,
            value,
            lot_code,
            expiry,
        });
    }
    let mut posting: Vec<OpeningDoc> = Vec::new();
    let mut unchanged = 0;
    for mut d in docs {
        d.hash = opening_hash(&d.location.id, &d.business_date, &d.lines);
        let posted = opened
            .values()
            .any(|s| s.as_deref() == Some(d.hash.as_str()));
        if posted {
            unchanged += d.lines.len();
            continue;
        }
        for l in &d.lines {
            if opened.contains_key(&(d.location.id.clone(), l.item.id.clone())) {
                errors.push(
                    l.row,
                    "item_code",
                    format!(
                        "item {} already has an opening balance at {}; correct stock with an adjustment or a count",
                        l.item.code, d.location.code
                    ),
                );
            }
        }
        posting.push(d);
    }
    cx.progress(table.len());
    if !errors.is_empty() {
        return Ok(Plan::rejected(sorted(errors)));
    }
    Ok(Plan {
        errors,
        created: posting.iter().map(|d| d.lines.len()).sum(),
        updated: 0,
        unchanged,
        changes: Box::new(OpeningChanges {
            backend: p.db.backend(),
            docs: posting,
        }),
    })
}

struct OpeningChanges {
    backend: Backend,
    docs: Vec<OpeningDoc>,
}

impl Changes for OpeningChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if self.docs.is_empty() {
                return Ok(());
            }
            // The same lines posted meanwhile by another import: refuse, do not post twice.
            let hashes: Vec<&str> = self.docs.iter().map(|d| d.hash.as_str()).collect();
            for chunk in hashes.chunks(500) {
                let sql = format!(
                    "SELECT COUNT(*) AS n FROM inv_docs WHERE source_type = $1 AND source_id IN ({})",
                    in_placeholders(chunk.len(), 2)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(OPENING_SOURCE);
                for h in chunk {
                    q = q.bind(*h);
                }
                let n: i64 = q.fetch_one(&mut *tx).await?.try_get("n")?;
                if n > 0 {
                    return Err(PlatformError::Conflict {
                        field: None,
                        message: "these opening balances were posted meanwhile; check the stock"
                            .into(),
                    });
                }
            }
            for d in &self.docs {
                let mut lines = Vec::with_capacity(d.lines.len());
                for l in &d.lines {
                    let lot = match &l.lot_code {
                        Some(code) => {
                            let expiry = l.expiry.clone().or_else(|| {
                                l.item.shelf_life_days.and_then(|days| {
                                    d.business_date
                                        .parse::<jiff::civil::Date>()
                                        .ok()
                                        .and_then(|b| {
                                            b.checked_add(jiff::Span::new().days(days)).ok()
                                        })
                                        .map(|x| x.to_string())
                                })
                            });
                            LotPick::Lot(
                                ledger::ensure_lot(tx, &l.item, code, expiry.as_deref()).await?,
                            )
                        }
                        None => LotPick::NoLot,
                    };
                    lines.push(PostLine {
                        item: l.item.clone(),
                        lot,
                        qty: l.qty,
                        value: l.value.map_or(ValueSpec::AtCost, ValueSpec::Known),
                        kind: "opening",
                        reason: None,
                        reverses_id: None,
                        field: format!("row {}", l.row),
                    });
                }
                ledger::post_in(
                    tx,
                    self.backend,
                    ctx,
                    &PostDoc {
                        location: d.location.clone(),
                        kind: "opening",
                        business_date: d.business_date.clone(),
                        reference: Some("import".into()),
                        note: None,
                        source_type: Some(OPENING_SOURCE.into()),
                        source_id: Some(d.hash.clone()),
                        reverses_id: None,
                        lines,
                        allow_negative: false,
                    },
                )
                .await?;
            }
            Ok(())
        })
    }
}
