//! list, retrieve, create, update, partial_update, destroy: written once for every
//! [`Resource`], as DRF's mixins are. Each write runs in one transaction with its hooks and
//! its audit record; a bulk POST creates every item or none.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::audit::{self, AuditEntry};
use crate::api::auth::check_access;
use crate::api::body::{self, Body};
use crate::api::fields::{self, Mode};
use crate::api::files::{self, PendingFiles};
use crate::api::filters::{self, Params};
use crate::api::pagination::{self, Page};
use crate::api::resource::{Change, Field, Kind, Op, Record, Resource, Sharing};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// A resource with its SQL prepared once at start-up.
pub struct Compiled {
    pub res: &'static Resource,
    plain: Output,
    verbose: Output,
    /// The stored writable fields, read back as the `current` record for PUT/PATCH hooks.
    record_fields: Vec<&'static Field>,
    record_select: String,
}

/// The keys an answer carries (verbose or not) and the SELECT that reads them.
pub struct Output {
    pub fields: Vec<&'static Field>,
    /// Each field's encoded `"name":`.
    keys: Vec<Vec<u8>>,
    pub tys: Vec<Ty>,
    pub select: String,
}

impl Output {
    fn new(res: &'static Resource, verbose: bool) -> Output {
        let fields: Vec<&'static Field> = res
            .fields
            .iter()
            .filter(|f| f.readable() && (verbose || !f.verbose))
            .collect();
        let cols: Vec<String> = fields
            .iter()
            .map(|f| match (f.sql_for(verbose).or(f.answer), f.kind) {
                (Some(expr), _) => format!("({expr})"),
                // A file is answered as its download path (made absolute when written).
                (None, Kind::File) => format!(
                    "CASE WHEN t.\"{0}\" = '' THEN '' ELSE '/api/{1}/' || t.id || '/{0}' END",
                    f.name, res.path
                ),
                (None, _) => Resource::column(f.name),
            })
            .collect();
        Output {
            tys: fields.iter().map(|f| f.kind.ty()).collect(),
            keys: fields.iter().map(|f| fields::encoded_key(f.name)).collect(),
            select: format!("SELECT {} FROM {} t", cols.join(", "), res.table()),
            fields,
        }
    }

    /// Writes one row as a JSON object; `base` is CHARTD_PUBLIC_URL, for file URLs.
    pub fn write(&self, buf: &mut Vec<u8>, row: &[Val], base: &str) {
        fields::write_object(buf, &self.keys, &self.fields, row, base);
    }

    /// The position of a key in the rows this output reads.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    fn id_of(&self, row: &[Val]) -> Option<i64> {
        let i = self.fields.iter().position(|f| f.name == "id")?;
        row.get(i).and_then(Val::as_i64)
    }
}

