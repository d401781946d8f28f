//! The order guide of a store, warehouse or central kitchen: for every item stocked there with
//! a par level, the par, the on-hand (the ledger's), what is on order, and a suggested
//! quantity from a source.
//!
//! - **On order** is what is coming and not yet in stock: open purchase order lines to the site
//!   (draft, waiting for approval, approved, partly received: ordered − received), transfers
//!   to it that were requested (the quantity requested) or shipped (the quantity shipped), and
//!   supplier lines of submitted requisitions still waiting to be consolidated.
//! - **Need** = max(0, par − on-hand − on order), in the item's base unit.
//! - **Sources**: the item's supplier items with a price in force (the preferred one first,
//!   then the cheapest per base unit), each with its pack unit, price and the supplier's next
//!   delivery day (lead time, then the first delivery weekday); and, for a store, the
//!   warehouses and central kitchens of the company that stock the item (the nearest in the
//!   org tree first: same region before another). The default source is the first supplier
//!   item; an item no supplier sells is sourced from the nearest warehouse or kitchen that
//!   stocks it. The user may pick another source per line; the source last ordered from at the
//!   site (any requisition) is offered first while it is still possible.
//! - **Suggested quantity** = the need in the source's unit (pack unit, or the base unit for a
//!   transfer), rounded up to a whole unit.

use std::collections::HashMap;

use boh_db::Row;
use boh_inventory::catalog::{self, Item};
use boh_inventory::supplier::{self, Supplier};
use boh_kernel::qty::{MICRO, mul_div_round};
use boh_kernel::{Actor, Qty, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Platform, Result};
use serde::Serialize;

/// Source kinds of a line.
pub mod source {
    pub const SUPPLIER: &str = "supplier";
    pub const TRANSFER: &str = "transfer";
}

/// Where a line can come from.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SourceOption {
    /// `supplier` or `transfer`.
    pub kind: String,
    /// `si:<supplier item id>` or `tr:<location id>`: how a form names this source.
    pub key: String,
    pub supplier_id: Option<String>,
    pub supplier_item_id: Option<String>,
    pub from_location_id: Option<String>,
    /// Code of the supplier, or of the warehouse / central kitchen.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The pack unit (supplier) or the item's base unit (transfer).
    pub unit: String,
    /// Base units in one `unit`.
    #[schema(value_type = String)]
    pub unit_factor: Qty,
    /// Price of one pack in minor units (supplier sources).
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    /// The supplier's next delivery day (`YYYY-MM-DD`).
    pub delivery_date: Option<String>,
    /// The supplier's minimum order value, minor units.
    pub min_order_minor: Option<i64>,
    /// The need in `unit`, rounded up to a whole unit.
    #[schema(value_type = String)]
    pub suggested_qty: Qty,
}

impl SourceOption {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

/// One item of the guide.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GuideLine {
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    #[schema(value_type = String)]
    pub par: Qty,
    #[schema(value_type = String)]
    pub on_hand: Qty,
    #[schema(value_type = String)]
    pub on_order: Qty,
    /// max(0, par − on hand − on order), base unit.
    #[schema(value_type = String)]
    pub need: Qty,
    /// The default source; `None` when nobody sells or stocks the item.
    pub source: Option<SourceOption>,
    /// Every possible source, the default first.
    pub sources: Vec<SourceOption>,
    /// The default is the source last ordered from at this site.
    pub remembered: bool,
}

impl GuideLine {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.item_name_zh
        } else {
            &self.item_name_en
        }
    }
}

/// The order guide of one site.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderGuide {
    pub location_id: String,
    pub location_code: String,
    pub location_name_zh: String,
    pub location_name_en: String,
    pub location_kind: String,
    /// Today at the site.
    pub date: String,
    pub lines: Vec<GuideLine>,
}

/// Whole units of `unit_factor` base units that cover `need` base units, as a quantity of that
/// unit (0 for no need).
pub fn round_up(need: i64, unit_factor: i64) -> Qty {
    if need <= 0 || unit_factor <= 0 {
        return Qty(0);
    }
    let n = need / unit_factor + i64::from(need % unit_factor != 0);
    Qty(n.saturating_mul(MICRO))
}

