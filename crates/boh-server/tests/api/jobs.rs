//! Durable jobs: one claimant per job, lease expiry, schedules firing once.

use std::sync::Arc;

use boh_platform::jobs;
use serde_json::json;
use tokio::sync::Barrier;

use crate::common::TestApp;

both!(concurrent_claims_have_one_winner);
both!(expired_lease_is_claimed_again);
both!(due_schedule_fires_once);

async fn concurrent_claims_have_one_winner(app: TestApp) {
    for round in 0..5 {
        let id = jobs::enqueue(
            &app.platform,
            "test.noop",
            &json!({"round": round}),
            None,
            None,
        )
        .await
        .expect("enqueue");
        let barrier = Arc::new(Barrier::new(2));
        let mut set = tokio::task::JoinSet::new();
        for owner in ["worker-a", "worker-b"] {
            let p = app.platform.clone();
            let b = barrier.clone();
            set.spawn(async move {
                b.wait().await;
                jobs::claim(&p, owner, 60).await.expect("claim")
            });
        }
        let mut winners = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Some(job) = r.expect("claim task") {
                winners.push(job);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!(winners[0].id, id);
        assert_eq!(winners[0].status, "running");
        assert_eq!(winners[0].attempts, 1);
        // Nothing else is due.
        assert!(
            jobs::claim(&app.platform, "worker-c", 60)
                .await
                .unwrap()
                .is_none()
        );
    }
}

async fn expired_lease_is_claimed_again(app: TestApp) {
    let id = jobs::enqueue(&app.platform, "test.noop", &json!({}), None, None)
        .await
        .unwrap();
    let first = jobs::claim(&app.platform, "worker-a", 60)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(first.id, id);
    // Leased: nobody else gets it.
    assert!(
        jobs::claim(&app.platform, "worker-b", 60)
            .await
            .unwrap()
            .is_none()
    );

    // The lease runs out (worker-a died).
    let past = boh_kernel::now().micros() - 1_000_000;
    app.exec(&format!(
        "UPDATE jobs SET lease_until = {past} WHERE id = '{id}'"
    ))
    .await;
    let second = jobs::claim(&app.platform, "worker-b", 60)
        .await
        .unwrap()
        .expect("claimed again after the lease expired");
    assert_eq!(second.id, id);
    assert_eq!(second.attempts, 2);
    let owner: String = sqlx::query("SELECT lease_owner FROM jobs WHERE id = $1")
        .bind(&id)
        .fetch_one(app.pool())
        .await
        .map(|r| sqlx::Row::get(&r, "lease_owner"))
        .unwrap();
    assert_eq!(owner, "worker-b");

    // A job of a kind nobody handles fails after its attempts, without looping forever.
    let id2 = jobs::enqueue(&app.platform, "test.unknown", &json!({}), None, None)
        .await
        .unwrap();
    app.drain().await;
    let status: String = sqlx::query("SELECT status FROM jobs WHERE id = $1")
        .bind(&id2)
        .fetch_one(app.pool())
        .await
        .map(|r| sqlx::Row::get(&r, "status"))
        .unwrap();
    assert_eq!(status, "queued", "retried later with back-off");
}

async fn due_schedule_fires_once(app: TestApp) {
    jobs::ensure_schedule(
        &app.platform,
        "test.tick",
        "*/5 * * * *",
        "test.noop",
        &json!({"s": 1}),
    )
    .await
    .unwrap();
    let past = boh_kernel::now().micros() - 1_000_000;
    app.exec(&format!(
        "UPDATE job_schedules SET next_run_at = {past} WHERE name = 'test.tick'"
    ))
    .await;
    let before = app
        .scalar_i64("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'test.noop'")
        .await;
    assert_eq!(before, 0);

    let barrier = Arc::new(Barrier::new(4));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let p = app.platform.clone();
        let b = barrier.clone();
        set.spawn(async move {
            b.wait().await;
            jobs::tick_schedules(&p).await.expect("tick")
        });
    }
    let mut fired = 0;
    while let Some(n) = set.join_next().await {
        fired += n.expect("tick task");
    }
    assert_eq!(fired, 1, "one tick wins");
    let after = app
        .scalar_i64("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'test.noop'")
        .await;
    assert_eq!(after, 1, "exactly one job enqueued");
    let next = app
        .scalar_i64("SELECT next_run_at AS n FROM job_schedules WHERE name = 'test.tick'")
        .await;
    assert!(
        next > boh_kernel::now().micros(),
        "next run is in the future"
    );
    // Not due any more.
    assert_eq!(jobs::tick_schedules(&app.platform).await.unwrap(), 0);
}

both!(named_locks_have_one_holder_and_expire);

/// Database locks: one holder at a time across instances, renewable by the holder, free again
/// after release or expiry.
async fn named_locks_have_one_holder_and_expire(app: TestApp) {
    let p = &app.platform;
    assert!(jobs::try_lock(p, "nightly", "a", 60).await.expect("lock"));
    assert!(
        !jobs::try_lock(p, "nightly", "b", 60).await.expect("lock"),
        "b must not take a held lock"
    );
    assert!(
        jobs::try_lock(p, "nightly", "a", 60).await.expect("renew"),
        "the holder renews"
    );
    jobs::unlock(p, "nightly", "b")
        .await
        .expect("unlock by non-holder is a no-op");
    assert!(!jobs::try_lock(p, "nightly", "b", 60).await.expect("lock"));
    jobs::unlock(p, "nightly", "a").await.expect("unlock");
    assert!(
        jobs::try_lock(p, "nightly", "b", 60)
            .await
            .expect("lock after release")
    );
    // An expired lock is taken over.
    app.exec("UPDATE locks SET expires_at = 0 WHERE name = 'nightly'")
        .await;
    assert!(
        jobs::try_lock(p, "nightly", "c", 60)
            .await
            .expect("lock after expiry")
    );
    // Concurrent claimants: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            jobs::try_lock(&p, "race", &format!("w{i}"), 60)
                .await
                .expect("lock")
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.expect("task") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}
