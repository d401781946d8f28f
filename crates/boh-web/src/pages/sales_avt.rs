//! The actual-vs-theoretical usage page: a store, a period, per item or category, biggest
//! variances first with a bar chart of the top ones, totals, and CSV / Excel export.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use boh_kernel::qty::money_text;
use boh_kernel::{Actor, perm};
use boh_platform::PlatformError;
use boh_platform::org::OrgNode;
use boh_sales::avt::{self, Avt, AvtFilter, AvtRow};
use serde::Deserialize;

use super::inventory::money;
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart};
use crate::extract::PageActor;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct AvtQuery {
    #[serde(default)]
    pub store_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub group: String,
}

impl AvtQuery {
    fn filter(&self) -> AvtFilter {
        AvtFilter {
            store_id: Some(self.store_id.clone()),
            from: Some(self.from.clone()).filter(|s| !s.is_empty()),
            to: Some(self.to.clone()).filter(|s| !s.is_empty()),
            group: Some(self.group.clone()).filter(|g| !g.is_empty()),
        }
    }
}

/// Stores (sites) the actor reads sales of, within the scope picker.
pub async fn sales_sites(state: &AppState, actor: &Actor, scope: Option<String>) -> Vec<OrgNode> {
    let f = boh_platform::org::NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    boh_platform::org::list(&state.platform, actor, &f)
        .await
        .map(|(n, _)| {
            n.into_iter()
                .filter(|n| actor.allows(perm::SALES_READ, &n.path))
                .collect()
        })
        .unwrap_or_default()
}

/// Money with its sign, for variances.
fn signed_money(v: i64) -> String {
    if v > 0 {
        format!("+{}", money(v))
    } else {
        money(v)
    }
}

/// Basis points as a percentage with two decimals (integer arithmetic).
pub fn percent(bp: Option<i64>) -> String {
    match bp {
        Some(b) => format!("{}%", boh_kernel::qty::format_scaled(b, 2)),
        None => "—".into(),
    }
}

#[derive(askama::Template)]
#[template(path = "sales/avt.html")]
struct AvtPage {
    ui: Ui,
    q: AvtQuery,
    sites: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    report: Option<Avt>,
    errors: Vec<String>,
    chart: String,
}

impl AvtPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn signed(&self, v: &i64) -> String {
        signed_money(*v)
    }
    fn pct(&self, v: &Option<i64>) -> String {
        percent(*v)
    }
    fn some_book(&self, n: &i64) -> String {
        self.ui.ta("avt.some_book", "n", &n.to_string())
    }
    fn of_sales(&self, bp: &Option<i64>) -> String {
        self.ui.ta("avt.of_sales", "pct", &percent(*bp))
    }
    fn qty(&self, q: &Option<boh_kernel::Qty>) -> String {
        q.map(|q| q.to_string()).unwrap_or_default()
    }
    /// Receipts + transfers in + production in − transfers out (items).
    fn net_in(&self, r: &AvtRow) -> String {
        let q = |x: Option<boh_kernel::Qty>| x.map_or(0, |q| q.micros());
        boh_kernel::Qty(
            q(r.receipts_qty) + q(r.transfers_in_qty) + q(r.production_in_qty)
                - q(r.transfers_out_qty),
        )
        .to_string()
    }
    fn row_name(&self, r: &AvtRow) -> String {
        if r.id.is_empty() {
            self.ui.t("inv.uncategorised")
        } else {
            r.name(&self.ui.locale).to_string()
        }
    }
    fn query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("store_id", &self.q.store_id)
            .append_pair("from", &self.q.from)
            .append_pair("to", &self.q.to)
            .append_pair("group", &self.q.group)
            .finish()
    }
    fn is_item(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.group == "item")
    }
}

