//! The per-application hourly limit: boundary, headers, reset at the top of the hour,
//! concurrency, several server processes on one database, per-app overrides.

use std::process::Command;

use reqwest::StatusCode;

use crate::helpers::{serve, TestApp};

/// An app of its own with `limit` calls an hour, and a token for user A; answers its
/// client id and the token.
fn limited(app: &TestApp, limit: i64) -> (String, String) {
    let conn = &mut app.db.get().unwrap();
    let new = chartd::admin::NewApp {
        name: "Limited".into(),
        redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
        rate_limit: Some(limit),
        ..Default::default()
    };
    let (_, client_id, _) = chartd::admin::app_create(conn, &app.server_key(), &new).unwrap();
    let token =
        chartd::admin::token_create(conn, &client_id, app.a.user, "user patients", 3600, None)
            .unwrap();
    (client_id, token.access_token)
}

/// Moves the server's clock to the middle of an hour, so a test never straddles a window's end.
fn mid_hour(app: &TestApp) {
    let now = app.clock.now().timestamp();
    app.clock.advance(1800 - now.rem_euclid(3600));
}

fn header(res: &reqwest::Response, name: &str) -> i64 {
    res.headers()[name].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_nth_call_succeeds_and_the_next_is_429_with_the_headers() {
    let app = TestApp::new().await;
    mid_hour(&app);
    let (_, token) = limited(&app, 5);
    for i in 1..=5 {
        let res = app
            .client
            .get(app.url("/api/doctors"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "call {i}");
        assert_eq!(header(&res, "x-ratelimit-limit"), 5);
        assert_eq!(header(&res, "x-ratelimit-remaining"), 5 - i);
    }
    let res = app
        .client
        .get(app.url("/api/doctors"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "x-ratelimit-remaining"), 0);
    let reset = header(&res, "x-ratelimit-reset");
    let retry = header(&res, "retry-after");
    let now = app.clock.now().timestamp();
    assert_eq!(reset % 3600, 0, "the top of an hour");
    assert!(reset > now && reset - now <= 3600);
    assert!(
        (retry - (reset - now)).abs() <= 2,
        "Retry-After {retry} is the time to the reset"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("limit"));

    // Every answer carries the headers, errors included; other apps are not affected.
    let res = app
        .client
        .get(app.url("/api/patients/999999"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&res, "x-ratelimit-limit"),
        500,
        "CHARTD_RATE_LIMIT_PER_HOUR"
    );
    assert_eq!(header(&res, "x-ratelimit-remaining"), 499);
    // Operations endpoints are not counted.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(res.headers().get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn the_window_resets_at_the_top_of_the_hour() {
    let app = TestApp::new().await;
    let (_, token) = limited(&app, 3);
    for _ in 0..3 {
        app.get_as(&token, "/api/doctors").await;
    }
    let (status, _) = app.get_as(&token, "/api/doctors").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // One second before the top of the hour: still refused.
    let now = app.clock.now().timestamp();
    app.clock.advance(3600 - now.rem_euclid(3600) - 1);
    let (status, _) = app.get_as(&token, "/api/doctors").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // At the top of the hour: a fresh window.
    app.clock.advance(1);
    let res = app
        .client
        .get(app.url("/api/doctors"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-ratelimit-remaining"), 2);
    assert_eq!(
        header(&res, "x-ratelimit-reset"),
        app.clock.now().timestamp() + 3600
    );
}

#[tokio::test]
async fn fifty_concurrent_calls_against_a_limit_of_twenty_give_exactly_twenty() {
    let app = TestApp::new().await;
    mid_hour(&app);
    let (_, token) = limited(&app, 20);
    let calls = (0..50).map(|_| {
        let req = app.client.get(app.url("/api/doctors")).bearer_auth(&token);
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, throttled), (20, 30));
}

#[tokio::test]
async fn writes_beyond_the_limit_leave_no_trace_and_refused_reads_carry_no_data() {
    let app = TestApp::new().await;
    mid_hour(&app);
    let (_, token) = limited(&app, 6);
    let before = app.count("SELECT COUNT(*) FROM patients", vec![]);
    // Ten concurrent creates against the six calls left: six patients, four 429s.
    let body = app.patient_body(serde_json::json!({"last_name": "Limited"}));
    let calls = (0..10).map(|_| {
        let req = app
            .client
            .post(app.url("/api/patients"))
            .bearer_auth(&token)
            .json(&body);
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, throttled), (6, 4), "{statuses:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients", vec![]) - before,
        6
    );
    // A read past the limit answers the 429, not the patient.
    let patient = app.create_patient(serde_json::json!({})).await;
    let res = app
        .client
        .get(app.url(&format!("/api/patients/{}", patient["id"])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let text = res.text().await.unwrap();
    assert!(!text.contains("first_name"), "{text}");
}

#[tokio::test]
async fn two_server_processes_share_one_exact_limit() {
    let app = TestApp::new().await;
    let (one, two) = (serve(&app).await, serve(&app).await);
    // The servers run on the real clock: a run that straddles an hour's end is run again.
    for _attempt in 0..2 {
        let (_, token) = limited(&app, 20);
        let (mut statuses, mut remaining, mut resets) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..24 {
            let base = if i % 2 == 0 { &one.1 } else { &two.1 };
            let res = app
                .client
                .get(format!("{base}/api/doctors"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            statuses.push(res.status().as_u16());
            remaining.push(header(&res, "x-ratelimit-remaining"));
            resets.push(header(&res, "x-ratelimit-reset"));
        }
        if resets.iter().any(|r| *r != resets[0]) {
            continue;
        }
        // Every call up to the limit is served, the next refused; the remaining count drops
        // by one per call whichever process answers.
        assert_eq!(statuses, [[200; 20].as_slice(), &[429; 4]].concat());
        let expected: Vec<i64> = (0..20).rev().chain([0; 4]).collect();
        assert_eq!(remaining, expected);

        // Concurrent calls on both processes: exactly the limit is served.
        let (_, token) = limited(&app, 50);
        let calls = (0..80).map(|i| {
            let base = if i % 2 == 0 {
                one.1.clone()
            } else {
                two.1.clone()
            };
            let (client, token) = (app.client.clone(), token.clone());
            async move {
                client
                    .get(format!("{base}/api/doctors"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
        let statuses = futures_util::future::join_all(calls).await;
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(ok, 50, "{statuses:?}");
        return;
    }
    panic!("two runs straddled an hour's end");
}

#[tokio::test]
async fn an_apps_limit_can_be_changed_later() {
    let app = TestApp::new().await;
    mid_hour(&app);
    let (client_id, token) = limited(&app, 2);
    app.get_as(&token, "/api/doctors").await;
    app.get_as(&token, "/api/doctors").await;
    let (status, _) = app.get_as(&token, "/api/doctors").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let out = Command::new(env!("CARGO_BIN_EXE_chartd"))
        .args([
            "app",
            "update",
            "--client-id",
            &client_id,
            "--rate-limit",
            "4",
        ])
        .env("CHARTD_DATABASE_URL", &app.settings.store.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The process asks the database again within seconds of a refusal.
    app.clock.advance(6);
    let res = app
        .client
        .get(app.url("/api/doctors"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-ratelimit-limit"), 4);
    assert_eq!(header(&res, "x-ratelimit-remaining"), 1);
}

#[tokio::test]
async fn oauth_endpoints_are_not_counted_against_the_app() {
    let app = TestApp::new().await;
    mid_hour(&app);
    let (client_id, token) = limited(&app, 1);
    app.get_as(&token, "/api/doctors").await;
    let (status, _) = app.get_as(&token, "/api/doctors").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The token endpoint still answers for this app (here: a bad code, 400, not 429).
    let res = app
        .client
        .post(app.url("/o/token/"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", &client_id),
            ("client_secret", "wrong"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("x-ratelimit-limit").is_none());
    let res = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("x-ratelimit-limit").is_none());
}
