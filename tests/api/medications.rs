//! /api/medications and append_to_pharmacy_note.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn medications_keep_every_key_and_filter_by_patient() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let q = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, m) = app
        .post(
            "/api/medications",
            json!({"doctor": app.a.doctor, "patient": p, "name": "Amoxicillin",
                   "dispense_quantity": 2.5, "dosage_quantity": "500", "dosage_units": "mg",
                   "date_prescribed": "2026-01-05", "number_refills": 2, "prn": true,
                   "order_status": "Electronic eRx Sent", "rxnorm": "723"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["dispense_quantity"], "2.50");
    assert_eq!(m["status"], "active");
    assert_eq!(m["daw"], false);
    assert_eq!(m["appointment"], json!(null));
    assert_eq!(m["date_stopped_taking"], json!(null));
    let (_, n) = app
        .post(
            "/api/medications",
            json!({"doctor": app.a.doctor, "patient": q}),
        )
        .await;
    assert_eq!(n["order_status"], "");
    assert_eq!(n["dispense_quantity"], json!(null));

    let (_, list) = app.get(&format!("/api/medications?patient={p}")).await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], m["id"]);
    for (body, key) in [
        (json!({"order_status": "Sent"}), "order_status"),
        (json!({"status": "paused"}), "status"),
        (json!({"dispense_quantity": "lots"}), "dispense_quantity"),
        (
            json!({"date_started_taking": "05/01/2026"}),
            "date_started_taking",
        ),
        (json!({"appointment": 999_999}), "appointment"),
    ] {
        let (status, err) = app
            .patch(&format!("/api/medications/{}", m["id"]), body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err[key].is_array(), "{err}");
    }
    let (status, _) = app.delete(&format!("/api/medications/{}", m["id"])).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/medications/{}", m["id"]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get_as(&app.b.token, "/api/medications").await;
    assert_eq!(list["results"], json!([]));
}

#[tokio::test]
async fn append_to_pharmacy_note_adds_a_paragraph_and_answers_the_new_text() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (_, m) = app
        .post(
            "/api/medications",
            json!({"doctor": app.a.doctor, "patient": p}),
        )
        .await;
    let url = format!("/api/medications/{}/append_to_pharmacy_note", m["id"]);
    let (status, body) = app.patch(&url, json!({"text": "Take with food."})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"pharmacy_note": "Take with food."}));
    // Published wrappers PATCH form-encoded.
    let (status, body) = app
        .send_raw(
            Method::PATCH,
            &url,
            "application/x-www-form-urlencoded",
            "text=No+alcohol.",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pharmacy_note"], "Take with food.\n\nNo alcohol.");
    let (_, got) = app.get(&format!("/api/medications/{}", m["id"])).await;
    assert_eq!(got["pharmacy_note"], "Take with food.\n\nNo alcohol.");

    for body in [json!({}), json!({"text": "  "}), json!({"text": [5]})] {
        let (status, err) = app.patch(&url, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err["text"].is_array(), "{err}");
    }
    let (status, _) = app.post(&url, json!({"text": "x"})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .send(
            Method::PATCH,
            &url,
            Some(&app.b.token),
            Some(json!({"text": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .patch(
            "/api/medications/999999/append_to_pharmacy_note",
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