/// The order guide of a site where the actor may order (404 outside their scope).
pub async fn order_guide(p: &Platform, actor: &Actor, location_id: &str) -> Result<OrderGuide> {
    let site = boh_inventory::location(p, actor, perm::PURCHASING_ORDER, location_id).await?;
    build(p, &site).await
}

/// The guide of a site the caller has checked.
pub(crate) async fn build(p: &Platform, site: &OrgNode) -> Result<OrderGuide> {
    let today = boh_inventory::today_in(&site.timezone);
    let rows = sqlx::query(
        "SELECT il.item_id, il.par_qty, COALESCE(a.sort, 1000000000) AS sort FROM inv_item_locations il \
         LEFT JOIN inv_storage_areas a ON a.id = il.storage_area_id \
         WHERE il.location_id = $1 AND il.stocked = 1 AND il.par_qty IS NOT NULL",
    )
    .bind(&site.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut pars: HashMap<String, (i64, i64)> = HashMap::new();
    for r in &rows {
        pars.insert(
            r.try_get("item_id")?,
            (r.try_get("par_qty")?, r.try_get("sort")?),
        );
    }
    let ids: Vec<String> = pars.keys().cloned().collect();
    let mut items: Vec<Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .filter(|i| i.active && i.stocked)
        .collect();
    items.sort_by(|a, b| {
        let sa = pars.get(&a.id).map(|x| x.1).unwrap_or(0);
        let sb = pars.get(&b.id).map(|x| x.1).unwrap_or(0);
        sa.cmp(&sb).then(a.code.cmp(&b.code))
    });
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let on_hand = boh_inventory::ledger::on_hand_at(p, &site.id, &ids).await?;
    let on_order = on_order(p, &site.id).await?;
    let sources = sources_for(p, site, &items, today).await?;
    let last: HashMap<String, String> = sqlx::query(
        "SELECT item_id, source_key FROM purchasing_source_choices WHERE location_id = $1",
    )
    .bind(&site.id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("item_id")?, r.try_get("source_key")?)))
    .collect::<Result<_>>()?;
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let par = pars.get(&item.id).map(|x| x.0).unwrap_or(0);
        let oh = on_hand.get(&item.id).map(|q| q.micros()).unwrap_or(0);
        let oo = on_order.get(&item.id).copied().unwrap_or(0);
        let need = (par - oh - oo).max(0);
        let mut opts = sources.get(&item.id).cloned().unwrap_or_default();
        for o in &mut opts {
            o.suggested_qty = round_up(need, o.unit_factor.micros());
        }
        let remembered = match last.get(&item.id) {
            Some(k) => prefer(&mut opts, k),
            None => false,
        };
        lines.push(GuideLine {
            item_id: item.id.clone(),
            item_code: item.code.clone(),
            item_name_zh: item.name_zh.clone(),
            item_name_en: item.name_en.clone(),
            base_unit: item.base_unit.clone(),
            par: Qty(par),
            on_hand: Qty(oh),
            on_order: Qty(oo),
            need: Qty(need),
            source: opts.first().cloned(),
            sources: opts,
            remembered,
        });
    }
    Ok(OrderGuide {
        location_id: site.id.clone(),
        location_code: site.code.clone(),
        location_name_zh: site.name_zh.clone(),
        location_name_en: site.name_en.clone(),
        location_kind: site.kind.clone(),
        date: today.to_string(),
        lines,
    })
}

/// Move the source with `key` to the front; whether it was there to move.
fn prefer(opts: &mut Vec<SourceOption>, key: &str) -> bool {
    match opts.iter().position(|o| o.key == key) {
        Some(i) => {
            let o = opts.remove(i);
            opts.insert(0, o);
            true
        }
        None => false,
    }
}

