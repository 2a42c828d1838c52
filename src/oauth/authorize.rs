//! /o/authorize: the authorization endpoint (RFC 6749 §4.1.1, RFC 7636), and /o/login, where
//! its login form posts.
//!
//! - GET /o/authorize checks the request, then shows the login form (no signed-in session)
//!   or the consent form. An unknown client or a redirect_uri that is not exactly a
//!   registered one gets an error page and never a redirect; every later error redirects to
//!   redirect_uri with `error`, `error_description` and `state`.
//! - POST /o/login checks the CSRF token and the password (a failure never says whether the
//!   username exists, and costs the same Argon2 work), starts a signed-in session and sends
//!   the browser back to GET /o/authorize (303).
//! - POST /o/authorize is the consent form: `allow` issues a code (302 to
//!   `redirect_uri?code&state`), anything else answers `error=access_denied`.
//!
//! Redirects also carry `iss` (RFC 9207), against mix-up attacks. PKCE accepts S256 only.

use std::sync::OnceLock;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use chrono::Duration;

use crate::api::auth::{hash_token, new_token};
use crate::api::compiled::now;
use crate::db::{Conn, Sql, Ty};
use crate::error::ApiError;
use crate::state::AppState;

use super::{pages, read_form, session, App, Params};

/// The parameters of an authorization request, carried through the login and consent forms.
const FIELDS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// An authorization request as received (unchecked).
#[derive(Clone, Debug, Default)]
pub struct AuthRequest {
    values: Vec<(&'static str, String)>,
    /// Parameters given more than once (RFC 6749 §3.1 forbids it).
    repeated: Vec<&'static str>,
}

impl AuthRequest {
    pub fn from_params(p: &Params) -> AuthRequest {
        let mut r = AuthRequest::default();
        for name in FIELDS {
            match p.get(name) {
                Ok(Some(v)) => r.values.push((name, v.to_string())),
                Ok(None) => {}
                Err(_) => r.repeated.push(name),
            }
        }
        r
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters as (name, value) pairs, for hidden form fields.
    pub fn fields(&self) -> Vec<(&str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// `/o/authorize?...` with these parameters.
    pub fn path(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.values {
            q.append_pair(k, v);
        }
        format!("/o/authorize?{}", q.finish())
    }
}

/// A checked authorization request.
#[derive(Clone, Debug)]
pub struct Valid {
    pub app: App,
    pub redirect_uri: String,
    /// The normalized scope string (every scope when the request named none).
    pub scope: String,
    pub state: Option<String>,
    /// The PKCE S256 challenge, if any.
    pub challenge: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Clone, Debug)]
pub enum Invalid {
    /// The client or redirect_uri cannot be trusted: an error page, never a redirect.
    Page(String),
    /// An error answered at the (registered) redirect_uri.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

/// RFC 7636 §4.1/§4.2: 43 to 128 characters of [A-Za-z0-9-._~].
pub fn pkce_value_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a request against the registered app, in RFC 6749 §4.1.2.1's order.
pub fn validate(conn: &mut Conn, r: &AuthRequest) -> Result<Result<Valid, Invalid>, ApiError> {
    let page = |m: String| Ok(Err(Invalid::Page(m)));
    for name in ["client_id", "redirect_uri"] {
        if r.repeated.contains(&name) {
            return page(format!("The request repeats the {name} parameter."));
        }
    }
    let Some(client_id) = r.get("client_id") else {
        return page("The request has no client_id.".into());
    };
    let Some(app) = App::by_client_id(conn, client_id)? else {
        return page(format!(
            "No application is registered with the client_id {client_id:?}."
        ));
    };
    let Some(redirect_uri) = r.get("redirect_uri") else {
        return page("The request has no redirect_uri.".into());
    };
    if !app.redirect_uris.iter().any(|u| u == redirect_uri) {
        return page(format!(
            "The redirect_uri {redirect_uri:?} is not one registered for {}.",
            app.name
        ));
    }
    let state = r.get("state").map(str::to_string);
    let redirect = |error: &'static str, description: String| {
        Ok(Err(Invalid::Redirect {
            redirect_uri: redirect_uri.to_string(),
            state: state.clone(),
            error,
            description,
        }))
    };
    if let Some(name) = r.repeated.first() {
        return redirect(
            "invalid_request",
            format!("The parameter {name} is repeated."),
        );
    }
    match r.get("response_type") {
        Some("code") => {}
        None => return redirect("invalid_request", "response_type is missing.".into()),
        Some(other) => {
            return redirect(
                "unsupported_response_type",
                format!("response_type {other:?} is not supported; use code."),
            )
        }
    }
    let scope = match r.get("scope").map(super::normalize_scope) {
        None => super::all_scopes(),
        Some(Ok((s, _))) if s.is_empty() => super::all_scopes(),
        Some(Ok((s, _))) => s,
        Some(Err(word)) => return redirect("invalid_scope", format!("Unknown scope {word:?}.")),
    };
    let challenge = match (r.get("code_challenge"), r.get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return redirect(
                "invalid_request",
                "code_challenge_method was given without code_challenge.".into(),
            )
        }
        (Some(c), method) => {
            if method != Some("S256") {
                return redirect(
                    "invalid_request",
                    "code_challenge_method must be S256 (plain is not supported).".into(),
                );
            }
            if !pkce_value_ok(c) {
                return redirect(
                    "invalid_request",
                    "code_challenge must be the base64url SHA-256 of the code verifier.".into(),
                );
            }
            Some(c.to_string())
        }
    };
    Ok(Ok(Valid {
        app,
        redirect_uri: redirect_uri.to_string(),
        scope,
        state,
        challenge,
    }))
}

/// 302 to a registered redirect URI with `params` appended to its query.
fn redirect_with(uri: &str, params: &[(&str, &str)]) -> HttpResponse {
    let location = match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        // Registered URIs are checked absolute URLs; this is not reached.
        Err(_) => uri.to_string(),
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refuse(invalid: Invalid, issuer: &str) -> HttpResponse {
    match invalid {
        Invalid::Page(message) => pages::error_page(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            &message,
            None,
        ),
        Invalid::Redirect {
            redirect_uri,
            state,
            error,
            description,
        } => {
            let mut params = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &state {
                params.push(("state", s));
            }
            params.push(("iss", issuer));
            redirect_with(&redirect_uri, &params)
        }
    }
}

fn secure_cookies(state: &AppState) -> bool {
    state.base_url.starts_with("https://")
}

enum Shown {
    Invalid(Invalid),
    Login {
        app_name: String,
        csrf: String,
        new_session: Option<String>,
    },
    Consent {
        valid: Box<Valid>,
        user: String,
        csrf: String,
    },
}

/// GET /o/authorize.
pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let r = AuthRequest::from_params(&Params::parse(req.query_string().as_bytes()));
    let token = session::cookie_token(&req);
    let r2 = r.clone();
    let shown = state
        .db
        .run(move |conn| {
            let valid = match validate(conn, &r2)? {
                Ok(v) => v,
                Err(inv) => return Ok(Shown::Invalid(inv)),
            };
            let current = match &token {
                Some(t) => session::load(conn, t)?,
                None => None,
            };
            Ok(match current {
                Some(s) => {
                    let csrf = session::new_csrf(conn, s.id)?;
                    match s.user {
                        Some(u) => Shown::Consent {
                            valid: Box::new(valid),
                            user: if u.name.is_empty() {
                                u.username
                            } else {
                                format!("{} ({})", u.name, u.username)
                            },
                            csrf,
                        },
                        None => Shown::Login {
                            app_name: valid.app.name,
                            csrf,
                            new_session: None,
                        },
                    }
                }
                None => {
                    let (token, csrf) = session::create(conn, None)?;
                    Shown::Login {
                        app_name: valid.app.name,
                        csrf,
                        new_session: Some(token),
                    }
                }
            })
        })
        .await?;
    Ok(match shown {
        Shown::Invalid(inv) => refuse(inv, &state.base_url),
        Shown::Login {
            app_name,
            csrf,
            new_session,
        } => {
            let mut res = pages::html(
                StatusCode::OK,
                pages::login_page(&app_name, &r.fields(), &csrf, false),
            );
            if let Some(t) = new_session {
                set_cookie(&mut res, &t, session::ANONYMOUS_TTL, secure_cookies(&state));
            }
            res
        }
        Shown::Consent { valid, user, csrf } => pages::html(
            StatusCode::OK,
            pages::consent_page(&valid.app.name, &user, &valid.scope, &r.fields(), &csrf),
        ),
    })
}

fn set_cookie(res: &mut HttpResponse, token: &str, max_age: i64, secure: bool) {
    if let Ok(v) = header::HeaderValue::from_str(&session::set_cookie(token, max_age, secure)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn expired(r: &AuthRequest) -> HttpResponse {
    pages::error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was out of date, opened in another window, or your browser did not keep \
         chartd's cookie. Start again from the application, or follow this link.",
        Some(&r.path()),
    )
}

fn bad_form() -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "The form must be posted as application/x-www-form-urlencoded.",
        None,
    )
}

