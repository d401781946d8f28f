//! Purchase orders: draft, change, submit for approval (with the route shown first), cancel.

use std::collections::{BTreeMap, BTreeSet};

use boh_db::Row;
use boh_inventory::supplier::{self, Supplier, SupplierItem};
use boh_kernel::{Actor, Qty, id::new_id, now, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use boh_workflow::route::{Route, Subject};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::qty_of;

pub const DOC_TYPE: &str = "purchase_order";
/// Most lines on one order.
pub const MAX_LINES: usize = 1_000;

pub mod status {
    pub const DRAFT: &str = "draft";
    pub const PENDING: &str = "pending_approval";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const CANCELLED: &str = "cancelled";
    /// Goods received for some lines, others still short.
    pub const PARTIAL: &str = "partially_received";
    pub const RECEIVED: &str = "received";
}

/// A line as sent: the supplier item by id, or the item by code (with the pack unit when the
/// supplier sells it in several).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PoLineInput)]
pub struct LineInput {
    #[serde(default)]
    pub supplier_item_id: Option<String>,
    #[serde(default)]
    pub item_code: Option<String>,
    #[serde(default)]
    pub pack_unit: Option<String>,
    /// Quantity in pack units, as a decimal string.
    #[schema(value_type = String, example = "3")]
    pub qty: serde_json::Value,
    /// Price of one pack in minor units; the supplier's price in force when omitted.
    #[serde(default)]
    pub unit_price_minor: Option<i64>,
}

/// A purchase order as sent to create or change one. Status, approver and totals are not
/// fields: they are the system's to set.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoInput {
    pub supplier_id: String,
    /// The receiving store, warehouse or central kitchen.
    pub location_id: String,
    /// `YYYY-MM-DD`; the supplier's next delivery day when omitted.
    #[serde(default)]
    pub delivery_date: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub lines: Vec<LineInput>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PoLine {
    pub line_no: i64,
    pub supplier_item_id: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub pack_unit: String,
    #[schema(value_type = String)]
    pub pack_factor: Qty,
    #[schema(value_type = String)]
    pub qty: Qty,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
    /// Accepted so far, in the pack unit.
    #[schema(value_type = String)]
    pub qty_received: Qty,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PurchaseOrder {
    pub id: String,
    pub number: String,
    pub company_id: String,
    pub supplier_id: String,
    pub supplier_code: String,
    pub supplier_name: String,
    pub location_id: String,
    pub location_code: String,
    pub location_name: String,
    pub delivery_date: String,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    /// The supplier's minimum order value (minor units).
    pub min_order_minor: i64,
    pub line_count: i64,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub version: i64,
    pub lines: Vec<PoLine>,
}

/// An order input checked against the catalogue, the supplier and the actor's scope.
pub(crate) struct Checked {
    pub(crate) supplier: Supplier,
    pub(crate) location: OrgNode,
    delivery_date: String,
    note: Option<String>,
    pub(crate) lines: Vec<PoLine>,
    pub(crate) total: i64,
    categories: Vec<String>,
}

pub(crate) async fn check(p: &Platform, actor: &Actor, input: &PoInput) -> Result<Checked> {
    let mut errors = Vec::new();
    // A supplier or site outside the actor's scope does not exist for them (404), as
    // everywhere; problems with what they can see are named field by field.
    let supplier = Some(supplier::get_supplier(p, actor, &input.supplier_id).await?);
    if let Some(s) = &supplier
        && !s.active
    {
        errors.push(FieldError::new(
            "supplier_id",
            format!("supplier {} is closed; choose another", s.code),
        ));
    }
    let location =
        Some(boh_inventory::location(p, actor, perm::PURCHASING_ORDER, &input.location_id).await?);
    if let (Some(s), Some(l)) = (&supplier, &location)
        && s.company_id != l.company_id
    {
        return Err(PlatformError::NotFound);
    }
    let today = location
        .as_ref()
        .map(|l| boh_inventory::today_in(&l.timezone))
        .unwrap_or_else(|| boh_inventory::today_in("UTC"));
    let delivery_date = match input
        .delivery_date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => match boh_inventory::validate_date(&mut errors, "delivery_date", d) {
            Some(dd) if dd < today => {
                errors.push(FieldError::new(
                    "delivery_date",
                    format!("{d} is in the past"),
                ));
                d.to_string()
            }
            _ => d.to_string(),
        },
        None => next_delivery(supplier.as_ref(), today).to_string(),
    };
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_deref().is_some_and(|n| n.chars().count() > 1000) {
        errors.push(FieldError::new("note", "at most 1,000 characters"));
    }
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let offered: Vec<SupplierItem> = match &supplier {
        Some(s) => supplier::list_supplier_items(p, actor, &s.id).await?,
        None => Vec::new(),
    };
    let mut lines = Vec::new();
    let mut total: i64 = 0;
    let mut cat_ids: BTreeSet<String> = BTreeSet::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |k: &str| format!("lines[{i}].{k}");
        let si = match (&l.supplier_item_id, &l.item_code) {
            (Some(id), _) if !id.is_empty() => match offered.iter().find(|s| &s.id == id) {
                Some(s) => Some(s),
                None => {
                    errors.push(FieldError::new(
                        &f("supplier_item_id"),
                        "not an item of this supplier",
                    ));
                    None
                }
            },
            (_, Some(code)) if !code.trim().is_empty() => {
                let code = code.trim();
                let mine: Vec<&SupplierItem> = offered
                    .iter()
                    .filter(|s| s.item_code == code && s.active)
                    .collect();
                let want = l
                    .pack_unit
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty());
                match (mine.len(), want) {
                    (0, _) => {
                        errors.push(FieldError::new(
                            &f("item_code"),
                            match &supplier {
                                Some(s) => {
                                    format!("item {code} is not sold by supplier {}", s.code)
                                }
                                None => format!("item {code}: choose a supplier first"),
                            },
                        ));
                        None
                    }
                    (_, Some(u)) => match mine.iter().find(|s| s.pack_unit == u) {
                        Some(s) => Some(*s),
                        None => {
                            let units: Vec<&str> =
                                mine.iter().map(|s| s.pack_unit.as_str()).collect();
                            errors.push(FieldError::new(
                                &f("pack_unit"),
                                format!(
                                    "no conversion to unit {u:?} for item {code} from this supplier; it sells it in: {}",
                                    units.join(", ")
                                ),
                            ));
                            None
                        }
                    },
                    (1, None) => Some(mine[0]),
                    (_, None) => {
                        let units: Vec<&str> = mine.iter().map(|s| s.pack_unit.as_str()).collect();
                        errors.push(FieldError::new(
                            &f("pack_unit"),
                            format!(
                                "item {code} comes in several units; choose one of: {}",
                                units.join(", ")
                            ),
                        ));
                        None
                    }
                }
            }
            _ => {
                errors.push(FieldError::new(
                    &f("item_code"),
                    "give the item code or the supplier item id",
                ));
                None
            }
        };
        let qty = qty_of(&l.qty);
        match qty {
            None => errors.push(FieldError::new(
                &f("qty"),
                "a decimal number such as 3 or 2.5",
            )),
            Some(q) if q.micros() <= 0 => {
                errors.push(FieldError::new(&f("qty"), "must be greater than zero"))
            }
            Some(q) if q.micros() > 1_000_000 * 1_000_000 => {
                errors.push(FieldError::new(&f("qty"), "at most 1,000,000"))
            }
            _ => {}
        }
        if let Some(pr) = l.unit_price_minor
            && !(0..=1_000_000_000_000).contains(&pr)
        {
            errors.push(FieldError::new(
                &f("unit_price_minor"),
                "between 0 and 10^12",
            ));
        }
        let (Some(si), Some(q)) = (si, qty.filter(|q| q.micros() > 0)) else {
            continue;
        };
        let price = match l
            .unit_price_minor
            .or(si.current_price.as_ref().map(|p| p.price_minor))
        {
            Some(pr) => pr,
            None => {
                errors.push(FieldError::new(
                    &f("unit_price_minor"),
                    format!(
                        "supplier has no price in force for {} per {}; give the price",
                        si.item_code, si.pack_unit
                    ),
                ));
                continue;
            }
        };
        let amount =
            boh_kernel::qty::mul_div_round(q.micros(), price, 1_000_000).unwrap_or(i64::MAX);
        total = total.saturating_add(amount);
        lines.push(PoLine {
            line_no: i as i64 + 1,
            supplier_item_id: si.id.clone(),
            item_id: si.item_id.clone(),
            item_code: si.item_code.clone(),
            item_name: si.item_name_en.clone(),
            pack_unit: si.pack_unit.clone(),
            pack_factor: si.pack_factor,
            qty: q,
            unit_price_minor: price,
            amount_minor: amount,
            qty_received: Qty(0),
        });
        cat_ids.insert(si.item_id.clone());
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let ids: Vec<String> = cat_ids.into_iter().collect();
    let items = boh_inventory::catalog::fetch_items(p, &ids).await?;
    let cats: Vec<String> = items.iter().filter_map(|i| i.category_id.clone()).collect();
    let categories = category_codes(p, &cats).await?;
    let (Some(supplier), Some(location)) = (supplier, location) else {
        return Err(PlatformError::NotFound);
    };
    Ok(Checked {
        supplier,
        location,
        delivery_date,
        note,
        lines,
        total,
        categories,
    })
}

