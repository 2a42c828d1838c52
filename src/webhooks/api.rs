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
//! The secret token must be long and unpredictable ([`check_secret`]); it is kept as given,
//! since it keys the signatures, and never answered.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::{guard, outbox, stamp, webhook_json, EVENTS, PING};
use crate::api::body;
use crate::api::filters::Params;
use crate::api::pagination::{self, Page};
use crate::app::AppState;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// The most webhooks one app may have.
pub const MAX_WEBHOOKS: i64 = 50;
/// The shortest accepted secret token.
pub const MIN_SECRET: usize = 32;
const MAX_SECRET: usize = 512;
/// The least estimated entropy of a secret token, in bits.
const MIN_SECRET_BITS: f64 = 96.0;

const STATUSES: &[&str] = &["pending", "delivered", "failed"];

type State = web::Data<AppState>;

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
            .route(web::get().to(summary))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries")
            .route(web::get().to(deliveries))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries/{delivery:\\d+}")
            .route(web::get().to(delivery))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/webhooks/{id:\\d+}/deliveries/{delivery:\\d+}/redeliver")
            .route(web::post().to(redeliver))
            .default_service(not_allowed()),
    );
}

/// Why a secret token is refused, if it is: too short, too long, not printable, a repeated
/// pattern, or too little variety for its length (estimated from its own character
/// frequencies: a random hex string of 32 characters carries about 115 bits).
pub fn check_secret(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n < MIN_SECRET {
        return Err(format!(
            "Ensure this field has at least {MIN_SECRET} characters: use a random value, \
             e.g. the output of `openssl rand -hex 20`."
        ));
    }
    if n > MAX_SECRET {
        return Err(format!(
            "Ensure this field has no more than {MAX_SECRET} characters."
        ));
    }
    if s.chars().any(char::is_control) {
        return Err("The secret token must not contain control characters.".into());
    }
    let chars: Vec<char> = s.chars().collect();
    if (1..=n / 2).any(|p| (p..n).all(|i| chars[i] == chars[i - p])) {
        return Err("The secret token is a repeated pattern; use a random value.".into());
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let bits: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum::<f64>()
        * n as f64;
    if bits < MIN_SECRET_BITS {
        return Err(
            "The secret token is too predictable; use a random value, e.g. the output of \
             `openssl rand -hex 20`."
                .into(),
        );
    }
    Ok(())
}

/// A create or PATCH body, checked.
#[derive(Default)]
pub struct Input {
    pub callback_url: Option<url::Url>,
    pub secret_token: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// Checks a create (`create`) or PATCH body; the callback URL's addresses are checked apart.
pub fn parse_input(obj: &Map<String, Value>, create: bool) -> Result<Input, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut input = Input::default();
    let required = "This field is required.";
    match obj.get("callback_url") {
        None | Some(Value::Null) if create => errors.add("callback_url", required),
        None => {}
        Some(Value::String(s)) => match guard::parse_callback(s) {
            Ok(u) => input.callback_url = Some(u),
            Err(e) => errors.add("callback_url", e),
        },
        Some(_) => errors.add("callback_url", "Not a valid string."),
    }
    match obj.get("secret_token") {
        None | Some(Value::Null) if create => errors.add("secret_token", required),
        None => {}
        Some(Value::String(s)) => match check_secret(s) {
            Ok(()) => input.secret_token = Some(s.clone()),
            Err(e) => errors.add("secret_token", e),
        },
        Some(_) => errors.add("secret_token", "Not a valid string."),
    }
    let names: Option<Vec<String>> = match obj.get("events") {
        None | Some(Value::Null) if create => {
            errors.add("events", required);
            None
        }
        None => None,
        // A form body gives them comma-separated.
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect(),
        ),
        Some(Value::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            if names.is_none() {
                errors.add("events", "Expected a list of event names.");
            }
            names
        }
        Some(_) => {
            errors.add("events", "Expected a list of event names.");
            None
        }
    };
    if let Some(names) = names {
        let mut events: Vec<String> = Vec::new();
        for name in names {
            if !EVENTS.contains(&name.as_str()) {
                errors.add(
                    "events",
                    format!(
                        "\"{name}\" is not a valid event; one of: {}.",
                        EVENTS.join(", ")
                    ),
                );
            } else if !events.contains(&name) {
                events.push(name);
            }
        }
        if events.is_empty() && !errors.has("events") {
            errors.add("events", "Subscribe to at least one event.");
        }
        input.events = Some(events);
    }
    match obj.get("active") {
        None | Some(Value::Null) => {}
        Some(v) => match crate::api::fields::parse_bool(v) {
            Ok(b) => input.active = Some(b),
            Err(e) => errors.add("active", e),
        },
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
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

struct Row {
    id: i64,
    callback_url: String,
    events: String,
    active: bool,
    verified: bool,
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
fn load(conn: &mut Conn, app: i64, id: i64) -> Result<Row, ApiError> {
    Sql::new(format!("{WEBHOOK_SELECT} WHERE t.app_id = ? AND t.id = ?"))
        .bind(app)
        .bind(id)
        .load_one(conn, &WEBHOOK_TYS)?
        .map(Row::from)
        .ok_or(ApiError::NotFound)
}

fn ok_json(status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
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

fn not_verified(id: i64) -> ApiError {
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

/// The deliveries' JSON, in the order of `ids`.
fn deliveries_json(conn: &mut Conn, webhook: i64, ids: &[i64]) -> Result<Vec<Value>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut sql = Sql::new(format!(
        "SELECT t.id, t.event, t.status, t.next_attempt_at, t.created_at \
         FROM webhook_deliveries t WHERE t.webhook_id = ? AND t.id IN ({marks})"
    ))
    .bind(webhook);
    sql.binds.extend(ids.iter().map(|i| Val::from(*i)));
    let rows = sql.load(
        conn,
        &[Ty::Int, Ty::Text, Ty::Text, Ty::Timestamp, Ty::Timestamp],
    )?;
    let mut sql = Sql::new(format!(
        "SELECT delivery_id, at, status_code, error, duration_ms FROM webhook_attempts \
         WHERE delivery_id IN ({marks}) ORDER BY id"
    ));
    sql.binds = ids.iter().map(|i| Val::from(*i)).collect();
    let attempts = sql.load(conn, &[Ty::Int, Ty::Timestamp, Ty::Int, Ty::Text, Ty::Int])?;
    let ts = |v: &Val| v.as_timestamp().map(stamp);
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(r) = rows.iter().find(|r| r[0].as_i64() == Some(*id)) else {
            continue;
        };
        let list: Vec<Value> = attempts
            .iter()
            .filter(|a| a[0].as_i64() == Some(*id))
            .map(|a| {
                json!({
                    "at": ts(&a[1]),
                    "status_code": a[2].as_i64(),
                    "error": a[3].as_str(),
                    "duration_ms": a[4].as_i64().unwrap_or(0),
                })
            })
            .collect();
        out.push(json!({
            "id": id,
            "event": r[1].as_str(),
            "status": r[2].as_str(),
            "attempts": list,
            "next_attempt_at": ts(&r[3]),
            "created_at": ts(&r[4]),
        }));
    }
    Ok(out)
}

/// GET /api/webhooks/{id}/deliveries[?status=pending|delivered|failed][&event=NAME]
async fn deliveries(
    caller: Caller,
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    let params = Params::parse(req.query_string());
    let page = Page::from_params(&params, (100, 250))?;
    let mut sql = Sql::new("SELECT t.id FROM webhook_deliveries t WHERE t.webhook_id = ?").bind(id);
    if let Some(status) = params.get("status").filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&status) {
            return Err(ApiError::field(
                "status",
                "Must be one of pending, delivered, failed.",
            ));
        }
        sql.push(" AND t.status = ?", [Val::from(status)]);
    }
    if let Some(event) = params.get("event").filter(|s| !s.is_empty()) {
        if event != PING && !EVENTS.contains(&event) {
            return Err(ApiError::field(
                "event",
                format!("\"{event}\" is not a valid event."),
            ));
        }
        sql.push(" AND t.event = ?", [Val::from(event)]);
    }
    page.finish_query(&mut sql);
    let items = state
        .db
        .run(move |conn| {
            load(conn, app, id)?;
            let ids: Vec<i64> = sql
                .load(conn, &[Ty::Int])?
                .into_iter()
                .filter_map(|r| r[0].as_i64())
                .collect();
            let (ids, links) = page.links(ids, |i| *i);
            Ok((deliveries_json(conn, id, &ids)?, links))
        })
        .await?;
    let (items, links) = items;
    let mut buf = Vec::new();
    let base = format!("{}/api/webhooks/{id}/deliveries", state.base_url);
    pagination::write_envelope(&mut buf, &base, &params, &links, |buf| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            let _ = serde_json::to_writer(&mut *buf, item);
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(buf))
}

/// GET /api/webhooks/{id}/deliveries/{delivery_id}
async fn delivery(
    caller: Caller,
    state: State,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (app, (id, delivery)) = (caller.0.id, path.into_inner());
    let body = state
        .db
        .run(move |conn| {
            load(conn, app, id)?;
            deliveries_json(conn, id, &[delivery])?
                .pop()
                .ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(ok_json(actix_web::http::StatusCode::OK, &body))
}

/// POST /api/webhooks/{id}/deliveries/{delivery_id}/redeliver: the delivery starts over — an
/// attempt now, then the retry schedule from now. 202 with it; 409 while an attempt is in
/// flight.
async fn redeliver(
    caller: Caller,
    state: State,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (app, (id, delivery)) = (caller.0.id, path.into_inner());
    let now = state.webhooks.now();
    let body = state
        .db
        .write(move |conn| {
            let row = load(conn, app, id)?;
            if !row.verified {
                return Err(not_verified(id));
            }
            let exists = Sql::new(
                "SELECT t.id FROM webhook_deliveries t WHERE t.id = ? AND t.webhook_id = ?",
            )
            .bind(delivery)
            .bind(id)
            .load_i64(conn)?;
            if exists.is_none() {
                return Err(ApiError::NotFound);
            }
            let n = Sql::new(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, base_at = ?, \
                 next_attempt_at = ?, lease_until = NULL, claim = NULL, updated_at = ? \
                 WHERE id = ? AND (status <> 'pending' OR lease_until IS NULL OR lease_until <= ?)",
            )
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(delivery)
            .bind(now)
            .execute(conn)?;
            if n == 0 {
                return Err(ApiError::Conflict(
                    "This delivery is being attempted right now; try again in a moment.".into(),
                    None,
                ));
            }
            crate::db::after_commit(super::wake);
            deliveries_json(conn, id, &[delivery]).map(|mut v| v.remove(0))
        })
        .await?;
    Ok(ok_json(actix_web::http::StatusCode::ACCEPTED, &body))
}

/// GET /api/webhooks/{id}/summary (extension): `{"webhook", "total", "pending", "delivered",
/// "failed", "success_rate" (percent of finished deliveries delivered, null before any),
/// "last_success_at", "last_failure_at" (the latest failed attempt)}`.
async fn summary(
    caller: Caller,
    state: State,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (app, id) = (caller.0.id, id.into_inner());
    let body = state
        .db
        .run(move |conn| {
            load(conn, app, id)?;
            let counts = Sql::new(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) \
                 FROM webhook_deliveries WHERE webhook_id = ?",
            )
            .bind(id)
            .load_one(conn, &[Ty::Int, Ty::Int, Ty::Int, Ty::Int])?
            .unwrap_or_default();
            let last_success: Option<NaiveDateTime> =
                Sql::new("SELECT MAX(delivered_at) FROM webhook_deliveries WHERE webhook_id = ?")
                    .bind(id)
                    .load_one(conn, &[Ty::Timestamp])?
                    .and_then(|r| r[0].as_timestamp());
            let last_failure: Option<NaiveDateTime> = Sql::new(
                "SELECT MAX(a.at) FROM webhook_attempts a JOIN webhook_deliveries d \
                 ON d.id = a.delivery_id WHERE d.webhook_id = ? \
                 AND (a.status_code IS NULL OR a.status_code < 200 OR a.status_code > 299)",
            )
            .bind(id)
            .load_one(conn, &[Ty::Timestamp])?
            .and_then(|r| r[0].as_timestamp());
            let n = |i: usize| counts.get(i).and_then(Val::as_i64).unwrap_or(0);
            let (delivered, failed) = (n(2), n(3));
            let rate = (delivered + failed > 0).then(|| {
                (delivered as f64 * 10000.0 / (delivered + failed) as f64).round() / 100.0
            });
            Ok(json!({
                "webhook": id,
                "total": n(0),
                "pending": n(1),
                "delivered": delivered,
                "failed": failed,
                "success_rate": rate,
                "last_success_at": last_success.map(stamp),
                "last_failure_at": last_failure.map(stamp),
            }))
        })
        .await?;
    Ok(ok_json(actix_web::http::StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::check_secret;

    #[test]
    fn secrets_must_be_long_and_unpredictable() {
        assert!(check_secret("0123456789abcdef0123456789abcde").is_err()); // 31
        assert!(check_secret(&"a".repeat(40)).is_err());
        assert!(check_secret(&"ab".repeat(20)).is_err());
        assert!(check_secret("0123456789abcdef0123456789abcdef").is_err()); // period 16
        assert!(check_secret("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab").is_err());
        assert!(check_secret("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b").is_ok());
        assert!(check_secret("c0a1f6e2b7d94e3f8a5b2c1d0e9f8a7b").is_ok());
    }
}
