//! A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every
//! request under /hook/{name} and answers as told (status, delay, the verification
//! handshake), plus helpers for the webhooks management API (HTTP Basic as the test app).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{test_settings, TestApp};

/// A secret token that passes the entropy check.
pub const SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn event(&self) -> &str {
        self.header("x-drchrono-event")
    }
}

/// How the receiver answers one hook.
#[derive(Clone, Debug)]
pub struct Behavior {
    /// The status of POSTs.
    pub status: u16,
    pub delay: Duration,
    /// The secret the handshake answer is computed with (None: a wrong answer).
    pub secret: Option<String>,
    /// Answers the first `slow_first` POSTs after `slow_delay` instead of `delay`.
    pub slow_first: usize,
    pub slow_delay: Duration,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            status: 200,
            delay: Duration::ZERO,
            secret: Some(SECRET.into()),
            slow_first: 0,
            slow_delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct Shared {
    received: HashMap<String, Vec<Received>>,
    behaviors: HashMap<String, Behavior>,
    posts: HashMap<String, usize>,
    /// POSTs being answered now, and the most there ever were at once.
    in_flight: usize,
    max_in_flight: usize,
}

pub struct Receiver {
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    handle: actix_web::dev::ServerHandle,
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Arc<Mutex<Shared>>>,
) -> HttpResponse {
    let path = req.path().to_string();
    let name = path
        .strip_prefix("/hook/")
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let got = Received {
        method: req.method().to_string(),
        query: req.query_string().to_string(),
        headers,
        body: body.to_vec(),
    };
    let (behavior, nth) = {
        let mut s = shared.lock().unwrap();
        let behavior = s.behaviors.get(&name).cloned().unwrap_or_default();
        s.received
            .entry(name.clone())
            .or_default()
            .push(got.clone());
        let nth = if got.method == "POST" {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            let n = s.posts.entry(name.clone()).or_default();
            *n += 1;
            *n
        } else {
            0
        };
        (behavior, nth)
    };
    if got.method == "GET" {
        let msg = url::form_urlencoded::parse(got.query.as_bytes())
            .find(|(k, _)| k == "msg")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let answer = match &behavior.secret {
            Some(secret) => hex_hmac(secret, msg.as_bytes()),
            None => "not-the-right-answer".into(),
        };
        return HttpResponse::Ok().json(json!({ "secret_token": answer }));
    }
    let delay = if nth <= behavior.slow_first {
        behavior.slow_delay
    } else {
        behavior.delay
    };
    if !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    shared.lock().unwrap().in_flight -= 1;
    let status = actix_web::http::StatusCode::from_u16(behavior.status).unwrap();
    let mut res = HttpResponse::build(status);
    if status.is_redirection() {
        res.insert_header(("Location", format!("/hook/{name}-redirected")));
    }
    res.body("ok")
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let data = web::Data::new(shared.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                        .default_service(web::to(handle))
                })
                .workers(2)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            })
        });
        Receiver {
            base,
            shared,
            handle: rx.recv().unwrap(),
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.base)
    }

    pub fn set(&self, name: &str, b: Behavior) {
        self.shared.lock().unwrap().behaviors.insert(name.into(), b);
    }

    /// The most deliveries this receiver was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().unwrap().max_in_flight
    }

    /// Every request to a hook so far.
    pub fn all(&self, name: &str) -> Vec<Received> {
        self.shared
            .lock()
            .unwrap()
            .received
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// The POSTs (deliveries) to a hook so far.
    pub fn posts(&self, name: &str) -> Vec<Received> {
        self.all(name)
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }

    /// Waits (up to `secs`) until a hook has at least `n` POSTs; answers them.
    pub async fn wait_posts(&self, name: &str, n: usize, secs: u64) -> Vec<Received> {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let posts = self.posts(name);
            if posts.len() >= n || Instant::now() > until {
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub fn hex_hmac(secret: &str, msg: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

/// Settings for webhook tests: private (loopback) receivers allowed, short timeout and lease,
/// quick polling.
pub fn settings() -> chartd::settings::Settings {
    let mut s = test_settings();
    s.webhook_allow_private = Some(true);
    s.webhook_timeout = "2s".into();
    s.webhook_lease = "9s".into();
    s.webhook_poll = "100ms".into();
    s
}

/// A management API call as an app (HTTP Basic).
pub async fn call_as(
    app: &TestApp,
    (client_id, secret): (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, app.url(path))
        .basic_auth(client_id, Some(secret));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A management API call as the test app.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_as(
        app,
        (&app.client_id, &app.client_secret),
        method,
        path,
        body,
    )
    .await
}

/// Creates a webhook for `url` as an app and verifies it; answers its id.
pub async fn verified_hook_as(
    app: &TestApp,
    creds: (&str, &str),
    url: &str,
    events: &[&str],
) -> i64 {
    let (status, hook) = call_as(
        app,
        creds,
        Method::POST,
        "/api/webhooks",
        Some(json!({"callback_url": url, "secret_token": SECRET, "events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let id = hook["id"].as_i64().unwrap();
    let (status, body) = call_as(
        app,
        creds,
        Method::POST,
        &format!("/api/webhooks/{id}/verify"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verified"], true, "{body}");
    id
}

/// [`verified_hook_as`] for the test app and a receiver hook.
pub async fn verified_hook(app: &TestApp, rx: &Receiver, name: &str, events: &[&str]) -> i64 {
    verified_hook_as(
        app,
        (&app.client_id, &app.client_secret),
        &rx.url(name),
        events,
    )
    .await
}

/// Every delivery of a webhook (all pages).
pub async fn deliveries(app: &TestApp, hook: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = format!("/api/webhooks/{hook}/deliveries");
    loop {
        let (status, page) = call(app, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        out.extend(page["results"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = next.to_string(),
            None => return out,
        }
    }
}

/// Waits (up to `secs`) until a delivery has `status`; answers it.
pub async fn wait_delivery(
    app: &TestApp,
    hook: i64,
    delivery: i64,
    status: &str,
    secs: u64,
) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let (_, d) = call(
            app,
            Method::GET,
            &format!("/api/webhooks/{hook}/deliveries/{delivery}"),
            None,
        )
        .await;
        if d["status"] == status || Instant::now() > until {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
