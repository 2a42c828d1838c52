//! POST /o/token/: the token endpoint (RFC 6749 §3.2, §4.1.3, §6; RFC 7636 §4.6).
//!
//! Form bodies only (a JSON body gets a clear 400, as DrChrono warns integrators); the
//! client authenticates with HTTP Basic or `client_id` + `client_secret` in the body.
//! Answers `{"access_token", "token_type": "Bearer", "expires_in", "refresh_token", "scope"}`
//! or an RFC 6749 error.
//!
//! Tokens of one grant form a family (token_families). A code is spent on its first use,
//! whatever the outcome; a second use revokes the family issued from it. A refresh rotates:
//! the old refresh and access tokens stop working, and presenting a rotated refresh token
//! again revokes the whole family (RFC 9700 §4.14.2).

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::Duration;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api::auth::{hash_token, new_token, Scopes};
use crate::api::compiled::now;
use crate::db::{Conn, Sql, Ty};
use crate::state::AppState;

use super::authorize::pkce_value_ok;
use super::secret::hashes_equal;
use super::{client_request, no_store_json, App, OAuthError, Params};

/// An issued token pair.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Starts a token family for a grant.
pub fn new_family(conn: &mut Conn, app: i64, user: i64) -> diesel::QueryResult<i64> {
    Sql::new(
        "INSERT INTO token_families (app_id, user_id, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(app)
    .bind(user)
    .bind(now())
    .load_i64(conn)?
    .ok_or(diesel::result::Error::NotFound)
}

/// Stores a token pair (as hashes) in a family.
#[allow(clippy::too_many_arguments)]
pub fn insert_token(
    conn: &mut Conn,
    family: i64,
    app: i64,
    user: i64,
    scope: &str,
    ttl: i64,
    access: &str,
    refresh: &str,
) -> diesel::QueryResult<()> {
    let t = now();
    Sql::new(
        "INSERT INTO access_tokens (token_hash, refresh_hash, app_id, user_id, scope, expires_at, \
         created_at, family_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hash_token(access))
    .bind(hash_token(refresh))
    .bind(app)
    .bind(user)
    .bind(scope)
    .bind(t + Duration::seconds(ttl))
    .bind(t)
    .bind(family)
    .execute(conn)?;
    Ok(())
}

/// Issues a new random token pair in a family.
pub fn issue(
    conn: &mut Conn,
    family: i64,
    app: i64,
    user: i64,
    scope: &str,
    ttl: i64,
) -> diesel::QueryResult<Issued> {
    let (access, refresh) = (new_token(), new_token());
    insert_token(conn, family, app, user, scope, ttl, &access, &refresh)?;
    Ok(Issued {
        access_token: access,
        refresh_token: refresh,
        expires_in: ttl,
        scope: scope.to_string(),
    })
}

/// Revokes every token of a family.
pub fn revoke_family(conn: &mut Conn, family: i64) -> diesel::QueryResult<usize> {
    Sql::new("UPDATE access_tokens SET revoked = ? WHERE family_id = ?")
        .bind(true)
        .bind(family)
        .execute(conn)
}

fn user_active(conn: &mut Conn, user: i64) -> diesel::QueryResult<bool> {
    Ok(
        Sql::new("SELECT id FROM users WHERE id = ? AND archived = ?")
            .bind(user)
            .bind(false)
            .load_i64(conn)?
            .is_some(),
    )
}

/// POST /o/token.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    client_request(&state, &req, payload, |params, app| {
        grant(&state, params, app)
    })
    .await
}

async fn grant(state: &AppState, params: Params, app: App) -> Result<HttpResponse, OAuthError> {
    // Rotation, code reuse and refresh replay revoke tokens: none may live on in the cache.
    let _forget = state.tokens.forget_on_drop();
    let ttl = state.settings.access_token_ttl;
    let issued = match params.require("grant_type")? {
        "authorization_code" => exchange_code(state, app, &params, ttl).await?,
        "refresh_token" => refresh(state, app, &params, ttl).await?,
        other => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other:?} is not supported; use authorization_code or refresh_token."
            )))
        }
    };
    Ok(no_store_json(json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "scope": issued.scope,
    })))
}

