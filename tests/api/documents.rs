//! /api/documents: multipart upload, authorized download, metatags, archiving, no orphans.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// Files under the test's CHARTD_FILES_DIR.
pub fn files_on_disk(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.files_dir)
}

/// A multipart request with a token; answers (status, JSON).
pub async fn multipart(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    form: Form,
) -> (StatusCode, Value) {
    let res = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn document_form(app: &TestApp, patient: i64, file: Part) -> Form {
    Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("patient", patient.to_string())
        .text("date", "2026-02-03")
        .text("description", "Referral letter")
        .text("metatags", r#"["referral", "cardiology"]"#)
        .part("document", file)
}

fn pdf_part() -> Part {
    Part::bytes(PDF.to_vec())
        .file_name("letter.pdf")
        .mime_str("application/pdf")
        .unwrap()
}

#[tokio::test]
async fn documents_upload_as_multipart_and_download_with_their_own_authorization() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, d) = multipart(
        &app,
        reqwest::Method::POST,
        "/api/documents",
        &app.token,
        document_form(&app, p, pdf_part()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let id = d["id"].as_i64().unwrap();
    let url = format!("{}/api/documents/{id}/document", app.address);
    assert_eq!(d["document"], url);
    assert_eq!(d["metatags"], json!(["referral", "cardiology"]));
    assert_eq!(d["date"], "2026-02-03");
    assert_eq!(d["archived"], false);
    assert!(d["updated_at"].is_string());

    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let no_patients = app.token_for(app.a.user, "clinical");
    let res = app
        .client
        .get(&url)
        .bearer_auth(&no_patients)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the object's own scope"
    );
    assert_eq!(files_on_disk(&app), 1);

    // JSON with base64 works too; replacing the file removes the old one.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
    let (status, err) = app
        .patch(
            &format!("/api/documents/{id}"),
            json!({"document": b64, "metatags": ["x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    assert_eq!(files_on_disk(&app), 1);
    let (_, got) = app.get(&format!("/api/documents/{id}")).await;
    assert_eq!(got["metatags"], json!(["x"]));

    // DELETE archives: gone from the list, still there by id and with show_archived.
    let (status, _) = app.delete(&format!("/api/documents/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/documents").await;
    assert_eq!(list["results"], json!([]));
    let (_, list) = app.get("/api/documents?show_archived=true").await;
    assert_eq!(list["results"][0]["id"], id);
    let (_, got) = app.get(&format!("/api/documents/{id}")).await;
    assert_eq!(got["archived"], true);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "an archived document keeps its file"
    );
}

#[tokio::test]
async fn a_failed_document_upload_leaves_nothing_behind() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    // A type outside the allowed list.
    let exe = Part::bytes(b"MZ".to_vec()).file_name("tool.exe");
    let (status, body) = multipart(
        &app,
        reqwest::Method::POST,
        "/api/documents",
        &app.token,
        document_form(&app, p, exe),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["document"][0]
        .as_str()
        .unwrap()
        .contains("Unsupported file type"));
    // A good file in a request with a bad key (and one failing the practice check).
    let form = document_form(&app, p, pdf_part()).text("metatags", "not json");
    let (status, body) = multipart(
        &app,
        reqwest::Method::POST,
        "/api/documents",
        &app.token,
        form,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["metatags"].is_array(), "{body}");
    let form = Form::new()
        .text("doctor", app.b.doctor.to_string())
        .text("patient", p.to_string())
        .text("date", "2026-02-03")
        .text("description", "x")
        .part("document", pdf_part());
    let (status, body) = multipart(
        &app,
        reqwest::Method::POST,
        "/api/documents",
        &app.token,
        form,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["doctor"].is_array());
    // No file at all, and no required keys.
    let (status, body) = app.post("/api/documents", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for key in ["date", "description", "doctor", "document", "patient"] {
        assert!(body[key].is_array(), "{key}: {body}");
    }
    assert_eq!(files_on_disk(&app), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM documents", vec![]), 0);
}

#[tokio::test]
async fn too_large_a_document_is_refused_clearly() {
    let mut settings = crate::helpers::test_settings();
    settings.max_upload_bytes = 1024;
    let app = TestApp::with_settings(settings).await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let big = Part::bytes(vec![b'a'; 4096]).file_name("big.txt");
    let (status, body) = multipart(
        &app,
        reqwest::Method::POST,
        "/api/documents",
        &app.token,
        document_form(&app, p, big),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["document"][0]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{body}"
    );
    assert_eq!(files_on_disk(&app), 0);
}

#[tokio::test]
async fn document_filters_return_exactly_the_right_documents() {
    let app = TestApp::new().await;
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let q = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
    let mut ids = Vec::new();
    for (doctor, patient) in [(app.a.doctor, p), (doctor2, p), (app.a.doctor, q)] {
        let (status, d) = app
            .post(
                "/api/documents",
                json!({"doctor": doctor, "patient": patient, "date": "2026-01-01",
                       "description": "Scan", "document": b64}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{d}");
        assert_eq!(d["metatags"], json!([]));
        ids.push(d["id"].clone());
    }
    let list = |q: String| {
        let app = &app;
        async move {
            let (status, body) = app.get(&format!("/api/documents?{q}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(format!("patient={p}")).await,
        vec![ids[0].clone(), ids[1].clone()]
    );
    assert_eq!(
        list(format!("doctor={doctor2}")).await,
        vec![ids[1].clone()]
    );
    assert_eq!(
        list(format!("doctor={}&patient={q}", app.a.doctor)).await,
        vec![ids[2].clone()]
    );
    let mark = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.patch(
        &format!("/api/documents/{}", ids[0]),
        json!({"description": "Rescan"}),
    )
    .await;
    assert_eq!(list(format!("since={mark}")).await, vec![ids[0].clone()]);
    for (q, key) in [
        ("doctor=x", "doctor"),
        ("patient=x", "patient"),
        ("since=x", "since"),
    ] {
        let (status, body) = app.get(&format!("/api/documents?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body[key].is_array(), "{body}");
    }
    let (_, list) = app.get_as(&app.b.token, "/api/documents").await;
    assert_eq!(list["results"], json!([]));
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/documents/{}", ids[0]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
