//! Appointment templates (available, strict, week_day, open_slots) and the slot search.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

/// An office (2 rooms, open 08:00-17:00), a 30-minute profile and a Monday-Friday template
/// 09:00-11:00 in room 1. Answers (office, template id).
async fn schedule(app: &TestApp, week_days: Value) -> (i64, i64) {
    let office = app.office(2);
    app.sql(
        "UPDATE offices SET start_time = '08:00:00', end_time = '17:00:00' WHERE id = ?",
        vec![Val::from(office)],
    );
    let (_, profile) = app
        .post(
            "/api/appointment_profiles",
            json!({"doctor": app.a.doctor, "name": "Visit", "color": "#00AA00",
            "duration": 30, "reason": "Visit", "online_scheduling": true}),
        )
        .await;
    let (status, template) = app
        .post(
            "/api/appointment_templates",
            json!({"office": office, "exam_room": 1, "profile": profile["id"],
            "scheduled_time": "09:00", "duration": 120, "week_days": week_days}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    assert_eq!(template["doctor"], app.a.doctor);
    assert_eq!(template["scheduled_time"], "09:00:00");
    (office, template["id"].as_i64().unwrap())
}

async fn book(app: &TestApp, office: i64, room: i64, at: &str, minutes: i64) {
    let body = app
        .appointment_body(office, at, json!({"exam_room": room, "duration": minutes}))
        .await;
    let (status, err) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{err}");
}

fn starts(body: &Value) -> Vec<String> {
    body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduled_time"].as_str().unwrap()[11..16].to_string())
        .collect()
}

#[tokio::test]
async fn open_slots_come_from_templates_minus_bookings() {
    let app = TestApp::new().await;
    let (office, _) = schedule(&app, json!([0, 1, 2, 3, 4])).await;
    book(&app, office, 1, "2026-03-02T09:30:00", 30).await; // Monday
    book(&app, office, 2, "2026-03-02T10:00:00", 30).await;
    let d = app.a.doctor;

    let (status, body) = app
        .get(&format!(
            "/api/doctors/{d}/open_slots?date=2026-03-02&duration=30"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(starts(&body), ["09:00", "10:00", "10:30"]);
    assert_eq!(body["count"], 3);
    assert_eq!(body["slots"][0]["exam_room"], 1);
    assert_eq!(body["slots"][0]["office"], office);
    let (_, body) = app
        .get(&format!(
            "/api/doctors/{d}/open_slots?date=2026-03-02&duration=60"
        ))
        .await;
    assert_eq!(starts(&body), ["10:00"]);
    // strict: the booking in room 2 also takes the doctor's 10:00.
    let (_, body) = app
        .get(&format!(
            "/api/doctors/{d}/open_slots?date=2026-03-02&duration=30&strict"
        ))
        .await;
    assert_eq!(starts(&body), ["09:00", "10:30"]);
    // Saturday has no template.
    let (_, body) = app
        .get(&format!(
            "/api/doctors/{d}/open_slots?date=2026-03-07&duration=30"
        ))
        .await;
    assert_eq!(starts(&body), Vec::<String>::new());

    for (query, want) in [
        ("scheduled_time=2026-03-02T09:30:00&duration=30", false),
        ("scheduled_time=2026-03-02T10:15:00&duration=30", true),
        ("scheduled_time=2026-03-02T10:45:00&duration=30", false),
        (
            "scheduled_time=2026-03-02T10:15:00&duration=30&exam_room=2",
            false,
        ),
        (
            "scheduled_time=2026-03-02T10:30:00&duration=30&strict=1",
            true,
        ),
        (
            "scheduled_time=2026-03-02T10:00:00&duration=30&strict=1",
            false,
        ),
    ] {
        let (status, body) = app
            .get(&format!("/api/doctors/{d}/check_slot?{query}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["available"], want, "{query}: {body}");
    }
    for (query, param) in [
        ("date=2026-03-02", "duration"),
        ("duration=30", "date"),
        ("date=someday&duration=30", "date"),
    ] {
        let (status, body) = app
            .get(&format!("/api/doctors/{d}/open_slots?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.get(param).is_some(), "{query}: {body}");
    }
    let (status, _) = app
        .get_as(
            &app.b.token,
            &format!("/api/doctors/{d}/open_slots?date=2026-03-02&duration=30"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_next_open_slot_is_found_from_now() {
    let app = TestApp::new().await;
    schedule(&app, json!([0, 1, 2, 3, 4, 5, 6])).await;
    let d = app.a.doctor;
    let (status, body) = app
        .get(&format!(
            "/api/doctors/{d}/next_open_slot?duration=30&max_days=7"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let at = body["slot"]["scheduled_time"]
        .as_str()
        .expect("a slot within a week");
    let now = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    assert!(at >= now.as_str(), "{at} is not before now");
    assert!(("09:00".."11:00").contains(&&at[11..16]), "{at}");
    let (status, body) = app
        .get(&format!("/api/doctors/{d}/next_open_slot?duration=600"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["slot"],
        Value::Null,
        "no 10-hour opening in a 2-hour block"
    );
    let (status, _) = app
        .get(&format!(
            "/api/doctors/{d}/next_open_slot?duration=30&max_days=9999"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn templates_filter_by_availability_and_week_day() {
    let app = TestApp::new().await;
    let (office, template) = schedule(&app, json!([4, 0, 2, 0])).await;
    let (_, t) = app
        .get(&format!("/api/appointment_templates/{template}"))
        .await;
    assert_eq!(t["week_days"], json!([0, 2, 4]), "sorted, without repeats");

    let ids = |b: &Value| {
        b["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let (_, body) = app
        .get(&format!(
            "/api/appointment_templates?available=2026-03-02&office={office}&verbose=true"
        ))
        .await;
    assert_eq!(ids(&body), [template]);
    assert_eq!(
        body["results"][0]["open_slots"],
        json!([{"start": "2026-03-02T09:00:00", "end": "2026-03-02T11:00:00"}])
    );
    let (_, body) = app
        .get(&format!(
            "/api/appointment_templates?available=2026-03-03&office={office}"
        ))
        .await;
    assert_eq!(
        ids(&body),
        Vec::<i64>::new(),
        "Tuesday is not a template day"
    );

    // Fully booked: not available.
    book(&app, office, 1, "2026-03-02T09:00:00", 120).await;
    let (_, body) = app
        .get(&format!(
            "/api/appointment_templates?available=2026-03-02&office={office}"
        ))
        .await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    // Not strict: room 2 bookings do not matter; strict: they do.
    let (_, body) = app
        .get(&format!(
            "/api/appointment_templates?available=2026-03-04&office={office}&verbose=true"
        ))
        .await;
    assert_eq!(ids(&body), [template]);

    let (status, err) = app
        .get("/api/appointment_templates?available=2026-03-02")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["office"].is_array());
    let (_, body) = app.get("/api/appointment_templates?week_day=5").await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    let (_, body) = app.get("/api/appointment_templates?week_day=1,2").await;
    assert_eq!(ids(&body), [template]);
    let (status, _) = app.get("/api/appointment_templates?week_day=9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for (body, key) in [
        (json!({"week_days": [7]}), "week_days"),
        (json!({"week_days": []}), "week_days"),
        (json!({"exam_room": 5}), "exam_room"),
        (json!({"scheduled_time": "25:00"}), "scheduled_time"),
    ] {
        let (status, err) = app
            .patch(
                &format!("/api/appointment_templates/{template}"),
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(err.get(key).is_some(), "{body}: {err}");
    }
}
