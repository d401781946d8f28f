-- The order guide remembers choices.
--
-- requisition_lines.requested_date: the delivery day the user asked for on a supplier line
-- (`YYYY-MM-DD`), kept so that submitting a draft later checks the same day again; NULL
-- means "the supplier's next delivery day" as of submission.
--
-- purchasing_source_choices: per site and item, the source last ordered from (a guide source
-- key, `si:<supplier item id>` or `tr:<location id>`). The guide offers it first while it is
-- still a possible source.

ALTER TABLE requisition_lines ADD COLUMN requested_date TEXT;

CREATE TABLE purchasing_source_choices (
    location_id TEXT NOT NULL REFERENCES org_nodes(id),
    item_id     TEXT NOT NULL REFERENCES inv_items(id),
    source_key  TEXT NOT NULL,
    chosen_by   TEXT NOT NULL REFERENCES users(id),
    chosen_at   BIGINT NOT NULL,
    PRIMARY KEY (location_id, item_id)
);
