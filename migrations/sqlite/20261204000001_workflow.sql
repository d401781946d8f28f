-- The approval workflow engine, shared by every module that needs approvals.
--
-- A definition (per company and code) has immutable versions; the latest is the one new
-- documents start with, and an instance keeps the version it started with. A version holds a
-- trigger (document type and event), a condition in the expression language (empty = always),
-- a priority among the definitions of that trigger, and its steps as JSON (see
-- boh_workflow::def::Step). Instances are one approval run of one document; tasks are one
-- approver's turn at one step; history is every decision and system action on a document.

CREATE TABLE wf_definitions (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES org_nodes(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    doc_type    TEXT NOT NULL,
    event       TEXT NOT NULL,
    priority    BIGINT NOT NULL,
    active      BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (company_id, code)
);
CREATE INDEX wf_definitions_trigger ON wf_definitions(company_id, doc_type, event);

CREATE TABLE wf_versions (
    id            TEXT PRIMARY KEY,
    definition_id TEXT NOT NULL REFERENCES wf_definitions(id),
    version       BIGINT NOT NULL,
    name          TEXT NOT NULL,
    doc_type      TEXT NOT NULL,
    event         TEXT NOT NULL,
    priority      BIGINT NOT NULL,
    condition     TEXT NOT NULL,
    steps         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (definition_id, version)
);

CREATE TABLE wf_instances (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    definition_id TEXT REFERENCES wf_definitions(id),
    version_id    TEXT REFERENCES wf_versions(id),
    doc_type      TEXT NOT NULL,
    doc_id        TEXT NOT NULL,
    doc_title     TEXT NOT NULL,
    org_node_id   TEXT NOT NULL REFERENCES org_nodes(id),
    org_path      TEXT NOT NULL,
    requester_id  TEXT NOT NULL,
    facts         TEXT NOT NULL,
    facts_hash    TEXT NOT NULL,
    status        TEXT NOT NULL,
    stage         BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT
);
CREATE INDEX wf_instances_doc ON wf_instances(doc_type, doc_id, created_at);
CREATE UNIQUE INDEX wf_instances_one_pending ON wf_instances(doc_type, doc_id) WHERE status = 'pending';
CREATE INDEX wf_instances_path ON wf_instances(org_path, created_at);

CREATE TABLE wf_tasks (
    id             TEXT PRIMARY KEY,
    instance_id    TEXT NOT NULL REFERENCES wf_instances(id),
    step_no        BIGINT NOT NULL,
    stage          BIGINT NOT NULL,
    step_name      TEXT NOT NULL,
    mode           TEXT NOT NULL,
    assignee_id    TEXT NOT NULL REFERENCES users(id),
    on_behalf_of   TEXT REFERENCES users(id),
    status         TEXT NOT NULL,
    opened_at      BIGINT,
    due_at         BIGINT,
    reminded_at    BIGINT,
    escalated_at   BIGINT,
    decided_at     BIGINT,
    decided_by     TEXT,
    comment        TEXT
);
CREATE INDEX wf_tasks_instance ON wf_tasks(instance_id, step_no);
CREATE INDEX wf_tasks_assignee ON wf_tasks(assignee_id, status);
CREATE INDEX wf_tasks_due ON wf_tasks(status, due_at);

CREATE TABLE wf_history (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES wf_instances(id),
    doc_type    TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    step_no     BIGINT,
    comment     TEXT
);
CREATE INDEX wf_history_doc ON wf_history(doc_type, doc_id, at);

-- Someone away hands their approvals to another user for a period (dates, inclusive).
CREATE TABLE wf_delegations (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES org_nodes(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    delegate_id TEXT NOT NULL REFERENCES users(id),
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    note        TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX wf_delegations_user ON wf_delegations(user_id);

-- In-app notifications (the inbox badge and list); e-mail goes out through a job.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    url        TEXT,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