/// BASE64URL(SHA256(verifier)), RFC 7636 §4.2.
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn exchange_code(
    state: &AppState,
    app: App,
    params: &Params,
    ttl: i64,
) -> Result<Issued, OAuthError> {
    let code = params.require("code")?.to_string();
    let redirect_uri = params.param("redirect_uri")?.map(str::to_string);
    let verifier = params.param("code_verifier")?.map(str::to_string);
    // The transaction commits refusals too: a spent code and a revoked family must stick.
    let outcome = state
        .db
        .write(move |conn| {
            let invalid = || OAuthError::invalid_grant("The code is invalid, expired or spent.");
            let row = Sql::new(
                "SELECT id, app_id, user_id, redirect_uri, scope, code_challenge, family_id, \
                 used_at, expires_at FROM oauth_codes WHERE code_hash = ?",
            )
            .bind(hash_token(&code))
            .load_one(
                conn,
                &[
                    Ty::Int,
                    Ty::Int,
                    Ty::Int,
                    Ty::Text,
                    Ty::Text,
                    Ty::Text,
                    Ty::Int,
                    Ty::Timestamp,
                    Ty::Timestamp,
                ],
            )?;
            let Some(row) = row else {
                return Ok(Err(invalid()));
            };
            let id = row[0].as_i64().unwrap_or_default();
            if row[1].as_i64() != Some(app.id) {
                return Ok(Err(invalid()));
            }
            let spent =
                Sql::new("UPDATE oauth_codes SET used_at = ? WHERE id = ? AND used_at IS NULL")
                    .bind(now())
                    .bind(id)
                    .execute(conn)?
                    == 0;
            if spent {
                // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
                let family = Sql::new("SELECT family_id FROM oauth_codes WHERE id = ?")
                    .bind(id)
                    .load_i64(conn)?;
                if let Some(f) = family {
                    let n = revoke_family(conn, f)?;
                    tracing::warn!(
                        app = app.id,
                        family = f,
                        revoked = n,
                        "authorization code replayed"
                    );
                }
                return Ok(Err(OAuthError::invalid_grant(
                    "The code was already used; the tokens issued for it are revoked.",
                )));
            }
            if row[8].as_timestamp().is_none_or(|t| t <= now()) {
                return Ok(Err(invalid()));
            }
            if redirect_uri.as_deref() != row[3].as_str() {
                return Ok(Err(OAuthError::invalid_grant(
                    "redirect_uri differs from the one of the authorization request.",
                )));
            }
            let challenge = row[5].as_str().unwrap_or("");
            match (challenge.is_empty(), verifier.as_deref()) {
                (true, None) => {}
                (true, Some(_)) => {
                    return Ok(Err(OAuthError::invalid_grant(
                        "code_verifier was given, but the authorization request had no \
                         code_challenge.",
                    )))
                }
                (false, None) => {
                    return Ok(Err(OAuthError::invalid_grant(
                        "code_verifier is required: the authorization request had a \
                         code_challenge.",
                    )))
                }
                (false, Some(v)) => {
                    if !pkce_value_ok(v) || !hashes_equal(&s256(v), challenge) {
                        return Ok(Err(OAuthError::invalid_grant(
                            "code_verifier does not match the code_challenge.",
                        )));
                    }
                }
            }
            let user = row[2].as_i64().unwrap_or_default();
            if !user_active(conn, user)? {
                return Ok(Err(invalid()));
            }
            let family = new_family(conn, app.id, user)?;
            Sql::new("UPDATE oauth_codes SET family_id = ? WHERE id = ?")
                .bind(family)
                .bind(id)
                .execute(conn)?;
            let scope = row[4].as_str().unwrap_or("").to_string();
            Ok(Ok(issue(conn, family, app.id, user, &scope, ttl)?))
        })
        .await?;
    outcome
}

