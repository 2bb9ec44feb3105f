//! The operator CLI: machine-readable output is only that (logs go to standard error), and
//! `catalog sync` writes the file's catalog into the database, idempotently.
use tokio::process::Command;

use crate::helpers::{each_app, unique_email};

/// Runs `resayil` with info logs on; (stdout, stderr).
async fn run(database_url: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_resayil"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .output()
        .await
        .expect("run resayil");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "resayil {args:?}: {stderr}");
    (stdout, stderr)
}

#[tokio::test]
async fn json_output_is_exactly_one_document_while_logs_go_to_stderr() {
    each_app(|app| async move {
        let email = unique_email();
        app.register(&email, &crate::helpers::unique_phone(), "password123")
            .await;
        let (stdout, _) = run(
            &app.database_url,
            &["user", "show", "--email", &email, "--json"],
        )
        .await;
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
        assert_eq!(doc["email"], email.as_str());
        assert_eq!(stdout.trim().lines().count(), 1, "{stdout:?}");
        // The migration check logs at info; it must not reach stdout.
        let (stdout, _) = run(&app.database_url, &["catalog", "sync", "--json"]).await;
        let report: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
        assert_eq!(report["plans"], 3);
    })
    .await;
}

#[tokio::test]
async fn catalog_sync_is_idempotent() {
    each_app(|app| async move {
        run(&app.database_url, &["catalog", "sync"]).await;
        let (stdout, _) = run(&app.database_url, &["catalog", "sync", "--json"]).await;
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["changed"], false, "{stdout}");
        let (text, _) = run(&app.database_url, &["catalog", "sync"]).await;
        assert_eq!(text.trim(), "catalog already up to date");
    })
    .await;
}
