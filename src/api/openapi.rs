//! The OpenAPI 3.1 document, built from the resource registry: every resource's schema comes
//! from its field declarations and every path from its verbs and filters, so the document
//! cannot drift from the code. Served at /openapi.json; `chartd openapi` prints it for
//! openapi/openapi.json, and a test keeps the two identical.

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Ref, RefOr, Required, ResponseBuilder};

use crate::api::action::{Action, Answer, Method, Run};
use crate::api::auth::{Perm, Scope};
use crate::api::compiled::Compiled;
use crate::api::resource::{
    Access, Field, Filter, FilterKind, JsonShape, Key, KeyKind, Kind, Resource,
};

pub use utoipa::openapi::path::Paths;

use crate::api::openapi_kit::{
    content, errors_ref, extension, page_of, path_id, query, response, ty,
};

/// The JSON schema of one key's value.
pub fn kind_schema(kind: Kind) -> ObjectBuilder {
    match kind {
        Kind::Int | Kind::Ref(_) => {
            ty(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        }
        Kind::Str => ty(Type::String),
        Kind::File => ty(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .description(Some("Uploaded as a multipart/form-data file (or base64 in JSON); answered as a URL that needs the same authorization as the object.")),
        Kind::Bool => ty(Type::Boolean),
        Kind::Date => ty(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        Kind::TimeOfDay => ty(Type::String).examples(["09:00:00"]),
        Kind::Timestamp => ty(Type::String).examples(["2014-02-24T15:32:19"]),
        Kind::Decimal => ty(Type::String)
            .pattern(Some(r"^-?\d+\.\d{2}$"))
            .description(Some(
                "Decimal; accepted as number or string, returned as a string with two places.",
            )),
        Kind::Float => ty(Type::Number).format(Some(SchemaFormat::KnownFormat(KnownFormat::Double))),
        Kind::Choice(values) => ty(Type::String).enum_values(Some(values.iter().copied())),
        Kind::Json(JsonShape::Keys(keys)) => nested_schema(keys),
        Kind::Json(JsonShape::Object) => ty(Type::Object),
        Kind::Json(_) => ty(Type::Array),
    }
}

/// An object with declared keys: its properties, required keys, and nothing else.
fn nested_schema(keys: &[Key]) -> ObjectBuilder {
    let mut b = ty(Type::Object).additional_properties(Some(
        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
    ));
    for key in keys {
        let mut p = match key.kind {
            KeyKind::Text => ty(Type::String),
            KeyKind::Int(_) => ty(Type::Integer),
            KeyKind::Number => ty(Type::Number),
            KeyKind::Bool => ty(Type::Boolean),
            KeyKind::Date => {
                ty(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            }
            KeyKind::Time => ty(Type::String).examples(["09:00:00"]),
            KeyKind::Choice(values) => ty(Type::String).enum_values(Some(values.iter().copied())),
            KeyKind::Strs => {
                return b.property(
                    key.name,
                    ArrayBuilder::new().items(ty(Type::String)).build(),
                )
            }
            KeyKind::Object(inner) => nested_schema(inner),
        };
        if let KeyKind::Int(Some((least, most))) = key.kind {
            p = p.minimum(Some(least)).maximum(Some(most));
        }
        if !key.doc.is_empty() {
            p = p.description(Some(key.doc));
        }
        b = b.property(key.name, p);
        if key.required {
            b = b.required(key.name);
        }
    }
    b
}

fn field_schema(f: &Field) -> RefOr<Schema> {
    let mut doc = f.doc.to_string();
    if f.verbose {
        doc = format!("{doc} Only with verbose=true.").trim().to_string();
    }
    if let Kind::Ref(table) = f.kind {
        doc = format!("{doc} ID of a {table} object.").trim().to_string();
    }
    if let Some(alias) = f.alias {
        doc = format!("{doc} Also accepted as \"{alias}\".")
            .trim()
            .to_string();
    }
    let mut b = kind_schema(f.kind);
    if f.nullable {
        let base = match f.kind {
            Kind::Int | Kind::Ref(_) => Type::Integer,
            Kind::Bool => Type::Boolean,
            Kind::Float => Type::Number,
            Kind::Json(shape) if shape.is_object() => Type::Object,
            Kind::Json(_) => Type::Array,
            _ => Type::String,
        };
        b = b.schema_type(SchemaType::from_iter([base, Type::Null]));
    }
    if let Kind::Json(shape) = f.kind {
        if !shape.is_object() {
            let item = match shape {
                JsonShape::KeyedList(keys) => nested_schema(keys),
                JsonShape::IntList => ty(Type::Integer),
                JsonShape::StrList => ty(Type::String),
                JsonShape::ScalarList => ty(Type::Integer)
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::String])),
                _ => ty(Type::Object),
            };
            let mut arr = ArrayBuilder::new().items(item);
            if !doc.is_empty() {
                arr = arr.description(Some(doc));
            }
            return Schema::Array(arr.build()).into();
        }
    }
    if !doc.is_empty() {
        b = b.description(Some(doc));
    }
    match f.access {
        Access::ReadOnly => b = b.read_only(Some(true)),
        Access::WriteOnly => b = b.write_only(Some(true)),
        _ => {}
    }
    if let (Kind::Str, Some(max), false) = (f.kind, f.max_chars(), f.access == Access::ReadOnly) {
        b = b.max_length(Some(max));
    }
    if let Some((min, max)) = f.range {
        b = b.minimum(Some(min)).maximum(Some(max));
    }
    Schema::Object(b.build()).into()
}

/// The object schema of a resource, keys in declaration order.
pub fn resource_schema(res: &Resource) -> Schema {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(res.doc));
    for f in res.fields {
        b = b.property(f.name, field_schema(f));
        if f.access == Access::Required {
            b = b.required(f.name);
        }
    }
    Schema::Object(b.build())
}

