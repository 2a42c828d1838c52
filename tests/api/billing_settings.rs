//! Billing settings: billing profiles, fee schedules, insurances (the shipped payer list),
//! custom insurance plan names, and how the OpenAPI document marks chartd's extensions.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::billing::{appointment, ids, line_item};
use crate::helpers::TestApp;
use chartd::db::Val;

async fn created(app: &TestApp, path: &str, body: Value) -> i64 {
    let (status, obj) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{obj}");
    obj["id"].as_i64().unwrap()
}

#[tokio::test]
async fn billing_profiles_check_their_codes_and_filter_by_doctor() {
    // Arrange
    let app = TestApp::new().await;
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let body = json!({"doctor": app.a.doctor, "name": "Sick visit",
        "cpt_codes": [{"code": "99213-25", "quantity": 1}],
        "hcpcs_codes": [{"code": "j1100", "modifiers": ["jw"]}],
        "custom_procedure_codes": [{"code": "SUPPLY-1"}],
        "icd10_codes": ["j06.9"], "icd9_codes": ["465.9"]});

    // Act
    let (status, profile) = app.post("/api/billing_profiles", body).await;
    let other = created(
        &app,
        "/api/billing_profiles",
        json!({"doctor": doctor2, "name": "Well"}),
    )
    .await;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    assert_eq!(
        profile["cpt_codes"],
        json!([{"code": "99213", "quantity": 1, "modifiers": ["25"]}])
    );
    assert_eq!(profile["hcpcs_codes"][0]["code"], "J1100");
    assert_eq!(profile["hcpcs_codes"][0]["modifiers"], json!(["JW"]));
    assert_eq!(profile["icd10_codes"], json!(["J06.9"]));
    assert_eq!(profile["icd9_codes"], json!(["465.9"]));
    assert_eq!(profile["archived"], false);
    let id = profile["id"].as_i64().unwrap();
    let (_, list) = app
        .get(&format!("/api/billing_profiles?doctor={doctor2}"))
        .await;
    assert_eq!(ids(&list), [other]);
    let (_, list) = app.get("/api/billing_profiles").await;
    assert_eq!(ids(&list), [id, other]);
    for (bad, key) in [
        (json!({"cpt_codes": [{"code": "9921"}]}), "cpt_codes"),
        (json!({"cpt_codes": [{"quantity": 1}]}), "cpt_codes"),
        (json!({"hcpcs_codes": [{"code": "99213"}]}), "hcpcs_codes"),
        (json!({"icd10_codes": ["J6.9"]}), "icd10_codes"),
        (json!({"icd9_codes": ["4659"]}), "icd9_codes"),
        (json!({"name": "  "}), "name"),
    ] {
        let (status, err) = app
            .patch(&format!("/api/billing_profiles/{id}"), bad.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
        assert!(err[key][0].as_str().is_some(), "{bad}: {err}");
    }
    let (status, _) = app
        .patch(
            &format!("/api/billing_profiles/{id}"),
            json!({"name": "Sick"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.delete(&format!("/api/billing_profiles/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/billing_profiles").await;
    assert_eq!(ids(&list), [other]);
    let (_, list) = app.get_as(&app.b.token, "/api/billing_profiles").await;
    assert!(ids(&list).is_empty());
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/billing_profiles/{other}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fee_schedules_filter_exactly_and_feed_line_items() {
    // Arrange
    let app = TestApp::new().await;
    let office = app.office(1);
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let f1 = created(
        &app,
        "/api/fee_schedules",
        json!({"doctor": app.a.doctor, "code": "99213",
        "code_type": "CPT", "base_price": "100.00", "allowed_amount": "72.35", "payer_id": "60054",
        "cpt_hcpcs_modifier1": "25", "office": office, "description": "Office visit"}),
    )
    .await;
    let f2 = created(
        &app,
        "/api/fee_schedules",
        json!({"doctor": doctor2, "code": "J1100",
        "code_type": "HCPCS", "cash_price": 12.5, "payer_id": "62308"}),
    )
    .await;
    let f3 = created(
        &app,
        "/api/fee_schedules",
        json!({"doctor": app.a.doctor, "code": "J06.9",
        "code_type": "ICD10"}),
    )
    .await;

    // Act / Assert: each filter.
    for (query, want) in [
        (format!("doctor={doctor2}"), vec![f2]),
        (format!("doctor={}", app.a.doctor), vec![f1, f3]),
        ("payer_id=60054".to_string(), vec![f1]),
        ("code_type=HCPCS".to_string(), vec![f2]),
        ("code_type=ICD10".to_string(), vec![f3]),
        ("code=99213".to_string(), vec![f1]),
        ("code=99214".to_string(), vec![]),
        ("since=2000-01-01".to_string(), vec![f1, f2, f3]),
        ("since=2999-01-01".to_string(), vec![]),
    ] {
        let (status, list) = app.get(&format!("/api/fee_schedules?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(ids(&list), want, "{query}");
    }
    let (status, err) = app.get("/api/fee_schedules?code_type=LOINC").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("code_type").is_some());
    let (_, fee) = app.get(&format!("/api/fee_schedules/{f2}")).await;
    assert_eq!(fee["cash_price"], "12.50");
    assert_eq!(fee["base_price"], "0.00");
    assert_eq!(fee["insured_out_of_network_price"], Value::Null);
    for (bad, key) in [
        (json!({"code": "9921", "code_type": "CPT"}), "code"),
        (json!({"code": "99213", "code_type": "ICD10"}), "code"),
        (json!({"cpt_hcpcs_modifier2": "ABC"}), "cpt_hcpcs_modifier2"),
        (json!({"base_price": "-1"}), "base_price"),
        (json!({"code_type": "LOINC"}), "code_type"),
    ] {
        let (status, err) = app
            .patch(&format!("/api/fee_schedules/{f1}"), bad.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
        assert!(err.get(key).is_some(), "{bad}: {err}");
    }

    // A line item of the doctor for the code takes its description and expected reimbursement.
    let (appt, _) = appointment(&app, office, "2026-03-02T09:00:00").await;
    let item = line_item(&app, appt, json!({"quantity": "1.5"})).await;
    assert_eq!(item["description"], "Office visit");
    assert_eq!(
        item["expected_reimbursement"], "108.53",
        "72.35 × 1.5 = 108.525, rounded"
    );
    assert_eq!(item["billed"], "180.00");
    let (_, list) = app.get_as(&app.b.token, "/api/fee_schedules").await;
    assert!(ids(&list).is_empty());
}

#[tokio::test]
async fn insurances_search_the_shipped_payer_list() {
    // Arrange
    let app = TestApp::new().await;
    let names = |list: &Value| -> Vec<String> {
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["payer_name"].as_str().unwrap().to_string())
            .collect()
    };

    // Act / Assert: payer_type is required and checked.
    let (status, err) = app.get("/api/insurances").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("payer_type").is_some(), "{err}");
    let (status, err) = app.get("/api/insurances?payer_type=availity").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("payer_type").is_some(), "{err}");

    // By partial name (any case), partial id and state.
    let (status, list) = app.get("/api/insurances?payer_type=emdeon&term=AETN").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["results"],
        json!([{"payer_name": "Aetna", "payer_id": "60054", "state": "CT"}])
    );
    let (_, list) = app.get("/api/insurances?payer_type=emdeon&term=8772").await;
    assert_eq!(names(&list), ["UnitedHealthcare"]);
    let (_, list) = app.get("/api/insurances?payer_type=gateway&term=fl").await;
    assert_eq!(
        names(&list),
        [
            "Blue Cross Blue Shield of Florida (Florida Blue)",
            "Medicare Part B Florida (First Coast)",
            "Florida Medicaid"
        ]
    );
    let (_, list) = app.get("/api/insurances?payer_type=ihcfa&term=paper").await;
    assert_eq!(list["results"][0]["state"], Value::Null);
    let (_, list) = app.get("/api/insurances?payer_type=ihcfa&term=zzz").await;
    assert!(names(&list).is_empty());

    // Paging: following next visits each payer of the type once.
    let (_, all) = app.get("/api/insurances?payer_type=emdeon").await;
    let all = names(&all);
    assert_eq!(all.len(), 20);
    let mut seen = Vec::new();
    let mut url = "/api/insurances?payer_type=emdeon&page_size=6".to_string();
    loop {
        let (status, page) = app.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(names(&page));
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, all);
    let (_, page3) = app
        .get("/api/insurances?payer_type=emdeon&page_size=6&page=3")
        .await;
    assert_eq!(names(&page3), all[12..18]);
    let (_, back) = app.get(page3["previous"].as_str().unwrap()).await;
    assert_eq!(names(&back), all[6..12]);
    let (status, _) = app.post("/api/insurances", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .get_as("nope", "/api/insurances?payer_type=emdeon")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn custom_insurance_plan_names_record_who_made_them_and_filter() {
    // Arrange
    let app = TestApp::new().await;
    let (user2, doctor2) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);

    // Act
    let (status, mine) = app
        .post(
            "/api/custom_insurance_plan_names",
            json!({"insurance_plan_name": "Acme Gold PPO"}),
        )
        .await;
    let (_, theirs) = app
        .send(
            Method::POST,
            "/api/custom_insurance_plan_names",
            Some(&token2),
            Some(json!({"insurance_plan_name": "Acme Silver HMO"})),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["user"], app.a.user);
    assert_eq!(mine["doctor"], app.a.doctor);
    assert_eq!(theirs["user"], user2);
    assert_eq!(theirs["doctor"], doctor2);
    let (m, t) = (mine["id"].as_i64().unwrap(), theirs["id"].as_i64().unwrap());
    for (query, want) in [
        (format!("doctor={doctor2}"), vec![t]),
        (format!("user={}", app.a.user), vec![m]),
        ("name=acme".to_string(), vec![m, t]),
        ("name=gold".to_string(), vec![m]),
        ("since=2999-01-01".to_string(), vec![]),
    ] {
        let (_, list) = app
            .get(&format!("/api/custom_insurance_plan_names?{query}"))
            .await;
        assert_eq!(ids(&list), want, "{query}");
    }
    let (status, err) = app
        .post(
            "/api/custom_insurance_plan_names",
            json!({"insurance_plan_name": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.get("insurance_plan_name").is_some());
    let (status, _) = app
        .delete(&format!("/api/custom_insurance_plan_names/{m}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/custom_insurance_plan_names").await;
    assert_eq!(ids(&list), [t]);
    let (_, list) = app
        .get("/api/custom_insurance_plan_names?show_archived=true")
        .await;
    assert_eq!(ids(&list), [m, t]);
    assert_eq!(list["results"][0]["archived"], true);
    let (_, list) = app
        .get_as(&app.b.token, "/api/custom_insurance_plan_names")
        .await;
    assert!(ids(&list).is_empty());
    // The settings scope and permission guard it.
    let billing = app.token_for(app.a.user, "billing");
    let (status, _) = app
        .get_as(&billing, "/api/custom_insurance_plan_names")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.sql(
        "UPDATE users SET permissions = ? WHERE id = ?",
        vec![Val::from("{}"), Val::from(user2)],
    );
    let (status, _) = app
        .get_as(&token2, "/api/custom_insurance_plan_names")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_marks_chartd_extensions() {
    // Arrange
    let app = TestApp::new().await;

    // Act
    let (status, doc) = app.send(Method::GET, "/openapi.json", None, None).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    let op = |path: &str, verb: &str| doc["paths"][path][verb].clone();
    let ext = |path: &str, verb: &str| op(path, verb)["x-chartd-extension"] == json!(true);
    for (path, verb) in [
        ("/api/transactions", "post"),
        ("/api/billing_profiles", "post"),
        ("/api/billing_profiles/{id}", "patch"),
        ("/api/fee_schedules/{id}", "delete"),
        ("/api/custom_insurance_plan_names", "post"),
        ("/api/superbills", "post"),
        ("/api/superbills", "get"),
        ("/api/superbills/{id}", "patch"),
    ] {
        assert!(ext(path, verb), "{verb} {path} is an extension");
    }
    for (path, verb) in [
        ("/api/transactions", "get"),
        ("/api/line_items", "post"),
        ("/api/patient_payments", "post"),
        ("/api/billing_profiles", "get"),
        ("/api/insurances", "get"),
    ] {
        assert!(op(path, verb).is_object(), "{verb} {path} exists");
        assert!(!ext(path, verb), "{verb} {path} is in the reference");
    }
    for (path, verb) in [
        ("/api/procedures", "post"),
        ("/api/patient_payment_log", "post"),
        ("/api/line_items/{id}", "patch"),
    ] {
        assert!(op(path, verb).is_null(), "{verb} {path} does not exist");
    }
    let input =
        &op("/api/superbills", "post")["requestBody"]["content"]["application/json"]["schema"];
    assert!(input["properties"]["procedures"].is_object(), "{input}");
    assert!(doc["paths"]["/api/insurances"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "payer_type"));
}
