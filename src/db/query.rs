//! Portable dynamic SQL: the text uses `?` placeholders, diesel writes each backend's own
//! (`?` or `$n`) and binds the values with their types.
//!
//! Unlike `diesel::sql_query`, a [`Sql`] stays in diesel's prepared-statement cache (keyed by
//! its text), so the generated resource queries are prepared once per connection. Callers must
//! put values in binds, never in the text; only integers the server itself produced (a LIMIT)
//! are written inline.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::connection::LoadConnection;
use diesel::deserialize::FromSql;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Time, Timestamp, Untyped};
use diesel::RunQueryDsl;

use super::{Conn, MultiBackend, MultiRawValue};

/// The storage types chartd uses; every integer column is a BIGINT on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Text,
    Bool,
    Date,
    Time,
    Timestamp,
}

/// A value read from or bound to a column. `None` is SQL NULL (typed, as PostgreSQL needs).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Time(Option<NaiveTime>),
    Timestamp(Option<NaiveDateTime>),
}

impl Val {
    pub fn null(ty: Ty) -> Val {
        match ty {
            Ty::Int => Val::Int(None),
            Ty::Text => Val::Text(None),
            Ty::Bool => Val::Bool(None),
            Ty::Date => Val::Date(None),
            Ty::Time => Val::Time(None),
            Ty::Timestamp => Val::Timestamp(None),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Val::Int(None)
                | Val::Text(None)
                | Val::Bool(None)
                | Val::Date(None)
                | Val::Time(None)
                | Val::Timestamp(None)
        )
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Int(v) => *v,
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Text(v) => v.as_deref(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(v) => *v,
            _ => None,
        }
    }

    pub fn as_timestamp(&self) -> Option<NaiveDateTime> {
        match self {
            Val::Timestamp(v) => *v,
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Val::Date(v) => *v,
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_string()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(Some(v))
    }
}
impl From<NaiveDateTime> for Val {
    fn from(v: NaiveDateTime) -> Self {
        Val::Timestamp(Some(v))
    }
}
impl From<NaiveDate> for Val {
    fn from(v: NaiveDate) -> Self {
        Val::Date(Some(v))
    }
}

/// A statement under construction: text with `?` placeholders and the values they bind.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Val>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Appends text (which may contain `?`) and the values for its placeholders.
    pub fn push(&mut self, text: &str, binds: impl IntoIterator<Item = Val>) -> &mut Self {
        self.text.push_str(text);
        self.binds.extend(binds);
        self
    }

    pub fn bind(mut self, v: impl Into<Val>) -> Self {
        self.binds.push(v.into());
        self
    }

    /// Runs a statement that returns no rows; answers the number of rows affected.
    pub fn execute(self, conn: &mut Conn) -> QueryResult<usize> {
        RunQueryDsl::execute(self, conn)
    }

    /// Runs a query and decodes each row with the given column types.
    pub fn load(self, conn: &mut Conn, tys: &[Ty]) -> QueryResult<Vec<Vec<Val>>> {
        let cursor = LoadConnection::load(conn, self)?;
        let mut out = Vec::new();
        for row in cursor {
            let row = row?;
            let mut vals = Vec::with_capacity(tys.len());
            for (i, ty) in tys.iter().enumerate() {
                let field = row.get(i).ok_or_else(|| {
                    diesel::result::Error::DeserializationError(
                        format!("query returned fewer than {} columns", tys.len()).into(),
                    )
                })?;
                vals.push(decode(*ty, field.value())?);
            }
            out.push(vals);
        }
        Ok(out)
    }

    /// Runs a query expected to answer at most one row.
    pub fn load_one(self, conn: &mut Conn, tys: &[Ty]) -> QueryResult<Option<Vec<Val>>> {
        Ok(self.load(conn, tys)?.into_iter().next())
    }

    /// One integer (COUNT, RETURNING id, ...), or None when no row.
    pub fn load_i64(self, conn: &mut Conn) -> QueryResult<Option<i64>> {
        Ok(self.load_one(conn, &[Ty::Int])?.and_then(|r| r[0].as_i64()))
    }
}

type Raw<'a> = Option<<MultiBackend as Backend>::RawValue<'a>>;

