//! What every request handler can reach: the shared state and the HTTP metrics. Below `api/`,
//! `oauth/` and `webhooks/`, which take it from the request; `app.rs` builds it.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::audit::AuditSink;
use crate::api::registry::Registry as Resources;
use crate::db::Db;
use crate::settings::Settings;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Prometheus metrics of the HTTP layer.
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pub webhooks: crate::webhooks::WebhookMetrics,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]
                .into_iter(),
            )
        });
        registry.register(
            "chartd_http_requests",
            "HTTP requests answered",
            requests.clone(),
        );
        registry.register(
            "chartd_http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        let webhooks = crate::webhooks::WebhookMetrics::default();
        webhooks.register(&mut registry);
        Metrics {
            registry,
            requests,
            latency,
            webhooks,
        }
    }
}

/// What every request handler can reach.
pub struct AppState {
    pub db: Db,
    /// Every resource, compiled once per process.
    pub registry: &'static Resources,
    pub settings: Settings,
    pub audit: AuditSink,
    pub metrics: Metrics,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
    /// CHARTD_PUBLIC_URL without a trailing slash.
    pub base_url: String,
    pub files: crate::api::files::FileStore,
    pub limiter: crate::ratelimit::Limiter,
    pub tokens: crate::api::auth::TokenCache,
    /// Derives client secrets (to sign iframe launches).
    pub server_key: crate::oauth::secret::ServerKey,
    /// Failure throttling of sign-ins and the token endpoint (counts in the database).
    pub throttle: crate::throttle::Throttle,
    /// Webhook settings, clock, metrics and HTTP client (shared with this process's
    /// dispatcher).
    pub webhooks: Arc<crate::webhooks::Hub>,
}

impl AppState {
    /// Panics when the secret key cannot be loaded or the webhook settings are invalid:
    /// callers check them first (`main` sets `settings.store.secret_key` from
    /// [`Settings::load_secret_key`] and checks `webhooks::Config::from_settings`).
    pub fn new(
        db: Db,
        settings: Settings,
        audit: AuditSink,
        registry: &'static Resources,
    ) -> AppState {
        let key = settings
            .load_secret_key()
            .expect("the secret key (CHARTD_SECRET_KEY or its file) is readable");
        let metrics = Metrics::new();
        let webhooks = crate::webhooks::Config::from_settings(&settings)
            .and_then(|c| crate::webhooks::Hub::new(c, metrics.webhooks.clone()))
            .expect("the webhook settings are valid");
        AppState {
            registry,
            webhooks: Arc::new(webhooks),
            server_key: crate::oauth::secret::ServerKey::new(&key),
            throttle: crate::throttle::Throttle::new(&settings, Default::default()),
            db,
            audit,
            metrics,
            openapi: crate::openapi::render(registry),
            base_url: settings.public_url(),
            limiter: crate::ratelimit::Limiter::new(
                settings.rate_limit_per_hour,
                settings.rate_limit_enabled,
            ),
            tokens: crate::api::auth::TokenCache::new(settings.token_cache_seconds),
            files: crate::api::files::FileStore {
                dir: std::path::PathBuf::from(&settings.files_dir),
                max_bytes: settings.max_upload_bytes,
            },
            settings,
        }
    }
}
