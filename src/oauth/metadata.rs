//! GET /.well-known/oauth-authorization-server: authorization server metadata (RFC 8414),
//! with absolute URLs under CHARTD_PUBLIC_URL.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::auth::Scope;
use crate::state::AppState;

/// The metadata document.
pub fn document(base: &str) -> serde_json::Value {
    let mut scopes = Vec::new();
    for s in Scope::ALL {
        let s = s.as_str();
        scopes.extend([s.to_string(), format!("{s}:read"), format!("{s}:write")]);
    }
    let auth_methods = json!(["client_secret_basic", "client_secret_post"]);
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/o/authorize"),
        "token_endpoint": format!("{base}/o/token/"),
        "revocation_endpoint": format!("{base}/o/revoke_token/"),
        "introspection_endpoint": format!("{base}/o/introspect/"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/openapi.json"),
    })
}

/// GET /.well-known/oauth-authorization-server.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(document(&state.base_url))
}
