//! The webhooks management API in the OpenAPI document.

use utoipa::openapi::path::Paths;
use utoipa::openapi::ComponentsBuilder;

pub fn add(_paths: &mut Paths, components: ComponentsBuilder) -> ComponentsBuilder {
    components
}
