//! /api/webhooks: an app manages its own webhooks (CONTRACT.md, Webhooks), authenticated with
//! HTTP Basic client_id:client_secret; another app's webhook is a 404.
//!
//! - `GET|POST /api/webhooks`, `GET|PATCH|DELETE /api/webhooks/{id}`: `{"id", "callback_url",
//!   "secret_token" (write-only), "events", "active", "verified"}`. POST answers 201 with the
//!   webhook, PATCH and DELETE 204 (as every chartd resource). A new webhook is unverified;
//!   changing callback_url makes it unverified again.
//! - `POST /api/webhooks/{id}/verify`: the handshake, answered `{"verified", "status_code",
//!   "error"}` (200 either way).
//! - `POST /api/webhooks/{id}/ping`: queues a PING delivery (202 with it).
//! - `GET /api/webhooks/{id}/deliveries[?status=&event=]` (paginated),
//!   `GET .../deliveries/{delivery_id}`, `POST .../deliveries/{delivery_id}/redeliver` (202).
//! - `GET /api/webhooks/{id}/summary` (extension): totals, success rate, last success and
//!   failure.
//!
//! Bodies are checked in `input.rs`, the delivery log is `deliveries.rs`. The secret token is
//! kept as given, since it keys the signatures, and never answered.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::Caller;
use super::deliveries::{self, deliveries_json};
use super::input::{parse_input, Input};
use super::{guard, webhook_json, PING};
use crate::api::body;
use crate::api::events as outbox;
use crate::api::filters::Params;
use crate::api::pagination::{self, Page};
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;
use crate::state::AppState;

/// The most webhooks one app may have.
pub const MAX_WEBHOOKS: i64 = 50;
pub(super) type State = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) });
    cfg.service(
        web::resource("/api/webhooks")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}")
            .route(web::get().to(retrieve))
            .route(web::patch().to(partial_update))
            .route(web::delete().to(destroy))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/verify")
            .route(web::post().to(verify))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/ping")
            .route(web::post().to(ping))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/summary")
            .route(web::get().to(deliveries::summary))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries")
            .route(web::get().to(deliveries::deliveries))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries/{delivery:\\d+}")
            .route(web::get().to(deliveries::delivery))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries/{delivery:\\d+}/redeliver")
            .route(web::post().to(deliveries::redeliver))
            .default_service(not_allowed()),
    );
}

/// Parses and checks a body, resolving a new callback URL (outside any transaction).
async fn checked_input(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    create: bool,
) -> Result<Input, ApiError> {
    let obj = body::read(req, payload).await?.one()?;
    let input = parse_input(&obj, create).map_err(ApiError::Validation)?;
    if let Some(url) = &input.callback_url {
        guard::check_url(url, state.webhooks.config.allow_private)
            .await
            .map_err(|e| ApiError::field("callback_url", e))?;
    }
    Ok(input)
}

const WEBHOOK_SELECT: &str =
    "SELECT t.id, t.callback_url, t.events, t.active, t.verified, t.secret_token FROM webhooks t";
const WEBHOOK_TYS: [Ty; 6] = [Ty::Int, Ty::Text, Ty::Text, Ty::Bool, Ty::Bool, Ty::Text];

pub(super) struct Row {
    id: i64,
    callback_url: String,
    events: String,
    active: bool,
    pub(super) verified: bool,
    secret: String,
}

impl Row {
    fn from(r: Vec<Val>) -> Row {
        let text = |i: usize| r[i].as_str().unwrap_or("").to_string();
        Row {
            id: r[0].as_i64().unwrap_or_default(),
            callback_url: text(1),
            events: text(2),
            active: r[3].as_bool().unwrap_or(false),
            verified: r[4].as_bool().unwrap_or(false),
            secret: text(5),
        }
    }

    fn json(&self, base: &str) -> Value {
        webhook_json(
            base,
            self.id,
            &self.callback_url,
            &self.events,
            self.active,
            self.verified,
        )
    }
}

/// One of the app's webhooks, or 404.
pub(super) fn load(conn: &mut Conn, app: i64, id: i64) -> Result<Row, ApiError> {
    Sql::new(format!("{WEBHOOK_SELECT} WHERE t.app_id = ? AND t.id = ?"))
        .bind(app)
        .bind(id)
        .load_one(conn, &WEBHOOK_TYS)?
        .map(Row::from)
        .ok_or(ApiError::NotFound)
}

