//! Sales dashboards: a node (company, region or store) today, week to date and month to date
//! against the same period last year, by child node, best and worst stores, sales per m²,
//! average ticket and tender mix; for a store also today by hour, top items, low stock and the
//! AvT headline; and one item's daily sales at a node.
//!
//! Reads only the rollups (`sales_rollup_day|item|hour|tender`) and org nodes, never raw lines.
//! Last year is the retail convention: the same weekday-aligned days 364 days earlier (a
//! Monday compares with a Monday). Weeks start on Monday. "Today" is the date in the node's
//! time zone. Percentages are basis points (integer, rounded toward zero); averages are
//! integer minor units rounded half away from zero.

use std::collections::BTreeMap;

use boh_db::{AssertSqlSafe, Row};
use boh_inventory::ledger::{self, StockFilter, StockRow};
use boh_kernel::{Actor, perm};
use boh_platform::org::{self, OrgNode};
use boh_platform::{Platform, PlatformError, Result};
use jiff::civil::Date;
use jiff::{ToSpan, Unit};
use serde::Serialize;

use crate::avt::{self, VarianceSummary};

/// Days between a day and the same weekday last year.
pub const LAST_YEAR_DAYS: i64 = 364;
/// Rows in the best and worst lists.
pub const RANK_ROWS: usize = 5;
/// Items in the store's top items.
pub const TOP_ITEMS: usize = 10;
/// Days in the daily chart (four whole weeks, so last year's weekdays line up).
pub const TREND_DAYS: i64 = 28;
/// Longest item drill-down period.
pub const MAX_ITEM_DAYS: i64 = 366;

/// A node as the dashboard shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeRef {
    pub id: String,
    /// company, region, store, warehouse or central_kitchen
    pub kind: String,
    pub code: String,
    pub name_en: String,
    pub name_zh: String,
}

impl NodeRef {
    fn of(n: &OrgNode) -> NodeRef {
        NodeRef {
            id: n.id.clone(),
            kind: n.kind.clone(),
            code: n.code.clone(),
            name_en: n.name_en.clone(),
            name_zh: n.name_zh.clone(),
        }
    }
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

/// Net sales and tickets of one period and the same period last year.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Net sales (minor units, refunds subtracted, voids excluded).
    pub net: i64,
    /// Sale tickets.
    pub tickets: i64,
    pub ly_net: i64,
    pub ly_tickets: i64,
    /// (net − ly_net) / ly_net in basis points; none when last year had no sales.
    pub change_bp: Option<i64>,
    /// net / tickets, minor units; none without tickets.
    pub avg_ticket: Option<i64>,
    pub ly_avg_ticket: Option<i64>,
    /// Selling area of the stores counted, m² (stores without an area are left out).
    pub area_m2: i64,
    /// Net sales of the stores with an area / their area, minor units per m².
    pub net_per_m2: Option<i64>,
    #[serde(skip)]
    area_net: i64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.net += o.net;
        self.tickets += o.tickets;
        self.ly_net += o.ly_net;
        self.ly_tickets += o.ly_tickets;
        self.area_m2 += o.area_m2;
        self.area_net += o.area_net;
    }
    fn finish(&mut self) {
        self.change_bp = change_bp(self.net, self.ly_net);
        self.avg_ticket = ratio(self.net, self.tickets);
        self.ly_avg_ticket = ratio(self.ly_net, self.ly_tickets);
        self.net_per_m2 = ratio(self.area_net, self.area_m2);
    }
}

/// (a − b) / b in basis points, rounded toward zero.
pub fn change_bp(a: i64, b: i64) -> Option<i64> {
    (b > 0).then(|| ((i128::from(a) - i128::from(b)) * 10_000 / i128::from(b)) as i64)
}

/// a / b rounded half away from zero.
pub fn ratio(a: i64, b: i64) -> Option<i64> {
    if b <= 0 {
        return None;
    }
    let (a, b) = (i128::from(a), i128::from(b));
    let q = (2 * a.abs() + b) / (2 * b);
    Some((if a < 0 { -q } else { q }) as i64)
}

/// `part` as basis points of `whole`, rounded toward zero.
pub fn share_bp(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (i128::from(part) * 10_000 / i128::from(whole)) as i64)
}

