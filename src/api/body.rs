//! Request bodies: JSON (one object, or a list for a bulk POST), form-urlencoded and
//! multipart/form-data, as DRF's default parsers take them. Output is JSON only.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Largest JSON or form body (JSON may carry base64 files).
pub const MAX_BODY: usize = 24 * 1024 * 1024;
/// Largest multipart body (files included).
pub const MAX_MULTIPART: usize = 24 * 1024 * 1024;

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Body {
    /// The objects of the body (one unless `many`).
    pub items: Vec<Map<String, Value>>,
    /// The body was a JSON list (a bulk create).
    pub many: bool,
    /// Values are strings from a form or multipart body.
    pub form: bool,
    pub files: Vec<Upload>,
}

impl Body {
    pub fn one(self) -> Result<Map<String, Value>, ApiError> {
        if self.many {
            return Err(ApiError::BadRequest(
                "Expected a JSON object, not a list.".into(),
            ));
        }
        Ok(self.items.into_iter().next().unwrap_or_default())
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("Request body is larger than {} bytes.", limit))
}

async fn read_all(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("Could not read body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Reads the body by its Content-Type. An empty body is an empty object.
pub async fn read(req: &HttpRequest, payload: web::Payload) -> Result<Body, ApiError> {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > MAX_MULTIPART {
            return Err(too_large(MAX_MULTIPART));
        }
    }
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = ctype.split(';').next().unwrap_or("").trim().to_string();
    match mime.as_str() {
        "multipart/form-data" => read_multipart(req, payload).await,
        "application/x-www-form-urlencoded" => {
            let bytes = read_all(payload, MAX_BODY).await?;
            let mut obj = Map::new();
            for (k, v) in url::form_urlencoded::parse(&bytes) {
                obj.insert(k.into_owned(), Value::String(v.into_owned()));
            }
            Ok(Body {
                items: vec![obj],
                many: false,
                form: true,
                files: vec![],
            })
        }
        "application/json" | "" => {
            let bytes = read_all(payload, MAX_BODY).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Body {
                    items: vec![Map::new()],
                    ..Body::default()
                });
            }
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))?;
            match value {
                Value::Object(obj) => Ok(Body {
                    items: vec![obj],
                    ..Body::default()
                }),
                Value::Array(list) => {
                    let mut items = Vec::with_capacity(list.len());
                    for (i, item) in list.into_iter().enumerate() {
                        match item {
                            Value::Object(obj) => items.push(obj),
                            _ => {
                                return Err(ApiError::BadRequest(format!(
                                    "Item {i} of the list is not a JSON object."
                                )))
                            }
                        }
                    }
                    Ok(Body {
                        items,
                        many: true,
                        ..Body::default()
                    })
                }
                _ => Err(ApiError::BadRequest(
                    "Expected a JSON object or a list of objects.".into(),
                )),
            }
        }
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Unsupported media type \"{other}\" in request. Use application/json, \
             application/x-www-form-urlencoded or multipart/form-data."
        ))),
    }
}

async fn read_multipart(req: &HttpRequest, payload: web::Payload) -> Result<Body, ApiError> {
    let mut mp = Multipart::new(req.headers(), payload.into_inner());
    let mut obj = Map::new();
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(part) = mp.next().await {
        let mut part =
            part.map_err(|e| ApiError::BadRequest(format!("Malformed multipart body: {e}")))?;
        let disposition = part.content_disposition().cloned();
        let name = disposition
            .as_ref()
            .and_then(|d| d.get_name())
            .map(str::to_string)
            .ok_or_else(|| ApiError::BadRequest("A multipart part has no name.".into()))?;
        let filename = disposition
            .as_ref()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let content_type = part
            .content_type()
            .map(|m| m.to_string())
            .unwrap_or_default();
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::BadRequest(format!("Malformed multipart body: {e}")))?;
            total += chunk.len();
            if total > MAX_MULTIPART {
                return Err(too_large(MAX_MULTIPART));
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            Some(filename) => files.push(Upload {
                field: name,
                filename,
                content_type,
                bytes,
            }),
            None => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| ApiError::field(&name, "A form value must be UTF-8 text."))?;
                obj.insert(name, Value::String(text));
            }
        }
    }
    Ok(Body {
        items: vec![obj],
        many: false,
        form: true,
        files,
    })
}
