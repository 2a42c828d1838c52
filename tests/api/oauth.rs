//! The OAuth 2 authorization server, driven as a third-party app would: the `oauth2` crate
//! is the client (authorization code with PKCE, refresh, revocation, introspection) and a
//! cookie-keeping HTTP client plays the user's browser on the login and consent pages.

use std::collections::HashMap;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, RevocationUrl, Scope, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{test_settings, TestApp};
use chartd::db::{Sql, Ty, Val};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

fn oauth_client(app: &TestApp) -> Client {
    BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/o/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/o/token/")).unwrap())
        .set_revocation_url(RevocationUrl::new(app.url("/o/revoke_token/")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(app.url("/o/introspect/")).unwrap())
        .set_redirect_uri(RedirectUrl::new(app.redirect_uri.clone()).unwrap())
}

/// A browser: follows nothing by itself, keeps chartd's session cookie.
pub(crate) struct Browser {
    client: reqwest::Client,
    cookie: Option<String>,
    base: String,
    /// Sent as X-Forwarded-For (the address a trusting server counts).
    pub forwarded_for: Option<String>,
}

pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers["location"].to_str().unwrap().to_string()
    }

    fn set_cookie(&self) -> Option<String> {
        self.headers
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string())
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser::on(app, &app.address)
    }

    /// A browser talking to the server at `base`.
    pub fn on(app: &TestApp, base: &str) -> Browser {
        Browser {
            client: app.client.clone(),
            cookie: None,
            base: base.to_string(),
            forwarded_for: None,
        }
    }

    async fn absorb(&mut self, res: reqwest::Response) -> Page {
        let headers = res.headers().clone();
        if let Some(c) = headers.get("set-cookie") {
            let c = c.to_str().unwrap();
            self.cookie = Some(c.split(';').next().unwrap().to_string());
        }
        Page {
            status: res.status(),
            headers,
            body: res.text().await.unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        if let Some(a) = &self.forwarded_for {
            req = req.header("X-Forwarded-For", a);
        }
        let res = req.send().await.unwrap();
        self.absorb(res).await
    }

    pub async fn post(&mut self, path: &str, form: &[(String, String)]) -> Page {
        let mut req = self.client.post(self.url(path)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        if let Some(a) = &self.forwarded_for {
            req = req.header("X-Forwarded-For", a);
        }
        let res = req.send().await.unwrap();
        self.absorb(res).await
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden inputs of a page's form.
pub(crate) fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |chunk: &str, name: &str| {
        let start = chunk.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let len = chunk[start..].find('"').unwrap();
        unescape(&chunk[start..start + len])
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|chunk| (attr(chunk, "name"), attr(chunk, "value")))
        .collect()
}

pub(crate) fn with(
    mut fields: Vec<(String, String)>,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub(crate) fn username(app: &TestApp, user: i64) -> String {
    Sql::new("SELECT username FROM users WHERE id = ?")
        .bind(user)
        .load_one(&mut app.db.get().unwrap(), &[Ty::Text])
        .unwrap()
        .unwrap()[0]
        .as_str()
        .unwrap()
        .to_string()
}

/// Signs in on the login page shown for `url`; answers the consent page.
async fn sign_in(app: &TestApp, browser: &mut Browser, url: &str) -> Page {
    let login = browser.get(url).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert!(login.body.contains("name=\"password\""), "{}", login.body);
    let form = with(
        hidden_fields(&login.body),
        &[
            ("username", &username(app, app.a.user)),
            ("password", "password123"),
        ],
    );
    let signed_in = browser.post("/o/login", &form).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let consent = browser.get(&signed_in.location()).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(consent.body.contains("name=\"allow\""), "{}", consent.body);
    consent
}

/// The whole browser part: sign in, then press Authorize (or Deny). Answers the redirect.
async fn authorize(app: &TestApp, url: &str, allow: bool) -> String {
    let mut browser = Browser::new(app);
    let consent = sign_in(app, &mut browser, url).await;
    let button = if allow {
        ("allow", "Authorize")
    } else {
        ("deny", "Deny")
    };
    let done = browser
        .post(
            "/o/authorize",
            &with(hidden_fields(&consent.body), &[button]),
        )
        .await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    done.location()
}

/// A code for user A with PKCE; answers (code, verifier).
async fn code_with_pkce(
    app: &TestApp,
    client: &Client,
    scopes: &[&str],
) -> (String, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    let back = authorize(app, url.as_str(), true).await;
    let q = query_of(&back);
    assert_eq!(&q["state"], state.secret());
    (q["code"].clone(), verifier)
}

/// A code for user A without PKCE (a DrChrono-style confidential client).
pub(crate) async fn code_plain(app: &TestApp, scope: &str) -> String {
    let url = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state=xyz",
        app.client_id,
        urlencode(&app.redirect_uri),
        urlencode(scope)
    );
    let back = authorize(app, &url, true).await;
    query_of(&back)["code"].clone()
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POSTs a form to an /o/ endpoint with the test app's credentials in the body.
pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", &app.client_id),
        ("client_secret", &app.client_secret),
    ];
    form.extend_from_slice(fields);
    let res = app
        .client
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Registers a second app; answers its (client_id, client_secret).
fn other_app(app: &TestApp) -> (String, String) {
    let (_, id, secret) = chartd::admin::app_create(
        &mut app.db.get().unwrap(),
        &chartd::oauth::secret::ServerKey::new(app.settings.store.secret_key.as_deref().unwrap()),
        &chartd::admin::NewApp {
            name: "Other".into(),
            redirect_uris: vec!["https://other.example/cb".into()],
            ..Default::default()
        },
    )
    .unwrap();
    (id, secret)
}

/// RFC 7009 revocation. (The oauth2 crate refuses to revoke over plain http, as RFC 7009
/// requires TLS; the test server speaks http.)
async fn revoke(app: &TestApp, token: &str, hint: &str) {
    let (status, headers, body) = post_form(
        app,
        "/o/revoke_token/",
        &[("token", token), ("token_type_hint", hint)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
}

fn grant_error<T: std::fmt::Debug>(
    r: Result<T, RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>>,
) -> BasicErrorResponseType {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an error response, got {other:?}"),
    }
}

#[tokio::test]
async fn the_code_flow_with_pkce_issues_tokens_that_call_the_api_and_refresh_with_rotation() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("patients".into()))
        .add_scope(Scope::new("user:read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The login page: a real form, an HttpOnly SameSite cookie, no framing, no caching.
    let mut browser = Browser::new(&app);
    let login = browser.get(url.as_str()).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["cache-control"], "no-store");
    let cookie = login.set_cookie().unwrap();
    assert!(cookie.starts_with("chartd_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(login.body.contains("Test App"));
    assert!(login.body.contains("name=\"username\"") && login.body.contains("name=\"password\""));
    assert!(!login.body.contains("<script"));

    let consent = sign_in(&app, &mut browser, url.as_str()).await;
    // The consent page names the app and each scope in plain words.
    assert!(
        consent.body.contains("Authorize Test App?"),
        "{}",
        consent.body
    );
    assert!(consent
        .body
        .contains("Read, create and change patient demographics and charts"));
    assert!(consent.body.contains("Read your user account"));
    assert!(consent.body.contains("Authorize") && consent.body.contains("Deny"));
    let done = browser
        .post(
            "/o/authorize",
            &with(hidden_fields(&consent.body), &[("allow", "Authorize")]),
        )
        .await;
    assert_eq!(done.status, StatusCode::FOUND);
    let back = done.location();
    assert!(
        back.starts_with(&format!("{}?", app.redirect_uri)),
        "{back}"
    );
    let q = query_of(&back);
    assert_eq!(&q["state"], state.secret());
    assert_eq!(q["iss"], app.address);

    // The code becomes tokens; the answer is exactly the contract's.
    let tokens = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&app.client)
        .await
        .unwrap();
    assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 172800);
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["patients", "user:read"]);
    let access = tokens.access_token().secret().clone();
    let refresh = tokens.refresh_token().unwrap().clone();
    // Tokens, codes and client secrets are stored only as their SHA-256.
    use chartd::api::auth::hash_token;
    for (sql, raw) in [
        (
            "SELECT COUNT(*) FROM access_tokens WHERE token_hash = ?",
            &access,
        ),
        (
            "SELECT COUNT(*) FROM access_tokens WHERE refresh_hash = ?",
            refresh.secret(),
        ),
        (
            "SELECT COUNT(*) FROM oauth_codes WHERE code_hash = ?",
            &q["code"],
        ),
        (
            "SELECT COUNT(*) FROM apps WHERE client_secret_hash = ?",
            &app.client_secret,
        ),
    ] {
        assert_eq!(app.count(sql, vec![Val::from(raw.as_str())]), 0, "{sql}");
        assert_eq!(app.count(sql, vec![Val::from(hash_token(raw))]), 1, "{sql}");
    }

    // The token calls the API as the user who authorized.
    let (status, body) = app.get_as(&access, "/api/patients").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = app
        .client
        .get(app.url("/api/users/current"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let me = res.headers()["location"].to_str().unwrap().to_string();
    assert!(me.ends_with(&format!("/api/users/{}", app.a.user)), "{me}");
    let (status, user) = app.get_as(&access, &me).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], app.a.user);
    // user:read cannot write; the token has no clinical scope.
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/offices/1",
            Some(&access),
            Some(json!({"online_scheduling": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Refresh rotates: new tokens, the old refresh and access tokens stop working.
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request_async(&app.client)
        .await
        .unwrap();
    let access2 = refreshed.access_token().secret().clone();
    let refresh2 = refreshed.refresh_token().unwrap().clone();
    assert_ne!(access2, access);
    assert_ne!(refresh2.secret(), refresh.secret());
    assert_eq!(
        app.get_as(&access2, "/api/patients").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&access, "/api/patients").await.0,
        StatusCode::UNAUTHORIZED
    );
    // A refresh may narrow the grant, never widen it.
    let narrowed = client
        .exchange_refresh_token(&refresh2)
        .add_scope(Scope::new("patients:read".into()))
        .request_async(&app.client)
        .await
        .unwrap();
    assert_eq!(narrowed.scopes().unwrap()[0].as_str(), "patients:read");
    let access3 = narrowed.access_token().secret().clone();
    assert_eq!(
        app.get_as(&access3, "/api/patients").await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&access3),
            Some(app.patient_body(json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let wider = client
        .exchange_refresh_token(narrowed.refresh_token().unwrap())
        .add_scope(Scope::new("clinical".into()))
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(wider), BasicErrorResponseType::InvalidScope);
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let (code, verifier) = code_with_pkce(&app, &client, &["patients"]).await;
    let first = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&app.client)
        .await
        .unwrap();
    let second = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .request_async(&app.client)
        .await
        .unwrap();
    let third = client
        .exchange_refresh_token(second.refresh_token().unwrap())
        .request_async(&app.client)
        .await
        .unwrap();
    let live = third.access_token().secret();
    assert_eq!(app.get_as(live, "/api/patients").await.0, StatusCode::OK);
    // An unrelated grant of the same user and app is untouched.
    let other = app.token_for(app.a.user, "patients");

    // A thief replays the first (rotated) refresh token.
    let replay = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(replay), BasicErrorResponseType::InvalidGrant);

    assert_eq!(
        app.get_as(live, "/api/patients").await.0,
        StatusCode::UNAUTHORIZED
    );
    let after = client
        .exchange_refresh_token(third.refresh_token().unwrap())
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(after), BasicErrorResponseType::InvalidGrant);
    assert_eq!(app.get_as(&other, "/api/patients").await.0, StatusCode::OK);
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let app = TestApp::new().await;
    let url = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}&scope=patients&state=s%20t%26ate",
        app.client_id,
        urlencode(&app.redirect_uri)
    );
    let back = authorize(&app, &url, false).await;
    let q = query_of(&back);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s t&ate");
    assert!(!q.contains_key("code"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes", vec![]), 0);
}

#[tokio::test]
async fn an_unknown_client_or_redirect_uri_gets_an_error_page_and_no_redirect() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    let evil = "https://evil.example/cb";
    for url in [
        format!(
            "/o/authorize?response_type=code&client_id=nope&redirect_uri={}&state=1",
            urlencode(&app.redirect_uri)
        ),
        format!(
            "/o/authorize?response_type=code&client_id={}&redirect_uri={}&state=1",
            app.client_id,
            urlencode(evil)
        ),
        format!(
            "/o/authorize?response_type=code&client_id={}&redirect_uri={}%2Fextra",
            app.client_id,
            urlencode(&app.redirect_uri)
        ),
        format!(
            "/o/authorize?response_type=code&client_id={}",
            app.client_id
        ),
        "/o/authorize?response_type=code".to_string(),
    ] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(page.headers.get("location").is_none(), "{url}");
        assert!(page.body.contains("Authorization request refused"), "{url}");
    }
    // Whatever the request carries is escaped on the page.
    let page = browser
        .get("/o/authorize?response_type=code&client_id=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;"));
    // Also after signing in: the consent post checks again.
    let consent = sign_in(
        &app,
        &mut browser,
        &format!(
            "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
            app.client_id,
            urlencode(&app.redirect_uri)
        ),
    )
    .await;
    let fields: Vec<(String, String)> = hidden_fields(&consent.body)
        .into_iter()
        .map(|(k, v)| {
            if k == "redirect_uri" {
                (k, evil.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    let page = browser
        .post("/o/authorize", &with(fields, &[("allow", "Authorize")]))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.headers.get("location").is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes", vec![]), 0);
}

#[tokio::test]
async fn unknown_scopes_and_bad_requests_redirect_with_an_error() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    // (With the trailing slash, which every /o/ endpoint also takes.)
    let base = format!(
        "/o/authorize/?client_id={}&redirect_uri={}&state=abc",
        app.client_id,
        urlencode(&app.redirect_uri)
    );
    for (extra, error) in [
        (
            "&response_type=code&scope=patients%20everything",
            "invalid_scope",
        ),
        ("&response_type=code&scope=patients:delete", "invalid_scope"),
        ("&response_type=token", "unsupported_response_type"),
        ("", "invalid_request"),
        (
            "&response_type=code&scope=user&scope=labs",
            "invalid_request",
        ),
    ] {
        let page = browser.get(&format!("{base}{extra}")).await;
        assert_eq!(page.status, StatusCode::FOUND, "{extra}: {}", page.body);
        let q = query_of(&page.location());
        assert_eq!(q["error"], error, "{extra}");
        assert_eq!(q["state"], "abc");
        assert!(!q["error_description"].is_empty());
    }
}

#[tokio::test]
async fn pkce_requires_s256_and_the_matching_verifier() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let mut browser = Browser::new(&app);

    // plain (explicit, or implied by a missing method) is refused at /o/authorize.
    // A plain challenge is the verifier itself.
    let plain = "a-plain-code-verifier-that-is-at-least-43-characters-long";
    let base = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}&state=p&code_challenge={}",
        app.client_id,
        urlencode(&app.redirect_uri),
        plain
    );
    for url in [format!("{base}&code_challenge_method=plain"), base.clone()] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, StatusCode::FOUND);
        let q = query_of(&page.location());
        assert_eq!(q["error"], "invalid_request");
        assert!(q["error_description"].contains("S256"));
    }

    // S256 challenged: no verifier, or a wrong one, is refused.
    let (code, _) = code_with_pkce(&app, &client, &["patients"]).await;
    let r = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);
    let (code, _) = code_with_pkce(&app, &client, &["patients"]).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let r = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(wrong)
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);

    // A verifier without a challenge is refused (a PKCE downgrade).
    let code = code_plain(&app, "patients").await;
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    let r = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);

    // And without PKCE at all, a confidential client still works (DrChrono-style).
    let code = code_plain(&app, "patients").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    assert_eq!(
        app.get_as(tokens.access_token().secret(), "/api/patients")
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_reused_code_fails_and_revokes_the_tokens_issued_from_it() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let (code, verifier) = code_with_pkce(&app, &client, &["patients"]).await;
    let verifier2 = PkceCodeVerifier::new(verifier.secret().clone());
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&app.client)
        .await
        .unwrap();
    let access = tokens.access_token().secret();
    assert_eq!(app.get_as(access, "/api/patients").await.0, StatusCode::OK);

    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier2)
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(again), BasicErrorResponseType::InvalidGrant);
    assert_eq!(
        app.get_as(access, "/api/patients").await.0,
        StatusCode::UNAUTHORIZED
    );
    let r = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn expired_codes_wrong_redirect_uris_and_wrong_secrets_are_refused() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);

    // A code lives CHARTD_AUTH_CODE_TTL (60 s), and not a moment longer.
    let code = code_plain(&app, "patients").await;
    let now = chrono::Utc::now().naive_utc();
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM oauth_codes WHERE expires_at > ? AND expires_at <= ?",
            vec![
                Val::from(now + chrono::Duration::seconds(50)),
                Val::from(now + chrono::Duration::seconds(60)),
            ],
        ),
        1
    );
    let t = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    app.sql("UPDATE oauth_codes SET expires_at = ?", vec![Val::from(t)]);
    let r = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);

    // The code's redirect_uri must be repeated exactly.
    let code = code_plain(&app, "patients").await;
    let other = client
        .clone()
        .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:9/other".into()).unwrap());
    let r = other
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);

    // A wrong secret is 401 invalid_client, with Basic as without.
    let code = code_plain(&app, "patients").await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let wrong = client
            .clone()
            .set_auth_type(auth)
            .set_client_secret(ClientSecret::new("not-the-secret".into()));
        let r = wrong
            .exchange_code(AuthorizationCode::new(code.clone()))
            .request_async(&app.client)
            .await;
        assert_eq!(grant_error(r), BasicErrorResponseType::InvalidClient);
    }
    let (status, headers, body) = post_form(&app, "/o/token/", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(headers["cache-control"], "no-store");
    let res = app
        .client
        .post(app.url("/o/token/"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "nope"),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    // The code survived the failed client authentications (they never reached it).
    let tokens = client
        .set_auth_type(AuthType::RequestBody)
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    assert_eq!(tokens.scopes().unwrap()[0].as_str(), "patients");
}

#[tokio::test]
async fn the_token_endpoint_takes_forms_only_with_or_without_its_slash() {
    let app = TestApp::new().await;
    for path in ["/o/token/", "/o/token"] {
        let res = app
            .client
            .post(app.url(path))
            .json(
                &json!({"grant_type": "authorization_code", "client_id": app.client_id,
                          "client_secret": app.client_secret, "code": "x"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("not JSON"),
            "{body}"
        );

        let (status, _, body) = post_form(&app, path, &[("grant_type", "password")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "unsupported_grant_type");
        let (status, _, body) =
            post_form(&app, path, &[("grant_type", "authorization_code")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_request", "code is missing");
        let (status, _, body) = post_form(
            &app,
            path,
            &[
                ("grant_type", "authorization_code"),
                ("code", "bogus"),
                ("redirect_uri", &app.redirect_uri),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    // Basic and body credentials at once are refused.
    let res = app
        .client
        .post(app.url("/o/token/"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Basic alone authenticates (the refresh token is then what is wrong).
    let res = app
        .client
        .post(app.url("/o/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn revocation_ends_access_and_refresh_tokens_and_answers_200_for_unknown_ones() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let code = code_plain(&app, "patients").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    let access = tokens.access_token().clone();
    assert_eq!(
        app.get_as(access.secret(), "/api/patients").await.0,
        StatusCode::OK
    );
    revoke(&app, access.secret(), "access_token").await;
    let (status, _) = app.get_as(access.secret(), "/api/patients").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revoking a refresh token ends its whole grant.
    let code = code_plain(&app, "patients").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    revoke(
        &app,
        tokens.refresh_token().unwrap().secret(),
        "refresh_token",
    )
    .await;
    assert_eq!(
        app.get_as(tokens.access_token().secret(), "/api/patients")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let r = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&app.client)
        .await;
    assert_eq!(grant_error(r), BasicErrorResponseType::InvalidGrant);

    // Unknown tokens: 200 (RFC 7009), without the trailing slash too.
    for path in ["/o/revoke_token/", "/o/revoke_token"] {
        let (status, _, _) = post_form(&app, path, &[("token", "never-issued")]).await;
        assert_eq!(status, StatusCode::OK);
    }
    // Another app cannot revoke this app's tokens (and learns nothing).
    let (other_id, other_secret) = other_app(&app);
    let res = app
        .client
        .post(app.url("/o/revoke_token/"))
        .form(&[
            ("token", app.token.as_str()),
            ("client_id", &other_id),
            ("client_secret", &other_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get("/api/patients").await.0, StatusCode::OK);
    // The client must authenticate, and the token is required.
    let res = app
        .client
        .post(app.url("/o/revoke_token/"))
        .form(&[("token", app.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, _, body) = post_form(&app, "/o/revoke_token/", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn introspection_describes_the_clients_own_live_tokens_only() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let code = code_plain(&app, "patients user:read").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    let info = client
        .introspect(tokens.access_token())
        .request_async(&app.client)
        .await
        .unwrap();
    assert!(info.active());
    let scopes: Vec<String> = info
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["patients", "user:read"]);
    assert_eq!(info.client_id().unwrap().as_str(), app.client_id);
    assert_eq!(info.username().unwrap(), username(&app, app.a.user));
    assert_eq!(info.sub().unwrap(), app.a.user.to_string());
    assert_eq!(*info.token_type().unwrap(), BasicTokenType::Bearer);
    let exp = info.exp().unwrap().timestamp() - chrono::Utc::now().timestamp();
    assert!((172_700..=172_800).contains(&exp), "{exp}");

    let (status, _, body) = post_form(
        &app,
        "/o/introspect",
        &[("token", tokens.refresh_token().unwrap().secret())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");

    revoke(&app, tokens.access_token().secret(), "access_token").await;
    let info = client
        .introspect(tokens.access_token())
        .request_async(&app.client)
        .await
        .unwrap();
    assert!(!info.active());
    let (status, _, body) = post_form(&app, "/o/introspect/", &[("token", "never-issued")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"active": false}));
    // Another app learns nothing about this app's live tokens.
    let (status, _, body) = post_form(&app, "/o/introspect/", &[("token", &app.token)]).await;
    assert_eq!(
        (status, body["active"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (other_id, other_secret) = other_app(&app);
    let res = app
        .client
        .post(app.url("/o/introspect/"))
        .basic_auth(&other_id, Some(&other_secret))
        .form(&[("token", app.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"active": false}));
    let res = app
        .client
        .post(app.url("/o/introspect/"))
        .form(&[("token", app.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_metadata_document_describes_the_endpoints() {
    let app = TestApp::new().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/",
    ] {
        let (status, doc) = app.send(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["issuer"], app.address);
        assert_eq!(doc["authorization_endpoint"], app.url("/o/authorize"));
        assert_eq!(doc["token_endpoint"], app.url("/o/token/"));
        assert_eq!(doc["revocation_endpoint"], app.url("/o/revoke_token/"));
        assert_eq!(doc["introspection_endpoint"], app.url("/o/introspect/"));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(
            doc["grant_types_supported"],
            json!(["authorization_code", "refresh_token"])
        );
        let scopes = doc["scopes_supported"].as_array().unwrap();
        assert!(
            scopes.contains(&json!("patients:read"))
                && scopes.contains(&json!("billing:patient-payment"))
        );
    }
}

#[tokio::test]
async fn a_failed_login_never_says_whether_the_username_exists() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    let url = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
        app.client_id,
        urlencode(&app.redirect_uri)
    );
    let login = browser.get(&url).await;
    let fields = hidden_fields(&login.body);
    let known = browser
        .post(
            "/o/login",
            &with(
                fields.clone(),
                &[
                    ("username", &username(&app, app.a.user)),
                    ("password", "wrong-password"),
                ],
            ),
        )
        .await;
    let unknown = browser
        .post(
            "/o/login",
            &with(
                fields,
                &[
                    ("username", "nobody-by-this-name"),
                    ("password", "wrong-password"),
                ],
            ),
        )
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert!(known
        .body
        .contains("Please enter a correct username and password"));
    assert!(known.headers.get("set-cookie").is_none());
    // The same form still signs in afterwards.
    let fields = hidden_fields(&unknown.body);
    let ok = browser
        .post(
            "/o/login",
            &with(
                fields,
                &[
                    ("username", &username(&app, app.a.user)),
                    ("password", "password123"),
                ],
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_need_the_session_cookie_and_its_csrf_token() {
    let app = TestApp::new().await;
    let url = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
        app.client_id,
        urlencode(&app.redirect_uri)
    );
    let mut browser = Browser::new(&app);
    let login = browser.get(&url).await;
    let anonymous = browser.cookie.clone();
    assert!(anonymous.is_some());
    let good = with(
        hidden_fields(&login.body),
        &[
            ("username", &username(&app, app.a.user)),
            ("password", "password123"),
        ],
    );
    // A forged CSRF token, or no cookie at all: 403, no session.
    let forged: Vec<(String, String)> = good
        .iter()
        .map(|(k, v)| {
            if k == "csrf_token" {
                (k.clone(), "forged".into())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let page = browser.post("/o/login", &forged).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut stranger = Browser::new(&app);
    let page = stranger.post("/o/login", &good).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Start again"));
    // The consent form cannot be posted cross-site either.
    let consent = sign_in(&app, &mut browser, &url).await;
    let page = stranger
        .post(
            "/o/authorize",
            &with(hidden_fields(&consent.body), &[("allow", "Authorize")]),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Signing in replaced the session cookie (against session fixation).
    assert_ne!(browser.cookie, anonymous);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes", vec![]), 0);
    // Sessions, CSRF tokens and codes are stored only as hashes.
    let cookie = browser.cookie.clone().unwrap();
    let raw = cookie.trim_start_matches("chartd_session=");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM oauth_sessions WHERE token_hash = ?",
            vec![Val::from(raw)]
        ),
        0
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_under_an_https_public_url() {
    let mut settings = test_settings();
    settings.public_url = Some("https://ehr.example".into());
    let app = TestApp::with_settings(settings).await;
    let mut browser = Browser::new(&app);
    let login = browser
        .get(&format!(
            "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
            app.client_id,
            urlencode(&app.redirect_uri)
        ))
        .await;
    assert!(login.set_cookie().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_token_without_a_scope_gets_403() {
    let app = TestApp::new().await;
    let client = oauth_client(&app);
    let code = code_plain(&app, "user").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    let (status, body) = app
        .get_as(tokens.access_token().secret(), "/api/patients")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // No scope at /o/authorize asks for all of them.
    let url = format!(
        "/o/authorize?response_type=code&client_id={}&redirect_uri={}",
        app.client_id,
        urlencode(&app.redirect_uri)
    );
    let code = query_of(&authorize(&app, &url, true).await)["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&app.client)
        .await
        .unwrap();
    assert_eq!(tokens.scopes().unwrap().len(), 11);
}

#[tokio::test]
async fn serve_demo_prints_credentials_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::helpers::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chartd"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env(
            "CHARTD_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("demo.db").display()),
        )
        .env_remove("CHARTD_SECRET_KEY")
        .env_remove("CHARTD_SECRET_KEY_FILE")
        .env("CHARTD_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let printed: Value = serde_json::from_str(&line).unwrap();
    let demo = &printed["demo"];
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ok = None;
    for _ in 0..100 {
        let res = http
            .post(format!("{base}/o/revoke_token/"))
            .form(&[
                ("token", "never-issued"),
                ("client_id", demo["client_id"].as_str().unwrap()),
                ("client_secret", demo["client_secret"].as_str().unwrap()),
            ])
            .send()
            .await;
        if let Ok(res) = res {
            ok = Some(res.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let key = dir.path().join("chartd.key");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&key).map(|m| m.permissions().mode() & 0o777)
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        ok,
        Some(StatusCode::OK),
        "the printed client secret authenticates"
    );
    assert_eq!(demo["redirect_uri"], "http://127.0.0.1:8080/callback");
    assert_eq!(mode.unwrap(), 0o600, "the generated key file is private");
}
