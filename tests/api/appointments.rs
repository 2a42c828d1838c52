//! /api/appointments.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_appointment_is_created_and_listed_by_date() {
    let app = TestApp::new().await;
    let office = app.office(2);
    let body = app
        .appointment_body(office, "2026-03-02T09:00:00", json!({"reason": "Checkup"}))
        .await;
    let (status, appt) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    assert_eq!(appt["scheduled_time"], "2026-03-02T09:00:00");
    assert_eq!(appt["duration"], 30);
    assert_eq!(appt["appt_is_break"], false);
    assert!(appt.get("reminder_profile").is_none(), "write-only");

    let (status, body) = app.get("/api/appointments").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, list) = app.get("/api/appointments?date=2026-03-02").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    let (_, list) = app.get("/api/appointments?date=2026-03-03").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);
    let (_, list) = app
        .get("/api/appointments?date_range=2026-03-01/2026-03-02")
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
}
