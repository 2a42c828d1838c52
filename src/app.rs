//! The application: routes, the HTTP server and the one builder that `main` and the tests
//! use to start (and stop, in order) the audit writer, the webhook dispatcher and the server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use prometheus_client::registry::Registry;
use tracing_actix_web::TracingLogger;

use crate::api::audit::AuditSink;
use crate::db::{Db, Sql};
use crate::error::ApiError;
use crate::middleware::{api_gate, normalize_path, observe};
use crate::ratelimit::Clock;
use crate::settings::Settings;
use crate::webhooks::dispatch::Dispatcher;

pub use crate::state::AppState;

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ok = state
        .db
        .run(|conn| Ok(Sql::new("SELECT CAST(1 AS BIGINT)").load_i64(conn)?))
        .await;
    match ok {
        Ok(Some(1)) => Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))),
        _ => Err(ApiError::Unavailable(
            "The database is not reachable.".into(),
        )),
    }
}

async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(out))
}

async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// `chartd worker --metrics-bind`: /metrics (the worker's webhook metrics) and /healthz only.
pub fn metrics_server(registry: Registry, listener: TcpListener) -> std::io::Result<Server> {
    let registry = web::Data::new(registry);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(registry.clone())
            .route("/healthz", web::get().to(healthz))
            .route(
                "/metrics",
                web::get().to(|registry: web::Data<Registry>| async move {
                    let mut out = String::new();
                    prometheus_client::encoding::text::encode(&mut out, &registry)
                        .map_err(ApiError::internal)?;
                    Ok::<_, ApiError>(
                        HttpResponse::Ok()
                            .content_type(
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )
                            .body(out),
                    )
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}

/// Every route: operations endpoints, then each registered resource.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi));
    crate::oauth::routes(cfg);
    crate::webhooks::api::routes(cfg);
    for c in crate::resources::registry().iter() {
        crate::api::handlers::register(cfg, c);
    }
}

/// Builds the HTTP server on a bound listener. SIGTERM and SIGINT stop it gracefully:
/// it stops accepting, lets in-flight requests finish (up to 30 s), then returns.
pub fn server(
    state: Arc<AppState>,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    let blocking_threads = (state.settings.db_pool_size as usize / workers.max(1)).clamp(2, 64);
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::BadRequest(format!("Malformed query string: {e}")).into()
            }))
            .wrap(from_fn(api_gate))
            .wrap(from_fn(observe))
            .wrap(TracingLogger::default())
            .wrap(from_fn(normalize_path))
            .configure(routes)
            .default_service(web::to(not_found))
    })
    .workers(workers.max(1))
    // Database work runs on each worker's blocking pool. A few threads that stay busy under
    // load hand work on without sleeping; hundreds (actix's default) wake and sleep per call.
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The clocks of the rate-limit and throttle windows and of the webhook outbox; tests move
/// them.
#[derive(Clone, Default)]
pub struct Clocks {
    pub rate_limit: Arc<Clock>,
    pub webhooks: Arc<Clock>,
}

/// A running chartd: the audit writer, the webhook dispatcher (unless
/// CHARTD_WEBHOOK_CONCURRENCY is 0) and the HTTP server, started in that order and stopped
/// in the reverse one (zero-to-production's `Application`). Build it inside an actix
/// `System`.
pub struct Application {
    port: u16,
    server: Server,
    dispatcher: Option<Dispatcher>,
    audit_task: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Starts everything on a bound listener. `settings.store.secret_key` and the webhook settings
    /// must have been checked (see [`AppState::new`]).
    pub fn build(
        settings: Settings,
        db: Db,
        listener: TcpListener,
        workers: usize,
        clocks: Clocks,
    ) -> std::io::Result<Application> {
        let port = listener.local_addr()?.port();
        let (audit, audit_task) = AuditSink::start(db.clone());
        let mut state = AppState::new(db.clone(), settings, audit, crate::resources::registry());
        state.throttle.clock = clocks.rate_limit.clone();
        state.limiter.clock = clocks.rate_limit;
        if let Some(hub) = Arc::get_mut(&mut state.webhooks) {
            hub.clock = clocks.webhooks;
        }
        let state = Arc::new(state);
        let dispatcher = (state.webhooks.config.concurrency > 0)
            .then(|| Dispatcher::start(db, state.webhooks.clone()));
        let server = server(state, listener, workers)?;
        Ok(Application {
            port,
            server,
            dispatcher,
            audit_task,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully from elsewhere (SIGTERM and SIGINT do too).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped; then lets the dispatcher finish its attempts in flight and the
    /// audit queue drain (the server has dropped its state, which closes the queue).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(d) = self.dispatcher {
            d.stop().await;
        }
        let _ = self.audit_task.await;
        served
    }
}
