//! The per-application hourly call limit ("Rate Limits" in the reference; CONTRACT.md).
//!
//! Windows are UTC clock hours. The count lives in the database (table rate_limit_windows), so
//! every server process shares one limit and no more than the limit of calls succeed in a
//! window. To keep the database off the hot path a process does not write once per call: it
//! reserves a lease of calls with one atomic UPDATE and hands them out from memory (the next
//! lease is fetched in the background when a quarter of the current one is left). A lease is
//! a quarter of what is left, at most `MAX_LEASE`, so near the limit leases shrink to single
//! calls and the last calls go to whichever process asks; leases unused at the end of the hour
//! simply lapse. A process may therefore refuse a call while another still holds unused calls
//! of the same hour, but never lets more than the limit through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::db::{Db, Sql, Ty, Val};
use crate::error::ApiError;

/// The largest lease one reservation takes.
const MAX_LEASE: i64 = 2000;
/// After the database says a window is used up, ask again at most this often (seconds), in
/// case an operator raised the app's limit.
const RECHECK_SECS: i64 = 5;

/// Wall-clock time, shiftable by tests.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves this clock (tests only have a reason to).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// The outcome for one call, with what the response headers report.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub allowed: bool,
    pub limit: i64,
    pub remaining: i64,
    /// Unix time of the next window.
    pub reset: i64,
    /// Seconds until then.
    pub retry_after: i64,
}

#[derive(Debug, Default)]
struct Window {
    hour: i64,
    limit: i64,
    /// Calls reserved from the database and not yet handed out.
    local: i64,
    /// The window's database count after this process's latest reservation.
    used_db: i64,
    /// When the database last said the window is used up (Unix seconds).
    exhausted_at: Option<i64>,
    /// The size of the latest lease; a refill starts in the background when a quarter of it
    /// is left, so calls rarely wait for the database.
    last_grant: i64,
    /// A background refill is under way.
    prefetching: bool,
}

impl Window {
    /// Takes one call from the lease, if any is left in the current hour.
    fn take(&mut self, hour: i64) -> Option<()> {
        if self.hour != hour {
            *self = Window {
                hour,
                limit: self.limit,
                ..Window::default()
            };
        }
        (self.local > 0).then(|| self.local -= 1)
    }

    /// Records a reservation's outcome: (the app's limit, the window's count, calls granted).
    fn granted(&mut self, hour: i64, now: i64, (limit, used, granted): (i64, i64, i64)) {
        if self.hour != hour {
            return;
        }
        self.limit = limit;
        if granted > 0 {
            self.used_db = used;
            self.local += granted;
            self.last_grant = granted;
            self.exhausted_at = None;
        } else {
            self.used_db = self.used_db.max(limit);
            self.exhausted_at = Some(now);
        }
    }

    fn decision(&self, allowed: bool, now: i64) -> Decision {
        let reset = (self.hour + 1) * 3600;
        // What this process knows is left: the limit less what was reserved, plus what it
        // still holds (other processes' unused leases count as spent).
        let remaining = (self.limit - self.used_db + self.local).max(0);
        Decision {
            allowed,
            limit: self.limit,
            remaining,
            reset,
            retry_after: (reset - now).max(1),
        }
    }
}

/// One app's window in this process. Handing out a call takes a short synchronous lock;
/// only refilling the lease (a database call) waits on `refill`, one request at a time.
#[derive(Debug, Default)]
struct Slot {
    window: Mutex<Window>,
    refill: tokio::sync::Mutex<()>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Limiter {
    default_limit: i64,
    pub enabled: bool,
    pub clock: Arc<Clock>,
    slots: RwLock<HashMap<i64, Arc<Slot>>>,
}

impl Limiter {
    pub fn new(default_limit: i64, enabled: bool) -> Limiter {
        Limiter {
            default_limit,
            enabled,
            clock: Arc::new(Clock::default()),
            slots: RwLock::new(HashMap::new()),
        }
    }

