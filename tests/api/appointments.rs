//! /api/appointments and the scheduling resources around it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn an_appointment_is_created_and_listed_by_date_and_range() {
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
    assert_eq!(appt["deleted_flag"], false);
    assert!(appt.get("reminder_profile").is_none(), "write-only");
    let id = appt["id"].as_i64().unwrap();

    let (status, body) = app.get("/api/appointments").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["since"][0].as_str().unwrap().contains("date_range"),
        "{body}"
    );
    let (_, list) = app.get("/api/appointments?date=2026-03-02").await;
    assert_eq!(ids(&list), [id]);
    let (_, list) = app.get("/api/appointments?date=2026-03-03").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app
        .get("/api/appointments?date_range=2026-03-01/2026-03-02")
        .await;
    assert_eq!(ids(&list), [id]);
    let (_, list) = app
        .get("/api/appointments?date_range=2026-03-03/2026-03-09")
        .await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app
        .get(&format!(
            "/api/appointments?date=2026-03-02&office={office}&doctor={}",
            app.a.doctor
        ))
        .await;
    assert_eq!(ids(&list), [id]);
    let (_, list) = app
        .get(&format!(
            "/api/appointments?date=2026-03-02&patient={}",
            appt["patient"]
        ))
        .await;
    assert_eq!(ids(&list), [id]);
    let (_, list) = app
        .get("/api/appointments?date=2026-03-02&patient=999999")
        .await;
    assert_eq!(ids(&list), Vec::<i64>::new());

    // A range longer than 190 days is refused unless it is wholly in the past.
    let (status, body) = app
        .get("/api/appointments?date_range=2026-01-01/2027-12-31")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["date_range"].is_array(), "{body}");
    let (status, _) = app
        .get("/api/appointments?date_range=2020-01-01/2021-12-31")
        .await;
    assert_eq!(status, StatusCode::OK);
    for bad in [
        "date=2026-02-30",
        "date_range=2026-03-05/2026-03-01",
        "date_range=2026-03-01",
    ] {
        let (status, _) = app.get(&format!("/api/appointments?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn overlapping_appointments_are_refused_with_409_unless_allowed() {
    let app = TestApp::new().await;
    let office = app.office(2);
    let first = app
        .appointment_body(office, "2026-03-02T09:00:00", json!({"duration": 60}))
        .await;
    let (_, first) = app.post("/api/appointments", first).await;

    // 09:30 in the same room overlaps 09:00-10:00.
    let body = app
        .appointment_body(office, "2026-03-02T09:30:00", json!({}))
        .await;
    let (status, err) = app.post("/api/appointments", body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["conflicting_appointment"], first["id"]);
    // Touching intervals do not overlap; another room does not either.
    let (status, _) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T10:00:00", json!({}))
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T09:30:00", json!({"exam_room": 2}))
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // allow_overlapping books it anyway.
    let mut allowed = body.clone();
    allowed["allow_overlapping"] = json!(true);
    let (status, over) = app.post("/api/appointments", allowed).await;
    assert_eq!(status, StatusCode::CREATED);
    // ...and changing its notes later does not trip the rule.
    let (status, _) = app
        .patch(
            &format!("/api/appointments/{}", over["id"]),
            json!({"notes": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.delete(&format!("/api/appointments/{}", over["id"]))
        .await;
    // A cancelled appointment frees its slot.
    let (status, _) = app
        .patch(
            &format!("/api/appointments/{}", first["id"]),
            json!({"status": "Cancelled"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED);
    // Moving an appointment onto another is a 409 too, and changes nothing.
    let (status, late) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T15:00:00", json!({}))
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .patch(
            &format!("/api/appointments/{}", late["id"]),
            json!({"scheduled_time": "2026-03-02T10:15:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, again) = app.get(&format!("/api/appointments/{}", late["id"])).await;
    assert_eq!(again["scheduled_time"], "2026-03-02T15:00:00");
}

#[tokio::test]
async fn simultaneous_bookings_of_one_slot_give_exactly_one_201() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let mut bodies = Vec::new();
    for _ in 0..8 {
        bodies.push(
            app.appointment_body(office, "2026-04-06T11:00:00", json!({}))
                .await,
        );
    }
    let requests = bodies.into_iter().map(|b| {
        let req = app
            .client
            .post(app.url("/api/appointments"))
            .bearer_auth(&app.token)
            .json(&b);
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 7), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments", vec![]), 1);
}

#[tokio::test]
async fn profiles_give_defaults_that_explicit_values_override() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (status, profile) = app
        .post(
            "/api/appointment_profiles",
            json!({"doctor": app.a.doctor, "name": "Physical", "color": "#123456",
            "duration": 45, "reason": "Annual physical", "online_scheduling": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    let mut body = app
        .appointment_body(
            office,
            "2026-03-02T09:00:00",
            json!({"profile": profile["id"]}),
        )
        .await;
    body.as_object_mut().unwrap().remove("duration");
    let (status, appt) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    assert_eq!(appt["duration"], 45);
    assert_eq!(appt["color"], "#123456");
    assert_eq!(appt["reason"], "Annual physical");

    let body = app
        .appointment_body(
            office,
            "2026-03-02T13:00:00",
            json!({"profile": profile["id"], "duration": 15, "reason": "Quick"}),
        )
        .await;
    let (_, appt) = app.post("/api/appointments", body).await;
    assert_eq!(appt["duration"], 15);
    assert_eq!(appt["reason"], "Quick");
    assert_eq!(appt["color"], "#123456");

    let mut body = app
        .appointment_body(office, "2026-03-02T16:00:00", json!({}))
        .await;
    body.as_object_mut().unwrap().remove("duration");
    let (status, err) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["duration"].is_array(), "{err}");
    let (status, err) = app
        .post("/api/appointment_profiles", json!({"doctor": app.a.doctor, "name": "X", "color": "blue", "duration": 0, "reason": "", "online_scheduling": false}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["color"].is_array() && err["duration"].is_array(),
        "{err}"
    );
}

#[tokio::test]
async fn breaks_have_no_patient() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (status, brk) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": null, "office": office, "exam_room": 1,
            "scheduled_time": "2026-03-02T12:00:00", "duration": 60, "reason": "Lunch"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{brk}");
    assert_eq!(brk["appt_is_break"], true);
    assert_eq!(brk["patient"], Value::Null);
    // A break blocks its slot like any appointment.
    let (status, _) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T12:30:00", json!({}))
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn status_changes_are_recorded_as_transitions() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, appt) = app
        .post(
            "/api/appointments",
            app.appointment_body(
                office,
                "2026-03-02T09:00:00",
                json!({"status": "Confirmed"}),
            )
            .await,
        )
        .await;
    let url = format!("/api/appointments/{}", appt["id"]);
    assert!(
        appt.get("status_transitions").is_some(),
        "POST answers the verbose object"
    );
    let (_, plain) = app.get(&url).await;
    assert!(plain.get("status_transitions").is_none(), "verbose-only");
    app.patch(&url, json!({"status": "Arrived"})).await;
    app.patch(&url, json!({"notes": "no status change"})).await;
    app.patch(&url, json!({"status": "In Room"})).await;
    let (_, full) = app.get(&format!("{url}?verbose=true")).await;
    let t: Vec<(String, String)> = full["status_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["from_status"].as_str().unwrap().into(),
                x["to_status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        t,
        [
            ("".into(), "Confirmed".into()),
            ("Confirmed".into(), "Arrived".into()),
            ("Arrived".into(), "In Room".into())
        ]
    );
    assert_eq!(
        full["status_transitions"][0]["datetime"]
            .as_str()
            .unwrap()
            .len(),
        19
    );
    let (status, err) = app.patch(&url, json!({"status": "Teleported"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["status"].is_array());
    let (_, list) = app
        .get("/api/appointments?date=2026-03-02&status=In%20Room")
        .await;
    assert_eq!(ids(&list), [appt["id"].as_i64().unwrap()]);
    let (_, list) = app
        .get("/api/appointments?date=2026-03-02&status=Arrived")
        .await;
    assert_eq!(ids(&list), Vec::<i64>::new());
}

#[tokio::test]
async fn a_reminder_profile_applies_its_reminders_once() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let reminders = json!([{"type": "sms", "scheduled_time_delta": {"days": 1}}]);
    let (status, profile) = app
        .post(
            "/api/reminder_profiles",
            json!({"doctor": app.a.doctor, "name": "Day before", "reminders": reminders}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    assert_eq!(
        profile["reminders"],
        json!([{"type": "sms", "scheduled_time_delta": {"days": 1, "hours": 0, "minutes": 0}}])
    );
    let (_, appt) = app
        .post(
            "/api/appointments",
            app.appointment_body(
                office,
                "2026-03-02T09:00:00",
                json!({"reminder_profile": profile["id"]}),
            )
            .await,
        )
        .await;
    assert_eq!(appt["reminders"], profile["reminders"]);
    let (status, err) = app
        .patch(
            &format!("/api/appointments/{}", appt["id"]),
            json!({"reminder_profile": profile["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["reminder_profile"].is_array());
    let (status, err) = app
        .post(
            "/api/reminder_profiles",
            json!({"doctor": app.a.doctor, "name": "Bad", "reminders": [{"type": "pigeon"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["reminders"].is_array());
}

#[tokio::test]
async fn delete_sets_deleted_flag_and_since_still_reports_it() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, appt) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T09:00:00", json!({}))
                .await,
        )
        .await;
    let url = format!("/api/appointments/{}", appt["id"]);
    let (status, _) = app.delete(&url).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&url).await;
    assert_eq!(got["deleted_flag"], true);
    assert_eq!(got["archived"], true);
    let (_, list) = app.get("/api/appointments?date=2026-03-02").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app.get("/api/appointments?since=2000-01-01").await;
    assert_eq!(
        ids(&list),
        [appt["id"].as_i64().unwrap()],
        "a poller sees the deletion"
    );
    // The freed slot can be booked again.
    let (status, _) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T09:00:00", json!({}))
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn custom_fields_vitals_and_exam_rooms_are_checked() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, field) = app
        .post(
            "/api/custom_appointment_fields",
            json!({"doctor": app.a.doctor, "field_name": "Referral"}),
        )
        .await;
    assert_eq!(field["order"], 1);
    let (_, field2) = app
        .post(
            "/api/custom_appointment_fields",
            json!({"doctor": app.a.doctor, "field_name": "Copay"}),
        )
        .await;
    assert_eq!(field2["order"], 2);
    let (status, vital) = app
        .post("/api/custom_vitals", json!({"doctor": app.a.doctor, "name": "Mood", "data_type": "single_sel", "allowed_values": ["good", "bad"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{vital}");

    let good = json!({
        "custom_fields": [{"field_type": field["id"], "field_value": "Dr. Who"}],
        "vitals": {"height": 170, "weight": "70.5", "weight_units": "kg"},
        "custom_vitals": [{"vital_type": vital["id"], "value": "good"}],
    });
    let (status, appt) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T09:00:00", good)
                .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    assert_eq!(
        appt["custom_fields"],
        json!([{"field_type": field["id"], "field_value": "Dr. Who"}])
    );
    assert_eq!(appt["vitals"]["height"], 170);
    assert_eq!(appt["custom_vitals"][0]["value"], "good");

    for (extra, key) in [
        (
            json!({"custom_fields": [{"field_type": 999999, "field_value": "x"}]}),
            "custom_fields",
        ),
        (json!({"vitals": {"height": "tall"}}), "vitals"),
        (json!({"vitals": {"mana": 3}}), "vitals"),
        (
            json!({"custom_vitals": [{"vital_type": vital["id"], "value": "meh"}]}),
            "custom_vitals",
        ),
        (json!({"exam_room": 7}), "exam_room"),
        (json!({"duration": 0}), "duration"),
        (json!({"scheduled_time": "next tuesday"}), "scheduled_time"),
        (json!({"office": 424242}), "office"),
    ] {
        let (status, err) = app
            .post(
                "/api/appointments",
                app.appointment_body(office, "2026-03-03T09:00:00", extra.clone())
                    .await,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {err}");
        assert!(err.get(key).is_some(), "{extra} names {key}: {err}");
    }
}

#[tokio::test]
async fn external_ids_are_unique_in_a_practice_and_filterable() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (status, a) = app
        .post(
            "/api/appointments",
            app.appointment_body(
                office,
                "2026-03-02T09:00:00",
                json!({"external_id": "EXT-1"}),
            )
            .await,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = app
        .post(
            "/api/appointments",
            app.appointment_body(
                office,
                "2026-03-02T11:00:00",
                json!({"external_id": "EXT-1"}),
            )
            .await,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["id"], a["id"], "names the existing id: {err}");
    let (_, list) = app
        .get("/api/appointments?since=2000-01-01&external_id=EXT-1")
        .await;
    assert_eq!(ids(&list), [a["id"].as_i64().unwrap()]);
}

#[tokio::test]
async fn appointments_copy_the_patients_insurers_and_record_the_office() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let patient = app
        .create_patient(json!({"primary_insurance": {"insurance_company": "Acme Health", "insurance_payer_id": "12345", "insurance_id_number": "XYZ9"}}))
        .await;
    let body = json!({"doctor": app.a.doctor, "patient": patient["id"], "office": office, "exam_room": 1,
        "scheduled_time": "2026-03-02T09:00:00", "duration": 30});
    let (_, appt) = app.post("/api/appointments", body).await;
    assert_eq!(appt["primary_insurer_name"], "Acme Health");
    assert_eq!(appt["primary_insurer_payer_id"], "12345");
    assert_eq!(appt["primary_insurance_id_number"], "XYZ9");
    assert_eq!(appt["secondary_insurer_name"], "");
    let (_, p) = app.get(&format!("/api/patients/{}", patient["id"])).await;
    assert_eq!(p["offices"], json!([office]));
}

#[tokio::test]
async fn another_practice_cannot_see_or_book_with_our_records() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, appt) = app
        .post(
            "/api/appointments",
            app.appointment_body(office, "2026-03-02T09:00:00", json!({}))
                .await,
        )
        .await;
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/appointments/{}", appt["id"]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app
        .get_as(&app.b.token, "/api/appointments?date=2026-03-02")
        .await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let body = json!({"doctor": app.b.doctor, "patient": appt["patient"], "office": office, "exam_room": 1,
        "scheduled_time": "2026-03-02T10:00:00", "duration": 30});
    let (status, err) = app
        .send(
            Method::POST,
            "/api/appointments",
            Some(&app.b.token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["patient"].is_array() && err["office"].is_array(),
        "{err}"
    );
}
