//! The home page: a dashboard for whatever the actor's grants cover.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use boh_kernel::perm;

use super::{Ui, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart};
use crate::extract::PageActor;
use crate::state::AppState;

pub struct Kpi {
    pub label: String,
    pub value: String,
}

pub struct RoleLine {
    pub role: String,
    pub node: String,
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    ui: Ui,
    greeting: String,
    kpis: Vec<Kpi>,
    state_chart: String,
    openings_chart: String,
    roles: Vec<RoleLine>,
    activity: Vec<boh_platform::audit::AuditRow>,
    /// Stores shown as a table when the actor covers only a few (store and region managers).
    my_stores: Vec<StoreCard>,
    /// True for actors whose grants cover more than a region: show chain-level charts.
    chain_view: bool,
}

pub struct StoreCard {
    pub id: String,
    pub code: String,
    pub name: String,
    pub state: String,
    pub state_key: String,
    pub format: String,
    pub area: String,
    pub opening_date: String,
    pub address: String,
}

pub async fn home(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope.clone(), &ctx.actor, "home", "home.title").await;
    let p = &state.platform;
    let filter = boh_platform::org::NodeFilter {
        kind: Some("store".into()),
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    let stores = match boh_platform::org::list(p, &ctx.actor, &filter).await {
        Ok((s, _)) => s,
        Err(e) => return super::error_page(e),
    };
    let count = |st: &[&str]| {
        stores
            .iter()
            .filter(|s| st.contains(&s.lifecycle_state.as_deref().unwrap_or("")))
            .count()
    };
    let area: i64 = stores
        .iter()
        .filter(|s| s.lifecycle_state.as_deref() == Some("open"))
        .filter_map(|s| s.sales_area_m2)
        .sum();
    let kpis = vec![
        Kpi {
            label: ui.t("home.stores_in_scope"),
            value: stores.len().to_string(),
        },
        Kpi {
            label: ui.t("home.open_stores"),
            value: count(&["open"]).to_string(),
        },
        Kpi {
            label: ui.t("home.pipeline"),
            value: count(&["candidate", "approved", "opening"]).to_string(),
        },
        Kpi {
            label: ui.t("home.total_area"),
            value: area.to_string(),
        },
    ];
    let by_state: Vec<Datum> = boh_platform::org::LIFECYCLE
        .iter()
        .map(|st| Datum {
            label: ui.t(&format!("state.{st}")),
            value: count(&[st]) as i64,
        })
        .collect();
    let mut years: std::collections::BTreeMap<String, i64> = Default::default();
    for s in &stores {
        if let Some(d) = s.opening_date.as_deref().filter(|_| {
            matches!(
                s.lifecycle_state.as_deref(),
                Some("open" | "closing" | "closed")
            )
        }) {
            *years.entry(d.chars().take(4).collect()).or_default() += 1;
        }
    }
    let openings: Vec<Datum> = years
        .into_iter()
        .map(|(label, value)| Datum { label, value })
        .collect();
    let roles = ctx
        .actor
        .grants
        .iter()
        .map(|g| RoleLine {
            role: g.role_code.clone(),
            node: g.node_id.clone().unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let mut role_lines = Vec::new();
    for r in roles {
        let node = match boh_platform::org::fetch(p, &r.node).await {
            Ok(Some(n)) if n.kind == "company" => n.name(&ui.locale).to_string(),
            Ok(Some(n)) => format!("{} · {}", n.code, n.name(&ui.locale)),
            _ => "—".into(),
        };
        let key = format!("role.{}", r.role);
        let label = ui.t(&key);
        role_lines.push(RoleLine {
            role: if label == key { r.role } else { label },
            node,
        });
    }
    let activity = if ctx.actor.has_anywhere(perm::AUDIT_READ) {
        let f = boh_platform::audit::ListFilter {
            limit: 8,
            ..Default::default()
        };
        boh_platform::audit::list(&p.db, &ctx.actor, &f)
            .await
            .map(|(rows, _)| rows)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let my_stores: Vec<StoreCard> = if stores.len() <= 12 {
        stores
            .iter()
            .map(|s| StoreCard {
                id: s.id.clone(),
                code: s.code.clone(),
                name: s.name(&ui.locale).to_string(),
                state_key: s.lifecycle_state.clone().unwrap_or_default(),
                state: s
                    .lifecycle_state
                    .as_deref()
                    .map(|v| ui.t(&format!("state.{v}")))
                    .unwrap_or_default(),
                format: s
                    .format
                    .as_deref()
                    .map(|v| ui.t(&format!("format.{v}")))
                    .unwrap_or_default(),
                area: s.sales_area_m2.map(|a| a.to_string()).unwrap_or_default(),
                opening_date: s.opening_date.clone().unwrap_or_default(),
                address: s.address.clone().unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let chain_view = stores.len() > 12;
    render(HomePage {
        my_stores,
        chain_view,
        greeting: ui.ta("home.greeting", "name", &ctx.actor.display_name),
        state_chart: bar_chart(&ui.t("home.by_state"), &by_state),
        openings_chart: bar_chart(&ui.t("home.openings_by_year"), &openings),
        ui,
        kpis,
        roles: role_lines,
        activity,
    })
}
