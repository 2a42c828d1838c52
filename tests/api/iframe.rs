//! The iframe integration: enabling an app for the authorizing doctor, and signed launch
//! URLs verified as an integrator would, with the jsonwebtoken crate and the client secret.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

/// What an app does with a launch URL: checks the JWT's HS256 signature with its client
/// secret, and that the other query parameters are exactly the signed claims. Answers them.
fn verify(url: &str, secret: &str, own_params: &[&str]) -> Result<Map<String, Value>, String> {
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let jwt = params
        .iter()
        .find(|(k, _)| k == "jwt")
        .map(|(_, v)| v.clone())
        .ok_or("no jwt")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = decode::<Map<String, Value>>(
        &jwt,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| format!("signature: {e}"))?
    .claims;
    let signed: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| k != "jwt" && !own_params.contains(&k.as_str()))
        .collect();
    if signed.len() != claims.len() {
        return Err(format!(
            "parameters {signed:?} are not the claims {claims:?}"
        ));
    }
    for (k, v) in &signed {
        match claims.get(k) {
            Some(Value::Number(n)) if n.is_i64() && n.to_string() == *v => {}
            other => return Err(format!("{k}={v} is not signed as an integer ({other:?})")),
        }
    }
    Ok(claims)
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[tokio::test]
async fn an_enabled_app_gets_signed_patient_launch_urls() {
    let app = TestApp::new().await;
    let patient = app.create_patient(json!({"first_name": "Ada"})).await["id"]
        .as_i64()
        .unwrap();
    let launch = format!("/api/iframe_integration/launch?page=patient&patient_id={patient}");

    // Not enabled yet.
    let (status, body) = app.get(&launch).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = app.post("/api/iframe_integration", Value::Null).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({"doctor": app.a.doctor, "enabled": true}));
    let (status, _) = app.post("/api/iframe_integration", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "enabling twice is harmless");

    let before = chrono::Utc::now().timestamp();
    let (status, body) = app.get(&launch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("https://app.example/iframe/patient?v=1&user_id="),
        "{url}"
    );
    assert!(url.contains("&jwt="));
    let claims = verify(&url, &app.client_secret, &["v"]).unwrap();
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before..=before + 5).contains(&iat), "{iat}");
    assert_eq!(
        Value::Object(claims),
        json!({"user_id": app.a.user, "doctor_id": app.a.doctor, "patient_id": patient,
               "practice_id": app.a.id, "iat": iat})
    );

    // Tampering is detected: a changed parameter, a changed claim, another key.
    let other = with_param(&url, "patient_id", &(patient + 1).to_string());
    assert!(verify(&other, &app.client_secret, &["v"]).is_err());
    let jwt = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "jwt")
        .unwrap()
        .1
        .to_string();
    let parts: Vec<&str> = jwt.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["patient_id"] = json!(patient + 1);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    let forged_url = with_param(
        &with_param(&url, "jwt", &forged),
        "patient_id",
        &(patient + 1).to_string(),
    );
    assert!(verify(&forged_url, &app.client_secret, &["v"]).is_err());
    assert!(verify(&url, "not-the-client-secret", &["v"]).is_err());

    // The launch is audited as an access to the patient.
    let n = app
        .eventually_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'iframe_launch' AND object_id = ?",
            vec![Val::from(patient)],
            1,
        )
        .await;
    assert_eq!(n, 1);

    // Disabled again: 403.
    let (status, _) = app.delete("/api/iframe_integration").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&launch).await.0, StatusCode::FORBIDDEN);
    let (status, _) = app.delete("/api/iframe_integration").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn launch_parameters_are_checked_and_objects_outside_the_practice_are_404() {
    let app = TestApp::new().await;
    app.post("/api/iframe_integration", Value::Null).await;
    let (status, body) = app.get("/api/iframe_integration/launch").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["page"].is_array(), "{body}");
    let (status, body) = app.get("/api/iframe_integration/launch?page=billing").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["page"].is_array(), "{body}");
    for q in [
        "page=patient",
        "page=patient&patient_id=abc",
        "page=patient&patient_id=-3",
    ] {
        let (status, body) = app
            .get(&format!("/api/iframe_integration/launch?{q}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(body["patient_id"].is_array(), "{q}: {body}");
    }
    let (status, body) = app
        .get("/api/iframe_integration/launch?page=clinical_note")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment_id"].is_array(), "{body}");
    // No such appointment (on this branch, no appointments table at all): 404.
    let (status, _) = app
        .get("/api/iframe_integration/launch?page=clinical_note&appointment_id=987654")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/iframe_integration/launch?page=patient&patient_id=987654")
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Practice B's patient is a 404 for practice A.
    let (status, b_patient) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&app.b.token),
            Some(json!({"doctor": app.b.doctor, "gender": "Male"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .get(&format!(
            "/api/iframe_integration/launch?page=patient&patient_id={}",
            b_patient["id"]
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another doctor's patient in the same practice, when patients are not shared: 404.
    let (_, doctor2) = app.user(app.a.id, "doctor", None);
    let theirs = app.create_patient(json!({"doctor": doctor2})).await["id"]
        .as_i64()
        .unwrap();
    let url = format!("/api/iframe_integration/launch?page=patient&patient_id={theirs}");
    assert_eq!(app.get(&url).await.0, StatusCode::OK);
    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![Val::from(false), Val::from(app.a.id)],
    );
    assert_eq!(app.get(&url).await.0, StatusCode::NOT_FOUND);

    // Verbs and authentication.
    let (status, _) = app
        .send(
            Method::GET,
            "/api/iframe_integration",
            Some(&app.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .send(Method::POST, "/api/iframe_integration", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_enable_and_launch_for_their_doctor() {
    let app = TestApp::new().await;
    let (staff, doctor) = app.user(app.a.id, "staff", Some(app.a.doctor));
    assert_eq!(doctor, app.a.doctor);
    // No scope is needed for the integration itself.
    let token = app.token_for(staff, "user:read");
    let (status, body) = app
        .send(Method::POST, "/api/iframe_integration", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["doctor"], app.a.doctor);
    // Enabled for the doctor: the doctor's own token launches too.
    let patient = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let launch = format!("/api/iframe_integration/launch?page=patient&patient_id={patient}");
    let (status, body) = app.get_as(&token, &launch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = verify(body["url"].as_str().unwrap(), &app.client_secret, &["v"]).unwrap();
    assert_eq!(claims["user_id"], staff);
    assert_eq!(claims["doctor_id"], app.a.doctor);
    assert_eq!(app.get(&launch).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_app_without_an_iframe_url_cannot_launch() {
    let app = TestApp::new().await;
    let key =
        chartd::oauth::secret::ServerKey::new(app.settings.store.secret_key.as_deref().unwrap());
    let conn = &mut app.db.get().unwrap();
    let (_, client_id, _) = chartd::admin::app_create(
        conn,
        &key,
        &chartd::admin::NewApp {
            name: "No iframes".into(),
            redirect_uris: vec!["https://x.example/cb".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let token = chartd::admin::token_create(conn, &client_id, app.a.user, "patients", 3600, None)
        .unwrap()
        .access_token;
    let (status, _) = app
        .send(Method::POST, "/api/iframe_integration", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let patient = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, body) = app
        .get_as(
            &token,
            &format!("/api/iframe_integration/launch?page=patient&patient_id={patient}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["page"][0].as_str().unwrap().contains("no iframe URL"),
        "{body}"
    );
    // The test app was not enabled by this: its own launch is still refused.
    assert_eq!(
        app.get(&format!(
            "/api/iframe_integration/launch?page=patient&patient_id={patient}"
        ))
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}
