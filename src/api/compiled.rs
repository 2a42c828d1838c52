//! A resource compiled once at start-up: the SELECTs of its plain and verbose answers, the
//! practice-group scope (with the sharing rule and the resource's own scope hook), reading
//! objects by id, and the record writes the handlers and actions share.

use crate::api::audit::{self, AuditEntry};
use crate::api::events;
use crate::api::fields;
use crate::api::resource::{Change, Field, Kind, Op, Record, Resource, Sharing};
use crate::api::write::Write;
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// A resource with its SQL prepared once at start-up.
pub struct Compiled {
    pub res: &'static Resource,
    plain: Output,
    verbose: Output,
    /// The stored writable fields, read back as the `current` record for PUT/PATCH hooks.
    record_fields: Vec<&'static Field>,
    record_select: String,
}

/// The keys an answer carries (verbose or not) and the SELECT that reads them.
pub struct Output {
    pub fields: Vec<&'static Field>,
    /// Each field's encoded `"name":`.
    keys: Vec<Vec<u8>>,
    pub tys: Vec<Ty>,
    pub select: String,
}

impl Output {
    fn new(res: &'static Resource, verbose: bool) -> Output {
        let fields: Vec<&'static Field> = res
            .fields
            .iter()
            .filter(|f| f.readable() && (verbose || !f.verbose))
            .collect();
        let cols: Vec<String> = fields
            .iter()
            .map(|f| match (f.sql_for(verbose).or(f.answer), f.kind) {
                (Some(expr), _) => format!("({expr})"),
                // A file is answered as its download path (made absolute when written).
                (None, Kind::File) => format!(
                    "CASE WHEN t.\"{0}\" = '' THEN '' ELSE '/api/{1}/' || t.id || '/{0}' END",
                    f.name, res.path
                ),
                (None, _) => Resource::column(f.name),
            })
            .collect();
        Output {
            tys: fields.iter().map(|f| f.kind.ty()).collect(),
            keys: fields.iter().map(|f| fields::encoded_key(f.name)).collect(),
            select: format!("SELECT {} FROM {} t", cols.join(", "), res.table()),
            fields,
        }
    }

    /// Writes one row as a JSON object; `base` is CHARTD_PUBLIC_URL, for file URLs.
    pub fn write(&self, buf: &mut Vec<u8>, row: &[Val], base: &str) {
        fields::write_object(buf, &self.keys, &self.fields, row, base);
    }

    /// The position of a key in the rows this output reads.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn id_of(&self, row: &[Val]) -> Option<i64> {
        let i = self.fields.iter().position(|f| f.name == "id")?;
        row.get(i).and_then(Val::as_i64)
    }
}

impl Compiled {
    /// Compiles a resource; the [`Registry`](crate::api::registry::Registry) does this once
    /// per resource and process.
    pub fn new(res: &'static Resource) -> Compiled {
        let record_fields: Vec<&'static Field> = res
            .fields
            .iter()
            .filter(|f| (f.writable() || f.name == "doctor") && f.stored)
            .collect();
        let record_select = format!(
            "SELECT t.id, {} FROM {} t",
            record_fields
                .iter()
                .map(|f| Resource::column(f.name))
                .collect::<Vec<_>>()
                .join(", "),
            res.table()
        );
        Compiled {
            res,
            plain: Output::new(res, false),
            verbose: Output::new(res, true),
            record_fields,
            record_select,
        }
    }

    pub fn output(&self, verbose: bool) -> &Output {
        if verbose {
            &self.verbose
        } else {
            &self.plain
        }
    }

