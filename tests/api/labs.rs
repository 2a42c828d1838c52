//! The lab workflow through HTTP: sublabs, orders, tests, documents (file uploads), results
//! with their abnormal flags, the orders summary, validation and practice isolation.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

fn ids(body: &Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {body}"))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, out) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {out}");
    out
}

/// A sublab, a patient and an order for doctor A; answers (patient, order).
async fn order(app: &TestApp) -> (i64, i64) {
    let sublab = created(
        app,
        "/api/sublabs",
        json!({"name": "Quest", "facility_code": "QST"}),
    )
    .await;
    let patient = id(&app.create_patient(json!({})).await);
    let order = created(
        app,
        "/api/lab_orders",
        json!({"sublab": id(&sublab), "doctor": app.a.doctor, "patient": patient}),
    )
    .await;
    (patient, id(&order))
}

/// Uploads a lab document as a multipart file.
async fn upload(app: &TestApp, token: &str, order: i64, kind: &str) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .text("lab_order", order.to_string())
        .text("type", kind.to_string())
        .part(
            "document",
            reqwest::multipart::Part::bytes(PDF.to_vec())
                .file_name("requisition.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let res = app
        .client
        .post(app.url("/api/lab_documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

fn result_body(test: i64, document: i64, extra: Value) -> Value {
    let mut body = json!({
        "lab_test": test, "document": document, "status": "final",
        "specimen_received": "2024-03-01T08:00:00", "results_released": "2024-03-02T09:00:00",
        "test_performed": "2024-03-01T12:00:00", "value": "1",
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test]
async fn the_documented_lab_workflow_runs_end_to_end() {
    let app = TestApp::new().await;

    // A sublab, and an order for a patient.
    let sublab = created(
        &app,
        "/api/sublabs",
        json!({"name": "Quest Diagnostics", "facility_code": "QST"}),
    )
    .await;
    assert_eq!(sublab["facility_code"], "QST");
    let patient = id(&app.create_patient(json!({})).await);
    let order = created(
        &app,
        "/api/lab_orders",
        json!({
            "sublab": id(&sublab), "doctor": app.a.doctor, "patient": patient,
            "icd10_codes": [{"code": "e11.9", "description": "Type 2 diabetes"}],
            "priority": "STAT", "notes": "Fasting", "accession_number": "ACC-1",
        }),
    )
    .await;
    let oid = id(&order);
    assert_eq!(order["status"], "N", "default status: not sent");
    assert_eq!(order["priority"], "STAT");
    assert_eq!(order["requisition_id"], oid.to_string());
    assert_eq!(order["documents"], json!([]));
    assert_eq!(
        order["icd10_codes"],
        json!([{"code": "E11.9", "description": "Type 2 diabetes"}])
    );
    assert!(order["timestamp"].as_str().unwrap().starts_with("20"));

    // Tests (a bulk POST), then the requisition (multipart) and results (base64) documents.
    let tests = created(
        &app,
        "/api/lab_tests",
        json!([
            {"lab_order": oid, "code": "2823-3", "name": "Potassium", "specimen_total_volume": 2.5,
             "collection_date": "2024-03-01T07:30:00"},
            {"lab_order": oid, "code": "2951-2", "name": "Sodium"},
            {"lab_order": oid, "code": "5196-1", "name": "Hepatitis B surface Ag", "status": "pending"},
        ]),
    )
    .await;
    let tests: Vec<i64> = tests.as_array().unwrap().iter().map(id).collect();
    let (_, t0) = app.get(&format!("/api/lab_tests/{}", tests[0])).await;
    assert_eq!(t0["status"], "preliminary");
    assert_eq!(t0["specimen_total_volume"], 2.5);
    assert_eq!(t0["collection_date"], "2024-03-01T07:30:00");
    let (status, req) = upload(&app, &app.token, oid, "REQ").await;
    assert_eq!(status, StatusCode::CREATED, "{req}");
    assert_eq!(req["type"], "REQ");
    assert!(req["timestamp"].is_string());
    let url = req["document"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/api/lab_documents/{}/document", app.address, id(&req))
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
    let res_doc = created(
        &app,
        "/api/lab_documents",
        json!({"lab_order": oid, "type": "RES", "document": b64}),
    )
    .await;
    let (_, order_now) = app.get(&format!("/api/lab_orders/{oid}")).await;
    assert_eq!(order_now["documents"], json!([id(&req), id(&res_doc)]));
    let file = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);

    // Results: potassium high by its range, sodium normal, the antigen flagged by status.
    let doc = id(&res_doc);
    let results = created(
        &app,
        "/api/lab_results",
        json!([
            result_body(
                tests[0],
                doc,
                json!({"value": 6.2, "value_is_numeric": true,
                "normal_range": "3.5 5.1", "unit": "mmol/L", "observation_code": "2823-3"})
            ),
            result_body(
                tests[1],
                doc,
                json!({"value": "140", "value_is_numeric": true,
                "normal_range": "135 145", "unit": "mmol/L"})
            ),
            result_body(
                tests[2],
                doc,
                json!({"value": "Reactive", "abnormal_status": "POS"})
            ),
            result_body(
                tests[2],
                doc,
                json!({"value": "Reactive", "abnormal_status": "AA",
                "status": "correction", "comments": "Repeat confirmed"})
            ),
        ]),
    )
    .await;
    let results = results.as_array().unwrap().clone();
    assert!(
        results.iter().all(|r| r["lab_order"] == oid),
        "derived from the test"
    );
    assert_eq!(results[0]["value"], "6.2");
    let flags: Vec<bool> = results
        .iter()
        .map(|r| r["is_abnormal"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, [true, false, false, true]);
    assert_eq!(results[1]["abnormal_status"], "");

    // Read back by order and by doctor.
    let all: Vec<i64> = results.iter().map(id).collect();
    let (_, by_order) = app.get(&format!("/api/lab_results?order={oid}")).await;
    assert_eq!(ids(&by_order), all);
    let (_, by_doctor) = app
        .get(&format!("/api/lab_results?doctor={}", app.a.doctor))
        .await;
    assert_eq!(ids(&by_doctor), all);
    let flagged: Vec<i64> = by_doctor["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["is_abnormal"] == true)
        .map(id)
        .collect();
    assert_eq!(flagged, [all[0], all[3]]);
    let (_, none) = app.get("/api/lab_results?doctor=999999").await;
    assert_eq!(ids(&none), Vec::<i64>::new());
    let (_, tests_of_order) = app.get(&format!("/api/lab_tests?order={oid}")).await;
    assert_eq!(ids(&tests_of_order), tests);
    let (_, docs) = app
        .get(&format!("/api/lab_documents?doctor={}", app.a.doctor))
        .await;
    assert_eq!(ids(&docs), [id(&req), id(&res_doc)]);
    let (_, orders) = app
        .get(&format!("/api/lab_orders?doctor={}", app.a.doctor))
        .await;
    assert_eq!(ids(&orders), [oid]);

    // A corrected value back in range clears the flag; the order is marked received.
    let (status, body) = app
        .patch(
            &format!("/api/lab_results/{}", all[0]),
            json!({"value": "4.8"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, k) = app.get(&format!("/api/lab_results/{}", all[0])).await;
    assert_eq!(k["is_abnormal"], false);
    let (status, _) = app
        .patch(&format!("/api/lab_orders/{oid}"), json!({"status": "R"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The summary, derived from the order.
    let (status, summary) = app
        .get(&format!("/api/lab_orders_summary?patient={patient}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let s = &summary["results"][0];
    assert_eq!(s["id"], oid);
    assert_eq!(s["lab"], "Quest Diagnostics");
    assert_eq!(s["priority"], "S");
    assert_eq!(s["status"], "R");
    assert_eq!(s["notes"], "Fasting");
    assert_eq!(s["accession_number"], "ACC-1");
    assert_eq!(s["doctor"], app.a.doctor);
    assert_eq!(s["patient"], patient);
    assert!(s["appointment"].is_null());
    assert!(s["created_at"].is_string() && s["updated_at"].is_string());
    let (_, other) = app.get("/api/lab_orders_summary?patient=999999").await;
    assert_eq!(ids(&other), Vec::<i64>::new());
}

#[tokio::test]
async fn invalid_lab_values_are_400_naming_the_field() {
    let app = TestApp::new().await;
    let (patient, oid) = order(&app).await;
    let test = id(&created(&app, "/api/lab_tests", json!({"lab_order": oid})).await);
    let (_, doc) = upload(&app, &app.token, oid, "RES").await;
    let doc = id(&doc);
    let sublab = app.get("/api/sublabs").await.1["results"][0]["id"].clone();

    let cases = [
        (
            "/api/lab_results",
            result_body(
                test,
                doc,
                json!({"value": "4", "value_is_numeric": true, "normal_range": "3.5-5.1"}),
            ),
            "normal_range",
        ),
        (
            "/api/lab_results",
            result_body(
                test,
                doc,
                json!({"value": "4", "value_is_numeric": true, "normal_range": "5 3"}),
            ),
            "normal_range",
        ),
        (
            "/api/lab_results",
            result_body(
                test,
                doc,
                json!({"value": "high", "value_is_numeric": true}),
            ),
            "value",
        ),
        (
            "/api/lab_results",
            result_body(test, doc, json!({"value": ""})),
            "value",
        ),
        (
            "/api/lab_results",
            result_body(test, doc, json!({"abnormal_status": "VERY"})),
            "abnormal_status",
        ),
        (
            "/api/lab_results",
            result_body(test, doc, json!({"status": "done"})),
            "status",
        ),
        (
            "/api/lab_results",
            result_body(test, 999999, json!({})),
            "document",
        ),
        (
            "/api/lab_results",
            result_body(999999, doc, json!({})),
            "lab_test",
        ),
        (
            "/api/lab_results",
            json!({"lab_test": test, "document": doc}),
            "specimen_received",
        ),
        (
            "/api/lab_tests",
            json!({"lab_order": oid, "status": "finished"}),
            "status",
        ),
        (
            "/api/lab_tests",
            json!({"lab_order": oid, "specimen_total_volume": "lots"}),
            "specimen_total_volume",
        ),
        ("/api/lab_tests", json!({"lab_order": 999999}), "lab_order"),
        (
            "/api/lab_orders",
            json!({"sublab": sublab, "doctor": app.a.doctor, "patient": patient, "status": "ZZ"}),
            "status",
        ),
        (
            "/api/lab_orders",
            json!({"sublab": sublab, "doctor": app.a.doctor, "patient": patient, "priority": "URGENT"}),
            "priority",
        ),
        (
            "/api/lab_orders",
            json!({"sublab": sublab, "doctor": app.a.doctor, "patient": patient, "icd10_codes": [{"code": "diabetes"}]}),
            "icd10_codes",
        ),
        (
            "/api/lab_orders",
            json!({"doctor": app.a.doctor, "patient": patient}),
            "sublab",
        ),
        (
            "/api/lab_documents",
            json!({"lab_order": oid, "type": "XYZ", "document": "JVBERi0="}),
            "type",
        ),
        (
            "/api/lab_documents",
            json!({"lab_order": oid, "type": "REQ"}),
            "document",
        ),
        (
            "/api/sublabs",
            json!({"name": " ", "facility_code": "X"}),
            "name",
        ),
        ("/api/sublabs", json!({"name": "X"}), "facility_code"),
    ];
    for (path, body, field) in cases {
        let (status, err) = app.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {err}");
        assert!(err[field].is_array(), "{path} {body} names {field}: {err}");
    }

    // A document of another order cannot hold this order's results.
    let (_, other_order) = order(&app).await;
    let (_, foreign) = upload(&app, &app.token, other_order, "RES").await;
    let (status, err) = app
        .post(
            "/api/lab_results",
            result_body(test, id(&foreign), json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["document"][0]
        .as_str()
        .unwrap()
        .contains("another lab order"));

    // Numeric rules hold on PATCH over the stored values too.
    let r = created(
        &app,
        "/api/lab_results",
        result_body(
            test,
            doc,
            json!({"value": "4", "value_is_numeric": true, "normal_range": "3 5"}),
        ),
    )
    .await;
    let (status, err) = app
        .patch(
            &format!("/api/lab_results/{}", id(&r)),
            json!({"normal_range": "three to five"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["normal_range"].is_array());
    // An explicit false does not hide a result its own abnormal_status flags.
    let (status, _) = app
        .patch(
            &format!("/api/lab_results/{}", id(&r)),
            json!({"abnormal_status": "HH", "is_abnormal": false}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/lab_results/{}", id(&r))).await.1["is_abnormal"],
        true
    );
    // Free-text results take any range.
    created(
        &app,
        "/api/lab_results",
        result_body(
            test,
            doc,
            json!({"value": "Negative", "normal_range": "Negative"}),
        ),
    )
    .await;
}

#[tokio::test]
async fn lab_verbs_follow_the_reference() {
    let app = TestApp::new().await;
    let (_, oid) = order(&app).await;
    let test = id(&created(&app, "/api/lab_tests", json!({"lab_order": oid})).await);
    for (method, path) in [
        (Method::DELETE, format!("/api/lab_orders/{oid}")),
        (Method::DELETE, "/api/sublabs/1".to_string()),
        (Method::POST, "/api/lab_orders_summary".to_string()),
        (Method::PATCH, format!("/api/lab_orders_summary/{oid}")),
    ] {
        let (status, _) = app
            .send(method.clone(), &path, Some(&app.token), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    let (status, _) = app.delete(&format!("/api/lab_tests/{test}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&format!("/api/lab_tests?order={oid}")).await;
    assert_eq!(
        ids(&list),
        Vec::<i64>::new(),
        "archived tests leave the list"
    );
    let (status, _) = app.get(&format!("/api/lab_tests/{test}")).await;
    assert_eq!(status, StatusCode::OK);
    // A deleted document leaves the order's documents.
    let (_, keep) = upload(&app, &app.token, oid, "REQ").await;
    let (_, gone) = upload(&app, &app.token, oid, "ABN").await;
    let (status, _) = app
        .delete(&format!("/api/lab_documents/{}", id(&gone)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, o) = app.get(&format!("/api/lab_orders/{oid}")).await;
    assert_eq!(o["documents"], json!([id(&keep)]));

    // PUT replaces an order; a missing timestamp keeps the submitted one.
    let (_, before) = app.get(&format!("/api/lab_orders/{oid}")).await;
    let mut body = before.clone();
    body["notes"] = json!("Replaced");
    body.as_object_mut().unwrap().remove("timestamp");
    let (status, err) = app.put(&format!("/api/lab_orders/{oid}"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    let (_, after) = app.get(&format!("/api/lab_orders/{oid}")).await;
    assert_eq!(after["notes"], "Replaced");
    assert_eq!(after["timestamp"], before["timestamp"]);

    // The summary needs the clinical scope.
    let labs_only = app.token_for(app.a.user, "labs");
    let (status, _) = app.get_as(&labs_only, "/api/lab_orders_summary").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get_as(&labs_only, "/api/lab_orders").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn another_practice_sees_none_of_our_labs() {
    let app = TestApp::new().await;
    let (_, oid) = order(&app).await;
    let test = id(&created(&app, "/api/lab_tests", json!({"lab_order": oid})).await);
    let (_, doc) = upload(&app, &app.token, oid, "RES").await;
    let result = created(
        &app,
        "/api/lab_results",
        result_body(test, id(&doc), json!({})),
    )
    .await;
    let b = app.b.token.clone();

    for path in [
        "sublabs",
        "lab_orders",
        "lab_orders_summary",
        "lab_documents",
        "lab_tests",
        "lab_results",
    ] {
        let (status, list) = app.get_as(&b, &format!("/api/{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(ids(&list), Vec::<i64>::new(), "{path}");
    }
    for path in [
        format!("/api/lab_orders/{oid}"),
        format!("/api/lab_tests/{test}"),
        format!("/api/lab_documents/{}", id(&doc)),
        format!("/api/lab_documents/{}/document", id(&doc)),
        format!("/api/lab_results/{}", id(&result)),
        format!("/api/lab_orders_summary/{oid}"),
    ] {
        let (status, _) = app.get_as(&b, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/lab_results/{}", id(&result)),
            Some(&b),
            Some(json!({"value": "9"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor can it attach its own things to our order.
    let (status, err) = app
        .send(
            Method::POST,
            "/api/lab_tests",
            Some(&b),
            Some(json!({"lab_order": oid})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["lab_order"].is_array());
    let (status, _) = upload(&app, &b, oid, "REQ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_share_patients_a_doctor_sees_only_their_own_lab_orders() {
    let app = TestApp::new().await;
    let (_, oid) = order(&app).await;
    let test = id(&created(&app, "/api/lab_tests", json!({"lab_order": oid})).await);
    let (user2, _) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    let (_, shared) = app.get_as(&token2, "/api/lab_tests").await;
    assert_eq!(ids(&shared), [test], "shared by default");

    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![Val::from(false), Val::from(app.a.id)],
    );
    for path in ["lab_orders", "lab_tests"] {
        let (_, list) = app.get_as(&token2, &format!("/api/{path}")).await;
        assert_eq!(ids(&list), Vec::<i64>::new(), "{path}");
    }
    let (status, _) = app.get_as(&token2, &format!("/api/lab_tests/{test}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = app
        .send(
            Method::POST,
            "/api/lab_tests",
            Some(&token2),
            Some(json!({"lab_order": oid})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // Nor order for a patient it cannot see.
    let sublab = app.get("/api/sublabs").await.1["results"][0]["id"].clone();
    let patient = app.get(&format!("/api/lab_orders/{oid}")).await.1["patient"].clone();
    let doctor2 = app.count(
        "SELECT doctor FROM users WHERE id = ?",
        vec![Val::from(user2)],
    );
    let (status, err) = app
        .send(
            Method::POST,
            "/api/lab_orders",
            Some(&token2),
            Some(json!({"sublab": sublab, "doctor": doctor2, "patient": patient})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["patient"].is_array(), "{err}");
    // The ordering doctor still sees everything.
    let (_, mine) = app.get(&format!("/api/lab_tests?order={oid}")).await;
    assert_eq!(ids(&mine), [test]);
}
