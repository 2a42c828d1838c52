//! The line item rules the declaration cannot say: codes, procedure types, modifiers and
//! diagnosis pointers; the patient, service date and fee schedule values taken from elsewhere;
//! the superbill lock.

use serde_json::Value;

use crate::api::compiled::now;
use crate::api::resource::Hooks;
use crate::api::Write;
use crate::db::{Conn, Sql, Ty, Val};
use crate::domain::billing_codes::{self, MAX_MODIFIERS};
use crate::error::{ApiError, FieldErrors};

/// At most this many diagnoses on one appointment (CMS-1500 box 21, A to L).
pub const MAX_DIAGNOSES: usize = 12;

pub struct LineItemHooks;

/// cents × hundredths of a unit → cents, rounded half away from zero, exactly.
pub fn times_quantity(cents: i64, hundredths: i64) -> i64 {
    let p = i128::from(cents) * i128::from(hundredths);
    let q = (p.abs() + 50) / 100;
    (if p < 0 { -q } else { q }) as i64
}

/// Serializes the billing writes of one appointment (line items, money posted, superbill
/// status) until the transaction ends, so that e.g. a line item cannot slip onto a superbill
/// being submitted, nor a payment onto one being voided.
pub fn lock_billing(conn: &mut Conn, appointment: i64) -> Result<(), ApiError> {
    Ok(conn.lock_key((0x4249_4c4c_i64 << 32) | (appointment & 0xffff_ffff))?)
}

/// Locks the billing of a line item's appointment (see [`lock_billing`]), if it exists.
pub fn lock_line_item(conn: &mut Conn, line_item: i64) -> Result<(), ApiError> {
    let appointment = Sql::new("SELECT t.appointment FROM line_items t WHERE t.id = ?")
        .bind(line_item)
        .load_i64(conn)?;
    match appointment {
        Some(a) => lock_billing(conn, a),
        None => Ok(()),
    }
}

