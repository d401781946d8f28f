-- POS sales: batches of tickets per store, source system and business day (with versions when
-- a day is re-imported), their tickets, lines and tenders, POS code mappings and the queue of
-- codes nobody has mapped yet, the theoretical usage each stock document depleted, and the
-- rollups every dashboard reads.
--
-- Signs: sale tickets are positive, refund tickets negative (quantities and money); voided
-- lines keep their positive amounts with voided = 1 and count in no sales figure. Money is
-- BIGINT minor units, quantities BIGINT micro-units of the sold item's base unit. `net` is
-- what the customer paid for a line (gross − discount, tax included); `tax` is the part of
-- net that is tax.

CREATE TABLE sales_days (
    store_id      TEXT NOT NULL REFERENCES org_nodes(id),
    source        TEXT NOT NULL,
    business_date TEXT NOT NULL,
    company_id    TEXT NOT NULL,
    store_path    TEXT NOT NULL,
    version       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (store_id, source, business_date)
);

CREATE TABLE sales_batches (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES org_nodes(id),
    store_id         TEXT NOT NULL REFERENCES org_nodes(id),
    store_path       TEXT NOT NULL,
    source           TEXT NOT NULL,
    business_date    TEXT NOT NULL,
    batch_key        TEXT NOT NULL,
    payload_hash     TEXT NOT NULL,
    version          BIGINT NOT NULL,
    mode             TEXT NOT NULL,
    status           TEXT NOT NULL,
    superseded_by    TEXT,
    ticket_count     BIGINT NOT NULL,
    line_count       BIGINT NOT NULL,
    held_count       BIGINT NOT NULL,
    gross            BIGINT NOT NULL,
    discount         BIGINT NOT NULL,
    tax              BIGINT NOT NULL,
    net              BIGINT NOT NULL,
    doc_id           TEXT,
    no_recipe        TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    created_by       TEXT NOT NULL,
    UNIQUE (store_id, source, batch_key)
);
CREATE INDEX sales_batches_day ON sales_batches(store_id, business_date, source);
CREATE INDEX sales_batches_company ON sales_batches(company_id, created_at);

CREATE TABLE sales_tickets (
    batch_id   TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    ticket_no  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    closed_at  BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    cashier    TEXT NOT NULL,
    lines      BIGINT NOT NULL,
    void_lines BIGINT NOT NULL,
    void_amount BIGINT NOT NULL,
    gross      BIGINT NOT NULL,
    discount   BIGINT NOT NULL,
    tax        BIGINT NOT NULL,
    net        BIGINT NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

CREATE TABLE sales_lines (
    batch_id   TEXT NOT NULL,
    line_no    BIGINT NOT NULL,
    ticket_seq BIGINT NOT NULL,
    pos_code   TEXT NOT NULL,
    item_id    TEXT,
    qty        BIGINT NOT NULL,
    gross      BIGINT NOT NULL,
    discount   BIGINT NOT NULL,
    tax        BIGINT NOT NULL,
    net        BIGINT NOT NULL,
    voided     BIGINT NOT NULL,
    PRIMARY KEY (batch_id, line_no)
);

CREATE TABLE sales_tenders (
    batch_id   TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    ticket_seq BIGINT NOT NULL,
    tender     TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

-- POS code → item, per source system (a code may also match an item's pos_code or its code).
CREATE TABLE sales_pos_mappings (
    company_id TEXT NOT NULL REFERENCES org_nodes(id),
    source     TEXT NOT NULL,
    pos_code   TEXT NOT NULL,
    item_id    TEXT NOT NULL REFERENCES inv_items(id),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (company_id, source, pos_code)
);

-- Codes seen without a mapping; their lines wait in sales_held until the code is mapped
-- (their sales count in the day, hour, tender and cashier rollups at once, in the item rollup
-- and in stock once mapped).
CREATE TABLE sales_unmapped (
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    source        TEXT NOT NULL,
    pos_code      TEXT NOT NULL,
    pos_name      TEXT NOT NULL,
    status        TEXT NOT NULL,
    item_id       TEXT,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    resolved_at   BIGINT,
    PRIMARY KEY (company_id, source, pos_code)
);

CREATE TABLE sales_held (
    company_id TEXT NOT NULL,
    source     TEXT NOT NULL,
    pos_code   TEXT NOT NULL,
    batch_id   TEXT NOT NULL,
    line_no    BIGINT NOT NULL,
    PRIMARY KEY (company_id, source, pos_code, batch_id, line_no)
);

-- The theoretical usage one stock document depleted for a batch (the batch's own document,
-- or one posted when held lines were mapped), per stocked item.
CREATE TABLE sales_usage (
    doc_id        TEXT NOT NULL,
    batch_id      TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    store_id      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    qty           BIGINT NOT NULL,
    value         BIGINT NOT NULL,
    PRIMARY KEY (doc_id, item_id)
);
CREATE INDEX sales_usage_batch ON sales_usage(batch_id);
CREATE INDEX sales_usage_store_day ON sales_usage(store_id, business_date);

-- Rollups of active batches, maintained in the batch's transaction.
CREATE TABLE sales_rollup_day (
    store_id       TEXT NOT NULL,
    business_date  TEXT NOT NULL,
    company_id     TEXT NOT NULL,
    store_path     TEXT NOT NULL,
    tickets        BIGINT NOT NULL,
    refund_tickets BIGINT NOT NULL,
    refund_amount  BIGINT NOT NULL,
    void_lines     BIGINT NOT NULL,
    void_amount    BIGINT NOT NULL,
    lines          BIGINT NOT NULL,
    gross          BIGINT NOT NULL,
    discount       BIGINT NOT NULL,
    tax            BIGINT NOT NULL,
    net            BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date)
);
CREATE INDEX sales_rollup_day_company ON sales_rollup_day(company_id, business_date);

CREATE TABLE sales_rollup_item (
    store_id      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    qty           BIGINT NOT NULL,
    gross         BIGINT NOT NULL,
    discount      BIGINT NOT NULL,
    tax           BIGINT NOT NULL,
    net           BIGINT NOT NULL,
    lines         BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date, item_id)
);

CREATE TABLE sales_rollup_hour (
    store_id      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    hour          BIGINT NOT NULL,
    tickets       BIGINT NOT NULL,
    net           BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date, hour)
);

CREATE TABLE sales_rollup_tender (
    store_id      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    tender        TEXT NOT NULL,
    payments      BIGINT NOT NULL,
    amount        BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date, tender)
);

CREATE TABLE sales_rollup_cashier (
    store_id       TEXT NOT NULL,
    business_date  TEXT NOT NULL,
    cashier        TEXT NOT NULL,
    tickets        BIGINT NOT NULL,
    refund_tickets BIGINT NOT NULL,
    refund_amount  BIGINT NOT NULL,
    void_lines     BIGINT NOT NULL,
    void_amount    BIGINT NOT NULL,
    lines          BIGINT NOT NULL,
    net            BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date, cashier)
);
