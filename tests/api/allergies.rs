//! /api/allergies.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn allergies_default_to_active_and_describe_themselves_only_with_verbose() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let q = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, a) = app
        .post(
            "/api/allergies",
            json!({"doctor": app.a.doctor, "patient": p, "description": "Cat hair",
                   "reaction": "Hives", "snomed_reaction": "247472004"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "active");
    assert_eq!(a["description"], "Cat hair", "a write answers verbose");
    let id = a["id"].as_i64().unwrap();
    let (_, other) = app
        .post(
            "/api/allergies",
            json!({"doctor": app.a.doctor, "patient": q, "rxnorm": "7980", "status": "inactive"}),
        )
        .await;

    let (_, got) = app.get(&format!("/api/allergies/{id}")).await;
    assert!(got.get("description").is_none(), "verbose-only: {got}");
    assert_eq!(got["reaction"], "Hives");
    let (_, got) = app.get(&format!("/api/allergies/{id}?verbose=true")).await;
    assert_eq!(got["description"], "Cat hair");
    for key in [
        "doctor",
        "id",
        "patient",
        "notes",
        "reaction",
        "rxnorm",
        "snomed_reaction",
        "status",
    ] {
        assert!(got.get(key).is_some(), "{key}");
    }

    let (_, list) = app.get(&format!("/api/allergies?patient={q}")).await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], other["id"]);
    let (status, body) = app.get("/api/allergies?patient=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["patient"].is_array());

    let (status, body) = app
        .patch(&format!("/api/allergies/{id}"), json!({"status": "gone"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["status"].is_array());
    let (status, _) = app
        .patch(
            &format!("/api/allergies/{id}"),
            json!({"status": "inactive"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.post("/api/allergies", json!({"patient": p})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["doctor"].is_array());
    let (status, _) = app.delete(&format!("/api/allergies/{id}")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/allergies/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get_as(&app.b.token, "/api/allergies").await;
    assert_eq!(list["results"], json!([]));
    let (status, body) = app
        .send(
            reqwest::Method::POST,
            "/api/allergies",
            Some(&app.b.token),
            Some(json!({"doctor": app.b.doctor, "patient": p})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "our patient is not theirs");
    assert!(body["patient"].is_array());
}
