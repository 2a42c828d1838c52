//! The small pieces every part of the OpenAPI document is built from — schemas, parameters,
//! bodies, answers, the page envelope — written once for the resources (`api::openapi`), the
//! OAuth endpoints (`oauth::openapi`) and the webhooks API (`webhooks::openapi`).

use utoipa::openapi::content::Content;
use utoipa::openapi::path::{OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder};

pub fn ty(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

pub fn string() -> ObjectBuilder {
    ty(Type::String)
}

pub fn integer() -> ObjectBuilder {
    ty(Type::Integer)
}

pub fn boolean() -> ObjectBuilder {
    ty(Type::Boolean)
}

/// A value of this type or null.
pub fn nullable(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([t, Type::Null]))
}

pub fn schema_ref(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

/// The `Error` schema (`{"detail"}` or field errors).
pub fn errors_ref() -> RefOr<Schema> {
    schema_ref("Error")
}

pub fn content(schema: impl Into<RefOr<Schema>>) -> Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// An answer, with a JSON body when a schema is given.
pub fn response(desc: &str, schema: Option<RefOr<Schema>>) -> Response {
    let mut b = ResponseBuilder::new().description(desc);
    if let Some(s) = schema {
        b = b.content("application/json", content(s));
    }
    b.build()
}

/// An answer with a body of another content type (text/html, ...).
pub fn response_as(desc: &str, content_type: &str, schema: RefOr<Schema>) -> Response {
    ResponseBuilder::new()
        .description(desc)
        .content(content_type, content(schema))
        .build()
}

pub fn param(
    name: &str,
    place: ParameterIn,
    required: bool,
    schema: ObjectBuilder,
    doc: &str,
) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(Some(schema))
        .description((!doc.is_empty()).then_some(doc))
        .build()
}

/// An optional query parameter.
pub fn query(name: &str, schema: ObjectBuilder, doc: &str) -> Parameter {
    param(name, ParameterIn::Query, false, schema, doc)
}

/// An integer path parameter (`{id}`).
pub fn path_id(name: &str) -> Parameter {
    param(name, ParameterIn::Path, true, integer(), "")
}

/// A required JSON body.
pub fn json_body(schema: RefOr<Schema>) -> RequestBody {
    RequestBodyBuilder::new()
        .content("application/json", content(schema))
        .required(Some(Required::True))
        .build()
}

/// Marks an operation as beyond the DrChrono reference.
pub fn extension(op: OperationBuilder) -> OperationBuilder {
    op.extensions(Some(
        utoipa::openapi::extensions::ExtensionsBuilder::new()
            .add("x-chartd-extension", true)
            .build(),
    ))
}

/// The `{"next", "previous", "results"}` envelope of a list of `item`.
pub fn page_of(item: RefOr<Schema>) -> RefOr<Schema> {
    Schema::Object(
        ty(Type::Object)
            .property("next", nullable(Type::String))
            .property("previous", nullable(Type::String))
            .property("results", ArrayBuilder::new().items(item))
            .required("next")
            .required("previous")
            .required("results")
            .build(),
    )
    .into()
}
