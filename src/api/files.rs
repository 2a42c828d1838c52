//! File keys ("file" and "base64encoded file" in the reference): uploads arrive as multipart
//! parts named like the key, or in JSON as base64 (optionally a `data:` URI). They are stored
//! under CHARTD_FILES_DIR and answered as absolute URLs,
//! `{public}/api/{resource}/{id}/{key}`, which need the same token, scope and practice group as
//! the object itself.
//!
//! A file is written before the database transaction; [`PendingFiles`] deletes it again unless
//! the request commits, so a failed request leaves nothing on disk.

use std::path::{Path, PathBuf};

use actix_web::{web, HttpResponse};
use base64::Engine;
use serde_json::{Map, Value};

use crate::api::auth::check_access;
use crate::api::body::Upload;
use crate::api::compiled::Compiled;
use crate::api::resource::{Kind, Resource};
use crate::api::Ctx;
use crate::db::{Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// Extensions accepted for upload, with the content type they are served as.
const TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("bmp", "image/bmp"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("xml", "application/xml"),
    ("hl7", "text/plain"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("dcm", "application/dicom"),
];

fn extension_for(content_type: &str) -> Option<&'static str> {
    TYPES
        .iter()
        .find(|(_, ct)| *ct == content_type)
        .map(|(ext, _)| *ext)
}

pub fn content_type_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, ct)| *ct)
        .unwrap_or("application/octet-stream")
}

/// Where files live and how large they may be.
#[derive(Clone, Debug)]
pub struct FileStore {
    pub dir: PathBuf,
    pub max_bytes: usize,
}

impl FileStore {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    /// Checks and writes one upload; answers its storage key.
    fn save(&self, resource: &str, name: &str, bytes: &[u8]) -> Result<(String, PathBuf), String> {
        if bytes.is_empty() {
            return Err("The submitted file is empty.".into());
        }
        if bytes.len() > self.max_bytes {
            return Err(format!("The file is larger than {} bytes.", self.max_bytes));
        }
        let clean: String = Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("upload")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let ext = clean
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !TYPES.iter().any(|(e, _)| *e == ext) {
            let allowed: Vec<&str> = TYPES.iter().map(|(e, _)| *e).collect();
            return Err(format!(
                "Unsupported file type \"{name}\". Allowed extensions: {}.",
                allowed.join(", ")
            ));
        }
        let key = format!(
            "{resource}/{}/{clean}",
            &crate::api::auth::new_token()[..22]
        );
        let path = self.path(&key);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("key has a parent"))?;
            std::fs::write(&path, bytes)
        };
        write().map_err(|e| {
            tracing::error!(error = %e, path = %path.display(), "could not store upload");
            "The file could not be stored.".to_string()
        })?;
        Ok((key, path))
    }

    pub fn remove(&self, key: &str) {
        if key.is_empty() {
            return;
        }
        let path = self.path(key);
        let _ = std::fs::remove_file(&path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Files written for a request that has not committed yet; dropped uncommitted, they go.
#[derive(Default)]
pub struct PendingFiles {
    paths: Vec<PathBuf>,
    committed: bool,
}

impl PendingFiles {
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for PendingFiles {
    fn drop(&mut self) {
        if !self.committed {
            for p in &self.paths {
                let _ = std::fs::remove_file(p);
                if let Some(dir) = p.parent() {
                    let _ = std::fs::remove_dir(dir);
                }
            }
        }
    }
}

/// Stores the files of one body object: multipart parts named like a file key, or (JSON)
/// a base64 string in that key, which is then removed from `obj`. Answers (key, storage key)
/// pairs for `parse_object`.
pub fn store_uploads(
    res: &Resource,
    store: &FileStore,
    obj: &mut Map<String, Value>,
    uploads: &[Upload],
    pending: &mut PendingFiles,
) -> Result<Vec<(&'static str, String)>, FieldErrors> {
    let mut stored = Vec::new();
    let mut errors = FieldErrors::default();
    for f in res
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::File) && f.writable())
    {
        let decoded;
        let (name, bytes): (String, &[u8]) =
            if let Some(u) = uploads.iter().find(|u| u.field == f.name) {
                (u.filename.clone(), &u.bytes)
            } else {
                match obj.remove(f.name) {
                    Some(Value::String(s)) if !s.is_empty() => match decode_base64(&s) {
                        Ok((ext, bytes)) => {
                            decoded = bytes;
                            (format!("{}.{ext}", f.name), &decoded)
                        }
                        Err(msg) => {
                            errors.add(f.name, msg);
                            continue;
                        }
                    },
                    Some(Value::String(_)) | Some(Value::Null) | None => continue,
                    Some(_) => {
                        errors.add(f.name, "Expected a file (multipart) or a base64 string.");
                        continue;
                    }
                }
            };
        match store.save(res.path, &name, bytes) {
            Ok((key, path)) => {
                pending.paths.push(path);
                stored.push((f.name, key));
            }
            Err(msg) => errors.add(f.name, msg),
        }
    }
    if errors.is_empty() {
        Ok(stored)
    } else {
        Err(errors)
    }
}

/// Raw base64 or a `data:TYPE;base64,...` URI → (extension, bytes).
fn decode_base64(s: &str) -> Result<(&'static str, Vec<u8>), String> {
    let (ctype, data) = match s.strip_prefix("data:") {
        Some(rest) => {
            let (meta, data) = rest.split_once(',').ok_or("Malformed data: URI.")?;
            (
                meta.strip_suffix(";base64")
                    .ok_or("A data: URI must be base64.")?,
                data,
            )
        }
        None => ("", s),
    };
    let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|_| "Not valid base64.".to_string())?;
    let ext = if ctype.is_empty() {
        sniff(&bytes)
    } else {
        extension_for(ctype).ok_or_else(|| format!("Unsupported file type \"{ctype}\"."))?
    };
    Ok((ext, bytes))
}

