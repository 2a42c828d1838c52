//! /api/lab_results: results of lab tests ("Lab workflow"). GET, POST, PUT, PATCH, DELETE
//! (archives). lab_order is derived from the test; the document must belong to that order.
//!
//! When value_is_numeric, value must be a number and a non-empty normal_range must read
//! "<lower> <upper>" (numbers, lower not above upper). is_abnormal is true when sent true,
//! when abnormal_status flags the result (L, LL, H, HH, <, >, A, AA) or when a numeric value
//! is outside normal_range: such results are flagged for the doctor's attention.

use crate::api::auth::{Scope, ShareSetting};
use crate::api::resource::{Absent, Field, Filter, FilterKind, Hooks, Kind, Op, Record};
use crate::api::resource::{Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Conn, Sql, Val};
use crate::domain::normal_range::{number, NormalRange};
use crate::error::{ApiError, FieldErrors};
use crate::resources::lab_orders::scope_to_visible_orders;

pub const ABNORMAL_STATUSES: &[&str] = &[
    "L", "LL", "H", "HH", "<", ">", "A", "AA", "S", "R", "I", "NEG", "POS", "N", "",
];
/// The abnormal_status values that flag a result by themselves.
const FLAGGING: &[&str] = &["L", "LL", "H", "HH", "<", ">", "A", "AA"];

pub static RESOURCE: Resource = Resource {
    path: "lab_results",
    name: "LabResult",
    doc: "Results of lab tests.",
    scopes: &[Scope::Labs],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::int("lab_order").read_only().doc("The lab order of the result's test."),
        Field::reference("document", "lab_documents")
            .required()
            .doc("The lab document (of the same order) holding the result."),
        Field::reference("lab_test", "lab_tests").required(),
        Field::timestamp("specimen_received").required(),
        Field::timestamp("results_released").required(),
        Field::timestamp("test_performed").required(),
        Field::choice("status", crate::resources::lab_tests::STATUSES).required(),
        Field::string("value").not_blank().required().doc("A string or a number."),
        Field::choice("abnormal_status", ABNORMAL_STATUSES)
            .default(Absent::Str(""))
            .doc(
                "L low, LL alert low, H high, HH alert high, < panic low, > panic high, \
                 A abnormal, AA very abnormal, S susceptible, R resistant, I intermediate, \
                 NEG negative, POS positive, N normal, \"\" no comment.",
            ),
        Field::boolean("is_abnormal")
            .doc("Flags the result for the doctor's attention; also set by abnormal_status and normal_range."),
        Field::string("normal_range")
            .doc("When value_is_numeric, \"<lower> <upper>\" with both numbers."),
        Field::string("observation_code"),
        Field::string("observation_description")
            .doc("For example, \"Blood Urea Nitrogen (BUN)\"."),
        Field::string("group_code").doc("The code used for grouping result data."),
        Field::string("unit").doc("Units of the value."),
        Field::boolean("value_is_numeric").doc("Defaults to false."),
        Field::string("comments"),
    ],
    filters: &[
        Filter::new(
            "doctor",
            "(SELECT o.doctor FROM lab_orders o WHERE o.id = t.lab_order)",
            FilterKind::Eq(Kind::Int),
        )
        .doc("Only results of this doctor's lab orders."),
        Filter::eq("order", Kind::Int)
            .on("lab_order")
            .doc("Only results of this lab order."),
    ],
    hooks: &LabResultHooks,
    ..Resource::DEFAULT
};

struct LabResultHooks;

/// A key's value in the body, else (PATCH) the stored one.
fn merged(rec: &Record, current: Option<&Record>, k: &str) -> Option<Val> {
    rec.get(k).or_else(|| current?.get(k)).cloned()
}

/// Sets lab_order from the test (one the caller may see) and checks the document is that
/// order's.
fn derive_order(
    ctx: &Ctx,
    conn: &mut Conn,
    rec: &mut Record,
    current: Option<&Record>,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
    let int = |k: &str| merged(rec, current, k).as_ref().and_then(Val::as_i64);
    let (Some(test), Some(document)) = (int("lab_test"), int("document")) else {
        return Ok(());
    };
    if errors.has("lab_test") {
        return Ok(());
    }
    let mut sql =
        Sql::new("SELECT t.lab_order FROM lab_tests t WHERE t.id = ? AND t.practice_group_id = ?")
            .bind(test)
            .bind(ctx.practice_group());
    scope_to_visible_orders(ctx, &mut sql, "t.lab_order");
    let Some(order) = sql.load_i64(conn)? else {
        errors.add(
            "lab_test",
            format!("Invalid pk \"{test}\" - object does not exist."),
        );
        return Ok(());
    };
    rec.set("lab_order", Val::from(order));
    let doc_order = Sql::new("SELECT t.lab_order FROM lab_documents t WHERE t.id = ?")
        .bind(document)
        .load_i64(conn)?;
    if doc_order != Some(order) && !errors.has("document") {
        errors.add("document", "The document belongs to another lab order.");
    }
    Ok(())
}

impl Hooks for LabResultHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        derive_order(w.ctx, w.conn, w.rec, w.current, w.errors)?;
        // The numeric rules and the flag hold over the stored values a PATCH keeps.
        let text =
            |k: &str| merged(w.rec, w.current, k).and_then(|v| Some(v.as_str()?.to_string()));
        let numeric = merged(w.rec, w.current, "value_is_numeric").and_then(|v| v.as_bool());
        let value = number(&text("value").unwrap_or_default());
        let range_text = text("normal_range").unwrap_or_default();
        let range = NormalRange::parse(&range_text).ok();
        if numeric == Some(true) {
            if value.is_none() && !w.errors.has("value") {
                w.errors.add(
                    "value",
                    "A valid number is required when value_is_numeric is true.",
                );
            }
            if !range_text.trim().is_empty() && range.is_none() {
                w.errors.add("normal_range", NormalRange::ERROR);
            }
        }
        let flagged = FLAGGING.contains(&text("abnormal_status").unwrap_or_default().as_str());
        let outside =
            numeric == Some(true) && matches!((value, range), (Some(v), Some(r)) if !r.contains(v));
        let inputs = [
            "abnormal_status",
            "value",
            "normal_range",
            "value_is_numeric",
        ];
        let sent = w.rec.get("is_abnormal").and_then(Val::as_bool);
        if w.op != Op::PartialUpdate || sent.is_some() || inputs.iter().any(|k| w.rec.has(k)) {
            let is_abnormal = sent.unwrap_or(false) || flagged || outside;
            w.rec.set("is_abnormal", Val::from(is_abnormal));
        }
        Ok(())
    }

    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        scope_to_visible_orders(ctx, sql, "t.lab_order");
    }
}
