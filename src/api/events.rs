//! Webhook events, raised by the framework's writes into the transactional outbox that
//! `webhooks::dispatch` delivers from: an evented change records its event (with the object as GET
//! /api/{path}/{id} answers it, rendered in the same transaction) and one pending delivery per
//! subscribed webhook, inside the transaction of the change. A committed change therefore
//! always has its deliveries, and a rolled-back one has none.
//!
//! Subscribed: active, verified webhooks listing the event, of apps authorized in the object's
//! practice group — an app holding a live (unrevoked) token of one of the group's users whose
//! scopes let it read the object (what GET of the object needs: `patients` for a patient,
//! `calendar` and `clinical` for an appointment, ...), so no app is sent what it could not
//! read itself.

use chrono::NaiveDateTime;

use std::sync::OnceLock;

use crate::api::auth::{Scope, Scopes};
use crate::api::compiled::Compiled;
use crate::api::resource::Change;
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty};
use crate::error::ApiError;

/// An event about to be recorded: the object rendered, the webhooks to deliver it to.
pub struct Snapshot {
    event: &'static str,
    resource: &'static str,
    object_id: i64,
    object: Vec<u8>,
    webhooks: Vec<i64>,
}

/// The webhooks that receive `event` of practice group `group` about an object whose GET
/// needs `scopes`.
fn subscribers(
    conn: &mut Conn,
    group: i64,
    event: &str,
    scopes: &[Scope],
) -> Result<Vec<i64>, ApiError> {
    // One row per webhook and distinct scope string of its app's live grants in the group.
    let rows = Sql::new(
        "SELECT DISTINCT w.id, w.events, a.scope FROM webhooks w \
         JOIN access_tokens a ON a.app_id = w.app_id JOIN users u ON u.id = a.user_id \
         WHERE w.active = ? AND w.verified = ? AND a.revoked = ? AND u.practice_group_id = ? \
         ORDER BY w.id",
    )
    .bind(true)
    .bind(true)
    .bind(false)
    .bind(group)
    .load(conn, &[Ty::Int, Ty::Text, Ty::Text])?;
    let mut ids: Vec<i64> = rows
        .into_iter()
        .filter(|r| {
            serde_json::from_str::<Vec<String>>(r[1].as_str().unwrap_or("[]"))
                .is_ok_and(|events| events.iter().any(|e| e == event))
        })
        .filter(|r| {
            Scopes::parse(r[2].as_str().unwrap_or(""))
                .is_ok_and(|granted| scopes.iter().all(|s| granted.allows(*s, false)))
        })
        .filter_map(|r| r[0].as_i64())
        .collect();
    ids.dedup();
    Ok(ids)
}

/// Records the event a change of object `id` of `c`'s resource raises (if it declares one).
pub fn raise_change(
    conn: &mut Conn,
    ctx: &Ctx,
    c: &Compiled,
    change: Change,
    id: i64,
) -> Result<(), ApiError> {
    match c.res.events.name(change) {
        Some(event) => raise(conn, ctx, c, event, id),
        None => Ok(()),
    }
}

/// Records `event` about object `id` of `c`'s resource, for every subscribed webhook.
pub fn raise(
    conn: &mut Conn,
    ctx: &Ctx,
    c: &Compiled,
    event: &'static str,
    id: i64,
) -> Result<(), ApiError> {
    match snapshot(conn, ctx, c, event, id)? {
        Some(s) => record(conn, ctx, s),
        None => Ok(()),
    }
}

/// Renders the object of an event now (before a change that removes it); None when no
/// webhook receives the event.
pub fn snapshot(
    conn: &mut Conn,
    ctx: &Ctx,
    c: &Compiled,
    event: &'static str,
    id: i64,
) -> Result<Option<Snapshot>, ApiError> {
    let view = match c.res.events.object {
        Some(res) => ctx.state.registry.get(res),
        None => c,
    };
    let cached = ctx.subscribers.borrow().get(event).cloned();
    let webhooks = match cached {
        Some(ids) => ids,
        None => {
            let ids = subscribers(conn, ctx.practice_group(), event, view.res.scopes)?;
            ctx.subscribers.borrow_mut().insert(event, ids.clone());
            ids
        }
    };
    if webhooks.is_empty() {
        return Ok(None);
    }
    let object = match view.fetch_json(conn, ctx, id, false) {
        Ok(o) => o,
        // Not the writer's to see (a change made through another object): nobody is told
        // about an object its writer could not read.
        Err(ApiError::NotFound) => {
            tracing::warn!(
                event,
                resource = view.res.path,
                id,
                "webhook event without a visible object"
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(Some(Snapshot {
        event,
        resource: view.res.path,
        object_id: id,
        object,
        webhooks,
    }))
}

/// Records a snapshot's event and deliveries.
pub fn record(conn: &mut Conn, ctx: &Ctx, s: Snapshot) -> Result<(), ApiError> {
    let now = ctx.state.webhooks.now();
    enqueue(
        conn,
        now,
        Some(ctx.practice_group()),
        s.event,
        s.resource,
        Some(s.object_id),
        &s.object,
        &s.webhooks,
    )?;
    Ok(())
}

/// Inserts an event and a pending delivery per webhook, due now; answers the deliveries' ids.
/// The process's dispatchers wake when the transaction commits.
#[allow(clippy::too_many_arguments)]
pub fn enqueue(
    conn: &mut Conn,
    now: NaiveDateTime,
    practice_group: Option<i64>,
    event: &str,
    resource: &str,
    object_id: Option<i64>,
    object: &[u8],
    webhooks: &[i64],
) -> Result<Vec<i64>, ApiError> {
    let event_id = Sql::new(
        "INSERT INTO webhook_events (practice_group_id, event, resource, object_id, object, \
         created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(crate::db::Val::Int(practice_group))
    .bind(event)
    .bind(resource)
    .bind(crate::db::Val::Int(object_id))
    .bind(String::from_utf8_lossy(object).into_owned())
    .bind(now)
    .load_i64(conn)?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("INSERT returned no id")))?;
    let mut ids = Vec::with_capacity(webhooks.len());
    for webhook in webhooks {
        let id = Sql::new(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event, status, attempts, \
             base_at, next_attempt_at, created_at, updated_at) \
             VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?) RETURNING id",
        )
        .bind(*webhook)
        .bind(event_id)
        .bind(event)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .load_i64(conn)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("INSERT returned no id")))?;
        ids.push(id);
    }
    crate::db::after_commit(wake);
    Ok(ids)
}

/// The in-process signal that deliveries were queued (or the clock moved): every dispatcher
/// of the process looks for due work at once instead of at its next poll.
pub fn signal() -> &'static tokio::sync::watch::Sender<u64> {
    static TX: OnceLock<tokio::sync::watch::Sender<u64>> = OnceLock::new();
    TX.get_or_init(|| tokio::sync::watch::channel(0).0)
}

/// Wakes this process's dispatchers.
pub fn wake() {
    signal().send_modify(|n| *n = n.wrapping_add(1));
}
