//! The dispatcher: sends due deliveries, in `serve` (unless CHARTD_WEBHOOK_CONCURRENCY=0) and
//! in `chartd worker` processes, any number of them over one database.
//!
//! - Claiming: one atomic UPDATE takes a batch of due deliveries (pending, next_attempt_at
//!   passed, no live lease) by setting `lease_until` and a random `claim`; on PostgreSQL the
//!   batch is chosen `FOR UPDATE SKIP LOCKED`, so processes never wait for each other and
//!   never take the same delivery. Only the holder of a claim records its outcome.
//! - Crash safety: a lease (CHARTD_WEBHOOK_LEASE) outlives a claimed delivery's wait in its
//!   lane and its attempt (it is at least twice the timeout + 5 s); when a process dies its
//!   leases run out and the deliveries are due again, so none is lost (a receiver may see one
//!   twice: dedupe on webhook-id).
//! - Concurrency: at most CHARTD_WEBHOOK_CONCURRENCY deliveries in flight per process, and
//!   CHARTD_WEBHOOK_PER_RECEIVER per receiver (callback host:port), so one slow receiver
//!   cannot hold every slot. Each receiver has a lane: up to the cap of workers, each sending
//!   one delivery after another, and as many deliveries claimed ahead, so that consecutive
//!   deliveries need no database round trip in between. A claim takes at most the room each
//!   lane has (none for a full lane), oldest deliveries first.
//! - Schedule: the first attempt when the event happens, then at each CHARTD_WEBHOOK_RETRY_SCHEDULE
//!   offset after it (1 h, 3 h, 7 h); after the last failure the delivery is `failed`.
//! - Outcomes are written in batches (one transaction for many), off the sending path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, watch, Notify};

use super::send::{self, Outcome};
use super::{webhook_json, AttemptLabels, Hub, PING};
use crate::db::{Conn, Db, Sql, Ty, Val};
use crate::error::ApiError;

/// The most deliveries one claim takes.
const MAX_BATCH: usize = 256;

/// A claimed delivery with what sending it needs.
struct Claimed {
    id: i64,
    claim: String,
    /// When the claim runs out (another process may take the delivery then).
    lease_until: NaiveDateTime,
    event: String,
    attempts: i64,
    base_at: NaiveDateTime,
    url: String,
    receiver: String,
    secret: String,
    active: bool,
    verified: bool,
    /// The body: {"receiver": the webhook, "object": the object}.
    body: Vec<u8>,
}

/// What became of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Next {
    Delivered,
    Retry(NaiveDateTime),
    Failed,
}

/// An attempt's result, to be recorded.
#[derive(Clone)]
struct Done {
    id: i64,
    claim: String,
    at: NaiveDateTime,
    attempts: i64,
    next: Next,
    outcome: Outcome,
}

/// Where the delivery goes after its `attempts`-th attempt of the schedule from `base` failed
/// at `now`: the next offset (not earlier than now), or `failed` after the last.
fn after_failure(
    schedule: &[Duration],
    base: NaiveDateTime,
    attempts: i64,
    now: NaiveDateTime,
) -> Next {
    match schedule.get((attempts - 1).max(0) as usize) {
        Some(offset) => {
            let at = base + chrono::Duration::from_std(*offset).unwrap_or(chrono::Duration::MAX);
            Next::Retry(at.max(now))
        }
        None => Next::Failed,
    }
}

/// One receiver's share of this process: its workers (one attempt in flight each) and the
/// deliveries claimed for it that wait for a worker.
#[derive(Default)]
struct Lane {
    running: usize,
    queue: VecDeque<Claimed>,
}

/// Deliveries in flight and waiting in this process, in total and per receiver.
#[derive(Default)]
struct Lanes {
    running: usize,
    queued: usize,
    lanes: HashMap<String, Lane>,
    stopping: bool,
}

type Shared = Arc<Mutex<Lanes>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Lanes> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running dispatcher; [`Dispatcher::stop`] ends it after its attempts in flight.
pub struct Dispatcher {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Dispatcher {
    /// Starts a dispatcher on the current tokio runtime.
    pub fn start(db: Db, hub: Arc<Hub>) -> Dispatcher {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(db, hub, stopped));
        Dispatcher { stop, task }
    }