impl Compiled {
    pub fn new(res: &'static Resource) -> &'static Compiled {
        let record_fields: Vec<&'static Field> = res
            .fields
            .iter()
            .filter(|f| (f.writable() || f.name == "doctor") && f.stored)
            .collect();
        let record_select = format!(
            "SELECT t.id, {} FROM {} t",
            record_fields
                .iter()
                .map(|f| Resource::column(f.name))
                .collect::<Vec<_>>()
                .join(", "),
            res.table()
        );
        Box::leak(Box::new(Compiled {
            res,
            plain: Output::new(res, false),
            verbose: Output::new(res, true),
            record_fields,
            record_select,
        }))
    }

    /// The compiled form of a resource, made once per process (for code that renders or
    /// writes another resource's objects, like the webhook outbox).
    pub fn cached(res: &'static Resource) -> &'static Compiled {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static MAP: OnceLock<Mutex<HashMap<usize, &'static Compiled>>> = OnceLock::new();
        let key = res as *const Resource as usize;
        let mut map = MAP
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_insert_with(|| Compiled::new(res))
    }

    pub fn output(&self, verbose: bool) -> &Output {
        if verbose {
            &self.verbose
        } else {
            &self.plain
        }
    }

    /// ` WHERE` conditions limiting rows to what the caller may see.
    pub fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        sql.push(
            " WHERE t.practice_group_id = ?",
            [Val::from(ctx.practice_group())],
        );
        if let Some(doctor) = self.doctor_restriction(ctx) {
            sql.push(" AND t.doctor = ?", [Val::from(doctor)]);
        }
        self.res.hooks.scope(ctx, sql);
    }

    /// The doctor the caller is limited to when the group does not share this resource.
    fn doctor_restriction(&self, ctx: &Ctx) -> Option<i64> {
        match self.res.sharing {
            Sharing::IfSetting(s) if !ctx.user.shares(s) && self.res.has_doctor_column() => {
                Some(ctx.user.doctor_id)
            }
            _ => None,
        }
    }

    /// Reads objects by id (in the caller's scope), in the order of `ids`.
    pub fn fetch(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        ids: &[i64],
        verbose: bool,
    ) -> Result<Vec<Vec<Val>>, ApiError> {
        let out = self.output(verbose);
        if let [id] = ids {
            let mut sql = Sql::new(out.select.as_str());
            self.scope(ctx, &mut sql);
            sql.push(" AND t.id = ?", [Val::from(*id)]);
            return Ok(vec![sql
                .load_one(conn, &out.tys)?
                .ok_or(ApiError::NotFound)?]);
        }
        // Several (a bulk create): one query per hundred ids, answered in the order asked.
        let id_at = out
            .index_of("id")
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no id key")))?;
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let mut sql = Sql::new(out.select.as_str());
            self.scope(ctx, &mut sql);
            let marks = vec!["?"; chunk.len()].join(", ");
            sql.push(
                &format!(" AND t.id IN ({marks})"),
                chunk.iter().map(|id| Val::from(*id)),
            );
            for row in sql.load(conn, &out.tys)? {
                if let Some(id) = row[id_at].as_i64() {
                    found.insert(id, row);
                }
            }
        }
        ids.iter()
            .map(|id| found.remove(id).ok_or(ApiError::NotFound))
            .collect()
    }

    /// One object as JSON bytes, or 404.
    pub fn fetch_json(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        id: i64,
        verbose: bool,
    ) -> Result<Vec<u8>, ApiError> {
        let row = self.fetch(conn, ctx, &[id], verbose)?.remove(0);
        let mut buf = Vec::with_capacity(512);
        self.output(verbose)
            .write(&mut buf, &row, &ctx.state.base_url);
        Ok(buf)
    }

    /// The stored writable values (and the id) of an object in the caller's scope.
    pub fn load_record(&self, conn: &mut Conn, ctx: &Ctx, id: i64) -> Result<Record, ApiError> {
        let mut sql = Sql::new(self.record_select.as_str());
        self.scope(ctx, &mut sql);
        sql.push(" AND t.id = ?", [Val::from(id)]);
        let tys: Vec<Ty> = std::iter::once(Ty::Int)
            .chain(self.record_fields.iter().map(|f| f.kind.ty()))
            .collect();
        let row = sql.load_one(conn, &tys)?.ok_or(ApiError::NotFound)?;
        let names = std::iter::once("id").chain(self.record_fields.iter().map(|f| f.name));
        Ok(Record(names.zip(row).collect(), Vec::new()))
    }

    /// Checks references, the sharing rule and the resource's own rules for one record.
    fn validate(
        &self,
        ctx: &Ctx,
        conn: &mut Conn,
        op: Op,
        rec: &mut Record,
        current: Option<&Record>,
    ) -> Result<FieldErrors, ApiError> {
        let mut errors = FieldErrors::default();
        for f in self.res.fields.iter().filter(|f| f.writable()) {
            let (Kind::Ref(table), Some(id)) = (f.kind, rec.get(f.name).and_then(Val::as_i64))
            else {
                continue;
            };
            if ctx.known_refs.borrow().contains(&(table, id)) {
                continue;
            }
            let mut sql = Sql::new(format!(
                "SELECT t.id FROM {table} t WHERE t.id = ? AND t.practice_group_id = ?"
            ))
            .bind(id)
            .bind(ctx.practice_group());
            // What the caller cannot read, it cannot point at: when the group does not share
            // the referenced resource, only the caller's doctor's objects are found.
            if let Some(doctor) = referenced(table).and_then(|c| c.doctor_restriction(ctx)) {
                sql.push(" AND t.doctor = ?", [Val::from(doctor)]);
            }
            if sql.load_i64(conn)?.is_some() {
                ctx.known_refs.borrow_mut().insert((table, id));
            } else {
                errors.add(
                    f.name,
                    format!("Invalid pk \"{id}\" - object does not exist."),
                );
            }
        }
        if let (Some(own), Some(doctor)) = (
            self.doctor_restriction(ctx),
            rec.get("doctor").and_then(Val::as_i64),
        ) {
            if doctor != own && !errors.has("doctor") {
                errors.add(
                    "doctor",
                    "Your practice group does not share these records between doctors; \
                     use your own doctor.",
                );
            }
        }
        self.res
            .hooks
            .validate(ctx, conn, op, rec, current, &mut errors)?;
        Ok(errors)
    }