async fn category_codes(p: &Platform, ids: &[String]) -> Result<Vec<String>> {
    let ids: BTreeSet<&String> = ids.iter().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ph = boh_inventory::in_placeholders(ids.len(), 1);
    let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT DISTINCT code FROM inv_categories WHERE id IN ({ph}) ORDER BY code"
    )));
    for id in ids {
        q = q.bind(id.clone());
    }
    q.fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<String, _>("code")?))
        .collect()
}

/// The supplier's first delivery day on or after today plus its lead time.
pub fn next_delivery(s: Option<&Supplier>, today: jiff::civil::Date) -> jiff::civil::Date {
    let Some(s) = s else { return today };
    let d = today
        .checked_add(jiff::Span::new().days(s.lead_time_days.clamp(0, 365)))
        .unwrap_or(today);
    delivery_on_or_after(s, d)
}

/// The supplier's first delivery weekday on or after `from` (`from` itself when the supplier
/// names no delivery days).
pub fn delivery_on_or_after(s: &Supplier, from: jiff::civil::Date) -> jiff::civil::Date {
    let mut d = from;
    if s.delivery_days.is_empty() {
        return d;
    }
    for _ in 0..7 {
        if delivers_on(s, d) {
            return d;
        }
        d = d.tomorrow().unwrap_or(d);
    }
    from
}