    /// Stops claiming, lets the attempts in flight finish and their outcomes be written, and
    /// hands back the deliveries it had claimed but not started.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Everything a worker needs.
#[derive(Clone)]
struct Ctx {
    hub: Arc<Hub>,
    tx: mpsc::Sender<Done>,
    lanes: Shared,
    /// Signalled when a lane runs low or a worker ends: time to claim more.
    freed: Arc<Notify>,
}

/// A worker: attempts a delivery, then the next one waiting for the same receiver, until its
/// lane is empty. Consecutive deliveries to a receiver need no database round trip between
/// them.
async fn worker(ctx: Ctx, mut c: Claimed) {
    let receiver = c.receiver.clone();
    let low = ctx.hub.config.per_receiver.div_ceil(2);
    let concurrency = ctx.hub.config.concurrency;
    // An attempt starts only if it ends (timeout, and time to record it) before the claim
    // runs out; otherwise the delivery is left to whoever claims it next.
    let margin = chrono::Duration::from_std(ctx.hub.config.timeout + Duration::from_secs(2))
        .unwrap_or_default();
    loop {
        if c.lease_until - ctx.hub.now() >= margin {
            let done = attempt(&ctx.hub, c).await;
            let _ = ctx.tx.send(done).await;
        } else {
            tracing::warn!(
                delivery = c.id,
                "a claimed webhook delivery waited too long in this process; left to its next claim"
            );
        }
        let mut l = lock(&ctx.lanes);
        // Another receiver's deliveries wait with no worker while every slot is taken: this
        // worker's slot goes to them.
        let starving = l.running >= concurrency
            && l.lanes
                .iter()
                .any(|(r, lane)| *r != receiver && lane.running == 0 && !lane.queue.is_empty());
        let stopping = l.stopping;
        let lane = l.lanes.entry(receiver.clone()).or_default();
        let next = if stopping || starving {
            None
        } else {
            lane.queue.pop_front()
        };
        match next {
            Some(n) => {
                let refill = lane.queue.len() <= low;
                l.queued -= 1;
                drop(l);
                if refill {
                    ctx.freed.notify_one();
                }
                c = n;
            }
            None => {
                lane.running -= 1;
                if lane.running == 0 && lane.queue.is_empty() {
                    l.lanes.remove(&receiver);
                }
                l.running -= 1;
                drop(l);
                ctx.freed.notify_one();
                return;
            }
        }
    }
}

/// Starts workers for waiting deliveries while their receivers and the process have room.
fn start_ready(ctx: &Ctx) {
    let (cap, concurrency) = (ctx.hub.config.per_receiver, ctx.hub.config.concurrency);
    let mut start = Vec::new();
    {
        let mut l = lock(&ctx.lanes);
        let Lanes {
            running,
            queued,
            lanes,
            ..
        } = &mut *l;
        // Lanes without a worker first, so that every receiver with work gets a slot.
        for idle_first in [true, false] {
            for lane in lanes.values_mut() {
                if idle_first && lane.running > 0 {
                    continue;
                }
                while *running < concurrency && lane.running < cap {
                    let Some(c) = lane.queue.pop_front() else {
                        break;
                    };
                    lane.running += 1;
                    *running += 1;
                    *queued -= 1;
                    start.push(c);
                }
            }
        }
    }
    for c in start {
        tokio::spawn(worker(ctx.clone(), c));
    }
}

async fn run(db: Db, hub: Arc<Hub>, mut stopped: watch::Receiver<bool>) {
    let mut wake = super::signal().subscribe();
    let (tx, rx) = mpsc::channel::<Done>(hub.config.concurrency.max(1) * 2);
    let writer = tokio::spawn(write_outcomes(db.clone(), rx));
    let ctx = Ctx {
        hub: hub.clone(),
        tx,
        lanes: Shared::default(),
        freed: Arc::new(Notify::new()),
    };
    let cap = hub.config.per_receiver;
    // A receiver's lane holds up to `cap` attempts in flight and `cap` more claimed ahead;
    // the process, twice its concurrency.
    let (lane_max, process_max) = (2 * cap, 2 * hub.config.concurrency);
    tracing::info!(
        concurrency = hub.config.concurrency,
        per_receiver = cap,
        "webhook dispatcher started"
    );
    loop {
        if *stopped.borrow() {
            break;
        }
        start_ready(&ctx);
        let (budget, saturated, busy) = {
            let l = lock(&ctx.lanes);
            let mut saturated = Vec::new();
            let mut busy = Vec::new();
            for (r, lane) in &l.lanes {
                let used = lane.running + lane.queue.len();
                if used >= lane_max {
                    saturated.push(r.clone());
                } else {
                    busy.push((r.clone(), lane_max - used));
                }
            }
            (
                process_max.saturating_sub(l.running + l.queued),
                saturated,
                busy,
            )
        };
        // Whether room, not a lack of due work, limited this round: then a lane running low
        // is a reason to look again.
        let mut limited = budget == 0 || !saturated.is_empty();
        let mut full = false;
        if budget > 0 {
            let limit = budget.min(MAX_BATCH);
            let room: HashMap<String, usize> = busy.iter().cloned().collect();
            match claim(&db, &hub, limit, lane_max, saturated, busy).await {
                Ok(batch) => {
                    full = batch.len() == limit;
                    let mut l = lock(&ctx.lanes);
                    let mut per: HashMap<String, usize> = HashMap::new();
                    for c in batch {
                        *per.entry(c.receiver.clone()).or_default() += 1;
                        l.queued += 1;
                        l.lanes
                            .entry(c.receiver.clone())
                            .or_default()
                            .queue
                            .push_back(c);
                    }
                    drop(l);
                    limited |= per
                        .iter()
                        .any(|(r, n)| *n >= room.get(r).copied().unwrap_or(lane_max));
                    start_ready(&ctx);
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not claim webhook deliveries");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            _ = wake.changed() => {}
            _ = ctx.freed.notified(), if limited => {}
            _ = tokio::time::sleep(hub.config.poll) => {}
            _ = stopped.changed() => {}
        }
    }
    // Workers finish the attempt in hand (each bounded by the timeout) and take no more; what
    // waits is handed back at once rather than when its lease runs out.
    lock(&ctx.lanes).stopping = true;
    loop {
        if lock(&ctx.lanes).running == 0 {
            break;
        }
        tokio::select! {
            _ = ctx.freed.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let waiting: Vec<Claimed> = lock(&ctx.lanes)
        .lanes
        .drain()
        .flat_map(|(_, lane)| lane.queue)
        .collect();
    if !waiting.is_empty() {
        if let Err(e) = release(&db, waiting).await {
            tracing::error!(error = %e, "could not hand back webhook deliveries");
        }
    }
    drop(ctx);
    let _ = writer.await;
    tracing::info!("webhook dispatcher stopped");
}

/// Claims up to `limit` due deliveries, oldest first: none for the receivers in `saturated`,
/// at most the room left for those in `busy`, at most `room` for the others.
/// The choice is made among a window of the oldest due deliveries (saturated receivers
/// aside), so its cost does not grow with the backlog.
async fn claim(
    db: &Db,
    hub: &Hub,
    limit: usize,
    room: usize,
    saturated: Vec<String>,
    busy: Vec<(String, usize)>,
) -> Result<Vec<Claimed>, ApiError> {
    let window = (limit * 4).clamp(64, 1024);
    let now = hub.now();
    let lease = now + chrono::Duration::from_std(hub.config.lease).unwrap_or_default();
    let public_url = hub.config.public_url.clone();
    let claim = {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    db.run(move |conn| {
        let skip = conn.skip_locked("d");
        // The candidates: the oldest due deliveries of receivers with room.
        let mut sql = Sql::new(
            "WITH cand AS (SELECT d.id, d.next_attempt_at AS at, w.callback_host AS host \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= ? \
             AND (d.lease_until IS NULL OR d.lease_until <= ?)",
        )
        .bind(now)
        .bind(now);
        if !saturated.is_empty() {
            let marks = vec!["?"; saturated.len()].join(", ");
            sql.push(
                &format!(" AND w.callback_host NOT IN ({marks})"),
                saturated.iter().map(|s| Val::from(s.as_str())),
            );
        }
        // Each receiver's candidates ranked, and the room it has.
        sql.push(
            &format!(
                " ORDER BY d.next_attempt_at, d.id LIMIT {window}), ranked AS (SELECT c.id, \
                 ROW_NUMBER() OVER (PARTITION BY c.host ORDER BY c.at, c.id) AS rn, "
            ),
            [],
        );
        if busy.is_empty() {
            sql.push(&format!("{room} AS room"), []);
        } else {
            sql.push("CASE c.host", []);
            for (host, left) in &busy {
                sql.push(
                    " WHEN ? THEN ?",
                    [Val::from(host.as_str()), Val::from(*left as i64)],
                );
            }
            sql.push(&format!(" ELSE {room} END AS room"), []);
        }
        // Claimed (on PostgreSQL skipping rows another process is claiming); the outer
        // conditions repeat the inner ones, so a row another process claimed between the
        // choice and the update is left alone.
        sql.push(
            &format!(
                " FROM cand c) UPDATE webhook_deliveries SET lease_until = ?, claim = ? \
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.id IN \
                 (SELECT r.id FROM ranked r WHERE r.rn <= r.room) \
                 ORDER BY d.next_attempt_at, d.id LIMIT {limit}{skip}) \
                 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)"
            ),
            [Val::from(lease), Val::from(claim.as_str()), Val::from(now)],
        );
        if sql.execute(conn)? == 0 {
            return Ok(Vec::new());
        }
        let rows = Sql::new(
            "SELECT d.id, d.event, d.attempts, d.base_at, w.id, w.callback_url, \
             w.callback_host, w.secret_token, w.events, w.active, w.verified, e.object \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             JOIN webhook_events e ON e.id = d.event_id WHERE d.claim = ? \
             ORDER BY d.next_attempt_at, d.id",
        )
        .bind(claim.as_str())
        .load(
            conn,
            &[
                Ty::Int,
                Ty::Text,
                Ty::Int,
                Ty::Timestamp,
                Ty::Int,
                Ty::Text,
                Ty::Text,
                Ty::Text,
                Ty::Text,
                Ty::Bool,
                Ty::Bool,
                Ty::Text,
            ],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let text = |i: usize| r[i].as_str().unwrap_or("").to_string();
                let (active, verified) = (
                    r[9].as_bool().unwrap_or(false),
                    r[10].as_bool().unwrap_or(false),
                );
                let receiver = webhook_json(
                    &public_url,
                    r[4].as_i64().unwrap_or_default(),
                    &text(5),
                    &text(8),
                    active,
                    verified,
                );
                let mut body = b"{\"receiver\":".to_vec();
                let _ = serde_json::to_writer(&mut body, &receiver);
                body.extend_from_slice(b",\"object\":");
                body.extend_from_slice(r[11].as_str().unwrap_or("null").as_bytes());
                body.push(b'}');
                Claimed {
                    id: r[0].as_i64().unwrap_or_default(),
                    claim: claim.clone(),
                    lease_until: lease,
                    event: text(1),
                    attempts: r[2].as_i64().unwrap_or(0),
                    base_at: r[3].as_timestamp().unwrap_or(now),
                    url: text(5),
                    receiver: text(6),
                    secret: text(7),
                    active,
                    verified,
                    body,
                }
            })
            .collect())
    })
    .await
}

/// Gives claimed deliveries back untouched (at shutdown, those not started).
async fn release(db: &Db, batch: Vec<Claimed>) -> Result<(), ApiError> {
    db.run(move |conn| {
        for c in &batch {
            Sql::new(
                "UPDATE webhook_deliveries SET lease_until = NULL, claim = NULL \
                 WHERE id = ? AND claim = ?",
            )
            .bind(c.id)
            .bind(c.claim.as_str())
            .execute(conn)?;
        }
        Ok(())
    })
    .await
}

/// Makes one attempt and works out what follows.
async fn attempt(hub: &Hub, c: Claimed) -> Done {
    let at = hub.now();
    let outcome = if !c.verified {
        Outcome::refused(
            "The webhook is not verified (its callback_url changed): nothing was sent.",
        )
    } else if !c.active && c.event != PING {
        Outcome::refused("The webhook is inactive: nothing was sent.")
    } else {
        send::deliver(
            &hub.client,
            &hub.config,
            send::Delivery {
                url: &c.url,
                secret: &c.secret,
                event: &c.event,
                delivery: c.id,
                body: &c.body,
                timestamp: hub.clock.now().timestamp(),
            },
        )
        .await
    };
    let attempts = c.attempts + 1;
    let done_at = hub.now();
    let next = if outcome.ok() {
        Next::Delivered
    } else {
        after_failure(&hub.config.schedule, c.base_at, attempts, done_at)
    };
    let m = &hub.metrics;
    m.duration.observe(outcome.duration_ms as f64 / 1000.0);
    let label = match next {
        Next::Delivered => {
            m.latency
                .observe((done_at - c.base_at).num_milliseconds().max(0) as f64 / 1000.0);
            "delivered"
        }
        Next::Retry(_) => "retry",
        Next::Failed => "failed",
    };
    m.attempts
        .get_or_create(&AttemptLabels {
            event: c.event.clone(),
            outcome: label.into(),
        })
        .inc();
    if !outcome.ok() {
        tracing::info!(
            delivery = c.id,
            event = %c.event,
            error = outcome.error.as_deref().unwrap_or(""),
            attempts,
            "webhook attempt failed"
        );
    }
    Done {
        id: c.id,
        claim: c.claim,
        at,
        attempts,
        next,
        outcome,
    }
}

/// Writes outcomes as they come, many to a transaction.
async fn write_outcomes(db: Db, mut rx: mpsc::Receiver<Done>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let result = db
            .write({
                let batch = batch.clone();
                move |conn| record(conn, &batch)
            })
            .await;
        if let Err(e) = result {
            // One bad row must not cost the others theirs.
            tracing::warn!(error = %e, "writing webhook outcomes one by one");
            for d in batch {
                let id = d.id;
                if let Err(e) = db.write(move |conn| record(conn, &[d])).await {
                    tracing::error!(delivery = id, error = %e, "could not record a webhook attempt");
                }
            }
        }
    }
}

/// Records attempts and their deliveries' new states (where this process still holds the
/// claim), two statements for the whole batch. An attempt of a delivery deleted meanwhile
/// (with its webhook) is dropped.
fn record(conn: &mut Conn, batch: &[Done]) -> Result<(), ApiError> {
    let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; batch.len()].join(", ");
    let mut update = Sql::new(format!(
        "WITH v (id, claim, status, attempts, next_at, delivered_at, at) AS (VALUES {rows}) \
         UPDATE webhook_deliveries SET status = v.status, attempts = v.attempts, \
         next_attempt_at = v.next_at, \
         delivered_at = COALESCE(v.delivered_at, webhook_deliveries.delivered_at), \
         lease_until = NULL, claim = NULL, updated_at = v.at \
         FROM v WHERE webhook_deliveries.id = v.id AND webhook_deliveries.claim = v.claim"
    ));
    let rows = vec!["(?, ?, ?, ?, ?)"; batch.len()].join(", ");
    let mut insert = Sql::new(format!(
        "WITH v (id, at, status_code, error, duration_ms) AS (VALUES {rows}) \
         INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms) \
         SELECT v.id, v.at, v.status_code, v.error, v.duration_ms FROM v \
         WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = v.id)"
    ));
    for d in batch {
        let (status, next, delivered) = match d.next {
            Next::Delivered => ("delivered", None, Some(d.at)),
            Next::Retry(at) => ("pending", Some(at), None),
            Next::Failed => ("failed", None, None),
        };
        update.binds.extend([
            Val::from(d.id),
            Val::from(d.claim.as_str()),
            Val::from(status),
            Val::from(d.attempts),
            Val::Timestamp(next),
            Val::Timestamp(delivered),
            Val::from(d.at),
        ]);
        insert.binds.extend([
            Val::from(d.id),
            Val::from(d.at),
            Val::Int(d.outcome.status_code.map(i64::from)),
            Val::Text(d.outcome.error.clone()),
            Val::from(d.outcome.duration_ms),
        ]);
    }
    let updated = update.execute(conn)?;
    if updated < batch.len() {
        tracing::warn!(
            lost = batch.len() - updated,
            "webhook deliveries no longer held when their attempts were recorded (lease ran \
             out, or the webhook was deleted)"
        );
    }
    insert.execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_schedule_from_the_event() {
        let h = |n: u64| Duration::from_secs(3600 * n);
        let schedule = [h(1), h(3), h(7)];
        let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let hours = |n| base + chrono::Duration::hours(n);
        assert_eq!(
            after_failure(&schedule, base, 1, base),
            Next::Retry(hours(1))
        );
        assert_eq!(
            after_failure(&schedule, base, 2, hours(1)),
            Next::Retry(hours(3))
        );
        assert_eq!(
            after_failure(&schedule, base, 3, hours(3)),
            Next::Retry(hours(7))
        );
        assert_eq!(after_failure(&schedule, base, 4, hours(7)), Next::Failed);
        // Late (the process was down): the next attempt is now.
        assert_eq!(
            after_failure(&schedule, base, 2, hours(5)),
            Next::Retry(hours(5))
        );
        assert_eq!(after_failure(&[], base, 1, base), Next::Failed);
    }
}
