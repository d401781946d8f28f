-- E-mail copies of in-app notifications (boh_platform::mail). A row is queued in the
-- transaction that writes the notification, when e-mail is configured and the user has an
-- address, and a scheduled job sends it: nothing is sent during a request. `notification_id`
-- is unique, so a notification is mailed at most once; it names a row of `notifications`
-- without a foreign key, since the platform knows no business module's tables.
--
-- status: pending (due at next_attempt_at; a sender claims a row by pushing next_attempt_at
-- past its lease and counting the attempt), sent, failed (after the last attempt, or an
-- address that can never work; last_error says why).

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL REFERENCES users(id),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    next_attempt_at BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
CREATE INDEX mail_outbox_user ON mail_outbox(user_id, created_at);
