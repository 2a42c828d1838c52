//! /api/clinical_notes with its templates, field types and field values, and locking.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// An appointment of doctor A for `patient` at `at`; answers its id.
pub async fn appointment(app: &TestApp, office: i64, patient: i64, at: &str) -> i64 {
    let (status, body) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": patient, "office": office,
                   "exam_room": 1, "scheduled_time": at, "duration": 30,
                   // Until appointments default external_id to null (two "" collide).
                   "external_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn template(app: &TestApp, name: &str, persistent: bool) -> i64 {
    let (status, body) = app
        .post(
            "/api/clinical_note_templates",
            json!({"doctor": app.a.doctor, "name": name, "is_persistent": persistent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn field(app: &TestApp, template: i64, name: &str, extra: Value) -> i64 {
    let mut body = json!({"clinical_note_template": template, "name": name, "data_type": "String"});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let (status, body) = app.post("/api/clinical_note_field_types", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn value(app: &TestApp, appointment: i64, field: i64, v: &str) -> (StatusCode, Value) {
    app.post(
        "/api/clinical_note_field_values",
        json!({"appointment": appointment, "clinical_note_field": field, "value": v}),
    )
    .await
}

fn ids(list: &Value) -> Vec<i64> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {list}"))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

async fn patient(app: &TestApp) -> i64 {
    app.create_patient(json!({})).await["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_note_gathers_its_values_by_template_and_gives_them_only_with_verbose() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-03-02T09:00:00").await;
    let soap = template(&app, "SOAP", false).await;
    let cc = field(&app, soap, "Chief complaint", json!({})).await;
    let smoker = field(&app, soap, "Smoker", json!({"data_type": "Checkbox"})).await;

    // Nothing charted yet: the note exists, empty and unlocked.
    let (status, note) = app.get(&format!("/api/clinical_notes/{appt}")).await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(note["appointment"], appt);
    assert_eq!(note["patient"], p);
    assert_eq!(note["archived"], false);
    assert_eq!(note["locked"], false);
    assert_eq!(note["clinical_note_sections"], json!([]));
    let (_, a) = app
        .get(&format!("/api/appointments/{appt}?verbose=true"))
        .await;
    assert_eq!(
        a["clinical_note"],
        json!({"locked": false, "pdf": null, "updated_at": null})
    );

    let (status, v1) = value(&app, appt, cc, "Cough").await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    let (status, v2) = value(&app, appt, smoker, "true").await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["value"], "True", "a checkbox is stored as True/False");

    let (_, note) = app.get(&format!("/api/clinical_notes/{appt}")).await;
    assert_eq!(
        note["clinical_note_sections"],
        json!([{"clinical_note_template": soap, "name": "SOAP"}])
    );
    let (_, note) = app
        .get(&format!("/api/clinical_notes/{appt}?verbose=true"))
        .await;
    assert_eq!(
        note["clinical_note_sections"],
        json!([{"clinical_note_template": soap, "name": "SOAP", "values": [
            {"id": v1["id"], "clinical_note_field": cc, "value": "Cough"},
            {"id": v2["id"], "clinical_note_field": smoker, "value": "True"},
        ]}])
    );
    let (_, a) = app
        .get(&format!("/api/appointments/{appt}?verbose=true"))
        .await;
    assert_eq!(a["clinical_note"]["locked"], false);
    assert!(a["clinical_note"]["updated_at"].is_string(), "{a}");
    let (_, a) = app.get(&format!("/api/appointments/{appt}")).await;
    assert!(a.get("clinical_note").is_none(), "verbose-only");

    // Renaming the template renames the note's section.
    let (status, _) = app
        .patch(
            &format!("/api/clinical_note_templates/{soap}"),
            json!({"name": "SOAP note"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, note) = app.get(&format!("/api/clinical_notes/{appt}")).await;
    assert_eq!(note["clinical_note_sections"][0]["name"], "SOAP note");

    // Breaks have no note; the notes are read-only.
    let (_, brk) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": null, "office": office, "exam_room": 1,
                   "scheduled_time": "2026-03-02T12:00:00", "duration": 30, "external_id": null}),
        )
        .await;
    let (status, _) = app.get(&format!("/api/clinical_notes/{}", brk["id"])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post("/api/clinical_notes", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .patch(&format!("/api/clinical_notes/{appt}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_note_list_needs_a_date_filter_pages_by_five_and_filters_exactly() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let office2 = app.office(1);
    let p = patient(&app).await;
    let q = patient(&app).await;
    // 22 notes on 2026-04-01 for p, one on 2026-04-02 for q in another office.
    let bulk: Vec<Value> = (0..22)
        .map(|i| {
            json!({"doctor": app.a.doctor, "patient": p, "office": office, "exam_room": 1,
                   "scheduled_time": format!("2026-04-01T{:02}:{:02}:00", 6 + i / 2, (i % 2) * 30),
                   "duration": 30, "external_id": null})
        })
        .collect();
    let (status, created) = app.post("/api/appointments", json!(bulk)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let day1: Vec<i64> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let other = appointment(&app, office2, q, "2026-04-02T09:00:00").await;

    let (status, body) = app.get("/api/clinical_notes").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["since"].is_array(), "{body}");

    let (_, page) = app.get("/api/clinical_notes?date=2026-04-01").await;
    assert_eq!(ids(&page), day1[..5].to_vec(), "5 per page by default");
    assert!(page["next"].is_string());
    let (_, page) = app
        .get("/api/clinical_notes?date=2026-04-01&page_size=100")
        .await;
    assert_eq!(ids(&page).len(), 20, "at most 20");
    let (_, page) = app
        .get("/api/clinical_notes?date=2026-04-01&page_size=100&verbose=true")
        .await;
    assert_eq!(ids(&page).len(), 20, "at most 20 with verbose too");

    let (_, page) = app.get("/api/clinical_notes?date=2026-04-02").await;
    assert_eq!(ids(&page), vec![other]);
    let (_, page) = app
        .get("/api/clinical_notes?date_range=2026-04-02/2026-04-30")
        .await;
    assert_eq!(ids(&page), vec![other]);
    let (_, page) = app
        .get(&format!(
            "/api/clinical_notes?date_range=2026-03-01/2026-04-30&office={office2}"
        ))
        .await;
    assert_eq!(ids(&page), vec![other]);
    let (_, page) = app
        .get(&format!(
            "/api/clinical_notes?date_range=2026-03-01/2026-04-30&patient={q}"
        ))
        .await;
    assert_eq!(ids(&page), vec![other]);

    // since: what changed at or after the time, the note's own changes included.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mark = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    let (_, page) = app.get(&format!("/api/clinical_notes?since={mark}")).await;
    assert_eq!(ids(&page), Vec::<i64>::new());
    let tp = template(&app, "T", false).await;
    let f = field(&app, tp, "F", json!({})).await;
    let (status, _) = value(&app, day1[3], f, "x").await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, page) = app.get(&format!("/api/clinical_notes?since={mark}")).await;
    assert_eq!(ids(&page), vec![day1[3]]);

    // Malformed and too wide filters name the parameter.
    for (q, key) in [
        ("date=2026-13-01", "date"),
        ("date_range=2026-01-01", "date_range"),
        ("date_range=2026-01-01/2099-01-01", "date_range"),
        ("since=yesterday", "since"),
        ("date=2026-04-01&office=abc", "office"),
        ("date=2026-04-01&patient=x", "patient"),
    ] {
        let (status, body) = app.get(&format!("/api/clinical_notes?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(body[key].is_array(), "{q}: {body}");
    }
    // A long range wholly in the past is fine.
    let (status, _) = app
        .get("/api/clinical_notes?date_range=2020-01-01/2021-12-31")
        .await;
    assert_eq!(status, StatusCode::OK);

    // Archived appointments' notes only with show_archived.
    app.delete(&format!("/api/appointments/{other}")).await;
    let (_, page) = app.get("/api/clinical_notes?date=2026-04-02").await;
    assert_eq!(ids(&page), Vec::<i64>::new());
    let (_, page) = app
        .get("/api/clinical_notes?date=2026-04-02&show_archived=true")
        .await;
    assert_eq!(ids(&page), vec![other]);
    assert_eq!(page["results"][0]["archived"], true);
}

#[tokio::test]
async fn a_locked_note_refuses_changes_to_its_values_until_unlocked() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-05-04T10:00:00").await;
    let tp = template(&app, "Exam", false).await;
    let f1 = field(&app, tp, "Findings", json!({})).await;
    let f2 = field(&app, tp, "Plan", json!({})).await;
    let (_, v1) = value(&app, appt, f1, "Normal").await;
    let v1 = v1["id"].as_i64().unwrap();

    let (status, note) = app
        .post(&format!("/api/clinical_notes/{appt}/lock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(note["locked"], true);
    assert_eq!(note["locked_by"], app.a.user);
    assert!(note["locked_at"].is_string());
    assert!(
        note["clinical_note_sections"][0]["values"].is_array(),
        "verbose"
    );
    let (_, a) = app
        .get(&format!("/api/appointments/{appt}?verbose=true"))
        .await;
    assert_eq!(a["clinical_note"]["locked"], true);

    // Neither a new value nor a changed one.
    let (status, body) = value(&app, appt, f2, "Rest").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("locked"),
        "{body}"
    );
    let (status, _) = app
        .patch(
            &format!("/api/clinical_note_field_values/{v1}"),
            json!({"value": "Abnormal"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .put(
            &format!("/api/clinical_note_field_values/{v1}"),
            json!({"appointment": appt, "clinical_note_field": f1, "value": "Abnormal"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, v) = app
        .get(&format!("/api/clinical_note_field_values/{v1}"))
        .await;
    assert_eq!(v["value"], "Normal");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM clinical_note_field_values", vec![]),
        1
    );
    let (status, _) = app
        .post(&format!("/api/clinical_notes/{appt}/lock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already locked");
    let (status, _) = app.get(&format!("/api/clinical_notes/{appt}/lock")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // Another practice cannot see, lock or unlock it; a read-only token cannot lock.
    let (status, _) = app
        .send(
            Method::POST,
            &format!("/api/clinical_notes/{appt}/unlock"),
            Some(&app.b.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let read_only = app.token_for(app.a.user, "clinical:read");
    let (status, _) = app
        .send(
            Method::POST,
            &format!("/api/clinical_notes/{appt}/unlock"),
            Some(&read_only),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, note) = app
        .post(&format!("/api/clinical_notes/{appt}/unlock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(note["locked"], false);
    assert_eq!(note["unlocked_by"], app.a.user);
    assert!(note["unlocked_at"].is_string());
    assert_eq!(
        note["locked_by"], app.a.user,
        "the last lock stays recorded"
    );
    let (status, _) = app
        .patch(
            &format!("/api/clinical_note_field_values/{v1}"),
            json!({"value": "Abnormal"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .post(&format!("/api/clinical_notes/{appt}/unlock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already unlocked");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE resource = 'clinical_notes' \
             AND action IN ('lock', 'unlock') AND object_id = ?",
            vec![appt.into()]
        ),
        2
    );
}

#[tokio::test]
async fn a_note_is_not_locked_while_a_required_field_of_its_templates_is_empty() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-05-05T10:00:00").await;
    let tp = template(&app, "Exam", false).await;
    let f1 = field(&app, tp, "Findings", json!({})).await;
    let f2 = field(&app, tp, "Signature", json!({"required": true})).await;
    let other = template(&app, "Unused", false).await;
    field(&app, other, "Also required", json!({"required": true})).await;
    value(&app, appt, f1, "Normal").await;

    let (status, body) = app
        .post(&format!("/api/clinical_notes/{appt}/lock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let msgs = body["clinical_note_sections"].as_array().unwrap();
    assert_eq!(
        msgs.len(),
        1,
        "only templates charted on the note count: {body}"
    );
    assert!(msgs[0].as_str().unwrap().contains("Signature"));
    let (status, _) = value(&app, appt, f2, "Dr. A").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(&format!("/api/clinical_notes/{appt}/lock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn field_values_are_checked_against_their_field_and_note() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-05-06T10:00:00").await;
    let appt2 = appointment(&app, office, p, "2026-05-06T11:00:00").await;
    let tp = template(&app, "Exam", false).await;
    let checkbox = field(&app, tp, "Smoker", json!({"data_type": "Checkbox"})).await;
    let tri = field(&app, tp, "Allergic", json!({"data_type": "NullCheckbox"})).await;
    let bp = field(&app, tp, "BP", json!({"data_type": "TwoStrings"})).await;
    let side = field(
        &app,
        tp,
        "Side",
        json!({"allowed_values": ["left", "right", "both"]}),
    )
    .await;
    let old = field(&app, tp, "Old", json!({})).await;
    app.delete(&format!("/api/clinical_note_field_types/{old}"))
        .await;

    for (f, v) in [
        (checkbox, "maybe"),
        (tri, "3"),
        (bp, "120"),
        (side, "middle"),
    ] {
        let (status, body) = value(&app, appt, f, v).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert!(body["value"].is_array(), "{v}: {body}");
    }
    for (f, v) in [(tri, "2"), (bp, "120/80"), (side, "left, right")] {
        let (status, body) = value(&app, appt, f, v).await;
        assert_eq!(status, StatusCode::CREATED, "{v}: {body}");
    }
    let (status, body) = value(&app, appt, old, "x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["clinical_note_field"].is_array(), "archived: {body}");
    let (status, body) = value(&app, appt, tri, "1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["clinical_note_field"][0]
        .as_str()
        .unwrap()
        .contains("already has a value"));
    let (status, body) = app
        .post(
            "/api/clinical_note_field_values",
            json!([{"appointment": appt2, "clinical_note_field": tri, "value": "1"},
                   {"appointment": appt2, "clinical_note_field": tri, "value": "2"}]),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "duplicates in one list: {body}"
    );
    let (status, body) = value(&app, appt, 999_999, "x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["clinical_note_field"].is_array());
    let (status, body) = app
        .post(
            "/api/clinical_note_field_values",
            json!({"appointment": appt}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["clinical_note_field"].is_array() && body["value"].is_array());

    // A break has no note; another practice's appointment is not ours.
    let (_, brk) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": null, "office": office, "exam_room": 1,
                   "scheduled_time": "2026-05-06T15:00:00", "duration": 30, "external_id": null}),
        )
        .await;
    let (status, body) = value(&app, brk["id"].as_i64().unwrap(), side, "left").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment"].is_array(), "{body}");

    // A value keeps its appointment and field.
    let (_, list) = app
        .get(&format!(
            "/api/clinical_note_field_values?appointment={appt}&clinical_note_field={bp}"
        ))
        .await;
    let v = list["results"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/clinical_note_field_values/{v}"),
            json!({"appointment": appt2}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment"].is_array());
    let (status, _) = app
        .delete(&format!("/api/clinical_note_field_values/{v}"))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn field_value_filters_return_exactly_the_right_values() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let q = patient(&app).await;
    let a1 = appointment(&app, office, p, "2026-06-01T09:00:00").await;
    let a2 = appointment(&app, office, p, "2026-06-08T09:00:00").await;
    let a3 = appointment(&app, office, q, "2026-06-09T09:00:00").await;
    let hist = template(&app, "History", true).await;
    let exam = template(&app, "Exam", false).await;
    let fh = field(&app, hist, "Family history", json!({})).await;
    let fe = field(&app, exam, "Findings", json!({})).await;
    let h1 = value(&app, a1, fh, "Diabetes").await.1["id"]
        .as_i64()
        .unwrap();
    let e1 = value(&app, a1, fe, "Normal").await.1["id"]
        .as_i64()
        .unwrap();
    let e2 = value(&app, a2, fe, "Better").await.1["id"]
        .as_i64()
        .unwrap();
    let e3 = value(&app, a3, fe, "Fine").await.1["id"].as_i64().unwrap();

    let list = |q: String| {
        let app = &app;
        async move {
            let (status, body) = app
                .get(&format!("/api/clinical_note_field_values?{q}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{q}: {body}");
            ids(&body)
        }
    };
    assert_eq!(list(format!("appointment={a1}")).await, vec![h1, e1]);
    assert_eq!(
        list(format!("clinical_note_field={fe}")).await,
        vec![e1, e2, e3]
    );
    assert_eq!(
        list(format!("clinical_note_template={hist}")).await,
        vec![h1]
    );
    assert_eq!(
        list(format!("appointment={a2}&clinical_note_template={hist}")).await,
        Vec::<i64>::new()
    );
    // A persistent template's values carry over to the patient's later notes...
    assert_eq!(
        list(format!(
            "appointment={a2}&clinical_note_template={hist}&show_persistent=true"
        ))
        .await,
        vec![h1]
    );
    // ...not to another patient's, not from a later note, and not for other templates.
    assert_eq!(
        list(format!(
            "appointment={a3}&clinical_note_template={hist}&show_persistent=true"
        ))
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list(format!(
            "appointment={a2}&clinical_note_template={exam}&show_persistent=true"
        ))
        .await,
        vec![e2]
    );
    // Without both appointment and template it is ignored.
    assert_eq!(
        list(format!("appointment={a2}&show_persistent=true")).await,
        vec![e2]
    );
    let mark = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.patch(
        &format!("/api/clinical_note_field_values/{e3}"),
        json!({"value": "Worse"}),
    )
    .await;
    assert_eq!(list(format!("since={mark}")).await, vec![e3]);

    for (q, key) in [
        ("appointment=abc", "appointment"),
        ("clinical_note_field=x", "clinical_note_field"),
        ("clinical_note_template=x", "clinical_note_template"),
        ("show_persistent=perhaps", "show_persistent"),
        ("since=soon", "since"),
    ] {
        let (status, body) = app
            .get(&format!("/api/clinical_note_field_values?{q}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(body[key].is_array(), "{q}: {body}");
    }
}

#[tokio::test]
async fn templates_and_field_types_are_writable_as_an_extension() {
    let app = TestApp::new().await;
    let (status, tp) = app
        .post(
            "/api/clinical_note_templates",
            json!({"doctor": app.a.doctor, "name": "H&P", "order": {"on_complete_note": 2}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tp}");
    assert_eq!(tp["order"], json!({"on_complete_note": 2, "on_ipad": null}));
    assert_eq!(tp["is_persistent"], false);
    assert_eq!(tp["is_onpatient"], false);
    assert_eq!(tp["archived"], false);
    assert_eq!(tp["clinical_note_fields"], json!([]));
    let id = tp["id"].as_i64().unwrap();
    let f = field(
        &app,
        id,
        "Pain",
        json!({"data_type": "NullCheckbox", "required": true, "comment": "0-2"}),
    )
    .await;
    let (_, ft) = app
        .get(&format!("/api/clinical_note_field_types/{f}"))
        .await;
    assert_eq!(
        ft,
        json!({"allowed_values": [], "archived": false, "appointment": null,
               "clinical_note_template": id, "comment": "0-2", "data_type": "NullCheckbox",
               "id": f, "name": "Pain", "required": true})
    );
    let (_, tpv) = app
        .get(&format!("/api/clinical_note_templates/{id}?verbose=true"))
        .await;
    assert_eq!(tpv["clinical_note_fields"][0]["id"], f);
    assert_eq!(tpv["clinical_note_fields"][0]["required"], true);
    let (_, tpl) = app.get(&format!("/api/clinical_note_templates/{id}")).await;
    assert!(tpl.get("clinical_note_fields").is_none(), "verbose-only");

    for (body, key) in [
        (json!({"order": {"somewhere": 1}}), "order"),
        (json!({"order": {"on_ipad": "first"}}), "order"),
        (json!({"order": [1]}), "order"),
        (json!({"doctor": app.b.doctor}), "doctor"),
    ] {
        let (status, err) = app
            .patch(&format!("/api/clinical_note_templates/{id}"), body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err[key].is_array(), "{err}");
    }
    let other = template(&app, "Other", false).await;
    let (status, err) = app
        .patch(
            &format!("/api/clinical_note_field_types/{f}"),
            json!({"clinical_note_template": other}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["clinical_note_template"].is_array());
    let (status, err) = app
        .post(
            "/api/clinical_note_field_types",
            json!({"clinical_note_template": id, "name": "X", "data_type": "Spreadsheet"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["data_type"].is_array());

    // Filter by template; archived ones only with show_archived.
    let (_, list) = app
        .get(&format!(
            "/api/clinical_note_field_types?clinical_note_template={id}"
        ))
        .await;
    assert_eq!(ids(&list), vec![f]);
    app.delete(&format!("/api/clinical_note_templates/{other}"))
        .await;
    let (_, list) = app.get("/api/clinical_note_templates").await;
    assert_eq!(ids(&list), vec![id]);
    let (_, list) = app
        .get("/api/clinical_note_templates?show_archived=true")
        .await;
    assert_eq!(ids(&list), vec![id, other]);

    // The writes are marked as chartd's extension in the OpenAPI document.
    let (_, doc) = app.get("/openapi.json").await;
    let path = &doc["paths"]["/api/clinical_note_templates"];
    assert_eq!(path["post"]["x-chartd-extension"], true);
    assert!(path["get"].get("x-chartd-extension").is_none());
    let item = &doc["paths"]["/api/clinical_note_field_types/{id}"];
    assert_eq!(item["patch"]["x-chartd-extension"], true);
    assert_eq!(
        doc["paths"]["/api/clinical_notes/{id}/lock"]["post"]["x-chartd-extension"],
        true
    );
}

#[tokio::test]
async fn without_shared_templates_a_doctor_sees_only_their_own() {
    let app = TestApp::new().await;
    let (user2, doctor2) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    let mine = template(&app, "Mine", false).await;
    let f = field(&app, mine, "F", json!({})).await;
    app.sql(
        "UPDATE practice_groups SET share_clinical_templates = ? WHERE id = ?",
        vec![false.into(), app.a.id.into()],
    );
    let (_, list) = app.get_as(&token2, "/api/clinical_note_templates").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (status, _) = app
        .get_as(&token2, &format!("/api/clinical_note_field_types/{f}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::POST,
            "/api/clinical_note_field_types",
            Some(&token2),
            Some(json!({"clinical_note_template": mine, "name": "G"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["clinical_note_template"].is_array(), "{body}");
    let (status, _) = app
        .send(
            Method::POST,
            "/api/clinical_note_templates",
            Some(&token2),
            Some(json!({"doctor": doctor2, "name": "Theirs"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.sql(
        "UPDATE practice_groups SET share_clinical_templates = ? WHERE id = ?",
        vec![true.into(), app.a.id.into()],
    );
    let (_, list) = app.get_as(&token2, "/api/clinical_note_templates").await;
    assert_eq!(ids(&list).len(), 2);
}

#[tokio::test]
async fn another_practice_sees_none_of_our_notes_templates_or_values() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-07-01T09:00:00").await;
    let tp = template(&app, "T", false).await;
    let f = field(&app, tp, "F", json!({})).await;
    let v = value(&app, appt, f, "x").await.1["id"].as_i64().unwrap();
    for path in [
        format!("/api/clinical_notes/{appt}"),
        format!("/api/clinical_note_templates/{tp}"),
        format!("/api/clinical_note_field_types/{f}"),
        format!("/api/clinical_note_field_values/{v}"),
    ] {
        let (status, _) = app.get_as(&app.b.token, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/api/clinical_notes?date=2026-07-01",
        "/api/clinical_note_templates",
        "/api/clinical_note_field_types",
        "/api/clinical_note_field_values",
    ] {
        let (_, list) = app.get_as(&app.b.token, path).await;
        assert_eq!(ids(&list), Vec::<i64>::new(), "{path}");
    }
    // Nor can it write values into our notes or fields.
    let (status, body) = app
        .send(
            Method::POST,
            "/api/clinical_note_field_values",
            Some(&app.b.token),
            Some(json!({"appointment": appt, "clinical_note_field": f, "value": "y"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment"].is_array() && body["clinical_note_field"].is_array());
}

#[tokio::test]
async fn without_share_patients_another_doctor_sees_none_of_our_notes() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = patient(&app).await;
    let appt = appointment(&app, office, p, "2026-07-02T09:00:00").await;
    let tp = template(&app, "T", false).await;
    let f = field(&app, tp, "F", json!({})).await;
    let v = value(&app, appt, f, "x").await.1["id"].as_i64().unwrap();
    let (user2, _) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    let (status, _) = app
        .get_as(&token2, &format!("/api/clinical_notes/{appt}"))
        .await;
    assert_eq!(status, StatusCode::OK, "shared by default");
    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![false.into(), app.a.id.into()],
    );
    for path in [
        format!("/api/clinical_notes/{appt}"),
        format!("/api/clinical_note_field_values/{v}"),
    ] {
        let (status, _) = app.get_as(&token2, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, list) = app
        .get_as(&token2, "/api/clinical_notes?date=2026-07-02")
        .await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app.get_as(&token2, "/api/clinical_note_field_values").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (status, _) = app
        .send(
            Method::POST,
            &format!("/api/clinical_notes/{appt}/lock"),
            Some(&token2),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/clinical_note_field_values/{v}"),
            Some(&token2),
            Some(json!({"value": "y"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
