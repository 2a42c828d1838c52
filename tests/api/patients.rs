//! /api/patients beyond the framework contract: nested objects, custom demographics, flags,
//! documented values, external ids, the offices filter; /api/patients_summary; flag types and
//! custom demographics.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

fn ids(list: &Value) -> Vec<i64> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn no_api_answer_may_be_kept_by_a_cache_or_sniffed() {
    let app = TestApp::new().await;
    let id = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let item = format!("/api/patients/{id}");
    for (path, token) in [
        ("/api/patients", Some(app.token.as_str())),
        (item.as_str(), Some(app.token.as_str())),
        (item.as_str(), Some(app.b.token.as_str())),
        (item.as_str(), None),
        ("/api/no_such_thing", Some(app.token.as_str())),
    ] {
        let mut req = app.client.get(app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        assert_eq!(
            res.headers()["cache-control"],
            "no-store",
            "{path} {status}"
        );
        assert_eq!(
            res.headers()["x-content-type-options"],
            "nosniff",
            "{path} {status}"
        );
    }
}

#[tokio::test]
async fn nested_insurance_objects_are_checked_and_stored() {
    let app = TestApp::new().await;
    let ins = json!({"insurance_company": "Acme", "insurance_payer_id": "60054", "insurance_id_number": "W123",
        "is_subscriber_the_patient": true, "subscriber_date_of_birth": "1970-01-02"});
    let p = app
        .create_patient(json!({"primary_insurance": ins, "patient_payment_profile": "Insurance",
            "auto_accident_insurance": {"auto_accident_case_number": "C-1", "auto_accident_date_of_accident": "2024-05-01"},
            "workers_comp_insurance": {"workers_comp_claim_number": "W-9"},
            "referring_doctor": {"first_name": "Gregory", "last_name": "House", "npi": "1234567890"}}))
        .await;
    assert_eq!(p["primary_insurance"]["insurance_company"], "Acme");
    assert_eq!(p["primary_insurance"]["is_subscriber_the_patient"], true);
    assert_eq!(
        p["auto_accident_insurance"]["auto_accident_case_number"],
        "C-1"
    );
    assert_eq!(p["referring_doctor"]["last_name"], "House");
    assert_eq!(p["patient_payment_profile"], "Insurance");

    for (body, key) in [
        (
            json!({"primary_insurance": {"insurance_colour": "x"}}),
            "primary_insurance",
        ),
        (
            json!({"secondary_insurance": {"subscriber_date_of_birth": "02/01/1970"}}),
            "secondary_insurance",
        ),
        (
            json!({"tertiary_insurance": {"is_subscriber_the_patient": "maybe"}}),
            "tertiary_insurance",
        ),
        (json!({"referring_doctor": "Dr. House"}), "referring_doctor"),
        (
            json!({"patient_payment_profile": "Insurance"}),
            "patient_payment_profile",
        ),
        (
            json!({"patient_payment_profile": "Barter"}),
            "patient_payment_profile",
        ),
        (
            json!({"preferred_language": "English"}),
            "preferred_language",
        ),
        (json!({"race": "martian"}), "race"),
        (json!({"patient_status": "X"}), "patient_status"),
        (json!({"gender": "male"}), "gender"),
    ] {
        let (status, err) = app
            .post("/api/patients", app.patient_body(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(err.get(key).is_some(), "{body} names {key}: {err}");
    }
    let (status, _) = app
        .post(
            "/api/patients",
            app.patient_body(
                json!({"preferred_language": "spa", "patient_payment_profile": "Cash"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn custom_demographics_and_flags_are_checked_against_their_definitions() {
    let app = TestApp::new().await;
    let (status, demo) = app
        .post("/api/custom_demographics", json!({"doctor": app.a.doctor, "name": "Shirt size", "template_name": "shirt_size", "allowed_values": ["S", "M", "L"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{demo}");
    let (status, err) = app
        .post(
            "/api/custom_demographics",
            json!({"doctor": app.a.doctor, "name": "X", "template_name": "bad name!"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["template_name"].is_array());
    let (status, flag) = app
        .post(
            "/api/patient_flag_types",
            json!({"doctor": app.a.doctor, "name": "VIP", "color": "#FF0000", "priority": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");

    let p = app
        .create_patient(
            json!({"custom_demographics": [{"field_type": demo["id"], "value": "M"}],
            "patient_flags_attached": [{"flag_type": flag["id"], "notes": "Board member"}]}),
        )
        .await;
    assert_eq!(
        p["custom_demographics"],
        json!([{"field_type": demo["id"], "value": "M"}])
    );
    assert_eq!(p["patient_flags"][0]["name"], "VIP");
    assert_eq!(p["patient_flags"][0]["color"], "#FF0000");
    assert_eq!(p["patient_flags"][0]["notes"], "Board member");

    for (body, key) in [
        (
            json!({"custom_demographics": [{"field_type": demo["id"], "value": "XXL"}]}),
            "custom_demographics",
        ),
        (
            json!({"custom_demographics": [{"field_type": 99999, "value": "M"}]}),
            "custom_demographics",
        ),
        (
            json!({"patient_flags_attached": [{"flag_type": 99999}]}),
            "patient_flags_attached",
        ),
        (
            json!({"patient_flags": [{"flag_type": 1}], "patient_flags_attached": "nope"}),
            "patient_flags_attached",
        ),
    ] {
        let (status, err) = app
            .post("/api/patients", app.patient_body(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(err.get(key).is_some(), "{body}: {err}");
    }
    // Flag types and custom demographics are not deleted through the API.
    let (status, _) = app
        .delete(&format!("/api/patient_flag_types/{}", flag["id"]))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .patch(
            &format!("/api/custom_demographics/{}", demo["id"]),
            json!({"archived": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/custom_demographics").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app
        .get(&format!("/api/patient_flag_types?doctor={}", app.a.doctor))
        .await;
    assert_eq!(ids(&list), [flag["id"].as_i64().unwrap()]);
}

#[tokio::test]
async fn patient_external_ids_sync_without_chartd_ids() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({"external_id": "EMR-77"})).await;
    let (status, err) = app
        .post(
            "/api/patients",
            app.patient_body(json!({"external_id": "EMR-77"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["id"], p["id"]);
    assert!(err["detail"]
        .as_str()
        .unwrap()
        .contains(&p["id"].to_string()));
    // Another practice may use the same external id.
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&app.b.token),
            Some(json!({"doctor": app.b.doctor, "gender": "Male", "external_id": "EMR-77"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = app.get("/api/patients?external_id=EMR-77").await;
    assert_eq!(ids(&list), [p["id"].as_i64().unwrap()]);
    // A bulk create with a duplicate creates nothing.
    let before = app.count("SELECT COUNT(*) FROM patients", vec![]);
    let (status, _) = app
        .post(
            "/api/patients",
            json!([
                app.patient_body(json!({"external_id": "NEW"})),
                app.patient_body(json!({"external_id": "EMR-77"}))
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients", vec![]), before);
}

#[tokio::test]
async fn the_offices_filter_finds_patients_seen_at_those_offices() {
    let app = TestApp::new().await;
    let (o1, o2) = (app.office(1), app.office(1));
    let at_o1 = app
        .appointment_body(o1, "2026-03-02T09:00:00", json!({}))
        .await;
    let at_o2 = app
        .appointment_body(o2, "2026-03-02T09:00:00", json!({}))
        .await;
    app.post("/api/appointments", at_o1.clone()).await;
    app.post("/api/appointments", at_o2.clone()).await;
    app.create_patient(json!({})).await;

    let (_, list) = app.get(&format!("/api/patients?offices={o1}")).await;
    assert_eq!(ids(&list), [at_o1["patient"].as_i64().unwrap()]);
    let (_, list) = app.get(&format!("/api/patients?offices={o1},{o2}")).await;
    assert_eq!(
        ids(&list),
        [
            at_o1["patient"].as_i64().unwrap(),
            at_o2["patient"].as_i64().unwrap()
        ]
    );
    let (status, err) = app.get("/api/patients?offices=1,x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["offices"].is_array());
}

#[tokio::test]
async fn patients_summary_reads_with_the_summary_scope_and_writes_need_manage_patients() {
    let app = TestApp::new().await;
    let p = app
        .create_patient(json!({"date_of_birth": "1980-01-01", "city": "Hidden"}))
        .await;
    let summary_only = app.token_for(app.a.user, "patients:summary");
    let (status, list) = app.get_as(&summary_only, "/api/patients_summary").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let row = &list["results"][0];
    assert_eq!(row["id"], p["id"]);
    assert_eq!(row["date_of_birth"], "1980-01-01");
    assert!(row.get("city").is_none(), "only the summary keys");
    let (status, _) = app.get_as(&summary_only, "/api/patients").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A staff user without "Manage Patients" reads the summary but cannot write it.
    let (staff, _) = app.user(app.a.id, "staff", Some(app.a.doctor));
    app.sql(
        "UPDATE users SET permissions = ? WHERE id = ?",
        vec![Val::from("{}"), Val::from(staff)],
    );
    let staff_token = app.token_for(staff, "patients:summary");
    let (status, _) = app.get_as(&staff_token, "/api/patients_summary").await;
    assert_eq!(status, StatusCode::OK);
    let body = json!({"doctor": app.a.doctor, "gender": "Male", "date_of_birth": "1990-01-01"});
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients_summary",
            Some(&staff_token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, created) = app
        .send(
            Method::POST,
            "/api/patients_summary",
            Some(&summary_only),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!created["chart_id"].as_str().unwrap().is_empty());
    let (status, err) = app
        .send(
            Method::POST,
            "/api/patients_summary",
            Some(&summary_only),
            Some(json!({"doctor": app.a.doctor, "gender": "Male"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["date_of_birth"].is_array(), "required here: {err}");
    let (_, full) = app.get(&format!("/api/patients/{}", created["id"])).await;
    assert_eq!(full["gender"], "Male");
}

#[tokio::test]
async fn custom_vitals_can_be_defined_through_the_api() {
    let app = TestApp::new().await;
    let (status, v) = app.post("/api/custom_vitals", json!({"doctor": app.a.doctor, "name": "Peak flow", "data_type": "number", "unit": "L/min"})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["is_fraction_field"], false);
    let (status, err) = app.post("/api/custom_vitals", json!({"doctor": app.a.doctor, "name": "BP", "data_type": "text", "is_fraction_field": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["fraction_delimiter"].is_array());
    let (status, err) = app
        .post(
            "/api/custom_vitals",
            json!({"doctor": app.a.doctor, "name": "Mood", "data_type": "single_sel"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["allowed_values"].is_array());
    let (_, list) = app
        .get(&format!("/api/custom_vitals?doctor={}", app.a.doctor))
        .await;
    assert_eq!(ids(&list), [v["id"].as_i64().unwrap()]);
    let (_, other) = app.get_as(&app.b.token, "/api/custom_vitals").await;
    assert_eq!(ids(&other), Vec::<i64>::new());
}
