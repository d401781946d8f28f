//! The sales anomalies page: cashiers and stores with outlying void or refund rates, and
//! store-days far below their usual sales, each with the figures that flagged it.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use boh_kernel::perm;
use boh_platform::PlatformError;
use boh_sales::anomaly::{self, Anomalies, AnomalyFilter, DayFlag, RateFlag};
use serde::Deserialize;

use super::inventory::money;
use super::sales_avt::percent;
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct AnomalyQuery {
    #[serde(default)]
    pub node_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Tuning, by URL only (see [`AnomalyFilter`]).
    pub k_tenths: Option<i64>,
    pub min_excess_ppm: Option<i64>,
    pub min_lines: Option<i64>,
    pub min_tickets: Option<i64>,
    pub weeks: Option<i64>,
    pub below_bp: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "sales/anomalies.html")]
struct AnomaliesPage {
    ui: Ui,
    q: AnomalyQuery,
    nodes: Vec<(String, String)>,
    report: Option<Anomalies>,
    errors: Vec<String>,
}

/// Parts per million as a percentage with two decimals.
fn ppm_pct(ppm: i64) -> String {
    percent(Some((ppm + 50).div_euclid(100)))
}

impl AnomaliesPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn rate(&self, v: &i64) -> String {
        ppm_pct(*v)
    }
    fn share(&self, v: &i64) -> String {
        percent(Some(*v))
    }
    fn store_name(&self, code: &str, zh: &str, en: &str) -> String {
        let n = if self.ui.is_zh() && !zh.is_empty() {
            zh
        } else {
            en
        };
        format!("{code} {n}")
    }
    fn rate_store(&self, f: &RateFlag) -> String {
        self.store_name(&f.store_code, &f.store_name_zh, &f.store_name_en)
    }
    fn day_store(&self, f: &DayFlag) -> String {
        self.store_name(&f.store_code, &f.store_name_zh, &f.store_name_en)
    }
    fn why(&self, f: &RateFlag) -> String {
        let key = format!("anom.why.{}", f.metric);
        self.ui
            .t(&key)
            .replace("%{count}", &f.count.to_string())
            .replace("%{base}", &f.base.to_string())
            .replace("%{rate}", &ppm_pct(f.rate_ppm))
            .replace("%{median}", &ppm_pct(f.peer_median_ppm))
            .replace("%{threshold}", &ppm_pct(f.threshold_ppm))
            .replace("%{peers}", &f.peers.to_string())
    }
    fn day_why(&self, d: &DayFlag) -> String {
        self.ui
            .t("anom.why.day")
            .replace("%{net}", &money(d.net))
            .replace("%{expected}", &money(d.expected_net))
            .replace("%{threshold}", &money(d.threshold_net))
            .replace("%{weeks}", &d.history_days.to_string())
    }
}

pub async fn page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(mut q): Query<AnomalyQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "sales_anomalies",
        "anom.title",
    )
    .await;
    let f = boh_platform::org::NodeFilter {
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    let nodes: Vec<(String, String)> = boh_platform::org::list(&state.platform, &ctx.actor, &f)
        .await
        .map(|(n, _)| n)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| ctx.actor.allows(perm::SALES_READ, &n.path))
        .map(|n| (n.id.clone(), format!("{} {}", n.code, n.name(&ui.locale))))
        .collect();
    if q.from.is_empty() || q.to.is_empty() {
        let today = boh_inventory::today_in("Asia/Shanghai");
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
    let filter = AnomalyFilter {
        node_id: Some(q.node_id.clone()).filter(|s| !s.is_empty()),
        from: Some(q.from.clone()).filter(|s| !s.is_empty()),
        to: Some(q.to.clone()).filter(|s| !s.is_empty()),
        k_tenths: q.k_tenths,
        min_excess_ppm: q.min_excess_ppm,
        min_lines: q.min_lines,
        min_tickets: q.min_tickets,
        weeks: q.weeks,
        below_bp: q.below_bp,
    };
    let (report, errors) = match anomaly::report(&state.platform, &ctx.actor, &filter).await {
        Ok(r) => (Some(r), Vec::new()),
        Err(PlatformError::Validation(e)) => (
            None,
            e.into_iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect(),
        ),
        Err(e) => return error_page(e),
    };
    render(AnomaliesPage {
        ui,
        q,
        nodes,
        report,
        errors,
    })
}
