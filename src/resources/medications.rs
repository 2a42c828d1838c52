//! /api/medications: patients' medications ("Medications"), GET, POST, PUT, PATCH, and
//! PATCH /api/medications/{id}/append_to_pharmacy_note {"text"}, which appends the text to
//! pharmacy_note as a new paragraph and answers {"pharmacy_note": the new text}.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::audit::{self, AuditEntry};
use crate::api::auth::{check_access, Perm, Scope, ShareSetting};
use crate::api::body;
use crate::api::compiled::Compiled;
use crate::api::openapi::Paths;
use crate::api::resource::{
    Change, Events, Field, Filter, Hooks, Kind, Record, Resource, Sharing, Verbs,
};
use crate::api::Ctx;
use crate::db::{Sql, Ty, Val};
use crate::error::ApiError;

pub const ORDER_STATUSES: &[&str] = &[
    "",
    "Ordered",
    "Administered during visit",
    "Electronic eRx Sent",
    "Phoned into Pharmacy",
    "Faxed to Pharmacy",
    "Paper Rx",
    "Prescription Printed",
    "Discontinued",
    "Prescribed by other Dr",
    "Over the Counter",
];
pub const STATUSES: &[&str] = &["active", "inactive"];

pub static RESOURCE: Resource = Resource {
    path: "medications",
    name: "Medication",
    doc: "Medications of patients owned by doctors in the caller's practice group.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    hide_archived: false,
    audited: true,
    fields: &[
        Field::boolean("daw")
            .doc("The prescription should be dispensed as written and not substituted."),
        Field::reference("doctor", "doctors")
            .required()
            .doc("Prescribing doctor."),
        Field::id(),
        Field::string("name"),
        Field::reference("patient", "patients").required(),
        Field::boolean("prn").doc("The medication should be taken when necessary."),
        Field::reference("appointment", "appointments")
            .nullable()
            .doc("The appointment of the initial prescription."),
        Field::date("date_prescribed").nullable(),
        Field::date("date_started_taking").nullable(),
        Field::date("date_stopped_taking").nullable(),
        Field::decimal("dispense_quantity").nullable(),
        Field::string("dosage_quantity")
            .doc("Formerly a decimal; a decimal value or a formatted string."),
        Field::string("dosage_units"),
        Field::string("ndc").doc("National Drug Code; its correctness is the caller's."),
        Field::string("notes").doc("Any additional notes from the provider."),
        Field::string("frequency").doc("Frequency of administration."),
        Field::string("indication"),
        Field::int("number_refills").nullable(),
        Field::choice("order_status", ORDER_STATUSES).doc("Default \"\"."),
        Field::string("pharmacy_note"),
        Field::string("route").doc("Route of administration."),
        Field::string("rxnorm").doc("RxNorm code for the medication."),
        Field::string("signature_note"),
        Field::choice("status", STATUSES).doc("Default \"active\"."),
    ],
    filters: &[Filter::eq("patient", Kind::Int)],
    hooks: &MedicationHooks,
    events: Events::create_modify("PATIENT_MEDICATION_CREATE", "PATIENT_MEDICATION_MODIFY"),
    ..Resource::DEFAULT
};

struct MedicationHooks;

impl Hooks for MedicationHooks {
    fn extra_routes(&self, c: &'static Compiled, cfg: &mut web::ServiceConfig) {
        cfg.service(
            web::resource("/{id:\\d+}/append_to_pharmacy_note")
                .route(web::patch().to(
                    move |ctx: Ctx, req: HttpRequest, p: web::Payload, id: web::Path<i64>| {
                        append_to_pharmacy_note(c, ctx, req, p, id.into_inner())
                    },
                ))
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::MethodNotAllowed)
                })),
        );
    }

    fn extra_openapi(&self, res: &'static Resource, paths: &mut Paths) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
        let text = || {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("text", ObjectBuilder::new().schema_type(Type::String))
                .required("text")
        };
        let answer = ObjectBuilder::new().schema_type(Type::Object).property(
            "pharmacy_note",
            ObjectBuilder::new().schema_type(Type::String),
        );
        let op = crate::api::openapi::with_common_errors(
            OperationBuilder::new()
                .operation_id(Some("medications_append_to_pharmacy_note"))
                .summary(Some(
                    "Append a message to pharmacy_note, in a new paragraph; answers the new text",
                ))
                .description(Some(
                    "Required scopes: clinical. Required permissions: Access Clinical Notes.",
                ))
                .tag(res.path)
                .parameter(
                    ParameterBuilder::new()
                        .name("id")
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer))),
                )
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(text())).build(),
                        )
                        .content(
                            "application/x-www-form-urlencoded",
                            ContentBuilder::new().schema(Some(text())).build(),
                        )
                        .build(),
                ))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The new pharmacy_note.")
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(answer)).build(),
                        )
                        .build(),
                )
                .response(
                    "400",
                    ResponseBuilder::new()
                        .description("No text.")
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Error")))
                                .build(),
                        )
                        .build(),
                ),
        );
        paths.add_path_operation(
            "/api/medications/{id}/append_to_pharmacy_note",
            vec![HttpMethod::Patch],
            op.build(),
        );
    }
}

/// PATCH /api/medications/{id}/append_to_pharmacy_note {"text"}.
async fn append_to_pharmacy_note(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
    payload: web::Payload,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    check_access(&ctx.user, c.res.scopes, c.res.permissions, true)?;
    let obj = body::read(&req, payload).await?.one()?;
    let text = match obj.get("text") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err(ApiError::field("text", "This field may not be blank."))
        }
        Some(_) => return Err(ApiError::field("text", "Not a valid string.")),
        None => return Err(ApiError::field("text", "This field is required.")),
    };
    let db = ctx.state.db.clone();
    let note = db
        .write(move |conn| {
            let mut sql = Sql::new("SELECT t.pharmacy_note FROM medications t");
            c.scope(&ctx, &mut sql);
            sql.push(" AND t.id = ?", [Val::from(id)]);
            let row = sql.load_one(conn, &[Ty::Text])?.ok_or(ApiError::NotFound)?;
            let old = row[0].as_str().unwrap_or("");
            let note = if old.trim().is_empty() {
                text
            } else {
                format!("{}\n\n{text}", old.trim_end())
            };
            let mut rec = Record::default();
            rec.set("pharmacy_note", Val::from(note.clone()));
            c.update_row(conn, id, &rec)?;
            crate::api::events::raise_change(conn, &ctx, c, Change::Modify, id)?;
            audit::insert(
                conn,
                &[AuditEntry::new(
                    &ctx,
                    "append_to_pharmacy_note",
                    c.res.path,
                    Some(id),
                    None,
                )],
            )?;
            Ok(note)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "pharmacy_note": note })))
}
