//! Stores as a spreadsheet: the `stores` importer and the stores export, with the same columns
//! so that an export imports back unchanged.
//!
//! Rows are matched by `code` within the actor's company. A new code creates a store under
//! the node named in `region` (a region or the company, inside the actor's scope); a known code
//! updates that store. The checks are exactly those of [`org::create`] and [`org::update`]
//! ([`org::new_node`], [`org::patched_node`]). Cells: a column missing from the file leaves
//! that field as it is; an empty cell clears an optional field (format, area, opening date,
//! coordinates, address) and leaves a required one (names, state, time zone) as it is.

use std::collections::HashMap;

use boh_kernel::{Actor, new_id, now, perm};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::import::{
    BoxFuture, Changes, Column, Importer, Plan, PlanCtx, RowErrors, Spec, parse_number,
};
use crate::org::{self, NewNode, NodeFilter, NodePatch, OrgNode};
use crate::sheet::{Cell, Sheet, Table};
use crate::{Ctx, Platform, PlatformError, Result, events};

const COLUMNS: &[Column] = &[
    Column {
        name: "code",
        required: true,
        description: "Store code, unique in the company; matches existing stores",
        description_zh: "门店编码，公司内唯一；按编码匹配已有门店",
        example: "S025",
    },
    Column {
        name: "name_zh",
        required: false,
        description: "Chinese name (defaults to the English name for a new store)",
        description_zh: "中文名称（新门店默认同英文名称）",
        example: "杭州西湖店",
    },
    Column {
        name: "name_en",
        required: false,
        description: "English name; required for a new store",
        description_zh: "英文名称；新门店必填",
        example: "Hangzhou West Lake",
    },
    Column {
        name: "region",
        required: false,
        description: "Code of the region (or company) a new store belongs to; stores are not moved",
        description_zh: "新门店所属区域（或公司）的编码；已有门店不会被移动",
        example: "R-EAST",
    },
    Column {
        name: "format",
        required: false,
        description: "flagship, standard, express, kiosk, mall, street or drive_thru",
        description_zh: "业态：flagship、standard、express、kiosk、mall、street 或 drive_thru",
        example: "standard",
    },
    Column {
        name: "sales_area_m2",
        required: false,
        description: "Sales area in whole square metres",
        description_zh: "营业面积（平方米，整数）",
        example: "180",
    },
    Column {
        name: "opening_date",
        required: false,
        description: "Opening date, YYYY-MM-DD",
        description_zh: "开业日期，YYYY-MM-DD",
        example: "2027-03-01",
    },
    Column {
        name: "lifecycle_state",
        required: false,
        description: "candidate, approved, opening, open, closing or closed (new stores: candidate)",
        description_zh: "生命周期：candidate、approved、opening、open、closing 或 closed（新门店默认 candidate）",
        example: "candidate",
    },
    Column {
        name: "latitude",
        required: false,
        description: "Latitude, -90 to 90",
        description_zh: "纬度，-90 到 90",
        example: "30.2590",
    },
    Column {
        name: "longitude",
        required: false,
        description: "Longitude, -180 to 180",
        description_zh: "经度，-180 到 180",
        example: "120.1388",
    },
    Column {
        name: "timezone",
        required: false,
        description: "IANA time zone (new stores: the region's)",
        description_zh: "IANA 时区（新门店默认同所属区域）",
        example: "Asia/Shanghai",
    },
    Column {
        name: "address",
        required: false,
        description: "Street address",
        description_zh: "地址",
        example: "杭州市西湖区湖滨路 1 号",
    },
];

pub static SPEC: Spec = Spec {
    kind: "stores",
    title: "Stores",
    title_zh: "门店",
    permissions: &[perm::ORG_CREATE, perm::ORG_UPDATE],
    key: "code",
    columns: COLUMNS,
};

/// The `stores` importer.
pub struct StoresImporter;

impl Importer for StoresImporter {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>> {
        Box::pin(plan(cx, table))
    }
}

/// The company an actor imports into: their own, or the one all their grants lie in.
fn company_of(actor: &Actor) -> Option<String> {
    if let Some(c) = &actor.company_id {
        return Some(c.clone());
    }
    let mut companies = actor.grants.iter().map(|g| {
        g.path
            .trim_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string()
    });
    let first = companies.next().filter(|c| !c.is_empty())?;
    companies.all(|c| c == first).then_some(first)
}

/// The file column a field error of the org rules belongs to.
fn column_of(field: &str) -> String {
    match field {
        "parent_id" => "region".into(),
        "kind" => "code".into(),
        other => other.into(),
    }
}

/// True when applying `after` would change nothing a user can see.
fn same(a: &OrgNode, b: &OrgNode) -> bool {
    a.code == b.code
        && a.name_zh == b.name_zh
        && a.name_en == b.name_en
        && a.format == b.format
        && a.sales_area_m2 == b.sales_area_m2
        && a.opening_date == b.opening_date
        && a.lifecycle_state == b.lifecycle_state
        && a.latitude == b.latitude
        && a.longitude == b.longitude
        && a.timezone == b.timezone
        && a.address == b.address
}