fn filter_param(f: &Filter) -> utoipa::openapi::path::Parameter {
    let (schema, default_doc) = match f.kind {
        FilterKind::Eq(kind) => (
            kind_schema(kind),
            format!("Only objects whose {} equals this.", f.param),
        ),
        FilterKind::IContains => (
            ty(Type::String),
            format!("Case-insensitive partial match on {}.", f.param),
        ),
        FilterKind::IntIn => (ty(Type::String), "Comma-separated ids.".to_string()),
        FilterKind::OnDate => (
            kind_schema(Kind::Date),
            "Only objects on this date.".to_string(),
        ),
        FilterKind::DateRange { max_days } => (
            ty(Type::String).examples(["2014-02-24/2014-02-28"]),
            match max_days {
                Some(d) => format!(
                    "Inclusive YYYY-MM-DD/YYYY-MM-DD; at most {d} days unless wholly in the past."
                ),
                None => "Inclusive YYYY-MM-DD/YYYY-MM-DD.".to_string(),
            },
        ),
        FilterKind::Since => (
            ty(Type::String).examples(["2014-02-24T15:32:19"]),
            String::new(),
        ),
        FilterKind::Flag => (ty(Type::Boolean), String::new()),
        FilterKind::Custom(kind) | FilterKind::Where { kind, .. } => {
            (kind_schema(kind), String::new())
        }
        FilterKind::WhereAny { kind, .. } => (
            ty(Type::String),
            format!(
                "Comma-separated values ({}).",
                match kind {
                    Kind::Int | Kind::Ref(_) => "integers",
                    _ => "strings",
                }
            ),
        ),
        FilterKind::WhereTrue(_) => (ty(Type::Boolean), String::new()),
    };
    let doc = if f.doc.is_empty() {
        default_doc
    } else {
        f.doc.to_string()
    };
    query(f.param, schema, &doc)
}

/// The responses every authenticated operation can give.
pub fn with_common_errors(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "401",
        response("Missing, invalid or expired token.", Some(errors_ref())),
    )
    .response(
        "403",
        response(
            "The token lacks a scope or the user a permission.",
            Some(errors_ref()),
        ),
    )
    .response(
        "429",
        response("Hourly rate limit reached.", Some(errors_ref())),
    )
}

