//! Billing: line items, transactions, procedures, patient payments and their log, billing
//! profiles, fee schedules, insurances, custom insurance plan names.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// An appointment of doctor A (a new patient) on `day` at 09:00; answers (appointment, patient).
async fn appointment(app: &TestApp, office: i64, day: &str) -> (i64, i64) {
    let body = app
        .appointment_body(office, &format!("{day}T09:00:00"), json!({}))
        .await;
    let (status, appt) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    (
        appt["id"].as_i64().unwrap(),
        appt["patient"].as_i64().unwrap(),
    )
}

fn ids(list: &Value) -> Vec<i64> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

async fn line_item(app: &TestApp, appointment: i64, extra: Value) -> Value {
    let mut body = json!({"appointment": appointment, "doctor": app.a.doctor, "code": "99213",
        "procedure_type": "C", "price": "120.00", "diagnosis_pointers": ["J06.9"]});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let (status, item) = app.post("/api/line_items", body).await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    item
}

#[tokio::test]
async fn a_line_item_takes_one_letter_and_answers_the_long_form() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (appt, patient) = appointment(&app, office, "2026-03-02").await;

    // Act
    let item = line_item(&app, appt, json!({"quantity": "2", "modifiers": ["25"]})).await;

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
    let (_, got) = app.get(&format!("/api/line_items/{}", item["id"])).await;
    assert_eq!(got["procedure_type"], "CPT(C)");
    let (_, appt_json) = app.get(&format!("/api/appointments/{appt}")).await;
    assert_eq!(appt_json["icd10_codes"], "J06.9");
}
