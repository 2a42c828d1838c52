//! The audit trail: who (user, app), what (action, resource, object ids), when and from where,
//! for every read and write of patient data.
//!
//! Writes insert their entry in the same transaction as the change. Reads are queued to a
//! background writer that inserts them in batches, so a GET does not wait on a database
//! write; the queue is flushed on shutdown.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::api::Ctx;
use crate::db::{Conn, Db, Sql, Val};

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: chrono::NaiveDateTime,
    pub practice_group_id: i64,
    pub user_id: i64,
    pub app_id: i64,
    pub action: &'static str,
    pub resource: &'static str,
    pub object_id: Option<i64>,
    /// For lists: the ids returned, comma-separated.
    pub object_ids: Option<String>,
    pub remote_addr: String,
    pub request_id: String,
}

impl AuditEntry {
    pub fn new(
        ctx: &Ctx,
        action: &'static str,
        resource: &'static str,
        object_id: Option<i64>,
        ids: Option<&[i64]>,
    ) -> AuditEntry {
        AuditEntry {
            at: chrono::Utc::now().naive_utc(),
            practice_group_id: ctx.user.practice_group_id,
            user_id: ctx.user.user_id,
            app_id: ctx.user.app_id,
            action,
            resource,
            object_id,
            object_ids: ids.map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
            remote_addr: ctx.remote_addr.clone(),
            request_id: ctx.request_id.clone(),
        }
    }
}

/// Inserts entries (in the caller's transaction, if any).
pub fn insert(conn: &mut Conn, entries: &[AuditEntry]) -> diesel::QueryResult<()> {
    for chunk in entries.chunks(50) {
        let mut sql = Sql::new(
            "INSERT INTO audit_log (at, practice_group_id, user_id, app_id, action, resource, \
             object_id, object_ids, remote_addr, request_id) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            sql.push(
                &format!("{sep}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                [
                    Val::from(e.at),
                    e.practice_group_id.into(),
                    e.user_id.into(),
                    e.app_id.into(),
                    e.action.into(),
                    e.resource.into(),
                    Val::Int(e.object_id),
                    Val::Text(e.object_ids.clone()),
                    e.remote_addr.as_str().into(),
                    e.request_id.as_str().into(),
                ],
            );
        }
        sql.execute(conn)?;
    }
    Ok(())
}

/// The queue of read entries.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::UnboundedSender<AuditEntry>,
}

impl AuditSink {
    /// Starts the background writer; it ends (after a last flush) when every sink is dropped.
    ///
    /// The writer wakes on a timer, not per entry: a read costs a lock-free queue push, and
    /// entries reach the database in batches within about `FLUSH_EVERY`.
    pub fn start(db: Db) -> (AuditSink, tokio::task::JoinHandle<()>) {
        const FLUSH_EVERY: Duration = Duration::from_millis(100);
        let (tx, mut rx) = mpsc::unbounded_channel::<AuditEntry>();
        let handle = tokio::spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_EVERY).await;
                let mut batch = Vec::new();
                let open = loop {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(mpsc::error::TryRecvError::Empty) => break true,
                        Err(mpsc::error::TryRecvError::Disconnected) => break false,
                    }
                };
                if !batch.is_empty() {
                    let n = batch.len();
                    let result = db
                        .run(move |conn| {
                            crate::db::transaction(conn, |c| insert(c, &batch))?;
                            Ok(())
                        })
                        .await;
                    if let Err(e) = result {
                        tracing::error!(error = %e, lost = n, "could not write audit entries");
                    }
                }
                if !open {
                    break;
                }
            }
        });
        (AuditSink { tx }, handle)
    }

    pub fn send(&self, entry: AuditEntry) {
        if self.tx.send(entry).is_err() {
            tracing::error!("audit writer has stopped; entry lost");
        }
    }
}
