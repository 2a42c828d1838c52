//! POST /o/revoke_token/: token revocation (RFC 7009). The client authenticates as at the
//! token endpoint and names an access or refresh token (`token_type_hint` is optional and
//! needless: both kinds are looked up). Revoking an access token ends it (and its refresh
//! token); revoking a refresh token ends its whole grant. The answer is 200 with an empty
//! body whether or not the token existed or belonged to the client, so the endpoint tells
//! nobody which tokens exist.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;

use super::{client_request, App, OAuthError, Params};

/// POST /o/revoke_token.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    client_request(&state, &req, payload, |params, app| {
        revoke_for(&state, params, app)
    })
    .await
}

async fn revoke_for(
    state: &AppState,
    params: Params,
    app: App,
) -> Result<HttpResponse, OAuthError> {
    let token = params.require("token")?.to_string();
    params.param("token_type_hint")?;
    state
        .db
        .write(move |conn| Ok(super::token::revoke_token(conn, app.id, &token)?))
        .await?;
    state.tokens.clear();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
