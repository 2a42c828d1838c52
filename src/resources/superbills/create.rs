//! POST /api/superbills: patient, appointment, line items and superbill in one transaction.
//! Every object is created through its own resource's rules (`handlers::create_in`), so the
//! token also needs the scopes of appointments (and of patients when one is created). Every
//! code is checked before anything is written; an error names its key, a procedure line's
//! as `procedures[i].key` (0-based), and leaves nothing behind.

use crate::api::action::{Action, Answer, Method, Reply, Run};
use chrono::{NaiveDate, NaiveTime};
use serde_json::{json, Map, Value};

use crate::api::fields::{self, Mode};
use crate::api::handlers::create_in;
use crate::api::resource::{Absent, Field, Record};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::domain::billing_codes;
use crate::error::{ApiError, FieldErrors};
use crate::resources::{appointments, line_items, patients};

/// POST /api/superbills: who, where, when, the diagnoses and the procedures of one encounter.
pub const CREATE: Action = Action {
    method: Method::Post,
    path: "",
    name: "create",
    summary: "Create a superbill: the patient if needed, the appointment and its line items, \
              all or none",
    doc: "Also needs the scopes and permissions of /api/appointments (calendar, clinical) and, \
          when a patient is created, of /api/patients (patients). A procedure line's errors \
          are named procedures[i].key (0-based); nothing is created on any error.",
    body: &[
        Field::reference("patient", "patients")
            .nullable()
            .doc("chartd id of the patient. Give this or patient_external_id."),
        Field::string("patient_external_id").nullable().doc(
            "Your id for the patient (the patient's external_id). When no patient has it, the \
             patient is created from patient_demographics.",
        ),
        Field::object("patient_demographics").doc(
            "Keys of POST /api/patients (gender required; doctor defaults to this superbill's), \
             used only to create the patient.",
        ),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The rendering provider."),
        Field::reference("office", "offices").required(),
        Field::int("exam_room")
            .default(Absent::Int(1))
            .doc("Default 1."),
        Field::date("date_of_service").required(),
        Field::timestamp("scheduled_time")
            .nullable()
            .doc("On date_of_service. Default: the office's opening time that day."),
        Field::int("duration")
            .range(1, 1440)
            .default(Absent::Int(15))
            .doc("Minutes. Default 15."),
        Field::strings("icd10_codes")
            .required()
            .doc("1 to 12 ICD-10-CM codes, e.g. [\"J06.9\", \"Z00.00\"]."),
        Field::objects("procedures").required().doc(
            "1 or more lines: {\"code\": \"99213\" (or \"99213-25\"), \"procedure_type\": \"C\" \
             (default) | \"H\" | \"U\", \"modifiers\": [\"25\"], \"quantity\": \"1\", \
             \"price\": \"120.00\" (default: the doctor's fee schedule base price), \
             \"diagnosis_pointers\": [1, \"Z00.00\"] (positions in icd10_codes or codes from it)}.",
        ),
        Field::choice("status", &["Draft", "Submitted"]).doc("Default Draft."),
    ],
    answer: Answer::Parts(&[
        ("superbill", "Superbill", false),
        ("appointment", "Appointment", false),
        ("line_items", "LineItem", true),
    ]),
    answer_doc: "The superbill, its appointment and its line items.",
    responses: &[(
        "409",
        "A conflict (e.g. with another request); nothing was created.",
    )],
    extension: true,
    run: Run::Create(|ctx, conn, input| {
        let mut errors = FieldErrors::default();
        let codes = check(input, &mut errors);
        errors.into_result()?;
        write(conn, ctx, input, codes).map(Reply::Raw)
    }),
    ..Action::DEFAULT
};

/// Field errors with their keys prefixed (`procedures[2].`); other errors unchanged.
fn prefixed(e: ApiError, prefix: &str) -> ApiError {
    match e {
        ApiError::Validation(errs) => ApiError::Validation(FieldErrors(
            errs.0
                .into_iter()
                .map(|(k, v)| (format!("{prefix}{k}"), v))
                .collect(),
        )),
        other => other,
    }
}

fn text(rec: &Record, key: &str) -> Option<String> {
    rec.get(key).and_then(Val::as_str).map(str::to_string)
}

