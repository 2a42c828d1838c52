//! TestApp: the real server (build_app, real HTTP on a free port) over a freshly migrated
//! database — a SQLite file per test, or with CHARTD_TEST_DATABASE_URL a PostgreSQL schema
//! per test — seeded with two practice groups, each with a doctor and a full-scope token.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use chartd::admin::{self, NewApp, NewUser};
use chartd::app;
use chartd::db::{migrate, Db, DbUrl, Sql, Ty, Val};
use chartd::oauth::secret::ServerKey;
use chartd::settings::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ALL_SCOPES: &str =
    "user calendar patients patients:summary clinical billing billing:patient-payment labs messages settings tasks";

/// One seeded practice group: its doctor user and a token with every scope.
#[derive(Clone, Debug)]
pub struct Practice {
    pub id: i64,
    pub user: i64,
    pub doctor: i64,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub client: reqwest::Client,
    /// Practice group A (the default caller).
    pub a: Practice,
    /// Practice group B, which must never see A's data.
    pub b: Practice,
    pub client_id: String,
    /// The test app's client secret (derived from `settings.store.secret_key`).
    pub client_secret: String,
    /// The test app's redirect URI.
    pub redirect_uri: String,
    pub settings: Settings,
    pub token: String,
    pub files_dir: std::path::PathBuf,
    /// The server's clock for rate-limit windows; tests may move it.
    pub clock: Arc<chartd::ratelimit::Clock>,
    /// The clock of the server's webhook outbox and dispatcher; tests may move it (then call
    /// `chartd::webhooks::wake()`).
    pub webhook_clock: Arc<chartd::ratelimit::Clock>,
    handle: actix_web::dev::ServerHandle,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

/// Default settings, as if no variable or flag were given, but with a secret key (so that
/// no test writes a key file) and no token cache (tests change users and settings behind
/// the server's back).
pub fn test_settings() -> Settings {
    let mut settings = Settings::from_env();
    settings.store.secret_key = Some(format!("test-secret-key-{}-0123456789abcdef", unique()));
    settings.token_cache_seconds = 0;
    settings
}

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database for one test: (url, temp dir to keep, PostgreSQL (base url, schema) to drop).
fn fresh_database_and_dir() -> (String, Option<tempfile::TempDir>, Option<(String, String)>) {
    match std::env::var("CHARTD_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("t_{}", unique());
            let db =
                Db::connect(&DbUrl::parse(&base).unwrap(), 1).expect("connect to test PostgreSQL");
            Sql::new(format!("CREATE SCHEMA {schema}"))
                .execute(&mut db.get().unwrap())
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{sep}options=-csearch_path%3D{schema}"),
                None,
                Some((base, schema)),
            )
        }
        _ => ("sqlite://{dir}/chartd.db".to_string(), None, None),
    }
}

