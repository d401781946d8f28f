//! The organisation tree, with a form to add regions, warehouses and central kitchens (stores
//! are created on the store pages).

use std::collections::{HashMap, HashSet};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use boh_kernel::perm;
use boh_platform::org::{self, NewNode, NodeFilter, OrgNode};
use serde::Deserialize;

use super::{FlashQuery, done, some};
use crate::extract::PageActor;
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

/// Kinds this page creates.
const NEW_KINDS: &[&str] = &["region", "warehouse", "central_kitchen"];
const LIMIT: i64 = 500;

/// One node of the tree, in document order. After the node, `has_children` opens a nested
/// list; `close` is how many nested lists end after it.
pub struct TreeLine {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub state: String,
    pub state_label: String,
    pub has_children: bool,
    pub close: usize,
}

/// Values of the add-node form.
#[derive(Debug, Default, Deserialize)]
pub struct NodeForm {
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
}

#[derive(askama::Template)]
#[template(path = "org/tree.html")]
struct TreePage {
    ui: Ui,
    lines: Vec<TreeLine>,
    truncated: bool,
    parents: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    form: NodeForm,
    errors: FormErrors,
}

/// Flatten the nodes into document order: roots are nodes whose parent is not in the list.
pub fn build_tree(nodes: &[OrgNode], ui: &Ui) -> Vec<TreeLine> {
    let ids: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&OrgNode>> = HashMap::new();
    for n in nodes {
        let parent = n.parent_id.as_deref().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(n);
    }
    let mut out = Vec::with_capacity(nodes.len());
    walk(None, &children, ui, &mut out);
    out
}

fn walk(
    parent: Option<&str>,
    children: &HashMap<Option<&str>, Vec<&OrgNode>>,
    ui: &Ui,
    out: &mut Vec<TreeLine>,
) {
    let Some(kids) = children.get(&parent) else {
        return;
    };
    for n in kids {
        let has_children = children.contains_key(&Some(n.id.as_str()));
        let state = n.lifecycle_state.clone().unwrap_or_default();
        out.push(TreeLine {
            id: n.id.clone(),
            code: n.code.clone(),
            name: n.name(&ui.locale).to_string(),
            kind: n.kind.clone(),
            kind_label: ui.t(&format!("kind.{}", n.kind)),
            state_label: if state.is_empty() {
                String::new()
            } else {
                ui.t(&format!("state.{state}"))
            },
            state,
            has_children,
            close: 0,
        });
        if has_children {
            walk(Some(n.id.as_str()), children, ui, out);
            if let Some(last) = out.last_mut() {
                last.close += 1;
            }
        }
    }
}

async fn page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    form: NodeForm,
    errors: FormErrors,
) -> Result<TreePage, Response> {
    let scope = scope_cookie(parts);
    let ui = ui(state, scope.clone(), &ctx.actor, "org", "org.title").await;
    let f = NodeFilter {
        under: scope,
        limit: Some(LIMIT),
        ..Default::default()
    };
    let (nodes, total) = org::list(&state.platform, &ctx.actor, &f)
        .await
        .map_err(error_page)?;
    let parents = nodes
        .iter()
        .filter(|n| !n.is_site() && ctx.actor.allows(perm::ORG_CREATE, &n.path))
        .map(|n| {
            (
                n.id.clone(),
                format!(
                    "{} · {} ({})",
                    n.code,
                    n.name(&ui.locale),
                    ui.t(&format!("kind.{}", n.kind))
                ),
            )
        })
        .collect();
    let kinds = NEW_KINDS
        .iter()
        .map(|k| (k.to_string(), ui.t(&format!("kind.{k}"))))
        .collect();
    Ok(TreePage {
        lines: build_tree(&nodes, &ui),
        truncated: total > nodes.len() as i64,
        ui,
        parents,
        kinds,
        form,
        errors,
    })
}

pub async fn tree(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let form = NodeForm {
        kind: "region".into(),
        ..Default::default()
    };
    match page(&state, &parts, &ctx, form, FormErrors::default()).await {
        Ok(mut p) => {
            fq.apply(&mut p.ui);
            render(p)
        }
        Err(r) => r,
    }
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<NodeForm>,
) -> Response {
    let result = if NEW_KINDS.contains(&form.kind.as_str()) {
        let input = NewNode {
            parent_id: some(&form.parent_id),
            kind: form.kind.clone(),
            code: form.code.clone(),
            name_zh: some(&form.name_zh),
            name_en: some(&form.name_en),
            ..Default::default()
        };
        org::create(&state.platform, &ctx, input).await
    } else {
        Err(boh_platform::PlatformError::invalid(
            "kind",
            format!("must be one of {}", NEW_KINDS.join(", ")),
        ))
    };
    match result {
        Ok(_) => done("/org", "created"),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => match page(&state, &parts, &ctx, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            },
            Err(r) => r,
        },
    }
}
