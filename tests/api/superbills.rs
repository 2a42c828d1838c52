//! POST /api/superbills (one call: patient, appointment, line items, all or none) and the
//! superbill status transitions.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::billing::{ids, line_item_body};
use crate::helpers::TestApp;
use chartd::db::Val;

fn superbill_body(app: &TestApp, office: i64, extra: Value) -> Value {
    let mut body = json!({
        "patient_external_id": "EXT-1",
        "patient_demographics": {"first_name": "Ann", "last_name": "Lee", "gender": "Female",
                                 "date_of_birth": "1980-05-01"},
        "doctor": app.a.doctor,
        "office": office,
        "date_of_service": "2026-06-15",
        "icd10_codes": ["J06.9", "z00.00"],
        "procedures": [
            {"code": "99213", "price": "120.00", "diagnosis_pointers": [1, 2]},
            {"code": "87880-QW", "price": 25.5, "quantity": "2", "diagnosis_pointers": ["J06.9"]},
        ],
    });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    body
}

/// How many rows each table the superbill writes holds.
fn counts(app: &TestApp) -> Vec<i64> {
    ["patients", "appointments", "line_items", "superbills"]
        .iter()
        .map(|t| app.count(&format!("SELECT COUNT(*) FROM {t}"), vec![]))
        .collect()
}