    fn slot(&self, app: i64) -> Arc<Slot> {
        if let Some(slot) = self
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&app)
        {
            return slot.clone();
        }
        let mut map = self.slots.write().unwrap_or_else(|p| p.into_inner());
        map.entry(app).or_default().clone()
    }

    /// Counts one call of `app`; answers whether it may proceed.
    pub async fn check(&self, db: &Db, app: i64) -> Result<Decision, ApiError> {
        let now = self.clock.now().timestamp();
        let hour = now.div_euclid(3600);
        let slot = self.slot(app);
        {
            let mut w = slot.lock();
            if w.take(hour).is_some() {
                if w.local <= w.last_grant / 4 && w.last_grant > 8 && !w.prefetching {
                    w.prefetching = true;
                    let (slot, db, default) = (slot.clone(), db.clone(), self.default_limit);
                    actix_web::rt::spawn(async move {
                        let _refilling = slot.refill.lock().await;
                        let result = reserve(&db, app, hour, default).await;
                        let mut w = slot.lock();
                        w.prefetching = false;
                        match result {
                            Ok(outcome) => w.granted(hour, now, outcome),
                            Err(e) => tracing::warn!(error = %e, "rate-limit lease refill failed"),
                        }
                    });
                }
                return Ok(w.decision(true, now));
            }
        }
        // The lease is spent: one request refills it while the others wait, then look again.
        let _refilling = slot.refill.lock().await;
        let exhausted_at = {
            let mut w = slot.lock();
            if w.take(hour).is_some() {
                return Ok(w.decision(true, now));
            }
            w.exhausted_at
        };
        if exhausted_at.is_none_or(|at| now - at >= RECHECK_SECS) {
            let outcome = reserve(db, app, hour, self.default_limit).await?;
            slot.lock().granted(hour, now, outcome);
        }
        let mut w = slot.lock();
        let allowed = w.take(hour).is_some();
        Ok(w.decision(allowed, now))
    }
}

/// Reserves a lease for `app` in `hour`; answers (the app's limit, the window's count after
/// the reservation, calls granted — 0 when the window is used up).
async fn reserve(
    db: &Db,
    app: i64,
    hour: i64,
    default_limit: i64,
) -> Result<(i64, i64, i64), ApiError> {
    db.run(move |conn| {
        let limit = Sql::new("SELECT rate_limit_per_hour FROM apps WHERE id = ?")
            .bind(app)
            .load_one(conn, &[Ty::Int])?
            .and_then(|r| r[0].as_i64())
            .unwrap_or(default_limit);
        Sql::new("INSERT INTO rate_limit_windows (app_id, hour, used, last_grant) VALUES (?, ?, 0, 0) ON CONFLICT DO NOTHING")
            .bind(app)
            .bind(hour)
            .execute(conn)?;
        // One atomic statement: both SET expressions see the row as it was, so the grant is
        // computed once from the same `used` on every backend.
        let grant = "CASE WHEN ? - used >= 4 * ? THEN ? WHEN (? - used) / 4 >= 1 THEN (? - used) / 4 \
                     WHEN ? - used >= 1 THEN 1 ELSE 0 END";
        let mut sql = Sql::new(format!(
            "UPDATE rate_limit_windows SET last_grant = {grant}, used = used + {grant} \
             WHERE app_id = ? AND hour = ? AND used < ? RETURNING used, last_grant"
        ));
        let grant_binds = [limit, MAX_LEASE, MAX_LEASE, limit, limit, limit];
        sql.binds = grant_binds.iter().chain(grant_binds.iter()).map(|v| Val::from(*v)).collect();
        sql.binds.extend([Val::from(app), Val::from(hour), Val::from(limit)]);
        Ok(match sql.load_one(conn, &[Ty::Int, Ty::Int])? {
            Some(row) => (limit, row[0].as_i64().unwrap_or(limit), row[1].as_i64().unwrap_or(0)),
            None => (limit, limit, 0),
        })
    })
    .await
}
