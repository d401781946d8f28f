-- Maintenance: technicians, SLA policies, work orders with their history, attachments,
-- checklist and parts, and the throttle of the public (QR code) request form.
--
-- A work order belongs to one site (`location_id`, `location_path` copied for scoped reads) of
-- one company and optionally to an asset there. `number` is unique per company (WO-000123).
-- status: open, assigned, accepted, travelling, in_progress, paused, done, closed, cancelled,
-- review (a low rating sent it back). priority: low, medium, high, urgent.
-- source: web, api, qr, pm, predictive. Instants are microseconds (UTC); SLA targets are in
-- business minutes of the policy's hours in the site's time zone; `paused_min` is the business
-- time spent paused (waiting for parts or for the store), which moves the resolution due time.
-- mnt_wo_events is append-only: every status change, assignment, note and rating.

CREATE TABLE mnt_technicians (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES org_nodes(id),
    user_id          TEXT UNIQUE REFERENCES users(id),
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    skills           TEXT NOT NULL,
    certifications   TEXT NOT NULL,
    home_location_id TEXT NOT NULL REFERENCES org_nodes(id),
    van_location_id  TEXT REFERENCES org_nodes(id),
    last_latitude    DOUBLE PRECISION,
    last_longitude   DOUBLE PRECISION,
    last_seen_at     BIGINT,
    shift_days       TEXT NOT NULL,
    shift_start_min  BIGINT NOT NULL,
    shift_end_min    BIGINT NOT NULL,
    max_open_jobs    BIGINT NOT NULL,
    hourly_rate      BIGINT NOT NULL,
    status           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    UNIQUE (company_id, code)
);

CREATE TABLE mnt_sla_policies (
    id              TEXT PRIMARY KEY,
    company_id      TEXT NOT NULL REFERENCES org_nodes(id),
    priority        TEXT NOT NULL,
    category        TEXT NOT NULL,
    response_min    BIGINT NOT NULL,
    resolution_min  BIGINT NOT NULL,
    days            TEXT NOT NULL,
    open_min        BIGINT NOT NULL,
    close_min       BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (company_id, priority, category)
);

CREATE TABLE mnt_work_orders (
    id                TEXT PRIMARY KEY,
    company_id        TEXT NOT NULL REFERENCES org_nodes(id),
    location_id       TEXT NOT NULL REFERENCES org_nodes(id),
    location_path     TEXT NOT NULL,
    asset_id          TEXT REFERENCES mnt_assets(id),
    number            TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT,
    fault_code        TEXT NOT NULL,
    category          TEXT NOT NULL,
    priority          TEXT NOT NULL,
    status            TEXT NOT NULL,
    source            TEXT NOT NULL,
    requester_id      TEXT REFERENCES users(id),
    requester_name    TEXT,
    requester_contact TEXT,
    tracking_token    TEXT NOT NULL UNIQUE,
    duplicate_of      TEXT REFERENCES mnt_work_orders(id),
    technician_id     TEXT REFERENCES mnt_technicians(id),
    assigned_at       BIGINT,
    assign_note       TEXT,
    response_min      BIGINT NOT NULL,
    resolution_min    BIGINT NOT NULL,
    sla_days          TEXT NOT NULL,
    sla_open_min      BIGINT NOT NULL,
    sla_close_min     BIGINT NOT NULL,
    response_due_at   BIGINT NOT NULL,
    resolution_due_at BIGINT NOT NULL,
    responded_at      BIGINT,
    finished_at       BIGINT,
    closed_at         BIGINT,
    paused_at         BIGINT,
    pause_reason      TEXT,
    paused_min        BIGINT NOT NULL,
    escalation_level  BIGINT NOT NULL,
    cause_code        TEXT,
    remedy_code       TEXT,
    resolution_note   TEXT,
    signature_required BIGINT NOT NULL,
    signed_by         TEXT,
    labour_min        BIGINT NOT NULL,
    parts_cost        BIGINT NOT NULL,
    labour_cost       BIGINT NOT NULL,
    rating            BIGINT,
    rating_comment    TEXT,
    parts_needed      TEXT,
    schedule_id       TEXT,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    UNIQUE (company_id, number)
);
-- The list: scope by path, newest first.
CREATE INDEX mnt_wo_path_created ON mnt_work_orders(location_path, created_at);
CREATE INDEX mnt_wo_company_status ON mnt_work_orders(company_id, status, created_at);
CREATE INDEX mnt_wo_asset ON mnt_work_orders(asset_id, status);
CREATE INDEX mnt_wo_technician ON mnt_work_orders(technician_id, status);

CREATE TABLE mnt_wo_events (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES mnt_work_orders(id),
    seq           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    actor_id      TEXT,
    actor_name    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT,
    note          TEXT,
    UNIQUE (work_order_id, seq)
);

CREATE TABLE mnt_wo_attachments (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES mnt_work_orders(id),
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL,
    created_by    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX mnt_wo_attachments_wo ON mnt_wo_attachments(work_order_id);

CREATE TABLE mnt_wo_checklist (
    work_order_id TEXT NOT NULL REFERENCES mnt_work_orders(id),
    seq           BIGINT NOT NULL,
    label         TEXT NOT NULL,
    required      BIGINT NOT NULL,
    done_at       BIGINT,
    done_by       TEXT,
    PRIMARY KEY (work_order_id, seq)
);

CREATE TABLE mnt_wo_parts (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES mnt_work_orders(id),
    item_id       TEXT NOT NULL REFERENCES inv_items(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    qty           BIGINT NOT NULL,
    value         BIGINT NOT NULL,
    doc_id        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX mnt_wo_parts_wo ON mnt_wo_parts(work_order_id);

CREATE TABLE mnt_intake_throttle (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