    /// Whether a record key is a column (declared instructions like `reminder_profile` are not;
    /// keys a hook adds are).
    fn stored(&self, name: &str) -> bool {
        self.res.field(name).is_none_or(|f| f.stored)
    }

    /// Inserts one validated record; answers its id.
    fn insert(&self, conn: &mut Conn, ctx: &Ctx, rec: &Record) -> Result<i64, ApiError> {
        let now = now();
        let mut cols: Vec<String> = vec![
            "practice_group_id".into(),
            "created_at".into(),
            "updated_at".into(),
        ];
        let mut binds = vec![Val::from(ctx.practice_group()), now.into(), now.into()];
        // Keys come from the declaration (parse_object) or a hook, never from the client.
        for (name, v) in rec.0.iter().filter(|(n, _)| self.stored(n)) {
            cols.push(format!("\"{name}\""));
            binds.push(v.clone());
        }
        let marks = vec!["?"; cols.len()].join(", ");
        let mut sql = Sql::new(format!(
            "INSERT INTO {} ({}) VALUES ({marks}) RETURNING id",
            self.res.table(),
            cols.join(", ")
        ));
        sql.binds = binds;
        sql.load_i64(conn)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("INSERT returned no id")))
    }

    /// Inserts a validated record and runs what follows every create in the same transaction:
    /// the after_write hook and the audit record.
    fn insert_created(&self, conn: &mut Conn, ctx: &Ctx, rec: &Record) -> Result<i64, ApiError> {
        let id = self.insert_unaudited(conn, ctx, rec)?;
        if self.res.audited {
            audit::insert(conn, &[audit(self, ctx, Op::Create, Some(id), None)])?;
        }
        Ok(id)
    }

    /// Inserts, runs after_write and raises the create event; the caller audits.
    fn insert_unaudited(&self, conn: &mut Conn, ctx: &Ctx, rec: &Record) -> Result<i64, ApiError> {
        let id = self.insert(conn, ctx, rec)?;
        self.res.hooks.after_write(ctx, conn, Op::Create, id)?;
        crate::webhooks::outbox::raise_change(conn, ctx, self, Change::Create, id)?;
        Ok(id)
    }

    /// Writes the given columns of an existing object and bumps updated_at. The record's keys
    /// come from the declaration or a hook, never from the client.
    pub fn update_row(&self, conn: &mut Conn, id: i64, rec: &Record) -> Result<(), ApiError> {
        let mut sets = vec!["updated_at = ?".to_string()];
        let mut binds = vec![Val::from(now())];
        for (name, v) in rec.0.iter().filter(|(n, _)| self.stored(n)) {
            sets.push(format!("\"{name}\" = ?"));
            binds.push(v.clone());
        }
        binds.push(Val::from(id));
        let mut sql = Sql::new(format!(
            "UPDATE {} SET {} WHERE id = ?",
            self.res.table(),
            sets.join(", ")
        ));
        sql.binds = binds;
        sql.execute(conn)?;
        Ok(())
    }
}

/// Creates one object exactly as POST /api/{path} would (scopes and permissions, references,
/// the sharing rule, the validate hook, insert, after_write, audit), inside the caller's
/// transaction: for endpoints that create objects of several resources at once, all or none.
/// `rec` is a parsed body (see `fields::parse_object`), possibly completed by the caller.
pub fn create_in(
    conn: &mut Conn,
    ctx: &Ctx,
    c: &Compiled,
    mut rec: Record,
) -> Result<i64, ApiError> {
    check(c, ctx, true)?;
    c.validate(ctx, conn, Op::Create, &mut rec, None)?
        .into_result()?;
    c.insert_created(conn, ctx, &rec)
}

