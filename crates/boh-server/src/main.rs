//! `boh`: the BOH back-office server and its administration commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    boh_server::cli::main().await
}
