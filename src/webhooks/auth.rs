//! The caller of the webhooks management API: an app, authenticated with HTTP Basic
//! client_id:client_secret as at /o/token (CONTRACT.md). The /api/ gate authenticates it
//! first, to count the call against the app's hourly limit, and leaves it in the request.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::api::auth::hash_token;
use crate::error::ApiError;
use crate::oauth::secret::hashes_equal;
use crate::oauth::App;
use crate::state::AppState;

/// The authenticated app.
#[derive(Clone, Debug)]
pub struct Caller(pub App);

fn unauthorized() -> ApiError {
    ApiError::UnauthorizedClient(
        "Authenticate with HTTP Basic: your app's client_id and client_secret.".into(),
    )
}

/// Authenticates the app of a request's Basic credentials (401 otherwise). An unknown
/// client_id costs the same hash and comparison as a wrong secret.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<App, ApiError> {
    let (client_id, secret) = crate::oauth::basic_credentials(req)
        .flatten()
        .ok_or_else(unauthorized)?;
    let app = state
        .db
        .run(move |conn| Ok(App::by_client_id(conn, &client_id)?))
        .await?;
    let stored = app
        .as_ref()
        .map(|a| a.secret_hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let ok = hashes_equal(&hash_token(&secret), &stored);
    match app {
        Some(app) if ok => Ok(app),
        _ => Err(unauthorized()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(c) = req.extensions().get::<Caller>() {
                return Ok(c.clone());
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?
                .clone();
            let caller = Caller(authenticate(&state, &req).await?);
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}