/// The appointment's diagnoses, as stored ("J06.9,Z00.00").
pub fn split_codes(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

fn json_list(v: Option<&Val>) -> Vec<Value> {
    v.and_then(Val::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

impl Hooks for LineItemHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        // procedure_type, code and modifiers.
        let given_type = w
            .rec
            .get("procedure_type")
            .and_then(Val::as_str)
            .unwrap_or("")
            .trim();
        let kind = billing_codes::procedure_type(given_type);
        let mut modifiers = Vec::new();
        match kind {
            Some(k) => {
                w.rec.set("procedure_type", Val::from(k));
                let code = w.rec.get("code").and_then(Val::as_str).unwrap_or("").to_string();
                match billing_codes::procedure(k, &code) {
                    Ok((code, embedded)) => {
                        w.rec.set("code", Val::from(code));
                        modifiers = embedded;
                    }
                    Err(m) => w.errors.add("code", m),
                }
            }
            None => w.errors.add(
                "procedure_type",
                format!("\"{given_type}\" is not a valid choice. Valid choices: \"C\" (CPT), \"H\" (HCPCS), \"U\" (Custom)."),
            ),
        }
        for m in json_list(w.rec.get("modifiers")) {
            match billing_codes::modifier(m.as_str().unwrap_or("")) {
                Ok(m) => modifiers.push(m),
                Err(msg) => w.errors.add("modifiers", msg),
            }
        }
        if modifiers.len() > MAX_MODIFIERS {
            w.errors
                .add("modifiers", format!("At most {MAX_MODIFIERS} modifiers."));
        }
        w.rec
            .set("modifiers", Val::from(Value::from(modifiers).to_string()));

        // Money and quantity.
        let cents = |k: &str| w.rec.get(k).and_then(Val::as_i64);
        for key in ["price", "billed", "allowed"] {
            if cents(key).is_some_and(|c| c < 0) {
                w.errors
                    .add(key, "Ensure this value is greater than or equal to 0.");
            }
        }
        let quantity = cents("quantity").unwrap_or(100);
        if quantity <= 0 {
            w.errors
                .add("quantity", "Ensure this value is greater than 0.");
        }
        if !w.rec.given("billed") || cents("billed").is_none() {
            let billed = times_quantity(cents("price").unwrap_or(0), quantity);
            w.rec.set("billed", Val::from(billed));
        }

        // The appointment gives the patient, the default service date and the diagnoses.
        let Some(appointment) = w.rec.get("appointment").and_then(Val::as_i64) else {
            return Ok(());
        };
        if w.errors.has("appointment") {
            return Ok(());
        }
        lock_billing(w.conn, appointment)?;
        let row = Sql::new(
            "SELECT t.patient, t.scheduled_time, t.icd10_codes, \
             (SELECT s.status FROM superbills s WHERE s.appointment = t.id) \
             FROM appointments t WHERE t.id = ? AND t.practice_group_id = ?",
        )
        .bind(appointment)
        .bind(w.ctx.practice_group())
        .load_one(w.conn, &[Ty::Int, Ty::Timestamp, Ty::Text, Ty::Text])?
        .ok_or(ApiError::NotFound)?;
        let Some(patient) = row[0].as_i64() else {
            w.errors
                .add("appointment", "A break has no patient to bill.");
            return Ok(());
        };
        if let Some(status) = row[3].as_str().filter(|s| *s != "Draft") {
            w.errors.add(
                "appointment",
                format!("Its superbill is {status}; line items can be added only to a Draft."),
            );
        }
        w.rec.set("patient", Val::from(patient));
        if w.rec.get("service_date").is_none_or(Val::is_null) {
            if let Some(t) = row[1].as_timestamp() {
                w.rec.set("service_date", Val::from(t.date()));
            }
        }
        let mut codes = split_codes(row[2].as_str().unwrap_or(""));
        let before = codes.len();
        let pointers = resolve_pointers(
            json_list(w.rec.get("diagnosis_pointers")),
            &mut codes,
            w.errors,
        );
        w.rec.set(
            "diagnosis_pointers",
            Val::from(Value::from(pointers).to_string()),
        );
        if codes.len() != before && w.errors.is_empty() {
            Sql::new("UPDATE appointments SET icd10_codes = ?, updated_at = ? WHERE id = ?")
                .bind(codes.join(","))
                .bind(now())
                .bind(appointment)
                .execute(w.conn)?;
            // The appointment's diagnoses changed.
            crate::api::events::raise_change(
                w.conn,
                w.ctx,
                w.ctx.compiled(&crate::resources::appointments::RESOURCE),
                crate::api::resource::Change::Modify,
                appointment,
            )?;
        }

        // The doctor's fee schedule describes the code and what it should bring in.
        let code_type = match w.rec.get("procedure_type").and_then(Val::as_str) {
            Some("C") => "CPT",
            Some("H") => "HCPCS",
            _ => "Custom",
        };
        let fee = Sql::new(
            "SELECT t.billing_description, t.description, t.allowed_amount FROM fee_schedules t \
             WHERE t.practice_group_id = ? AND t.doctor = ? AND t.code = ? AND t.code_type = ? \
             AND t.archived = ? ORDER BY t.id LIMIT 1",
        )
        .bind(w.ctx.practice_group())
        .bind(w.rec.get("doctor").and_then(Val::as_i64).unwrap_or(0))
        .bind(
            w.rec
                .get("code")
                .and_then(Val::as_str)
                .unwrap_or("")
                .to_string(),
        )
        .bind(code_type)
        .bind(false)
        .load_one(w.conn, &[Ty::Text, Ty::Text, Ty::Int])?;
        if let Some(fee) = fee {
            let billing = fee[0].as_str().unwrap_or("");
            let plain = fee[1].as_str().unwrap_or("");
            w.rec.set(
                "description",
                Val::from(if billing.is_empty() { plain } else { billing }),
            );
            if let Some(allowed) = fee[2].as_i64().filter(|a| *a > 0) {
                w.rec.set(
                    "expected_reimbursement",
                    Val::from(times_quantity(allowed, quantity)),
                );
            }
        }
        Ok(())
    }
}

/// Diagnosis pointers as positions in `codes` (1-based): numbers are checked, ICD-10 codes
/// are looked up, and added to `codes` when missing.
fn resolve_pointers(
    given: Vec<Value>,
    codes: &mut Vec<String>,
    errors: &mut FieldErrors,
) -> Vec<i64> {
    const KEY: &str = "diagnosis_pointers";
    if given.len() > 4 {
        errors.add(KEY, "At most 4 diagnosis pointers.");
    }
    let mut out = Vec::with_capacity(given.len());
    for p in given {
        let pos = match &p {
            Value::Number(n) => match n.as_i64() {
                Some(i) if i >= 1 && (i as usize) <= codes.len() => i,
                _ => {
                    errors.add(
                        KEY,
                        format!(
                            "Pointer {n} is not a diagnosis of the appointment (it has {}).",
                            codes.len()
                        ),
                    );
                    continue;
                }
            },
            Value::String(s) => match billing_codes::icd10(s) {
                Ok(code) => match codes.iter().position(|c| *c == code) {
                    Some(i) => i as i64 + 1,
                    None if codes.len() < MAX_DIAGNOSES => {
                        codes.push(code);
                        codes.len() as i64
                    }
                    None => {
                        errors.add(
                            KEY,
                            format!("The appointment already has {MAX_DIAGNOSES} diagnoses."),
                        );
                        continue;
                    }
                },
                Err(m) => {
                    errors.add(KEY, m);
                    continue;
                }
            },
            _ => continue,
        };
        if out.contains(&pos) {
            errors.add(KEY, format!("Pointer {pos} is given twice."));
        }
        out.push(pos);
    }
    out
}
