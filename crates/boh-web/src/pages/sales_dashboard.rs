//! The sales dashboards: a node (company, region or store) for today, week and month to date
//! against the same days last year, its children to drill into, the daily trend, tender mix,
//! and for a store today by hour, top items, low stock and the usage variance; an item's daily
//! sales at a node. The numbers are those of `GET /api/v1/sales/dashboard`.

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_sales::dashboard::{self, Dashboard, ItemTrend, NodeRef};
use serde::Deserialize;

use super::inventory::money;
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart, line_chart_with};
use crate::extract::PageActor;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct DashQuery {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// Basis points as a signed percentage with one decimal ("+12.3 %").
pub fn change_text(bp: Option<i64>) -> String {
    match bp {
        None => "—".into(),
        Some(b) => {
            let sign = if b > 0 {
                "+"
            } else if b < 0 {
                "−"
            } else {
                ""
            };
            let a = b.abs();
            format!("{sign}{}.{} %", a / 100, (a % 100) / 10)
        }
    }
}

#[derive(askama::Template)]
#[template(path = "sales/dashboard.html")]
struct DashboardPage {
    ui: Ui,
    d: Dashboard,
    daily_chart: String,
    children_chart: String,
    hours_chart: String,
}

impl DashboardPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn money_opt(&self, v: &Option<i64>) -> String {
        v.map(money).unwrap_or_else(|| "—".into())
    }
    fn change(&self, bp: &Option<i64>) -> String {
        change_text(*bp)
    }
    /// `good`, `bad` or nothing (no last year to compare with).
    fn tone(&self, bp: &Option<i64>) -> &'static str {
        match bp {
            Some(b) if *b >= 0 => "good",
            Some(_) => "bad",
            None => "",
        }
    }
    fn name(&self, n: &NodeRef) -> String {
        n.name(&self.ui.locale).to_string()
    }
    fn period_label(&self, p: &str) -> String {
        self.ui.t(&format!("dash.period.{p}"))
    }
    fn kind_label(&self, k: &str) -> String {
        self.ui.t(&format!("dash.kind.{k}"))
    }
    fn item_name(&self, i: &dashboard::ItemFigures) -> String {
        if self.ui.locale.starts_with("zh") {
            i.name_zh.clone()
        } else {
            i.name_en.clone()
        }
    }
    fn qty(&self, q: &i64) -> String {
        boh_kernel::Qty(*q).to_string()
    }
    fn ly_note(&self) -> String {
        self.ui.ta(
            "dash.ly_note",
            "days",
            &self.d.last_year_offset_days.to_string(),
        )
    }
    fn tender_label(&self, t: &str) -> String {
        self.ui.t(&format!("dash.tender.{t}"))
    }
    fn bp_pct(&self, bp: &i64) -> String {
        self.share(&Some(*bp))
    }
    fn share(&self, bp: &Option<i64>) -> String {
        match bp {
            Some(b) => format!("{}.{} %", b / 100, (b % 100) / 10),
            None => "—".into(),
        }
    }
}

/// `/sales`: the dashboard of the top of the actor's scope.
pub async fn home(State(state): State<AppState>, PageActor(ctx): PageActor) -> Response {
    match dashboard::home_node(&state.platform, &ctx.actor).await {
        Ok(n) => Redirect::to(&format!("/sales/nodes/{}", n.id)).into_response(),
        Err(e) => error_page(e),
    }
}

/// `/sales/nodes/{id}`: one node's dashboard.
pub async fn node_page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DashQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "sales_dashboard",
        "dash.title",
    )
    .await;
    let d = match dashboard::dashboard(
        &state.platform,
        &ctx.actor,
        &id,
        Some(q.date.as_str()).filter(|s| !s.is_empty()),
    )
    .await
    {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let yuan = |v: i64| money(v * 100);
    let daily: Vec<Datum> = d
        .daily
        .iter()
        .map(|p| Datum {
            label: p.date.get(5..).unwrap_or(&p.date).to_string(),
            value: p.net / 100,
        })
        .collect();
    let daily_chart = if daily.iter().any(|x| x.value != 0) {
        line_chart_with(&ui.t("dash.daily_chart"), &daily, &yuan)
    } else {
        String::new()
    };
    let month = d.periods.iter().find(|p| p.period == "mtd");
    let children: Vec<Datum> = month
        .map(|m| {
            m.children
                .iter()
                .take(24)
                .map(|c| Datum {
                    label: c.node.code.clone(),
                    value: c.figures.net / 100,
                })
                .collect()
        })
        .unwrap_or_default();
    let children_chart = if children.iter().any(|x| x.value != 0) {
        bar_chart(&ui.t("dash.children_chart"), &children)
    } else {
        String::new()
    };
    let hours: Vec<Datum> = d
        .store
        .as_ref()
        .map(|s| {
            s.hours
                .iter()
                .map(|h| Datum {
                    label: format!("{:02}", h.hour),
                    value: h.net / 100,
                })
                .collect()
        })
        .unwrap_or_default();
    let hours_chart = if hours.iter().any(|x| x.value != 0) {
        bar_chart(&ui.t("dash.hours_chart"), &hours)
    } else {
        String::new()
    };
    render(DashboardPage {
        ui,
        d,
        daily_chart,
        children_chart,
        hours_chart,
    })
}

#[derive(askama::Template)]
#[template(path = "sales/item_trend.html")]
struct ItemPage {
    ui: Ui,
    t: ItemTrend,
    chart: String,
}

impl ItemPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn qty(&self, q: &i64) -> String {
        boh_kernel::Qty(*q).to_string()
    }
    fn name(&self, n: &NodeRef) -> String {
        n.name(&self.ui.locale).to_string()
    }
    fn item_name(&self) -> String {
        if self.ui.locale.starts_with("zh") {
            self.t.item.name_zh.clone()
        } else {
            self.t.item.name_en.clone()
        }
    }
    fn change(&self) -> String {
        change_text(dashboard::change_bp(self.t.item.net, self.t.ly_total_net))
    }
}

/// `/sales/nodes/{id}/items/{item_id}`: an item's daily sales at a node.
pub async fn item_page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path((id, item_id)): Path<(String, String)>,
    Query(q): Query<DashQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "sales_dashboard",
        "dash.item_title",
    )
    .await;
    let t = match dashboard::item_trend(
        &state.platform,
        &ctx.actor,
        &id,
        &item_id,
        Some(q.from.as_str()).filter(|s| !s.is_empty()),
        Some(q.to.as_str()).filter(|s| !s.is_empty()),
    )
    .await
    {
        Ok(t) => t,
        Err(e) => return error_page(e),
    };
    let data: Vec<Datum> = t
        .days
        .iter()
        .map(|p| Datum {
            label: p.date.get(5..).unwrap_or(&p.date).to_string(),
            value: p.net / 100,
        })
        .collect();
    let yuan = |v: i64| money(v * 100);
    let chart = if data.iter().any(|x| x.value != 0) {
        line_chart_with(&ui.t("dash.daily_chart"), &data, &yuan)
    } else {
        String::new()
    };
    render(ItemPage { ui, t, chart })
}
