//! The OAuth 2 authorization server ("OAuth" in the reference, CONTRACT.md): the
//! authorization code grant with login and consent pages, PKCE (S256 only), refresh-token
//! rotation, revocation (RFC 7009), introspection (RFC 7662) and metadata (RFC 8414), plus
//! the iframe integration, whose launches are signed with the app's client secret.
//!
//! Everything a second server process needs (login sessions, CSRF tokens, codes, token
//! families) lives in the database; secrets are stored only as SHA-256 hex and compared in
//! constant time, and so do the failure counts of the throttle (`crate::throttle`).
//!
//! Every `/o/` path answers with and without its trailing slash: the app trims it before
//! routing.

pub mod authorize;
pub mod iframe;
pub mod introspect;
pub mod metadata;
pub mod openapi;
pub mod pages;
pub mod revoke;
pub mod secret;
pub mod session;
pub mod token;

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::json;

use crate::api::auth::{hash_token, Scope, Scopes};
use crate::db::{Conn, Sql, Ty};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of the authorization server and the iframe integration.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) });
    cfg.service(
        web::resource("/o/authorize")
            .route(web::get().to(authorize::show))
            .route(web::post().to(authorize::decide))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/o/login")
            .route(web::post().to(authorize::login))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/o/token")
            .route(web::post().to(token::token))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/o/revoke_token")
            .route(web::post().to(revoke::revoke))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/o/introspect")
            .route(web::post().to(introspect::introspect))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/.well-known/oauth-authorization-server")
            .route(web::get().to(metadata::metadata))
            .default_service(not_allowed()),
    );
    iframe::routes(cfg);
}

/// An RFC 6749 error of the token, revocation and introspection endpoints:
/// `{"error", "error_description"}` with the status the RFC gives it.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }

    pub fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        )
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }

    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }

    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }

    pub fn throttled(retry_after: u64) -> Self {
        OAuthError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("Too many requests from your address; retry in {retry_after} seconds."),
            )
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"chartd\""));
        }
        if let Some(s) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        res.json(json!({"error": self.error, "error_description": self.description}))
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(d) => OAuthError::invalid_request(d),
            ApiError::PayloadTooLarge(d) => {
                OAuthError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", d)
            }
            other => {
                tracing::error!(error = %other, "OAuth endpoint failed");
                OAuthError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Internal server error.",
                )
            }
        }
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::from(e).into()
    }
}

/// Decoded `name=value` pairs of a query string or form body, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(s: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(s)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value. RFC 6749 §3.1: an empty value counts as absent and a parameter
    /// must not be repeated; nor hold a NUL character (Err names it).
    pub fn get(&self, name: &str) -> Result<Option<&str>, String> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k == name && !v.is_empty() {
                if v.contains('\0') || k.contains('\0') {
                    return Err(format!("The parameter {name} holds a NUL character."));
                }
                if found.is_some() {
                    return Err(format!("The parameter {name} is repeated."));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// Like [`Params::get`], for the JSON endpoints.
    pub fn param(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        self.get(name).map_err(OAuthError::invalid_request)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.param(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("The parameter {name} is missing.")))
    }
}

/// Largest accepted form body of an /o/ endpoint.
const MAX_FORM: usize = 64 * 1024;

/// Why a body could not be read as a form.
#[derive(Debug)]
pub enum FormError {
    /// Not form-urlencoded; `json` when it was JSON.
    NotForm {
        json: bool,
    },
    TooLarge,
    Unreadable,
}

impl From<FormError> for OAuthError {
    fn from(e: FormError) -> Self {
        match e {
            FormError::NotForm { json: true } => OAuthError::invalid_request(
                "This endpoint accepts application/x-www-form-urlencoded parameters, not JSON \
                 (as DrChrono's): send the same names as a form-encoded body.",
            ),
            FormError::NotForm { json: false } => OAuthError::invalid_request(
                "Send the parameters as an application/x-www-form-urlencoded body.",
            ),
            FormError::TooLarge => OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("The body is larger than {MAX_FORM} bytes."),
            ),
            FormError::Unreadable => OAuthError::invalid_request("The body could not be read."),
        }
    }
}

/// Reads an `application/x-www-form-urlencoded` body; anything else is refused.
pub async fn read_form(req: &HttpRequest, mut payload: web::Payload) -> Result<Params, FormError> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/x-www-form-urlencoded" {
        let json = mime == "application/json" || mime.ends_with("+json");
        return Err(FormError::NotForm { json });
    }
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| FormError::Unreadable)?;
        if buf.len() + chunk.len() > MAX_FORM {
            return Err(FormError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Params::parse(&buf))
}

/// A registered application.
#[derive(Clone, Debug)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_hash: String,
    pub redirect_uris: Vec<String>,
    pub iframe_patient_url: String,
    pub iframe_clinical_note_url: String,
}

const APP_SELECT: &str = "SELECT id, name, client_id, client_secret_hash, redirect_uris, \
     iframe_patient_url, iframe_clinical_note_url FROM apps";
