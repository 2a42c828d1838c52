//! POST /o/introspect/: token introspection (RFC 7662), for authenticated clients. A client
//! learns only about tokens issued to itself; any other token, like an unknown, expired,
//! revoked or rotated one, is `{"active": false}`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::json;

use crate::api::auth::hash_token;
use crate::api::compiled::now;
use crate::db::{Sql, Ty};
use crate::state::AppState;

use super::{client_request, no_store_json, App, OAuthError, Params};

const QUERY: &str = "SELECT a.app_id, a.user_id, a.scope, a.expires_at, a.revoked, a.rotated_at, \
     a.created_at, u.username, u.archived FROM access_tokens a JOIN users u ON u.id = a.user_id";

/// POST /o/introspect.
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    client_request(&state, &req, payload, |params, app| {
        introspect_for(&state, params, app)
    })
    .await
}

async fn introspect_for(
    state: &AppState,
    params: Params,
    app: App,
) -> Result<HttpResponse, OAuthError> {
    let token = params.require("token")?.to_string();
    params.param("token_type_hint")?;
    let issuer = state.base_url.clone();
    let tys = [
        Ty::Int,
        Ty::Int,
        Ty::Text,
        Ty::Timestamp,
        Ty::Bool,
        Ty::Timestamp,
        Ty::Timestamp,
        Ty::Text,
        Ty::Bool,
    ];
    let answer = state
        .db
        .run(move |conn| {
            let hash = hash_token(&token);
            let t = now();
            let unix = |ts: Option<NaiveDateTime>| ts.map(|ts| ts.and_utc().timestamp());
            for refresh in [false, true] {
                let column = if refresh {
                    "refresh_hash"
                } else {
                    "token_hash"
                };
                let row = Sql::new(format!("{QUERY} WHERE a.{column} = ?"))
                    .bind(hash.as_str())
                    .load_one(conn, &tys)?;
                let Some(row) = row else { continue };
                let live = row[0].as_i64() == Some(app.id)
                    && !row[4].as_bool().unwrap_or(true)
                    && !row[8].as_bool().unwrap_or(true)
                    && if refresh {
                        row[5].as_timestamp().is_none()
                    } else {
                        row[3].as_timestamp().is_some_and(|e| e > t)
                    };
                if !live {
                    break;
                }
                let mut out = json!({
                    "active": true,
                    "scope": row[2].as_str().unwrap_or(""),
                    "client_id": app.client_id,
                    "username": row[7].as_str().unwrap_or(""),
                    "sub": row[1].as_i64().unwrap_or_default().to_string(),
                    "iat": unix(row[6].as_timestamp()),
                    "iss": issuer,
                    "token_type": if refresh { "refresh_token" } else { "Bearer" },
                });
                if !refresh {
                    out["exp"] = json!(unix(row[3].as_timestamp()));
                }
                return Ok(out);
            }
            Ok(json!({"active": false}))
        })
        .await?;
    Ok(no_store_json(answer))
}
