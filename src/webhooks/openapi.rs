//! The webhooks management API in the OpenAPI document (`api::openapi::document` calls
//! [`add`]), and the deliveries themselves as the document's `webhooks` (OpenAPI 3.1): what a
//! receiver gets, with its headers.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, Paths,
};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ComponentsBuilder, Required};

use super::{EVENTS, PING};
use crate::api::openapi_kit::{
    boolean, extension, integer, json_body, nullable, page_of, param, path_id, query, response,
    schema_ref, string,
};

fn header(name: &str, doc: &str) -> utoipa::openapi::path::Parameter {
    param(name, ParameterIn::Header, true, string(), doc)
}

fn events_schema() -> ArrayBuilder {
    ArrayBuilder::new().items(string().enum_values(Some(EVENTS.iter().copied())))
}

/// An operation of the management API: HTTP Basic as the app, and its common errors.
fn op(id: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(description))
        .tag("webhooks")
        .securities(Some([SecurityRequirement::new(
            "client_basic",
            Vec::<String>::new(),
        )]))
        .response(
            "401",
            response(
                "Missing or wrong client credentials (WWW-Authenticate: Basic).",
                Some(schema_ref("Error")),
            ),
        )
        .response(
            "429",
            response(
                "The app's hourly rate limit is reached.",
                Some(schema_ref("Error")),
            ),
        )
}

fn not_found(op: OperationBuilder) -> OperationBuilder {
    op.response(
        "404",
        response("No such webhook of your app.", Some(schema_ref("Error"))),
    )
}

fn page_params() -> Vec<utoipa::openapi::path::Parameter> {
    vec![
        query("page", integer(), "Page number (1-based)."),
        query("page_size", integer(), "Page size."),
        query("after", integer(), "Keyset cursor (set in `next` links)."),
        query(
            "before",
            integer(),
            "Keyset cursor (set in `previous` links).",
        ),
    ]
}

const AUTH: &str = "Authenticated as the app that owns the webhooks: HTTP Basic with its \
                    client_id and client_secret. Counts against the app's hourly limit.";

