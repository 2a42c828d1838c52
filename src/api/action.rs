//! Extra actions (DRF's `@action`): one declaration each — method, path, summary, body and
//! query keys, answer — from which the framework serves the route, checks access with the
//! resource's scopes and permissions (or the action's own), parses the body and the query
//! with the field machinery (400 naming the key), runs a write in one transaction with the
//! resource's modify event and its audit record, and writes the OpenAPI operation
//! (`api::openapi::add_action`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::api::audit::AuditEntry;
use crate::api::auth::{check_access, Perm, Scope};
use crate::api::compiled::Compiled;
use crate::api::events;
use crate::api::fields::{self, coerce, Mode};
use crate::api::filters::Params;
use crate::api::resource::{Access, Change, Field, Kind, Op, Record};
use crate::api::write::Write;
use crate::api::{body, Ctx};
use crate::db::{Conn, Val};
use crate::error::{ApiError, FieldErrors};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Patch => "patch",
        }
    }
}

/// What an action answers (for the document; the run function gives the value).
#[derive(Clone, Copy)]
pub enum Answer {
    /// 200 with the resource's object, verbose.
    Object,
    /// 200 with a JSON object of these keys.
    Keys(&'static [Field]),
    /// 302 to another URL (described).
    Redirect(&'static str),
    /// A JSON object of these keys, each one object of the named schema or (true) a list.
    Parts(&'static [(&'static str, &'static str, bool)]),
}

/// What a run function hands back.
pub enum Reply {
    /// The resource's object with this id, verbose (read in the same transaction).
    Object(i64),
    Json(Value),
    /// JSON already written.
    Raw(Vec<u8>),
    Redirect(String),
}

/// A read action's context: the request, a connection, the parsed query and the raw
/// parameters.
pub struct Read<'a> {
    pub ctx: &'a Ctx,
    pub conn: &'a mut Conn,
    /// The declared query keys that were given, parsed.
    pub query: &'a Record,
    pub params: &'a Params,
}

impl Read<'_> {
    pub fn int(&self, key: &str) -> Option<i64> {
        self.query.get(key).and_then(Val::as_i64)
    }
}

#[derive(Clone, Copy)]
pub enum Run {
    /// A change of object `{id}` (404 unless the caller can see it), in one transaction,
    /// given the parsed body: `w.current` is the stored object; the keys the run sets on
    /// `w.rec` are written (with updated_at); errors it adds are a 400 and roll back. The
    /// resource's modify event and the audit record (named after the action) follow.
    Write(fn(&mut Write, &Record, i64) -> Result<Reply, ApiError>),
    /// A read, on object `{id}` (404 unless visible) when the path has one.
    Read(fn(&mut Read, Option<i64>) -> Result<Reply, ApiError>),
    /// A creation on the collection (no `{id}`), given the parsed body, in one transaction
    /// (an error rolls it back); answers 201. The objects it creates go through their own
    /// resources' rules (`handlers::create_in`), which raise their events and audit records.
    Create(fn(&Ctx, &mut Conn, &Record) -> Result<Reply, ApiError>),
}

pub struct Action {
    pub method: Method,
    /// Relative to /api/{path}: `/{id}/lock`, `/current`.
    pub path: &'static str,
    /// The operation is `{path}_{name}`; the audit action too.
    pub name: &'static str,
    pub summary: &'static str,
    pub doc: &'static str,
    /// The access a write needs (and a write's transaction) rather than a read's.
    pub write: bool,
    /// Scopes and permissions of its own, instead of the resource's.
    pub access: Option<(&'static [Scope], &'static [Perm])>,
    pub body: &'static [Field],
    pub query: &'static [Field],
    pub answer: Answer,
    /// The answer's description ("The note (verbose)."); derived when empty.
    pub answer_doc: &'static str,
    /// Further documented answers, or a better word for the 404: `("409", "Already locked.")`.
    pub responses: &'static [(&'static str, &'static str)],
    /// Beyond the reference (marked `x-chartd-extension`).
    pub extension: bool,
    pub run: Run,
}

impl Action {
    /// A template to fill in with `..Action::DEFAULT`.
    pub const DEFAULT: Action = Action {
        method: Method::Post,
        path: "",
        name: "",
        summary: "",
        doc: "",
        write: true,
        access: None,
        body: &[],
        query: &[],
        answer: Answer::Object,
        answer_doc: "",
        responses: &[],
        extension: false,
        run: Run::Read(|_, _| Err(ApiError::NotFound)),
    };

    pub fn has_id(&self) -> bool {
        self.path.contains("{id}")
    }

