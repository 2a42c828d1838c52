//! Billing: line items, transactions, procedures, patient payments and their log.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

/// An appointment of doctor A (a new patient) at `time` in `office`; answers (appointment, patient).
pub async fn appointment(app: &TestApp, office: i64, time: &str) -> (i64, i64) {
    let body = app.appointment_body(office, time, json!({})).await;
    let (status, appt) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    (
        appt["id"].as_i64().unwrap(),
        appt["patient"].as_i64().unwrap(),
    )
}

pub fn ids(list: &Value) -> Vec<i64> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

/// "12.34" → 1234, exactly.
pub fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a decimal: {v}"));
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (whole, frac) = s.split_once('.').unwrap();
    assert_eq!(frac.len(), 2, "two places: {v}");
    let c = whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if neg {
        -c
    } else {
        c
    }
}

pub fn line_item_body(app: &TestApp, appointment: i64, extra: Value) -> Value {
    let mut body = json!({"appointment": appointment, "doctor": app.a.doctor, "code": "99213",
        "procedure_type": "C", "price": "120.00", "diagnosis_pointers": ["J06.9"]});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    body
}

pub async fn line_item(app: &TestApp, appointment: i64, extra: Value) -> Value {
    let (status, item) = app
        .post("/api/line_items", line_item_body(app, appointment, extra))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    item
}

async fn post_ok(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, obj) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{obj}");
    obj
}

/// The identities every line item keeps, checked in integer cents.
fn assert_adds_up(item: &Value) {
    let c = |k: &str| cents(&item[k]);
    assert_eq!(
        c("ins_total"),
        c("ins1_paid") + c("ins2_paid") + c("ins3_paid"),
        "{item}"
    );
    assert_eq!(c("paid_total"), c("ins_total") + c("pt_paid"), "{item}");
    assert_eq!(
        c("balance_total"),
        c("billed") - c("adjustment") - c("paid_total"),
        "{item}"
    );
    assert_eq!(
        c("balance_total"),
        c("balance_ins") + c("balance_pt"),
        "{item}"
    );
}

#[tokio::test]
async fn a_line_item_takes_one_letter_and_answers_the_long_form() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, patient) = appointment(&app, office, "2026-03-02T09:00:00").await;

    // Act
    let item = line_item(&app, appt, json!({"quantity": "2", "modifiers": ["25"]})).await;
    let hcpcs = line_item(
        &app,
        appt,
        json!({"code": "j1100", "procedure_type": "HCPCS(H)", "price": 19.99,
               "diagnosis_pointers": [1, "Z00.00"]}),
    )
    .await;

    // Assert
    assert_eq!(item["procedure_type"], "CPT(C)");
    assert_eq!(item["patient"], patient);
    assert_eq!(item["price"], "120.00");
    assert_eq!(item["quantity"], "2.00");
    assert_eq!(item["billed"], "240.00");
    assert_eq!(item["balance_total"], "240.00");
    assert_eq!(item["paid_total"], "0.00");
    assert_eq!(item["service_date"], "2026-03-02");
    assert_eq!(item["diagnosis_pointers"], json!([1]));
    assert_eq!(item["modifiers"], json!(["25"]));
    assert_eq!(item["units"], "UN");
    assert_eq!(item["billing_status"], "");
    assert_eq!(item["denied_flag"], false);
    assert_eq!(hcpcs["procedure_type"], "HCPCS(H)");
    assert_eq!(hcpcs["code"], "J1100");
    assert_eq!(hcpcs["price"], "19.99");
    assert_eq!(hcpcs["diagnosis_pointers"], json!([1, 2]));
    let (_, got) = app.get(&format!("/api/line_items/{}", item["id"])).await;
    assert_eq!(got["procedure_type"], "CPT(C)");
    let (_, appt_json) = app.get(&format!("/api/appointments/{appt}")).await;
    assert_eq!(
        appt_json["icd10_codes"], "J06.9,Z00.00",
        "codes given as pointers are added"
    );
    let (_, procs) = app
        .get(&format!("/api/procedures?appointment={appt}"))
        .await;
    let types: Vec<&str> = procs["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["procedure_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["C", "H"], "procedures answer the letter");
}

