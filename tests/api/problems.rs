//! /api/problems.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn problems_default_to_icd10_and_active_and_link_patient_education() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let q = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, pr) = app
        .post(
            "/api/problems",
            json!({"doctor": app.a.doctor, "patient": p, "name": "Asthma",
                   "icd_code": "j45.909", "date_onset": "2020-02-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pr}");
    assert_eq!(pr["icd_version"], 10);
    assert_eq!(pr["status"], "active");
    assert_eq!(pr["icd_code"], "J45.909");
    assert_eq!(
        pr["info_url"],
        "https://connect.medlineplus.gov/application?mainSearchCriteria.v.cs=\
         2.16.840.1.113883.6.90&mainSearchCriteria.v.c=J45.909\
         &informationRecipient.languageCode.c=en"
    );
    let id = pr["id"].as_i64().unwrap();
    let (status, old) = app
        .post(
            "/api/problems",
            json!({"doctor": app.a.doctor, "patient": q, "icd_version": 9,
                   "icd_code": "493.90", "status": "resolved"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{old}");
    assert!(old["info_url"]
        .as_str()
        .unwrap()
        .contains("2.16.840.1.113883.6.103"));

    let (_, list) = app.get(&format!("/api/problems?patient={q}")).await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], old["id"]);

    for (body, key) in [
        (json!({"icd_version": 11}), "icd_version"),
        (json!({"icd_code": "asthma"}), "icd_code"),
        (json!({"icd_version": 9}), "icd_version"),
        (json!({"status": "cured"}), "status"),
        (json!({"info_url": "http://example.com"}), ""),
    ] {
        let (status, err) = app.patch(&format!("/api/problems/{id}"), body).await;
        if key.is_empty() {
            assert_eq!(status, StatusCode::NO_CONTENT, "read-only keys are ignored");
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{key}");
            assert!(err[key].is_array(), "{err}");
        }
    }
    let (status, _) = app
        .patch(&format!("/api/problems/{id}"), json!({"icd_code": "E11.9"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&format!("/api/problems/{id}")).await;
    assert!(got["info_url"]
        .as_str()
        .unwrap()
        .ends_with("v.c=E11.9&informationRecipient.languageCode.c=en"));
    let (status, _) = app
        .patch(&format!("/api/problems/{id}"), json!({"icd_code": ""}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&format!("/api/problems/{id}")).await;
    assert_eq!(got["info_url"], "");

    let (status, _) = app.delete(&format!("/api/problems/{id}")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/problems/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get_as(&app.b.token, "/api/problems").await;
    assert_eq!(list["results"], json!([]));
}