fn decode(ty: Ty, raw: Raw<'_>) -> QueryResult<Val> {
    fn get<T, ST>(raw: Raw<'_>) -> QueryResult<Option<T>>
    where
        T: FromSql<ST, MultiBackend>,
    {
        match raw {
            None => Ok(None),
            Some(v) => T::from_sql(v)
                .map(Some)
                .map_err(diesel::result::Error::DeserializationError),
        }
    }
    Ok(match ty {
        Ty::Int => Val::Int(get::<i64, BigInt>(raw)?),
        Ty::Text => Val::Text(get::<String, Text>(raw)?),
        Ty::Bool => Val::Bool(get::<bool, Bool>(raw)?),
        Ty::Date => match raw {
            Some(MultiRawValue::Sqlite(v)) => {
                let text = sqlite_text(v)?;
                Val::Date(Some(fast_date(text).ok_or_else(|| bad_time(text))?))
            }
            other => Val::Date(get::<NaiveDate, Date>(other)?),
        },
        Ty::Time => Val::Time(get::<NaiveTime, Time>(raw)?),
        Ty::Timestamp => match raw {
            Some(MultiRawValue::Sqlite(v)) => {
                let text = sqlite_text(v)?;
                Val::Timestamp(Some(fast_timestamp(text).ok_or_else(|| bad_time(text))?))
            }
            other => Val::Timestamp(get::<NaiveDateTime, Timestamp>(other)?),
        },
    })
}

fn bad_time(text: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("not a date or time: {text:?}").into())
}

/// SQLite stores dates and timestamps as text; diesel parses them with chrono's format
/// machinery (trying several formats), which dominated list CPU. The text chartd writes is
/// always "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.ffffff]": read those digits directly.
fn sqlite_text<'a>(v: <diesel::sqlite::Sqlite as Backend>::RawValue<'a>) -> QueryResult<&'a str> {
    let text = <*const str as FromSql<Text, diesel::sqlite::Sqlite>>::from_sql(v)
        .map_err(diesel::result::Error::DeserializationError)?;
    // SAFETY: the pointer is into the current row's value, which lives while the row is read
    // (this is how diesel's own String conversion reads it before copying).
    Ok(unsafe { &*text })
}

fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

fn fast_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

fn fast_timestamp(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let date = fast_date(s)?;
    if b.len() == 10 {
        return Some(date.and_time(NaiveTime::MIN));
    }
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let micros = match b.get(19) {
        Some(b'.') => {
            let frac = &b[20..];
            let n = digits(frac)?;
            // Scale to microseconds whatever the number of digits (at most 9 are kept).
            let width = frac.len().min(9) as u32;
            let n = if frac.len() > 9 {
                digits(&frac[..9])?
            } else {
                n
            };
            (u64::from(n) * 10u64.pow(9 - width) / 1000) as u32
        }
        None => 0,
        _ => return None,
    };
    let time = NaiveTime::from_hms_micro_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        micros,
    )?;
    Some(date.and_time(time))
}

impl QueryFragment<MultiBackend> for Sql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        let mut binds = self.binds.iter();
        let mut pieces = self.text.split('?');
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for piece in pieces {
            let v = binds.next().ok_or_else(|| {
                diesel::result::Error::QueryBuilderError("more placeholders than binds".into())
            })?;
            match v {
                Val::Int(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Val::Text(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Val::Bool(v) => out.push_bind_param::<Nullable<Bool>, _>(v)?,
                Val::Date(v) => out.push_bind_param::<Nullable<Date>, _>(v)?,
                Val::Time(v) => out.push_bind_param::<Nullable<Time>, _>(v)?,
                Val::Timestamp(v) => out.push_bind_param::<Nullable<Timestamp>, _>(v)?,
            }
            out.push_sql(piece);
        }
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "more binds than placeholders".into(),
            ));
        }
        Ok(())
    }
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql {
    type SqlType = Untyped;
}

impl RunQueryDsl<Conn> for Sql {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_parse_fast_and_exactly() {
        let t = fast_timestamp("2026-03-02 09:30:05.123456").unwrap();
        assert_eq!(
            t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            "2026-03-02 09:30:05.123456"
        );
        assert_eq!(
            fast_timestamp("2026-03-02 09:30:05").unwrap().to_string(),
            "2026-03-02 09:30:05"
        );
        assert_eq!(
            fast_timestamp("2026-03-02T09:30:05.5")
                .unwrap()
                .and_utc()
                .timestamp_subsec_millis(),
            500
        );
        assert_eq!(
            fast_timestamp("2026-03-02").unwrap().to_string(),
            "2026-03-02 00:00:00"
        );
        assert!(fast_timestamp("2026-13-02 00:00:00").is_none());
        assert!(fast_timestamp("yesterday").is_none());
        assert_eq!(fast_date("1815-12-10").unwrap().to_string(), "1815-12-10");
    }
}
