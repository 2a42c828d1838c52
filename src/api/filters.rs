//! Query parameters: parsing (a repeated parameter's last value wins, as in Django) and the
//! filters every list shares — since, date, date_range, show_archived — plus the ones a
//! resource declares. A malformed value is a 400 naming the parameter.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::api::fields::{self, parse_bool_str};
use crate::api::resource::{Filter, FilterKind, Kind, Resource};
use crate::db::{Sql, Val};
use crate::error::{ApiError, FieldErrors};

/// The query string, in order, with repeated keys collapsed to their last value.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Params {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match out.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v.into_owned(),
                None => out.push((k.into_owned(), v.into_owned())),
            }
        }
        Params(out)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter; DRF treats a bare `?show_archived` (empty) as true.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some("") => Ok(true),
            Some(v) => {
                parse_bool_str(v).ok_or_else(|| ApiError::field(key, "Must be a valid boolean."))
            }
        }
    }

    /// A positive integer parameter.
    pub fn positive(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 1 => Ok(Some(n)),
                _ => Err(ApiError::field(
                    key,
                    "A valid positive integer is required.",
                )),
            },
        }
    }

    /// The query string with `drop` keys removed and `set` pairs appended.
    pub fn with(&self, drop: &[&str], set: &[(&str, String)]) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, _)| !drop.contains(&k.as_str())) {
            ser.append_pair(k, v);
        }
        for (k, v) in set {
            ser.append_pair(k, v);
        }
        ser.finish()
    }
}

/// A date or a timestamp, as `since` accepts either.
fn parse_instant(s: &str) -> Option<NaiveDateTime> {
    fields::parse_timestamp(s).ok().or_else(|| {
        fields::parse_date(s)
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    })
}

/// "YYYY-MM-DD/YYYY-MM-DD" → (start, end), inclusive.
pub fn parse_date_range(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (a, b) = s.split_once('/')?;
    let (a, b) = (fields::parse_date(a).ok()?, fields::parse_date(b).ok()?);
    (a <= b).then_some((a, b))
}

/// Adds `AND ...` conditions for every declared filter present in `params`; `group` is the
/// caller's practice group.
pub fn apply(res: &Resource, params: &Params, group: i64, sql: &mut Sql) -> Result<(), ApiError> {
    let mut errors = FieldErrors::default();
    let needs = res.list_needs_one_of;
    if !needs.is_empty()
        && needs
            .iter()
            .all(|p| params.get(p).is_none_or(str::is_empty))
    {
        let names = match needs {
            [one] => one.to_string(),
            [rest @ .., last] => format!("one of the {} or {last}", rest.join(", ")),
            [] => unreachable!(),
        };
        errors.add(
            needs[0],
            format!(
                "Listing {} needs the {names} parameter{}.",
                res.path.replace('_', " "),
                if needs.len() > 1 { "s" } else { "" }
            ),
        );
    }
    for f in res.filters {
        let Some(raw) = params.get(f.param) else {
            continue;
        };
        if raw.is_empty() && !matches!(f.kind, FilterKind::Flag) {
            continue;
        }
        if let Err(msg) = apply_one(res, f, raw, group, sql) {
            errors.add(f.param, msg);
        }
        if let Some(other) = f.needs.filter(|o| params.get(o).is_none_or(str::is_empty)) {
            errors.add(
                other,
                format!("The {other} parameter is required with {}.", f.param),
            );
        }
    }
    errors.into_result()
}

fn column_kind(res: &Resource, f: &Filter) -> Option<Kind> {
    res.field(f.column).map(|fd| fd.kind)
}