/// The resource whose own table `table` is (the one references point at).
fn referenced(table: &str) -> Option<&'static Compiled> {
    crate::resources::ALL
        .iter()
        .find(|r| r.path == table && r.table() == table)
        .map(|r| Compiled::cached(r))
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn json_response(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}

fn check(c: &Compiled, ctx: &Ctx, write: bool) -> Result<(), ApiError> {
    let perms = match (write, c.res.read_permissions) {
        (false, Some(read)) => read,
        _ => c.res.permissions,
    };
    check_access(&ctx.user, c.res.scopes, perms, write)
}

fn audit(c: &Compiled, ctx: &Ctx, op: Op, id: Option<i64>, ids: Option<&[i64]>) -> AuditEntry {
    AuditEntry::new(ctx, op.as_str(), c.res.path, id, ids)
}

/// GET /api/{path}
pub async fn list(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check(c, &ctx, false)?;
    let params = Params::parse(req.query_string());
    let res = c.res;
    let verbose = params.flag("verbose")?;
    let page = Page::from_params(
        &params,
        if verbose {
            res.verbose_page_size
        } else {
            res.page_size
        },
    )?;
    let out = c.output(verbose);
    let mut sql = Sql::new(out.select.as_str());
    c.scope(&ctx, &mut sql);
    // A poller asking for changes `since` a time must also see what was archived.
    if res.hide_archived && !params.flag("show_archived")? && params.get("since").is_none() {
        sql.push(" AND t.archived = ?", [Val::from(false)]);
    }
    filters::apply(res, &params, &mut sql)?;
    res.hooks.scope_list(&ctx, &params, &mut sql)?;
    page.finish_query(&mut sql);
    let tys = out.tys.clone();
    let db = ctx.state.db.clone();
    let (rows, links, ctx, params) = db
        .run(move |conn| {
            let rows = sql.load(conn, &tys)?;
            // Links come from the rows the query read, so a hook that drops some of them
            // (a computed filter) cannot break the walk over the pages.
            let (mut rows, links) = page.links(rows, |row| out.id_of(row).unwrap_or_default());
            res.hooks.after_list(&ctx, conn, &params, out, &mut rows)?;
            Ok((rows, links, ctx, params))
        })
        .await?;
    if res.audited {
        let ids: Vec<i64> = rows.iter().filter_map(|r| out.id_of(r)).collect();
        ctx.state
            .audit
            .send(audit(c, &ctx, Op::List, None, Some(&ids)));
    }
    let base = ctx.url(&format!("/api/{}", res.path));
    let mut buf = Vec::with_capacity(64 + rows.len() * 512);
    pagination::write_envelope(&mut buf, &base, &params, &links, |buf| {
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            out.write(buf, row, &ctx.state.base_url);
        }
    });
    Ok(json_response(StatusCode::OK, buf))
}

/// GET /api/{path}/{id}
pub async fn retrieve(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    check(c, &ctx, false)?;
    let verbose = Params::parse(req.query_string()).flag("verbose")?;
    let db = ctx.state.db.clone();
    let (body, ctx) = db
        .run(move |conn| {
            let body = c.fetch_json(conn, &ctx, id, verbose)?;
            Ok((body, ctx))
        })
        .await?;
    if c.res.audited {
        ctx.state
            .audit
            .send(audit(c, &ctx, Op::Retrieve, Some(id), None));
    }
    Ok(json_response(StatusCode::OK, body))
}

