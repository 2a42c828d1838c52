//! /api/users: the users of the caller's practice group ("Users"), and /api/users/current,
//! which answers 302 to the caller's own /api/users/:id. Read-only through the API;
//! `chartd user create` makes them.

use actix_web::{web, HttpResponse};

use crate::api::openapi::Paths;
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Verbs};
use crate::api::Compiled;
use crate::api::Ctx;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "users",
    name: "User",
    doc: "Users (doctors and staff) in the caller's practice group.",
    verbs: Verbs::READ,
    fields: &[
        Field::id(),
        Field::string("username").read_only(),
        Field::int("doctor")
            .read_only()
            .doc("For staff, their primary physician's ID; for doctors, their own."),
        Field::boolean("is_doctor")
            .read_only()
            .doc("Mutually exclusive with is_staff."),
        Field::boolean("is_staff")
            .read_only()
            .doc("Mutually exclusive with is_doctor."),
        Field::string("plan_type").read_only(),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::object("permissions").read_only().doc(
            "Permission flags: access_billing, show_billing_tab, access_patient_payments, \
             access_clinical_notes, manage_patients, access_scheduling, settings, \
             access_message_center.",
        ),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("username", Kind::Str),
    ],
    hooks: &UserHooks,
    ..Resource::DEFAULT
};

struct UserHooks;

/// GET /api/users/current → 302 to the caller's own user.
async fn current(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    let location = ctx.url(&format!("/api/users/{}", ctx.user.user_id));
    Ok(HttpResponse::Found()
        .insert_header(("Location", location))
        .finish())
}

impl Hooks for UserHooks {
    fn extra_routes(&self, _c: &'static Compiled, cfg: &mut web::ServiceConfig) {
        cfg.route("/current", web::get().to(current));
    }

    fn extra_openapi(&self, _res: &'static Resource, paths: &mut Paths) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder};
        use utoipa::openapi::ResponseBuilder;
        let op = crate::api::openapi::with_common_errors(
            OperationBuilder::new()
                .operation_id(Some("users_current"))
                .summary(Some(
                    "Redirect (302) to the authorizing user's /api/users/:id",
                ))
                .tag("users")
                .response(
                    "302",
                    ResponseBuilder::new()
                        .description("Location: /api/users/:id")
                        .build(),
                ),
        );
        paths.add_path_operation("/api/users/current", vec![HttpMethod::Get], op.build());
    }
}
