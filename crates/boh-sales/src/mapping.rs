//! POS code mappings and the queue of unmapped codes. Mapping a code processes its held lines
//! in the same transaction: the lines get their item, the item rollup takes them, and each
//! batch they belong to posts one more `sale` document for their recipe depletion.

use std::collections::{BTreeMap, HashMap};

use boh_db::{AssertSqlSafe, Row};
use boh_inventory::catalog::{self, Item};
use boh_kernel::{Actor, Instant, now, perm};
use boh_platform::org;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};

use crate::ingest;
use crate::rollup::Rollups;

/// A code in the queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unmapped {
    pub company_id: String,
    pub source: String,
    pub pos_code: String,
    /// The POS's name for it, as last sent.
    pub pos_name: String,
    /// open or mapped
    pub status: String,
    pub item_id: Option<String>,
    /// Lines waiting (in the caller's stores).
    pub held_lines: i64,
    /// Their quantity and money (gross − discount), in the caller's stores.
    #[schema(value_type = String)]
    pub held_qty: boh_kernel::Qty,
    pub held_net: i64,
    /// Stores with lines waiting.
    pub stores: i64,
    #[schema(format = DateTime)]
    pub first_seen_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnmappedFilter {
    /// open (default), mapped or all
    pub status: Option<String>,
    pub source: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The codes of the actor's company with no mapping, most money waiting first. Held-line
/// figures count only the stores the actor may read; a code with no held line in scope is
/// listed only to holders of `sales.mapping.manage` (they fix the company's codes).
pub async fn list_unmapped(
    p: &Platform,
    actor: &Actor,
    f: &UnmappedFilter,
) -> Result<(Vec<Unmapped>, i64)> {
    crate::check_paging(f.limit, f.offset)?;
    let Some(company) = actor.company_id.clone() else {
        return Ok((Vec::new(), 0));
    };
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let status = f.status.clone().unwrap_or_else(|| "open".into());
    if !["open", "mapped", "all"].contains(&status.as_str()) {
        return Err(PlatformError::invalid(
            "status",
            "must be open, mapped or all",
        ));
    }
    let scope = actor.scope(perm::SALES_READ).sql("b.store_path");
    let manager = actor.allows(perm::SALES_MAP, &boh_inventory::company_path(&company));
    let mut sql = format!(
        "SELECT u.company_id, u.source, u.pos_code, u.pos_name, u.status, u.item_id, u.first_seen_at, u.last_seen_at, \
         COALESCE(h.lines, 0) AS held_lines, COALESCE(h.qty, 0) AS held_qty, COALESCE(h.net, 0) AS held_net, \
         COALESCE(h.stores, 0) AS stores, COUNT(*) OVER () AS total \
         FROM sales_unmapped u LEFT JOIN (SELECT s.source, s.pos_code, COUNT(*) AS lines, CAST(SUM(l.qty) AS BIGINT) AS qty, \
           CAST(SUM(l.net) AS BIGINT) AS net, COUNT(DISTINCT b.store_id) AS stores \
           FROM sales_held s JOIN sales_lines l ON l.batch_id = s.batch_id AND l.line_no = s.line_no \
           JOIN sales_batches b ON b.id = s.batch_id WHERE s.company_id = $1 AND {scope} \
           GROUP BY s.source, s.pos_code) h ON h.source = u.source AND h.pos_code = u.pos_code \
         WHERE u.company_id = $1"
    );
    let mut binds = vec![company];
    if status != "all" {
        binds.push(status);
        sql.push_str(&format!(" AND u.status = ${}", binds.len()));
    }
    if let Some(s) = f.source.as_ref().filter(|s| !s.is_empty()) {
        binds.push(s.clone());
        sql.push_str(&format!(" AND u.source = ${}", binds.len()));
    }
    if !manager {
        sql.push_str(" AND h.lines IS NOT NULL");
    }
    sql.push_str(&format!(
        " ORDER BY held_net DESC, u.pos_code LIMIT {limit} OFFSET {offset}"
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let total = rows
        .first()
        .map(|r| r.try_get::<i64, _>("total"))
        .transpose()?
        .unwrap_or(0);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Unmapped {
            company_id: r.try_get("company_id")?,
            source: r.try_get("source")?,
            pos_code: r.try_get("pos_code")?,
            pos_name: r.try_get("pos_name")?,
            status: r.try_get("status")?,
            item_id: r.try_get("item_id")?,
            held_lines: r.try_get("held_lines")?,
            held_qty: boh_kernel::Qty(r.try_get("held_qty")?),
            held_net: r.try_get("held_net")?,
            stores: r.try_get("stores")?,
            first_seen_at: Instant(r.try_get("first_seen_at")?).rfc3339(),
            last_seen_at: Instant(r.try_get("last_seen_at")?).rfc3339(),
        });
    }
    Ok((out, total))
}

/// Map a POS code of a source to an item.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    #[schema(min_length = 1, max_length = 40, pattern = "^[a-z0-9_-]+$")]
    pub source: String,
    #[schema(min_length = 1, max_length = 64)]
    pub pos_code: String,
    pub item_id: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mapping {
    pub company_id: String,
    pub source: String,
    pub pos_code: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

/// The outcome of mapping a code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mapped {
    pub mapping: Mapping,
    /// Held lines processed now.
    pub processed_lines: i64,
    /// Stock documents posted for their depletion.
    pub documents: Vec<String>,
}

/// Map a code (company of the actor; `sales.mapping.manage` there) and process its held
/// lines. Mapping a code again to the same item processes lines held since; to another item
/// it is refused (`already_mapped`): lines already processed keep their item.
pub async fn map_code(p: &Platform, ctx: &Ctx, input: &MappingInput) -> Result<Mapped> {
    let company_id = ctx
        .actor
        .company_id
        .clone()
        .ok_or(PlatformError::Forbidden(perm::SALES_MAP))?;
    let company_path = boh_inventory::company_path(&company_id);
    if !ctx.actor.allows(perm::SALES_MAP, &company_path) {
        return Err(PlatformError::Forbidden(perm::SALES_MAP));
    }
    let mut errors = Vec::new();
    let source = input.source.trim().to_string();
    if source.is_empty()
        || source.len() > 40
        || !source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        errors.push(FieldError::new(
            "source",
            "must be 1 to 40 of a-z, 0-9, _ and -",
        ));
    }
    let code = input.pos_code.trim().to_string();
    if code.is_empty() || code.chars().count() > 64 || code.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "pos_code",
            "must be 1 to 64 printable characters",
        ));
    }
    let item = if boh_kernel::id::is_uuid(&input.item_id) {
        catalog::fetch_items(p, std::slice::from_ref(&input.item_id))
            .await?
            .into_iter()
            .find(|i| i.company_id == company_id)
    } else {
        None
    };
    match &item {
        None => errors.push(FieldError::new("item_id", "no such item")),
        Some(i) if !i.active => errors.push(FieldError::new("item_id", "item is inactive")),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let item = item.ok_or(PlatformError::NotFound)?;
    let existing = sqlx::query(
        "SELECT item_id FROM sales_pos_mappings WHERE company_id = $1 AND source = $2 AND pos_code = $3",
    )
    .bind(&company_id)
    .bind(&source)
    .bind(&code)
    .fetch_optional(p.db.pool())
    .await?;
    if let Some(r) = existing {
        let current: String = r.try_get("item_id")?;
        if current != item.id {
            return Err(PlatformError::refused(
                "already_mapped",
                format!("{source} code {code} is mapped to another item already"),
            ));
        }
    }

    // The held lines, grouped by batch, with what their depletion needs.
    let rows = sqlx::query(
        "SELECT s.batch_id, s.line_no, l.qty, l.gross, l.discount, l.tax, l.net, t.kind, \
         b.store_id, b.business_date, b.store_path \
         FROM sales_held s JOIN sales_lines l ON l.batch_id = s.batch_id AND l.line_no = s.line_no \
         JOIN sales_tickets t ON t.batch_id = l.batch_id AND t.seq = l.ticket_seq \
         JOIN sales_batches b ON b.id = s.batch_id \
         WHERE s.company_id = $1 AND s.source = $2 AND s.pos_code = $3 AND b.status = 'active' \
         ORDER BY s.batch_id, s.line_no",
    )
    .bind(&company_id)
    .bind(&source)
    .bind(&code)
    .fetch_all(p.db.pool())
    .await?;
    struct Held {
        store_id: String,
        date: String,
        sold: i64,
        lines: Vec<i64>,
    }
    let mut batches: BTreeMap<String, Held> = BTreeMap::new();
    let mut rollups = Rollups::default();
    for r in &rows {
        let batch: String = r.try_get("batch_id")?;
        let store_id: String = r.try_get("store_id")?;
        let date: String = r.try_get("business_date")?;
        let qty: i64 = r.try_get("qty")?;
        let kind: String = r.try_get("kind")?;
        rollups.add_item(
            &store_id,
            &date,
            &item.id,
            qty,
            r.try_get("gross")?,
            r.try_get("discount")?,
            r.try_get("tax")?,
            r.try_get("net")?,
        );
        let e = batches.entry(batch).or_insert_with(|| Held {
            store_id: store_id.clone(),
            date: date.clone(),
            sold: 0,
            lines: Vec::new(),
        });
        if kind == "sale" {
            e.sold += qty;
        }
        e.lines.push(r.try_get("line_no")?);
    }
    // Depletion per batch (its day's recipes), and the stocked items it needs.
    let mut depletions: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut stores: HashMap<String, org::OrgNode> = HashMap::new();
    for (batch, h) in &batches {
        let sold: BTreeMap<String, i64> = [(item.id.clone(), h.sold)].into_iter().collect();
        let d = ingest::deplete(p, &company_id, &h.date, &sold).await?;
        depletions.insert(batch.clone(), d.usage);
        if !stores.contains_key(&h.store_id) {
            let node = org::fetch(p, &h.store_id)
                .await?
                .ok_or(PlatformError::NotFound)?;
            stores.insert(h.store_id.clone(), node);
        }
    }
    let ids: Vec<String> = depletions
        .values()
        .flat_map(|u| u.keys().cloned())
        .collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let t_now = now().micros();
    let processed = rows.len() as i64;
    let (mapping_row, documents) = tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO sales_pos_mappings (company_id, source, pos_code, item_id, created_at, created_by) \
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (company_id, source, pos_code) DO NOTHING",
        )
        .bind(&company_id)
        .bind(&source)
        .bind(&code)
        .bind(&item.id)
        .bind(t_now)
        .bind(&ctx.actor.user_id)
        .execute(&mut *tx)
        .await?;
        let mut documents = Vec::new();
        for (batch, h) in &batches {
            // Claim the held rows: a concurrent mapping of the same code processes each once.
            let mut claimed = 0u64;
            for chunk in h.lines.chunks(400) {
                let ph = (0..chunk.len())
                    .map(|i| format!("${}", i + 5))
                    .collect::<Vec<_>>()
                    .join(",");
                let mut q = sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM sales_held WHERE company_id = $1 AND source = $2 AND pos_code = $3 \
                     AND batch_id = $4 AND line_no IN ({ph})"
                )))
                .bind(&company_id)
                .bind(&source)
                .bind(&code)
                .bind(batch);
                for n in chunk {
                    q = q.bind(*n);
                }
                claimed += q.execute(&mut *tx).await?.rows_affected();
                let ph = (0..chunk.len())
                    .map(|i| format!("${}", i + 3))
                    .collect::<Vec<_>>()
                    .join(",");
                let mut q = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE sales_lines SET item_id = $1 WHERE batch_id = $2 AND line_no IN ({ph})"
                )))
                .bind(&item.id)
                .bind(batch);
                for n in chunk {
                    q = q.bind(*n);
                }
                q.execute(&mut *tx).await?;
            }
            if claimed != h.lines.len() as u64 {
                return Err(PlatformError::refused(
                    "concurrent_change",
                    "these held lines changed while mapping; try again",
                ));
            }
            sqlx::query("UPDATE sales_batches SET held_count = held_count - $1 WHERE id = $2")
                .bind(h.lines.len() as i64)
                .bind(batch)
                .execute(&mut *tx)
                .await?;
            let store = stores.get(&h.store_id).ok_or(PlatformError::NotFound)?;
            if let Some(usage) = depletions.get(batch)
                && let Some(doc) = ingest::post_depletion(
                    tx,
                    p,
                    ctx,
                    ingest::Target {
                        store,
                        batch_id: batch,
                        business_date: &h.date,
                    },
                    &items,
                    usage,
                )
                .await?
            {
                documents.push(doc);
            }
        }
        rollups.add_items(tx).await?;
        sqlx::query(
            "UPDATE sales_unmapped SET status = 'mapped', item_id = $1, resolved_at = $2 \
             WHERE company_id = $3 AND source = $4 AND pos_code = $5",
        )
        .bind(&item.id)
        .bind(t_now)
        .bind(&company_id)
        .bind(&source)
        .bind(&code)
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({
            "source": source, "pos_code": code, "item_id": item.id, "item_code": item.code,
            "processed_lines": processed, "documents": documents,
        });
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "sales.code.map",
                entity_type: "sales_pos_mapping",
                entity_id: &format!("{source}:{code}"),
                org_path: Some(&company_path),
                before: None,
                after: Some(after.clone()),
            },
        )
        .await?;
        events::emit(tx, "sales.code.mapped", Some(&company_path), &after).await?;
        let row = sqlx::query(
            "SELECT created_at, created_by FROM sales_pos_mappings WHERE company_id = $1 AND source = $2 AND pos_code = $3",
        )
        .bind(&company_id)
        .bind(&source)
        .bind(&code)
        .fetch_one(&mut *tx)
        .await?;
        Ok((
            (
                row.try_get::<i64, _>("created_at")?,
                row.try_get::<String, _>("created_by")?,
            ),
            documents,
        ))
    })?;
    Ok(Mapped {
        mapping: Mapping {
            company_id,
            source,
            pos_code: code,
            item_id: item.id.clone(),
            item_code: item.code.clone(),
            item_name_zh: item.name_zh.clone(),
            item_name_en: item.name_en.clone(),
            created_at: Instant(mapping_row.0).rfc3339(),
            created_by: mapping_row.1,
        },
        processed_lines: processed,
        documents,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MappingFilter {
    pub source: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The mappings of the actor's company (readers of sales anywhere in it).
pub async fn list_mappings(
    p: &Platform,
    actor: &Actor,
    f: &MappingFilter,
) -> Result<(Vec<Mapping>, i64)> {
    crate::check_paging(f.limit, f.offset)?;
    let Some(company) = actor.company_id.clone() else {
        return Ok((Vec::new(), 0));
    };
    if !actor.allows_within(perm::SALES_READ, &boh_inventory::company_path(&company)) {
        return Ok((Vec::new(), 0));
    }
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let mut sql = String::from(
        "SELECT m.company_id, m.source, m.pos_code, m.item_id, i.code, i.name_zh, i.name_en, m.created_at, \
         m.created_by, COUNT(*) OVER () AS total FROM sales_pos_mappings m JOIN inv_items i ON i.id = m.item_id \
         WHERE m.company_id = $1",
    );
    let mut binds = vec![company];
    if let Some(s) = f.source.as_ref().filter(|s| !s.is_empty()) {
        binds.push(s.clone());
        sql.push_str(" AND m.source = $2");
    }
    sql.push_str(&format!(
        " ORDER BY m.source, m.pos_code LIMIT {limit} OFFSET {offset}"
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let total = rows
        .first()
        .map(|r| r.try_get::<i64, _>("total"))
        .transpose()?
        .unwrap_or(0);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Mapping {
            company_id: r.try_get("company_id")?,
            source: r.try_get("source")?,
            pos_code: r.try_get("pos_code")?,
            item_id: r.try_get("item_id")?,
            item_code: r.try_get("code")?,
            item_name_zh: r.try_get("name_zh")?,
            item_name_en: r.try_get("name_en")?,
            created_at: Instant(r.try_get("created_at")?).rfc3339(),
            created_by: r.try_get("created_by")?,
        });
    }
    Ok((out, total))
}