async fn plan(cx: &PlanCtx<'_>, table: &Table) -> Result<Plan> {
    let actor = cx.actor;
    let mut errors = RowErrors::default();
    let Some(company_id) = company_of(actor) else {
        errors.push_file("the import needs one company: your grants span several");
        return Ok(Plan::rejected(errors));
    };
    // One read for every code the file may refer to.
    let nodes = org::company_nodes(cx.platform, &company_id).await?;
    let by_code: HashMap<&str, &OrgNode> = nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    let by_id: HashMap<&str, &OrgNode> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let col = |name: &str| table.column(name);
    let c = Cols {
        code: col("code"),
        name_zh: col("name_zh"),
        name_en: col("name_en"),
        region: col("region"),
        format: col("format"),
        area: col("sales_area_m2"),
        opening: col("opening_date"),
        state: col("lifecycle_state"),
        lat: col("latitude"),
        lon: col("longitude"),
        tz: col("timezone"),
        address: col("address"),
    };
    let t = now().micros();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let mut creates: Vec<OrgNode> = Vec::new();
    let mut befores: Vec<OrgNode> = Vec::new();
    let mut afters: Vec<OrgNode> = Vec::new();
    let mut unchanged = 0usize;
    for (i, row) in table.rows.iter().enumerate() {
        if i % 1000 == 0 {
            cx.progress(i);
        }
        let n = row.number;
        let code = row.get(c.code).unwrap_or("");
        if code.is_empty() {
            errors.push(n, "code", "is required");
            continue;
        }
        if let Some(first) = seen.get(code) {
            errors.push(n, "code", format!("the same code is also in row {first}"));
            continue;
        }
        seen.insert(code, n);
        let text = |column: Option<usize>| row.get(column);
        let some =
            |column: Option<usize>| text(column).filter(|s| !s.is_empty()).map(str::to_string);
        let area =
            text(c.area).and_then(|v| parse_number::<i64>(&mut errors, n, "sales_area_m2", v));
        let lat = text(c.lat).and_then(|v| parse_number::<f64>(&mut errors, n, "latitude", v));
        let lon = text(c.lon).and_then(|v| parse_number::<f64>(&mut errors, n, "longitude", v));
        match by_code.get(code) {
            Some(existing) if !actor.allows(perm::ORG_READ, &existing.path) => {
                // The same answer `org::create` gives for a code taken outside one's scope.
                errors.push(n, "code", org::code_taken(code));
            }
            Some(existing) if existing.kind != "store" => {
                errors.push(n, "code", format!("is a {}, not a store", existing.kind));
            }
            Some(existing) => {
                let parent_code = existing
                    .parent_id
                    .as_deref()
                    .and_then(|p| by_id.get(p))
                    .map(|p| p.code.as_str());
                if let Some(region) = some(c.region)
                    && Some(region.as_str()) != parent_code
                {
                    errors.push(
                        n,
                        "region",
                        format!(
                            "stores are not moved by an import (now under {})",
                            parent_code.unwrap_or("—")
                        ),
                    );
                }
                let patch = NodePatch {
                    version: None,
                    code: None,
                    name_zh: some(c.name_zh),
                    name_en: some(c.name_en),
                    format: text(c.format).map(str::to_string),
                    sales_area_m2: area,
                    opening_date: text(c.opening).map(str::to_string),
                    lifecycle_state: some(c.state),
                    latitude: lat,
                    longitude: lon,
                    timezone: some(c.tz),
                    address: text(c.address).map(str::to_string),
                };
                match org::patched_node(actor, existing, patch, t) {
                    Ok(mut after) => {
                        // Empty cells clear the optional numbers (a patch cannot say that).
                        if text(c.area) == Some("") {
                            after.sales_area_m2 = None;
                        }
                        if text(c.lat) == Some("") {
                            after.latitude = None;
                        }
                        if text(c.lon) == Some("") {
                            after.longitude = None;
                        }
                        if same(existing, &after) {
                            unchanged += 1;
                        } else {
                            befores.push((*existing).clone());
                            afters.push(after);
                        }
                    }
                    Err(PlatformError::Forbidden(p)) => {
                        errors.push(
                            n,
                            "code",
                            format!("you do not have the permission {p} here"),
                        );
                    }
                    Err(PlatformError::Validation(fields)) => {
                        errors.push_fields(n, fields, column_of)
                    }
                    Err(other) => return Err(other),
                }
            }
            None => {
                let region = some(c.region);
                let parent = match &region {
                    None => {
                        errors.push(n, "region", "is required for a new store");
                        None
                    }
                    Some(r) => match by_code.get(r.as_str()) {
                        Some(p) if actor.allows(perm::ORG_READ, &p.path) => Some(*p),
                        // Out of scope is the same as missing.
                        _ => {
                            errors.push(n, "region", format!("{r} not found"));
                            None
                        }
                    },
                };
                let input = NewNode {
                    parent_id: None,
                    kind: "store".into(),
                    code: code.to_string(),
                    name: None,
                    name_zh: some(c.name_zh),
                    name_en: some(c.name_en),
                    format: some(c.format),
                    sales_area_m2: area,
                    opening_date: some(c.opening),
                    lifecycle_state: some(c.state),
                    latitude: lat,
                    longitude: lon,
                    timezone: some(c.tz),
                    address: some(c.address),
                };
                match org::new_node(actor, input, parent, new_id(), t) {
                    Ok(node) => creates.push(node),
                    Err(PlatformError::Forbidden(p)) => errors.push(
                        n,
                        "region",
                        format!("you do not have the permission {p} here"),
                    ),
                    Err(PlatformError::Validation(fields)) => {
                        // Without a parent the rules say "parent_id is required": said above.
                        let fields = fields
                            .into_iter()
                            .filter(|f| parent.is_some() || f.field != "parent_id")
                            .collect();
                        errors.push_fields(n, fields, column_of);
                    }
                    Err(other) => return Err(other),
                }
            }
        }
    }
    cx.progress(table.len());
    if !errors.is_empty() {
        return Ok(Plan::rejected(errors));
    }
    Ok(Plan {
        errors,
        created: creates.len(),
        updated: afters.len(),
        unchanged,
        changes: Box::new(StoreChanges {
            creates,
            befores,
            afters,
        }),
    })
}

