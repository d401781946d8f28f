-- Maintenance: documents and photos of an asset (manuals, wiring diagrams, warranty papers,
-- nameplate photos). Content checked by its first bytes: JPEG, PNG, WebP or PDF; at most 10 MB.
CREATE TABLE mnt_asset_files (
    id            TEXT PRIMARY KEY,
    asset_id      TEXT NOT NULL REFERENCES mnt_assets(id),
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    content       BYTEA NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX mnt_asset_files_asset ON mnt_asset_files(asset_id, created_at);
