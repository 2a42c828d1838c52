//! list, retrieve, create, update, partial_update, destroy: written once for every
//! [`Resource`], as DRF's mixins are. Each write runs in one transaction with its hooks and
//! its audit record; a bulk POST creates every item or none.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::audit::{self, AuditEntry};
use crate::api::auth::check_access;
use crate::api::body::{self, Body};
use crate::api::compiled::{audit, now, Compiled};
use crate::api::events;
use crate::api::fields::{self, Mode};
use crate::api::files::{self, PendingFiles};
use crate::api::filters::{self, Params};
use crate::api::pagination::{self, Page};
use crate::api::resource::{Change, Kind, Op, Record};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Val};
use crate::error::{ApiError, FieldErrors};

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
    c.insert_created(conn, ctx, &mut rec)
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
    filters::apply(res, &params, ctx.practice_group(), &mut sql)?;
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
            for rec in &mut records {
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
            c.after_write(conn, &ctx, op, &mut rec, Some(&current), id)?;
            let change = if archives && c.res.events.delete.is_some() {
                Change::Delete
            } else {
                Change::Modify
            };
            events::raise_change(conn, &ctx, c, change, id)?;
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
            (false, Some(event)) => events::snapshot(conn, &ctx, c, event, id)?,
            _ => None,
        };
        if sql.execute(conn)? == 0 {
            return Err(ApiError::NotFound);
        }
        c.after_write(conn, &ctx, Op::Destroy, &mut Record::default(), None, id)?;
        match gone {
            Some(snapshot) => events::record(conn, &ctx, snapshot)?,
            // An archived object still answers GET: a deletion if the resource has that
            // event, else a modification.
            None if c.res.soft_delete => {
                let change = if c.res.events.delete.is_some() {
                    Change::Delete
                } else {
                    Change::Modify
                };
                events::raise_change(conn, &ctx, c, change, id)?;
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
pub fn register(cfg: &mut web::ServiceConfig, c: &'static Compiled) {
    let res = c.res;
    let v = res.verbs;
    // One scope per resource: a request is matched against its resource's few routes only
    // (dynamic route patterns are regular expressions, and there are a hundred of them).
    let mut scope = web::scope(&format!("/api/{}", res.path)).configure(|cfg| {
        // Extra routes first, so that they win over the generic ones.
        for action in res.actions {
            crate::api::action::register(cfg, c, action);
        }
        res.hooks.extra_routes(c, cfg);
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
