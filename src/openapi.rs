//! The whole OpenAPI 3.1 document: every registered resource (`api::openapi`), the OAuth
//! server, the webhooks management API and the operations endpoints. Served at
//! /openapi.json; `chartd openapi` prints it for openapi/openapi.json, and a test keeps the
//! two identical.

use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, Paths};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, ResponseBuilder,
};

use crate::api::openapi::{add_resource, resource_schema};
use crate::api::registry::Registry;

fn ty(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

fn plain_get(id: &str, summary: &str, content_type: &str, schema: ObjectBuilder) -> Operation {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("operations")
        .response(
            "200",
            ResponseBuilder::new()
                .description(summary)
                .content(
                    content_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build(),
        )
        .build()
}

/// The whole document.
pub fn document(registry: &Registry) -> OpenApi {
    let mut paths = Paths::new();
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .schema(
            "Error",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "Either {\"detail\": message} or, for validation errors, {field: [messages]} \
                 (a list of such objects for a bulk create).",
                )),
        );
    for c in registry.iter() {
        components = components.schema(c.res.name, resource_schema(c.res));
        add_resource(&mut paths, c);
    }
    let components = crate::oauth::openapi::add(&mut paths, components);
    let components = crate::webhooks::openapi::add(&mut paths, components);
    paths.add_path_operation(
        "/healthz",
        vec![HttpMethod::Get],
        plain_get(
            "healthz",
            "The process is alive.",
            "application/json",
            ty(Type::Object),
        ),
    );
    paths.add_path_operation(
        "/readyz",
        vec![HttpMethod::Get],
        plain_get(
            "readyz",
            "The database is reachable.",
            "application/json",
            ty(Type::Object),
        ),
    );
    paths.add_path_operation(
        "/metrics",
        vec![HttpMethod::Get],
        plain_get(
            "metrics",
            "Prometheus metrics.",
            "text/plain",
            ty(Type::String),
        ),
    );
    paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        plain_get(
            "openapi",
            "This document.",
            "application/json",
            ty(Type::Object),
        ),
    );
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("chartd")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "An EHR REST/JSON API in the DrChrono v4 style. Lists are paginated as \
                     {next, previous, results}; errors are {\"detail\"} or {field: [messages]}.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build();
    // OpenAPI 3.1 `webhooks` (which utoipa has no field for): what chartd sends to receivers.
    doc.extensions = Some(
        [("webhooks", crate::webhooks::openapi::outgoing())]
            .into_iter()
            .collect(),
    );
    doc
}

/// The document as served and checked in: pretty JSON with a final newline.
pub fn render(registry: &Registry) -> String {
    let mut s = serde_json::to_string_pretty(&document(registry)).expect("OpenAPI serializes");
    s.push('\n');
    s
}