pub async fn page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(mut q): Query<AvtQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope.clone(), &ctx.actor, "sales_avt", "avt.title").await;
    let nodes = sales_sites(&state, &ctx.actor, scope).await;
    if q.store_id.is_empty()
        && let Some(first) = nodes.first()
    {
        q.store_id = first.id.clone();
    }
    if q.to.is_empty() || q.from.is_empty() {
        let tz = nodes
            .iter()
            .find(|n| n.id == q.store_id)
            .map(|n| n.timezone.clone())
            .unwrap_or_else(|| "Asia/Shanghai".into());
        let today = boh_inventory::today_in(&tz);
        if q.to.is_empty() {
            q.to = today.to_string();
        }
        if q.from.is_empty() {
            q.from = today
                .checked_sub(jiff::Span::new().days(6))
                .unwrap_or(today)
                .to_string();
        }
    }
    if q.group.is_empty() {
        q.group = "item".into();
    }
    let sites = nodes
        .iter()
        .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
        .collect();
    let groups = avt::GROUPS
        .iter()
        .map(|g| (g.to_string(), ui.t(&format!("inv.group.{g}"))))
        .collect();
    let (report, errors) = if q.store_id.is_empty() {
        (None, Vec::new())
    } else {
        match avt::report(&state.platform, &ctx.actor, &q.filter()).await {
            Ok(r) => (Some(r), Vec::new()),
            Err(PlatformError::Validation(e)) => (
                None,
                e.into_iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect(),
            ),
            Err(e) => return error_page(e),
        }
    };
    // The ten largest absolute variances, in yuan.
    let chart = match &report {
        Some(r) => {
            let data: Vec<Datum> = r
                .rows
                .iter()
                .filter(|x| x.variance_value != 0)
                .take(10)
                .map(|x| Datum {
                    label: if x.code.is_empty() {
                        "—".into()
                    } else {
                        x.code.clone()
                    },
                    value: x.variance_value.abs() / 100,
                })
                .collect();
            if data.is_empty() {
                String::new()
            } else {
                bar_chart(&ui.t("avt.chart"), &data)
            }
        }
        None => String::new(),
    };
    render(AvtPage {
        ui,
        q,
        sites,
        groups,
        report,
        errors,
        chart,
    })
}

const HEADERS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "base_unit",
    "opening_qty",
    "receipts_qty",
    "transfers_in_qty",
    "transfers_out_qty",
    "production_in_qty",
    "production_used_qty",
    "closing_qty",
    "actual_qty",
    "theoretical_qty",
    "waste_qty",
    "variance_qty",
    "actual_value",
    "theoretical_value",
    "waste_value",
    "variance_value",
    "variance_pct_of_sales",
    "opening_book_items",
    "closing_book_items",
];

/// Every row of the report as CSV or Excel.
pub async fn export(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
    Query(q): Query<AvtQuery>,
) -> Response {
    let report = match avt::report(&state.platform, &ctx.actor, &q.filter()).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let t = |q: Option<boh_kernel::Qty>| q.map(|q| q.to_text()).unwrap_or_default();
    let rows = report
        .rows
        .into_iter()
        .map(|r| {
            vec![
                r.code,
                r.name_zh,
                r.name_en,
                r.base_unit.unwrap_or_default(),
                t(r.opening_qty),
                t(r.receipts_qty),
                t(r.transfers_in_qty),
                t(r.transfers_out_qty),
                t(r.production_in_qty),
                t(r.production_used_qty),
                t(r.closing_qty),
                t(r.actual_qty),
                t(r.theoretical_qty),
                t(r.waste_qty),
                t(r.variance_qty),
                money_text(r.actual_value),
                money_text(r.theoretical_value),
                money_text(r.waste_value),
                money_text(r.variance_value),
                r.variance_bp
                    .map(|b| boh_kernel::qty::format_scaled(b, 2))
                    .unwrap_or_default(),
                r.opening_book.to_string(),
                r.closing_book.to_string(),
            ]
        })
        .collect();
    let stem = format!("avt-{}-{}-{}", report.store_code, report.from, report.to);
    crate::export::respond(
        format,
        &stem,
        &crate::export::text_sheet("avt", HEADERS, rows),
    )
}
