//! Webhooks: the management API (HTTP Basic as the app), the verification handshake, pings,
//! the signatures, and every event raised by every path that makes its change, delivered to
//! a real receiver on loopback.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::TestApp;
use crate::receiver::{
    call, call_as, deliveries, hex_hmac, settings, verified_hook, verified_hook_as, wait_delivery,
    Behavior, Receiver, SECRET,
};

const ALL_EVENTS: &[&str] = &[
    "APPOINTMENT_CREATE",
    "APPOINTMENT_MODIFY",
    "PATIENT_CREATE",
    "PATIENT_MODIFY",
    "PATIENT_PROBLEM_CREATE",
    "PATIENT_PROBLEM_MODIFY",
    "PATIENT_ALLERGY_CREATE",
    "PATIENT_ALLERGY_MODIFY",
    "PATIENT_MEDICATION_CREATE",
    "PATIENT_MEDICATION_MODIFY",
    "CLINICAL_NOTE_LOCK",
    "CLINICAL_NOTE_UNLOCK",
    "TASK_CREATE",
    "TASK_MODIFY",
    "TASK_DELETE",
];

#[tokio::test]
async fn webhooks_are_managed_by_their_app_with_http_basic() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let body = json!({"callback_url": rx.url("a"), "secret_token": SECRET,
                      "events": ["PATIENT_CREATE", "PATIENT_MODIFY", "PATIENT_CREATE"]});

    // No credentials, a bearer token, a wrong secret: 401 asking for Basic.
    for res in [
        app.client
            .post(app.url("/api/webhooks"))
            .json(&body)
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/api/webhooks"))
            .bearer_auth(&app.token)
            .json(&body)
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/api/webhooks"))
            .basic_auth(&app.client_id, Some("wrong"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
    }

    // Create: 201, unverified, active, events deduplicated, never the secret.
    let res = app
        .client
        .post(app.url("/api/webhooks"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        res.headers().contains_key("x-ratelimit-limit"),
        "management calls count against the app's limit"
    );
    let hook: Value = res.json().await.unwrap();
    let id = hook["id"].as_i64().unwrap();
    assert_eq!(
        hook,
        json!({"id": id, "url": app.url(&format!("/api/webhooks/{id}")), "callback_url": rx.url("a"),
               "events": ["PATIENT_CREATE", "PATIENT_MODIFY"],
               "active": true, "verified": false})
    );

    // Retrieve and list.
    let (status, got) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, hook);
    let (_, list) = call(&app, Method::GET, "/api/webhooks", None).await;
    assert_eq!(list["results"], json!([hook]));
    assert_eq!(list["next"], Value::Null);

    // PATCH: 204; events and active change, verified stays.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(json!({"events": ["TASK_CREATE"], "active": false, "verified": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(got["events"], json!(["TASK_CREATE"]));
    assert_eq!(got["active"], false);
    assert_eq!(got["verified"], false, "verified is read-only");

    // PUT is not a verb here; another app sees none of it.
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/webhooks/{id}"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (other_id, other_secret) = other_app(&app, &[]);
    let other = (other_id.as_str(), other_secret.as_str());
    for (method, path) in [
        (Method::GET, format!("/api/webhooks/{id}")),
        (Method::PATCH, format!("/api/webhooks/{id}")),
        (Method::DELETE, format!("/api/webhooks/{id}")),
        (Method::POST, format!("/api/webhooks/{id}/verify")),
        (Method::POST, format!("/api/webhooks/{id}/ping")),
        (Method::GET, format!("/api/webhooks/{id}/deliveries")),
        (Method::GET, format!("/api/webhooks/{id}/summary")),
    ] {
        let (status, _) = call_as(&app, other, method, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, list) = call_as(&app, other, Method::GET, "/api/webhooks", None).await;
    assert_eq!(list["results"], json!([]));

    // DELETE: 204, then gone.
    let (status, _) = call(&app, Method::DELETE, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Another registered app, with `patients` tokens for the given users; answers (client_id,
/// secret).
fn other_app(app: &TestApp, users: &[i64]) -> (String, String) {
    other_app_with(app, users, "patients")
}

fn other_app_with(app: &TestApp, users: &[i64], scope: &str) -> (String, String) {
    let conn = &mut app.db.get().unwrap();
    let (_, client_id, secret) = chartd::admin::app_create(
        conn,
        &app.server_key(),
        &chartd::admin::NewApp {
            name: "Other".into(),
            redirect_uris: vec!["http://127.0.0.1:9/other".into()],
            ..Default::default()
        },
    )
    .unwrap();
    for user in users {
        chartd::admin::token_create(conn, &client_id, *user, scope, 3600, None).unwrap();
    }
    (client_id, secret)
}

#[tokio::test]
async fn bad_bodies_get_400_naming_the_field() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let url = rx.url("a");
    for (body, field) in [
        (
            json!({"secret_token": SECRET, "events": ["PATIENT_CREATE"]}),
            "callback_url",
        ),
        (
            json!({"callback_url": "ftp://example.com/x", "secret_token": SECRET, "events": ["PATIENT_CREATE"]}),
            "callback_url",
        ),
        (
            json!({"callback_url": "not a url", "secret_token": SECRET, "events": ["PATIENT_CREATE"]}),
            "callback_url",
        ),
        (
            json!({"callback_url": "https://u:p@example.com/", "secret_token": SECRET, "events": ["PATIENT_CREATE"]}),
            "callback_url",
        ),
        (
            json!({"callback_url": url, "events": ["PATIENT_CREATE"]}),
            "secret_token",
        ),
        (
            json!({"callback_url": url, "secret_token": "short-secret", "events": ["PATIENT_CREATE"]}),
            "secret_token",
        ),
        (
            json!({"callback_url": url, "secret_token": "a".repeat(40), "events": ["PATIENT_CREATE"]}),
            "secret_token",
        ),
        (
            json!({"callback_url": url, "secret_token": "abcd".repeat(10), "events": ["PATIENT_CREATE"]}),
            "secret_token",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET}),
            "events",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET, "events": []}),
            "events",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET, "events": ["PATIENT_EXPLODE"]}),
            "events",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET, "events": ["PING"]}),
            "events",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET, "events": "PATIENT_CREATE"}),
            "events",
        ),
        (
            json!({"callback_url": url, "secret_token": SECRET, "events": ["PATIENT_CREATE"], "active": "maybe"}),
            "active",
        ),
    ] {
        let (status, err) = call(&app, Method::POST, "/api/webhooks", Some(body.clone())).await;
        if field == "events" && body["events"] == "PATIENT_CREATE" {
            // A string is taken as a comma-separated list (form bodies).
            assert_eq!(status, StatusCode::CREATED, "{body}: {err}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(err[field].is_array(), "{body} names {field}: {err}");
    }
    // A PATCH is checked the same way.
    let id = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    let (status, err) = call(
        &app,
        Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(json!({"secret_token": "0123456789", "events": ["NOPE"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["secret_token"].is_array() && err["events"].is_array(),
        "{err}"
    );
    // Filters of the delivery log are checked.
    for (q, field) in [("status=lost", "status"), ("event=NOPE", "event")] {
        let (status, err) = call(
            &app,
            Method::GET,
            &format!("/api/webhooks/{id}/deliveries?{q}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err[field].is_array(), "{err}");
    }
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    // Default settings: CHARTD_WEBHOOK_ALLOW_PRIVATE is off.
    let app = TestApp::new().await;
    let rx = Receiver::start();
    for url in [
        rx.url("a"),
        "http://localhost:9/hook".to_string(),
        "http://[::1]:9/hook".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://10.0.0.7/hook".to_string(),
        "http://[::ffff:127.0.0.1]/hook".to_string(),
    ] {
        let (status, err) = call(
            &app,
            Method::POST,
            "/api/webhooks",
            Some(
                json!({"callback_url": url, "secret_token": SECRET, "events": ["PATIENT_CREATE"]}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {err}");
        assert!(err["callback_url"].is_array(), "{err}");
    }

    // A webhook that got past registration (a name resolving elsewhere later) is still
    // never called: the check holds where the connection is made, for names and literals.
    let app_id = app.count(
        "SELECT id FROM apps WHERE client_id = ?",
        vec![app.client_id.as_str().into()],
    );
    let port = rx.base.rsplit(':').next().unwrap().to_string();
    let mut hooks = Vec::new();
    for (name, host) in [("by-name", "localhost"), ("by-address", "127.0.0.1")] {
        let url = format!("http://{host}:{port}/hook/{name}");
        app.sql(
            "INSERT INTO webhooks (app_id, callback_url, callback_host, secret_token, events, \
             active, verified, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            vec![
                app_id.into(),
                url.as_str().into(),
                format!("{host}:{port}").into(),
                SECRET.into(),
                r#"["PATIENT_CREATE"]"#.into(),
                true.into(),
                true.into(),
            ],
        );
        hooks.push((name, app.count("SELECT MAX(id) FROM webhooks", vec![])));
    }
    app.create_patient(json!({})).await;
    for (name, hook) in hooks {
        let list = loop {
            let list = deliveries(&app, hook).await;
            if list.len() == 1 && !list[0]["attempts"].as_array().unwrap().is_empty() {
                break list;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let attempt = &list[0]["attempts"][0];
        assert_eq!(attempt["status_code"], Value::Null, "{attempt}");
        assert!(
            attempt["error"]
                .as_str()
                .unwrap()
                .contains("loopback, private"),
            "{attempt}"
        );
        // And the handshake refuses it too.
        let (_, v) = call(
            &app,
            Method::POST,
            &format!("/api/webhooks/{hook}/verify"),
            None,
        )
        .await;
        assert_eq!(v["verified"], false, "{v}");
        assert!(rx.all(name).is_empty(), "{name} was never called");
    }
}

#[tokio::test]
async fn the_handshake_verifies_and_a_new_url_needs_it_again() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let (_, hook) = call(
        &app,
        Method::POST,
        "/api/webhooks",
        Some(
            json!({"callback_url": format!("{}?source=chartd", rx.url("a")), "secret_token": SECRET,
                    "events": ["PATIENT_CREATE"]}),
        ),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let verify = format!("/api/webhooks/{id}/verify");

    // A wrong answer: not verified.
    rx.set(
        "a",
        Behavior {
            secret: None,
            ..Behavior::default()
        },
    );
    let (status, v) = call(&app, Method::POST, &verify, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["verified"], false);
    assert_eq!(v["status_code"], 200);
    assert!(v["error"].as_str().unwrap().contains("HMAC"), "{v}");

    // The right answer: verified. The call was GET callback_url&msg=..., the URL's own query kept.
    rx.set("a", Behavior::default());
    let (_, v) = call(&app, Method::POST, &verify, None).await;
    assert_eq!(
        v,
        json!({"verified": true, "status_code": 200, "error": null})
    );
    let calls = rx.all("a");
    let last = calls.last().unwrap();
    assert_eq!(last.method, "GET");
    assert!(
        last.query.starts_with("source=chartd&msg="),
        "{}",
        last.query
    );
    let (_, got) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(got["verified"], true);

    // Changing other keys keeps it verified; a new callback_url does not.
    call(
        &app,
        Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(json!({"events": ["PATIENT_MODIFY"]})),
    )
    .await;
    let (_, got) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(got["verified"], true);
    call(
        &app,
        Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(json!({"callback_url": rx.url("b")})),
    )
    .await;
    let (_, got) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(got["verified"], false);
    assert_eq!(got["callback_url"], rx.url("b"));

    // Unverified, it receives nothing but the handshake: no deliveries, no ping.
    let (status, err) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{id}/ping"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let p = app.create_patient(json!({})).await;
    app.patch(
        &format!("/api/patients/{}", p["id"]),
        json!({"first_name": "X"}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(rx.all("b").is_empty());
    assert!(deliveries(&app, id).await.is_empty());

    // Verified again at the new URL, it receives the next change.
    let (_, v) = call(&app, Method::POST, &verify, None).await;
    assert_eq!(v["verified"], true);
    app.patch(
        &format!("/api/patients/{}", p["id"]),
        json!({"first_name": "Y"}),
    )
    .await;
    let posts = rx.wait_posts("b", 1, 10).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].event(), "PATIENT_MODIFY");
}

/// HMAC-SHA256 of `msg` with `key`, base64.
fn b64_hmac(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

#[tokio::test]
async fn a_ping_is_delivered_signed_both_ways() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let id = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;

    let (status, d) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{id}/ping"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{d}");
    assert_eq!(d["event"], "PING");
    let delivery = d["id"].as_i64().unwrap();
    let posts = rx.wait_posts("a", 1, 10).await;
    let p = &posts[0];

    // DrChrono's headers.
    assert_eq!(p.event(), "PING");
    assert_eq!(p.header("x-drchrono-delivery"), delivery.to_string());
    assert_eq!(p.header("content-type"), "application/json");
    assert_eq!(p.header("x-drchrono-signature"), hex_hmac(SECRET, &p.body));
    // Standard Webhooks, checked as a receiver's library would: key = base64-decoded
    // whsec_ secret, which is the secret token's bytes.
    let whsec = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(SECRET)
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(whsec.trim_start_matches("whsec_"))
        .unwrap();
    let (msg_id, ts) = (p.header("webhook-id"), p.header("webhook-timestamp"));
    assert!(!msg_id.is_empty());
    let ts_num: i64 = ts.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts_num).abs() < 60);
    let signed = [msg_id.as_bytes(), b".", ts.as_bytes(), b".", &p.body].concat();
    let expected = format!("v1,{}", b64_hmac(&key, &signed));
    assert!(
        p.header("webhook-signature")
            .split(' ')
            .any(|s| s == expected),
        "{} vs {expected}",
        p.header("webhook-signature")
    );
    // A body tampered with fails both.
    let mut tampered = p.body.clone();
    tampered.push(b' ');
    assert_ne!(
        p.header("x-drchrono-signature"),
        hex_hmac(SECRET, &tampered)
    );

    // The body: the webhook (no secret) and an empty object.
    let body = p.json();
    let (_, hook) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(body, json!({"receiver": hook, "object": {}}));

    // The log.
    let d = wait_delivery(&app, id, delivery, "delivered", 10).await;
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["next_attempt_at"], Value::Null);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["status_code"], 200);
    assert_eq!(attempts[0]["error"], Value::Null);
    assert!(attempts[0]["duration_ms"].as_i64().unwrap() >= 0);
}

/// Waits for the next deliveries of hook "all" after `seen`, checks their events (arrival
/// order aside) and answers their objects in the order of `want`. The latest event about
/// each object carries what GET answers for it now (an earlier one, what it answered then).
async fn expect(
    app: &TestApp,
    rx: &Receiver,
    seen: &mut usize,
    want: &[(&str, &str)],
) -> Vec<Value> {
    let posts = rx.wait_posts("all", *seen + want.len(), 15).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let posts = if rx.posts("all").len() > posts.len() {
        rx.posts("all")
    } else {
        posts
    };
    assert_eq!(
        posts.len(),
        *seen + want.len(),
        "expected {want:?}, got {:?}",
        posts[*seen..]
            .iter()
            .map(|p| p.event().to_string())
            .collect::<Vec<_>>()
    );
    let mut new: Vec<_> = posts[*seen..].to_vec();
    *seen = posts.len();
    // In the order they were recorded (concurrent deliveries may arrive in any order).
    new.sort_by_key(|p| p.header("x-drchrono-delivery").parse::<i64>().unwrap());
    let mut got: Vec<(String, Value, bool)> = new
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let object = p.json()["object"].clone();
            // The kind of object: the event without its last word (PATIENT_CREATE: PATIENT).
            let kind = |e: &str| e.rsplit_once('_').map(|(k, _)| k.to_string());
            let later = new[i + 1..].iter().any(|q| {
                q.json()["object"]["id"] == object["id"] && kind(q.event()) == kind(p.event())
            });
            (p.event().to_string(), object, !later)
        })
        .collect();
    let mut objects = Vec::new();
    for (event, path) in want {
        let i = got
            .iter()
            .position(|(e, _, _)| e == event)
            .unwrap_or_else(|| panic!("no {event} among {got:?}"));
        let (_, object, latest) = got.remove(i);
        let (status, now) = app.get(&format!("/api/{path}/{}", object["id"])).await;
        assert_eq!(status, StatusCode::OK);
        if latest {
            assert_eq!(object, now, "{event}: the object is what GET answers");
        } else {
            assert_eq!(object["id"], now["id"]);
        }
        objects.push(object);
    }
    objects
}

#[tokio::test]
async fn every_event_is_raised_by_every_path_that_makes_its_change() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let hook = verified_hook(&app, &rx, "all", ALL_EVENTS).await;
    let mut seen = 0;

    // Patients: single and bulk POST, PUT, PATCH, DELETE (archives: a modification).
    let p = app.create_patient(json!({"first_name": "Ann"})).await;
    let pid = p["id"].as_i64().unwrap();
    expect(&app, &rx, &mut seen, &[("PATIENT_CREATE", "patients")]).await;
    let (status, _) = app
        .post(
            "/api/patients",
            json!([
                app.patient_body(json!({"first_name": "B1"})),
                app.patient_body(json!({"first_name": "B2"}))
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let bulk = expect(
        &app,
        &rx,
        &mut seen,
        &[
            ("PATIENT_CREATE", "patients"),
            ("PATIENT_CREATE", "patients"),
        ],
    )
    .await;
    let mut names: Vec<&str> = bulk
        .iter()
        .map(|o| o["first_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["B1", "B2"]);
    app.put(
        &format!("/api/patients/{pid}"),
        app.patient_body(json!({"first_name": "Anna"})),
    )
    .await;
    let o = expect(&app, &rx, &mut seen, &[("PATIENT_MODIFY", "patients")]).await;
    assert_eq!(o[0]["first_name"], "Anna");
    app.patch(
        &format!("/api/patients/{pid}"),
        json!({"last_name": "Smith"}),
    )
    .await;
    let o = expect(&app, &rx, &mut seen, &[("PATIENT_MODIFY", "patients")]).await;
    assert_eq!(o[0]["last_name"], "Smith");
    let gone = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    expect(&app, &rx, &mut seen, &[("PATIENT_CREATE", "patients")]).await;
    app.delete(&format!("/api/patients/{gone}")).await;
    let o = expect(&app, &rx, &mut seen, &[("PATIENT_MODIFY", "patients")]).await;
    assert_eq!(o[0]["archived"], true);

    // patients_summary writes patients: the object is GET /api/patients/{id}.
    let (status, s) = app
        .post("/api/patients_summary", json!({"doctor": app.a.doctor, "gender": "Male", "date_of_birth": "1970-01-01", "first_name": "Sam"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let o = expect(&app, &rx, &mut seen, &[("PATIENT_CREATE", "patients")]).await;
    assert!(o[0].get("patient_status").is_some(), "the full patient");
    app.patch(
        &format!("/api/patients_summary/{}", s["id"]),
        json!({"last_name": "Summary"}),
    )
    .await;
    expect(&app, &rx, &mut seen, &[("PATIENT_MODIFY", "patients")]).await;

    // Appointments: POST, PATCH, DELETE.
    let office = app.office(1);
    let (status, a) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": pid, "office": office,
            "exam_room": 1, "scheduled_time": "2026-07-01T10:00:00", "duration": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let appt = a["id"].as_i64().unwrap();
    // The patient's offices changed too.
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[
            ("APPOINTMENT_CREATE", "appointments"),
            ("PATIENT_MODIFY", "patients"),
        ],
    )
    .await;
    assert_eq!(o[1]["offices"], json!([office]));
    app.patch(
        &format!("/api/appointments/{appt}"),
        json!({"notes": "Bring records"}),
    )
    .await;
    expect(
        &app,
        &rx,
        &mut seen,
        &[("APPOINTMENT_MODIFY", "appointments")],
    )
    .await;

    // Clinical notes: lock and unlock (the object: GET /api/clinical_notes/{id}).
    let (status, _) = app
        .post(&format!("/api/clinical_notes/{appt}/lock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[("CLINICAL_NOTE_LOCK", "clinical_notes")],
    )
    .await;
    assert_eq!(o[0]["locked"], true);
    app.post(&format!("/api/clinical_notes/{appt}/unlock"), json!({}))
        .await;
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[("CLINICAL_NOTE_UNLOCK", "clinical_notes")],
    )
    .await;
    assert_eq!(o[0]["locked"], false);
    let (_, a2) = app
        .post(
            "/api/appointments",
            json!({"doctor": app.a.doctor, "patient": pid, "office": office,
            "exam_room": 1, "scheduled_time": "2026-07-01T11:00:00", "duration": 30}),
        )
        .await;
    expect(
        &app,
        &rx,
        &mut seen,
        &[("APPOINTMENT_CREATE", "appointments")],
    )
    .await;
    app.delete(&format!("/api/appointments/{}", a2["id"])).await;
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[("APPOINTMENT_MODIFY", "appointments")],
    )
    .await;
    assert_eq!(o[0]["archived"], true);

    // Problems, allergies, medications: POST, PUT, PATCH; append_to_pharmacy_note.
    for (path, create, modify, body) in [
        (
            "problems",
            "PATIENT_PROBLEM_CREATE",
            "PATIENT_PROBLEM_MODIFY",
            json!({"doctor": app.a.doctor, "patient": pid, "name": "Asthma", "icd_code": "J45.909"}),
        ),
        (
            "allergies",
            "PATIENT_ALLERGY_CREATE",
            "PATIENT_ALLERGY_MODIFY",
            json!({"doctor": app.a.doctor, "patient": pid, "description": "Cat hair"}),
        ),
        (
            "medications",
            "PATIENT_MEDICATION_CREATE",
            "PATIENT_MEDICATION_MODIFY",
            json!({"doctor": app.a.doctor, "patient": pid, "name": "Amoxicillin"}),
        ),
    ] {
        let (status, o) = app.post(&format!("/api/{path}"), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{o}");
        let id = o["id"].as_i64().unwrap();
        expect(&app, &rx, &mut seen, &[(create, path)]).await;
        let (status, _) = app.put(&format!("/api/{path}/{id}"), body.clone()).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        expect(&app, &rx, &mut seen, &[(modify, path)]).await;
        let (status, _) = app
            .patch(&format!("/api/{path}/{id}"), json!({"notes": "x"}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        expect(&app, &rx, &mut seen, &[(modify, path)]).await;
        if path == "medications" {
            let (status, _) = app
                .patch(
                    &format!("/api/medications/{id}/append_to_pharmacy_note"),
                    json!({"text": "With food."}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            let o = expect(&app, &rx, &mut seen, &[(modify, path)]).await;
            assert_eq!(o[0]["pharmacy_note"], "With food.");
        }
    }

    // Tasks: POST, PATCH, a note added (the task's notes change), archived (deleted).
    let (_, st) = app
        .post("/api/task_statuses", json!({"name": "Open"}))
        .await;
    let (status, t) = app
        .post(
            "/api/tasks",
            json!({"title": "Call back", "status": st["id"], "assignee_user": app.a.user}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let task = t["id"].as_i64().unwrap();
    expect(&app, &rx, &mut seen, &[("TASK_CREATE", "tasks")]).await;
    app.patch(
        &format!("/api/tasks/{task}"),
        json!({"title": "Call back today"}),
    )
    .await;
    expect(&app, &rx, &mut seen, &[("TASK_MODIFY", "tasks")]).await;
    let (status, _) = app
        .post(
            "/api/task_notes",
            json!({"task": task, "text": "Left a message"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let o = expect(&app, &rx, &mut seen, &[("TASK_MODIFY", "tasks")]).await;
    assert_eq!(o[0]["notes"][0]["text"], "Left a message");
    app.patch(&format!("/api/tasks/{task}"), json!({"archived": true}))
        .await;
    let o = expect(&app, &rx, &mut seen, &[("TASK_DELETE", "tasks")]).await;
    assert_eq!(o[0]["archived"], true);

    // The superbill creates a patient and an appointment in one call.
    let (status, sb) = app
        .post("/api/superbills", json!({
            "patient_external_id": "EXT-WH",
            "patient_demographics": {"first_name": "Ann", "last_name": "Lee", "gender": "Female"},
            "doctor": app.a.doctor, "office": office, "date_of_service": "2026-06-15",
            "icd10_codes": ["J06.9"],
            "procedures": [{"code": "99213", "price": "120.00", "diagnosis_pointers": [1]}],
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sb}");
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[
            ("PATIENT_CREATE", "patients"),
            ("APPOINTMENT_CREATE", "appointments"),
            ("PATIENT_MODIFY", "patients"),
        ],
    )
    .await;
    assert_eq!(o[0]["id"], sb["superbill"]["patient"]);
    assert_eq!(o[0]["offices"], json!([]), "as it was created");
    assert_eq!(o[1]["id"], sb["appointment"]["id"]);
    assert_eq!(o[2]["offices"], json!([office]));

    // A write that fails raises nothing; a read raises nothing.
    let (status, _) = app
        .post(
            "/api/patients",
            json!([app.patient_body(json!({})), {"gender": "Nope"}]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.get(&format!("/api/patients/{pid}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(rx.posts("all").len(), seen);

    // Every delivery is in the log, delivered, and the summary adds up.
    let log = deliveries(&app, hook).await;
    assert_eq!(log.len(), seen);
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    let (_, s) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/summary"),
        None,
    )
    .await;
    assert_eq!(s["total"], seen as i64);
    assert_eq!(s["delivered"], seen as i64);
    assert_eq!(s["failed"], 0);
    assert_eq!(s["success_rate"], 100.0);
    assert!(s["last_success_at"].is_string());
    assert_eq!(s["last_failure_at"], Value::Null);
    // Filters: by event.
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/deliveries?event=TASK_DELETE"),
        None,
    )
    .await;
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/deliveries?status=failed"),
        None,
    )
    .await;
    assert_eq!(page["results"], json!([]));
}

#[tokio::test]
async fn a_line_item_that_adds_a_diagnosis_modifies_the_appointment() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let office = app.office(1);
    let body = app
        .appointment_body(office, "2026-07-02T09:00:00", json!({}))
        .await;
    let (_, a) = app.post("/api/appointments", body).await;
    let appt = a["id"].as_i64().unwrap();
    verified_hook(&app, &rx, "all", &["APPOINTMENT_MODIFY"]).await;
    let (status, li) = app
        .post("/api/line_items", json!({"appointment": appt, "doctor": app.a.doctor, "code": "99213", "procedure_type": "C",
            "price": "50.00", "diagnosis_pointers": ["E11.9"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{li}");
    let mut seen = 0;
    let o = expect(
        &app,
        &rx,
        &mut seen,
        &[("APPOINTMENT_MODIFY", "appointments")],
    )
    .await;
    assert_eq!(o[0]["id"], appt);
}

#[tokio::test]
async fn only_apps_authorized_in_the_practice_group_receive_its_events() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    // The test app holds tokens in both practices; the other app only in B.
    let (other_id, other_secret) = other_app(&app, &[app.b.user]);
    let mine = verified_hook(&app, &rx, "mine", &["PATIENT_CREATE"]).await;
    let theirs = verified_hook_as(
        &app,
        (&other_id, &other_secret),
        &rx.url("theirs"),
        &["PATIENT_CREATE"],
    )
    .await;
    assert_ne!(mine, theirs);
    // An app whose grant in A cannot read patients is not sent them.
    let (narrow_id, narrow_secret) = other_app_with(&app, &[app.a.user], "calendar tasks");
    verified_hook_as(
        &app,
        (&narrow_id, &narrow_secret),
        &rx.url("narrow"),
        &["PATIENT_CREATE"],
    )
    .await;
    // A webhook not subscribed to the event and an inactive one get nothing either.
    verified_hook(&app, &rx, "unsubscribed", &["PATIENT_MODIFY"]).await;
    let inactive = verified_hook(&app, &rx, "inactive", &["PATIENT_CREATE"]).await;
    call(
        &app,
        Method::PATCH,
        &format!("/api/webhooks/{inactive}"),
        Some(json!({"active": false})),
    )
    .await;

    app.create_patient(json!({"first_name": "InA"})).await;
    let posts = rx.wait_posts("mine", 1, 10).await;
    assert_eq!(posts[0].json()["object"]["first_name"], "InA");

    let body = json!({"doctor": app.b.doctor, "gender": "Male", "first_name": "InB"});
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&app.b.token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let theirs_posts = rx.wait_posts("theirs", 1, 10).await;
    assert_eq!(theirs_posts.len(), 1);
    assert_eq!(theirs_posts[0].json()["object"]["first_name"], "InB");
    assert_eq!(rx.wait_posts("mine", 2, 10).await.len(), 2);

    // Revoked, the other app is no longer authorized in B.
    app.sql(
        "UPDATE access_tokens SET revoked = ? WHERE app_id = (SELECT id FROM apps WHERE client_id = ?)",
        vec![true.into(), other_id.as_str().into()],
    );
    app.send(
        Method::POST,
        "/api/patients",
        Some(&app.b.token),
        Some(body),
    )
    .await;
    assert_eq!(rx.wait_posts("mine", 3, 10).await.len(), 3);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.posts("theirs").len(), 1);
    assert!(rx.posts("unsubscribed").is_empty());
    assert!(rx.posts("narrow").is_empty());
    assert!(rx.posts("inactive").is_empty());
}

#[tokio::test]
async fn the_cli_registers_a_webhook() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chartd"))
            .args(["webhook", "create", "--client-id", &app.client_id])
            .args(args)
            .env("CHARTD_DATABASE_URL", &app.settings.store.database_url)
            .env("CHARTD_WEBHOOK_ALLOW_PRIVATE", "true")
            .output()
            .unwrap()
    };
    let out = run(&[
        "--callback-url",
        &rx.url("cli"),
        "--secret-token",
        SECRET,
        "--events",
        "PATIENT_CREATE,TASK_DELETE",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["id"].as_i64().unwrap();
    let (_, hook) = call(&app, Method::GET, &format!("/api/webhooks/{id}"), None).await;
    assert_eq!(hook["events"], json!(["PATIENT_CREATE", "TASK_DELETE"]));
    assert_eq!(hook["verified"], false);

    let out = run(&[
        "--callback-url",
        &rx.url("cli"),
        "--secret-token",
        "tooshort",
        "--events",
        "PATIENT_CREATE",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secret-token"));
    let out = run(&[
        "--callback-url",
        &rx.url("cli"),
        "--secret-token",
        SECRET,
        "--events",
        "NOPE",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--events"));
}

#[tokio::test]
async fn management_calls_count_against_the_apps_hourly_limit() {
    let app = TestApp::with_settings(settings()).await;
    chartd::admin::app_set_rate_limit(&mut app.db.get().unwrap(), &app.client_id, Some(3)).unwrap();
    for _ in 0..3 {
        let (status, _) = call(&app, Method::GET, "/api/webhooks", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = call(&app, Method::GET, "/api/webhooks", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_openapi_document_describes_the_management_api_and_the_deliveries() {
    let app = TestApp::new().await;
    let (status, doc) = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for (path, verb) in [
        ("/api/webhooks", "get"),
        ("/api/webhooks", "post"),
        ("/api/webhooks/{id}", "get"),
        ("/api/webhooks/{id}", "patch"),
        ("/api/webhooks/{id}", "delete"),
        ("/api/webhooks/{id}/verify", "post"),
        ("/api/webhooks/{id}/ping", "post"),
        ("/api/webhooks/{id}/deliveries", "get"),
        (
            "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            "post",
        ),
        ("/api/webhooks/{id}/summary", "get"),
    ] {
        let op = &doc["paths"][path][verb];
        assert!(op.is_object(), "{verb} {path}");
        assert_eq!(
            op["security"],
            json!([{"client_basic": []}]),
            "{verb} {path}"
        );
    }
    assert!(doc["paths"]["/api/webhooks/{id}"]["put"].is_null());
    let webhook = &doc["components"]["schemas"]["Webhook"]["properties"];
    assert_eq!(webhook["secret_token"]["writeOnly"], true);
    assert_eq!(webhook["verified"]["readOnly"], true);
    assert_eq!(
        webhook["events"]["items"]["enum"].as_array().unwrap().len(),
        15
    );
    // The deliveries themselves, as OpenAPI 3.1 webhooks.
    let delivery = &doc["webhooks"]["delivery"]["post"];
    let headers: Vec<&str> = delivery["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for h in [
        "X-drchrono-event",
        "X-drchrono-delivery",
        "X-drchrono-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ] {
        assert!(headers.contains(&h), "{h}");
    }
    // Evented writes say which event they raise.
    assert!(doc["paths"]["/api/patients"]["post"]["description"]
        .as_str()
        .unwrap()
        .contains("PATIENT_CREATE"));
}
