-- Imports of master data from CSV/XLSX: one row per stored import (checked, queued, running,
-- applied or failed) with its counts and errors, and the uploaded file beside it, so that a
-- job can apply it and anyone allowed can see what was imported. Dry runs store nothing.

CREATE TABLE imports (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    format          TEXT NOT NULL,
    sheet           TEXT,
    size_bytes      BIGINT NOT NULL,
    status          TEXT NOT NULL,
    total_rows      BIGINT NOT NULL,
    created_count   BIGINT NOT NULL,
    updated_count   BIGINT NOT NULL,
    unchanged_count BIGINT NOT NULL,
    errors          TEXT NOT NULL,
    job_id          TEXT,
    org_path        TEXT NOT NULL,
    grant_ids       TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    ip              TEXT,
    request_id      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX imports_created_by ON imports(created_by, created_at);
CREATE INDEX imports_path ON imports(org_path);

CREATE TABLE import_files (
    import_id    TEXT PRIMARY KEY REFERENCES imports(id),
    content_type TEXT,
    sheet        TEXT,
    data         BYTEA NOT NULL
);