struct Cols {
    code: Option<usize>,
    name_zh: Option<usize>,
    name_en: Option<usize>,
    region: Option<usize>,
    format: Option<usize>,
    area: Option<usize>,
    opening: Option<usize>,
    state: Option<usize>,
    lat: Option<usize>,
    lon: Option<usize>,
    tz: Option<usize>,
    address: Option<usize>,
}

struct StoreChanges {
    creates: Vec<OrgNode>,
    befores: Vec<OrgNode>,
    afters: Vec<OrgNode>,
}

impl Changes for StoreChanges {
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            org::insert_many(tx, &self.creates).await?;
            org::update_many(tx, &self.afters).await?;
            let mut changes = Vec::with_capacity(self.creates.len() + self.afters.len());
            let mut outbox = Vec::with_capacity(changes.capacity());
            for n in &self.creates {
                changes.push(Change {
                    action: "org.node.create",
                    entity_type: "org_node",
                    entity_id: &n.id,
                    org_path: Some(&n.path),
                    before: None,
                    after: serde_json::to_value(n).ok(),
                });
                outbox.push((
                    "org.node.created",
                    Some(n.path.as_str()),
                    json!({ "id": n.id, "kind": n.kind, "code": n.code }),
                ));
            }
            for (b, a) in self.befores.iter().zip(&self.afters) {
                changes.push(Change {
                    action: "org.node.update",
                    entity_type: "org_node",
                    entity_id: &a.id,
                    org_path: Some(&a.path),
                    before: serde_json::to_value(b).ok(),
                    after: serde_json::to_value(a).ok(),
                });
                outbox.push((
                    "org.node.updated",
                    Some(a.path.as_str()),
                    json!({ "id": a.id, "kind": a.kind, "code": a.code }),
                ));
            }
            audit::append_many(tx, ctx, &changes).await?;
            events::emit_many(tx, &outbox).await?;
            Ok(())
        })
    }
}

/// The stores the actor may read (with `filter`), as a sheet in the importer's columns.
pub async fn export(p: &Platform, actor: &Actor, filter: &NodeFilter) -> Result<Sheet> {
    let parents = NodeFilter {
        kind: Some("company,region".into()),
        limit: Some(500),
        ..Default::default()
    };
    let mut codes: HashMap<String, String> = HashMap::new();
    let mut offset = 0;
    loop {
        let (ns, total) = org::list(
            p,
            actor,
            &NodeFilter {
                offset: Some(offset),
                ..parents.clone()
            },
        )
        .await?;
        offset += i64::try_from(ns.len()).unwrap_or(i64::MAX);
        let done = ns.is_empty() || offset >= total;
        codes.extend(ns.into_iter().map(|n| (n.id, n.code)));
        if done {
            break;
        }
    }
    let mut rows = Vec::new();
    let mut f = NodeFilter {
        kind: Some("store".into()),
        limit: Some(500),
        offset: Some(0),
        ..filter.clone()
    };
    loop {
        let (nodes, total) = org::list(p, actor, &f).await?;
        let n = i64::try_from(nodes.len()).unwrap_or(i64::MAX);
        for s in nodes {
            let region = s.parent_id.as_ref().and_then(|id| codes.get(id)).cloned();
            rows.push(vec![
                Cell::Text(s.code),
                Cell::Text(s.name_zh),
                Cell::Text(s.name_en),
                Cell::from(region),
                Cell::from(s.format),
                Cell::from(s.sales_area_m2),
                s.opening_date.map_or(Cell::Empty, Cell::Date),
                Cell::from(s.lifecycle_state),
                Cell::from(s.latitude),
                Cell::from(s.longitude),
                Cell::Text(s.timezone),
                Cell::from(s.address),
            ]);
        }
        let next = f.offset.unwrap_or(0) + n;
        f.offset = Some(next);
        if n == 0 || next >= total {
            break;
        }
    }
    Ok(crate::import::export_sheet(
        SPEC.title,
        &COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(),
        rows,
    ))
}
