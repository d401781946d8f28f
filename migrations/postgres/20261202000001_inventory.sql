-- Inventory and master data: categories, items with unit conversions and barcodes, storage
-- areas and per-location item settings, location policies and period locks, suppliers with
-- their items and dated prices, recipes with versions, lots, stock documents, the append-only
-- stock ledger with on-hand per lot and valuation per item and location, transfers, counts.
--
-- Quantities are BIGINT micro-units (10^-6) of the item's base unit; money is BIGINT minor
-- units (fen, cents); unit costs are minor units per base unit scaled by 10^6; business dates
-- are TEXT YYYY-MM-DD; instants BIGINT microseconds (UTC); booleans BIGINT 0/1.

CREATE TABLE inv_categories (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    parent_id   TEXT REFERENCES inv_categories(id) DEFERRABLE INITIALLY IMMEDIATE,
    code        TEXT NOT NULL,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    sort        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (company_id, code)
);

CREATE TABLE inv_items (
    id              TEXT PRIMARY KEY,
    company_id      TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    code            TEXT NOT NULL,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    category_id     TEXT REFERENCES inv_categories(id) DEFERRABLE INITIALLY IMMEDIATE,
    kind            TEXT NOT NULL,
    base_unit       TEXT NOT NULL,
    storage_type    TEXT NOT NULL,
    shelf_life_days BIGINT,
    lot_tracked     BIGINT NOT NULL,
    stocked         BIGINT NOT NULL,
    pos_code        TEXT,
    active          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    UNIQUE (company_id, code)
);
CREATE INDEX inv_items_category ON inv_items(category_id);
CREATE INDEX inv_items_pos_code ON inv_items(company_id, pos_code);

CREATE TABLE inv_item_units (
    item_id TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    unit    TEXT NOT NULL,
    factor  BIGINT NOT NULL,
    PRIMARY KEY (item_id, unit)
);

CREATE TABLE inv_item_barcodes (
    company_id TEXT NOT NULL,
    barcode    TEXT NOT NULL,
    item_id    TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    unit       TEXT NOT NULL,
    PRIMARY KEY (company_id, barcode)
);
CREATE INDEX inv_item_barcodes_item ON inv_item_barcodes(item_id);

CREATE TABLE inv_storage_areas (
    id            TEXT PRIMARY KEY,
    location_id   TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    location_path TEXT NOT NULL,
    code          TEXT NOT NULL,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    sort          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (location_id, code)
);

CREATE TABLE inv_item_locations (
    location_id     TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    item_id         TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    location_path   TEXT NOT NULL,
    storage_area_id TEXT REFERENCES inv_storage_areas(id) DEFERRABLE INITIALLY IMMEDIATE,
    stocked         BIGINT NOT NULL,
    par_qty         BIGINT,
    min_qty         BIGINT,
    max_qty         BIGINT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (location_id, item_id)
);
CREATE INDEX inv_item_locations_item ON inv_item_locations(item_id);

