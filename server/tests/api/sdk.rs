//! The official OpenAI Python SDK (`openai` from PyPI) against the real portal and a fake
//! Ollama: completions, streams, models, embeddings and the SDK's exception types. The
//! accounts come from the operator CLI, as the issue asks. `scripts/test.sh` makes the
//! virtualenv and sets `RESAYIL_SDK_PYTHON`.
use crate::helpers::{api_key, each_app_with_ollama};

fn python() -> String {
    std::env::var("RESAYIL_SDK_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn the_official_openai_python_sdk_works_unchanged() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        let enterprise = api_key(&app, &["--plan", "enterprise", "--credits", "10"]).await;
        let basic = api_key(&app, &["--plan", "basic"]).await;
        let broke = api_key(&app, &["--credits", "0"]).await;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openai_sdk_check.py");
        let out = tokio::process::Command::new(python())
            .arg(script)
            .env("RESAYIL_BASE_URL", format!("{}/v1", app.addr))
            .env("KEY_ENTERPRISE", &enterprise)
            .env("KEY_BASIC", &basic)
            .env("KEY_BROKE", &broke)
            .output()
            .await
            .expect("run python (make test creates the virtualenv with the openai SDK)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "SDK checks failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("all SDK checks passed"), "{stdout}");
    })
    .await;
}