fn security(res: &Resource) -> SecurityRequirement {
    SecurityRequirement::new(
        "bearer",
        res.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    )
}

/// Whether an action is one of the resource's `extension_verbs`.
fn is_extension(res: &Resource, action: &str) -> bool {
    let v = res.extension_verbs;
    match action {
        "list" => v.list,
        "retrieve" => v.retrieve,
        "create" => v.create,
        "update" => v.update,
        "partial_update" => v.partial_update,
        "destroy" => v.destroy,
        _ => false,
    }
}

/// Marks an operation that goes beyond the DrChrono reference: `x-chartd-extension: true`
/// and a note in its summary.
pub fn mark_extension(op: OperationBuilder, summary: &str) -> OperationBuilder {
    op.summary(Some(format!("{summary} (chartd extension)")))
        .extensions(Some(
            [("x-chartd-extension", serde_json::Value::Bool(true))]
                .into_iter()
                .collect(),
        ))
}

/// The webhook events an action raises, as a sentence.
fn events_note(res: &Resource, action: &str) -> Option<String> {
    let e = res.events;
    let (main, archive) = match action {
        "create" => (e.create, None),
        "update" | "partial_update" => (e.modify, e.delete),
        "destroy" if res.soft_delete => (e.delete.or(e.modify), None),
        "destroy" => (e.delete, None),
        _ => (None, None),
    };
    let main = main?;
    Some(match archive {
        Some(delete) => format!("Webhook event: {main} ({delete} when it sets archived to true)."),
        None => format!("Webhook event: {main}."),
    })
}

/// "Required scopes: ... Required permissions: ..." (the reference's wording).
fn access_note(scopes: &[Scope], perms: &[Perm], write: bool) -> String {
    let perms: Vec<&str> = perms.iter().map(|p| p.title()).collect();
    let scopes: Vec<String> = scopes
        .iter()
        .map(|s| match write {
            true => format!("{} (write)", s.as_str()),
            false => s.as_str().to_string(),
        })
        .collect();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let list = |v: Vec<&str>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "Required scopes: {}. Required permissions: {}.",
        list(scopes),
        list(perms)
    )
}

fn operation(res: &Resource, action: &str, summary: String) -> OperationBuilder {
    let is_ext = is_extension(res, action);
    let summary = if is_ext {
        format!("{summary} (chartd extension)")
    } else {
        summary
    };
    let desc = access_note(res.scopes, res.permissions, false);
    let desc = if is_ext {
        format!(
            "{desc} The reference makes this resource read-only (the DrChrono web app writes \
             it); chartd accepts this request as its own extension."
        )
    } else {
        desc
    };
    let desc = match events_note(res, action) {
        Some(note) => format!("{desc} {note}"),
        None => desc,
    };
    let op = OperationBuilder::new()
        .operation_id(Some(format!("{}_{action}", res.path)))
        .summary(Some(summary))
        .description(Some(desc))
        .tag(res.path)
        .securities(Some([security(res)]));
    with_common_errors(if is_ext { extension(op) } else { op })
}

/// The object schema of a list of keys (an action's body or answer).
fn keys_schema(fields: &[Field]) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for f in fields {
        b = b.property(f.name, field_schema(f));
        if f.access == Access::Required {
            b = b.required(f.name);
        }
    }
    Schema::Object(b.build())
}

