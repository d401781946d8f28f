-- Maintenance: the asset registry (equipment of stores and warehouses) and asset meters.
--
-- An asset belongs to one store / warehouse / central kitchen (`location_id`; `location_path`
-- is the node's path, copied for scoped reads) of one company (`company_id`). `code` is unique
-- per company. Assets nest below the site (line → equipment → component → part): `parent_id`
-- is an asset at the same location, `depth` is 1 for a top-level asset and at most 4; the
-- domain refuses cycles. `qr_token` is random (128 bits, hex) and unique: the public request
-- form of a later slice is reached by it, never by the id.
--
-- mnt_assets.category: fryer, oven, fridge, freezer, coffee_machine, air_conditioning,
-- pos_terminal, dishwasher, other. criticality: low, medium, high, critical.
-- status: active, retired. Dates are `YYYY-MM-DD`; instants are microseconds (UTC).
-- Meter readings are exact integers in the meter's unit (hours, cycles, ...).

CREATE TABLE mnt_assets (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    make          TEXT,
    model         TEXT,
    serial        TEXT,
    supplier_id   TEXT REFERENCES inv_suppliers(id),
    install_date  TEXT,
    warranty_end  TEXT,
    criticality   TEXT NOT NULL,
    status        TEXT NOT NULL,
    parent_id     TEXT REFERENCES mnt_assets(id),
    depth         BIGINT NOT NULL,
    qr_token      TEXT NOT NULL UNIQUE,
    note          TEXT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    UNIQUE (company_id, code)
);
-- The list: scope by path, ordered by code.
CREATE INDEX mnt_assets_path_code ON mnt_assets(location_path, code);
CREATE INDEX mnt_assets_location ON mnt_assets(location_id, status);
CREATE INDEX mnt_assets_parent ON mnt_assets(parent_id);

CREATE TABLE mnt_meters (
    id            TEXT PRIMARY KEY,
    asset_id      TEXT NOT NULL REFERENCES mnt_assets(id),
    code          TEXT NOT NULL,
    unit          TEXT NOT NULL,
    last_value    BIGINT,
    last_read_at  BIGINT,
    created_at    BIGINT NOT NULL,
    UNIQUE (asset_id, code)
);
