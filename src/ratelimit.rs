//! The per-application hourly call limit ("Rate Limits" in the reference; CONTRACT.md).
//!
//! Windows are UTC clock hours. Every call is counted in the database (table
//! rate_limit_windows) with one atomic upsert that answers the window's count after it, so
//! each call gets its place in the window: calls up to the limit are served and the next is
//! refused, however many processes share the database, and X-RateLimit-Remaining (the limit
//! less the call's place) never goes up within a window and drops by one per sequential call.
//!
//! To keep this cheap a process counts in groups ("group commit"), at two levels. The calls
//! that arrive together on one worker thread join one local group, sent by a small task of
//! that thread, so a call costs no wake-up of another thread. One counting thread per process
//! takes every group that arrived meanwhile and counts them with one statement per app, giving
//! out the places in arrival order; the worker hands them to its calls. A statement starts at
//! most every `MIN_GROUP_GAP` while calls keep coming (an idle limiter answers at once), so at
//! high rates the database sees at most a thousand small writes a second per process whatever
//! the call rate, and a call waits at most about that long for its place.
//! Once a window is used up the process refuses that app's calls without counting, asking the
//! database again every `RECHECK_SECS` (an operator may raise the limit); an app's limit is
//! read again as often.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Sql, Ty, Val};
use crate::error::ApiError;

/// The shortest time between two counting statements of a busy process.
const MIN_GROUP_GAP: Duration = Duration::from_millis(1);
/// How long a used-up window and an app's limit are believed without asking again (seconds).
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

/// Where a call's answer goes: the app's limit and the call's place in the window.
type Reply = oneshot::Sender<Result<(i64, i64), String>>;

/// One call waiting on its worker thread for its place.
struct Call {
    app: i64,
    hour: i64,
    /// The limiter clock's time (Unix seconds).
    now: i64,
    reply: Reply,
}

/// `n` calls of one window, sent together by one worker thread to the counting thread, which
/// answers the app's limit and the place of the first (the others follow it).
struct Ask {
    app: i64,
    hour: i64,
    now: i64,
    n: i64,
    reply: Reply,
}

/// A worker thread's calls not yet sent, per limiter (tests run several in one process).
#[derive(Default)]
struct Local {
    calls: Vec<Call>,
    sending: bool,
}

thread_local! {
    static LOCAL: RefCell<HashMap<usize, Local>> = RefCell::new(HashMap::new());
}

static NEXT_LIMITER: AtomicUsize = AtomicUsize::new(0);

pub struct Limiter {
    /// Tells this limiter's calls apart in the worker threads' [`LOCAL`] groups.
    id: usize,
    default_limit: i64,
    pub enabled: bool,
    pub clock: Arc<Clock>,
    /// The counting thread's queue, started with the first call.
    counter: Mutex<Option<mpsc::UnboundedSender<Ask>>>,
    /// Windows known to be used up: app → (hour, limit, when learned).
    used_up: Mutex<HashMap<i64, (i64, i64, i64)>>,
}

impl Limiter {
    pub fn new(default_limit: i64, enabled: bool) -> Limiter {
        Limiter {
            id: NEXT_LIMITER.fetch_add(1, Ordering::Relaxed),
            default_limit,
            enabled,
            clock: Arc::new(Clock::default()),
            counter: Mutex::new(None),
            used_up: Mutex::new(HashMap::new()),
        }
    }

    fn queue(&self, db: &Db) -> mpsc::UnboundedSender<Ask> {
        let mut counter = self.counter.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = counter.as_ref().filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (db, default_limit) = (db.clone(), self.default_limit);
        std::thread::Builder::new()
            .name("chartd-ratelimit".into())
            .spawn(move || count_calls(rx, db, default_limit))
            .expect("cannot start the rate-limit thread");
        *counter = Some(tx.clone());
        tx
    }

    /// Counts one call of `app`; answers whether it may proceed. Runs on an actix worker
    /// thread (a tokio `LocalSet`), where the thread's calls are grouped.
    pub async fn check(&self, db: &Db, app: i64) -> Result<Decision, ApiError> {
        let now = self.clock.now().timestamp();
        let hour = now.div_euclid(3600);
        let reset = (hour + 1) * 3600;
        let decision = |allowed: bool, limit: i64, remaining: i64| Decision {
            allowed,
            limit,
            remaining: remaining.max(0),
            reset,
            retry_after: (reset - now).max(1),
        };
        let known = self
            .used_up
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&app)
            .copied();
        if let Some((h, limit, at)) = known {
            if h == hour && now - at < RECHECK_SECS {
                return Ok(decision(false, limit, 0));
            }
        }
        let (reply, answer) = oneshot::channel();
        let call = Call {
            app,
            hour,
            now,
            reply,
        };
        // The first waiting call of this thread starts the task that sends them.
        let start_sending = LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let mine = local.entry(self.id).or_default();
            mine.calls.push(call);
            !std::mem::replace(&mut mine.sending, true)
        });
        if start_sending {
            tokio::task::spawn_local(send_groups(self.id, self.queue(db)));
        }
        let (limit, place) = answer
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the rate-limit thread stopped")))?
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("rate-limit count failed: {e}")))?;
        let mut used_up = self.used_up.lock().unwrap_or_else(|p| p.into_inner());
        if place > limit {
            used_up.insert(app, (hour, limit, now));
            return Ok(decision(false, limit, 0));
        }
        used_up.remove(&app);
        Ok(decision(true, limit, limit - place))
    }
}

