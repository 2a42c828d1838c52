//! Operations: health, readiness, metrics, the OpenAPI document and the command line.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_readyz_and_metrics_answer() {
    let app = TestApp::new().await;
    let (status, body) = app.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, body) = app.send(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");
    app.get("/api/doctors").await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "chartd_http_requests_total{method=\"GET\",route=\"/api/doctors\",status=\"200\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::new().await;
    let res = app
        .client
        .get(app.url("/api/doctors"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(!res.headers()["x-request-id"].to_str().unwrap().is_empty());
}

#[tokio::test]
async fn served_openapi_document_is_the_checked_in_one() {
    let app = TestApp::new().await;
    let res = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    let served = res.text().await.unwrap();
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json exists");
    assert!(
        served == file,
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/patients",
        "/api/patients/{id}",
        "/api/doctors",
        "/api/users/current",
        "/api/offices/{id}/add_exam_room",
        "/api/user_groups",
        "/o/authorize",
        "/o/token/",
        "/o/revoke_token/",
        "/o/introspect/",
        "/.well-known/oauth-authorization-server",
        "/api/iframe_integration",
        "/api/iframe_integration/launch",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["paths"]["/api/patients"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "last_name"));
    assert_eq!(
        doc["components"]["schemas"]["Patient"]["properties"]["id"]["readOnly"],
        true
    );
}

fn chartd(db: &str, args: &[&str]) -> (bool, Value, String) {
    // The key file goes beside the database, never into the working directory.
    let key_file = db.trim_start_matches("sqlite://").replace(".db", ".key");
    let out = Command::new(env!("CARGO_BIN_EXE_chartd"))
        .args(args)
        .env("CHARTD_DATABASE_URL", db)
        .env("CHARTD_SECRET_KEY_FILE", key_file)
        .env_remove("CHARTD_SECRET_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        value,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chartd"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn each_command_help_shows_what_that_command_takes() {
    let server_only = [
        "--webhook-lease",
        "--login-failures-per-account",
        "--db-pool-size",
        "--bind",
    ];
    for cmd in [
        &["practice", "create"][..],
        &["user", "create"],
        &["app", "create"],
        &["token", "create"],
        &["webhook", "create"],
        &["migrate"],
    ] {
        let text = help(cmd);
        assert!(text.contains("--database-url"), "{cmd:?}: {text}");
        for flag in server_only {
            assert!(!text.contains(flag), "{cmd:?} lists {flag}: {text}");
        }
    }
    assert!(help(&["practice", "create"]).contains("--name"));
    for cmd in [&["serve"][..], &["worker"]] {
        let text = help(cmd);
        for flag in [
            "--database-url",
            "--secret-key",
            "--webhook-lease",
            "--db-pool-size",
        ] {
            assert!(text.contains(flag), "{cmd:?} lacks {flag}");
        }
    }
    let text = help(&["openapi"]);
    assert!(
        !text.contains("--database-url") && !text.contains("--bind"),
        "{text}"
    );
    // The store's flags go before or after the subcommand.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_chartd"))
        .args([
            "practice",
            "--database-url",
            &db,
            "create",
            "--name",
            "Before",
        ])
        .env("CHARTD_SECRET_KEY_FILE", dir.path().join("h.key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generated_client_ids_are_letters_and_digits_and_pass_back_as_arguments() {
    // A value beginning with "-" would read as an option (one id in 32 did, with base64).
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ids.db").display());
    assert!(chartd(&db, &["migrate"]).0);
    let (_, practice, _) = chartd(&db, &["practice", "create", "--name", "Ids"]);
    let p = practice["id"].to_string();
    let (ok, user, err) = chartd(
        &db,
        &[
            "user",
            "create",
            "--practice",
            &p,
            "--username",
            "drids",
            "--password",
            "longpassword",
            "--role",
            "doctor",
        ],
    );
    assert!(ok, "{err}");
    let user = user["id"].to_string();
    for n in 0..40 {
        let name = format!("App {n}");
        let (ok, app, err) = chartd(
            &db,
            &[
                "app",
                "create",
                "--name",
                &name,
                "--redirect-uri",
                "https://a.example/cb",
            ],
        );
        assert!(ok, "{err}");
        let id = app["client_id"].as_str().unwrap();
        assert!(
            id.len() >= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{id}"
        );
        let (ok, token, err) = chartd(
            &db,
            &[
                "token",
                "create",
                "--client-id",
                id,
                "--user",
                &user,
                "--scope",
                "user",
            ],
        );
        assert!(ok, "{id}: {err}");
        let access = token["access_token"].as_str().unwrap();
        assert!(
            access.chars().all(|c| c.is_ascii_alphanumeric()),
            "{access}"
        );
    }
}

#[test]
fn the_command_line_creates_practices_users_offices_apps_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());

    let (ok, out, _) = chartd(&db, &["migrate"]);
    assert!(ok);
    assert!(out["applied"].as_u64().unwrap() >= 1);
    let (ok, practice, _) = chartd(&db, &["practice", "create", "--name", "CLI Clinic"]);
    assert!(ok);
    let p = practice["id"].as_i64().unwrap().to_string();
    let (ok, doc, err) = chartd(
        &db,
        &[
            "user",
            "create",
            "--practice",
            &p,
            "--username",
            "drcli",
            "--password",
            "longpassword",
            "--role",
            "doctor",
            "--first-name",
            "Ann",
        ],
    );
    assert!(ok, "{err}");
    let d = doc["doctor"].as_i64().unwrap().to_string();
    let (ok, staff, _) = chartd(
        &db,
        &[
            "user",
            "create",
            "--practice",
            &p,
            "--username",
            "staffcli",
            "--password",
            "longpassword",
            "--role",
            "staff",
            "--doctor",
            &d,
        ],
    );
    assert!(ok);
    assert_eq!(staff["doctor"].as_i64().unwrap().to_string(), d);
    let (ok, office, _) = chartd(
        &db,
        &[
            "office",
            "create",
            "--practice",
            &p,
            "--doctor",
            &d,
            "--name",
            "Main",
            "--exam-rooms",
            "3",
        ],
    );
    assert!(ok);
    assert_eq!(office["exam_rooms"].as_array().unwrap().len(), 3);
    let (ok, app, _) = chartd(
        &db,
        &[
            "app",
            "create",
            "--name",
            "X",
            "--redirect-uri",
            "https://x.example/cb",
            "--redirect-uri",
            "http://localhost/cb",
            "--rate-limit",
            "10",
        ],
    );
    assert!(ok);
    assert!(app["client_secret"].as_str().unwrap().len() >= 32);
    let (ok, token, err) = chartd(
        &db,
        &[
            "token",
            "create",
            "--client-id",
            app["client_id"].as_str().unwrap(),
            "--user",
            &doc["id"].to_string(),
            "--scope",
            "patients user",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(token["expires_in"], 172800);
    assert!(token["access_token"].as_str().unwrap().len() >= 32);
    // The `--flag=VALUE` form too.
    let flag = format!("--client-id={}", app["client_id"].as_str().unwrap());
    let user = doc["id"].to_string();
    let (ok, _, err) = chartd(
        &db,
        &[
            "token",
            "create",
            &flag,
            "--user",
            &user,
            "--scope=patients",
        ],
    );
    assert!(ok, "{err}");

    // Errors: non-zero exit, a message naming the flag on stderr, nothing on stdout.
    for (args, flag) in [
        (
            vec![
                "user",
                "create",
                "--practice",
                &p,
                "--username",
                "drcli",
                "--password",
                "longpassword",
                "--role",
                "doctor",
            ],
            "--username",
        ),
        (
            vec![
                "user",
                "create",
                "--practice",
                &p,
                "--username",
                "s2",
                "--password",
                "longpassword",
                "--role",
                "staff",
            ],
            "--doctor",
        ),
        (
            vec![
                "user",
                "create",
                "--practice",
                &p,
                "--username",
                "s3",
                "--password",
                "longpassword",
                "--role",
                "nurse",
            ],
            "--role",
        ),
        (
            vec![
                "user",
                "create",
                "--practice",
                "999",
                "--username",
                "s4",
                "--password",
                "longpassword",
                "--role",
                "doctor",
            ],
            "--practice",
        ),
        (
            vec![
                "app",
                "create",
                "--name",
                "Y",
                "--redirect-uri",
                "not a url",
            ],
            "--redirect-uri",
        ),
        (
            vec![
                "token",
                "create",
                "--client-id",
                "nope",
                "--user",
                "1",
                "--scope",
                "patients",
            ],
            "--client-id",
        ),
        (
            vec![
                "token",
                "create",
                "--client-id",
                app["client_id"].as_str().unwrap(),
                "--user",
                "1",
                "--scope",
                "patients everything",
            ],
            "--scope",
        ),
    ] {
        let (ok, out, err) = chartd(&db, &args);
        assert!(!ok, "{args:?} should fail");
        assert_eq!(out, Value::Null);
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}