/// Adds one extra action's operation.
pub fn add_action(paths: &mut Paths, c: &Compiled, a: &Action) {
    let res = c.res;
    let (scopes, perms) = a.needs(c);
    let mut desc = access_note(scopes, perms, a.write);
    if !a.doc.is_empty() {
        desc = format!("{desc} {}", a.doc);
    }
    if matches!(a.run, Run::Write(_)) && res.events.modify.is_some() {
        desc = format!(
            "{desc} Webhook event: {}.",
            res.events.modify.unwrap_or_default()
        );
    }
    let summary = if a.extension {
        format!("{} (chartd extension)", a.summary)
    } else {
        a.summary.to_string()
    };
    let mut op = OperationBuilder::new()
        .operation_id(Some(format!("{}_{}", res.path, a.name)))
        .summary(Some(summary))
        .description(Some(desc))
        .tag(res.path)
        .securities(Some([SecurityRequirement::new(
            "bearer",
            scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        )]));
    if a.has_id() {
        op = op.parameter(path_id("id")).response(
            "404",
            response("No such object in your practice group.", Some(errors_ref())),
        );
    }
    for f in a.query {
        let p = ParameterBuilder::new()
            .name(f.name)
            .parameter_in(ParameterIn::Query)
            .required(if f.access == Access::Required {
                Required::True
            } else {
                Required::False
            })
            .schema(Some(kind_schema(f.kind)))
            .description((!f.doc.is_empty()).then_some(f.doc));
        op = op.parameter(p);
    }
    if !a.body.is_empty() {
        let schema: RefOr<Schema> = keys_schema(a.body).into();
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", content(schema.clone()))
                .content("application/x-www-form-urlencoded", content(schema))
                .required(Some(Required::True))
                .build(),
        ));
    }
    if !a.body.is_empty() || !a.query.is_empty() {
        op = op.response("400", response("Field errors.", Some(errors_ref())));
    }
    let answer_doc = |default: String| match a.answer_doc {
        "" => default,
        doc => doc.to_string(),
    };
    op = match a.answer {
        Answer::Object => op.response(
            "200",
            response(
                &answer_doc(format!("The {} (verbose).", res.name)),
                Some(Ref::from_schema_name(res.name).into()),
            ),
        ),
        Answer::Keys(keys) => op.response(
            "200",
            response(
                &answer_doc(a.summary.to_string()),
                Some(keys_schema(keys).into()),
            ),
        ),
        Answer::Redirect(desc) => {
            op.response("302", ResponseBuilder::new().description(desc).build())
        }
        Answer::Parts(parts) => {
            let mut b = ty(Type::Object);
            for (key, schema, many) in parts {
                let one = Ref::from_schema_name(*schema);
                b = if *many {
                    b.property(*key, ArrayBuilder::new().items(one))
                } else {
                    b.property(*key, one)
                }
                .required(*key);
            }
            let status = if matches!(a.run, Run::Create(_)) {
                "201"
            } else {
                "200"
            };
            op.response(
                status,
                response(&answer_doc(a.summary.to_string()), Some(b.build().into())),
            )
        }
    };
    for (status, doc) in a.responses {
        op = op.response(*status, response(doc, Some(errors_ref())));
    }
    let op = with_common_errors(if a.extension { extension(op) } else { op });
    let method = match a.method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Patch => HttpMethod::Patch,
    };
    paths.add_path_operation(
        format!("/api/{}{}", res.path, a.path),
        vec![method],
        op.build(),
    );
}

fn body_of(schema: RefOr<Schema>, many: bool) -> utoipa::openapi::request_body::RequestBody {
    let json: RefOr<Schema> = if many {
        Schema::OneOf(
            utoipa::openapi::schema::OneOfBuilder::new()
                .item(schema.clone())
                .item(ArrayBuilder::new().items(schema.clone()))
                .build(),
        )
        .into()
    } else {
        schema.clone()
    };
    RequestBodyBuilder::new()
        .content("application/json", content(json))
        .content("application/x-www-form-urlencoded", content(schema.clone()))
        .content("multipart/form-data", content(schema))
        .required(Some(Required::True))
        .build()
}