/// An Argon2 hash of a password nobody has, verified when the username is unknown so that
/// the answer takes as long as for a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        crate::admin::hash_password(&new_token()).expect("hashing a random password works")
    })
}

/// The id of the active user with this username and password.
fn check_password(
    conn: &mut Conn,
    username: &str,
    password: &str,
) -> Result<Option<i64>, ApiError> {
    let row = Sql::new("SELECT id, password_hash FROM users WHERE username = ? AND archived = ?")
        .bind(username)
        .bind(false)
        .load_one(conn, &[Ty::Int, Ty::Text])?;
    let (id, hash) = match &row {
        Some(r) => (r[0].as_i64(), r[1].as_str().unwrap_or_default()),
        None => (None, dummy_hash()),
    };
    let ok = PasswordHash::new(hash)
        .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
        .is_ok();
    Ok(if ok { id } else { None })
}

enum LoggedIn {
    Throttled(u64),
    Expired,
    Failed { app_name: String },
    SignedIn(String),
}

/// POST /o/login.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Ok(form) = read_form(&req, payload).await else {
        return Ok(bad_form());
    };
    let r = AuthRequest::from_params(&form);
    let field = |name: &str| form.get(name).ok().flatten().unwrap_or("").to_string();
    let (csrf, username, password) = (field("csrf_token"), field("username"), field("password"));
    let token = session::cookie_token(&req);
    let client_id = r.get("client_id").unwrap_or("").to_string();
    let subject = state.throttle.login(&req, &username);
    let st = state.clone();
    let outcome = state
        .db
        .run(move |conn| {
            let throttle = &st.throttle;
            if let Err(wait) = throttle.check(conn, &subject)? {
                return Ok(LoggedIn::Throttled(wait));
            }
            let current = match &token {
                Some(t) => session::load(conn, t)?,
                None => None,
            };
            let Some(current) = current.filter(|s| s.csrf_ok(Some(&csrf))) else {
                return Ok(LoggedIn::Expired);
            };
            match check_password(conn, &username, &password)? {
                Some(user) => {
                    throttle.succeeded(conn, &subject)?;
                    let (token, _) = crate::db::transaction(conn, |conn| {
                        session::delete(conn, current.id)?;
                        session::create(conn, Some(user))
                    })?;
                    Ok(LoggedIn::SignedIn(token))
                }
                None => Ok(LoggedIn::Failed {
                    app_name: {
                        throttle.failed(conn, &subject)?;
                        App::by_client_id(conn, &client_id)?
                    }
                    .map(|a| a.name)
                    .unwrap_or_else(|| "An application".into()),
                }),
            }
        })
        .await?;
    Ok(match outcome {
        LoggedIn::Throttled(wait) => pages::throttled(wait),
        LoggedIn::Expired => expired(&r),
        LoggedIn::Failed { app_name } => {
            let csrf = form.get("csrf_token").ok().flatten().unwrap_or("");
            pages::html(
                StatusCode::OK,
                pages::login_page(&app_name, &r.fields(), csrf, true),
            )
        }
        LoggedIn::SignedIn(token) => {
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("{}{}", state.base_url, r.path())))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
            set_cookie(
                &mut res,
                &token,
                session::SIGNED_IN_TTL,
                secure_cookies(&state),
            );
            res
        }
    })
}