/// Whether `d` is one of the supplier's delivery weekdays (any day when it names none).
pub fn delivers_on(s: &Supplier, d: jiff::civil::Date) -> bool {
    s.delivery_days.is_empty()
        || s.delivery_days
            .contains(&i64::from(d.weekday().to_monday_one_offset()))
}

async fn write_lines(tx: &mut AnyConnection, po_id: &str, lines: &[PoLine]) -> Result<()> {
    sqlx::query("DELETE FROM purchase_order_lines WHERE po_id = $1")
        .bind(po_id)
        .execute(&mut *tx)
        .await?;
    for chunk in lines.chunks(400) {
        let sql = format!(
            "INSERT INTO purchase_order_lines (po_id, line_no, supplier_item_id, item_id, pack_unit, pack_factor, \
             qty, unit_price_minor, amount_minor) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 9)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for l in chunk {
            q = q
                .bind(po_id.to_string())
                .bind(l.line_no)
                .bind(l.supplier_item_id.clone())
                .bind(l.item_id.clone())
                .bind(l.pack_unit.clone())
                .bind(l.pack_factor.micros())
                .bind(l.qty.micros())
                .bind(l.unit_price_minor)
                .bind(l.amount_minor);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Create a draft purchase order.
pub async fn create(p: &Platform, ctx: &Ctx, input: &PoInput) -> Result<PurchaseOrder> {
    let c = check(p, &ctx.actor, input).await?;
    let id = tx!(p.db, tx, {
        let id = insert_in(tx, ctx, &c).await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(id)
    })?;
    get(p, &ctx.actor, &id).await
}

/// Write a checked draft order in the caller's transaction (with its audit row); answers its id.
pub(crate) async fn insert_in(tx: &mut AnyConnection, ctx: &Ctx, c: &Checked) -> Result<String> {
    let id = new_id();
    let t = now().micros();
    let day = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    let number = format!("PO-{day}-{}", &id[id.len() - 8..].to_uppercase());
    {
        sqlx::query(
            "INSERT INTO purchase_orders (id, company_id, number, supplier_id, location_id, location_path, \
             delivery_date, status, currency, total_minor, line_count, note, created_by, created_at, updated_at, version) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,'draft',$8,$9,$10,$11,$12,$13,$13,1)",
        )
        .bind(&id)
        .bind(&c.location.company_id)
        .bind(&number)
        .bind(&c.supplier.id)
        .bind(&c.location.id)
        .bind(&c.location.path)
        .bind(&c.delivery_date)
        .bind(&c.supplier.currency)
        .bind(c.total)
        .bind(c.lines.len() as i64)
        .bind(c.note.as_deref())
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        write_lines(tx, &id, &c.lines).await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.po.create",
                entity_type: "purchase_order",
                entity_id: &id,
                org_path: Some(&c.location.path),
                before: None,
                after: Some(serde_json::json!({
                    "number": number, "supplier": c.supplier.code, "total_minor": c.total,
                    "lines": c.lines.len(),
                })),
            },
        )
        .await?;
    }
    Ok(id)
}

/// The facts approval looks at (also what "changed after approval" compares).
fn facts(c: &Checked) -> BTreeMap<String, boh_expr::Value> {
    use boh_expr::Value as V;
    let mut f = BTreeMap::new();
    f.insert("amount".into(), V::Money(c.total));
    f.insert("supplier".into(), V::Text(c.supplier.code.clone()));
    f.insert("categories".into(), V::TextList(c.categories.clone()));
    let mut items: Vec<String> = c.lines.iter().map(|l| l.item_code.clone()).collect();
    items.sort();
    items.dedup();
    f.insert("items".into(), V::TextList(items));
    f.insert("lines".into(), V::Int(c.lines.len() as i64));
    f.insert("location".into(), V::Text(c.location.code.clone()));
    f
}

fn subject(po: &PurchaseOrder, c: &Checked, requester: &str) -> Subject {
    Subject {
        doc_type: DOC_TYPE.into(),
        doc_id: po.id.clone(),
        title: format!(
            "{} · {} · {}",
            po.number,
            c.supplier.code,
            boh_kernel::qty::money_text(c.total)
        ),
        event: "submit".into(),
        node: c.location.clone(),
        requester_id: requester.to_string(),
        facts: facts(c),
    }
}

/// The input that reproduces a stored order (to re-check it at submission).
fn input_of(po: &PurchaseOrder) -> PoInput {
    PoInput {
        supplier_id: po.supplier_id.clone(),
        location_id: po.location_id.clone(),
        delivery_date: Some(po.delivery_date.clone()),
        note: po.note.clone(),
        lines: po
            .lines
            .iter()
            .map(|l| LineInput {
                supplier_item_id: Some(l.supplier_item_id.clone()),
                item_code: None,
                pack_unit: None,
                qty: serde_json::Value::String(l.qty.to_text()),
                unit_price_minor: Some(l.unit_price_minor),
            })
            .collect(),
    }
}

/// An order the actor may change (404 outside their scope, 403 without the permission).
async fn for_change(p: &Platform, actor: &Actor, id: &str) -> Result<PurchaseOrder> {
    let po = get(p, actor, id).await?;
    let path = location_path(p, &po.location_id).await?;
    if !actor.allows(perm::PURCHASING_ORDER, &path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_ORDER));
    }
    Ok(po)
}

