//! The per-application hourly call limit ("Rate Limits" in the reference; CONTRACT.md).
//!
//! Windows are UTC clock hours. The count lives in the database (table rate_limit_windows), so
//! every server process shares one limit and no more than the limit of calls succeed in a
//! window. To keep the database off the hot path a process does not write once per call: it
//! reserves a lease of calls with one atomic UPDATE and hands them out from memory. A lease is
//! a quarter of what is left, at most `MAX_LEASE`, so near the limit leases shrink to single
//! calls and the last calls go to whichever process asks; leases unused at the end of the hour
//! simply lapse. A process may therefore refuse a call while another still holds unused calls
//! of the same hour, but never lets more than the limit through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::db::{Db, Sql, Ty, Val};
use crate::error::ApiError;

/// The largest lease one reservation takes.
const MAX_LEASE: i64 = 500;
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
}

pub struct Limiter {
    default_limit: i64,
    pub enabled: bool,
    pub clock: Arc<Clock>,
    windows: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Window>>>>,
}

impl Limiter {
    pub fn new(default_limit: i64, enabled: bool) -> Limiter {
        Limiter {
            default_limit,
            enabled,
            clock: Arc::new(Clock::default()),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn window(&self, app: i64) -> Arc<tokio::sync::Mutex<Window>> {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(app).or_default().clone()
    }

    /// Counts one call of `app`; answers whether it may proceed.
    pub async fn check(&self, db: &Db, app: i64) -> Result<Decision, ApiError> {
        let now = self.clock.now().timestamp();
        let hour = now.div_euclid(3600);
        let reset = (hour + 1) * 3600;
        let slot = self.window(app);
        // One call at a time per app in this process: the lease is handed out exactly.
        let mut w = slot.lock().await;
        if w.hour != hour {
            *w = Window {
                hour,
                ..Window::default()
            };
        }
        let recheck = w.exhausted_at.is_none_or(|at| now - at >= RECHECK_SECS);
        if w.local == 0 && recheck {
            let (limit, used, granted) = reserve(db, app, hour, self.default_limit).await?;
            w.limit = limit;
            if granted > 0 {
                w.used_db = used;
                w.local += granted;
                w.exhausted_at = None;
            } else {
                w.used_db = w.used_db.max(limit);
                w.exhausted_at = Some(now);
            }
        }
        let allowed = w.local > 0;
        if allowed {
            w.local -= 1;
        }
        // What this process knows is left: the limit less what was reserved, plus what it
        // still holds (other processes' unused leases count as spent).
        let remaining = (w.limit - w.used_db + w.local).max(0);
        Ok(Decision {
            allowed,
            limit: w.limit,
            remaining,
            reset,
            retry_after: (reset - now).max(1),
        })
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
