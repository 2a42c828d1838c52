//! Webhooks ("API Webhooks" in the reference; CONTRACT.md, Webhooks): an app's subscriptions
//! to events, the verification handshake, a transactional outbox and the deliveries.
//!
//! - `api.rs`: the management API under /api/webhooks, authenticated with the app's HTTP
//!   Basic client_id:client_secret (`auth.rs`); bodies checked in `input.rs`, the delivery
//!   log in `deliveries.rs`.
//! - the outbox is written by the framework (`api::events`): a write that makes an evented
//!   change records the event and one delivery per subscribed webhook in its own transaction;
//!   resources declare their events (`Resource::events`) and the generic handlers raise them.
//! - `dispatch.rs`: the dispatcher (inside `serve`, or `chartd worker`) claims due deliveries
//!   with a lease, so that several processes share them and a dead process's deliveries are
//!   taken over; it POSTs them signed (`send.rs`) and records every attempt.
//! - `guard.rs`: only http(s), and no loopback, private, link-local or metadata addresses
//!   unless CHARTD_WEBHOOK_ALLOW_PRIVATE, checked on the addresses actually connected to.

pub mod api;
pub mod auth;
pub mod deliveries;
pub mod dispatch;
pub mod guard;
pub mod input;
pub mod openapi;
pub mod send;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde_json::{json, Value};

use crate::ratelimit::Clock;
use crate::settings::{parse_duration, Settings};

/// The events a webhook may subscribe to: the reference's twelve, then the three task events
/// of DrChrono's published OpenAPI description (CONTRACT.md).
pub const EVENTS: &[&str] = &[
    "APPOINTMENT_CREATE",
    "APPOINTMENT_MODIFY",
    "PATIENT_CREATE",
    "PATIENT_MODIFY",
    "PATIENT_PROBLEM_CREATE",
    "PATIENT_PROBLEM_MODIFY",
    "PATIENT_ALLERGY_CREATE",
    "PATIENT_ALLERGY_MODIFY",
    "PATIENT_MEDICATION_CREATE",
    "PATIENT_MEDICATION_MODIFY",
    "CLINICAL_NOTE_LOCK",
    "CLINICAL_NOTE_UNLOCK",
    "TASK_CREATE",
    "TASK_MODIFY",
    "TASK_DELETE",
];

/// The event of a ping (never subscribed to).
pub const PING: &str = "PING";

/// The delivery settings, checked once at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Redelivery offsets from the event (CHARTD_WEBHOOK_RETRY_SCHEDULE).
    pub schedule: Vec<Duration>,
    /// Per attempt, connection and answer included (CHARTD_WEBHOOK_TIMEOUT).
    pub timeout: Duration,
    pub allow_private: bool,
    /// Deliveries in flight per process; 0: this process delivers none.
    pub concurrency: usize,
    /// Deliveries in flight per process and receiver.
    pub per_receiver: usize,
    /// How long a claim holds a delivery.
    pub lease: Duration,
    /// How often an idle dispatcher looks for due deliveries.
    pub poll: Duration,
    /// CHARTD_PUBLIC_URL, for the `url` of a delivery's `receiver`.
    pub public_url: String,
}