/// POST /api/{path}: one object, or a JSON list created all together or not at all.
pub async fn create(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check(c, &ctx, true)?;
    let body: Body = body::read(&req, payload).await?;
    let many = body.many;
    if many && body.items.is_empty() {
        return Err(ApiError::BadRequest(
            "Expected a non-empty list of objects.".into(),
        ));
    }
    let mut pending = PendingFiles::default();
    let (form, uploads) = (body.form, body.files);
    let parsed: Vec<Result<Record, FieldErrors>> = body
        .items
        .into_iter()
        .map(|mut obj| {
            let stored =
                files::store_uploads(c.res, &ctx.state.files, &mut obj, &uploads, &mut pending)?;
            fields::parse_object(c.res, &obj, &stored, Mode::Create, form)
        })
        .collect();
    let db = ctx.state.db.clone();
    let bytes = db
        .write(move |conn| {
            let mut records = Vec::with_capacity(parsed.len());
            let mut all_errors = Vec::with_capacity(parsed.len());
            for item in parsed {
                match item {
                    Ok(mut rec) => {
                        let errs = c.validate(&ctx, conn, Op::Create, &mut rec, None)?;
                        all_errors.push(errs);
                        records.push(rec);
                    }
                    Err(errs) => all_errors.push(errs),
                }
            }
            if all_errors.iter().any(|e| !e.is_empty()) {
                return Err(if many {
                    ApiError::BulkValidation(all_errors)
                } else {
                    ApiError::Validation(all_errors.remove(0))
                });
            }
            let mut ids = Vec::with_capacity(records.len());
            for rec in &records {
                ids.push(c.insert_unaudited(conn, &ctx, rec)?);
            }
            // One audit insert for the whole body (in the same transaction).
            if c.res.audited {
                let entries: Vec<AuditEntry> = ids
                    .iter()
                    .map(|id| audit(c, &ctx, Op::Create, Some(*id), None))
                    .collect();
                audit::insert(conn, &entries)?;
            }
            let rows = c.fetch(conn, &ctx, &ids, true)?;
            let out = c.output(true);
            let mut buf = Vec::with_capacity(rows.len() * 512 + 2);
            if many {
                buf.push(b'[');
            }
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                out.write(&mut buf, row, &ctx.state.base_url);
            }
            if many {
                buf.push(b']');
            }
            Ok(buf)
        })
        .await?;
    pending.commit();
    Ok(json_response(StatusCode::CREATED, bytes))
}