#[tokio::test]
async fn malformed_line_items_are_refused_naming_the_key() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, _) = appointment(&app, office, "2026-03-02T09:00:00").await;
    line_item(&app, appt, json!({})).await; // the appointment has one diagnosis now
    let cases = [
        (json!({"procedure_type": "X"}), "procedure_type"),
        (json!({"code": "9921"}), "code"),
        (json!({"code": "99213X"}), "code"),
        (json!({"procedure_type": "H", "code": "99213"}), "code"),
        (json!({"modifiers": ["2"]}), "modifiers"),
        (
            json!({"modifiers": ["25", "59", "LT", "RT", "GT"]}),
            "modifiers",
        ),
        (json!({"diagnosis_pointers": [2]}), "diagnosis_pointers"),
        (json!({"diagnosis_pointers": ["J0"]}), "diagnosis_pointers"),
        (json!({"diagnosis_pointers": [1, 1]}), "diagnosis_pointers"),
        (
            json!({"diagnosis_pointers": ["A00", "A01", "A02", "A03", "A04"]}),
            "diagnosis_pointers",
        ),
        (
            json!({"diagnosis_pointers": ["J6.9"]}),
            "diagnosis_pointers",
        ),
        (json!({"price": "-1.00"}), "price"),
        (json!({"price": "abc"}), "price"),
        (json!({"quantity": "0"}), "quantity"),
        (json!({"appointment": 999_999}), "appointment"),
    ];
    for (extra, key) in cases {
        // Act
        let (status, body) = app
            .post("/api/line_items", line_item_body(&app, appt, extra.clone()))
            .await;
        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {body}");
        assert!(body.get(key).is_some(), "{extra}: {body}");
    }
    let (status, body) = app
        .post("/api/line_items", json!({"appointment": appt}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for key in [
        "code",
        "doctor",
        "price",
        "procedure_type",
        "diagnosis_pointers",
    ] {
        assert!(body.get(key).is_some(), "{key} is required: {body}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_items", vec![]),
        1,
        "nothing more"
    );
    let (_, appt_json) = app.get(&format!("/api/appointments/{appt}")).await;
    assert_eq!(
        appt_json["icd10_codes"], "J06.9",
        "a refused line adds no diagnosis"
    );
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, _) = app
            .send(
                method,
                "/api/line_items/1",
                Some(&app.token),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn line_item_and_procedure_filters_return_exactly_the_right_objects() {
    // Arrange: two offices, two doctors, two days.
    let app = TestApp::new().await;
    let (o1, o2) = (app.office(1), app.office(1));
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let (a1, p1) = appointment(&app, o1, "2026-03-02T09:00:00").await;
    let (a2, p2) = appointment(&app, o2, "2026-03-03T09:00:00").await;
    let i1 = line_item(&app, a1, json!({})).await["id"].as_i64().unwrap();
    let i2 = line_item(&app, a1, json!({"doctor": doctor2, "code": "99214"})).await["id"]
        .as_i64()
        .unwrap();
    let i3 = line_item(&app, a2, json!({"service_date": "2026-03-05"})).await["id"]
        .as_i64()
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let cases = [
        (format!("appointment={a1}"), vec![i1, i2]),
        (format!("appointment={a2}"), vec![i3]),
        (format!("doctor={doctor2}"), vec![i2]),
        (format!("doctor={}", app.a.doctor), vec![i1, i3]),
        (format!("office={o1}"), vec![i1, i2]),
        (format!("office={o2}"), vec![i3]),
        (format!("patient={p1}"), vec![i1, i2]),
        (format!("patient={p2}"), vec![i3]),
        ("service_date=2026-03-02".to_string(), vec![i1, i2]),
        ("service_date=2026-03-05".to_string(), vec![i3]),
        ("service_date=2026-03-03".to_string(), vec![]),
        (format!("posted_date={today}"), vec![i1, i2, i3]),
        ("posted_date=2020-01-01".to_string(), vec![]),
        ("since=2020-01-01".to_string(), vec![i1, i2, i3]),
        ("since=2999-01-01".to_string(), vec![]),
    ];
    for (query, want) in cases {
        // Act
        let (status, list) = app.get(&format!("/api/line_items?{query}")).await;
        // Assert
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(ids(&list), want, "line_items?{query}");
        if !query.starts_with("office") && !query.starts_with("posted_date") {
            let (_, procs) = app.get(&format!("/api/procedures?{query}")).await;
            assert_eq!(ids(&procs), want, "procedures?{query}");
        }
    }
    for bad in [
        "doctor=x",
        "service_date=2026-13-01",
        "posted_date=yesterday",
        "since=x",
    ] {
        let (status, body) = app.get(&format!("/api/line_items?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let key = bad.split('=').next().unwrap();
        assert!(body.get(key).is_some(), "{bad}: {body}");
    }

    // The procedures are the line items, read-only.
    let (_, proc) = app.get(&format!("/api/procedures/{i3}")).await;
    assert_eq!(proc["date"], "2026-03-05");
    assert_eq!(proc["code"], "99213");
    assert_eq!(proc["patient"], p2);
    assert_eq!(proc["status"], "");
    let (status, _) = app.post("/api/procedures", json!({"code": "99213"})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn balances_and_paid_totals_add_up_to_the_cent() {
    // Arrange: 3 × 33.37 billed, then insurers and the patient pay.
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, patient) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let item = line_item(&app, appt, json!({"price": "33.37", "quantity": 3})).await;
    let id = item["id"].as_i64().unwrap();
    assert_eq!(item["billed"], "100.11");
    assert_adds_up(&item);
    let other = line_item(&app, appt, json!({"price": "10"})).await;

    // Act
    let t1 = post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id, "ins_paid": "40.03",
        "adjustment": "10.01", "adjustment_group_code": "CO", "claim_status": "1",
        "trace_number": "CHK1", "check_date": "2026-04-01"}),
    )
    .await;
    let t2 = post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id, "ins_name": 2,
        "ins_paid": 5.55}),
    )
    .await;
    let t3 = post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id,
        "adjustment": "20.00", "adjustment_group_code": "PR", "claim_status": "1"}),
    )
    .await;
    post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient, "line_item": id,
        "amount": "7.77", "payment_transaction_type": "COPAY", "payment_method": "CASH"}),
    )
    .await;
    post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient, "line_item": id,
        "amount": "-2.22", "payment_transaction_type": "REF", "payment_method": "CASH"}),
    )
    .await;
    // Unapplied to any line item: a credit on the account, in no line item's totals.
    post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient, "amount": "50.00"}),
    )
    .await;

    // Assert
    let (_, item) = app.get(&format!("/api/line_items/{id}")).await;
    assert_eq!(item["ins1_paid"], "40.03");
    assert_eq!(item["ins2_paid"], "5.55");
    assert_eq!(item["ins3_paid"], "0.00");
    assert_eq!(item["ins_total"], "45.58");
    assert_eq!(item["adjustment"], "10.01");
    assert_eq!(item["pt_paid"], "5.55");
    assert_eq!(item["paid_total"], "51.13");
    assert_eq!(item["balance_total"], "38.97");
    assert_eq!(item["balance_pt"], "14.45");
    assert_eq!(item["balance_ins"], "24.52");
    assert_eq!(item["billing_status"], "Partially Paid");
    assert_eq!(item["insurance_status"], "1");
    assert_adds_up(&item);
    let (_, other) = app.get(&format!("/api/line_items/{}", other["id"])).await;
    assert_eq!(other["paid_total"], "0.00");
    assert_eq!(other["balance_total"], "10.00");

    // The patient pays the rest: paid in full, balances zero.
    post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient, "line_item": id,
        "amount": "14.45", "payment_transaction_type": "COINSR"}),
    )
    .await;
    post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id, "ins_name": 3,
        "ins_paid": "24.52"}),
    )
    .await;
    let (_, item) = app.get(&format!("/api/line_items/{id}")).await;
    assert_eq!(item["balance_total"], "0.00");
    assert_eq!(item["balance_pt"], "0.00");
    assert_eq!(item["balance_ins"], "0.00");
    assert_eq!(item["billing_status"], "Paid in Full");
    assert_adds_up(&item);
    let (_, list) = app.get("/api/line_items").await;
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(assert_adds_up);

    // Transactions: their keys and filters.
    assert_eq!(t1["appointment"], appt);
    assert_eq!(t1["patient"], patient);
    assert_eq!(t1["doctor"], app.a.doctor);
    assert_eq!(t1["ins_paid"], "40.03");
    assert_eq!(t1["check_date"], "2026-04-01");
    assert_eq!(t2["ins_name"], 2);
    assert_eq!(t2["adjustment"], "0.00");
    let all = [
        t1["id"].as_i64().unwrap(),
        t2["id"].as_i64().unwrap(),
        t3["id"].as_i64().unwrap(),
    ];
    let today = chrono::Utc::now().date_naive();
    let (_, list) = app.get(&format!("/api/transactions?line_item={id}")).await;
    assert_eq!(ids(&list)[..3], all[..]);
    let (_, list) = app
        .get(&format!("/api/transactions?line_item={}", other["id"]))
        .await;
    assert!(ids(&list).is_empty());
    let (_, list) = app
        .get(&format!("/api/transactions?appointment={appt}"))
        .await;
    assert_eq!(ids(&list).len(), 4);
    let (_, list) = app
        .get(&format!("/api/transactions?posted_date={today}"))
        .await;
    assert_eq!(ids(&list).len(), 4);
    let (_, list) = app.get("/api/transactions?posted_date=2020-01-01").await;
    assert!(ids(&list).is_empty());
    let (_, list) = app.get("/api/transactions?since=2999-01-01").await;
    assert!(ids(&list).is_empty());
}