impl Config {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Config> {
        let mut schedule = Vec::new();
        for part in s.webhook_retry_schedule.split(',').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let d = parse_duration(part)
                .map_err(|e| anyhow::anyhow!("CHARTD_WEBHOOK_RETRY_SCHEDULE: {e}"))?;
            anyhow::ensure!(
                schedule.last().is_none_or(|last| *last < d) && !d.is_zero(),
                "CHARTD_WEBHOOK_RETRY_SCHEDULE: offsets must be positive and increasing \
                 (got {:?})",
                s.webhook_retry_schedule
            );
            schedule.push(d);
        }
        let timeout = parse_duration(&s.webhook_timeout)
            .map_err(|e| anyhow::anyhow!("CHARTD_WEBHOOK_TIMEOUT: {e}"))?;
        anyhow::ensure!(
            !timeout.is_zero(),
            "CHARTD_WEBHOOK_TIMEOUT must be positive"
        );
        let lease = parse_duration(&s.webhook_lease)
            .map_err(|e| anyhow::anyhow!("CHARTD_WEBHOOK_LEASE: {e}"))?;
        // A claimed delivery may wait for one attempt ahead of it in its receiver's lane,
        // then make its own.
        anyhow::ensure!(
            lease >= timeout * 2 + Duration::from_secs(5),
            "CHARTD_WEBHOOK_LEASE must be at least twice CHARTD_WEBHOOK_TIMEOUT + 5s"
        );
        let poll = parse_duration(&s.webhook_poll)
            .map_err(|e| anyhow::anyhow!("CHARTD_WEBHOOK_POLL: {e}"))?;
        anyhow::ensure!(!poll.is_zero(), "CHARTD_WEBHOOK_POLL must be positive");
        anyhow::ensure!(
            s.webhook_per_receiver >= 1,
            "CHARTD_WEBHOOK_PER_RECEIVER must be at least 1"
        );
        Ok(Config {
            schedule,
            timeout,
            allow_private: s.webhook_allow_private.unwrap_or(false),
            concurrency: s.webhook_concurrency,
            per_receiver: s.webhook_per_receiver,
            lease,
            poll,
            public_url: s.public_url(),
        })
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub event: String,
    /// delivered, retry (failed, another attempt is scheduled) or failed (the last one).
    pub outcome: String,
}

/// Prometheus metrics of the deliveries, registered with the HTTP metrics (/metrics).
#[derive(Clone)]
pub struct WebhookMetrics {
    pub attempts: Family<AttemptLabels, Counter>,
    /// Seconds per attempt.
    pub duration: Histogram,
    /// Seconds from the event (or a manual redelivery) to its successful delivery.
    pub latency: Histogram,
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        let buckets = || {
            [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]
            .into_iter()
        };
        WebhookMetrics {
            attempts: Family::default(),
            duration: Histogram::new(buckets()),
            latency: Histogram::new(buckets().chain([
                60.0,
                3600.0,
                3.0 * 3600.0,
                7.0 * 3600.0,
                86400.0,
            ])),
        }
    }
}

impl WebhookMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "chartd_webhook_attempts",
            "Webhook delivery attempts, by event and outcome",
            self.attempts.clone(),
        );
        registry.register(
            "chartd_webhook_attempt_duration_seconds",
            "Time a webhook delivery attempt took",
            self.duration.clone(),
        );
        registry.register(
            "chartd_webhook_delivery_latency_seconds",
            "Time from an event to its successful delivery",
            self.latency.clone(),
        );
    }
}

/// What the management API, the outbox and the dispatchers of one process share.
pub struct Hub {
    pub config: Config,
    /// The clock of every webhook time (tests move it to cover the schedule).
    pub clock: Arc<Clock>,
    pub metrics: WebhookMetrics,
    /// Never follows redirects, uses no proxy, connects only to addresses `guard` allows.
    pub client: reqwest::Client,
}

impl Hub {
    pub fn new(config: Config, metrics: WebhookMetrics) -> anyhow::Result<Hub> {
        let client = send::client(&config)?;
        Ok(Hub {
            config,
            clock: Arc::new(Clock::default()),
            metrics,
            client,
        })
    }

    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now().naive_utc()
    }
}

/// The outbox is written by the framework's writes (`api::events`); its wake signal is
/// where the dispatchers listen.
pub use crate::api::events::{signal, wake};

/// The webhook as the API answers it (and as a delivery's `receiver`): never its secret.
/// `url` is its address in the management API, under CHARTD_PUBLIC_URL (`base`).
pub fn webhook_json(
    base: &str,
    id: i64,
    callback_url: &str,
    events: &str,
    active: bool,
    verified: bool,
) -> Value {
    let events: Value = serde_json::from_str(events).unwrap_or_else(|_| json!([]));
    json!({
        "id": id,
        "url": format!("{base}/api/webhooks/{id}"),
        "callback_url": callback_url,
        "events": events,
        "active": active,
        "verified": verified,
    })
}

/// Timestamps as the API writes them.
pub fn stamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
