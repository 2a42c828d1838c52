//! Failure throttling at /o/login and the token endpoint, with default settings: a clinic
//! behind one address and an integrator's backend are never refused, guessers are, and the
//! counts hold across server processes on one database.

use reqwest::StatusCode;

use crate::helpers::{serve, test_settings, TestApp};
use crate::oauth::{code_plain, hidden_fields, post_form, urlencode, username, with, Browser};

/// The login page of the test app's authorization URL in `browser`; answers its form.
async fn login_form(app: &TestApp, browser: &mut Browser) -> Vec<(String, String)> {
    let page = browser
        .get(&format!(
            "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
            app.client_id,
            urlencode(&app.redirect_uri)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    hidden_fields(&page.body)
}

/// Posts a sign-in from a fresh session; answers the status (303 signed in, 200 wrong
/// password, 429 throttled).
async fn sign_in_as(
    app: &TestApp,
    browser: &mut Browser,
    user: &str,
    password: &str,
) -> StatusCode {
    let form = login_form(app, browser).await;
    let form = with(form, &[("username", user), ("password", password)]);
    let page = browser.post("/o/login", &form).await;
    if page.status == StatusCode::TOO_MANY_REQUESTS {
        let wait: u64 = page.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
    page.status
}

/// The 1-based attempt that was first refused, if any.
fn first_refused(statuses: &[StatusCode]) -> Option<usize> {
    statuses
        .iter()
        .position(|s| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|i| i + 1)
}

#[tokio::test]
async fn a_clinic_behind_one_address_signs_in_and_a_backend_refreshes_without_limit() {
    let app = TestApp::new().await;
    // Fifteen staff of one practice, one address, a typo here and there.
    for i in 0..15 {
        let (user, _) = app.user(app.a.id, "staff", Some(app.a.doctor));
        let name = username(&app, user);
        let mut browser = Browser::new(&app);
        if i % 4 == 0 {
            let typo = sign_in_as(&app, &mut browser, &name, "passwrod123").await;
            assert_eq!(typo, StatusCode::OK, "staff member {i} mistyped");
        }
        let status = sign_in_as(&app, &mut browser, &name, "password123").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "staff member {i}");
    }
    // Ninety valid refresh grants from one server address.
    let code = code_plain(&app, "patients:read").await;
    let (status, _, body) = post_form(
        &app,
        "/o/token/",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &app.redirect_uri),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut refresh = body["refresh_token"].as_str().unwrap().to_string();
    for i in 0..90 {
        let (status, _, body) = post_form(
            &app,
            "/o/token/",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "refresh {i}: {body}");
        refresh = body["refresh_token"].as_str().unwrap().to_string();
    }
}

#[tokio::test]
async fn wrong_passwords_are_stopped_per_account_and_per_address_not_the_right_user_elsewhere() {
    let mut settings = test_settings();
    settings.trust_forwarded_for = true;
    let app = TestApp::with_settings(settings).await;
    let victim = username(&app, app.a.user);
    // Forty guesses at one account from one address: stopped by the eleventh.
    let mut guesser = Browser::new(&app);
    guesser.forwarded_for = Some("198.51.100.7".into());
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(sign_in_as(&app, &mut guesser, &victim, &format!("guess{i}")).await);
    }
    assert_eq!(first_refused(&statuses), Some(11), "{statuses:?}");
    assert!(statuses[10..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // The right password from the guesser's address waits too ...
    let right = sign_in_as(&app, &mut guesser, &victim, "password123").await;
    assert_eq!(right, StatusCode::TOO_MANY_REQUESTS);
    // ... but the right user at their own address is not locked out.
    let mut user = Browser::new(&app);
    user.forwarded_for = Some("203.0.113.20".into());
    let status = sign_in_as(&app, &mut user, &victim, "password123").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Only the last X-Forwarded-For entry counts: a forged earlier one changes nothing.
    let mut forger = Browser::new(&app);
    forger.forwarded_for = Some("192.0.2.1, 198.51.100.7".into());
    let status = sign_in_as(&app, &mut forger, &victim, "password123").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // A password spray: one guess at each of many accounts from one address.
    let mut sprayer = Browser::new(&app);
    sprayer.forwarded_for = Some("198.51.100.99".into());
    let mut statuses = Vec::new();
    for i in 0..60 {
        statuses.push(sign_in_as(&app, &mut sprayer, &format!("staff{i}"), "Winter2026!").await);
    }
    assert_eq!(first_refused(&statuses), Some(51), "{statuses:?}");

    // The counts fade: half an hour later the guesser's address may try again.
    app.clock.advance(31 * 60);
    let status = sign_in_as(&app, &mut guesser, &victim, "password123").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A successful sign-in clears its account's count at that address.
    for i in 0..9 {
        let status = sign_in_as(&app, &mut guesser, &victim, &format!("again{i}")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let status = sign_in_as(&app, &mut guesser, &victim, "password123").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for i in 0..9 {
        let status = sign_in_as(&app, &mut guesser, &victim, &format!("more{i}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the success cleared the earlier nine"
        );
    }
}

#[tokio::test]
async fn invalid_grants_and_failed_client_authentication_are_throttled() {
    let mut settings = test_settings();
    settings.trust_forwarded_for = true;
    let app = TestApp::with_settings(settings).await;
    let post = |address: &'static str, fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/o/token/"))
                .header("X-Forwarded-For", address)
                .form(&fields)
                .send()
                .await
                .unwrap();
            let (status, headers) = (res.status(), res.headers().clone());
            let body: serde_json::Value = res.json().await.unwrap();
            (status, headers, body)
        }
    };
    let creds = |secret: &str| {
        vec![
            ("client_id", app.client_id.clone()),
            ("client_secret", secret.to_string()),
        ]
    };
    let bad_refresh = |secret: &str| {
        let mut f = creds(secret);
        f.push(("grant_type", "refresh_token".into()));
        f.push(("refresh_token", "not-a-token".into()));
        f
    };
    // Twenty invalid grants of one client from one address, then 429.
    for _ in 0..20 {
        let (status, _, body) = post("198.51.100.7", bad_refresh(&app.client_secret)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
    }
    let (status, headers, body) = post("198.51.100.7", bad_refresh(&app.client_secret)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "too_many_requests");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // The same client from its other server is served.
    let (status, _, body) = post("203.0.113.20", bad_refresh(&app.client_secret)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // Wrong client secrets count as failures too.
    for _ in 0..20 {
        let (status, _, body) = post("198.51.100.8", bad_refresh("wrong")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );
    }
    let (status, _, _) = post("198.51.100.8", bad_refresh(&app.client_secret)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Revocation and introspection share the count.
    let mut form = creds(&app.client_secret);
    form.push(("token", "anything".into()));
    let res = app
        .client
        .post(app.url("/o/revoke_token/"))
        .header("X-Forwarded-For", "198.51.100.8")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Unknown clients from one address: stopped by the address's count (60).
    let mut statuses = Vec::new();
    for i in 0..70 {
        let form = vec![
            ("client_id", format!("guess{i}")),
            ("client_secret", "x".to_string()),
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", "x".to_string()),
        ];
        statuses.push(post("198.51.100.9", form).await.0);
    }
    assert_eq!(first_refused(&statuses), Some(61), "{statuses:?}");
    // The API itself is not affected.
    assert_eq!(app.get("/api/patients").await.0, StatusCode::OK);
}

#[tokio::test]
async fn two_server_processes_share_the_failure_counts() {
    let app = TestApp::new().await;
    let (one, two) = (serve(&app).await, serve(&app).await);
    let victim = username(&app, app.a.user);
    let mut statuses = Vec::new();
    for i in 0..14 {
        let base = if i % 2 == 0 { &one.1 } else { &two.1 };
        let mut browser = Browser::on(&app, base);
        statuses.push(sign_in_as(&app, &mut browser, &victim, &format!("guess{i}")).await);
    }
    assert_eq!(first_refused(&statuses), Some(11), "{statuses:?}");
}
