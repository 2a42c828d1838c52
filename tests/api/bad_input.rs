//! Bad input that once reached a 500: NUL characters, LIKE metacharacters and quotes in text
//! filters, durations out of range, text beyond its maximum length. Each is a 400 naming the
//! key, or (for filter values that are merely odd) an exact match, on both databases.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["first_name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_nul_character_anywhere_is_a_400_naming_the_key() {
    let app = TestApp::new().await;
    let id = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let body = app.patient_body(json!({"first_name": "A\u{0}B"}));
    let (status, err) = app.post("/api/patients", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["first_name"].is_array(), "{err}");
    let (status, err) = app
        .patch(
            &format!("/api/patients/{id}"),
            json!({"last_name": "\u{0}"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["last_name"].is_array(), "{err}");
    // Nested JSON too.
    let (status, err) = app
        .patch(
            &format!("/api/patients/{id}"),
            json!({"primary_insurance": {"insurance_company": "X\u{0}"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // A form body.
    let (status, err) = app
        .send_raw(
            Method::PATCH,
            &format!("/api/patients/{id}"),
            "application/x-www-form-urlencoded",
            "first_name=A%00B",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["first_name"].is_array(), "{err}");
    // A task title.
    let (status, err) = app.post("/api/tasks", json!({"title": "T\u{0}"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // Filter values.
    for q in [
        "first_name=%00",
        "email=a%00",
        "external_id=%00x",
        "last_name=x%00",
    ] {
        let (status, err) = app.get(&format!("/api/patients?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {err}");
        let key = q.split('=').next().unwrap();
        assert!(err[key].is_array(), "{q}: {err}");
    }
    let (_, got) = app.get(&format!("/api/patients/{id}")).await;
    assert!(!got["first_name"].as_str().unwrap().contains('\u{0}'));
}

#[tokio::test]
async fn a_nul_character_at_the_oauth_endpoints_is_a_400() {
    let app = TestApp::new().await;
    for path in ["/o/token/", "/o/revoke_token/", "/o/introspect/"] {
        for body in [
            "grant_type=refresh_token&refresh_token=a%00b&client_id=x&client_secret=y",
            "token=a%00&client_id=x%00&client_secret=y",
            "grant_type=authorization_code&code=x&client_id=x&client_secret=%00",
        ] {
            let res = app
                .client
                .post(app.url(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert!(
                status.is_client_error(),
                "{path} {body}: {status} {}",
                res.text().await.unwrap()
            );
        }
    }
    let res = app
        .client
        .get(app.url(
            "/o/authorize/?response_type=code&client_id=a%00&redirect_uri=http://x/&scope=user",
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn text_filters_match_quotes_backslashes_percent_and_underscore_literally() {
    let app = TestApp::new().await;
    let odd = ["a%b", "a_b", "axb", "back\\", "it's", "say \"hi\"", "x\\%"];
    for n in odd {
        let body = app.patient_body(json!({"first_name": n, "external_id": n, "email": n}));
        let (status, err) = app.post("/api/patients", body).await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {err}");
    }
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // icontains: each metacharacter stands for itself.
    for (q, want) in [
        ("%", vec!["a%b", "x\\%"]),
        ("_", vec!["a_b"]),
        ("\\", vec!["back\\", "x\\%"]),
        ("'", vec!["it's"]),
        ("\"", vec!["say \"hi\""]),
        ("a%", vec!["a%b"]),
    ] {
        let (status, list) = app
            .get(&format!("/api/patients?first_name={}", enc(q)))
            .await;
        assert_eq!(status, StatusCode::OK, "{q}: {list}");
        assert_eq!(names(&list), want, "first_name={q}");
    }
    // Exact filters.
    for n in odd {
        for key in ["external_id", "email"] {
            let (status, list) = app.get(&format!("/api/patients?{key}={}", enc(n))).await;
            assert_eq!(status, StatusCode::OK, "{key}={n}: {list}");
            assert_eq!(names(&list), vec![n.to_string()], "{key}={n}");
        }
    }
    for path in [
        "/api/patients_summary?first_name=",
        "/api/users?username=",
        "/api/appointments?external_id=",
        "/api/fee_schedules?code=",
        "/api/fee_schedules?payer_id=",
        "/api/custom_insurance_plan_names?name=",
    ] {
        for v in ["\\", "'", "\"", "%", "_", "a\\"] {
            let (status, body) = app.get(&format!("{path}{}", enc(v))).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{path}{v}: {status} {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_duration_out_of_range_is_a_400_naming_duration() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    for d in [
        1_000_000_000_000i64,
        -1_000_000_000_000,
        1 << 62,
        0,
        -5,
        100_000,
    ] {
        let body = app
            .appointment_body(
                office,
                "2026-03-02T10:00:00",
                json!({"patient": p, "duration": d}),
            )
            .await;
        let (status, err) = app.post("/api/appointments", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{d}: {err}");
        assert!(err["duration"].is_array(), "{d}: {err}");
    }
    let body = app
        .appointment_body(
            office,
            "2026-03-02T10:00:00",
            json!({"patient": p, "duration": 30}),
        )
        .await;
    let (status, a) = app.post("/api/appointments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let id = a["id"].as_i64().unwrap();
    let (status, err) = app
        .patch(
            &format!("/api/appointments/{id}"),
            json!({"duration": 1i64 << 62}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["duration"].is_array(), "{err}");
    let (_, got) = app.get(&format!("/api/appointments/{id}")).await;
    assert_eq!(got["duration"], 30);
}

#[tokio::test]
async fn text_beyond_its_maximum_length_is_a_400_and_the_limit_is_documented() {
    let app = TestApp::new().await;
    let long = "x".repeat(300);
    let (status, err) = app
        .post(
            "/api/patients",
            app.patient_body(json!({"first_name": long})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["first_name"][0].as_str().unwrap().contains("255"),
        "{err}"
    );
    let ok = "é".repeat(255);
    let (status, err) = app
        .post("/api/patients", app.patient_body(json!({"first_name": ok})))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "255 characters, 510 bytes: {err}"
    );
    let huge = "y".repeat(10 << 20);
    let (status, _) = app
        .post("/api/patients", app.patient_body(json!({"address": huge})))
        .await;
    assert!(status.is_client_error(), "{status}");
    let (_, doc) = app.get("/openapi.json").await;
    let p = &doc["components"]["schemas"]["Patient"]["properties"];
    assert_eq!(p["first_name"]["maxLength"], 255);
    assert!(p["address"]["maxLength"].as_u64().unwrap() >= 10_000);
}