async fn location_path(p: &Platform, id: &str) -> Result<String> {
    Ok(boh_platform::org::fetch(p, id)
        .await?
        .ok_or(PlatformError::NotFound)?
        .path)
}

/// The route the order would take if submitted now (a simulation: nothing is written).
pub async fn route(p: &Platform, actor: &Actor, id: &str) -> Result<Route> {
    let po = get(p, actor, id).await?;
    let c = check(p, actor, &input_of(&po)).await?;
    boh_workflow::route::plan(p, &subject(&po, &c, &po.created_by)).await
}

/// Submit a draft (or rejected) order for approval. Below the supplier's minimum order value
/// it is refused.
pub async fn submit(p: &Platform, ctx: &Ctx, id: &str) -> Result<PurchaseOrder> {
    let po = for_change(p, &ctx.actor, id).await?;
    if po.status != status::DRAFT && po.status != status::REJECTED {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "order {} is {} and cannot be submitted",
                po.number, po.status
            ),
        ));
    }
    let c = check(p, &ctx.actor, &input_of(&po)).await?;
    if c.total < c.supplier.min_order_minor {
        return Err(PlatformError::Refused {
            code: "below_minimum_order",
            message: format!(
                "the order totals {} but supplier {} takes orders from {}",
                boh_kernel::qty::money_text(c.total),
                c.supplier.code,
                boh_kernel::qty::money_text(c.supplier.min_order_minor)
            ),
            fields: vec![FieldError::new(
                "lines",
                "below the supplier's minimum order value",
            )],
        });
    }
    let s = subject(&po, &c, &ctx.actor.user_id);
    let plan = boh_workflow::route::plan(p, &s).await?;
    let version = po.version;
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE purchase_orders SET status = 'pending_approval', submitted_at = $1, updated_at = $1, \
             version = version + 1 WHERE id = $2 AND version = $3",
        )
        .bind(now().micros())
        .bind(&po.id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "version",
                "the order changed meanwhile; reload it",
            ));
        }
        boh_workflow::run::start_in(tx, p, ctx, &s, &plan).await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.po.submit",
                entity_type: "purchase_order",
                entity_id: &po.id,
                org_path: Some(&c.location.path),
                before: Some(serde_json::json!({"status": po.status})),
                after: Some(serde_json::json!({
                    "route": plan.definition_code, "auto_approved": plan.auto_approved,
                })),
            },
        )
        .await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// Change an order. A submitted or approved order whose approval facts change goes back for
