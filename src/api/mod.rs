//! The resource machinery, written once: declarations (`resource`), bodies, values, filters,
//! pagination, the generic handlers, auth, the audit trail and the OpenAPI document.

pub mod action;
pub mod audit;
pub mod auth;
pub mod body;
pub mod compiled;
pub mod events;
pub mod fields;
pub mod files;
pub mod filters;
pub mod handlers;
pub mod keys;
pub mod openapi;
pub mod openapi_kit;
pub mod pagination;
pub mod registry;
pub mod resource;
pub mod write;

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::error::ApiError;
use crate::state::AppState;
pub use auth::AuthUser;
pub use compiled::Compiled;
pub use write::Write;

/// One API request's context: the caller, where the request came from, the shared state.
pub struct Ctx {
    pub user: AuthUser,
    pub request_id: String,
    pub remote_addr: String,
    pub state: web::Data<AppState>,
    /// References (table, id) this request has already found in the practice group, so a
    /// bulk create checks each distinct reference once.
    pub known_refs: std::cell::RefCell<std::collections::HashSet<(&'static str, i64)>>,
    /// The webhooks subscribed to each event raised so far in this request (a bulk create
    /// raises the same event once per object).
    pub subscribers: std::cell::RefCell<std::collections::HashMap<&'static str, Vec<i64>>>,
}

impl Ctx {
    /// The compiled form of a resource (from the registry built once per process).
    pub fn compiled(&self, res: &crate::api::resource::Resource) -> &'static Compiled {
        self.state.registry.get(res)
    }

    pub fn practice_group(&self) -> i64 {
        self.user.practice_group_id
    }

    /// An absolute URL under CHARTD_PUBLIC_URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.state.settings.public_url(), path)
    }
}

/// The request id the tracing middleware assigned (or the client's X-Request-Id).
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
        .unwrap_or_default()
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Ctx, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let user = user.await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            Ok(Ctx {
                user,
                request_id: request_id(&req),
                remote_addr: req
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default(),
                state,
                known_refs: Default::default(),
                subscribers: Default::default(),
            })
        })
    }
}
