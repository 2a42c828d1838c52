//! The middlewares every request passes: path normalization, the access log and metrics, and
//! the /api/ gate (bearer token, hourly rate limit).

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use futures_util::future;

use crate::error::ApiError;
use crate::ratelimit::Decision;
use crate::state::{AppState, RequestLabels};

/// Counts and times each request, and answers its request id in X-Request-Id.
pub async fn observe(
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

fn limit_headers(headers: &mut actix_web::http::header::HeaderMap, d: &Decision) {
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
pub async fn api_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(state), true) = (state, req.path().starts_with("/api/")) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let mut res = gate(state, req, next).await?;
    // Answers carry patient data: no proxy or browser may keep them, nor guess their type.
    let headers = res.headers_mut();
    headers.insert(
        actix_web::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    headers.insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

async fn gate<B: MessageBody>(
    state: web::Data<AppState>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
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
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        // A read changes nothing, so it runs while its call is counted, and its answer waits
        // for the count: the count's wait is hidden behind the read's own. A refused read's
        // answer is dropped unsent.
        let (decision, res) =
            future::join(state.limiter.check(&state.db, app_id), next.call(req)).await;
        let res = res?;
        return Ok(match decision.map(refusal) {
            Ok(Ok(decision)) => {
                let mut res = res.map_into_left_body();
                limit_headers(res.headers_mut(), &decision);
                res
            }
            Ok(Err((e, decision))) => {
                let mut res = ServiceResponse::from_err(e, res.request().clone());
                limit_headers(res.headers_mut(), &decision);
                res.map_into_right_body()
            }
            Err(e) => ServiceResponse::from_err(e, res.request().clone()).map_into_right_body(),
        });
    }
    // A write waits for its count before it starts: a refused write never happens.
    let decision = match state.limiter.check(&state.db, app_id).await.map(refusal) {
        Ok(Ok(d)) => d,
        Ok(Err((e, decision))) => {
            let mut res = req.error_response(e);
            limit_headers(res.headers_mut(), &decision);
            return Ok(res.map_into_right_body());
        }
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    let mut res = next.call(req).await?;
    limit_headers(res.headers_mut(), &decision);
    Ok(res.map_into_left_body())
}

/// The decision, or the 429 it means.
fn refusal(decision: Decision) -> Result<Decision, (ApiError, Decision)> {
    if decision.allowed {
        return Ok(decision);
    }
    let err = ApiError::Throttled {
        retry_after: decision.retry_after as u64,
        detail: format!(
            "Request was throttled: this application's limit of {} calls per hour is used up. \
             Expected available in {} seconds.",
            decision.limit, decision.retry_after
        ),
    };
    Err((err, decision))
}

/// Accepts every path with and without its trailing slash (published clients use both) and
/// with doubled slashes, by rewriting it before routing. Unlike actix's NormalizePath this
/// runs no regular expression on paths that need nothing.
pub async fn normalize_path(
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