/// approval (its running or finished approval is superseded by a new one).
pub async fn update(p: &Platform, ctx: &Ctx, id: &str, input: &PoInput) -> Result<PurchaseOrder> {
    let (po, change) = plan_update(p, ctx, id, input).await?;
    tx!(p.db, tx, { update_in(tx, p, ctx, &po, &change).await })?;
    get(p, &ctx.actor, id).await
}

/// A change of an order, checked and routed, ready for [`update_in`].
pub(crate) struct Change {
    c: Checked,
    s: Subject,
    plan: Option<Route>,
}

/// Check a change of an order (reading only): the order as it is and the change.
pub(crate) async fn plan_update(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    input: &PoInput,
) -> Result<(PurchaseOrder, Change)> {
    let po = for_change(p, &ctx.actor, id).await?;
    if matches!(
        po.status.as_str(),
        status::CANCELLED | status::PARTIAL | status::RECEIVED
    ) {
        return Err(PlatformError::conflict(
            "status",
            format!("order {} is {} and cannot change", po.number, po.status),
        ));
    }
    if input.supplier_id != po.supplier_id {
        return Err(PlatformError::invalid(
            "supplier_id",
            "the supplier of an order cannot change; cancel it and order from the other supplier",
        ));
    }
    let c = check(p, &ctx.actor, input).await?;
    let s = subject(&po, &c, &ctx.actor.user_id);
    let resubmit = matches!(po.status.as_str(), status::PENDING | status::APPROVED);
    let plan = if resubmit {
        Some(boh_workflow::route::plan(p, &s).await?)
    } else {
        None
    };
    Ok((po, Change { c, s, plan }))
}

