//! The maintenance KPI dashboard (`/maintenance/kpis`: scope, period and repeat window; KPI
//! cards; work orders and cost by store, the monthly trend of work orders and MTTR, the
//! backlog by age, by asset model and the costliest assets) and the knowledge search of past
//! fixes (`/maintenance/knowledge`). The numbers are those of `GET /api/v1/maintenance/kpis`
//! and `GET /api/v1/maintenance/knowledge`.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use boh_kernel::Actor;
use boh_maintenance::knowledge::{self, Fix, KnowledgeQuery};
use boh_maintenance::kpi::{self, KpiQuery, Kpis};
use serde::Deserialize;

use super::inventory::{money, money_compact};
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart, line_chart_with};
use crate::extract::PageActor;
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/maintenance/kpis", get(kpis_page))
        .route("/maintenance/knowledge", get(knowledge_page))
}

/// Who sees the KPI and knowledge entries of the navigation.
pub fn may_see(actor: &Actor) -> bool {
    knowledge::may_search(actor)
}

#[derive(Debug, Default, Deserialize)]
pub struct KpiForm {
    #[serde(default)]
    pub under: Option<String>,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub ftf_days: String,
}

/// Minutes as `3 h 20 min` / `2.5 d`.
pub fn duration(min: Option<i64>, zh: bool) -> String {
    let Some(m) = min else {
        return "—".into();
    };
    let (h, d) = if zh { ("小时", "天") } else { ("h", "d") };
    if m >= 48 * 60 {
        let tenths = (m * 10 + 720) / 1440;
        format!("{}.{} {d}", tenths / 10, tenths % 10)
    } else if m >= 60 {
        format!("{} {h} {} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// Per mille as `87.5 %`.
pub fn pct(pm: Option<i64>) -> String {
    match pm {
        Some(p) => format!("{}.{} %", p / 10, p % 10),
        None => "—".into(),
    }
}

#[derive(askama::Template)]
#[template(path = "maintenance/kpis.html")]
struct KpiPage {
    ui: Ui,
    k: Kpis,
    under: String,
    ftf_days: String,
    store_chart: String,
    trend_chart: String,
    mttr_chart: String,
    backlog_chart: String,
}

impl KpiPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn money_big(&self, v: &i64) -> String {
        money_compact(*v, &self.ui.locale)
    }
    fn dur(&self, m: &Option<i64>) -> String {
        duration(*m, self.ui.is_zh())
    }
    fn pct(&self, p: &Option<i64>) -> String {
        pct(*p)
    }
    fn cat(&self, c: &str) -> String {
        self.ui.t(&format!("asset.cat.{c}"))
    }
    /// `good` at or above `good`, `bad` below `bad`, else nothing.
    fn tone(&self, p: &Option<i64>, good: i64, bad: i64) -> &'static str {
        match p {
            Some(v) if *v >= good => "good",
            Some(v) if *v < bad => "bad",
            _ => "",
        }
    }
    fn ftf_note(&self) -> String {
        self.ui
            .ta("kpi.ftf_note", "days", &self.k.ftf_days.to_string())
    }
}

/// `/maintenance/kpis`.
pub async fn kpis_page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(f): Query<KpiForm>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "maintenance_kpis",
        "kpi.title",
    )
    .await;
    let under = match f.under {
        Some(u) => u,
        None => scope.unwrap_or_default(),
    };
    let q = KpiQuery {
        from: Some(f.from.clone()).filter(|s| !s.is_empty()),
        to: Some(f.to.clone()).filter(|s| !s.is_empty()),
        under: Some(under.clone()).filter(|s| !s.is_empty()),
        ftf_days: f.ftf_days.trim().parse().ok(),
    };
    let k = match kpi::kpis(&state.platform, &ctx.actor, &q).await {
        Ok(k) => k,
        Err(e) => return error_page(e),
    };
    let stores: Vec<Datum> = k
        .by_store
        .iter()
        .take(30)
        .map(|s| Datum {
            label: s.location_code.clone(),
            value: s.figures.work_orders,
        })
        .collect();
    let store_chart = if stores.iter().any(|d| d.value > 0) {
        bar_chart(&ui.t("kpi.chart_stores"), &stores)
    } else {
        String::new()
    };
    let month_label = |m: &str| m.get(2..).unwrap_or(m).to_string();
    let trend: Vec<Datum> = k
        .monthly
        .iter()
        .map(|m| Datum {
            label: month_label(&m.month),
            value: m.work_orders,
        })
        .collect();
    let trend_chart = if trend.iter().any(|d| d.value > 0) {
        line_chart_with(&ui.t("kpi.chart_trend"), &trend, &|v| v.to_string())
    } else {
        String::new()
    };
    let mttr: Vec<Datum> = k
        .monthly
        .iter()
        .map(|m| Datum {
            label: month_label(&m.month),
            value: m.mttr_min.unwrap_or(0),
        })
        .collect();
    let zh = ui.is_zh();
    let mttr_chart = if mttr.iter().any(|d| d.value > 0) {
        line_chart_with(&ui.t("kpi.chart_mttr"), &mttr, &|v| {
            if zh {
                format!("{}小时", v / 60)
            } else {
                format!("{} h", v / 60)
            }
        })
    } else {
        String::new()
    };
    let backlog: Vec<Datum> = k
        .backlog
        .iter()
        .map(|b| Datum {
            label: ui.t(&format!("kpi.bucket.{}", b.bucket)),
            value: b.count,
        })
        .collect();
    let backlog_chart = if k.backlog_total > 0 {
        bar_chart(&ui.t("kpi.chart_backlog"), &backlog)
    } else {
        String::new()
    };
    render(KpiPage {
        ftf_days: k.ftf_days.to_string(),
        ui,
        k,
        under,
        store_chart,
        trend_chart,
        mttr_chart,
        backlog_chart,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct KnowledgeForm {
    #[serde(default)]
    pub q: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/knowledge.html")]
struct KnowledgePage {
    ui: Ui,
    q: String,
    hits: Vec<Fix>,
}

impl KnowledgePage {
    fn cat(&self, c: &str) -> String {
        self.ui.t(&format!("asset.cat.{c}"))
    }
    fn dur(&self, m: &i64) -> String {
        duration(Some(*m), self.ui.is_zh())
    }
    fn day(&self, at: &str) -> String {
        at.get(..10).unwrap_or(at).to_string()
    }
}

/// `/maintenance/knowledge?q=`: past fixes in the actor's scope (narrowed by the scope
/// picker).
pub async fn knowledge_page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(f): Query<KnowledgeForm>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "maintenance_knowledge",
        "kb.title",
    )
    .await;
    let q = f.q.trim().chars().take(200).collect::<String>();
    let hits = if q.is_empty() {
        Vec::new()
    } else {
        let kq = KnowledgeQuery {
            q: Some(q.clone()),
            under: scope,
            category: None,
            limit: Some(30),
        };
        match knowledge::search(&state.platform, &ctx.actor, &kq).await {
            Ok(h) => h,
            Err(e) => return error_page(e),
        }
    };
    render(KnowledgePage { ui, q, hits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_percentages() {
        assert_eq!(duration(None, false), "—");
        assert_eq!(duration(Some(45), false), "45 min");
        assert_eq!(duration(Some(200), false), "3 h 20 min");
        assert_eq!(duration(Some(3 * 1440 + 720), false), "3.5 d");
        assert_eq!(duration(Some(3 * 1440), true), "3.0 天");
        assert_eq!(pct(Some(875)), "87.5 %");
        assert_eq!(pct(Some(1000)), "100.0 %");
        assert_eq!(pct(None), "—");
    }
}
