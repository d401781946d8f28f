//! The stock valuation page: value on hand by item, category or location, now or as of the
//! end of an earlier day, with the top rows as a bar chart and CSV / Excel export.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use boh_inventory::catalog;
use boh_inventory::valuation::{self, Valuation, ValuationFilter};
use boh_kernel::qty::money_text;
use serde::Deserialize;

use super::inventory::{money, showing, sites};
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ValuationQuery {
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub offset: i64,
}

impl ValuationQuery {
    fn filter(&self, limit: i64, offset: i64) -> ValuationFilter {
        let opt = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        ValuationFilter {
            as_of: opt(&self.as_of),
            location_id: opt(&self.location_id),
            category_id: opt(&self.category_id),
            group: opt(&self.group),
            include_zero: None,
            limit: Some(limit),
            offset: Some(offset),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "inventory/valuation.html")]
struct ValuationPage {
    ui: Ui,
    report: Valuation,
    sites: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    q: ValuationQuery,
    offset: i64,
    chart: String,
}

impl ValuationPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    /// Minor units per unit × 10^6 as currency, to four decimals (integer arithmetic).
    fn cost(&self, c: &i64) -> String {
        let hundredths_of_fen = (*c + 5_000) / 10_000;
        let t = boh_kernel::qty::format_scaled(hundredths_of_fen, 4);
        format!("¥{t}")
    }
    fn group_label(&self) -> String {
        self.ui.t(&format!("inv.group.{}", self.report.group))
    }
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, PAGE, self.report.total_rows)
    }
    fn query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("as_of", &self.q.as_of)
            .append_pair("location_id", &self.q.location_id)
            .append_pair("category_id", &self.q.category_id)
            .append_pair("group", &self.report.group)
            .finish()
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - PAGE).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + PAGE < self.report.total_rows).then_some(self.offset + PAGE)
    }
    fn row_name(&self, r: &valuation::ValuationRow) -> String {
        if r.id.is_empty() {
            self.ui.t("inv.uncategorised")
        } else {
            r.name(&self.ui.locale).to_string()
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ValuationQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "inventory",
        "inv.valuation",
    )
    .await;
    let offset = q.offset.max(0);
    let report = match valuation::report(&state.platform, &ctx.actor, &q.filter(PAGE, offset)).await
    {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let sites = sites(&state, &ctx.actor, scope)
        .await
        .iter()
        .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
        .collect();
    let categories = catalog::list_categories(&state.platform, &ctx.actor, None)
        .await
        .unwrap_or_default()
        .iter()
        .map(|c| (c.id.clone(), format!("{} {}", c.code, c.name(&ui.locale))))
        .collect();
    let groups = valuation::GROUPS
        .iter()
        .map(|g| (g.to_string(), ui.t(&format!("inv.group.{g}"))))
        .collect();
    // The chart shows the largest rows of the first page, in yuan.
    let data: Vec<Datum> = report
        .rows
        .iter()
        .take(10)
        .map(|r| Datum {
            label: r.code.clone(),
            value: r.value / 100,
        })
        .collect();
    let chart = if data.is_empty() {
        String::new()
    } else {
        bar_chart(&ui.t("inv.valuation_chart"), &data)
    };
    render(ValuationPage {
        ui,
        report,
        sites,
        categories,
        groups,
        q,
        offset,
        chart,
    })
}

const HEADERS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "base_unit",
    "qty",
    "value",
    "unit_cost",
];

/// Every row of the report (all pages) as CSV or Excel.
pub async fn export(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
    Query(q): Query<ValuationQuery>,
) -> Response {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let report =
            match valuation::report(&state.platform, &ctx.actor, &q.filter(500, offset)).await {
                Ok(r) => r,
                Err(e) => return error_page(e),
            };
        let n = report.rows.len() as i64;
        for r in report.rows {
            rows.push(vec![
                r.code,
                r.name_zh,
                r.name_en,
                r.base_unit.unwrap_or_default(),
                r.qty.map(|q| q.to_text()).unwrap_or_default(),
                money_text(r.value),
                r.unit_cost_e6
                    .map(|c| boh_kernel::qty::format_scaled(c, 8))
                    .unwrap_or_default(),
            ]);
        }
        offset += n;
        if n == 0 || offset >= report.total_rows {
            break;
        }
    }
    crate::export::respond(
        format,
        "valuation",
        &crate::export::text_sheet("valuation", HEADERS, rows),
    )
}