fn apply_one(
    res: &Resource,
    f: &Filter,
    raw: &str,
    group: i64,
    sql: &mut Sql,
) -> Result<(), String> {
    let col = if f.column.contains('(') || f.column.contains(' ') {
        f.column.to_string()
    } else {
        Resource::column(f.column)
    };
    let is_timestamp =
        matches!(column_kind(res, f), Some(Kind::Timestamp)) || f.column.ends_with("_at");
    match f.kind {
        FilterKind::Eq(kind) => {
            let field = crate::api::resource::Field::new(f.param, kind);
            let v = fields::coerce(&field, &serde_json::Value::String(raw.to_string()), true)?;
            sql.push(&format!(" AND {col} = ?"), [v]);
        }
        FilterKind::IContains => {
            if raw.contains('\0') {
                return Err(fields::NUL_ERROR.into());
            }
            let escaped = raw
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sql.push(
                &format!(" AND LOWER({col}) LIKE ? ESCAPE '\\'"),
                [Val::from(format!("%{escaped}%"))],
            );
        }
        FilterKind::IntIn => {
            let ids: Result<Vec<i64>, _> =
                raw.split(',').map(|s| s.trim().parse::<i64>()).collect();
            let ids = ids.map_err(|_| "Enter a comma-separated list of integers.".to_string())?;
            if ids.is_empty() || ids.len() > 100 {
                return Err("Give between 1 and 100 ids.".into());
            }
            let marks = vec!["?"; ids.len()].join(", ");
            sql.push(
                &format!(" AND {col} IN ({marks})"),
                ids.into_iter().map(Val::from),
            );
        }
        FilterKind::OnDate => {
            let d = fields::parse_date(raw)?;
            push_day_range(sql, &col, is_timestamp, d, d);
        }
        FilterKind::DateRange { max_days } => {
            let (a, b) = parse_date_range(raw).ok_or_else(|| {
                "Enter a date range as YYYY-MM-DD/YYYY-MM-DD, the start not after the end."
                    .to_string()
            })?;
            if let Some(max) = max_days {
                let today = chrono::Utc::now().date_naive();
                if (b - a).num_days() + 1 > max && b >= today {
                    return Err(format!(
                        "A date range cannot be longer than {max} days, unless it is in the past."
                    ));
                }
            }
            push_day_range(sql, &col, is_timestamp, a, b);
        }
        FilterKind::Since => {
            let t = parse_instant(raw).ok_or_else(|| fields::TIMESTAMP_ERROR.to_string())?;
            sql.push(&format!(" AND {col} >= ?"), [Val::from(t)]);
        }
        FilterKind::Flag => {
            if parse_bool_str(raw).is_none() && !raw.is_empty() {
                return Err("Must be a valid boolean.".into());
            }
        }
        FilterKind::Custom(kind) => {
            value(f, kind, raw)?;
        }
        FilterKind::Where { sql: cond, kind } => {
            let v = value(f, kind, raw)?;
            push_condition(sql, cond, &[v], group);
        }
        FilterKind::WhereAny { sql: cond, kind } => {
            let values = raw
                .split(',')
                .map(|one| value(f, kind, one.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            if values.is_empty() || values.len() > 100 {
                return Err("Give between 1 and 100 comma-separated values.".into());
            }
            push_condition(sql, cond, &values, group);
        }
        FilterKind::WhereTrue(cond) => match parse_bool_str(raw) {
            Some(true) => push_condition(sql, cond, &[], group),
            Some(false) => {}
            None if raw.is_empty() => {}
            None => return Err("Must be a valid boolean.".into()),
        },
    }
    Ok(())
}

/// One filter value, parsed as its kind and within its range.
fn value(f: &Filter, kind: Kind, raw: &str) -> Result<Val, String> {
    let field = crate::api::resource::Field::new(f.param, kind);
    let v = fields::coerce(&field, &serde_json::Value::String(raw.to_string()), true)?;
    if let (Some((least, most)), Some(n)) = (f.range, v.as_i64()) {
        if !(least..=most).contains(&n) {
            return Err(format!("Must be from {least} to {most}."));
        }
    }
    Ok(v)
}

/// ` AND ((cond) OR (cond) ...)`, one condition per value (one in all without values),
/// each `?` bound to its value and `:group` to the practice group.
fn push_condition(sql: &mut Sql, cond: &str, values: &[Val], group: i64) {
    // The placeholders in order: true for the value, false for the group.
    let mut marks = Vec::new();
    let mut rest = cond;
    while let Some(i) = rest.find(['?', ':']) {
        if rest[i..].starts_with(":group") {
            marks.push(false);
            rest = &rest[i + ":group".len()..];
        } else {
            marks.extend((rest.as_bytes()[i] == b'?').then_some(true));
            rest = &rest[i + 1..];
        }
    }
    let one = format!("({})", cond.replace(":group", "?"));
    let none = [Val::Int(None)];
    let values = if values.is_empty() { &none[..] } else { values };
    let mut binds = Vec::with_capacity(values.len() * marks.len());
    for v in values {
        binds.extend(marks.iter().map(|is_value| {
            if *is_value {
                v.clone()
            } else {
                Val::from(group)
            }
        }));
    }
    let clauses = vec![one.as_str(); values.len()].join(" OR ");
    sql.push(&format!(" AND ({clauses})"), binds);
}

fn push_day_range(sql: &mut Sql, col: &str, timestamp: bool, a: NaiveDate, b: NaiveDate) {
    if timestamp {
        let start = a.and_time(NaiveTime::MIN);
        let end = (b + Duration::days(1)).and_time(NaiveTime::MIN);
        sql.push(
            &format!(" AND {col} >= ? AND {col} < ?"),
            [start.into(), end.into()],
        );
    } else {
        sql.push(
            &format!(" AND {col} >= ? AND {col} <= ?"),
            [a.into(), b.into()],
        );
    }
}