#[tokio::test]
async fn a_transaction_needs_money_a_valid_insurer_and_a_live_line_item() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, _) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let id = line_item(&app, appt, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let cases = [
        (json!({"line_item": id}), "ins_paid"),
        (
            json!({"line_item": id, "ins_paid": "0.00", "adjustment": 0}),
            "ins_paid",
        ),
        (
            json!({"line_item": id, "ins_paid": "1", "ins_name": 4}),
            "ins_name",
        ),
        (
            json!({"line_item": id, "adjustment": "1", "adjustment_group_code": "XX"}),
            "adjustment_group_code",
        ),
        (json!({"line_item": 999_999, "ins_paid": "1"}), "line_item"),
        (json!({"ins_paid": "1"}), "line_item"),
    ];
    for (body, key) in cases {
        // Act
        let (status, err) = app.post("/api/transactions", body.clone()).await;
        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(err.get(key).is_some(), "{body}: {err}");
    }
    // A correction is a negative amount.
    post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id, "ins_paid": "10.00"}),
    )
    .await;
    post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": id, "ins_paid": "-10.00"}),
    )
    .await;
    let (_, item) = app.get(&format!("/api/line_items/{id}")).await;
    assert_eq!(item["ins_total"], "0.00");
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, _) = app
            .send(
                method,
                "/api/transactions/1",
                Some(&app.token),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn patient_payments_refuse_zero_and_follow_the_payment_codes() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, patient) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let (_, other_patient) = appointment(&app, office, "2026-03-02T10:00:00").await;
    let item = line_item(&app, appt, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let cases = [
        (json!({"amount": 0}), "amount"),
        (json!({"amount": "0.00"}), "amount"),
        (json!({"amount": "0.009"}), "amount"),
        (json!({"amount": "-0"}), "amount"),
        (json!({}), "amount"),
        (
            json!({"amount": "5", "payment_transaction_type": "REF"}),
            "amount",
        ),
        (json!({"amount": "-5"}), "amount"),
        (
            json!({"amount": "-5", "payment_transaction_type": "COPAY"}),
            "amount",
        ),
        (
            json!({"amount": "5", "payment_transaction_type": "CREDIT"}),
            "payment_transaction_type",
        ),
        (
            json!({"amount": "5", "payment_method": "BITCOIN"}),
            "payment_method",
        ),
        (
            json!({"amount": "5", "line_item": item, "patient": other_patient}),
            "line_item",
        ),
        (
            json!({"amount": "5", "appointment": appt, "patient": other_patient}),
            "appointment",
        ),
        (json!({"amount": "5", "patient": 999_999}), "patient"),
    ];
    for (extra, key) in cases {
        let mut body = json!({"patient": patient});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        // Act
        let (status, err) = app.post("/api/patient_payments", body.clone()).await;
        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(err.get(key).is_some(), "{body}: {err}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patient_payments", vec![]),
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patient_payment_log", vec![]),
        0
    );

    // Every documented code is accepted.
    for t in ["", "COPAY", "COINSR", "OTHR", "COR"] {
        post_ok(
            &app,
            "/api/patient_payments",
            json!({"patient": patient, "amount": "1.00",
            "payment_transaction_type": t}),
        )
        .await;
    }
    for m in [
        "CASH", "CHCK", "DBIT", "CRDT", "AMEX", "VISA", "MSTR", "DISC", "SQR1", "SQRE", "PTPA",
        "ONPT", "OTHR",
    ] {
        post_ok(
            &app,
            "/api/patient_payments",
            json!({"patient": patient, "amount": "1.00",
            "payment_method": m}),
        )
        .await;
    }
    let refund = post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient,
        "amount": "-1.00", "payment_transaction_type": "REF", "line_item": item,
        "received_date": "2026-03-04", "trace_number": "T1", "notes": "oops"}),
    )
    .await;

    // Assert: the appointment comes from the line item, the doctor too, the rest from the caller.
    assert_eq!(refund["amount"], "-1.00");
    assert_eq!(refund["appointment"], appt);
    assert_eq!(refund["doctor"], app.a.doctor);
    assert_eq!(refund["created_by"], app.a.user);
    assert_eq!(
        refund["posted_date"],
        chrono::Utc::now().date_naive().to_string()
    );
    assert_eq!(refund["received_date"], "2026-03-04");
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, _) = app
            .send(
                method,
                &format!("/api/patient_payments/{}", refund["id"]),
                Some(&app.token),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn every_payment_writes_its_log_entry_and_the_filters_find_them() {
    // Arrange: two doctors' patients in two offices.
    let app = TestApp::new().await;
    let (o1, o2) = (app.office(1), app.office(1));
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let (a1, p1) = appointment(&app, o1, "2026-03-02T09:00:00").await;
    let (a2, p2) = appointment(&app, o2, "2026-03-02T09:00:00").await;
    let item = line_item(&app, a2, json!({})).await["id"].as_i64().unwrap();

    // Act: one, a bulk of two, and a bulk refused as a whole.
    let pay1 = post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": p1, "appointment": a1,
        "amount": "12.34", "payment_method": "VISA"}),
    )
    .await;
    let bulk = post_ok(&app, "/api/patient_payments", json!([
        {"patient": p2, "line_item": item, "amount": "5.00", "payment_method": "CASH", "doctor": doctor2},
        {"patient": p2, "amount": "6.00"},
    ]))
    .await;
    let (status, errs) = app
        .post(
            "/api/patient_payments",
            json!([{"patient": p1, "amount": "1"}, {"patient": p1, "amount": "0"}]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errs[0], json!({}));
    assert!(errs[1].get("amount").is_some(), "{errs}");

    // Assert
    let (_, log) = app.get("/api/patient_payment_log").await;
    let entries = log["results"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    let payments = [&pay1, &bulk[0], &bulk[1]];
    for (entry, pay) in entries.iter().zip(payments) {
        assert_eq!(entry["patient_payment"], pay["id"]);
        for key in [
            "patient",
            "doctor",
            "appointment",
            "amount",
            "payment_method",
            "created_by",
        ] {
            assert_eq!(entry[key], pay[key], "{key}: {entry} vs {pay}");
        }
        assert_eq!(entry["action"], "Create");
        assert_eq!(entry["source"], "API");
    }
    assert_eq!(entries[0]["office"], o1);
    assert_eq!(entries[1]["office"], o2);
    assert_eq!(entries[1]["doctor"], doctor2);
    assert_eq!(entries[2]["office"], Value::Null);
    let log_ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let cases = [
        (format!("office={o1}"), vec![log_ids[0]]),
        (format!("office={o2}"), vec![log_ids[1]]),
        (format!("doctor={doctor2}"), vec![log_ids[1]]),
        (
            format!("doctor={}", app.a.doctor),
            vec![log_ids[0], log_ids[2]],
        ),
        ("since=2999-01-01".to_string(), vec![]),
    ];
    for (query, want) in cases {
        let (_, list) = app.get(&format!("/api/patient_payment_log?{query}")).await;
        assert_eq!(ids(&list), want, "{query}");
    }
    let pay_ids = |list: &Value| ids(list);
    let (_, list) = app
        .get(&format!("/api/patient_payments?patient={p2}"))
        .await;
    assert_eq!(
        pay_ids(&list),
        [
            bulk[0]["id"].as_i64().unwrap(),
            bulk[1]["id"].as_i64().unwrap()
        ]
    );
    let (_, list) = app
        .get(&format!("/api/patient_payments?doctor={doctor2}"))
        .await;
    assert_eq!(pay_ids(&list), [bulk[0]["id"].as_i64().unwrap()]);
    let (_, list) = app.get("/api/patient_payments?since=2999-01-01").await;
    assert!(pay_ids(&list).is_empty());
    let (status, _) = app.post("/api/patient_payment_log", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patient_payment_log", vec![]),
        app.count("SELECT COUNT(*) FROM patient_payments", vec![])
    );
}

#[tokio::test]
async fn another_practice_sees_and_touches_nothing() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, patient) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let item = line_item(&app, appt, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let tx = post_ok(
        &app,
        "/api/transactions",
        json!({"line_item": item, "ins_paid": "1"}),
    )
    .await;
    let pay = post_ok(
        &app,
        "/api/patient_payments",
        json!({"patient": patient, "line_item": item, "amount": "1"}),
    )
    .await;
    let b = app.b.token.clone();

    // Act / Assert: lists are empty, objects 404, references invalid.
    for (path, id) in [
        ("line_items", item),
        ("procedures", item),
        ("transactions", tx["id"].as_i64().unwrap()),
        ("patient_payments", pay["id"].as_i64().unwrap()),
    ] {
        let (status, list) = app.get_as(&b, &format!("/api/{path}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(ids(&list).is_empty(), "{path}: {list}");
        let (status, _) = app.get_as(&b, &format!("/api/{path}/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, list) = app.get_as(&b, "/api/patient_payment_log").await;
    assert!(ids(&list).is_empty());
    let (status, err) = app
        .send(
            Method::POST,
            "/api/line_items",
            Some(&b),
            Some(
                json!({"appointment": appt, "doctor": app.b.doctor, "code": "99213",
                        "procedure_type": "C", "price": "1", "diagnosis_pointers": []}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("appointment").is_some(), "{err}");
    let (status, err) = app
        .send(
            Method::POST,
            "/api/transactions",
            Some(&b),
            Some(json!({"line_item": item, "ins_paid": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("line_item").is_some(), "{err}");
    let (status, err) = app
        .send(
            Method::POST,
            "/api/patient_payments",
            Some(&b),
            Some(json!({"patient": patient, "amount": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("patient").is_some(), "{err}");
}

#[tokio::test]
async fn without_share_patients_a_doctor_sees_only_their_own_billing() {
    // Arrange: a second doctor in practice A; sharing off.
    let app = TestApp::new().await;
    let office = app.office(1);
    let (user2, doctor2) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    let (appt, patient) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let item = line_item(&app, appt, json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![Val::from(false), Val::from(app.a.id)],
    );

    // Act / Assert
    let (_, list) = app.get_as(&token2, "/api/line_items").await;
    assert!(ids(&list).is_empty());
    let (status, _) = app
        .get_as(&token2, &format!("/api/line_items/{item}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = app
        .send(
            Method::POST,
            "/api/transactions",
            Some(&token2),
            Some(json!({"line_item": item, "ins_paid": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, err) = app
        .send(
            Method::POST,
            "/api/patient_payments",
            Some(&token2),
            Some(json!({"patient": patient, "amount": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let _ = doctor2;
    let (_, list) = app.get("/api/line_items").await;
    assert_eq!(ids(&list), [item], "the owner still sees it");
}

#[tokio::test]
async fn billing_needs_its_scopes() {
    // Arrange
    let app = TestApp::new().await;
    let clinical_only = app.token_for(app.a.user, "clinical calendar patients");
    let billing_only = app.token_for(app.a.user, "billing");

    // Act / Assert
    for path in [
        "line_items",
        "transactions",
        "procedures",
        "patient_payment_log",
        "superbills",
    ] {
        let (status, _) = app.get_as(&clinical_only, &format!("/api/{path}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = app.get_as(&billing_only, &format!("/api/{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, _) = app.get_as(&billing_only, "/api/patient_payments").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "payments need billing:patient-payment"
    );
    let payments = app.token_for(app.a.user, "billing:patient-payment:read");
    let (status, _) = app.get_as(&payments, "/api/patient_payments").await;
    assert_eq!(status, StatusCode::OK);
}