fn list(rec: &Record, key: &str) -> Vec<Value> {
    text(rec, key)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Checks what needs no database: the patient keys and every code. Answers the normalized
/// diagnoses.
fn check(input: &Record, errors: &mut FieldErrors) -> Vec<String> {
    let by_id = input.get("patient").is_some_and(|v| !v.is_null());
    let by_external = text(input, "patient_external_id").is_some_and(|s| !s.trim().is_empty());
    if by_id == by_external {
        errors.add("patient", "Give either patient or patient_external_id.");
    }
    let mut codes: Vec<String> = Vec::new();
    for (i, c) in list(input, "icd10_codes").iter().enumerate() {
        match billing_codes::icd10(c.as_str().unwrap_or("")) {
            Ok(c) if codes.contains(&c) => {
                errors.add("icd10_codes", format!("Item {i}: {c} is given twice."))
            }
            Ok(c) => codes.push(c),
            Err(m) => errors.add("icd10_codes", format!("Item {i}: {m}")),
        }
    }
    if !(1..=line_items::MAX_DIAGNOSES).contains(&codes.len()) && !errors.has("icd10_codes") {
        errors.add("icd10_codes", "Give 1 to 12 ICD-10-CM codes.");
    }
    let lines = list(input, "procedures");
    if lines.is_empty() {
        errors.add("procedures", "Give at least one procedure line.");
    }
    for (i, line) in lines.iter().enumerate() {
        let key = |k: &str| format!("procedures[{i}].{k}");
        let kind = line
            .get("procedure_type")
            .and_then(Value::as_str)
            .unwrap_or("C");
        match billing_codes::procedure_type(kind) {
            Some(k) => {
                let code = line.get("code").and_then(Value::as_str).unwrap_or("");
                if let Err(m) = billing_codes::procedure(k, code) {
                    errors.add(key("code"), m);
                }
            }
            None => errors.add(
                key("procedure_type"),
                "Must be \"C\" (CPT), \"H\" (HCPCS) or \"U\" (Custom).",
            ),
        }
        for p in line
            .get("diagnosis_pointers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let known = match p {
                Value::Number(n) => n
                    .as_u64()
                    .is_some_and(|n| n >= 1 && n as usize <= codes.len()),
                Value::String(s) => billing_codes::icd10(s).is_ok_and(|c| codes.contains(&c)),
                _ => false,
            };
            if !known {
                errors.add(
                    key("diagnosis_pointers"),
                    format!("{p} is not one of icd10_codes."),
                );
            }
        }
    }
    codes
}

/// The patient: by id, or by external id (created from the demographics when absent).
fn patient(conn: &mut Conn, ctx: &Ctx, input: &Record, doctor: i64) -> Result<i64, ApiError> {
    if let Some(id) = input.get("patient").and_then(Val::as_i64) {
        return Ok(id); // The appointment checks it.
    }
    let external = text(input, "patient_external_id")
        .unwrap_or_default()
        .trim()
        .to_string();
    let found =
        Sql::new("SELECT t.id FROM patients t WHERE t.practice_group_id = ? AND t.external_id = ?")
            .bind(ctx.practice_group())
            .bind(external.clone())
            .load_i64(conn)?;
    if let Some(id) = found {
        return Ok(id);
    }
    let Some(Value::Object(mut demo)) = text(input, "patient_demographics")
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
    else {
        return Err(ApiError::field(
            "patient_demographics",
            "No patient has this patient_external_id: give patient_demographics to create one.",
        ));
    };
    demo.entry("doctor").or_insert(json!(doctor));
    let mut rec = fields::parse_object(&patients::RESOURCE, &demo, &[], Mode::Create, false)
        .map_err(|e| prefixed(ApiError::Validation(e), "patient_demographics."))?;
    rec.set("external_id", Val::from(external));
    create_in(conn, ctx, ctx.compiled(&patients::RESOURCE), rec)
        .map_err(|e| prefixed(e, "patient_demographics."))
}

/// A line's price when it gives none: the doctor's fee schedule base price for the code.
fn fee(
    conn: &mut Conn,
    ctx: &Ctx,
    doctor: i64,
    line: &Map<String, Value>,
) -> Result<Option<i64>, ApiError> {
    let kind = line
        .get("procedure_type")
        .and_then(Value::as_str)
        .unwrap_or("C");
    let kind = billing_codes::procedure_type(kind).unwrap_or("C");
    let code = line.get("code").and_then(Value::as_str).unwrap_or("");
    let Ok((code, _)) = billing_codes::procedure(kind, code) else {
        return Ok(None);
    };
    let code_type = match kind {
        "C" => "CPT",
        "H" => "HCPCS",
        _ => "Custom",
    };
    Ok(Sql::new(
        "SELECT t.base_price FROM fee_schedules t WHERE t.practice_group_id = ? AND t.doctor = ? \
         AND t.code = ? AND t.code_type = ? AND t.archived = ? ORDER BY t.id LIMIT 1",
    )
    .bind(ctx.practice_group())
    .bind(doctor)
    .bind(code)
    .bind(code_type)
    .bind(false)
    .load_i64(conn)?)
}