/// Base units on order per item for a site (see the module documentation).
pub(crate) async fn on_order(p: &Platform, location_id: &str) -> Result<HashMap<String, i64>> {
    let mut out: HashMap<String, i64> = HashMap::new();
    let rows = sqlx::query(
        "SELECT l.item_id, l.qty, l.qty_received, l.pack_factor FROM purchase_order_lines l \
         JOIN purchase_orders o ON o.id = l.po_id WHERE o.location_id = $1 \
         AND o.status IN ('draft','pending_approval','approved','partially_received')",
    )
    .bind(location_id)
    .fetch_all(p.db.pool())
    .await?;
    for r in &rows {
        let left = (r.try_get::<i64, _>("qty")? - r.try_get::<i64, _>("qty_received")?).max(0);
        let base = mul_div_round(left, r.try_get("pack_factor")?, MICRO).unwrap_or(i64::MAX);
        let e = out.entry(r.try_get("item_id")?).or_default();
        *e = e.saturating_add(base);
    }
    let rows = sqlx::query(
        "SELECT l.item_id, t.status, l.qty_requested, l.qty_shipped FROM inv_transfers t \
         JOIN inv_transfer_lines l ON l.transfer_id = t.id WHERE t.to_location_id = $1 \
         AND t.status IN ('requested','shipped')",
    )
    .bind(location_id)
    .fetch_all(p.db.pool())
    .await?;
    for r in &rows {
        let st: String = r.try_get("status")?;
        let q: i64 = if st == "shipped" {
            r.try_get("qty_shipped")?
        } else {
            r.try_get("qty_requested")?
        };
        let e = out.entry(r.try_get("item_id")?).or_default();
        *e = e.saturating_add(q);
    }
    let rows = sqlx::query(
        "SELECT l.item_id, l.base_qty FROM requisition_lines l JOIN requisitions r ON r.id = l.requisition_id \
         WHERE r.location_id = $1 AND l.status = 'open'",
    )
    .bind(location_id)
    .fetch_all(p.db.pool())
    .await?;
    for r in &rows {
        let e = out.entry(r.try_get("item_id")?).or_default();
        *e = e.saturating_add(r.try_get("base_qty")?);
    }
    Ok(out)
}

/// The sources of each item at a site, the default first (suggested quantities left at 0).
pub(crate) async fn sources_for(
    p: &Platform,
    site: &OrgNode,
    items: &[Item],
    today: jiff::civil::Date,
) -> Result<HashMap<String, Vec<SourceOption>>> {
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let prices = supplier::prices_in_force(p, &site.company_id, &ids, &today.to_string()).await?;
    let mut suppliers: HashMap<String, Supplier> = HashMap::new();
    for pr in prices.values().flatten() {
        if !suppliers.contains_key(&pr.supplier_id)
            && let Some(s) = supplier::fetch_supplier(p, &pr.supplier_id).await?
        {
            suppliers.insert(s.id.clone(), s);
        }
    }
    let warehouses = if site.kind == "store" {
        supplying_sites(p, site, &ids).await?
    } else {
        HashMap::new()
    };
    let mut out: HashMap<String, Vec<SourceOption>> = HashMap::new();
    for item in items {
        let mut opts = Vec::new();
        for pr in prices.get(&item.id).into_iter().flatten() {
            let Some(s) = suppliers.get(&pr.supplier_id).filter(|s| s.active) else {
                continue;
            };
            if pr.pack_factor.micros() <= 0 {
                continue;
            }
            opts.push(SourceOption {
                kind: source::SUPPLIER.into(),
                key: format!("si:{}", pr.supplier_item_id),
                supplier_id: Some(s.id.clone()),
                supplier_item_id: Some(pr.supplier_item_id.clone()),
                from_location_id: None,
                code: s.code.clone(),
                name_zh: s.name_zh.clone(),
                name_en: s.name_en.clone(),
                unit: pr.pack_unit.clone(),
                unit_factor: pr.pack_factor,
                price_minor: Some(pr.price_minor),
                currency: Some(pr.currency.clone()),
                delivery_date: Some(crate::po::next_delivery(Some(s), today).to_string()),
                min_order_minor: Some(s.min_order_minor),
                suggested_qty: Qty(0),
            });
        }
        for w in warehouses.get(&item.id).into_iter().flatten() {
            opts.push(SourceOption {
                kind: source::TRANSFER.into(),
                key: format!("tr:{}", w.id),
                supplier_id: None,
                supplier_item_id: None,
                from_location_id: Some(w.id.clone()),
                code: w.code.clone(),
                name_zh: w.name_zh.clone(),
                name_en: w.name_en.clone(),
                unit: item.base_unit.clone(),
                unit_factor: Qty(MICRO),
                price_minor: None,
                currency: None,
                delivery_date: None,
                min_order_minor: None,
                suggested_qty: Qty(0),
            });
        }
        out.insert(item.id.clone(), opts);
    }
    Ok(out)
}

