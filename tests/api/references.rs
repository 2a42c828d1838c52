//! References, declared or nested in JSON, point only at what the caller may see: the
//! target resource's whole scope (practice group, sharing rule, the target's own scope hook),
//! with one message for "does not exist" and "not yours to see".

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

fn invalid_pk(id: i64) -> Value {
    json!([format!("Invalid pk \"{id}\" - object does not exist.")])
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

/// A second doctor of practice A with a full-scope token, and sharing turned off.
fn second_doctor_without_sharing(app: &TestApp) -> (String, i64) {
    let (user2, doctor2) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![Val::from(false), Val::from(app.a.id)],
    );
    (token2, doctor2)
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    app.send(Method::POST, path, Some(token), Some(body)).await
}

#[tokio::test]
async fn a_declared_reference_to_nothing_gets_the_one_message() {
    let app = TestApp::new().await;

    let (status, err) = app
        .post(
            "/api/problems",
            json!({"doctor": app.a.doctor, "patient": 987654}),
        )
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["patient"], invalid_pk(987654));
}

#[tokio::test]
async fn a_reference_into_another_practice_reads_as_nonexistent() {
    let app = TestApp::new().await;
    let theirs = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&app.b.token),
            Some(app.patient_body(json!({"doctor": app.b.doctor}))),
        )
        .await
        .1;

    let (status, err) = app
        .post(
            "/api/problems",
            json!({"doctor": app.a.doctor, "patient": id(&theirs)}),
        )
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["patient"], invalid_pk(id(&theirs)));
}

#[tokio::test]
async fn without_share_patients_a_declared_reference_to_another_doctors_patient_is_refused() {
    let app = TestApp::new().await;
    let mine = id(&app.create_patient(json!({})).await);
    let (token2, doctor2) = second_doctor_without_sharing(&app);

    let (status, err) = post_as(
        &app,
        &token2,
        "/api/problems",
        json!({"doctor": doctor2, "patient": mine}),
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["patient"], invalid_pk(mine));
}

#[tokio::test]
async fn without_share_patients_a_task_cannot_attach_another_doctors_patient() {
    let app = TestApp::new().await;
    let mine = id(&app.create_patient(json!({})).await);
    let (token2, _) = second_doctor_without_sharing(&app);
    let (_, status_obj) =
        post_as(&app, &token2, "/api/task_statuses", json!({"name": "Open"})).await;

    let (status, err) = post_as(
        &app,
        &token2,
        "/api/tasks",
        json!({"title": "Call back", "status": id(&status_obj),
               "associated_items": [{"type": "Patient", "value": mine}]}),
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        err["associated_items"],
        json!([format!(
            "Item 0: Invalid pk \"{mine}\" - object does not exist."
        )])
    );
}

#[tokio::test]
async fn every_checked_task_item_type_must_be_visible() {
    let app = TestApp::new().await;
    let (_, status_obj) = app
        .post("/api/task_statuses", json!({"name": "Open"}))
        .await;
    let theirs = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&app.b.token),
            Some(app.patient_body(json!({"doctor": app.b.doctor}))),
        )
        .await
        .1;
    for (ty, value) in [
        ("Patient", id(&theirs)),
        ("Appointment", 987654),
        ("Document", 987654),
        ("Lab order", 987654),
        ("Lab result", 987654),
        ("Lab document", 987654),
    ] {
        let (status, err) = app
            .post(
                "/api/tasks",
                json!({"title": "Follow up", "status": id(&status_obj),
                       "associated_items": [{"type": ty, "value": value}]}),
            )
            .await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{ty}: {err}");
        assert_eq!(
            err["associated_items"],
            json!([format!(
                "Item 0: Invalid pk \"{value}\" - object does not exist."
            )]),
            "{ty}"
        );
    }
}

#[tokio::test]
async fn a_reference_follows_the_targets_own_scope_hook() {
    // Lab tests are visible through their order (the lab_tests scope hook): without
    // share_patients another doctor cannot point a result at a test of our order.
    let app = TestApp::new().await;
    let patient = id(&app.create_patient(json!({})).await);
    let (_, sublab) = app
        .post(
            "/api/sublabs",
            json!({"name": "Quest", "facility_code": "QST"}),
        )
        .await;
    let (_, order) = app
        .post(
            "/api/lab_orders",
            json!({"sublab": id(&sublab), "doctor": app.a.doctor, "patient": patient}),
        )
        .await;
    let (status, test) = app
        .post(
            "/api/lab_tests",
            json!({"lab_order": id(&order), "code": "2823-3", "name": "Potassium"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{test}");
    let (token2, _) = second_doctor_without_sharing(&app);

    let (status, err) = post_as(
        &app,
        &token2,
        "/api/lab_results",
        json!({"lab_test": id(&test), "document": 987654, "value": "4.1", "status": "final",
               "specimen_received": "2024-05-01T10:00:00", "results_released": "2024-05-01T12:00:00",
               "test_performed": "2024-05-01T11:00:00"}),
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["lab_test"], invalid_pk(id(&test)));
}
