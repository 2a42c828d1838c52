//! Nested objects with declared keys (`Field::keys`): unknown keys, kinds, required keys and
//! defaults are checked by the framework, the object is stored in canonical form, and the
//! OpenAPI document lists the keys.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn message(body: &Value, key: &str) -> String {
    body[key][0].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_unknown_or_mistyped_nested_key_is_a_400_naming_the_field_and_the_key() {
    let app = TestApp::new().await;
    let body = app.patient_body(json!({"primary_insurance": {"insurance_compnay": "Aetna"}}));
    let (status, answer) = app.post("/api/patients", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let msg = message(&answer, "primary_insurance");
    assert!(msg.contains("\"insurance_compnay\""), "{msg}");
    assert!(
        msg.contains("insurance_company"),
        "lists the known keys: {msg}"
    );

    let body = app.patient_body(
        json!({"primary_insurance": {"insurance_company": "Aetna", "is_subscriber_the_patient": "maybe"}}),
    );
    let (status, answer) = app.post("/api/patients", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        message(&answer, "primary_insurance").starts_with("is_subscriber_the_patient:"),
        "{answer}"
    );
    let before = app.count("SELECT COUNT(*) FROM patients", vec![]);

    // Valid: numbers become text, the object reads back as written.
    let patient = app
        .create_patient(json!({"primary_insurance": {"insurance_company": "Aetna", "insurance_id_number": 12345, "subscriber_date_of_birth": "1970-01-02"}}))
        .await;
    let (_, read) = app
        .get(&format!("/api/patients/{}?verbose=true", patient["id"]))
        .await;
    assert_eq!(
        read["primary_insurance"],
        json!({"insurance_company": "Aetna", "insurance_id_number": "12345", "subscriber_date_of_birth": "1970-01-02"})
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients", vec![]),
        before + 1
    );
}

#[tokio::test]
async fn required_keys_ranges_and_defaults_of_a_list_of_objects() {
    let app = TestApp::new().await;
    let profile = |reminders: Value| json!({"doctor": app.a.doctor, "name": "Default", "reminders": reminders});

    let (status, answer) = app
        .post(
            "/api/reminder_profiles",
            profile(json!([{"scheduled_time_delta": {"days": 1}}])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        message(&answer, "reminders"),
        "Item 0: type: This field is required."
    );

    let (status, answer) = app
        .post(
            "/api/reminder_profiles",
            profile(json!([{"type": "sms", "scheduled_time_delta": {"days": -1}}])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        message(&answer, "reminders").starts_with("Item 0: scheduled_time_delta: days:"),
        "{answer}"
    );

    // The resource's own rule still runs after the framework's checks.
    let (status, answer) = app
        .post(
            "/api/reminder_profiles",
            profile(json!([{"type": "sms", "scheduled_time_delta": {}}])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(message(&answer, "reminders").contains("before the appointment"));

    let (status, created) = app
        .post(
            "/api/reminder_profiles",
            profile(json!([{"type": "email", "scheduled_time_delta": {"hours": 2}}])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["reminders"],
        json!([{"type": "email", "scheduled_time_delta": {"days": 0, "hours": 2, "minutes": 0}}])
    );
}

#[tokio::test]
async fn an_offices_timeslots_are_checked_and_stored_in_canonical_form() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let path = format!("/api/offices/{office}");
    let (status, answer) = app
        .patch(
            &path,
            json!({"online_timeslots": [{"weekday": 7, "start_time": "09:00", "end_time": "12:00"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(message(&answer, "online_timeslots").starts_with("Item 0: weekday:"));
    let (status, answer) = app
        .patch(
            &path,
            json!({"online_timeslots": [{"weekday": 1, "start_time": "13:00", "end_time": "12:00"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = app
        .patch(
            &path,
            json!({"online_timeslots": [{"weekday": 1, "start_time": "09:00", "end_time": "12:30"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, read) = app.get(&format!("{path}?verbose=true")).await;
    assert_eq!(
        read["online_timeslots"],
        json!([{"weekday": 1, "start_time": "09:00:00", "end_time": "12:30:00"}])
    );
}

#[tokio::test]
async fn the_document_lists_the_keys_of_nested_objects() {
    let app = TestApp::new().await;
    let (_, doc) = app.get("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let insurance = &schemas["Patient"]["properties"]["primary_insurance"];
    assert_eq!(
        insurance["additionalProperties"],
        json!(false),
        "{insurance}"
    );
    assert_eq!(
        insurance["properties"]["is_subscriber_the_patient"]["type"],
        "boolean"
    );
    let reminder = &schemas["ReminderProfile"]["properties"]["reminders"]["items"];
    assert_eq!(
        reminder["required"],
        json!(["type", "scheduled_time_delta"])
    );
    assert_eq!(
        reminder["properties"]["scheduled_time_delta"]["properties"]["days"]["minimum"],
        0
    );
}
