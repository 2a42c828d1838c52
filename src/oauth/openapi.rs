//! The OAuth and iframe endpoints in the OpenAPI document (`api::openapi::document` calls
//! [`add`]): they are not resources, so they are described here by hand.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, RefOr, Required};

use crate::api::auth::Scope;
use crate::api::openapi_kit::{self as kit, integer, param, response_as, schema_ref, string};

fn query(
    name: &str,
    required: bool,
    schema: ObjectBuilder,
    doc: &str,
) -> utoipa::openapi::path::Parameter {
    param(name, ParameterIn::Query, required, schema, doc)
}

fn response(desc: &str, content: Option<(&str, RefOr<Schema>)>) -> utoipa::openapi::Response {
    match content {
        Some((ctype, schema)) => response_as(desc, ctype, schema),
        None => kit::response(desc, None),
    }
}

fn json(name: &str) -> Option<(&'static str, RefOr<Schema>)> {
    Some(("application/json", schema_ref(name)))
}

fn html() -> Option<(&'static str, RefOr<Schema>)> {
    Some(("text/html", Schema::Object(string().build()).into()))
}

/// A form body with these (name, required, doc) fields.
fn form(fields: &[(&str, bool, &str)]) -> utoipa::openapi::request_body::RequestBody {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for (name, required, doc) in fields {
        b = b.property(*name, string().description(Some(*doc)));
        if *required {
            b = b.required(*name);
        }
    }
    RequestBodyBuilder::new()
        .content(
            "application/x-www-form-urlencoded",
            ContentBuilder::new().schema(Some(b.build())).build(),
        )
        .required(Some(Required::True))
        .build()
}

const AUTH_REQUEST: [(&str, bool, &str); 7] = [
    ("response_type", true, "code"),
    ("client_id", true, "The application's client_id."),
    (
        "redirect_uri",
        true,
        "Exactly one of the application's registered redirect URIs.",
    ),
    (
        "scope",
        false,
        "Space-separated scopes (NAME, NAME:read, NAME:write); every scope when absent.",
    ),
    (
        "state",
        false,
        "Returned unchanged with the code or the error.",
    ),
    (
        "code_challenge",
        false,
        "PKCE: base64url(SHA-256(code_verifier)); the token request must then send code_verifier.",
    ),
    ("code_challenge_method", false, "S256 (plain is refused)."),
];

fn client_auth() -> [SecurityRequirement; 2] {
    [
        SecurityRequirement::new("client_basic", Vec::<String>::new()),
        SecurityRequirement::default(),
    ]
}

const CLIENT_FIELDS: [(&str, bool, &str); 2] = [
    (
        "client_id",
        false,
        "With client_secret, unless the client authenticates with HTTP Basic.",
    ),
    ("client_secret", false, "See client_id."),
];

fn oauth_errors(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "400",
        response(
            "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type (and a JSON \
             body, which is refused).",
            json("OAuthError"),
        ),
    )
    .response(
        "401",
        response(
            "invalid_client: unknown client or wrong secret.",
            json("OAuthError"),
        ),
    )
    .response(
        "429",
        response(
            "Too many failed client authentications or invalid grants of this client (or any) \
             from this address; see Retry-After. Valid requests are never counted.",
            json("OAuthError"),
        ),
    )
}

