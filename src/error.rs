//! ApiError: the one error type of the HTTP layer, rendered as CONTRACT.md says —
//! validation errors as `{"field": ["message", ...]}` (a list of those for a bulk POST),
//! everything else as `{"detail": "..."}`.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Field name → messages, DRF-style. Collects every problem before answering.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Ok when empty, else the validation error.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self))
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    pub fn single(field: &str, message: impl Into<String>) -> FieldErrors {
        let mut e = FieldErrors::default();
        e.add(field, message);
        e
    }
}

#[derive(Debug)]
pub enum ApiError {
    /// 400 with a field → messages map.
    Validation(FieldErrors),
    /// 400 for a bulk POST: one error object per item (`{}` for the good ones).
    BulkValidation(Vec<FieldErrors>),
    /// 400 {"detail"}.
    BadRequest(String),
    /// 401 with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    /// 401 with `WWW-Authenticate: Basic`: an app's client credentials are missing or wrong
    /// (the webhooks management API).
    UnauthorizedClient(String),
    /// 403.
    Forbidden(String),
    /// 404.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 409 {"detail"}, optionally with extra keys.
    Conflict(String, Option<serde_json::Value>),
    /// 413.
    PayloadTooLarge(String),
    /// 415.
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`.
    Throttled { retry_after: u64, detail: String },
    /// 503.
    Unavailable(String),
    /// 500; the cause is logged, never sent.
    Internal(anyhow::Error),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(e) => write!(f, "internal error: {e:#}"),
            other => write!(f, "{:?}", other),
        }
    }
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(FieldErrors::single(field, message))
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BulkValidation(_) | ApiError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthorized(_) | ApiError::UnauthorizedClient(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        let body = match self {
            ApiError::Validation(e) => e.to_json(),
            ApiError::BulkValidation(items) => {
                serde_json::Value::Array(items.iter().map(FieldErrors::to_json).collect())
            }
            ApiError::BadRequest(d)
            | ApiError::Forbidden(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Unavailable(d) => json!({ "detail": d }),
            ApiError::Unauthorized(d) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"api\""));
                json!({ "detail": d })
            }
            ApiError::UnauthorizedClient(d) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"chartd\""));
                json!({ "detail": d })
            }
            ApiError::NotFound => json!({ "detail": "Not found." }),
            ApiError::MethodNotAllowed => json!({ "detail": "Method not allowed." }),
            ApiError::Conflict(d, extra) => {
                let mut body = json!({ "detail": d });
                if let (Some(serde_json::Value::Object(extra)), Some(obj)) =
                    (extra, body.as_object_mut())
                {
                    obj.extend(extra.clone());
                }
                body
            }
            ApiError::Throttled {
                retry_after,
                detail,
            } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                json!({ "detail": detail })
            }
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                json!({ "detail": "Internal server error." })
            }
        };
        res.json(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(constraint = ?info.constraint_name(), "unique violation");
                ApiError::Conflict("An object with these values already exists.".into(), None)
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::BadRequest("A referenced object does not exist.".into())
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => ApiError::Conflict(
                "The request conflicted with another; retry it.".into(),
                None,
            ),
            other => ApiError::Internal(anyhow::Error::new(other).context("database")),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}
