//! The iframe integration ("IFrame integration" in the reference, CONTRACT.md):
//!
//! - `POST /api/iframe_integration` enables the calling app for the authorizing doctor (the
//!   token user's doctor: their own record, or a staff user's primary physician): 201 the
//!   first time, 200 when it already was, `{"doctor", "enabled": true}`. No scope is needed.
//!   `DELETE` disables it (204).
//! - `GET /api/iframe_integration/launch?page=patient&patient_id=ID` or
//!   `?page=clinical_note&appointment_id=ID` answers `{"url": "APP_IFRAME_URL?...&jwt=..."}`:
//!   the app's iframe URL for that page with the reference's query parameters (user_id,
//!   doctor_id, patient_id, practice_id, iat, and appointment_id on the clinical note page)
//!   and `jwt`, an HS256 JSON Web Token whose claims are exactly those parameters (integers
//!   as integers), keyed with the UTF-8 bytes of the app's client_secret. The object must be
//!   visible to the caller (404 otherwise) and the app enabled for the doctor (403).
//!   doctor_id is the authorizing doctor on both pages. Each launch is audited as an access
//!   to the patient.

use actix_web::{web, HttpRequest, HttpResponse};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use serde_json::json;

use crate::api::audit::AuditEntry;
use crate::api::auth::ShareSetting;
use crate::api::compiled::now;
use crate::api::Ctx;
use crate::db::{Sql, Val};
use crate::error::ApiError;

use super::App;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) });
    cfg.service(
        web::resource("/api/iframe_integration")
            .route(web::post().to(enable))
            .route(web::delete().to(disable))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/api/iframe_integration/launch")
            .route(web::get().to(launch))
            .default_service(not_allowed()),
    );
}

/// POST /api/iframe_integration.
async fn enable(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    let (app, doctor) = (ctx.user.app_id, ctx.user.doctor_id);
    let created = ctx
        .state
        .db
        .write(move |conn| {
            Ok(Sql::new(
                "INSERT INTO iframe_integrations (app_id, doctor_id, created_at) VALUES (?, ?, ?) \
                 ON CONFLICT (app_id, doctor_id) DO NOTHING",
            )
            .bind(app)
            .bind(doctor)
            .bind(now())
            .execute(conn)?
                > 0)
        })
        .await?;
    let body = json!({"doctor": doctor, "enabled": true});
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// DELETE /api/iframe_integration.
async fn disable(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    let (app, doctor) = (ctx.user.app_id, ctx.user.doctor_id);
    ctx.state
        .db
        .write(move |conn| {
            Sql::new("DELETE FROM iframe_integrations WHERE app_id = ? AND doctor_id = ?")
                .bind(app)
                .bind(doctor)
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed parameters, in the order they are appended to the URL.
#[derive(Debug, Serialize)]
struct Claims {
    user_id: i64,
    doctor_id: i64,
    patient_id: i64,
    practice_id: i64,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    appointment_id: Option<i64>,
}

/// A query parameter as a positive integer, or a 400 naming it.
fn id_param(value: Option<&String>, name: &str) -> Result<i64, ApiError> {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::field(name, "A valid integer is required."))
}

/// GET /api/iframe_integration/launch.
async fn launch(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // As everywhere in the API, a repeated parameter takes its last value.
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let page = query.get("page").map(String::as_str);
    let clinical = match page {
        Some("patient") => false,
        Some("clinical_note") => true,
        _ => {
            return Err(ApiError::field(
                "page",
                "Must be \"patient\" or \"clinical_note\".",
            ))
        }
    };
    let target = if clinical {
        id_param(query.get("appointment_id"), "appointment_id")?
    } else {
        id_param(query.get("patient_id"), "patient_id")?
    };
    let (app_id, doctor) = (ctx.user.app_id, ctx.user.doctor_id);
    let practice = ctx.practice_group();
    // The appointment's doctor must be the caller's own when patients are not shared, as
    // for the patient (the reference's rule for /api/appointments).
    let own_doctor_only = !ctx.user.shares(ShareSetting::Patients);
    let mut visible_patient = Sql::new("SELECT t.id FROM patients t");
    ctx.compiled(&crate::resources::patients::RESOURCE)
        .scope(&ctx, &mut visible_patient);
    let (app, patient) = ctx
        .state
        .db
        .run(move |conn| {
            let app = App::by_id(conn, app_id)?.ok_or(ApiError::NotFound)?;
            let enabled = Sql::new(
                "SELECT id FROM iframe_integrations WHERE app_id = ? AND doctor_id = ?",
            )
            .bind(app_id)
            .bind(doctor)
            .load_i64(conn)?;
            if enabled.is_none() {
                return Err(ApiError::Forbidden(
                    "This application is not enabled for your doctor: POST \
                     /api/iframe_integration first."
                        .into(),
                ));
            }
            let patient = if clinical {
                // The appointments table arrives with the calendar; until then nothing is found.
                if !conn.table_exists("appointments")? {
                    return Err(ApiError::NotFound);
                }
                let mut sql = Sql::new(
                    "SELECT t.patient FROM appointments t WHERE t.id = ? AND t.practice_group_id = ?",
                )
                .bind(target)
                .bind(practice);
                if own_doctor_only {
                    sql.push(" AND t.doctor = ?", [Val::from(doctor)]);
                }
                let row = sql
                    .load_one(conn, &[crate::db::Ty::Int])?
                    .ok_or(ApiError::NotFound)?;
                row[0].as_i64().ok_or_else(|| {
                    ApiError::field("appointment_id", "This appointment is a break: it has no patient.")
                })?
            } else {
                target
            };
            visible_patient.push(" AND t.id = ?", [Val::from(patient)]);
            visible_patient.load_i64(conn)?.ok_or(ApiError::NotFound)?;
            Ok((app, patient))
        })
        .await?;
    let (base, page_name) = if clinical {
        (&app.iframe_clinical_note_url, "clinical note")
    } else {
        (&app.iframe_patient_url, "patient")
    };
    if base.is_empty() {
        return Err(ApiError::field(
            "page",
            format!("This application has no iframe URL for the {page_name} page."),
        ));
    }
    let secret = ctx
        .state
        .server_key
        .stored_client_secret(&app.client_id, &app.secret_hash)
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "cannot sign an iframe launch for app {}: its client secret was not derived \
                 from this server's CHARTD_SECRET_KEY (was the key changed?)",
                app.client_id
            ))
        })?;
    let claims = Claims {
        user_id: ctx.user.user_id,
        doctor_id: doctor,
        patient_id: patient,
        practice_id: practice,
        iat: chrono::Utc::now().timestamp(),
        appointment_id: clinical.then_some(target),
    };
    let jwt = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(ApiError::internal)?;
    let mut url = url::Url::parse(base).map_err(ApiError::internal)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("user_id", &claims.user_id.to_string())
            .append_pair("doctor_id", &claims.doctor_id.to_string())
            .append_pair("patient_id", &claims.patient_id.to_string())
            .append_pair("practice_id", &claims.practice_id.to_string())
            .append_pair("iat", &claims.iat.to_string());
        if let Some(a) = claims.appointment_id {
            q.append_pair("appointment_id", &a.to_string());
        }
        q.append_pair("jwt", &jwt);
    }
    ctx.state.audit.send(AuditEntry::new(
        &ctx,
        "iframe_launch",
        "patients",
        Some(patient),
        None,
    ));
    Ok(HttpResponse::Ok().json(json!({"url": url.to_string()})))
}