enum Decided {
    Expired,
    Invalid(Invalid),
    Denied(Valid),
    Code(Valid, String),
}

/// POST /o/authorize: the consent form's answer.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Ok(form) = read_form(&req, payload).await else {
        return Ok(bad_form());
    };
    let r = AuthRequest::from_params(&form);
    let csrf = form.get("csrf_token").ok().flatten().map(str::to_string);
    let allow = form.get("allow").ok().flatten().is_some();
    let token = session::cookie_token(&req);
    let ttl = state.settings.auth_code_ttl;
    let r2 = r.clone();
    let decided = state
        .db
        .run(move |conn| {
            let current = match &token {
                Some(t) => session::load(conn, t)?,
                None => None,
            };
            let Some(user) = current
                .filter(|s| s.csrf_ok(csrf.as_deref()))
                .and_then(|s| s.user)
            else {
                return Ok(Decided::Expired);
            };
            let valid = match validate(conn, &r2)? {
                Ok(v) => v,
                Err(inv) => return Ok(Decided::Invalid(inv)),
            };
            if !allow {
                return Ok(Decided::Denied(valid));
            }
            let code = new_token();
            let t = now();
            // Spent and expired codes are kept a day, to recognize (and punish) a replay.
            Sql::new("DELETE FROM oauth_codes WHERE expires_at <= ?")
                .bind(t - Duration::days(1))
                .execute(conn)?;
            Sql::new(
                "INSERT INTO oauth_codes (code_hash, app_id, user_id, redirect_uri, scope, \
                 code_challenge, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(hash_token(&code))
            .bind(valid.app.id)
            .bind(user.id)
            .bind(valid.redirect_uri.as_str())
            .bind(valid.scope.as_str())
            .bind(valid.challenge.clone().unwrap_or_default())
            .bind(t + Duration::seconds(ttl))
            .bind(t)
            .execute(conn)?;
            Ok(Decided::Code(valid, code))
        })
        .await?;
    let issuer = state.base_url.as_str();
    Ok(match decided {
        Decided::Expired => expired(&r),
        Decided::Invalid(inv) => refuse(inv, issuer),
        Decided::Denied(v) => refuse(
            Invalid::Redirect {
                redirect_uri: v.redirect_uri,
                state: v.state,
                error: "access_denied",
                description: "The user denied the request.".into(),
            },
            issuer,
        ),
        Decided::Code(v, code) => {
            let mut params = vec![("code", code.as_str())];
            if let Some(s) = &v.state {
                params.push(("state", s));
            }
            params.push(("iss", issuer));
            redirect_with(&v.redirect_uri, &params)
        }
    })
}