async fn refresh(
    state: &AppState,
    app: App,
    params: &Params,
    ttl: i64,
) -> Result<Issued, OAuthError> {
    let refresh = params.require("refresh_token")?.to_string();
    let requested = match params.param("scope")? {
        None => None,
        Some(s) => Some(
            super::normalize_scope(s)
                .map_err(|w| OAuthError::invalid_scope(format!("Unknown scope {w:?}.")))?,
        ),
    };
    let outcome = state
        .db
        .write(move |conn| {
            let invalid = || OAuthError::invalid_grant("The refresh token is invalid or revoked.");
            let row = Sql::new(
                "SELECT id, app_id, user_id, scope, family_id, revoked, rotated_at \
                 FROM access_tokens WHERE refresh_hash = ?",
            )
            .bind(hash_token(&refresh))
            .load_one(
                conn,
                &[
                    Ty::Int,
                    Ty::Int,
                    Ty::Int,
                    Ty::Text,
                    Ty::Int,
                    Ty::Bool,
                    Ty::Timestamp,
                ],
            )?;
            let Some(row) = row else {
                return Ok(Err(invalid()));
            };
            if row[1].as_i64() != Some(app.id) {
                return Ok(Err(invalid()));
            }
            let id = row[0].as_i64().unwrap_or_default();
            let user = row[2].as_i64().unwrap_or_default();
            let family = match row[4].as_i64() {
                Some(f) => f,
                // A token from before families existed gets one now.
                None => {
                    let f = new_family(conn, app.id, user)?;
                    Sql::new("UPDATE access_tokens SET family_id = ? WHERE id = ?")
                        .bind(f)
                        .bind(id)
                        .execute(conn)?;
                    f
                }
            };
            let replayed = || -> Result<Result<Issued, OAuthError>, crate::error::ApiError> {
                Ok(Err(OAuthError::invalid_grant(
                    "The refresh token was already used; every token of this grant is now \
                     revoked.",
                )))
            };
            if row[6].as_timestamp().is_some() {
                let n = revoke_family(conn, family)?;
                tracing::warn!(app = app.id, family, revoked = n, "refresh token replayed");
                return replayed();
            }
            if row[5].as_bool().unwrap_or(true) || !user_active(conn, user)? {
                return Ok(Err(invalid()));
            }
            let granted = row[3].as_str().unwrap_or("").to_string();
            let scope = match &requested {
                None => granted,
                Some((s, wanted)) => {
                    let original = Scopes::parse(&granted).unwrap_or_default();
                    if s.is_empty() || !original.covers(wanted) {
                        return Ok(Err(OAuthError::invalid_scope(
                            "The requested scope exceeds the scope originally granted.",
                        )));
                    }
                    s.clone()
                }
            };
            let rotated = Sql::new(
                "UPDATE access_tokens SET rotated_at = ?, revoked = ? \
                 WHERE id = ? AND rotated_at IS NULL AND revoked = ?",
            )
            .bind(now())
            .bind(true)
            .bind(id)
            .bind(false)
            .execute(conn)?;
            if rotated == 0 {
                // A concurrent refresh with the same token won: one of the two is a replay.
                revoke_family(conn, family)?;
                return replayed();
            }
            Ok(Ok(issue(conn, family, app.id, user, &scope, ttl)?))
        })
        .await?;
    outcome
}

/// Revokes the token pair (or, for a refresh token, the family) a token belongs to, when it
/// was issued to `app`. Answers whether something matched.
pub fn revoke_token(conn: &mut Conn, app: i64, token: &str) -> diesel::QueryResult<bool> {
    let hash = hash_token(token);
    let tys = [Ty::Int, Ty::Int, Ty::Int];
    let access = Sql::new("SELECT id, app_id, family_id FROM access_tokens WHERE token_hash = ?")
        .bind(hash.as_str())
        .load_one(conn, &tys)?;
    if let Some(row) = access.filter(|r| r[1].as_i64() == Some(app)) {
        Sql::new("UPDATE access_tokens SET revoked = ? WHERE id = ?")
            .bind(true)
            .bind(row[0].clone())
            .execute(conn)?;
        return Ok(true);
    }
    let refresh =
        Sql::new("SELECT id, app_id, family_id FROM access_tokens WHERE refresh_hash = ?")
            .bind(hash)
            .load_one(conn, &tys)?;
    if let Some(row) = refresh.filter(|r| r[1].as_i64() == Some(app)) {
        // RFC 7009 §2.1: revoking a refresh token revokes the access tokens of its grant.
        match row[2].as_i64() {
            Some(f) => revoke_family(conn, f)?,
            None => Sql::new("UPDATE access_tokens SET revoked = ? WHERE id = ?")
                .bind(true)
                .bind(row[0].clone())
                .execute(conn)?,
        };
        return Ok(true);
    }
    Ok(false)
}