CREATE TABLE inv_location_settings (
    location_id     TEXT PRIMARY KEY REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    location_path   TEXT NOT NULL,
    negative_policy TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE inv_period_locks (
    company_id     TEXT PRIMARY KEY REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    locked_through TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL
);

CREATE TABLE inv_suppliers (
    id              TEXT PRIMARY KEY,
    company_id      TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    code            TEXT NOT NULL,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    contact_name    TEXT,
    phone           TEXT,
    email           TEXT,
    address         TEXT,
    lead_time_days  BIGINT NOT NULL,
    delivery_days   TEXT NOT NULL,
    min_order_minor BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    active          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    UNIQUE (company_id, code)
);

CREATE TABLE inv_supplier_items (
    id           TEXT PRIMARY KEY,
    company_id   TEXT NOT NULL,
    supplier_id  TEXT NOT NULL REFERENCES inv_suppliers(id) DEFERRABLE INITIALLY IMMEDIATE,
    item_id      TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    supplier_sku TEXT,
    pack_unit    TEXT NOT NULL,
    preferred    BIGINT NOT NULL,
    active       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (supplier_id, item_id, pack_unit)
);
CREATE INDEX inv_supplier_items_item ON inv_supplier_items(item_id);

CREATE TABLE inv_supplier_prices (
    id               TEXT PRIMARY KEY,
    supplier_item_id TEXT NOT NULL REFERENCES inv_supplier_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    price_minor      BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    effective_from   TEXT NOT NULL,
    note             TEXT,
    created_at       BIGINT NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE INDEX inv_supplier_prices_item ON inv_supplier_prices(supplier_item_id, effective_from);

CREATE TABLE inv_recipes (
    id         TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    item_id    TEXT NOT NULL UNIQUE REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE inv_recipe_versions (
    id             TEXT PRIMARY KEY,
    recipe_id      TEXT NOT NULL REFERENCES inv_recipes(id) DEFERRABLE INITIALLY IMMEDIATE,
    version_no     BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    yield_qty      BIGINT NOT NULL,
    note           TEXT,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    UNIQUE (recipe_id, version_no),
    UNIQUE (recipe_id, effective_from)
);

CREATE TABLE inv_recipe_lines (
    version_id   TEXT NOT NULL REFERENCES inv_recipe_versions(id) DEFERRABLE INITIALLY IMMEDIATE,
    line_no      BIGINT NOT NULL,
    component_id TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    qty          BIGINT NOT NULL,
    unit         TEXT NOT NULL,
    base_qty     BIGINT NOT NULL,
    yield_bp     BIGINT NOT NULL,
    PRIMARY KEY (version_id, line_no)
);
CREATE INDEX inv_recipe_lines_component ON inv_recipe_lines(component_id);

CREATE TABLE inv_lots (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL,
    item_id     TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    lot_code    TEXT NOT NULL,
    expiry_date TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (item_id, lot_code)
);

CREATE TABLE inv_docs (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL,
    location_id   TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    location_path TEXT NOT NULL,
    kind          TEXT NOT NULL,
    business_date TEXT NOT NULL,
    reference     TEXT,
    note          TEXT,
    source_type   TEXT,
    source_id     TEXT,
    reverses_id   TEXT UNIQUE,
    line_count    BIGINT NOT NULL,
    total_value   BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX inv_docs_location ON inv_docs(location_path, created_at);
CREATE INDEX inv_docs_source ON inv_docs(source_type, source_id);

CREATE TABLE inv_movements (
    id            TEXT PRIMARY KEY,
    doc_id        TEXT NOT NULL REFERENCES inv_docs(id) DEFERRABLE INITIALLY IMMEDIATE,
    line_no       BIGINT NOT NULL,
    company_id    TEXT NOT NULL,
    location_id   TEXT NOT NULL,
    location_path TEXT NOT NULL,
    item_id       TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    lot_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    qty           BIGINT NOT NULL,
    value         BIGINT NOT NULL,
    business_date TEXT NOT NULL,
    posted_at     BIGINT NOT NULL,
    reason        TEXT,
    reverses_id   TEXT UNIQUE,
    went_negative BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX inv_movements_doc ON inv_movements(doc_id);
CREATE INDEX inv_movements_item ON inv_movements(location_id, item_id, business_date);
CREATE INDEX inv_movements_path ON inv_movements(location_path, posted_at);
CREATE INDEX inv_movements_item_all ON inv_movements(item_id, posted_at);

CREATE TABLE inv_stock (
    location_id   TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    lot_id        TEXT NOT NULL,
    location_path TEXT NOT NULL,
    qty           BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (location_id, item_id, lot_id)
);
CREATE INDEX inv_stock_item ON inv_stock(item_id);

CREATE TABLE inv_valuation (
    location_id    TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    company_id     TEXT NOT NULL,
    location_path  TEXT NOT NULL,
    qty            BIGINT NOT NULL,
    value          BIGINT NOT NULL,
    last_unit_cost BIGINT NOT NULL,
    negative_since BIGINT,
    last_movement_at BIGINT NOT NULL,
    PRIMARY KEY (location_id, item_id)
);
CREATE INDEX inv_valuation_path ON inv_valuation(location_path);
CREATE INDEX inv_valuation_item ON inv_valuation(item_id);

CREATE TABLE inv_transfers (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL,
    number           TEXT NOT NULL,
    from_location_id TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    from_path        TEXT NOT NULL,
    to_location_id   TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    to_path          TEXT NOT NULL,
    status           TEXT NOT NULL,
    note             TEXT,
    requested_by     TEXT NOT NULL,
    requested_at     BIGINT NOT NULL,
    shipped_by       TEXT,
    shipped_at       BIGINT,
    ship_date        TEXT,
    ship_doc_id      TEXT,
    received_by      TEXT,
    received_at      BIGINT,
    receive_date     TEXT,
    receive_doc_id   TEXT,
    version          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (company_id, number)
);
CREATE INDEX inv_transfers_from ON inv_transfers(from_path, status);
CREATE INDEX inv_transfers_to ON inv_transfers(to_path, status);

CREATE TABLE inv_transfer_lines (
    transfer_id   TEXT NOT NULL REFERENCES inv_transfers(id) DEFERRABLE INITIALLY IMMEDIATE,
    line_no       BIGINT NOT NULL,
    item_id       TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    qty_requested BIGINT NOT NULL,
    qty_shipped   BIGINT NOT NULL,
    value_shipped BIGINT NOT NULL,
    qty_received  BIGINT NOT NULL,
    qty_damaged   BIGINT NOT NULL,
    note          TEXT,
    PRIMARY KEY (transfer_id, line_no)
);

CREATE TABLE inv_transfer_picks (
    transfer_id TEXT NOT NULL REFERENCES inv_transfers(id) DEFERRABLE INITIALLY IMMEDIATE,
    line_no     BIGINT NOT NULL,
    lot_id      TEXT NOT NULL,
    qty         BIGINT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (transfer_id, line_no, lot_id)
);

CREATE TABLE inv_counts (
    id              TEXT PRIMARY KEY,
    company_id      TEXT NOT NULL,
    number          TEXT NOT NULL,
    location_id     TEXT NOT NULL REFERENCES org_nodes(id) DEFERRABLE INITIALLY IMMEDIATE,
    location_path   TEXT NOT NULL,
    kind            TEXT NOT NULL,
    storage_area_id TEXT REFERENCES inv_storage_areas(id) DEFERRABLE INITIALLY IMMEDIATE,
    blind           BIGINT NOT NULL,
    status          TEXT NOT NULL,
    business_date   TEXT NOT NULL,
    note            TEXT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    posted_by       TEXT,
    posted_at       BIGINT,
    doc_id          TEXT,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (company_id, number)
);
CREATE INDEX inv_counts_location ON inv_counts(location_path, status);

CREATE TABLE inv_count_lines (
    count_id     TEXT NOT NULL REFERENCES inv_counts(id) DEFERRABLE INITIALLY IMMEDIATE,
    item_id      TEXT NOT NULL REFERENCES inv_items(id) DEFERRABLE INITIALLY IMMEDIATE,
    lot_id       TEXT NOT NULL,
    expected_qty BIGINT NOT NULL,
    counted_qty  BIGINT,
    entered_qty  BIGINT,
    entered_unit TEXT,
    counted_by   TEXT,
    counted_at   BIGINT,
    PRIMARY KEY (count_id, item_id, lot_id)
);

CREATE TABLE inv_sequences (
    company_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    next_value BIGINT NOT NULL,
    PRIMARY KEY (company_id, name)
);