/// A warehouse or central kitchen that may supply a store.
#[derive(Debug, Clone)]
pub(crate) struct SupplyingSite {
    pub id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub path: String,
    pub kind: String,
}

/// Segments two org paths share from the top.
fn shared_depth(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Per item, the warehouses and central kitchens of the store's company that stock it, the
/// nearest first (most path segments in common), warehouses before kitchens, then by code.
pub(crate) async fn supplying_sites(
    p: &Platform,
    store: &OrgNode,
    item_ids: &[String],
) -> Result<HashMap<String, Vec<SupplyingSite>>> {
    let mut out: HashMap<String, Vec<SupplyingSite>> = HashMap::new();
    for chunk in item_ids.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT il.item_id, n.id, n.code, n.name_zh, n.name_en, n.path, n.kind FROM inv_item_locations il \
             JOIN org_nodes n ON n.id = il.location_id WHERE n.company_id = $1 \
             AND n.kind IN ('warehouse','central_kitchen') AND il.stocked = 1 AND il.item_id IN ({})",
            boh_inventory::in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&store.company_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.entry(r.try_get("item_id")?)
                .or_default()
                .push(SupplyingSite {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                    path: r.try_get("path")?,
                    kind: r.try_get("kind")?,
                });
        }
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| {
            shared_depth(&b.path, &store.path)
                .cmp(&shared_depth(&a.path, &store.path))
                .then((a.kind != "warehouse").cmp(&(b.kind != "warehouse")))
                .then(a.code.cmp(&b.code))
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_round_up_to_whole_units() {
        // 30 kg needed, bags of 25 kg: 2 bags.
        assert_eq!(round_up(30 * MICRO, 25 * MICRO), Qty(2 * MICRO));
        assert_eq!(round_up(25 * MICRO, 25 * MICRO), Qty(MICRO));
        assert_eq!(round_up(1, 25 * MICRO), Qty(MICRO));
        assert_eq!(round_up(0, 25 * MICRO), Qty(0));
        assert_eq!(round_up(-5, 25 * MICRO), Qty(0));
        // 2.5 kg from the warehouse in kg: 3 kg.
        assert_eq!(round_up(2_500_000, MICRO), Qty(3 * MICRO));
    }

    fn opt(key: &str) -> SourceOption {
        SourceOption {
            kind: source::SUPPLIER.into(),
            key: key.into(),
            supplier_id: None,
            supplier_item_id: None,
            from_location_id: None,
            code: key.into(),
            name_zh: String::new(),
            name_en: String::new(),
            unit: "kg".into(),
            unit_factor: Qty(MICRO),
            price_minor: None,
            currency: None,
            delivery_date: None,
            min_order_minor: None,
            suggested_qty: Qty(0),
        }
    }

    #[test]
    fn the_remembered_source_comes_first_while_possible() {
        let mut opts = vec![opt("si:a"), opt("si:b"), opt("tr:w")];
        assert!(prefer(&mut opts, "tr:w"));
        let keys: Vec<&str> = opts.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["tr:w", "si:a", "si:b"]);
        assert!(!prefer(&mut opts, "si:gone"), "a source no longer offered");
        assert_eq!(opts[0].key, "tr:w");
    }

    #[test]
    fn nearer_sites_share_more_of_the_path() {
        let store = "/co/east/s1/";
        assert!(shared_depth("/co/east/w1/", store) > shared_depth("/co/w2/", store));
        assert!(shared_depth("/co/w2/", store) > shared_depth("/other/w3/", store));
    }
}
