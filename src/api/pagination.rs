//! `page` and `page_size`, answering `{"next", "previous", "results"}` with absolute links.
//!
//! Pages are ordered by id. The `next` link carries where the page ended (`after=ID`, a
//! keyset cursor, as DRF's CursorPagination and DrChrono's live API do) and `previous` where
//! it began (`before=ID`), so following links costs the same at any depth. A hand-built
//! `page=N` without a cursor still works, by offset.

use crate::api::fields::write_str;
use crate::api::filters::Params;
use crate::db::{Sql, Val};
use crate::error::ApiError;

#[derive(Clone, Copy, Debug)]
enum Cursor {
    /// Rows after this id (following `next`).
    After(i64),
    /// Rows before this id (following `previous`).
    Before(i64),
    /// No cursor: `page` by offset.
    Offset,
}

#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub number: i64,
    pub size: i64,
    cursor: Cursor,
}

/// Where the neighbouring pages are, once the rows are read.
#[derive(Debug, Default)]
pub struct Links {
    pub next: Option<(i64, i64)>,
    pub previous: Option<(i64, i64)>,
}

impl Page {
    /// Reads page, page_size, after and before; `(default, max)` is the resource's page size.
    pub fn from_params(params: &Params, (default, max): (i64, i64)) -> Result<Page, ApiError> {
        let size = params.positive("page_size")?.unwrap_or(default).min(max);
        let number = params.positive("page")?.unwrap_or(1);
        if number > 1_000_000_000 {
            return Err(ApiError::field("page", "Invalid page."));
        }
        let cursor = match (params.positive("after")?, params.positive("before")?) {
            (Some(a), _) => Cursor::After(a),
            (None, Some(b)) => Cursor::Before(b),
            (None, None) => Cursor::Offset,
        };
        Ok(Page {
            number,
            size,
            cursor,
        })
    }

    /// Appends the cursor condition, ORDER BY and LIMIT (one extra row tells whether more
    /// follow). The limit is written inline: SQLite re-prepares a statement with a bound LIMIT.
    pub fn finish_query(&self, sql: &mut Sql) {
        let limit = self.size + 1;
        match self.cursor {
            Cursor::After(id) => sql.push(
                &format!(" AND t.id > ? ORDER BY t.id LIMIT {limit}"),
                [Val::from(id)],
            ),
            Cursor::Before(id) => sql.push(
                &format!(" AND t.id < ? ORDER BY t.id DESC LIMIT {limit}"),
                [Val::from(id)],
            ),
            Cursor::Offset if self.number > 1 => {
                let offset = (self.number - 1).saturating_mul(self.size);
                sql.push(
                    &format!(" ORDER BY t.id LIMIT {limit} OFFSET ?"),
                    [Val::from(offset)],
                )
            }
            Cursor::Offset => sql.push(&format!(" ORDER BY t.id LIMIT {limit}"), []),
        };
    }

    /// Trims the extra row, puts rows in id order and works out the neighbouring pages as
    /// (page number, cursor id).
    pub fn links<R>(&self, mut rows: Vec<R>, id: impl Fn(&R) -> i64) -> (Vec<R>, Links) {
        let more = rows.len() as i64 > self.size;
        rows.truncate(self.size as usize);
        let backwards = matches!(self.cursor, Cursor::Before(_));
        if backwards {
            rows.reverse();
        }
        let (first, last) = match (rows.first(), rows.last()) {
            (Some(f), Some(l)) => (id(f), id(l)),
            _ => return (rows, Links::default()),
        };
        let has_next = if backwards { true } else { more };
        let has_previous = if backwards { more } else { self.number > 1 };
        let links = Links {
            next: has_next.then_some((self.number + 1, last)),
            previous: has_previous.then_some(((self.number - 1).max(1), first)),
        };
        (rows, links)
    }
}

fn write_link(buf: &mut Vec<u8>, base: &str, params: &Params, link: Option<(i64, i64)>, key: &str) {
    match link {
        None => buf.extend_from_slice(b"null"),
        Some((page, cursor)) => {
            let query = params.with(
                &["page", "after", "before"],
                &[("page", page.to_string()), (key, cursor.to_string())],
            );
            write_str(buf, &format!("{base}?{query}"));
        }
    }
}

/// Writes `{"next":..,"previous":..,"results":[...]}`; `results` writes the items.
pub fn write_envelope(
    buf: &mut Vec<u8>,
    base: &str,
    params: &Params,
    links: &Links,
    results: impl FnOnce(&mut Vec<u8>),
) {
    buf.extend_from_slice(b"{\"next\":");
    write_link(buf, base, params, links.next, "after");
    buf.extend_from_slice(b",\"previous\":");
    write_link(buf, base, params, links.previous, "before");
    buf.extend_from_slice(b",\"results\":[");
    results(buf);
    buf.extend_from_slice(b"]}");
}
