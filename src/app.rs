//! The application: shared state, routes and the HTTP server, built the same way by `main`
//! and by the tests.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpResponse, HttpServer};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing_actix_web::TracingLogger;

use crate::api::audit::AuditSink;
use crate::db::{Db, Sql};
use crate::error::ApiError;
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
    /// Per-address throttling of logins and the token endpoint.
    pub throttle: crate::throttle::Throttle,
    /// Webhook settings, clock, metrics and HTTP client (shared with this process's
    /// dispatcher).
    pub webhooks: Arc<crate::webhooks::Hub>,
}

impl AppState {
    /// Panics when the secret key cannot be loaded or the webhook settings are invalid:
    /// callers check them first (`main` sets `settings.secret_key` from
    /// [`Settings::load_secret_key`] and checks `webhooks::Config::from_settings`).
    pub fn new(db: Db, settings: Settings, audit: AuditSink) -> AppState {
        let key = settings
            .load_secret_key()
            .expect("the secret key (CHARTD_SECRET_KEY or its file) is readable");
        let metrics = Metrics::new();
        let webhooks = crate::webhooks::Config::from_settings(&settings)
            .and_then(|c| crate::webhooks::Hub::new(c, metrics.webhooks.clone()))
            .expect("the webhook settings are valid");
        AppState {
            webhooks: Arc::new(webhooks),
            server_key: crate::oauth::secret::ServerKey::new(&key),
            throttle: crate::throttle::Throttle::new(&settings),
            db,
            audit,
            metrics,
            openapi: crate::api::openapi::render(crate::resources::ALL),
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

/// Counts and times each request, and answers its request id in X-Request-Id.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let labels = RequestLabels {
        method,
        route,
        status: res.status().as_u16(),
    };
    // The access log line; the request's span adds request_id, path and client address.
    tracing::info!(
        method = %labels.method,
        route = %labels.route,
        status = labels.status,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    if let Some(state) = state {
        state.metrics.requests.get_or_create(&labels).inc();
        state
            .metrics
            .latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    let id = res
        .request()
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|r| r.to_string());
    if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

fn limit_headers(headers: &mut actix_web::http::header::HeaderMap, d: &crate::ratelimit::Decision) {
    for (name, value) in [
        ("x-ratelimit-limit", d.limit),
        ("x-ratelimit-remaining", d.remaining),
        ("x-ratelimit-reset", d.reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// The gate in front of /api/: resolves the bearer token (the handlers' extractor reuses it)
/// and counts the call against its application's hourly limit, answering 429 past it. Every
/// answer to a known application carries the X-RateLimit-* headers. The webhooks management
/// API's callers are apps (HTTP Basic): their calls count against the same limit. A request
/// without valid credentials passes on to its handler, which answers 401.
async fn api_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(state), true) = (state, req.path().starts_with("/api/")) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let app_id = match crate::api::auth::authenticate(&state, req.request()).await {
        Ok(user) => {
            let app_id = user.app_id;
            req.extensions_mut().insert(user);
            app_id
        }
        Err(_) if req.path().starts_with("/api/webhooks") => {
            match crate::webhooks::auth::authenticate(&state, req.request()).await {
                Ok(app) => {
                    let app_id = app.id;
                    req.extensions_mut()
                        .insert(crate::webhooks::auth::Caller(app));
                    app_id
                }
                Err(_) => return Ok(next.call(req).await?.map_into_left_body()),
            }
        }
        Err(_) => return Ok(next.call(req).await?.map_into_left_body()),
    };
    if !state.limiter.enabled {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let decision = match state.limiter.check(&state.db, app_id).await {
        Ok(d) => d,
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    if !decision.allowed {
        let err = ApiError::Throttled {
            retry_after: decision.retry_after as u64,
            detail: format!(
                "Request was throttled: this application's limit of {} calls per hour is used up. \
                 Expected available in {} seconds.",
                decision.limit, decision.retry_after
            ),
        };
        let mut res = req.error_response(err);
        limit_headers(res.headers_mut(), &decision);
        return Ok(res.map_into_right_body());
    }
    let mut res = next.call(req).await?;
    limit_headers(res.headers_mut(), &decision);
    Ok(res.map_into_left_body())
}

/// Accepts every path with and without its trailing slash (published clients use both) and
/// with doubled slashes, by rewriting it before routing. Unlike actix's NormalizePath this
/// runs no regular expression on paths that need nothing.
async fn normalize_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    if (path.len() > 1 && path.ends_with('/')) || path.contains("//") {
        let mut clean = String::with_capacity(path.len());
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            clean.push('/');
            clean.push_str(segment);
        }
        if clean.is_empty() {
            clean.push('/');
        }
        let head = req.head_mut();
        let mut parts = head.uri.clone().into_parts();
        let query = parts
            .path_and_query
            .as_ref()
            .and_then(|pq| pq.query())
            .map(str::to_string);
        let pq = match query {
            Some(q) => format!("{clean}?{q}"),
            None => clean,
        };
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = actix_web::http::Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req).await
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
    for res in crate::resources::ALL {
        crate::api::handlers::register(cfg, res);
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