/// Adds the /o/ paths, /.well-known/oauth-authorization-server and the iframe paths, with
/// their schemas and security schemes.
pub fn add(paths: &mut Paths, components: ComponentsBuilder) -> ComponentsBuilder {
    let tag = "oauth";
    let authorize_get = OperationBuilder::new()
        .operation_id(Some("oauth_authorize"))
        .summary(Some(
            "Authorization endpoint: the login and consent pages (HTML)",
        ))
        .description(Some(
            "Send the user's browser here. Without a session it shows a login form (username, \
             password), then a consent form naming the application and the scopes. Authorize \
             redirects (302) to redirect_uri?code=...&state=...&iss=...; Deny to \
             redirect_uri?error=access_denied&state=.... An unknown client_id or a redirect_uri \
             that is not registered gets an error page, never a redirect; other errors \
             (invalid_scope, invalid_request, unsupported_response_type) redirect with error \
             and state. Codes live CHARTD_AUTH_CODE_TTL seconds (60) and work once.",
        ))
        .tag(tag)
        .parameters(Some(
            AUTH_REQUEST
                .iter()
                .map(|(n, r, d)| query(n, *r, string(), d))
                .collect::<Vec<_>>(),
        ))
        .response("200", response("The login or the consent page.", html()))
        .response(
            "302",
            response("To redirect_uri with the error and state.", None),
        )
        .response(
            "400",
            response("Unknown client or unregistered redirect_uri.", html()),
        );
    paths.add_path_operation("/o/authorize", vec![HttpMethod::Get], authorize_get.build());

    let mut consent_fields = vec![
        ("csrf_token", true, "The token of the consent form."),
        (
            "allow",
            false,
            "Present (the Authorize button): issue a code.",
        ),
        ("deny", false, "The Deny button: answer access_denied."),
    ];
    consent_fields.extend(AUTH_REQUEST);
    let consent = OperationBuilder::new()
        .operation_id(Some("oauth_consent"))
        .summary(Some("The consent form's answer (posted by the page)"))
        .tag(tag)
        .request_body(Some(form(&consent_fields)))
        .response(
            "302",
            response(
                "To redirect_uri with code and state, or error=access_denied and state.",
                None,
            ),
        )
        .response(
            "403",
            response("The session or the form's CSRF token expired.", html()),
        );
    paths.add_path_operation("/o/authorize", vec![HttpMethod::Post], consent.build());

    let mut login_fields = vec![
        ("username", true, "The chartd username."),
        ("password", true, "The password."),
        ("csrf_token", true, "The token of the login form."),
    ];
    login_fields.extend(AUTH_REQUEST);
    let login = OperationBuilder::new()
        .operation_id(Some("oauth_login"))
        .summary(Some("The login form's answer (posted by the page)"))
        .description(Some(
            "A wrong username or password answers the form again with one message for both. \
             Only wrong passwords are counted: per account and per client address \
             (CHARTD_LOGIN_FAILURES_PER_ACCOUNT, CHARTD_LOGIN_FAILURES_PER_ADDRESS).",
        ))
        .tag(tag)
        .request_body(Some(form(&login_fields)))
        .response(
            "303",
            response("Signed in: back to /o/authorize for consent.", None),
        )
        .response("200", response("Wrong username or password.", html()))
        .response(
            "403",
            response("The session or the form's CSRF token expired.", html()),
        )
        .response(
            "429",
            response("Too many wrong passwords; see Retry-After.", html()),
        );
    paths.add_path_operation("/o/login", vec![HttpMethod::Post], login.build());

    let mut token_fields = vec![
        ("grant_type", true, "authorization_code or refresh_token."),
        ("code", false, "authorization_code: the code."),
        (
            "redirect_uri",
            false,
            "authorization_code: the redirect_uri of the authorization request.",
        ),
        (
            "code_verifier",
            false,
            "authorization_code: the PKCE verifier, when the request had a code_challenge.",
        ),
        (
            "refresh_token",
            false,
            "refresh_token: the refresh token; it is rotated.",
        ),
        (
            "scope",
            false,
            "refresh_token: narrow the grant (never widen it).",
        ),
    ];
    token_fields.extend(CLIENT_FIELDS);
    let token = oauth_errors(
        OperationBuilder::new()
            .operation_id(Some("oauth_token"))
            .summary(Some("Token endpoint: exchange a code or a refresh token"))
            .description(Some(
                "Form-urlencoded only. The client authenticates with HTTP Basic or client_id + \
                 client_secret in the body. A refresh rotates the refresh token (and ends the old \
                 access token); replaying a rotated refresh token, or a spent code, revokes \
                 every token of that grant. Also at /o/token (no slash).",
            ))
            .tag(tag)
            .securities(Some(client_auth()))
            .request_body(Some(form(&token_fields)))
            .response("200", response("The tokens.", json("TokenResponse"))),
    );
    paths.add_path_operation("/o/token/", vec![HttpMethod::Post], token.build());

    let mut revoke_fields = vec![
        ("token", true, "An access or refresh token."),
        (
            "token_type_hint",
            false,
            "access_token or refresh_token (optional).",
        ),
    ];
    revoke_fields.extend(CLIENT_FIELDS);
    let revoke = oauth_errors(
        OperationBuilder::new()
            .operation_id(Some("oauth_revoke_token"))
            .summary(Some("Revoke a token (RFC 7009)"))
            .description(Some(
                "200 even for an unknown token. Revoking a refresh token revokes its whole grant.",
            ))
            .tag(tag)
            .securities(Some(client_auth()))
            .request_body(Some(form(&revoke_fields)))
            .response("200", response("Revoked (or unknown).", None)),
    );
    paths.add_path_operation("/o/revoke_token/", vec![HttpMethod::Post], revoke.build());

    let introspect = oauth_errors(
        OperationBuilder::new()
            .operation_id(Some("oauth_introspect"))
            .summary(Some("Introspect a token (RFC 7662)"))
            .description(Some(
                "Only tokens issued to the calling client can be active; any other is \
                 {\"active\": false}.",
            ))
            .tag(tag)
            .securities(Some(client_auth()))
            .request_body(Some(form(&revoke_fields)))
            .response("200", response("The token's state.", json("Introspection"))),
    );
    paths.add_path_operation("/o/introspect/", vec![HttpMethod::Post], introspect.build());

    let metadata = OperationBuilder::new()
        .operation_id(Some("oauth_metadata"))
        .summary(Some("Authorization server metadata (RFC 8414)"))
        .tag(tag)
        .response(
            "200",
            response(
                "The metadata.",
                Some((
                    "application/json",
                    Schema::Object(ObjectBuilder::new().schema_type(Type::Object).build()).into(),
                )),
            ),
        );
    paths.add_path_operation(
        "/.well-known/oauth-authorization-server",
        vec![HttpMethod::Get],
        metadata.build(),
    );

    let itag = "iframe_integration";
    let bearer = || [SecurityRequirement::new("bearer", Vec::<String>::new())];
    let common = |op: OperationBuilder| {
        crate::api::openapi::with_common_errors(op.tag(itag).securities(Some(bearer())))
    };
    let enable = common(
        OperationBuilder::new()
            .operation_id(Some("iframe_integration_enable"))
            .summary(Some("Enable the app's iframes for the authorizing doctor"))
            .description(Some("No body. Required scopes: none."))
            .response("201", response("Enabled.", json("IframeIntegration")))
            .response(
                "200",
                response("Was already enabled.", json("IframeIntegration")),
            ),
    );
    paths.add_path_operation(
        "/api/iframe_integration",
        vec![HttpMethod::Post],
        enable.build(),
    );
    let disable = common(
        OperationBuilder::new()
            .operation_id(Some("iframe_integration_disable"))
            .summary(Some("Disable the app's iframes for the authorizing doctor"))
            .response("204", response("Disabled.", None)),
    );
    paths.add_path_operation(
        "/api/iframe_integration",
        vec![HttpMethod::Delete],
        disable.build(),
    );
    let launch = common(
        OperationBuilder::new()
            .operation_id(Some("iframe_integration_launch"))
            .summary(Some(
                "The signed iframe URL for a patient or clinical note page",
            ))
            .description(Some(
                "The app's iframe URL for the page with user_id, doctor_id, patient_id, \
                 practice_id, iat (and appointment_id on the clinical note page) appended, plus \
                 jwt: an HS256 JSON Web Token over exactly those parameters (integers as \
                 integers), keyed with the app's client_secret. The app must be enabled for the \
                 doctor.",
            ))
            .parameter(query(
                "page",
                true,
                string().enum_values(Some(["patient", "clinical_note"])),
                "Which page's iframe.",
            ))
            .parameter(query(
                "patient_id",
                false,
                integer(),
                "page=patient: the patient.",
            ))
            .parameter(query(
                "appointment_id",
                false,
                integer(),
                "page=clinical_note: the appointment.",
            ))
            .response("200", response("The URL.", json("IframeLaunch")))
            .response(
                "400",
                response(
                    "A missing or malformed parameter, or no iframe URL for the page.",
                    Some(("application/json", schema_ref("Error"))),
                ),
            )
            .response(
                "404",
                response(
                    "No such patient or appointment in your practice group.",
                    Some(("application/json", schema_ref("Error"))),
                ),
            ),
    );
    paths.add_path_operation(
        "/api/iframe_integration/launch",
        vec![HttpMethod::Get],
        launch.build(),
    );

    let mut scopes = Vec::new();
    for s in Scope::ALL {
        let name = s.as_str();
        scopes.push((name.to_string(), super::pages::describe_scope(name)));
        for suffix in [":read", ":write"] {
            let w = format!("{name}{suffix}");
            scopes.push((w.clone(), super::pages::describe_scope(&w)));
        }
    }
    let prop = |b: ObjectBuilder, name: &str, s: ObjectBuilder| b.property(name, s).required(name);
    let mut token_response = ObjectBuilder::new().schema_type(Type::Object);
    for (name, s) in [
        ("access_token", string()),
        ("token_type", string().enum_values(Some(["Bearer"]))),
        (
            "expires_in",
            integer().description(Some("Seconds; 172800 by default.")),
        ),
        ("refresh_token", string()),
        ("scope", string()),
    ] {
        token_response = prop(token_response, name, s);
    }
    let oauth_error = prop(
        prop(
            ObjectBuilder::new().schema_type(Type::Object),
            "error",
            string(),
        ),
        "error_description",
        string(),
    );
    let mut introspection = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("active", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("active");
    for (name, s) in [
        ("scope", string()),
        ("client_id", string()),
        ("username", string()),
        ("sub", string().description(Some("The user id."))),
        (
            "token_type",
            string().description(Some("Bearer or refresh_token.")),
        ),
        ("exp", integer()),
        ("iat", integer()),
        ("iss", string()),
    ] {
        introspection = introspection.property(name, s);
    }
    components
        .security_scheme(
            "client_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        )
        .security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::AuthorizationCode(
                AuthorizationCode::new(
                    "/o/authorize",
                    "/o/token/",
                    utoipa::openapi::security::Scopes::from_iter(scopes),
                ),
            )])),
        )
        .schema("TokenResponse", token_response)
        .schema("OAuthError", oauth_error)
        .schema("Introspection", introspection)
        .schema(
            "IframeIntegration",
            prop(
                prop(
                    ObjectBuilder::new().schema_type(Type::Object),
                    "doctor",
                    integer(),
                ),
                "enabled",
                ObjectBuilder::new().schema_type(Type::Boolean),
            ),
        )
        .schema(
            "IframeLaunch",
            prop(
                ObjectBuilder::new().schema_type(Type::Object),
                "url",
                string(),
            ),
        )
}