/// Adds the paths and schemas of /api/webhooks.
pub fn add(paths: &mut Paths, components: ComponentsBuilder) -> ComponentsBuilder {
    let webhook = schema_ref("Webhook");
    let delivery = schema_ref("WebhookDelivery");
    paths.add_path_operation(
        "/api/webhooks",
        vec![HttpMethod::Get],
        op("webhooks_list", "List your app's webhooks", AUTH)
            .parameters(Some(page_params()))
            .response(
                "200",
                response("A page of webhooks.", Some(page_of(webhook.clone()))),
            )
            .build(),
    );
    paths.add_path_operation(
        "/api/webhooks",
        vec![HttpMethod::Post],
        op(
            "webhooks_create",
            "Create a webhook",
            &format!(
                "{AUTH} The webhook starts unverified: it receives nothing until POST \
                 /api/webhooks/{{id}}/verify succeeds. callback_url must be http(s) and, unless \
                 the server allows private addresses, resolve to public addresses only. \
                 secret_token must have at least {} characters and look random.",
                super::input::MIN_SECRET
            ),
        )
        .request_body(Some(json_body(webhook.clone())))
        .response("201", response("The webhook.", Some(webhook.clone())))
        .response("400", response("Field errors.", Some(schema_ref("Error"))))
        .build(),
    );
    let item = "/api/webhooks/{id}";
    paths.add_path_operation(
        item,
        vec![HttpMethod::Get],
        not_found(op("webhooks_retrieve", "Retrieve a webhook", AUTH))
            .parameter(path_id("id"))
            .response("200", response("The webhook.", Some(webhook.clone())))
            .build(),
    );
    paths.add_path_operation(
        item,
        vec![HttpMethod::Patch],
        not_found(op(
            "webhooks_partial_update",
            "Change some keys of a webhook",
            &format!(
                "{AUTH} A new callback_url makes the webhook unverified until verified again."
            ),
        ))
        .parameter(path_id("id"))
        .request_body(Some(json_body(webhook.clone())))
        .response("204", response("Done.", None))
        .response("400", response("Field errors.", Some(schema_ref("Error"))))
        .build(),
    );
    paths.add_path_operation(
        item,
        vec![HttpMethod::Delete],
        not_found(op(
            "webhooks_destroy",
            "Delete a webhook",
            &format!("{AUTH} Its deliveries, sent or not, are deleted with it."),
        ))
        .parameter(path_id("id"))
        .response("204", response("Done.", None))
        .build(),
    );
    paths.add_path_operation(
        "/api/webhooks/{id}/verify",
        vec![HttpMethod::Post],
        not_found(op(
            "webhooks_verify",
            "Verify a webhook's callback URL",
            &format!(
                "{AUTH} The server sends GET callback_url?msg=RANDOM and expects 200 JSON \
                 {{\"secret_token\": hex(HMAC-SHA256(key=secret_token, msg))}}. Answers whether \
                 it matched (and why not); the webhook's `verified` follows."
            ),
        ))
        .parameter(path_id("id"))
        .response(
            "200",
            response("The outcome.", Some(schema_ref("WebhookVerification"))),
        )
        .build(),
    );
    paths.add_path_operation(
        "/api/webhooks/{id}/ping",
        vec![HttpMethod::Post],
        not_found(op(
            "webhooks_ping",
            "Send a PING delivery",
            &format!("{AUTH} Queues a delivery with event PING and an empty object."),
        ))
        .parameter(path_id("id"))
        .response(
            "202",
            response("The queued delivery.", Some(delivery.clone())),
        )
        .response(
            "400",
            response("The webhook is not verified.", Some(schema_ref("Error"))),
        )
        .build(),
    );
    paths.add_path_operation(
        "/api/webhooks/{id}/summary",
        vec![HttpMethod::Get],
        extension(not_found(op(
            "webhooks_summary",
            "Delivery totals of a webhook (chartd extension)",
            AUTH,
        )))
        .parameter(path_id("id"))
        .response(
            "200",
            response("The totals.", Some(schema_ref("WebhookSummary"))),
        )
        .build(),
    );
    let mut params = page_params();
    params.push(query(
        "status",
        string().enum_values(Some(["pending", "delivered", "failed"])),
        "Only deliveries in this state.",
    ));
    params.push(query(
        "event",
        string().enum_values(Some(EVENTS.iter().copied().chain([PING]))),
        "Only deliveries of this event.",
    ));
    paths.add_path_operation(
        "/api/webhooks/{id}/deliveries",
        vec![HttpMethod::Get],
        not_found(op(
            "webhooks_deliveries",
            "List a webhook's deliveries",
            &format!("{AUTH} Oldest first, like every list; `status` and `event` narrow it (chartd extension)."),
        ))
        .parameter(path_id("id"))
        .parameters(Some(params))
        .response("200", response("A page of deliveries.", Some(page_of(delivery.clone()))))
        .response("400", response("A malformed filter value.", Some(schema_ref("Error"))))
        .build(),
    );
    paths.add_path_operation(
        "/api/webhooks/{id}/deliveries/{delivery_id}",
        vec![HttpMethod::Get],
        extension(not_found(op(
            "webhooks_delivery",
            "Retrieve one delivery (chartd extension)",
            AUTH,
        )))
        .parameter(path_id("id"))
        .parameter(path_id("delivery_id"))
        .response("200", response("The delivery.", Some(delivery.clone())))
        .build(),
    );
    paths.add_path_operation(
        "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        vec![HttpMethod::Post],
        not_found(op(
            "webhooks_redeliver",
            "Redeliver a delivery",
            &format!(
                "{AUTH} Any delivery, failed or not: it starts over, an attempt now and then \
                 the retry schedule from now."
            ),
        ))
        .parameter(path_id("id"))
        .parameter(path_id("delivery_id"))
        .response("202", response("The delivery, pending.", Some(delivery)))
        .response(
            "400",
            response("The webhook is not verified.", Some(schema_ref("Error"))),
        )
        .response(
            "409",
            response(
                "An attempt is in flight right now.",
                Some(schema_ref("Error")),
            ),
        )
        .build(),
    );

    let timestamp = || nullable(Type::String).examples(["2014-02-24T15:32:19"]);
    components
        .schema(
            "Webhook",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("A webhook of the calling app."))
                .property("id", integer().read_only(Some(true)))
                .property(
                    "url",
                    string().read_only(Some(true)).description(Some(
                        "This webhook in the management API (under CHARTD_PUBLIC_URL).",
                    )),
                )
                .property(
                    "callback_url",
                    string().description(Some("Where deliveries are POSTed (http or https).")),
                )
                .property(
                    "secret_token",
                    string().write_only(Some(true)).description(Some(
                        "Keys the signatures and the handshake. At least 32 random characters \
                         (e.g. `openssl rand -hex 20`); never answered.",
                    )),
                )
                .property(
                    "events",
                    events_schema().description(Some("The events delivered.")),
                )
                .property(
                    "active",
                    boolean().description(Some(
                        "Default true; an inactive webhook gets no new events.",
                    )),
                )
                .property(
                    "verified",
                    boolean()
                        .read_only(Some(true))
                        .description(Some("The handshake succeeded for this callback_url.")),
                )
                .required("callback_url")
                .required("secret_token")
                .required("events"),
        )
        .schema(
            "WebhookAttempt",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("at", timestamp())
                .property(
                    "status_code",
                    nullable(Type::Integer)
                        .description(Some("The answer's status; null when there was none.")),
                )
                .property(
                    "error",
                    nullable(Type::String).description(Some(
                        "Why the attempt failed; null when it succeeded (any 2xx).",
                    )),
                )
                .property("duration_ms", integer()),
        )
        .schema(
            "WebhookDelivery",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "id",
                    integer().description(Some("Also the X-drchrono-delivery header.")),
                )
                .property("event", string())
                .property(
                    "status",
                    string().enum_values(Some(["pending", "delivered", "failed"])),
                )
                .property(
                    "attempts",
                    ArrayBuilder::new().items(schema_ref("WebhookAttempt")),
                )
                .property(
                    "next_attempt_at",
                    timestamp().description(Some(
                        "When the next attempt is due; null once delivered or failed.",
                    )),
                )
                .property("created_at", timestamp()),
        )
        .schema(
            "WebhookVerification",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("verified", boolean())
                .property("status_code", nullable(Type::Integer))
                .property("error", nullable(Type::String)),
        )
        .schema(
            "WebhookSummary",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("webhook", integer())
                .property("total", integer())
                .property("pending", integer())
                .property("delivered", integer())
                .property("failed", integer())
                .property(
                    "success_rate",
                    nullable(Type::Number).description(Some(
                        "Percent of finished (delivered or failed) deliveries that were delivered.",
                    )),
                )
                .property("last_success_at", timestamp())
                .property(
                    "last_failure_at",
                    timestamp().description(Some("The latest failed attempt.")),
                ),
        )
        .schema(
            "WebhookPayload",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("receiver", schema_ref("Webhook"))
                .property(
                    "object",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .description(Some(
                        "The object exactly as GET /api/{resource}/{id} answers it (not verbose) \
                         when the event happened: a patient, appointment, problem, allergy, \
                         medication, clinical note or task; {} for PING.",
                    )),
                )
                .required("receiver")
                .required("object"),
        )
}