/// Write a change planned by [`plan_update`] in the caller's transaction: the order, its lines,
/// a new approval when what approval looked at changed, and the audit row.
pub(crate) async fn update_in(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    po: &PurchaseOrder,
    change: &Change,
) -> Result<()> {
    let Change { c, s, plan } = change;
    let resubmit = plan.is_some();
    let version = po.version;
    {
        let facts = boh_workflow::route::facts_json(
            &boh_workflow::route::facts_of(p, s)
                .await?
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        let changed =
            resubmit && boh_workflow::run::changed_since(tx, DOC_TYPE, &po.id, &facts).await?;
        let new_status = if changed {
            status::PENDING
        } else {
            po.status.as_str()
        };
        let n = sqlx::query(
            "UPDATE purchase_orders SET location_id = $1, location_path = $2, delivery_date = $3, note = $4, \
             total_minor = $5, line_count = $6, status = $7, updated_at = $8, version = version + 1 \
             WHERE id = $9 AND version = $10",
        )
        .bind(&c.location.id)
        .bind(&c.location.path)
        .bind(&c.delivery_date)
        .bind(c.note.as_deref())
        .bind(c.total)
        .bind(c.lines.len() as i64)
        .bind(new_status)
        .bind(now().micros())
        .bind(&po.id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "version",
                "the order changed meanwhile; reload it",
            ));
        }
        write_lines(tx, &po.id, &c.lines).await?;
        if changed && let Some(plan) = &plan {
            boh_workflow::run::end_current(
                tx,
                ctx,
                DOC_TYPE,
                &po.id,
                boh_workflow::run::status::SUPERSEDED,
                "changed after submission; sent for approval again",
            )
            .await?;
            boh_workflow::run::start_in(tx, p, ctx, s, plan).await?;
        }
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.po.update",
                entity_type: "purchase_order",
                entity_id: &po.id,
                org_path: Some(&c.location.path),
                before: Some(
                    serde_json::json!({"total_minor": po.total_minor, "status": po.status}),
                ),
                after: Some(serde_json::json!({
                    "total_minor": c.total, "status": new_status, "reapproval": changed,
                })),
            },
        )
        .await?;
    }
    Ok(())
}

/// Cancel an order that has not been received.
pub async fn cancel(p: &Platform, ctx: &Ctx, id: &str, reason: &str) -> Result<PurchaseOrder> {
    let po = for_change(p, &ctx.actor, id).await?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(PlatformError::invalid(
            "reason",
            "say why (at most 500 characters)",
        ));
    }
    if po.status == status::CANCELLED {
        return Err(PlatformError::conflict(
            "status",
            "the order is cancelled already",
        ));
    }
    if po.status == status::PARTIAL || po.status == status::RECEIVED {
        return Err(PlatformError::conflict(
            "status",
            "goods were received against this order; return them to the supplier instead",
        ));
    }
    let path = location_path(p, &po.location_id).await?;
    tx!(p.db, tx, {
        sqlx::query("UPDATE purchase_orders SET status = 'cancelled', updated_at = $1, version = version + 1 WHERE id = $2")
            .bind(now().micros())
            .bind(&po.id)
            .execute(&mut *tx)
            .await?;
        boh_workflow::run::end_current(
            tx,
            ctx,
            DOC_TYPE,
            &po.id,
            boh_workflow::run::status::WITHDRAWN,
            reason,
        )
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.po.cancel",
                entity_type: "purchase_order",
                entity_id: &po.id,
                org_path: Some(&path),
                before: Some(serde_json::json!({"status": po.status})),
                after: Some(serde_json::json!({"status": "cancelled", "reason": reason})),
            },
        )
        .await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// The workflow's decision lands on the order (inside the deciding transaction).