/// A child node (region or store) or a store in a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeFigures {
    pub node: NodeRef,
    /// Stores under this node that are counted (1 for a store).
    pub stores: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One tender's share of a period's payments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenderShare {
    pub tender: String,
    pub payments: i64,
    /// Minor units.
    pub amount: i64,
    /// Share of the period's tendered amount, basis points.
    pub share_bp: Option<i64>,
}

/// One period of the dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Period {
    /// today, wtd (week to date, from Monday) or mtd (month to date)
    pub period: String,
    pub from: String,
    pub to: String,
    /// The same weekdays 364 days earlier.
    pub ly_from: String,
    pub ly_to: String,
    pub total: Figures,
    /// The node's children (regions or stores; a store has none), by code.
    pub children: Vec<NodeFigures>,
    /// Stores with the highest and lowest net sales (at most 5 each).
    pub best: Vec<NodeFigures>,
    pub worst: Vec<NodeFigures>,
    /// Stores with last-year sales, highest and lowest change first.
    pub best_vs_ly: Vec<NodeFigures>,
    pub worst_vs_ly: Vec<NodeFigures>,
    /// Payments by tender, largest amount first.
    pub tenders: Vec<TenderShare>,
}

/// One day of the daily chart.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayPoint {
    pub date: String,
    pub net: i64,
    pub ly_date: String,
    pub ly_net: i64,
}

/// One hour of a store's day (the hour of closing, store time).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourPoint {
    pub hour: i64,
    pub tickets: i64,
    pub net: i64,
}

/// An item's sales in a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemFigures {
    pub item_id: String,
    pub code: String,
    pub name_en: String,
    pub name_zh: String,
    /// Micro-units of the item's base unit.
    pub qty: i64,
    pub net: i64,
    pub lines: i64,
}

/// The store tiles.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreTiles {
    /// Today by hour (hours with sales only).
    pub hours: Vec<HourPoint>,
    /// Top items by net sales, month to date.
    pub top_items: Vec<ItemFigures>,
    /// Items below their minimum (or par) at the store, furthest below first; none when the
    /// actor may not read the store's stock.
    pub low_stock: Option<Vec<StockRow>>,
    /// AvT month to date; none when there is no count yet.
    pub avt: Option<VarianceSummary>,
}

/// The dashboard of one node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub node: NodeRef,
    /// Ancestors the actor may read, top first (for the breadcrumb).
    pub trail: Vec<NodeRef>,
    /// The day the periods end (today in the node's time zone unless asked otherwise).
    pub date: String,
    /// Always 364: last year is the same weekday 52 weeks earlier.
    pub last_year_offset_days: i64,
    /// today, wtd, mtd
    pub periods: Vec<Period>,
    /// The last 28 days against the same weekdays last year.
    pub daily: Vec<DayPoint>,
    /// Only for a store.
    pub store: Option<StoreTiles>,
}

/// One item's daily sales at a node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemTrend {
    pub node: NodeRef,
    pub trail: Vec<NodeRef>,
    pub item: ItemFigures,
    pub from: String,
    pub to: String,
    pub ly_total_net: i64,
    pub ly_total_qty: i64,
    /// Every day of the period (zero when nothing sold).
    pub days: Vec<ItemDay>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemDay {
    pub date: String,
    pub qty: i64,
    pub net: i64,
    pub ly_date: String,
    pub ly_qty: i64,
    pub ly_net: i64,
}

/// A node the actor holds `sales.read` at (company, region or site); else `NotFound`.
pub async fn node(p: &Platform, actor: &Actor, id: &str) -> Result<OrgNode> {
    let n = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    if !actor.allows(perm::SALES_READ, &n.path) {
        return Err(PlatformError::NotFound);
    }
    Ok(n)
}

/// The node a dashboard opens on: the top of the actor's `sales.read` scope (the company for
/// a company-wide grant, the region for a region manager, the store for a store manager; with
/// several subtrees, the first by path). `NotFound` when the actor reads no sales.
pub async fn home_node(p: &Platform, actor: &Actor) -> Result<OrgNode> {
    let scope = actor.scope(perm::SALES_READ);
    if scope.is_global() {
        let c = actor.company_id.as_deref().ok_or(PlatformError::NotFound)?;
        return node(p, actor, c).await;
    }
    let first = scope.prefixes.first().ok_or(PlatformError::NotFound)?;
    let id = first
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    node(p, actor, id).await
}