/// The type of base64 content sent without one, from its first bytes.
fn sniff(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF") {
        "pdf"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        "jpg"
    } else if bytes.starts_with(b"GIF8") {
        "gif"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "tif"
    } else {
        "txt"
    }
}

/// GET /api/{path}/{id}/{key}: the stored file, for a caller who may read the object.
async fn download(
    c: &'static Compiled,
    field: &'static str,
    ctx: Ctx,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    check_access(&ctx.user, c.res.scopes, c.res.permissions, false)?;
    let db = ctx.state.db.clone();
    let (key, ctx) = db
        .run(move |conn| {
            let mut sql = Sql::new(format!(
                "SELECT {} FROM {} t",
                Resource::column(field),
                c.res.table()
            ));
            c.scope(&ctx, &mut sql);
            sql.push(" AND t.id = ?", [Val::from(id)]);
            let row = sql.load_one(conn, &[Ty::Text])?.ok_or(ApiError::NotFound)?;
            Ok((row[0].as_str().unwrap_or("").to_string(), ctx))
        })
        .await?;
    if key.is_empty() {
        return Err(ApiError::NotFound);
    }
    let path = ctx.state.files.path(&key);
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("reading a stored file")))?;
    if c.res.audited {
        ctx.state.audit.send(crate::api::audit::AuditEntry::new(
            &ctx,
            "download",
            c.res.path,
            Some(id),
            None,
        ));
    }
    let name = key.rsplit('/').next().unwrap_or("file").to_string();
    Ok(HttpResponse::Ok()
        .content_type(content_type_of(&name))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

/// Routes the download URL of every file key of a resource.
pub fn register(cfg: &mut web::ServiceConfig, c: &'static Compiled) {
    for f in c.res.fields.iter().filter(|f| matches!(f.kind, Kind::File)) {
        let field = f.name;
        cfg.route(
            &format!("/{{id:\\d+}}/{field}"),
            web::get()
                .to(move |ctx: Ctx, id: web::Path<i64>| download(c, field, ctx, id.into_inner())),
        );
    }
}