pub async fn on_finished(
    tx: &mut AnyConnection,
    _ctx: &Ctx,
    f: &boh_workflow::Finished,
) -> Result<()> {
    let (st, approved_at) = match f.outcome {
        boh_workflow::Outcome::Approved => (status::APPROVED, Some(now().micros())),
        boh_workflow::Outcome::Rejected => (status::REJECTED, None),
    };
    sqlx::query(
        "UPDATE purchase_orders SET status = $1, approved_at = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4 AND status = 'pending_approval'",
    )
    .bind(st)
    .bind(approved_at)
    .bind(now().micros())
    .bind(&f.doc_id)
    .execute(&mut *tx)
    .await?;
    let path: Option<String> =
        sqlx::query("SELECT location_path FROM purchase_orders WHERE id = $1")
            .bind(&f.doc_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("location_path"))
            .transpose()?;
    events::emit(
        tx,
        match f.outcome {
            boh_workflow::Outcome::Approved => "purchasing.po.approved",
            boh_workflow::Outcome::Rejected => "purchasing.po.rejected",
        },
        path.as_deref(),
        &serde_json::json!({"po_id": f.doc_id, "instance_id": f.instance_id}),
    )
    .await?;
    if f.outcome == boh_workflow::Outcome::Approved {
        crate::send::after_approval(tx, &f.doc_id, &f.instance_id, path.as_deref()).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- reading

// LEFT JOINs (the supplier and the site always exist) keep `purchase_orders` the outer table,
// so a filtered page walks an index in id order instead of sorting every match.
const PO_SQL: &str = "SELECT o.id, o.number, o.company_id, o.supplier_id, s.code AS supplier_code, \
    s.name_en AS supplier_name, s.min_order_minor, o.location_id, n.code AS location_code, n.name_en AS location_name, \
    o.location_path, o.delivery_date, o.status, o.currency, o.total_minor, o.line_count, o.note, u.display_name AS creator, \
    o.created_by, o.created_at, o.updated_at, o.submitted_at, o.approved_at, o.version FROM purchase_orders o \
    LEFT JOIN inv_suppliers s ON s.id = o.supplier_id LEFT JOIN org_nodes n ON n.id = o.location_id \
    LEFT JOIN users u ON u.id = o.created_by";

fn from_row(r: &boh_db::AnyRow) -> Result<PurchaseOrder> {
    let inst = |v: Option<i64>| v.map(|m| boh_kernel::Instant(m).rfc3339());
    Ok(PurchaseOrder {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        company_id: r.try_get("company_id")?,
        supplier_id: r.try_get("supplier_id")?,
        supplier_code: r.try_get("supplier_code")?,
        supplier_name: r.try_get("supplier_name")?,
        location_id: r.try_get("location_id")?,
        location_code: r.try_get("location_code")?,
        location_name: r.try_get("location_name")?,
        delivery_date: r.try_get("delivery_date")?,
        status: r.try_get("status")?,
        currency: r.try_get("currency")?,
        total_minor: r.try_get("total_minor")?,
        min_order_minor: r.try_get("min_order_minor")?,
        line_count: r.try_get("line_count")?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        submitted_at: inst(r.try_get("submitted_at")?),
        approved_at: inst(r.try_get("approved_at")?),
        version: r.try_get("version")?,
        lines: Vec::new(),
    })
}

/// Who may see an order or a requisition at `path`: its readers and its orderers.
pub(crate) fn may_read(actor: &Actor, path: &str) -> bool {
    actor.allows(perm::PURCHASING_READ, path) || actor.allows(perm::PURCHASING_ORDER, path)
}

/// One order with its lines (404 outside the actor's scope).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<PurchaseOrder> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!("{PO_SQL} WHERE o.id = $1")))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(PlatformError::NotFound)?;
    let path: String = r.try_get("location_path")?;
    if !may_read(actor, &path) {
        return Err(PlatformError::NotFound);
    }
    let mut po = from_row(&r)?;
    let rows = sqlx::query(
        "SELECT l.line_no, l.supplier_item_id, l.item_id, i.code, i.name_en, l.pack_unit, l.pack_factor, l.qty, \
         l.unit_price_minor, l.amount_minor, l.qty_received FROM purchase_order_lines l JOIN inv_items i ON i.id = l.item_id \
         WHERE l.po_id = $1 ORDER BY l.line_no",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    for l in rows {
        po.lines.push(PoLine {
            line_no: l.try_get("line_no")?,
            supplier_item_id: l.try_get("supplier_item_id")?,
            item_id: l.try_get("item_id")?,
            item_code: l.try_get("code")?,
            item_name: l.try_get("name_en")?,
            pack_unit: l.try_get("pack_unit")?,
            pack_factor: Qty(l.try_get("pack_factor")?),
            qty: Qty(l.try_get("qty")?),
            unit_price_minor: l.try_get("unit_price_minor")?,
            amount_minor: l.try_get("amount_minor")?,
            qty_received: Qty(l.try_get("qty_received")?),
        });
    }
    Ok(po)
}

/// Filters of the order list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PoFilter {
    pub status: Option<String>,
    pub supplier_id: Option<String>,
    pub location_id: Option<String>,
    /// Delivery from this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Delivery up to this day.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Counts of the order list stop here: a page says "10,000+" rather than counting every
/// order of a large chain on every page view.
pub const COUNT_CAP: i64 = 10_000;

/// Above this many matches the order list walks the newest-first index instead of sorting a
/// range (see [`list`]).
const WALK_FROM: i64 = 1_000;

/// A page of the order list.
#[derive(Debug, Clone)]
pub struct PoPage {
    pub items: Vec<PurchaseOrder>,
    /// Orders matching the filters, counted up to [`COUNT_CAP`].
    pub total: i64,
    /// More than [`COUNT_CAP`] orders match (`total` is then the cap).
    pub total_capped: bool,
}

/// Orders in the actor's scope, newest first (ids are UUIDv7: their order is the creation
/// order), lines not included. The page is chosen on `purchase_orders` alone (its indexes
/// cover the filters and the order) and only its rows are joined to their names.
pub async fn list(p: &Platform, actor: &Actor, f: &PoFilter) -> Result<PoPage> {
    let read = actor.scope(perm::PURCHASING_READ);
    let order = actor.scope(perm::PURCHASING_ORDER);
    // Two spellings of the same filters. Unchanged, the planner may read a range of the path
    // index for the scope (best when few orders match: the range is small and sorting it is
    // cheap). With `walk` the scope's columns are hidden from it (`col || ''` is the same
    // value), so it walks an index in id order and stops after one page (best when many
    // match: scopes are spread over time). Delivery days stay indexed either way: they follow
    // creation, so a window of days is a run of ids that a walk from the newest would reach
    // late.
    let where_of = |walk: bool| {
        let path = if walk {
            "(o.location_path || '')"
        } else {
            "o.location_path"
        };
        // A whole company is never a useful range (a chain is usually one company): hidden
        // always, so that the filters' indexes are chosen.
        let company = "(o.company_id || '')";
        let (r, o) = (
            read.sql_by_company(path, company),
            order.sql_by_company(path, company),
        );
        // The same grants usually give both permissions: one predicate, not the same one twice.
        let mut conds = vec![if r == o { r } else { format!("({r} OR {o})") }];
        let mut n = 0;
        let mut add = |sql: String| {
            n += 1;
            conds.push(sql.replace('?', &format!("${n}")));
        };
        if f.status.as_deref().is_some_and(|s| !s.is_empty()) {
            add("o.status = ?".into());
        }
        if f.supplier_id.as_deref().is_some_and(|s| !s.is_empty()) {
            add("o.supplier_id = ?".into());
        }
        if f.location_id.as_deref().is_some_and(|s| !s.is_empty()) {
            add("o.location_id = ?".into());
        }
        if f.from.as_deref().is_some_and(|s| !s.is_empty()) {
            add("o.delivery_date >= ?".into());
        }
        if f.to.as_deref().is_some_and(|s| !s.is_empty()) {
            add("o.delivery_date <= ?".into());
        }
        conds.join(" AND ")
    };
    let binds: Vec<&str> = [&f.status, &f.supplier_id, &f.location_id, &f.from, &f.to]
        .into_iter()
        .filter_map(|v| v.as_deref().filter(|s| !s.is_empty()))
        .collect();
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    let offset = f.offset.unwrap_or(0).max(0);
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM purchase_orders o WHERE {} LIMIT {}) c",
        where_of(false),
        COUNT_CAP + 1
    )));
    for b in &binds {
        qc = qc.bind(b.to_string());
    }
    let counted: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let wh = where_of(counted > WALK_FROM);
    let cols = &PO_SQL[..PO_SQL
        .find(" FROM purchase_orders o")
        .unwrap_or(PO_SQL.len())];
    let joins = &PO_SQL[PO_SQL.find(" LEFT JOIN").unwrap_or(PO_SQL.len())..];
    let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{cols} FROM (SELECT o.id FROM purchase_orders o WHERE {wh} ORDER BY o.id DESC \
         LIMIT {limit} OFFSET {offset}) pg JOIN purchase_orders o ON o.id = pg.id{joins} ORDER BY o.id DESC"
    )));
    for b in &binds {
        q = q.bind(b.to_string());
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    Ok(PoPage {
        items: rows.iter().map(from_row).collect::<Result<_>>()?,
        total: counted.min(COUNT_CAP),
        total_capped: counted > COUNT_CAP,
    })
}