pub(super) fn ok_json(status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// GET /api/webhooks
async fn list(caller: Caller, state: State, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    let page = Page::from_params(&params, (100, 100))?;
    let mut sql = Sql::new(format!("{WEBHOOK_SELECT} WHERE t.app_id = ?")).bind(caller.0.id);
    page.finish_query(&mut sql);
    let rows = state
        .db
        .run(move |conn| Ok(sql.load(conn, &WEBHOOK_TYS)?))
        .await?;
    let (rows, links) = page.links(rows, |r| r[0].as_i64().unwrap_or_default());
    let mut buf = Vec::new();
    let base = format!("{}/api/webhooks", state.base_url);
    pagination::write_envelope(&mut buf, &base, &params, &links, |buf| {
        for (i, r) in rows.into_iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            let _ = serde_json::to_writer(&mut *buf, &Row::from(r).json(&state.base_url));
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(buf))
}

/// POST /api/webhooks: 201 with the (unverified) webhook.
async fn create(
    caller: Caller,
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input = checked_input(&state, &req, payload, true).await?;
    let now = state.webhooks.now();
    let app = caller.0.id;
    let row = state
        .db
        .write(move |conn| {
            let id = insert(conn, app, input, now)?;
            load(conn, app, id)
        })
        .await?;
    Ok(ok_json(
        actix_web::http::StatusCode::CREATED,
        &row.json(&state.base_url),
    ))
}

/// Creates a webhook (unverified) from a checked create body; answers its id.
pub fn insert(
    conn: &mut Conn,
    app: i64,
    input: Input,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    let n = Sql::new("SELECT COUNT(*) FROM webhooks WHERE app_id = ?")
        .bind(app)
        .load_i64(conn)?
        .unwrap_or(0);
    if n >= MAX_WEBHOOKS {
        return Err(ApiError::BadRequest(format!(
            "An app may have at most {MAX_WEBHOOKS} webhooks."
        )));
    }
    let url = input
        .callback_url
        .ok_or_else(|| ApiError::field("callback_url", "This field is required."))?;
    Sql::new(
        "INSERT INTO webhooks (app_id, callback_url, callback_host, secret_token, events, \
         active, verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(app)
    .bind(url.as_str())
    .bind(guard::receiver(&url))
    .bind(input.secret_token.unwrap_or_default())
    .bind(serde_json::to_string(&input.events.unwrap_or_default()).unwrap_or_default())
    .bind(input.active.unwrap_or(true))
    .bind(false)
    .bind(now)
    .bind(now)
    .load_i64(conn)?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("INSERT returned no id")))
}

/// GET /api/webhooks/{id}
async fn retrieve(
    caller: Caller,
    state: State,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    let row = state.db.run(move |conn| load(conn, app, id)).await?;
    Ok(ok_json(
        actix_web::http::StatusCode::OK,
        &row.json(&state.base_url),
    ))
}

/// PATCH /api/webhooks/{id}: 204. A new callback_url must be verified again.
async fn partial_update(
    caller: Caller,
    state: State,
    req: HttpRequest,
    payload: web::Payload,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    // An unknown webhook is a 404 whatever the body says.
    state.db.run(move |conn| load(conn, app, id)).await?;
    let input = checked_input(&state, &req, payload, false).await?;
    let now = state.webhooks.now();
    state
        .db
        .write(move |conn| {
            let current = load(conn, app, id)?;
            let mut sql = Sql::new("UPDATE webhooks SET updated_at = ?").bind(now);
            if let Some(url) = &input.callback_url {
                sql.push(
                    ", callback_url = ?, callback_host = ?",
                    [Val::from(url.as_str()), Val::from(guard::receiver(url))],
                );
                if url.as_str() != current.callback_url {
                    sql.push(
                        ", verified = ?, verified_at = ?",
                        [Val::from(false), Val::Timestamp(None)],
                    );
                }
            }
            if let Some(secret) = input.secret_token {
                sql.push(", secret_token = ?", [Val::from(secret)]);
            }
            if let Some(events) = &input.events {
                sql.push(
                    ", events = ?",
                    [Val::from(serde_json::to_string(events).unwrap_or_default())],
                );
            }
            if let Some(active) = input.active {
                sql.push(", active = ?", [Val::from(active)]);
            }
            sql.push(
                " WHERE id = ? AND app_id = ?",
                [Val::from(id), Val::from(app)],
            );
            sql.execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /api/webhooks/{id}: 204; its deliveries (sent or not) go with it.
async fn destroy(
    caller: Caller,
    state: State,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    state
        .db
        .write(move |conn| {
            let n = Sql::new("DELETE FROM webhooks WHERE id = ? AND app_id = ?")
                .bind(id)
                .bind(app)
                .execute(conn)?;
            if n == 0 {
                return Err(ApiError::NotFound);
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/webhooks/{id}/verify: the handshake; 200 `{"verified", "status_code", "error"}`.
async fn verify(
    caller: Caller,
    state: State,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    let row = state.db.run(move |conn| load(conn, app, id)).await?;
    let hub = &state.webhooks;
    let outcome =
        super::send::handshake(&hub.client, &hub.config, &row.callback_url, &row.secret).await;
    let verified = outcome.ok();
    let now = hub.now();
    // Applies only if the URL and secret verified are still the webhook's.
    let (url, secret) = (row.callback_url.clone(), row.secret.clone());
    state
        .db
        .write(move |conn| {
            Sql::new(
                "UPDATE webhooks SET verified = ?, verified_at = ? \
                 WHERE id = ? AND callback_url = ? AND secret_token = ?",
            )
            .bind(verified)
            .bind(Val::Timestamp(verified.then_some(now)))
            .bind(id)
            .bind(url)
            .bind(secret)
            .execute(conn)?;
            Ok(())
        })
        .await?;
    tracing::info!(
        webhook = id,
        verified,
        error = outcome.error.as_deref().unwrap_or(""),
        "webhook verification"
    );
    Ok(ok_json(
        actix_web::http::StatusCode::OK,
        &json!({
            "verified": verified,
            "status_code": outcome.status_code,
            "error": outcome.error,
        }),
    ))
}

pub(super) fn not_verified(id: i64) -> ApiError {
    ApiError::BadRequest(format!(
        "This webhook is not verified, so it receives nothing: verify it first \
         (POST /api/webhooks/{id}/verify)."
    ))
}

/// POST /api/webhooks/{id}/ping: 202 with the queued PING delivery.
async fn ping(caller: Caller, state: State, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    let now = state.webhooks.now();
    let body = state
        .db
        .write(move |conn| {
            let row = load(conn, app, id)?;
            if !row.verified {
                return Err(not_verified(id));
            }
            let ids = outbox::enqueue(conn, now, None, PING, "", None, b"{}", &[id])?;
            deliveries_json(conn, id, &ids).map(|mut v| v.remove(0))
        })
        .await?;
    Ok(ok_json(actix_web::http::StatusCode::ACCEPTED, &body))
}