pub fn seed_practice(db: &Db, name: &str, client_id: &str) -> Practice {
    let conn = &mut db.get().unwrap();
    let id = admin::practice_create(conn, name).unwrap();
    let username = format!("doc_{}", unique());
    let (user, doctor) = admin::user_create(
        conn,
        &NewUser {
            practice: id,
            username,
            password: "password123".into(),
            role: "doctor".into(),
            first_name: "Doc".into(),
            last_name: name.into(),
            ..NewUser::default()
        },
    )
    .unwrap();
    let token = admin::token_create(conn, client_id, user, ALL_SCOPES, 3600, None)
        .unwrap()
        .access_token;
    Practice {
        id,
        user,
        doctor,
        token,
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_settings(test_settings()).await
    }

    pub async fn with_settings(mut settings: Settings) -> TestApp {
        let (url, _, pg_schema) = fresh_database_and_dir();
        let dir = tempfile::tempdir().unwrap();
        settings.store.database_url = url.replace("{dir}", &dir.path().display().to_string());
        let url = settings.store.database_url.clone();
        settings.files_dir = dir.path().join("files").display().to_string();
        let db = Db::connect(&DbUrl::parse(&url).unwrap(), 4).unwrap();
        migrate::run(&mut db.get().unwrap()).unwrap();
        let key = ServerKey::new(&settings.load_secret_key().unwrap());
        let (_, client_id, client_secret) = admin::app_create(
            &mut db.get().unwrap(),
            &key,
            &NewApp {
                name: "Test App".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                iframe_patient_url: Some("https://app.example/iframe/patient?v=1".into()),
                iframe_clinical_note_url: Some("https://app.example/iframe/note".into()),
                ..NewApp::default()
            },
        )
        .unwrap();
        let a = seed_practice(&db, "Alpha", &client_id);
        let b = seed_practice(&db, "Beta", &client_id);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let address = format!("http://127.0.0.1:{port}");
        settings.bind = format!("127.0.0.1:{port}");
        let (tx, rx) = std::sync::mpsc::channel();
        let clocks = app::Clocks::default();
        let (clock, webhook_clock) = (clocks.rate_limit.clone(), clocks.webhooks.clone());
        let (server_db, server_settings) = (db.clone(), settings.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = app::Application::build(server_settings, server_db, listener, 1, clocks)
                    .unwrap();
                tx.send(app.handle()).unwrap();
                let _ = app.run_until_stopped().await;
            })
        });
        let handle = rx.recv().unwrap();
        let token = a.token.clone();
        TestApp {
            address,
            db,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            a,
            b,
            client_id,
            client_secret,
            redirect_uri: REDIRECT_URI.into(),
            settings,
            token,
            handle,
            files_dir: dir.path().join("files"),
            clock,
            webhook_clock,
            _dir: Some(dir),
            pg_schema,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.address, path)
        }
    }

    /// Sends a request with a bearer token (None: no Authorization header) and a JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request failed");
        let status = res.status();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, Some(&self.token), None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(&self.token), Some(body))
            .await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(&self.token), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, Some(&self.token), None)
            .await
    }
    pub async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, Some(token), None).await
    }

    /// A raw request with a given content type and body bytes.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The server key the test server derives client secrets with.
    pub fn server_key(&self) -> ServerKey {
        ServerKey::new(&self.settings.load_secret_key().unwrap())
    }

    /// Issues another token for a user of this app.
    pub fn token_for(&self, user: i64, scope: &str) -> String {
        admin::token_create(
            &mut self.db.get().unwrap(),
            &self.client_id,
            user,
            scope,
            3600,
            None,
        )
        .unwrap()
        .access_token
    }

    /// Creates a user in practice `practice`; answers (user id, doctor id).
    pub fn user(&self, practice: i64, role: &str, doctor: Option<i64>) -> (i64, i64) {
        admin::user_create(
            &mut self.db.get().unwrap(),
            &NewUser {
                practice,
                username: format!("user_{}", unique()),
                password: "password123".into(),
                role: role.into(),
                doctor,
                ..NewUser::default()
            },
        )
        .unwrap()
    }

    /// Runs SQL directly (test setup only).
    pub fn sql(&self, text: &str, binds: Vec<Val>) -> usize {
        let mut sql = Sql::new(text);
        sql.binds = binds;
        sql.execute(&mut self.db.get().unwrap()).unwrap()
    }

    pub fn count(&self, text: &str, binds: Vec<Val>) -> i64 {
        let mut sql = Sql::new(text);
        sql.binds = binds;
        sql.load_one(&mut self.db.get().unwrap(), &[Ty::Int])
            .unwrap()
            .unwrap()[0]
            .as_i64()
            .unwrap()
    }

    /// Waits (up to 5 s) until `count` reaches at least `n`: read audit entries are batched.
    pub async fn eventually_count(&self, text: &str, binds: Vec<Val>, n: i64) -> i64 {
        for _ in 0..100 {
            let c = self.count(text, binds.clone());
            if c >= n {
                return c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.count(text, binds)
    }

    /// An office of doctor A with `rooms` exam rooms; answers its id.
    pub fn office(&self, rooms: u32) -> i64 {
        admin::office_create(
            &mut self.db.get().unwrap(),
            self.a.id,
            self.a.doctor,
            "Main",
            rooms,
        )
        .unwrap()
        .0
    }

    /// A valid appointment body (doctor A, a new patient, the given office), with `extra` merged.
    pub async fn appointment_body(&self, office: i64, scheduled_time: &str, extra: Value) -> Value {
        let patient = self.create_patient(json!({})).await["id"].as_i64().unwrap();
        let mut body = json!({"doctor": self.a.doctor, "patient": patient, "office": office,
            "exam_room": 1, "scheduled_time": scheduled_time, "duration": 30});
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        body
    }

    /// A valid patient body for doctor A, with `extra` keys merged in.
    pub fn patient_body(&self, extra: Value) -> Value {
        let mut body = json!({"doctor": self.a.doctor, "gender": "Female", "first_name": "Jane", "last_name": "Doe"});
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        body
    }

    /// Creates a patient for doctor A through the API; answers its JSON.
    pub async fn create_patient(&self, extra: Value) -> Value {
        let (status, body) = self.post("/api/patients", self.patient_body(extra)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // stop() sends the command now; nobody needs to await its completion.
        drop(self.handle.stop(false));
        if let Some((base, schema)) = &self.pg_schema {
            if let Ok(db) = Db::connect(&DbUrl::parse(base).unwrap(), 1) {
                if let Ok(mut c) = db.get() {
                    let _ = Sql::new(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut c);
                }
            }
        }
    }
}

/// A `chartd serve` process on the test's database; killed on drop.
pub struct Server(pub Child, pub String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on the loopback address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `chartd serve` process (the real binary) on the test's database, answering /healthz.
pub async fn serve(app: &TestApp) -> Server {
    serve_with(app, &[]).await
}

/// Like [`serve`], with more environment settings.
pub async fn serve_with(app: &TestApp, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chartd"));
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--workers",
        "1",
    ])
    .env("CHARTD_DATABASE_URL", &app.settings.store.database_url)
    .env(
        "CHARTD_SECRET_KEY",
        app.settings.store.secret_key.clone().unwrap_or_default(),
    )
    .env("CHARTD_LOG", "error")
    .envs(env.iter().copied())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let child = cmd.spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if app
            .client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    Server(child, url)
}