/// PUT (replace) and PATCH (only the given keys) /api/{path}/{id}: 204.
pub async fn update(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
    payload: web::Payload,
    id: i64,
    mode: Mode,
) -> Result<HttpResponse, ApiError> {
    check(c, &ctx, true)?;
    let mut body = body::read(&req, payload).await?;
    let (form, uploads) = (body.form, std::mem::take(&mut body.files));
    let mut obj = body.one()?;
    let mut pending = PendingFiles::default();
    let parsed = files::store_uploads(c.res, &ctx.state.files, &mut obj, &uploads, &mut pending)
        .and_then(|stored| fields::parse_object(c.res, &obj, &stored, mode, form));
    let op = if mode == Mode::Patch {
        Op::PartialUpdate
    } else {
        Op::Update
    };
    let state = ctx.state.clone();
    let replaced = state
        .db
        .write(move |conn| {
            // An object the caller cannot see is a 404 whatever the body says.
            let current = c.load_record(conn, &ctx, id)?;
            let mut rec = parsed.map_err(ApiError::Validation)?;
            let errors = c.validate(&ctx, conn, op, &mut rec, Some(&current))?;
            errors.into_result()?;
            // Archiving through PUT/PATCH is the object's deletion, for webhook events.
            let archives = rec.get("archived").and_then(Val::as_bool) == Some(true)
                && current.get("archived").and_then(Val::as_bool) == Some(false);
            c.update_row(conn, id, &rec)?;
            c.res.hooks.after_write(&ctx, conn, op, id)?;
            let change = if archives && c.res.events.delete.is_some() {
                Change::Delete
            } else {
                Change::Modify
            };
            crate::webhooks::outbox::raise_change(conn, &ctx, c, change, id)?;
            if c.res.audited {
                audit::insert(conn, &[audit(c, &ctx, op, Some(id), None)])?;
            }
            // Files this write replaced; removed once it has committed.
            let replaced: Vec<String> = c
                .res
                .fields
                .iter()
                .filter(|f| matches!(f.kind, Kind::File) && rec.has(f.name))
                .filter_map(|f| {
                    current
                        .get(f.name)
                        .and_then(Val::as_str)
                        .map(str::to_string)
                })
                .filter(|old| !old.is_empty())
                .collect();
            Ok(replaced)
        })
        .await?;
    pending.commit();
    for key in replaced {
        state.files.remove(&key);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /api/{path}/{id}: archives (or removes) the object; 204.
pub async fn destroy(c: &'static Compiled, ctx: Ctx, id: i64) -> Result<HttpResponse, ApiError> {
    check(c, &ctx, true)?;
    let db = ctx.state.db.clone();
    db.write(move |conn| {
        let mut sql = if c.res.soft_delete {
            Sql::new(format!(
                "UPDATE {} AS t SET archived = ?, updated_at = ?",
                c.res.table()
            ))
            .bind(true)
            .bind(now())
        } else {
            Sql::new(format!("DELETE FROM {} AS t", c.res.table()))
        };
        // SQLite before 3.33 and PostgreSQL both accept the alias in UPDATE/DELETE.
        c.scope(&ctx, &mut sql);
        sql.push(" AND t.id = ?", [Val::from(id)]);
        // A removed object is rendered for its webhooks while it still exists.
        let gone = match (c.res.soft_delete, c.res.events.delete) {
            (false, Some(event)) => crate::webhooks::outbox::snapshot(conn, &ctx, c, event, id)?,
            _ => None,
        };
        if sql.execute(conn)? == 0 {
            return Err(ApiError::NotFound);
        }
        c.res.hooks.after_write(&ctx, conn, Op::Destroy, id)?;
        match gone {
            Some(snapshot) => crate::webhooks::outbox::record(conn, &ctx, snapshot)?,
            // An archived object still answers GET: a deletion if the resource has that
            // event, else a modification.
            None if c.res.soft_delete => {
                let change = if c.res.events.delete.is_some() {
                    Change::Delete
                } else {
                    Change::Modify
                };
                crate::webhooks::outbox::raise_change(conn, &ctx, c, change, id)?;
            }
            None => {}
        }
        if c.res.audited {
            audit::insert(conn, &[audit(c, &ctx, Op::Destroy, Some(id), None)])?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// Routes one resource: `GET|POST /api/{path}` and `GET|PUT|PATCH|DELETE /api/{path}/{id}`,
/// only the verbs it allows (405 for the others), plus its extra routes and file downloads,
/// which hooks register relative to `/api/{path}`.
pub fn register(cfg: &mut web::ServiceConfig, res: &'static Resource) {
    let c = Compiled::new(res);
    let v = res.verbs;
    // One scope per resource: a request is matched against its resource's few routes only
    // (dynamic route patterns are regular expressions, and there are a hundred of them).
    let mut scope = web::scope(&format!("/api/{}", res.path)).configure(|cfg| {
        // Extra routes first, so that they win over the generic ones.
        res.hooks.extra_routes(res, cfg);
        files::register(cfg, c);
    });

    let mut coll = web::resource("");
    if v.list {
        coll = coll.route(web::get().to(move |ctx: Ctx, req: HttpRequest| list(c, ctx, req)));
    }
    if v.create {
        coll = coll.route(
            web::post()
                .to(move |ctx: Ctx, req: HttpRequest, p: web::Payload| create(c, ctx, req, p)),
        );
    }
    scope = scope.service(coll.default_service(web::to(method_not_allowed)));

    let mut item = web::resource("/{id:\\d+}");
    if v.retrieve {
        item = item.route(
            web::get().to(move |ctx: Ctx, req: HttpRequest, id: web::Path<i64>| {
                retrieve(c, ctx, req, id.into_inner())
            }),
        );
    }
    if v.update {
        item = item.route(web::put().to(
            move |ctx: Ctx, req: HttpRequest, p: web::Payload, id: web::Path<i64>| {
                update(c, ctx, req, p, id.into_inner(), Mode::Replace)
            },
        ));
    }
    if v.partial_update {
        item = item.route(web::patch().to(
            move |ctx: Ctx, req: HttpRequest, p: web::Payload, id: web::Path<i64>| {
                update(c, ctx, req, p, id.into_inner(), Mode::Patch)
            },
        ));
    }
    if v.destroy {
        item = item.route(
            web::delete().to(move |ctx: Ctx, id: web::Path<i64>| destroy(c, ctx, id.into_inner())),
        );
    }
    scope = scope.service(item.default_service(web::to(method_not_allowed)));
    cfg.service(scope.default_service(web::to(not_found)));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