    /// ` WHERE` conditions limiting rows to what the caller may see.
    pub fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        sql.push(
            " WHERE t.practice_group_id = ?",
            [Val::from(ctx.practice_group())],
        );
        if let Some(doctor) = self.doctor_restriction(ctx) {
            sql.push(" AND t.doctor = ?", [Val::from(doctor)]);
        }
        self.res.hooks.scope(ctx, sql);
    }

    /// The doctor the caller is limited to when the group does not share this resource.
    pub fn doctor_restriction(&self, ctx: &Ctx) -> Option<i64> {
        match self.res.sharing {
            Sharing::IfSetting(s) if !ctx.user.shares(s) && self.res.has_doctor_column() => {
                Some(ctx.user.doctor_id)
            }
            _ => None,
        }
    }

    /// Reads objects by id (in the caller's scope), in the order of `ids`.
    pub fn fetch(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        ids: &[i64],
        verbose: bool,
    ) -> Result<Vec<Vec<Val>>, ApiError> {
        let out = self.output(verbose);
        if let [id] = ids {
            let mut sql = Sql::new(out.select.as_str());
            self.scope(ctx, &mut sql);
            sql.push(" AND t.id = ?", [Val::from(*id)]);
            return Ok(vec![sql
                .load_one(conn, &out.tys)?
                .ok_or(ApiError::NotFound)?]);
        }
        // Several (a bulk create): one query per hundred ids, answered in the order asked.
        let id_at = out
            .index_of("id")
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no id key")))?;
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let mut sql = Sql::new(out.select.as_str());
            self.scope(ctx, &mut sql);
            let marks = vec!["?"; chunk.len()].join(", ");
            sql.push(
                &format!(" AND t.id IN ({marks})"),
                chunk.iter().map(|id| Val::from(*id)),
            );
            for row in sql.load(conn, &out.tys)? {
                if let Some(id) = row[id_at].as_i64() {
                    found.insert(id, row);
                }
            }
        }
        ids.iter()
            .map(|id| found.remove(id).ok_or(ApiError::NotFound))
            .collect()
    }

    /// One object as JSON bytes, or 404.
    pub fn fetch_json(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        id: i64,
        verbose: bool,
    ) -> Result<Vec<u8>, ApiError> {
        let row = self.fetch(conn, ctx, &[id], verbose)?.remove(0);
        let mut buf = Vec::with_capacity(512);
        self.output(verbose)
            .write(&mut buf, &row, &ctx.state.base_url);
        Ok(buf)
    }

    /// The stored writable values (and the id) of an object in the caller's scope.
    pub fn load_record(&self, conn: &mut Conn, ctx: &Ctx, id: i64) -> Result<Record, ApiError> {
        let mut sql = Sql::new(self.record_select.as_str());
        self.scope(ctx, &mut sql);
        sql.push(" AND t.id = ?", [Val::from(id)]);
        let tys: Vec<Ty> = std::iter::once(Ty::Int)
            .chain(self.record_fields.iter().map(|f| f.kind.ty()))
            .collect();
        let row = sql.load_one(conn, &tys)?.ok_or(ApiError::NotFound)?;
        let names = std::iter::once("id").chain(self.record_fields.iter().map(|f| f.name));
        Ok(Record {
            values: names.zip(row).collect(),
            sent: Vec::new(),
        })
    }

    /// Whether object `id` exists and the caller may see it: this resource's whole scope
    /// (practice group, sharing rule, its own scope hook), as DRF's PrimaryKeyRelatedField
    /// looks in its queryset.
    pub fn visible(&self, conn: &mut Conn, ctx: &Ctx, id: i64) -> Result<bool, ApiError> {
        if ctx.known_refs.borrow().contains(&(self.res.path, id)) {
            return Ok(true);
        }
        let mut sql = Sql::new(format!("SELECT t.id FROM {} t", self.res.table()));
        self.scope(ctx, &mut sql);
        sql.push(" AND t.id = ?", [Val::from(id)]);
        let found = sql.load_i64(conn)?.is_some();
        if found {
            // A bulk create checks each distinct reference once.
            ctx.known_refs.borrow_mut().insert((self.res.path, id));
        }
        Ok(found)
    }

    /// Checks references, the sharing rule and the resource's own rules for one record.
    pub(crate) fn validate(
        &self,
        ctx: &Ctx,
        conn: &mut Conn,
        op: Op,
        rec: &mut Record,
        current: Option<&Record>,
    ) -> Result<FieldErrors, ApiError> {
        let mut errors = FieldErrors::default();
        let mut w = Write {
            ctx,
            conn,
            op,
            rec,
            current,
            errors: &mut errors,
        };
        for f in self.res.fields.iter().filter(|f| f.writable()) {
            if let (Kind::Ref(table), Some(id)) = (f.kind, w.rec.get(f.name).and_then(Val::as_i64))
            {
                w.check_ref(f.name, table, id)?;
            }
        }
        let doctor = w.rec.get("doctor").and_then(Val::as_i64);
        if let (Some(own), Some(doctor)) = (self.doctor_restriction(ctx), doctor) {
            if doctor != own && !w.has_error("doctor") {
                w.error(
                    "doctor",
                    "Your practice group does not share these records between doctors; \
                     use your own doctor.",
                );
            }
        }
        self.res.hooks.validate(&mut w)?;
        Ok(errors)
    }

    /// Whether a record key is a column (declared instructions like `reminder_profile` are not;
    /// keys a hook adds are).
    fn stored(&self, name: &str) -> bool {
        self.res.field(name).is_none_or(|f| f.stored)
    }

    /// Inserts one validated record; answers its id.
    fn insert(&self, conn: &mut Conn, ctx: &Ctx, rec: &Record) -> Result<i64, ApiError> {
        let now = now();
        let mut cols: Vec<String> = vec![
            "practice_group_id".into(),
            "created_at".into(),
            "updated_at".into(),
        ];
        let mut binds = vec![Val::from(ctx.practice_group()), now.into(), now.into()];
        // Keys come from the declaration (parse_object) or a hook, never from the client.
        for (name, v) in rec.values.iter().filter(|(n, _)| self.stored(n)) {
            cols.push(format!("\"{name}\""));
            binds.push(v.clone());
        }
        let marks = vec!["?"; cols.len()].join(", ");
        let mut sql = Sql::new(format!(
            "INSERT INTO {} ({}) VALUES ({marks}) RETURNING id",
            self.res.table(),
            cols.join(", ")
        ));
        sql.binds = binds;
        sql.load_i64(conn)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("INSERT returned no id")))
    }

    /// Inserts a validated record and runs what follows every create in the same transaction:
    /// the after_write hook and the audit record.
    pub(crate) fn insert_created(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        rec: &mut Record,
    ) -> Result<i64, ApiError> {
        let id = self.insert_unaudited(conn, ctx, rec)?;
        if self.res.audited {
            audit::insert(conn, &[audit(self, ctx, Op::Create, Some(id), None)])?;
        }
        Ok(id)
    }

    /// Inserts, runs after_write and raises the create event; the caller audits.
    pub(crate) fn insert_unaudited(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        rec: &mut Record,
    ) -> Result<i64, ApiError> {
        let id = self.insert(conn, ctx, rec)?;
        self.after_write(conn, ctx, Op::Create, rec, None, id)?;
        events::raise_change(conn, ctx, self, Change::Create, id)?;
        Ok(id)
    }

    /// Runs the after_write hook; errors it adds are the write's (and roll it back).
    pub(crate) fn after_write(
        &self,
        conn: &mut Conn,
        ctx: &Ctx,
        op: Op,
        rec: &mut Record,
        current: Option<&Record>,
        id: i64,
    ) -> Result<(), ApiError> {
        let mut errors = FieldErrors::default();
        let mut w = Write {
            ctx,
            conn,
            op,
            rec,
            current,
            errors: &mut errors,
        };
        self.res.hooks.after_write(&mut w, id)?;
        errors.into_result()
    }

    /// Writes the given columns of an existing object and bumps updated_at. The record's keys
    /// come from the declaration or a hook, never from the client.
    pub fn update_row(&self, conn: &mut Conn, id: i64, rec: &Record) -> Result<(), ApiError> {
        let mut sets = vec!["updated_at = ?".to_string()];
        let mut binds = vec![Val::from(now())];
        for (name, v) in rec.values.iter().filter(|(n, _)| self.stored(n)) {
            sets.push(format!("\"{name}\" = ?"));
            binds.push(v.clone());
        }
        binds.push(Val::from(id));
        let mut sql = Sql::new(format!(
            "UPDATE {} SET {} WHERE id = ?",
            self.res.table(),
            sets.join(", ")
        ));
        sql.binds = binds;
        sql.execute(conn)?;
        Ok(())
    }
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

pub(crate) fn audit(
    c: &Compiled,
    ctx: &Ctx,
    op: Op,
    id: Option<i64>,
    ids: Option<&[i64]>,
) -> AuditEntry {
    AuditEntry::new(ctx, op.as_str(), c.res.path, id, ids)
}