/// Sends the worker thread's waiting calls, one group per window, and hands each call its
/// place; then the calls that arrived meanwhile, until none is waiting. A worker thus has at
/// most one group per window at the counting thread at a time. Runs as a task of its own, so
/// that a call that goes away leaves the others waiting for nothing.
async fn send_groups(limiter: usize, queue: mpsc::UnboundedSender<Ask>) {
    // Calls that became ready together with the first join it before the group leaves.
    tokio::task::yield_now().await;
    loop {
        let calls = LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let mine = local.entry(limiter).or_default();
            mine.sending = !mine.calls.is_empty();
            std::mem::take(&mut mine.calls)
        });
        if calls.is_empty() {
            return;
        }
        let mut groups: Vec<Vec<Call>> = Vec::new();
        for call in calls {
            match groups
                .iter_mut()
                .find(|g| (g[0].app, g[0].hour) == (call.app, call.hour))
            {
                Some(g) => g.push(call),
                None => groups.push(vec![call]),
            }
        }
        let mut answers = Vec::with_capacity(groups.len());
        for group in &groups {
            let (reply, answer) = oneshot::channel();
            let ask = Ask {
                app: group[0].app,
                hour: group[0].hour,
                now: group[0].now,
                n: group.len() as i64,
                reply,
            };
            answers.push(queue.send(ask).ok().map(|()| answer));
        }
        for (group, answer) in groups.into_iter().zip(answers) {
            let answer = match answer {
                Some(answer) => answer.await.unwrap_or_else(|_| Err(STOPPED.into())),
                None => Err(STOPPED.into()),
            };
            for (i, call) in group.into_iter().enumerate() {
                let _ = call.reply.send(
                    answer
                        .clone()
                        .map(|(limit, first)| (limit, first + i as i64)),
                );
            }
        }
    }
}

const STOPPED: &str = "the rate-limit thread stopped";

/// The counting thread: takes the groups that are waiting, counts each app's in one statement,
/// answers each group its first place; ends when the limiter is dropped.
fn count_calls(mut rx: mpsc::UnboundedReceiver<Ask>, db: Db, default_limit: i64) {
    let mut limits: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut last = Instant::now() - MIN_GROUP_GAP;
    let mut held = None;
    while let Some(first) = rx.blocking_recv() {
        let since = last.elapsed();
        if since < MIN_GROUP_GAP {
            std::thread::sleep(MIN_GROUP_GAP - since);
        }
        last = Instant::now();
        let mut asks = vec![first];
        while let Ok(ask) = rx.try_recv() {
            asks.push(ask);
        }
        // Group by window, keeping arrival order within each.
        let mut groups: Vec<((i64, i64), Vec<Ask>)> = Vec::new();
        for ask in asks {
            let key = (ask.app, ask.hour);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.push(ask),
                None => groups.push((key, vec![ask])),
            }
        }
        // The thread keeps its connection (its statements are cheaper on a connection whose
        // cache is warm); one that failed is given up for a fresh one.
        let mut conn = match held.take().map_or_else(|| db.get(), Ok) {
            Ok(c) => c,
            Err(e) => {
                for ask in groups.into_iter().flat_map(|(_, g)| g) {
                    let _ = ask.reply.send(Err(e.to_string()));
                }
                continue;
            }
        };
        let mut failed = false;
        for ((app, hour), group) in groups {
            let now = group[0].now;
            let n: i64 = group.iter().map(|ask| ask.n).sum();
            let counted = (|| -> diesel::QueryResult<(i64, i64)> {
                let fresh = limits.get(&app).filter(|(_, at)| now - at < RECHECK_SECS);
                let limit = match fresh {
                    Some((limit, _)) => *limit,
                    None => {
                        let limit = Sql::new("SELECT rate_limit_per_hour FROM apps WHERE id = ?")
                            .bind(app)
                            .load_one(&mut conn, &[Ty::Int])?
                            .and_then(|r| r[0].as_i64())
                            .unwrap_or(default_limit);
                        limits.insert(app, (limit, now));
                        limit
                    }
                };
                let used = Sql::new(
                    "INSERT INTO rate_limit_windows (app_id, hour, used, last_grant) \
                     VALUES (?, ?, ?, 0) ON CONFLICT (app_id, hour) \
                     DO UPDATE SET used = rate_limit_windows.used + excluded.used RETURNING used",
                )
                .bind(app)
                .bind(hour)
                .bind(Val::from(n))
                .load_one(&mut conn, &[Ty::Int])?
                .and_then(|r| r[0].as_i64())
                .unwrap_or(i64::MAX);
                // Refused calls take back their count, so that only served calls are counted
                // (a raised limit then serves exactly the difference). Every place up to the
                // limit went to a served call before any count is taken back.
                let refused = (used - limit).clamp(0, n);
                if refused > 0 {
                    Sql::new(
                        "UPDATE rate_limit_windows SET used = used - ? WHERE app_id = ? AND hour = ?",
                    )
                    .bind(Val::from(refused))
                    .bind(app)
                    .bind(hour)
                    .execute(&mut conn)?;
                }
                Ok((limit, used))
            })();
            match counted {
                Ok((limit, used)) => {
                    let mut first = used - n + 1;
                    for ask in group {
                        let _ = ask.reply.send(Ok((limit, first)));
                        first += ask.n;
                    }
                }
                Err(e) => {
                    failed = true;
                    for ask in group {
                        let _ = ask.reply.send(Err(e.to_string()));
                    }
                }
            }
        }
        if !failed {
            held = Some(conn);
        }
    }
}