/// The document's `webhooks`: the delivery a receiver gets, and the handshake.
pub fn outgoing() -> serde_json::Value {
    let delivery = OperationBuilder::new()
        .operation_id(Some("webhook_delivery"))
        .summary(Some("A delivery, POSTed to the webhook's callback_url"))
        .description(Some(
            "Sent when a subscribed event happens, then again 1 h, 3 h and 7 h after it \
             (CHARTD_WEBHOOK_RETRY_SCHEDULE) until a 2xx answer; anything else (3xx included: \
             redirects are not followed), a timeout or a connection error is a failed attempt. \
             After the last, the delivery is `failed` until redelivered. Delivery is at least \
             once: dedupe on webhook-id. Verify X-drchrono-signature (hex HMAC-SHA256 of the raw \
             body, keyed with the secret token) or the Standard Webhooks headers (key: the secret \
             token's UTF-8 bytes, i.e. secret `whsec_` + base64(secret_token)).",
        ))
        .tag("webhooks")
        .parameters(Some([
            header("X-drchrono-event", "The event, or PING."),
            header("X-drchrono-delivery", "The delivery's id."),
            header(
                "X-drchrono-signature",
                "hex(HMAC-SHA256(key=secret_token, raw body)).",
            ),
            header(
                "webhook-id",
                "Standard Webhooks message id: the same on every attempt of a delivery.",
            ),
            header("webhook-timestamp", "Unix time of the attempt."),
            header(
                "webhook-signature",
                "\"v1,\" + base64(HMAC-SHA256(key=secret_token, \"{webhook-id}.{webhook-timestamp}.{body}\")).",
            ),
        ]))
        .request_body(Some(json_body(schema_ref("WebhookPayload"))))
        .response("2XX", response("Delivered.", None))
        .build();
    let handshake = OperationBuilder::new()
        .operation_id(Some("webhook_verification"))
        .summary(Some("The verification handshake, GET callback_url?msg=..."))
        .tag("webhooks")
        .parameter(
            ParameterBuilder::new()
                .name("msg")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .schema(Some(string()))
                .description(Some("A random string to sign.")),
        )
        .response(
            "200",
            response(
                "Verified when secret_token is hex(HMAC-SHA256(key=secret_token, msg)).",
                Some(
                    Schema::Object(
                        ObjectBuilder::new()
                            .schema_type(Type::Object)
                            .property("secret_token", string())
                            .required("secret_token")
                            .build(),
                    )
                    .into(),
                ),
            ),
        )
        .build();
    serde_json::json!({
        "delivery": PathItem::new(HttpMethod::Post, delivery),
        "verification": PathItem::new(HttpMethod::Get, handshake),
    })
}