/// Parses a `YYYY-MM-DD` field.
pub fn parse_date(field: &'static str, s: &str) -> Result<Date> {
    s.parse::<Date>()
        .map_err(|_| PlatformError::invalid(field, "must be a date YYYY-MM-DD"))
}

fn shift(d: Date, days: i64) -> Date {
    d.checked_add(days.days()).unwrap_or(d)
}

fn ly(d: Date) -> Date {
    shift(d, -LAST_YEAR_DAYS)
}

/// The periods ending on `date`: (name, from, to).
pub fn periods(date: Date) -> [(&'static str, Date, Date); 3] {
    let monday = shift(date, -i64::from(date.weekday().to_monday_zero_offset()));
    let first = date.first_of_month();
    [
        ("today", date, date),
        ("wtd", monday, date),
        ("mtd", first, date),
    ]
}

struct Store {
    node: OrgNode,
    /// Index of the child the store counts under.
    child: Option<usize>,
}

/// Sites under `n` (or `n` itself) and `n`'s children, in the actor's scope.
async fn subtree(p: &Platform, actor: &Actor, n: &OrgNode) -> Result<(Vec<OrgNode>, Vec<Store>)> {
    let scope = actor.scope(perm::SALES_READ);
    let mut all = if n.is_site() {
        vec![n.clone()]
    } else {
        org::company_nodes(p, &n.company_id).await?
    };
    all.retain(|x| scope.contains(&x.path) && x.path.starts_with(&n.path));
    let mut children: Vec<OrgNode> = all
        .iter()
        .filter(|x| x.parent_id.as_deref() == Some(n.id.as_str()))
        .cloned()
        .collect();
    children.sort_by(|a, b| a.code.cmp(&b.code));
    let stores = all
        .into_iter()
        .filter(|x| x.is_site())
        .map(|s| Store {
            child: children.iter().position(|c| s.path.starts_with(&c.path)),
            node: s,
        })
        .collect();
    Ok((children, stores))
}

fn trail_of(actor: &Actor, ancestors: Vec<OrgNode>) -> Vec<NodeRef> {
    ancestors
        .iter()
        .filter(|a| actor.allows(perm::SALES_READ, &a.path))
        .map(NodeRef::of)
        .collect()
}

/// The dashboard of node `id` for the periods ending on `date` (default: today in the node's
/// time zone).
pub async fn dashboard(
    p: &Platform,
    actor: &Actor,
    id: &str,
    date: Option<&str>,
) -> Result<Dashboard> {
    let n = node(p, actor, id).await?;
    let date = match date {
        Some(s) => parse_date("date", s)?,
        None => boh_inventory::today_in(&n.timezone),
    };
    let (children, stores) = subtree(p, actor, &n).await?;
    let ps = periods(date);
    let ty_from = ps[2].1.min(ps[1].1);
    let scope = actor.scope(perm::SALES_READ);

    // Per store: net and tickets of each period this year and last year, in one statement.
    let mut sums = String::new();
    let mut binds: Vec<String> = vec![n.company_id.clone(), n.path.clone()];
    for (_, from, to) in &ps {
        for (f, t) in [(*from, *to), (ly(*from), ly(*to))] {
            let a = binds.len() + 1;
            binds.push(f.to_string());
            binds.push(t.to_string());
            let b = a + 1;
            sums.push_str(&format!(
                ", CAST(SUM(CASE WHEN business_date BETWEEN ${a} AND ${b} THEN net ELSE 0 END) AS BIGINT) AS n{a}, \
                 CAST(SUM(CASE WHEN business_date BETWEEN ${a} AND ${b} THEN tickets ELSE 0 END) AS BIGINT) AS t{a}"
            ));
        }
    }
    let w = binds.len() + 1;
    binds.extend([
        ty_from.to_string(),
        date.to_string(),
        ly(ty_from).to_string(),
        ly(date).to_string(),
    ]);
    let sql = format!(
        "SELECT store_id{sums} FROM sales_rollup_day WHERE company_id = $1 \
         AND store_path LIKE $2 || '%' AND {} \
         AND (business_date BETWEEN ${w} AND ${} OR business_date BETWEEN ${} AND ${}) \
         GROUP BY store_id",
        scope.sql("store_path"),
        w + 1,
        w + 2,
        w + 3
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    // store id → per period (this year net, tickets, last year net, tickets)
    let mut by_store: BTreeMap<String, [[i64; 4]; 3]> = BTreeMap::new();
    for r in rows {
        let sid: String = r.try_get("store_id")?;
        let mut v = [[0i64; 4]; 3];
        for (i, slot) in v.iter_mut().enumerate() {
            let a = 3 + i * 4;
            slot[0] = r
                .try_get::<Option<i64>, _>(format!("n{a}").as_str())?
                .unwrap_or(0);
            slot[1] = r
                .try_get::<Option<i64>, _>(format!("t{a}").as_str())?
                .unwrap_or(0);
            slot[2] = r
                .try_get::<Option<i64>, _>(format!("n{}", a + 2).as_str())?
                .unwrap_or(0);
            slot[3] = r
                .try_get::<Option<i64>, _>(format!("t{}", a + 2).as_str())?
                .unwrap_or(0);
        }
        by_store.insert(sid, v);
    }

    let tenders = tender_mix(p, &scope, &n, &ps).await?;

    let mut periods_out = Vec::with_capacity(3);
    for (i, (name, from, to)) in ps.iter().enumerate() {
        let mut total = Figures::default();
        let mut per_child: Vec<NodeFigures> = children
            .iter()
            .map(|c| NodeFigures {
                node: NodeRef::of(c),
                stores: 0,
                figures: Figures::default(),
            })
            .collect();
        let mut per_store = Vec::new();
        for s in &stores {
            let Some(v) = by_store.get(&s.node.id) else {
                continue;
            };
            let v = v[i];
            let area = s.node.sales_area_m2.filter(|a| *a > 0).unwrap_or(0);
            let mut f = Figures {
                net: v[0],
                tickets: v[1],
                ly_net: v[2],
                ly_tickets: v[3],
                area_m2: area,
                area_net: if area > 0 { v[0] } else { 0 },
                ..Default::default()
            };
            total.add(&f);
            if let Some(ci) = s.child {
                per_child[ci].figures.add(&f);
                per_child[ci].stores += 1;
            }
            f.finish();
            per_store.push(NodeFigures {
                node: NodeRef::of(&s.node),
                stores: 1,
                figures: f,
            });
        }
        total.finish();
        for c in &mut per_child {
            c.figures.finish();
        }
        per_child.retain(|c| c.stores > 0 || c.node.kind == "region");
        let mut best = per_store.clone();
        best.sort_by(|a, b| {
            b.figures
                .net
                .cmp(&a.figures.net)
                .then(a.node.code.cmp(&b.node.code))
        });
        let worst: Vec<NodeFigures> = best.iter().rev().take(RANK_ROWS).cloned().collect();
        best.truncate(RANK_ROWS);
        let mut vs: Vec<NodeFigures> = per_store
            .into_iter()
            .filter(|s| s.figures.change_bp.is_some())
            .collect();
        vs.sort_by(|a, b| {
            b.figures
                .change_bp
                .cmp(&a.figures.change_bp)
                .then(a.node.code.cmp(&b.node.code))
        });
        let worst_vs: Vec<NodeFigures> = vs.iter().rev().take(RANK_ROWS).cloned().collect();
        vs.truncate(RANK_ROWS);
        periods_out.push(Period {
            period: name.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            ly_from: ly(*from).to_string(),
            ly_to: ly(*to).to_string(),
            total,
            children: per_child,
            best,
            worst,
            best_vs_ly: vs,
            worst_vs_ly: worst_vs,
            tenders: tenders[i].clone(),
        });
    }

    let daily = daily(p, &scope, &n, date).await?;
    let store = if n.is_site() {
        Some(store_tiles(p, actor, &n, date, ps[2].1).await?)
    } else {
        None
    };
    let trail = trail_of(actor, org::ancestors(p, &n).await?);
    Ok(Dashboard {
        node: NodeRef::of(&n),
        trail,
        date: date.to_string(),
        last_year_offset_days: LAST_YEAR_DAYS,
        periods: periods_out,
        daily,
        store,
    })
}

/// `store_id IN (…)` for the sites under `n` in scope, as a sub-select on org nodes.
fn stores_sql(scope: &boh_kernel::Scope, path_param: usize) -> String {
    format!(
        "store_id IN (SELECT id FROM org_nodes WHERE path LIKE ${path_param} || '%' AND {} \
         AND kind IN ('store','warehouse','central_kitchen'))",
        scope.sql("path")
    )
}

async fn tender_mix(
    p: &Platform,
    scope: &boh_kernel::Scope,
    n: &OrgNode,
    ps: &[(&'static str, Date, Date); 3],
) -> Result<Vec<Vec<TenderShare>>> {
    let mut sums = String::new();
    for i in 0..3 {
        let a = 2 + i * 2;
        let b = a + 1;
        sums.push_str(&format!(
            ", CAST(SUM(CASE WHEN business_date BETWEEN ${a} AND ${b} THEN payments ELSE 0 END) AS BIGINT) AS p{i}, \
             CAST(SUM(CASE WHEN business_date BETWEEN ${a} AND ${b} THEN amount ELSE 0 END) AS BIGINT) AS a{i}"
        ));
    }
    let from = ps[1].1.min(ps[2].1);
    let sql = format!(
        "SELECT tender{sums} FROM sales_rollup_tender WHERE {} \
         AND business_date BETWEEN $8 AND $9 GROUP BY tender",
        stores_sql(scope, 1)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(&n.path);
    for (_, f, t) in ps {
        q = q.bind(f.to_string()).bind(t.to_string());
    }
    let rows = q
        .bind(from.to_string())
        .bind(ps[0].2.to_string())
        .fetch_all(p.db.pool())
        .await?;
    let mut out: Vec<Vec<TenderShare>> = vec![Vec::new(), Vec::new(), Vec::new()];
    for r in rows {
        let tender: String = r.try_get("tender")?;
        for (i, o) in out.iter_mut().enumerate() {
            let payments = r
                .try_get::<Option<i64>, _>(format!("p{i}").as_str())?
                .unwrap_or(0);
            let amount = r
                .try_get::<Option<i64>, _>(format!("a{i}").as_str())?
                .unwrap_or(0);
            if payments != 0 || amount != 0 {
                o.push(TenderShare {
                    tender: tender.clone(),
                    payments,
                    amount,
                    share_bp: None,
                });
            }
        }
    }
    for o in &mut out {
        let whole: i64 = o.iter().map(|t| t.amount).sum();
        for t in o.iter_mut() {
            t.share_bp = share_bp(t.amount, whole);
        }
        o.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.tender.cmp(&b.tender)));
    }
    Ok(out)
}

async fn daily(
    p: &Platform,
    scope: &boh_kernel::Scope,
    n: &OrgNode,
    date: Date,
) -> Result<Vec<DayPoint>> {
    let from = shift(date, 1 - TREND_DAYS);
    let sql = format!(
        "SELECT business_date, CAST(SUM(net) AS BIGINT) AS net FROM sales_rollup_day WHERE company_id = $1 \
         AND store_path LIKE $2 || '%' AND {} \
         AND (business_date BETWEEN $3 AND $4 OR business_date BETWEEN $5 AND $6) \
         GROUP BY business_date",
        scope.sql("store_path")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(&n.company_id)
        .bind(&n.path)
        .bind(from.to_string())
        .bind(date.to_string())
        .bind(ly(from).to_string())
        .bind(ly(date).to_string())
        .fetch_all(p.db.pool())
        .await?;
    let mut by_day: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows {
        by_day.insert(
            r.try_get("business_date")?,
            r.try_get::<Option<i64>, _>("net")?.unwrap_or(0),
        );
    }
    let mut out = Vec::with_capacity(TREND_DAYS as usize);
    let mut d = from;
    while d <= date {
        let (ds, ls) = (d.to_string(), ly(d).to_string());
        out.push(DayPoint {
            net: by_day.get(&ds).copied().unwrap_or(0),
            ly_net: by_day.get(&ls).copied().unwrap_or(0),
            date: ds,
            ly_date: ls,
        });
        d = shift(d, 1);
    }
    Ok(out)
}

async fn store_tiles(
    p: &Platform,
    actor: &Actor,
    s: &OrgNode,
    date: Date,
    month_from: Date,
) -> Result<StoreTiles> {
    let rows = sqlx::query(
        "SELECT hour, tickets, net FROM sales_rollup_hour WHERE store_id = $1 \
         AND business_date = $2 ORDER BY hour",
    )
    .bind(&s.id)
    .bind(date.to_string())
    .fetch_all(p.db.pool())
    .await?;
    let mut hours = Vec::with_capacity(rows.len());
    for r in rows {
        hours.push(HourPoint {
            hour: r.try_get("hour")?,
            tickets: r.try_get("tickets")?,
            net: r.try_get("net")?,
        });
    }
    let rows = sqlx::query(
        "SELECT r.item_id, i.code, i.name_en, i.name_zh, CAST(SUM(r.qty) AS BIGINT) AS qty, CAST(SUM(r.net) AS BIGINT) AS net, \
         CAST(SUM(r.lines) AS BIGINT) AS lines FROM sales_rollup_item r JOIN inv_items i ON i.id = r.item_id \
         WHERE r.store_id = $1 AND r.business_date BETWEEN $2 AND $3 \
         GROUP BY r.item_id, i.code, i.name_en, i.name_zh ORDER BY SUM(r.net) DESC, i.code LIMIT $4",
    )
    .bind(&s.id)
    .bind(month_from.to_string())
    .bind(date.to_string())
    .bind(TOP_ITEMS as i64)
    .fetch_all(p.db.pool())
    .await?;
    let mut top_items = Vec::with_capacity(rows.len());
    for r in rows {
        top_items.push(item_row(&r)?);
    }
    let low_stock = if actor.allows(perm::INVENTORY_READ, &s.path) {
        Some(
            ledger::list_stock(
                p,
                actor,
                &StockFilter {
                    location_id: Some(s.id.clone()),
                    low: Some(true),
                    sort: Some("shortfall".into()),
                    limit: Some(10),
                    ..Default::default()
                },
            )
            .await?
            .0,
        )
    } else {
        None
    };
    let avt =
        avt::variance_summary(p, actor, &s.id, &month_from.to_string(), &date.to_string()).await?;
    Ok(StoreTiles {
        hours,
        top_items,
        low_stock,
        avt,
    })
}

fn item_row(r: &sqlx::any::AnyRow) -> Result<ItemFigures> {
    Ok(ItemFigures {
        item_id: r.try_get("item_id")?,
        code: r.try_get("code")?,
        name_en: r.try_get("name_en")?,
        name_zh: r.try_get("name_zh")?,
        qty: r.try_get::<Option<i64>, _>("qty")?.unwrap_or(0),
        net: r.try_get::<Option<i64>, _>("net")?.unwrap_or(0),
        lines: r.try_get::<Option<i64>, _>("lines")?.unwrap_or(0),
    })
}

/// One item's daily sales at node `id` over `from..=to` (default: the 28 days ending today in
/// the node's time zone; at most 366 days), against the same weekdays last year.
pub async fn item_trend(
    p: &Platform,
    actor: &Actor,
    id: &str,
    item_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ItemTrend> {
    let n = node(p, actor, id).await?;
    let to_d = to.map(|s| parse_date("to", s));
    let from_d = from.map(|s| parse_date("from", s));
    let mut errs = Vec::new();
    let to_d = match to_d {
        Some(Err(e)) => {
            errs.push(e);
            None
        }
        Some(Ok(d)) => Some(d),
        None => Some(boh_inventory::today_in(&n.timezone)),
    };
    let from_d = match from_d {
        Some(Err(e)) => {
            errs.push(e);
            None
        }
        Some(Ok(d)) => Some(d),
        None => to_d.map(|t| shift(t, 1 - TREND_DAYS)),
    };
    if !errs.is_empty() {
        let fields = errs
            .into_iter()
            .flat_map(|e| match e {
                PlatformError::Validation(f) => f,
                _ => Vec::new(),
            })
            .collect();
        return Err(PlatformError::Validation(fields));
    }
    let (from_d, to_d) = (from_d.unwrap_or_default(), to_d.unwrap_or_default());
    if from_d > to_d {
        return Err(PlatformError::invalid("from", "must not be after to"));
    }
    let span = to_d
        .since((Unit::Day, from_d))
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(i64::MAX);
    if span + 1 > MAX_ITEM_DAYS {
        return Err(PlatformError::invalid(
            "from",
            format!("the period may span at most {MAX_ITEM_DAYS} days"),
        ));
    }
    if !boh_kernel::id::is_uuid(item_id) {
        return Err(PlatformError::NotFound);
    }
    let item = sqlx::query(
        "SELECT id, code, name_en, name_zh FROM inv_items WHERE id = $1 AND company_id = $2",
    )
    .bind(item_id)
    .bind(&n.company_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let scope = actor.scope(perm::SALES_READ);
    let sql = format!(
        "SELECT business_date, CAST(SUM(qty) AS BIGINT) AS qty, CAST(SUM(net) AS BIGINT) AS net, CAST(SUM(lines) AS BIGINT) AS lines \
         FROM sales_rollup_item WHERE item_id = $2 AND {} \
         AND (business_date BETWEEN $3 AND $4 OR business_date BETWEEN $5 AND $6) \
         GROUP BY business_date",
        stores_sql(&scope, 1)
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(&n.path)
        .bind(item_id)
        .bind(from_d.to_string())
        .bind(to_d.to_string())
        .bind(ly(from_d).to_string())
        .bind(ly(to_d).to_string())
        .fetch_all(p.db.pool())
        .await?;
    let mut by_day: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        by_day.insert(
            r.try_get("business_date")?,
            (
                r.try_get::<Option<i64>, _>("qty")?.unwrap_or(0),
                r.try_get::<Option<i64>, _>("net")?.unwrap_or(0),
                r.try_get::<Option<i64>, _>("lines")?.unwrap_or(0),
            ),
        );
    }
    let mut figures = ItemFigures {
        item_id: item.try_get("id")?,
        code: item.try_get("code")?,
        name_en: item.try_get("name_en")?,
        name_zh: item.try_get("name_zh")?,
        qty: 0,
        net: 0,
        lines: 0,
    };
    let (mut ly_net, mut ly_qty) = (0, 0);
    let mut days = Vec::new();
    let mut d = from_d;
    while d <= to_d {
        let (ds, ls) = (d.to_string(), ly(d).to_string());
        let t = by_day.get(&ds).copied().unwrap_or_default();
        let l = by_day.get(&ls).copied().unwrap_or_default();
        figures.qty += t.0;
        figures.net += t.1;
        figures.lines += t.2;
        ly_qty += l.0;
        ly_net += l.1;
        days.push(ItemDay {
            date: ds,
            qty: t.0,
            net: t.1,
            ly_date: ls,
            ly_qty: l.0,
            ly_net: l.1,
        });
        d = shift(d, 1);
    }
    let mut trail = trail_of(actor, org::ancestors(p, &n).await?);
    trail.push(NodeRef::of(&n));
    Ok(ItemTrend {
        node: NodeRef::of(&n),
        trail,
        item: figures,
        from: from_d.to_string(),
        to: to_d.to_string(),
        ly_total_net: ly_net,
        ly_total_qty: ly_qty,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_last_year() {
        let d: Date = "2026-12-02".parse().unwrap(); // a Wednesday
        let ps = periods(d);
        assert_eq!(ps[1].1.to_string(), "2026-11-30");
        assert_eq!(ps[2].1.to_string(), "2026-12-01");
        assert_eq!(ly(d).weekday(), d.weekday());
        assert_eq!(ly(d).to_string(), "2025-12-03");
    }

    #[test]
    fn integer_ratios() {
        assert_eq!(change_bp(110, 100), Some(1000));
        assert_eq!(change_bp(1, 0), None);
        assert_eq!(change_bp(90, 100), Some(-1000));
        assert_eq!(ratio(5, 2), Some(3));
        assert_eq!(ratio(-5, 2), Some(-3));
        assert_eq!(ratio(4, 3), Some(1));
        assert_eq!(ratio(1, 0), None);
        assert_eq!(share_bp(1, 3), Some(3333));
    }
}
