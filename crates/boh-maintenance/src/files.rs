//! Documents and photos of an asset: manuals, wiring diagrams, warranty papers, nameplate
//! photos. The type is decided by the content (JPEG, PNG, WebP or PDF), never by the name or
//! the declared type; readers of the asset see them, managers of its site add and remove them.

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, tx};
use serde::Serialize;
use serde_json::json;

use crate::workorder::{Upload, image_type};

/// The largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Files per upload.
pub const MAX_FILES: usize = 5;

/// A file of an asset (without its bytes).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetFile {
    pub id: String,
    pub asset_id: String,
    /// `photo` or `document`.
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: String,
}

/// The type of a file from its first bytes: an image ([`image_type`]) or a PDF.
pub fn file_type(data: &[u8]) -> Option<(&'static str, &'static str)> {
    if let Some(t) = image_type(data) {
        return Some(("photo", t));
    }
    data.starts_with(b"%PDF-")
        .then_some(("document", "application/pdf"))
}

/// The asset's files, newest first.
pub async fn list(p: &Platform, actor: &Actor, asset_id: &str) -> Result<Vec<AssetFile>> {
    crate::asset::get(p, actor, asset_id).await?;
    let rows = sqlx::query(
        "SELECT id, asset_id, kind, file_name, content_type, size_bytes, created_at FROM mnt_asset_files \
         WHERE asset_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(asset_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AssetFile {
                id: r.try_get("id")?,
                asset_id: r.try_get("asset_id")?,
                kind: r.try_get("kind")?,
                file_name: r.try_get("file_name")?,
                content_type: r.try_get("content_type")?,
                size_bytes: r.try_get("size_bytes")?,
                created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
            })
        })
        .collect()
}

/// A file's name, type and bytes, for a reader of the asset.
pub async fn get(
    p: &Platform,
    actor: &Actor,
    asset_id: &str,
    file_id: &str,
) -> Result<(String, String, Vec<u8>)> {
    crate::asset::get(p, actor, asset_id).await?;
    let r = sqlx::query(
        "SELECT file_name, content_type, content FROM mnt_asset_files WHERE id = $1 AND asset_id = $2",
    )
    .bind(file_id)
    .bind(asset_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    Ok((
        r.try_get("file_name")?,
        r.try_get("content_type")?,
        r.try_get("content")?,
    ))
}

/// Add files to an asset (a manager of its site). Every bad file is named (`files[i]`) and
/// nothing is written.
pub async fn add(
    p: &Platform,
    ctx: &Ctx,
    asset_id: &str,
    files: &[Upload],
) -> Result<Vec<AssetFile>> {
    let a = crate::asset::get(p, &ctx.actor, asset_id).await?;
    let site = boh_platform::org::fetch(p, &a.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::MAINTENANCE_ASSET, &site.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_ASSET));
    }
    let real: Vec<&Upload> = files.iter().filter(|f| !f.data.is_empty()).collect();
    let mut errors = Vec::new();
    if real.is_empty() {
        errors.push(FieldError::new("files", "choose at least one file"));
    }
    if real.len() > MAX_FILES {
        errors.push(FieldError::new(
            "files",
            format!("at most {MAX_FILES} files at once"),
        ));
    }
    let mut checked = Vec::new();
    for (i, f) in real.iter().enumerate() {
        let field = format!("files[{i}]");
        if f.data.len() > MAX_FILE_BYTES {
            errors.push(FieldError::new(
                &field,
                format!(
                    "{} is larger than {} MB",
                    f.file_name,
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
            continue;
        }
        match file_type(&f.data) {
            Some(t) => checked.push((*f, t)),
            None => errors.push(FieldError::new(
                &field,
                format!("{} is not a JPEG, PNG, WebP or PDF file", f.file_name),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    tx!(p.db, tx, {
        let mut out = Vec::new();
        let t = now().micros();
        for (f, (kind, ct)) in &checked {
            let id = new_id();
            let name: String = f
                .file_name
                .chars()
                .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
                .take(120)
                .collect();
            let name = if name.is_empty() {
                "file".to_string()
            } else {
                name
            };
            sqlx::query(
                "INSERT INTO mnt_asset_files (id, asset_id, kind, file_name, content_type, size_bytes, sha256, \
                 content, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            )
            .bind(&id)
            .bind(asset_id)
            .bind(*kind)
            .bind(&name)
            .bind(*ct)
            .bind(f.data.len() as i64)
            .bind(boh_platform::util::sha256_hex(&f.data))
            .bind(f.data.clone())
            .bind(&ctx.actor.user_id)
            .bind(t)
            .execute(&mut *tx)
            .await?;
            audit::append(
                tx,
                ctx,
                Change {
                    action: "maintenance.asset.file_add",
                    entity_type: "mnt_asset",
                    entity_id: asset_id,
                    org_path: Some(&site.path),
                    before: None,
                    after: Some(json!({"file_id": id, "file_name": name, "kind": kind, "size_bytes": f.data.len()})),
                },
            )
            .await?;
            out.push(AssetFile {
                id,
                asset_id: asset_id.to_string(),
                kind: kind.to_string(),
                file_name: name,
                content_type: ct.to_string(),
                size_bytes: f.data.len() as i64,
                created_at: boh_kernel::Instant(t).rfc3339(),
            });
        }
        Ok(out)
    })
}

/// Remove a file of an asset (a manager of its site).
pub async fn remove(p: &Platform, ctx: &Ctx, asset_id: &str, file_id: &str) -> Result<()> {
    let a = crate::asset::get(p, &ctx.actor, asset_id).await?;
    let site = boh_platform::org::fetch(p, &a.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::MAINTENANCE_ASSET, &site.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_ASSET));
    }
    tx!(p.db, tx, {
        let n = sqlx::query("DELETE FROM mnt_asset_files WHERE id = $1 AND asset_id = $2")
            .bind(file_id)
            .bind(asset_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(PlatformError::NotFound);
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.asset.file_remove",
                entity_type: "mnt_asset",
                entity_id: asset_id,
                org_path: Some(&site.path),
                before: Some(json!({"file_id": file_id})),
                after: None,
            },
        )
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_typed_by_content() {
        assert_eq!(
            file_type(b"%PDF-1.7\n..."),
            Some(("document", "application/pdf"))
        );
        assert_eq!(
            file_type(b"\x89PNG\r\n\x1a\n"),
            Some(("photo", "image/png"))
        );
        assert_eq!(file_type(b"<html>"), None);
        assert_eq!(file_type(b"PK\x03\x04"), None);
    }
}