/// Adds `GET /api/{path}`: a paginated list narrowed by the resource's filters. Resources
/// that answer their list themselves (from an extra route) describe it with this too.
pub fn add_list(paths: &mut Paths, res: &'static Resource, summary: &str) {
    let schema: RefOr<Schema> = Ref::from_schema_name(res.name).into();
    let coll = format!("/api/{}", res.path);
    let verbose_param = || {
        query(
            "verbose",
            ty(Type::Boolean),
            "Include the keys marked verbose-only (smaller pages).",
        )
    };
    let mut params = vec![
        query("page", ty(Type::Integer), "Page number (1-based)."),
        query(
            "page_size",
            ty(Type::Integer),
            &format!(
                "Page size; default {}, at most {} ({} and {} with verbose=true).",
                res.page_size.0, res.page_size.1, res.verbose_page_size.0, res.verbose_page_size.1
            ),
        ),
        query(
            "after",
            ty(Type::Integer),
            "Keyset cursor: objects with a larger id (set in `next` links).",
        ),
        query(
            "before",
            ty(Type::Integer),
            "Keyset cursor: objects with a smaller id (set in `previous` links).",
        ),
        verbose_param(),
    ];
    if res.hide_archived {
        params.push(query(
            "show_archived",
            ty(Type::Boolean),
            "Include archived objects.",
        ));
    }
    params.extend(res.filters.iter().map(filter_param));
    let op = operation(res, "list", summary.to_string())
        .parameters(Some(params))
        .response(
            "200",
            response("A page of objects.", Some(page_of(schema.clone()))),
        )
        .response(
            "400",
            response("A malformed filter value.", Some(errors_ref())),
        );
    paths.add_path_operation(&coll, vec![HttpMethod::Get], op.build());
}

/// Adds the paths of one resource.
pub fn add_resource(paths: &mut Paths, c: &Compiled) {
    let res = c.res;
    let schema: RefOr<Schema> = Ref::from_schema_name(res.name).into();
    let coll = format!("/api/{}", res.path);
    let item = format!("/api/{}/{{id}}", res.path);
    let v = res.verbs;
    let verbose_param = || {
        query(
            "verbose",
            ty(Type::Boolean),
            "Include the keys marked verbose-only (smaller pages).",
        )
    };
    if v.list {
        add_list(paths, res, &format!("List {}", res.path));
    }
    if v.create {
        let op = operation(
            res,
            "create",
            format!("Create one {} (or a JSON list, all or none)", res.name),
        )
        .request_body(Some(body_of(schema.clone(), true)))
        .response(
            "201",
            response("The created object (or list).", Some(schema.clone())),
        )
        .response(
            "400",
            response(
                "Field errors (a list of them for a bulk create).",
                Some(errors_ref()),
            ),
        );
        paths.add_path_operation(&coll, vec![HttpMethod::Post], op.build());
    }
    let item_op =
        |action: &str, summary: String| operation(res, action, summary).parameter(path_id("id"));
    if v.retrieve {
        let op = item_op("retrieve", format!("Retrieve one {}", res.name))
            .parameter(verbose_param())
            .response("200", response("The object.", Some(schema.clone())))
            .response(
                "404",
                response("No such object in your practice group.", Some(errors_ref())),
            );
        paths.add_path_operation(&item, vec![HttpMethod::Get], op.build());
    }
    let write_op = |op: OperationBuilder| -> Operation {
        op.response("204", response("Done.", None))
            .response("400", response("Field errors.", Some(errors_ref())))
            .response(
                "404",
                response("No such object in your practice group.", Some(errors_ref())),
            )
            .build()
    };
    if v.update {
        let op = item_op("update", format!("Replace one {}", res.name))
            .request_body(Some(body_of(schema.clone(), false)));
        paths.add_path_operation(&item, vec![HttpMethod::Put], write_op(op));
    }
    if v.partial_update {
        let op = item_op(
            "partial_update",
            format!("Change some keys of one {}", res.name),
        )
        .request_body(Some(body_of(schema.clone(), false)));
        paths.add_path_operation(&item, vec![HttpMethod::Patch], write_op(op));
    }
    if v.destroy {
        let summary = if res.soft_delete {
            format!("Archive one {}", res.name)
        } else {
            format!("Delete one {}", res.name)
        };
        paths.add_path_operation(
            &item,
            vec![HttpMethod::Delete],
            write_op(item_op("destroy", summary)),
        );
    }
    for a in res.actions {
        add_action(paths, c, a);
    }
    res.hooks.extra_openapi(res, paths);
}