/// Everything inside one transaction; answers the response body.
fn write(
    conn: &mut Conn,
    ctx: &Ctx,
    input: &Record,
    codes: Vec<String>,
) -> Result<Vec<u8>, ApiError> {
    let doctor = input.get("doctor").and_then(Val::as_i64).unwrap_or(0);
    let office = input.get("office").and_then(Val::as_i64).unwrap_or(0);
    let date: NaiveDate = input
        .get("date_of_service")
        .and_then(Val::as_date)
        .unwrap_or_default();
    let patient = patient(conn, ctx, input, doctor)?;

    // The appointment, at the office's opening time unless given.
    let start = match input.get("scheduled_time").and_then(Val::as_timestamp) {
        Some(t) if t.date() != date => {
            return Err(ApiError::field(
                "scheduled_time",
                "Must be on date_of_service.",
            ))
        }
        Some(t) => t,
        None => {
            let opens = Sql::new(
                "SELECT t.start_time FROM offices t WHERE t.id = ? AND t.practice_group_id = ?",
            )
            .bind(office)
            .bind(ctx.practice_group())
            .load_one(conn, &[Ty::Text])?
            .and_then(|r| {
                r[0].as_str()
                    .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M:%S").ok())
            });
            date.and_time(opens.unwrap_or(NaiveTime::MIN))
        }
    };
    let appt = json!({
        "doctor": doctor, "patient": patient, "office": office,
        "exam_room": input.get("exam_room").and_then(Val::as_i64),
        "duration": input.get("duration").and_then(Val::as_i64),
        "scheduled_time": start.format("%Y-%m-%dT%H:%M:%S").to_string(),
        // A superbill records a visit that happened; it does not compete for the calendar.
        "allow_overlapping": true,
    });
    let Value::Object(appt) = appt else {
        unreachable!()
    };
    let mut rec = fields::parse_object(&appointments::RESOURCE, &appt, &[], Mode::Create, false)
        .map_err(ApiError::Validation)?;
    rec.set("icd10_codes", Val::from(codes.join(",")));
    let appointment = create_in(conn, ctx, ctx.compiled(&appointments::RESOURCE), rec)?;

    // Its line items.
    let mut items = Vec::new();
    for (i, line) in list(input, "procedures").into_iter().enumerate() {
        let prefix = format!("procedures[{i}].");
        let Value::Object(mut line) = line else {
            continue;
        };
        line.insert("appointment".into(), json!(appointment));
        line.entry("doctor").or_insert(json!(doctor));
        line.entry("procedure_type").or_insert(json!("C"));
        line.entry("service_date")
            .or_insert(json!(date.to_string()));
        line.entry("diagnosis_pointers").or_insert(json!([]));
        if !line.contains_key("price") {
            if let Some(cents) = fee(conn, ctx, doctor, &line)? {
                line.insert("price".into(), json!(fields::format_decimal(cents)));
            }
        }
        let rec = fields::parse_object(&line_items::RESOURCE, &line, &[], Mode::Create, false)
            .map_err(|e| prefixed(ApiError::Validation(e), &prefix))?;
        let id = create_in(conn, ctx, ctx.compiled(&line_items::RESOURCE), rec)
            .map_err(|e| prefixed(e, &prefix))?;
        items.push(id);
    }

    // The superbill, last: line items go only onto a Draft.
    let mut rec = Record::default();
    rec.set("appointment", Val::from(appointment));
    rec.set("patient", Val::from(patient));
    rec.set("doctor", Val::from(doctor));
    rec.set("office", Val::from(office));
    rec.set("date_of_service", Val::from(date));
    rec.set(
        "status",
        Val::from(text(input, "status").unwrap_or_else(|| "Draft".into())),
    );
    let superbills = ctx.compiled(&super::RESOURCE);
    let id = create_in(conn, ctx, superbills, rec)?;

    let mut buf = b"{\"superbill\":".to_vec();
    buf.extend(superbills.fetch_json(conn, ctx, id, true)?);
    buf.extend_from_slice(b",\"appointment\":");
    buf.extend(
        ctx.compiled(&appointments::RESOURCE)
            .fetch_json(conn, ctx, appointment, true)?,
    );
    buf.extend_from_slice(b",\"line_items\":[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend(
            ctx.compiled(&line_items::RESOURCE)
                .fetch_json(conn, ctx, item, true)?,
        );
    }
    buf.extend_from_slice(b"]}");
    Ok(buf)
}