    /// The scopes and permissions it needs.
    pub fn needs(&self, c: &Compiled) -> (&'static [Scope], &'static [Perm]) {
        self.access
            .unwrap_or(match (self.write, c.res.read_permissions) {
                (false, Some(read)) => (c.res.scopes, read),
                _ => (c.res.scopes, c.res.permissions),
            })
    }
}

/// Parses the declared query keys (400 naming the first malformed or missing one).
fn parse_query(action: &Action, params: &Params) -> Result<Record, ApiError> {
    let mut rec = Record::default();
    let mut errors = FieldErrors::default();
    for f in action.query {
        // A boolean parameter is a flag: given (`&strict`, `strict=1`) means true.
        if let (Kind::Bool, Some(raw)) = (f.kind, params.get(f.name)) {
            rec.set(
                f.name,
                Val::from(fields::parse_bool_str(raw).unwrap_or(true)),
            );
            continue;
        }
        match params.get(f.name).filter(|v| !v.is_empty()) {
            Some(raw) => match coerce(f, &Value::String(raw.to_string()), true) {
                Ok(v) => rec.set(f.name, v),
                Err(msg) => errors.add(f.name, msg),
            },
            None if f.access == Access::Required => {
                errors.add(f.name, "This parameter is required.")
            }
            None => {}
        }
    }
    errors.into_result()?;
    Ok(rec)
}

fn respond(
    body: Result<(Option<Vec<u8>>, Option<String>), ApiError>,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    match body? {
        (_, Some(location)) => Ok(HttpResponse::Found()
            .insert_header(("Location", location))
            .finish()),
        (Some(json), None) if created => Ok(HttpResponse::Created()
            .content_type("application/json")
            .body(json)),
        (Some(json), None) => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(json)),
        (None, None) => Ok(HttpResponse::NoContent().finish()),
    }
}

/// Renders a reply inside the action's database call.
fn render(
    c: &Compiled,
    conn: &mut Conn,
    ctx: &Ctx,
    reply: Reply,
) -> Result<(Option<Vec<u8>>, Option<String>), ApiError> {
    Ok(match reply {
        Reply::Object(id) => (Some(c.fetch_json(conn, ctx, id, true)?), None),
        Reply::Json(v) => (Some(v.to_string().into_bytes()), None),
        Reply::Raw(json) => (Some(json), None),
        Reply::Redirect(url) => (None, Some(url)),
    })
}

async fn serve(
    c: &'static Compiled,
    action: &'static Action,
    ctx: Ctx,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (scopes, perms) = action.needs(c);
    check_access(&ctx.user, scopes, perms, action.write)?;
    let id: Option<i64> = match req.match_info().get("id") {
        Some(raw) => Some(raw.parse().map_err(|_| ApiError::NotFound)?),
        None => None,
    };
    let params = Params::parse(req.query_string());
    let query = parse_query(action, &params)?;
    let db = ctx.state.db.clone();
    match action.run {
        Run::Read(run) => {
            let out = db
                .run(move |conn| {
                    if let Some(id) = id {
                        if !c.visible(conn, &ctx, id)? {
                            return Err(ApiError::NotFound);
                        }
                    }
                    let mut r = Read {
                        ctx: &ctx,
                        conn,
                        query: &query,
                        params: &params,
                    };
                    let reply = run(&mut r, id)?;
                    render(c, conn, &ctx, reply)
                })
                .await;
            respond(out, false)
        }
        Run::Create(run) => {
            let body = parse_body(action, &req, payload).await?;
            let out = db
                .write(move |conn| {
                    let reply = run(&ctx, conn, &body)?;
                    render(c, conn, &ctx, reply)
                })
                .await;
            respond(out, true)
        }
        Run::Write(run) => {
            let body = parse_body(action, &req, payload).await?;
            let id = id.ok_or(ApiError::NotFound)?;
            let out = db
                .write(move |conn| {
                    // An object the caller cannot see is a 404 whatever the body says.
                    let current = c.load_record(conn, &ctx, id)?;
                    let mut rec = Record::default();
                    let mut errors = FieldErrors::default();
                    let reply = {
                        let mut w = Write {
                            ctx: &ctx,
                            conn,
                            op: Op::PartialUpdate,
                            rec: &mut rec,
                            current: Some(&current),
                            errors: &mut errors,
                        };
                        run(&mut w, &body, id)?
                    };
                    errors.into_result()?;
                    if !rec.values.is_empty() {
                        c.update_row(conn, id, &rec)?;
                    }
                    events::raise_change(conn, &ctx, c, Change::Modify, id)?;
                    if c.res.audited {
                        let entry = AuditEntry::new(&ctx, action.name, c.res.path, Some(id), None);
                        crate::api::audit::insert(conn, &[entry])?;
                    }
                    render(c, conn, &ctx, reply)
                })
                .await;
            respond(out, false)
        }
    }
}

/// The declared body keys, parsed (400 naming the key); none read when none are declared.
async fn parse_body(
    action: &Action,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Record, ApiError> {
    if action.body.is_empty() {
        return Ok(Record::default());
    }
    let b = body::read(req, payload).await?;
    let form = b.form;
    let obj = b.one()?;
    fields::parse_fields(action.body, &obj, &[], Mode::Create, form).map_err(ApiError::Validation)
}

/// Routes one action under its resource's scope.
pub fn register(cfg: &mut web::ServiceConfig, c: &'static Compiled, action: &'static Action) {
    let path = action.path.replace("{id}", "{id:\\d+}");
    let handler = move |ctx: Ctx, req: HttpRequest, p: web::Payload| serve(c, action, ctx, req, p);
    let route = match action.method {
        Method::Get => web::get(),
        Method::Post => web::post(),
        Method::Patch => web::patch(),
    };
    if path.is_empty() {
        // On the collection, beside the generic list and create: only its own method.
        let method = match action.method {
            Method::Get => actix_web::http::Method::GET,
            Method::Post => actix_web::http::Method::POST,
            Method::Patch => actix_web::http::Method::PATCH,
        };
        cfg.service(
            web::resource("")
                .guard(actix_web::guard::Method(method))
                .route(route.to(handler)),
        );
        return;
    }
    cfg.service(
        web::resource(path)
            .route(route.to(handler))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::MethodNotAllowed)
            })),
    );
}