#[tokio::test]
async fn one_call_creates_the_patient_the_appointment_and_its_line_items() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(2);

    // Act
    let (status, body) = app
        .post("/api/superbills", superbill_body(&app, office, json!({})))
        .await;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (sb, appt, items) = (
        &body["superbill"],
        &body["appointment"],
        &body["line_items"],
    );
    assert_eq!(sb["status"], "Draft");
    assert_eq!(sb["icd10_codes"], json!(["J06.9", "Z00.00"]));
    assert_eq!(sb["date_of_service"], "2026-06-15");
    assert_eq!(sb["billed"], "171.00");
    assert_eq!(sb["appointment"], appt["id"]);
    assert_eq!(
        appt["scheduled_time"], "2026-06-15T00:00:00",
        "the office opens at 00:00"
    );
    assert_eq!(appt["duration"], 15);
    assert_eq!(appt["exam_room"], 1);
    assert_eq!(appt["icd10_codes"], "J06.9,Z00.00");
    assert_eq!(appt["patient"], sb["patient"]);
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["code"], "99213");
    assert_eq!(items[0]["procedure_type"], "CPT(C)");
    assert_eq!(items[0]["diagnosis_pointers"], json!([1, 2]));
    assert_eq!(items[1]["code"], "87880");
    assert_eq!(items[1]["modifiers"], json!(["QW"]));
    assert_eq!(items[1]["billed"], "51.00");
    assert_eq!(items[1]["diagnosis_pointers"], json!([1]));
    assert_eq!(items[1]["service_date"], "2026-06-15");
    let patient = sb["patient"].as_i64().unwrap();
    let (_, p) = app.get(&format!("/api/patients/{patient}")).await;
    assert_eq!(p["first_name"], "Ann");
    assert_eq!(p["doctor"], app.a.doctor);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM patients WHERE id = ? AND external_id = ?",
            vec![Val::from(patient), Val::from("EXT-1")]
        ),
        1
    );
    let (_, got) = app.get(&format!("/api/superbills/{}", sb["id"])).await;
    assert_eq!(&got, sb);
    let (_, list) = app
        .get(&format!("/api/line_items?appointment={}", appt["id"]))
        .await;
    assert_eq!(ids(&list).len(), 2);
    let (_, procs) = app
        .get(&format!("/api/procedures?appointment={}", appt["id"]))
        .await;
    assert_eq!(procs["results"][0]["status"], "Draft");

    // The same external id again: the same patient, nothing new but the encounter.
    let (status, again) = app
        .post(
            "/api/superbills",
            superbill_body(
                &app,
                office,
                json!({"date_of_service": "2026-06-16",
            "status": "Submitted", "patient_demographics": {}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["superbill"]["patient"], patient);
    assert_eq!(again["superbill"]["status"], "Submitted");
    assert_eq!(counts(&app), [1, 2, 4, 2]);

    // By chartd id, with a time and room of its own.
    let (status, by_id) = app
        .post(
            "/api/superbills",
            superbill_body(
                &app,
                office,
                json!({"patient": patient,
            "patient_external_id": null, "scheduled_time": "2026-06-17T14:30:00",
            "date_of_service": "2026-06-17", "exam_room": 2, "duration": 40}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{by_id}");
    assert_eq!(
        by_id["appointment"]["scheduled_time"],
        "2026-06-17T14:30:00"
    );
    assert_eq!(by_id["appointment"]["exam_room"], 2);
    assert_eq!(by_id["appointment"]["duration"], 40);

    // Filters.
    let first = sb["id"].as_i64().unwrap();
    let second = again["superbill"]["id"].as_i64().unwrap();
    let third = by_id["superbill"]["id"].as_i64().unwrap();
    for (query, want) in [
        ("status=Draft".to_string(), vec![first, third]),
        ("status=Submitted".to_string(), vec![second]),
        ("date=2026-06-16".to_string(), vec![second]),
        (
            "date_range=2026-06-16/2026-06-17".to_string(),
            vec![second, third],
        ),
        (format!("patient={patient}"), vec![first, second, third]),
        (format!("appointment={}", appt["id"]), vec![first]),
        (
            format!("doctor={}", app.a.doctor),
            vec![first, second, third],
        ),
        (format!("office={office}"), vec![first, second, third]),
        ("since=2999-01-01".to_string(), vec![]),
    ] {
        let (status, list) = app.get(&format!("/api/superbills?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(ids(&list), want, "{query}");
    }
}

#[tokio::test]
async fn a_bad_code_is_refused_naming_its_line_and_nothing_is_created() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let before = counts(&app);
    let bad_line = json!({"procedures": [
        {"code": "99213", "price": "1"},
        {"code": "9921", "price": "1"},
        {"code": "99214", "price": "1", "diagnosis_pointers": [3]},
    ]});
    let cases = [
        (
            bad_line,
            vec!["procedures[1].code", "procedures[2].diagnosis_pointers"],
        ),
        (
            json!({"icd10_codes": ["J06.9", "123"]}),
            vec!["icd10_codes"],
        ),
        (json!({"icd10_codes": []}), vec!["icd10_codes"]),
        (json!({"procedures": []}), vec!["procedures"]),
        (
            json!({"procedures": [{"code": "99213", "price": "1", "procedure_type": "Z"}]}),
            vec!["procedures[0].procedure_type"],
        ),
        (
            json!({"procedures": [{"code": "99213", "price": "1", "diagnosis_pointers": ["A00"]}]}),
            vec!["procedures[0].diagnosis_pointers"],
        ),
        (json!({"patient_external_id": null}), vec!["patient"]),
        (json!({"patient": 1}), vec!["patient"]),
        (json!({"status": "Approved"}), vec!["status"]),
        (json!({"date_of_service": "June"}), vec!["date_of_service"]),
        (json!({"doctor": null}), vec!["doctor"]),
    ];
    for (extra, keys) in cases {
        // Act
        let (status, err) = app
            .post(
                "/api/superbills",
                superbill_body(&app, office, extra.clone()),
            )
            .await;
        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {err}");
        for key in keys {
            assert!(err.get(key).is_some(), "{extra}: {key} in {err}");
        }
        assert_eq!(counts(&app), before, "{extra}: nothing created");
    }
}

#[tokio::test]
async fn a_superbill_failing_half_way_leaves_nothing_behind() {
    // Arrange: errors only found while writing, after the patient and appointment exist.
    let app = TestApp::new().await;
    let office = app.office(1);
    let before = counts(&app);
    let cases = [
        (
            json!({"procedures": [{"code": "99213", "price": "1"}, {"code": "99214", "price": "-5"}]}),
            "procedures[1].price",
        ),
        (
            json!({"procedures": [{"code": "99213", "price": "1"}, {"code": "99214"}]}),
            "procedures[1].price",
        ),
        (
            json!({"procedures": [{"code": "99213", "price": "1", "modifiers": ["X"]}]}),
            "procedures[0].modifiers",
        ),
        (json!({"duration": 0}), "duration"),
        (json!({"exam_room": 7}), "exam_room"),
        (json!({"office": 999_999}), "office"),
        (
            json!({"scheduled_time": "2026-06-14T10:00:00"}),
            "scheduled_time",
        ),
        (
            json!({"patient_demographics": {"first_name": "No gender"}}),
            "patient_demographics.gender",
        ),
        (json!({"patient_demographics": {}}), "patient_demographics"),
    ];
    for (extra, key) in cases {
        // Act
        let (status, err) = app
            .post(
                "/api/superbills",
                superbill_body(&app, office, extra.clone()),
            )
            .await;
        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {err}");
        assert!(err.get(key).is_some(), "{extra}: {key} in {err}");
        assert_eq!(counts(&app), before, "{extra}: nothing left behind");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'create'",
            vec![]
        ),
        0
    );
}

#[tokio::test]
async fn a_line_without_price_takes_the_fee_schedule_price() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (status, fee) = app
        .post(
            "/api/fee_schedules",
            json!({"doctor": app.a.doctor, "code": "99213",
            "code_type": "CPT", "base_price": "95.10", "allowed_amount": "70.00",
            "billing_description": "Office visit, established, low"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{fee}");

    // Act
    let (status, body) = app
        .post(
            "/api/superbills",
            superbill_body(
                &app,
                office,
                json!({"procedures": [
            {"code": "99213", "quantity": 2, "diagnosis_pointers": [1]}]}),
            ),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let item = &body["line_items"][0];
    assert_eq!(item["price"], "95.10");
    assert_eq!(item["billed"], "190.20");
    assert_eq!(item["description"], "Office visit, established, low");
    assert_eq!(item["expected_reimbursement"], "140.00");
}

#[tokio::test]
async fn status_moves_only_along_the_sensible_transitions() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, body) = app
        .post("/api/superbills", superbill_body(&app, office, json!({})))
        .await;
    let id = body["superbill"]["id"].as_i64().unwrap();
    let appt = body["appointment"]["id"].as_i64().unwrap();
    let path = format!("/api/superbills/{id}");

    // Act / Assert: a Draft takes line items; not approved before it is submitted.
    let (status, _) = app
        .post("/api/line_items", line_item_body(&app, appt, json!({})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = app.patch(&path, json!({"status": "Approved"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["status"][0].as_str().unwrap().contains("Draft"),
        "{err}"
    );
    let (status, _) = app.patch(&path, json!({"status": "Draft"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "same status: nothing to do");
    let (status, err) = app.patch(&path, json!({"status": "Paid"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(app.get(&path).await.1["status"], "Draft");

    // Submitted: no more line items; back to Draft for a correction, then on.
    let (status, _) = app.patch(&path, json!({"status": "Submitted"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = app
        .post("/api/line_items", line_item_body(&app, appt, json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("appointment").is_some(), "{err}");
    let (status, _) = app.patch(&path, json!({"status": "Draft"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.patch(&path, json!({"status": "Submitted"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.patch(&path, json!({"status": "Approved"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.1["status"], "Approved");
    for to in ["Draft", "Submitted"] {
        let (status, err) = app.patch(&path, json!({"status": to})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "Approved → {to}: {err}");
    }
    // Only status changes; other keys are read-only.
    let (status, _) = app
        .patch(&path, json!({"date_of_service": "2020-01-01"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.1["date_of_service"], "2026-06-15");

    // Voided: its line items and procedures are archived; Voided is final.
    let (status, _) = app.patch(&path, json!({"status": "Voided"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app
        .get(&format!("/api/line_items?appointment={appt}"))
        .await;
    assert!(ids(&list).is_empty());
    let (_, list) = app
        .get(&format!(
            "/api/procedures?appointment={appt}&show_archived=true"
        ))
        .await;
    assert_eq!(ids(&list).len(), 3);
    assert_eq!(list["results"][0]["status"], "Voided");
    assert_eq!(app.get(&path).await.1["billed"], "0.00");
    for to in ["Draft", "Submitted", "Approved"] {
        let (status, err) = app.patch(&path, json!({"status": to})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "Voided → {to}: {err}");
        assert!(
            err["status"][0].as_str().unwrap().contains("final"),
            "{err}"
        );
    }
    for method in [Method::PUT, Method::DELETE] {
        let (status, _) = app
            .send(method, &path, Some(&app.token), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn a_superbill_with_money_posted_cannot_be_voided() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, body) = app
        .post("/api/superbills", superbill_body(&app, office, json!({})))
        .await;
    let id = body["superbill"]["id"].as_i64().unwrap();
    let item = body["line_items"][0]["id"].as_i64().unwrap();
    let patient = body["superbill"]["patient"].as_i64().unwrap();
    let (status, _) = app
        .post(
            "/api/patient_payments",
            json!({"patient": patient, "line_item": item, "amount": "10"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Act
    let (status, err) = app
        .patch(
            &format!("/api/superbills/{id}"),
            json!({"status": "Voided"}),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err.get("status").is_some(), "{err}");
    assert_eq!(
        app.get(&format!("/api/superbills/{id}")).await.1["status"],
        "Draft"
    );
    let (_, list) = app.get(&format!("/api/line_items?patient={patient}")).await;
    assert_eq!(ids(&list).len(), 2, "line items kept");
}

#[tokio::test]
async fn another_practice_sees_nothing_and_cannot_use_our_objects() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, body) = app
        .post("/api/superbills", superbill_body(&app, office, json!({})))
        .await;
    let id = body["superbill"]["id"].as_i64().unwrap();
    let b = app.b.token.clone();

    // Act / Assert
    let (_, list) = app.get_as(&b, "/api/superbills").await;
    assert!(ids(&list).is_empty());
    let (status, _) = app.get_as(&b, &format!("/api/superbills/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/superbills/{id}"),
            Some(&b),
            Some(json!({"status": "Voided"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // B's superbill naming A's doctor and office: refused, nothing created.
    let before = counts(&app);
    let (status, err) = app
        .send(
            Method::POST,
            "/api/superbills",
            Some(&b),
            Some(superbill_body(
                &app,
                office,
                json!({"patient_external_id": "EXT-B"}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err.get("doctor").is_some() || err.get("patient_demographics.doctor").is_some(),
        "{err}"
    );
    assert_eq!(counts(&app), before);
    // B's own external id EXT-1 is another patient than A's.
    let b_office =
        chartd::admin::office_create(&mut app.db.get().unwrap(), app.b.id, app.b.doctor, "B", 1)
            .unwrap()
            .0;
    let mut body_b = superbill_body(&app, b_office, json!({}));
    body_b["doctor"] = json!(app.b.doctor);
    let (status, made) = app
        .send(Method::POST, "/api/superbills", Some(&b), Some(body_b))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_ne!(made["superbill"]["patient"], body["superbill"]["patient"]);
}

#[tokio::test]
async fn a_superbill_needs_the_scopes_of_what_it_creates() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let billing_only = app.token_for(app.a.user, "billing");
    let no_patients = app.token_for(app.a.user, "billing calendar clinical");

    // Act / Assert
    let (status, _) = app
        .send(
            Method::POST,
            "/api/superbills",
            Some(&billing_only),
            Some(superbill_body(&app, office, json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/superbills",
            Some(&no_patients),
            Some(superbill_body(&app, office, json!({}))),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "creating the patient needs the patients scope"
    );
    assert_eq!(counts(&app), [0, 0, 0, 0]);
    let patient = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, body) = app
        .send(
            Method::POST,
            "/api/superbills",
            Some(&no_patients),
            Some(superbill_body(
                &app,
                office,
                json!({"patient": patient, "patient_external_id": null}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn superbills_of_one_day_do_not_collide_on_the_calendar() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);

    // Act: two visits billed for the same doctor, room and day, at the default time.
    let (s1, b1) = app
        .post("/api/superbills", superbill_body(&app, office, json!({})))
        .await;
    let (s2, b2) = app
        .post(
            "/api/superbills",
            superbill_body(&app, office, json!({"patient_external_id": "EXT-2"})),
        )
        .await;

    // Assert
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    assert_eq!(
        b1["appointment"]["scheduled_time"],
        b2["appointment"]["scheduled_time"]
    );
    assert_ne!(b1["superbill"]["patient"], b2["superbill"]["patient"]);
}