const APP_TYS: [Ty; 7] = [
    Ty::Int,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
];

impl App {
    fn from_row(row: Vec<crate::db::Val>) -> App {
        let text = |i: usize| row[i].as_str().unwrap_or_default().to_string();
        App {
            id: row[0].as_i64().unwrap_or_default(),
            name: text(1),
            client_id: text(2),
            secret_hash: text(3),
            redirect_uris: serde_json::from_str(row[4].as_str().unwrap_or("[]"))
                .unwrap_or_default(),
            iframe_patient_url: text(5),
            iframe_clinical_note_url: text(6),
        }
    }

    pub fn by_client_id(conn: &mut Conn, client_id: &str) -> diesel::QueryResult<Option<App>> {
        Ok(Sql::new(format!("{APP_SELECT} WHERE client_id = ?"))
            .bind(client_id)
            .load_one(conn, &APP_TYS)?
            .map(App::from_row))
    }

    pub fn by_id(conn: &mut Conn, id: i64) -> diesel::QueryResult<Option<App>> {
        Ok(Sql::new(format!("{APP_SELECT} WHERE id = ?"))
            .bind(id)
            .load_one(conn, &APP_TYS)?
            .map(App::from_row))
    }
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1, each part form-urlencoded): None when
/// the request has no Basic Authorization header, Some(None) when it is malformed.
pub fn basic_credentials(req: &HttpRequest) -> Option<Option<(String, String)>> {
    let creds = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, creds)| creds.trim().to_string())?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(creds)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Some(None);
    };
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(Some((unescape(id), unescape(secret))))
}

/// The client credentials of a request: HTTP Basic or `client_id` + `client_secret` in the
/// body, never both.
fn client_credentials(req: &HttpRequest, params: &Params) -> Result<(String, String), OAuthError> {
    let body_id = params.param("client_id")?;
    let body_secret = params.param("client_secret")?;
    if let Some(basic) = basic_credentials(req) {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "Authenticate the client with HTTP Basic or with client_secret in the body, \
                 not both.",
            ));
        }
        let (id, secret) = basic.ok_or_else(OAuthError::invalid_client)?;
        if body_id.is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header.",
            ));
        }
        return Ok((id, secret));
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok((id.to_string(), secret.to_string())),
        _ => Err(OAuthError::invalid_client()),
    }
}

/// Authenticates the calling client (401 invalid_client otherwise). An unknown client_id
/// costs the same hash and comparison as a wrong secret.
pub async fn authenticate_client(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<App, OAuthError> {
    let (client_id, secret) = client_credentials(req, params)?;
    let app = state
        .db
        .run(move |conn| Ok(App::by_client_id(conn, &client_id)?))
        .await?;
    let presented = hash_token(&secret);
    let stored = app
        .as_ref()
        .map(|a| a.secret_hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let ok = secret::hashes_equal(&presented, &stored);
    match app {
        Some(app) if ok => Ok(app),
        _ => Err(OAuthError::invalid_client()),
    }
}

/// A client-authenticated endpoint (token, revoke, introspect): the form body is read, the
/// client's failures at the caller's address checked (429 once they reach the limit), the
/// client authenticated and `work` run. A failed client authentication or an invalid grant
/// counts as a failure; valid requests are not counted.
pub async fn client_request<T, Fut>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
    work: impl FnOnce(Params, App) -> Fut,
) -> Result<T, OAuthError>
where
    Fut: std::future::Future<Output = Result<T, OAuthError>>,
{
    let params = read_form(req, payload).await?;
    let client_id = client_credentials(req, &params)
        .map(|(id, _)| id)
        .unwrap_or_default();
    let subject = state.throttle.token(req, &client_id);
    let (st, s) = (state.clone(), subject.clone());
    let allowed = state
        .db
        .run(move |conn| Ok(st.throttle.check(conn, &s)?))
        .await?;
    if let Err(wait) = allowed {
        return Err(OAuthError::throttled(wait));
    }
    let result = match authenticate_client(state, req, &params).await {
        Ok(app) => work(params, app).await,
        Err(e) => Err(e),
    };
    if matches!(&result, Err(e) if matches!(e.error, "invalid_client" | "invalid_grant")) {
        let st = state.clone();
        state
            .db
            .run(move |conn| Ok(st.throttle.failed(conn, &subject)?))
            .await?;
    }
    result
}

/// Every scope an app may be granted, as a scope string.
pub fn all_scopes() -> String {
    Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks and normalizes a scope string (single spaces, no repeats); Err is the first
/// unknown word.
pub fn normalize_scope(scope: &str) -> Result<(String, Scopes), String> {
    let parsed = Scopes::parse(scope)?;
    let mut words: Vec<&str> = Vec::new();
    for w in scope.split_whitespace() {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    Ok((words.join(" "), parsed))
}

/// A JSON answer that must not be cached (RFC 6749 §5.1).
pub fn no_store_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}
