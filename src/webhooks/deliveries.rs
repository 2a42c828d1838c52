//! A webhook's delivery log: `GET /api/webhooks/{id}/deliveries` (paginated, by status and
//! event), one delivery, manual redelivery, and the per-webhook summary.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::api::{load, not_verified, ok_json, State};
use super::auth::Caller;
use super::{stamp, EVENTS, PING};
use crate::api::filters::Params;
use crate::api::pagination::{self, Page};
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;

const STATUSES: &[&str] = &["pending", "delivered", "failed"];

/// The deliveries' JSON, in the order of `ids`.
pub(super) fn deliveries_json(
    conn: &mut Conn,
    webhook: i64,
    ids: &[i64],
) -> Result<Vec<Value>, ApiError> {
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
pub(super) async fn deliveries(
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
pub(super) async fn delivery(
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
pub(super) async fn redeliver(
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
pub(super) async fn summary(
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
