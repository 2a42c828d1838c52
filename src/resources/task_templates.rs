//! /api/task_templates: defaults for new tasks ("/api/tasks" section). GET, POST, PUT, PATCH;
//! archive with `archived`. The filters name the default_* keys they apply to.
//!
//! default_due_date_offset is a duration "[DD] [HH:[MM:]]ss[.uuuuuu]" (Django's form): days,
//! then seconds alone, MM:ss or HH:MM:ss (a minute or second after the first part below 60),
//! then up to six fraction digits. It is answered normalized, "3 02:00:00" or "00:01:30".
//! The reference spells default_category "defatul_category": that key is accepted and
//! answered too. At most one default assignee (a PATCH naming one clears the other).

use crate::api::auth::Scope;
use crate::api::fields::not_blank;
use crate::api::resource::{Field, Filter, Hooks, Kind, Op, Record, Resource, Verbs};
use crate::api::Ctx;
use crate::db::{Conn, Val};
use crate::error::{ApiError, FieldErrors};
use crate::resources::tasks::{check_assignees, check_priority};

pub static RESOURCE: Resource = Resource {
    path: "task_templates",
    name: "TaskTemplate",
    doc: "Templates holding the defaults of new tasks.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("name").required(),
        Field::reference("default_assignee_group", "user_groups").nullable(),
        Field::reference("default_assignee_user", "users").nullable(),
        Field::reference("default_category", "task_categories")
            .nullable()
            .alias("defatul_category"),
        Field::int("defatul_category")
            .sql("t.default_category")
            .nullable()
            .doc("The reference's spelling of default_category; the same value."),
        Field::string("default_due_date_offset")
            .doc("Offset of the due date: \"[DD] [HH:[MM:]]ss[.uuuuuu]\", e.g. \"3 02:00:00\"."),
        Field::string("default_note"),
        Field::int("default_priority")
            .nullable()
            .doc("10 (low), 20 (medium), 30 (high) or 40 (urgent)."),
        Field::reference("default_status", "task_statuses").nullable(),
        Field::string("default_title"),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("assignee_user", Kind::Int).on("default_assignee_user"),
        Filter::eq("assignee_group", Kind::Int).on("default_assignee_group"),
        Filter::eq("status", Kind::Int).on("default_status"),
        Filter::eq("category", Kind::Int).on("default_category"),
        Filter::since(),
    ],
    hooks: &TaskTemplateHooks,
    ..Resource::DEFAULT
};

struct TaskTemplateHooks;

impl Hooks for TaskTemplateHooks {
    fn validate(
        &self,
        _ctx: &Ctx,
        _conn: &mut Conn,
        _op: Op,
        rec: &mut Record,
        current: Option<&Record>,
        errors: &mut FieldErrors,
    ) -> Result<(), ApiError> {
        not_blank(rec, &["name"], errors);
        check_priority(rec, "default_priority", errors);
        let keys = ("default_assignee_user", "default_assignee_group");
        check_assignees(rec, current, keys, false, errors);
        if let Some(raw) = rec.get("default_due_date_offset").and_then(Val::as_str) {
            match parse_offset(raw) {
                Ok(micros) => rec.set("default_due_date_offset", Val::from(format_offset(micros))),
                Err(msg) => errors.add("default_due_date_offset", msg),
            }
        }
        Ok(())
    }
}

const OFFSET_ERROR: &str =
    "Duration has wrong format. Use \"[DD] [HH:[MM:]]ss[.uuuuuu]\", e.g. \"3 02:00:00\".";

/// "[DD] [HH:[MM:]]ss[.uuuuuu]" → microseconds; "" → None (no offset).
fn parse_offset(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let num = |x: &str| -> Result<i64, String> {
        if digits(x) {
            x.parse::<i64>()
                .map_err(|_| "The duration is too long.".to_string())
        } else {
            Err(OFFSET_ERROR.to_string())
        }
    };
    let (days, clock) = match s.split_once(' ') {
        Some((d, rest)) => (num(d)?, rest.trim_start()),
        None => (0, s),
    };
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let micros = match fraction {
        "" if !s.ends_with('.') => 0,
        f if digits(f) && f.len() <= 6 => num(&format!("{f:0<6}"))?,
        _ => return Err(OFFSET_ERROR.into()),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() > 3 {
        return Err(OFFSET_ERROR.into());
    }
    let mut seconds = 0i64;
    for (i, p) in parts.iter().enumerate() {
        let n = num(p)?;
        if i > 0 && n >= 60 {
            return Err("Minutes and seconds after the first part must be below 60.".into());
        }
        seconds = seconds
            .checked_mul(60)
            .and_then(|s| s.checked_add(n))
            .ok_or(OFFSET_ERROR)?;
    }
    days.checked_mul(86_400)
        .and_then(|d| d.checked_add(seconds))
        .and_then(|t| t.checked_mul(1_000_000))
        .and_then(|t| t.checked_add(micros))
        .map(Some)
        .ok_or_else(|| "The duration is too long.".to_string())
}

/// Microseconds → "D HH:MM:SS[.uuuuuu]" (days left out when 0), as Django writes durations.
fn format_offset(micros: Option<i64>) -> String {
    let Some(micros) = micros else {
        return String::new();
    };
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        out = format!("{days} {out}");
    }
    if frac > 0 {
        out.push_str(&format!(".{frac:06}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{format_offset, parse_offset};

    fn norm(s: &str) -> Result<String, String> {
        parse_offset(s).map(format_offset)
    }

    #[test]
    fn offsets_parse_in_the_documented_form_and_normalize() {
        assert_eq!(norm("3 02:00:00").unwrap(), "3 02:00:00");
        assert_eq!(norm("90").unwrap(), "00:01:30");
        assert_eq!(norm("1:30").unwrap(), "00:01:30");
        assert_eq!(norm("1 25:00:00").unwrap(), "2 01:00:00");
        assert_eq!(norm("2 12:00:00.5").unwrap(), "2 12:00:00.500000");
        assert_eq!(norm("0").unwrap(), "00:00:00");
        assert_eq!(norm("").unwrap(), "");
        for bad in [
            "abc",
            "1:2:3:4",
            "10:75:00",
            "-1 00:00:00",
            "1.1234567",
            "1.",
            ":30",
            "3 days",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(norm(bad).is_err(), "{bad}");
        }
    }
}
