-- Purchase orders to suppliers: a header per supplier, receiving site and delivery day, and
-- its lines in the supplier's pack units. Quantities are BIGINT micro-units of the pack unit;
-- money BIGINT minor units of the supplier's currency. Approval runs through the workflow
-- engine (document type `purchase_order`); `status` follows it.

CREATE TABLE purchase_orders (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    number        TEXT NOT NULL UNIQUE,
    supplier_id   TEXT NOT NULL REFERENCES inv_suppliers(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    delivery_date TEXT NOT NULL,
    status        TEXT NOT NULL,
    currency      TEXT NOT NULL,
    total_minor   BIGINT NOT NULL,
    line_count    BIGINT NOT NULL,
    note          TEXT,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    submitted_at  BIGINT,
    approved_at   BIGINT,
    version       BIGINT NOT NULL
);
CREATE INDEX purchase_orders_path ON purchase_orders(location_path, created_at);
CREATE INDEX purchase_orders_status ON purchase_orders(company_id, status, delivery_date);
CREATE INDEX purchase_orders_supplier ON purchase_orders(supplier_id, delivery_date);

CREATE TABLE purchase_order_lines (
    po_id            TEXT NOT NULL REFERENCES purchase_orders(id),
    line_no          BIGINT NOT NULL,
    supplier_item_id TEXT NOT NULL REFERENCES inv_supplier_items(id),
    item_id          TEXT NOT NULL REFERENCES inv_items(id),
    pack_unit        TEXT NOT NULL,
    pack_factor      BIGINT NOT NULL,
    qty              BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    amount_minor     BIGINT NOT NULL,
    PRIMARY KEY (po_id, line_no)
);
