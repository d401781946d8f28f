//! The crash test in CI: a short round (a few SIGKILLs) of `boh_server::crash` against the real
//! `boh` binary, on SQLite and on PostgreSQL. `boh crash-test --rounds N` runs longer rounds on
//! demand; `BOH_CRASH_SEED` replays a seed (printed by every run).

#[allow(unused_macros)]
mod common;

use common::{Backend, TestDb};

async fn crash_round(backend: Backend) {
    let db = TestDb::create(backend).await;
    let logs = tempfile::Builder::new()
        .prefix("boh-crash-logs-")
        .tempdir()
        .expect("a temp dir for the server logs");
    let seed = std::env::var("BOH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(boh_server::crash::random_seed);
    let rounds = std::env::var("BOH_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "crash test on {backend:?}: seed {seed} (BOH_CRASH_SEED={seed} replays it), {rounds} rounds"
    );
    let cfg = boh_server::crash::Config {
        exe: env!("CARGO_BIN_EXE_boh").into(),
        database_url: db.url.clone(),
        rounds,
        clients: 4,
        seed,
        kill_after_ms: (50, 700),
        writes: boh_server::crash::write_kinds(),
        log_dir: logs.path().to_path_buf(),
    };
    match boh_server::crash::run(cfg).await {
        Ok(s) => {
            println!("{s:?}");
            assert!(s.acknowledged > 0, "no write was acknowledged: {s:?}");
        }
        Err(e) => {
            boh_server::crash::print_logs(logs.path());
            panic!("{e:#}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_restart_verify_sqlite() {
    crash_round(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_restart_verify_postgres() {
    crash_round(Backend::Postgres).await;
}
