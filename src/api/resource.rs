//! The declarative description of a resource. A resource file fills in one [`Resource`]:
//! its fields (with their POST/PUT access, verbose-only flag and type), its filters, the
//! scopes and permissions it needs, the verbs it allows and its practice-group sharing rule.
//! `handlers.rs` does the rest: routing, validation, SQL, pagination, output and OpenAPI.
//!
//! Conventions every resource table follows: `id` (the primary key), `practice_group_id`
//! (set from the caller, never from the body), `archived`, `created_at` and `updated_at`
//! (kept by the framework). A field is a column of the same name unless it has `sql`, a
//! read-only SQL expression over the table aliased `t`.

use actix_web::web;

use crate::api::action::Action;
use crate::api::auth::{Perm, Scope};
use crate::api::compiled::Compiled;
pub use crate::api::keys::{Key, KeyKind};
use crate::api::write::Write;
use crate::api::Ctx;
use crate::db::{Conn, Ty, Val};
use crate::error::ApiError;

/// What a key accepts and how it is stored.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// integer (BIGINT).
    Int,
    /// string (TEXT, "" when absent).
    Str,
    /// boolean.
    Bool,
    /// "YYYY-MM-DD".
    Date,
    /// "HH:MM[:SS]", stored as "HH:MM:SS" text; `24:00:00` allowed for end-of-day.
    TimeOfDay,
    /// "YYYY-MM-DDTHH:MM:SS", no timezone (UTC).
    Timestamp,
    /// Money: a decimal with two places, stored exactly as integer cents, returned as "12.50".
    Decimal,
    /// A floating-point number ("float" in the reference), accepted as a number or numeric
    /// string, stored as its canonical decimal text and answered as a JSON number.
    Float,
    /// A string from a fixed list.
    Choice(&'static [&'static str]),
    /// The id of another resource's object in the caller's practice group (the table name).
    Ref(&'static str),
    /// Nested JSON stored as text: an object, or an array of some shape.
    Json(JsonShape),
    /// An uploaded file (multipart, or base64 in JSON), answered as an absolute URL that needs
    /// the object's own authorization. Stored as a key under CHARTD_FILES_DIR ("" when none).
    File,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// Any object.
    Object,
    /// Any list of objects.
    ObjectList,
    /// An object with declared keys ([`Field::keys`]).
    Keys(&'static [Key]),
    /// A list of objects with declared keys.
    KeyedList(&'static [Key]),
    IntList,
    StrList,
    /// A list of integers and/or strings (e.g. diagnosis pointers given as numbers or codes).
    ScalarList,
}

impl JsonShape {
    /// An object (rather than a list).
    pub fn is_object(self) -> bool {
        matches!(self, JsonShape::Object | JsonShape::Keys(_))
    }
}

impl Kind {
    pub fn ty(self) -> Ty {
        match self {
            Kind::Int | Kind::Decimal | Kind::Ref(_) => Ty::Int,
            Kind::Str
            | Kind::Choice(_)
            | Kind::Json(_)
            | Kind::TimeOfDay
            | Kind::File
            | Kind::Float => Ty::Text,
            Kind::Bool => Ty::Bool,
            Kind::Date => Ty::Date,
            Kind::Timestamp => Ty::Timestamp,
        }
    }
}

/// How a key behaves in POST/PUT bodies and in output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Required,
    Optional,
    /// Output only; ignored (never written) when present in a body.
    ReadOnly,
    /// Input only; never in output (secrets, write-only instructions).
    WriteOnly,
}

/// The value an optional key takes when a POST or PUT leaves it out.
#[derive(Clone, Copy, Debug)]
pub enum Absent {
    /// "" for strings, [] / {} for JSON, NULL otherwise.
    Empty,
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

/// A field's own value rule: Err is the message.
pub type Rule = fn(&Val) -> Result<(), &'static str>;

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    pub verbose: bool,
    pub nullable: bool,
    /// A string that must say something ("This field may not be blank." otherwise), DRF's
    /// `allow_blank=False`.
    pub not_blank: bool,
    pub default: Absent,
    /// A read-only SQL expression computing the value (table alias `t`).
    pub sql: Option<&'static str>,
    /// The expression used instead of `sql` when the caller asked for verbose=true (a key
    /// whose verbose form carries more, like a clinical note's sections with their values).
    pub verbose_sql: Option<&'static str>,
    /// How a writable column is answered: an SQL expression over alias `t` used in output
    /// instead of the column (a code stored as one letter, answered in its long form).
    pub answer: Option<&'static str>,
    /// False for write-only instructions that are not columns (a hook consumes them).
    pub stored: bool,
    /// Another body key accepted for this one when it is absent (a misspelling in the
    /// reference that clients may follow). Never in output.
    pub alias: Option<&'static str>,
    /// The most characters a string (or nested JSON's text) may have; 0: the kind's default
    /// ([`Field::max_chars`]).
    pub max_len: u32,
    /// The least and most an integer may be.
    pub range: Option<(i64, i64)>,
    /// A rule of the value itself (DRF's `validate_<field>`), run with the kind's checks: Err
    /// is the field's message.
    pub check: Option<Rule>,
    pub doc: &'static str,
}

macro_rules! field_ctor {
    ($($fn:ident => $kind:expr),* $(,)?) => {
        $(pub const fn $fn(name: &'static str) -> Field { Field::new(name, $kind) })*
    };
}

impl Field {
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            access: Access::Optional,
            verbose: false,
            nullable: false,
            not_blank: false,
            default: Absent::Empty,
            sql: None,
            verbose_sql: None,
            answer: None,
            stored: true,
            alias: None,
            max_len: 0,
            range: None,
            check: None,
            doc: "",
        }
    }
    field_ctor! {
        int => Kind::Int, string => Kind::Str, boolean => Kind::Bool, date => Kind::Date,
        time => Kind::TimeOfDay, timestamp => Kind::Timestamp, decimal => Kind::Decimal,
        object => Kind::Json(JsonShape::Object), objects => Kind::Json(JsonShape::ObjectList),
        ints => Kind::Json(JsonShape::IntList), strings => Kind::Json(JsonShape::StrList),
        file => Kind::File, float => Kind::Float,
    }
    pub const fn choice(name: &'static str, values: &'static [&'static str]) -> Field {
        Field::new(name, Kind::Choice(values))
    }
    pub const fn reference(name: &'static str, table: &'static str) -> Field {
        Field::new(name, Kind::Ref(table))
    }
    /// The `id` key every object has.
    pub const fn id() -> Field {
        Field::int("id").read_only()
    }
    /// Declares the keys of an object (or of each object of a list): checked on write,
    /// stored in canonical form, documented.
    pub const fn keys(mut self, keys: &'static [Key]) -> Field {
        self.kind = match self.kind {
            Kind::Json(JsonShape::Object) => Kind::Json(JsonShape::Keys(keys)),
            Kind::Json(JsonShape::ObjectList) => Kind::Json(JsonShape::KeyedList(keys)),
            _ => panic!("keys() is for object fields"),
        };
        self
    }
    pub const fn required(mut self) -> Field {
        self.access = Access::Required;
        self
    }
    pub const fn read_only(mut self) -> Field {
        self.access = Access::ReadOnly;
        self
    }
    pub const fn write_only(mut self) -> Field {
        self.access = Access::WriteOnly;
        self
    }
    pub const fn verbose(mut self) -> Field {
        self.verbose = true;
        self
    }
    pub const fn not_blank(mut self) -> Field {
        self.not_blank = true;
        self
    }
    pub const fn nullable(mut self) -> Field {
        self.nullable = true;
        self
    }
    pub const fn default(mut self, d: Absent) -> Field {
        self.default = d;
        self
    }
    pub const fn sql(mut self, expr: &'static str) -> Field {
        self.sql = Some(expr);
        self.access = Access::ReadOnly;
        self
    }
    /// With verbose=true, this expression replaces the one given to `sql`.
    pub const fn verbose_sql(mut self, expr: &'static str) -> Field {
        self.verbose_sql = Some(expr);
        self
    }
    /// Answers the (writable) column through an SQL expression over alias `t`.
    pub const fn answer(mut self, expr: &'static str) -> Field {
        self.answer = Some(expr);
        self
    }
    /// A write-only instruction, not a column: hooks read it from the record.
    pub const fn instruction(mut self) -> Field {
        self.access = Access::WriteOnly;
        self.stored = false;
        self
    }
    pub const fn doc(mut self, doc: &'static str) -> Field {
        self.doc = doc;
        self
    }
    pub const fn max_len(mut self, n: u32) -> Field {
        self.max_len = n;
        self
    }
    pub const fn range(mut self, min: i64, max: i64) -> Field {
        self.range = Some((min, max));
        self
    }
    /// The most characters a value may have: the declared `max_len`, else by kind — a name,
    /// code, email or phone number 255, other text (notes, addresses, reasons) 20,000, nested
    /// JSON 100,000. The reference gives no lengths; these keep a 10 MB first name out of
    /// every list page.
    pub fn max_chars(&self) -> Option<usize> {
        if self.max_len > 0 {
            return Some(self.max_len as usize);
        }
        let n = self.name;
        match self.kind {
            Kind::Str
                if n.ends_with("name")
                    || n.ends_with("code")
                    || n.ends_with("email")
                    || n.ends_with("phone")
                    || n.ends_with("_id")
                    || n == "username" =>
            {
                Some(255)
            }
            Kind::Str => Some(20_000),
            Kind::Json(_) => Some(100_000),
            _ => None,
        }
    }
    pub const fn check(mut self, rule: Rule) -> Field {
        self.check = Some(rule);
        self
    }
    pub const fn alias(mut self, alias: &'static str) -> Field {
        self.alias = Some(alias);
        self
    }
    /// The expression computing this key in a verbose or plain answer (None: a column).
    pub fn sql_for(&self, verbose: bool) -> Option<&'static str> {
        match self.verbose_sql {
            Some(expr) if verbose => Some(expr),
            _ => self.sql,
        }
    }
    pub fn writable(&self) -> bool {
        matches!(
            self.access,
            Access::Required | Access::Optional | Access::WriteOnly
        ) && self.sql.is_none()
            && !matches!(self.name, "id" | "created_at" | "updated_at")
    }
    pub fn readable(&self) -> bool {
        self.access != Access::WriteOnly
    }
}

/// How a query parameter narrows a list.
#[derive(Clone, Copy, Debug)]
pub enum FilterKind {
    /// column = value, the value parsed as the column's kind.
    Eq(Kind),
    /// Case-insensitive substring match on a text column.
    IContains,
    /// column IN (comma-separated integers).
    IntIn,
    /// A date column equal to the date, or a timestamp column on that (UTC) day.
    OnDate,
    /// "YYYY-MM-DD/YYYY-MM-DD", inclusive, on a date or timestamp column.
    DateRange { max_days: Option<i64> },
    /// Rows whose column is at or after the timestamp (or date).
    Since,
    /// A boolean parameter with resource-specific meaning, applied by the `scope_list` hook.
    Flag,
    /// A parameter checked as this kind (400 naming it when malformed) and applied by the
    /// `scope_list` hook, for filters whose meaning depends on other parameters.
    Custom(Kind),
    /// A condition of its own: SQL over alias `t` whose every `?` takes the value (parsed as
    /// the kind); `:group` stands for the caller's practice group.
    Where { sql: &'static str, kind: Kind },
    /// Like `Where` for comma-separated values (at most 100): rows meeting the condition
    /// for any of them.
    WhereAny { sql: &'static str, kind: Kind },
    /// A boolean parameter: when true, rows meeting the condition (SQL over alias `t`).
    WhereTrue(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub param: &'static str,
    /// The column (or SQL expression over alias `t`) it applies to.
    pub column: &'static str,
    pub kind: FilterKind,
    /// The least and most an integer value may be.
    pub range: Option<(i64, i64)>,
    /// Another parameter this one needs (400 naming that one without it).
    pub needs: Option<&'static str>,
    pub doc: &'static str,
}

impl Filter {
    pub const fn eq(param: &'static str, kind: Kind) -> Filter {
        Filter {
            param,
            column: param,
            kind: FilterKind::Eq(kind),
            range: None,
            needs: None,
            doc: "",
        }
    }
    pub const fn icontains(param: &'static str) -> Filter {
        Filter {
            param,
            column: param,
            kind: FilterKind::IContains,
            range: None,
            needs: None,
            doc: "",
        }
    }
    pub const fn on(mut self, column: &'static str) -> Filter {
        self.column = column;
        self
    }
    pub const fn new(param: &'static str, column: &'static str, kind: FilterKind) -> Filter {
        Filter {
            param,
            column,
            kind,
            range: None,
            needs: None,
            doc: "",
        }
    }
    /// A filter with its own condition ([`FilterKind::Where`], `WhereAny`, `WhereTrue`).
    pub const fn sql(param: &'static str, kind: FilterKind) -> Filter {
        Filter::new(param, "", kind)
    }
    pub const fn range(mut self, least: i64, most: i64) -> Filter {
        self.range = Some((least, most));
        self
    }
    pub const fn needs(mut self, other: &'static str) -> Filter {
        self.needs = Some(other);
        self
    }
    /// `since`: updated at or after the timestamp.
    pub const fn since() -> Filter {
        Filter {
            param: "since",
            column: "updated_at",
            kind: FilterKind::Since,
            range: None,
            needs: None,
            doc: "Only objects updated at or after this timestamp (or date).",
        }
    }
    pub const fn doc(mut self, doc: &'static str) -> Filter {
        self.doc = doc;
        self
    }
}

/// Which verbs a resource allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verbs {
    pub list: bool,
    pub retrieve: bool,
    pub create: bool,
    pub update: bool,
    pub partial_update: bool,
    pub destroy: bool,
}

impl Verbs {
    pub const NONE: Verbs = Verbs {
        list: false,
        retrieve: false,
        create: false,
        update: false,
        partial_update: false,
        destroy: false,
    };
    pub const READ: Verbs = Verbs {
        list: true,
        retrieve: true,
        create: false,
        update: false,
        partial_update: false,
        destroy: false,
    };
    pub const READ_PATCH: Verbs = Verbs {
        partial_update: true,
        ..Verbs::READ
    };
    pub const NO_DELETE: Verbs = Verbs {
        create: true,
        update: true,
        partial_update: true,
        ..Verbs::READ
    };
    pub const ALL: Verbs = Verbs {
        destroy: true,
        ..Verbs::NO_DELETE
    };
}

/// Who in a practice group sees an object ("Practice group access" in the reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Everyone in the practice group.
    PracticeGroup,
    /// Everyone in the practice group when the group's setting is on; otherwise only the
    /// caller's doctor's objects (the `doctor` column).
    IfSetting(crate::api::auth::ShareSetting),
}

/// What the caller is doing, for hooks and the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    List,
    Retrieve,
    Create,
    Update,
    PartialUpdate,
    Destroy,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Retrieve => "retrieve",
            Op::Create => "create",
            Op::Update => "update",
            Op::PartialUpdate => "partial_update",
            Op::Destroy => "destroy",
        }
    }
    pub fn is_write(self) -> bool {
        !matches!(self, Op::List | Op::Retrieve)
    }
}

/// Parsed input: the writable keys present in (or defaulted for) one object of a body.
/// `given` lists the keys the client actually sent (the others were defaulted).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Record {
    /// Key and value, in the order parsed (then as hooks set them).
    pub values: Vec<(&'static str, Val)>,
    /// The keys the client sent.
    pub sent: Vec<&'static str>,
}

impl Record {
    /// Whether the client sent this key (rather than it taking its default).
    pub fn given(&self, name: &str) -> bool {
        self.sent.contains(&name)
    }

    pub fn get(&self, name: &str) -> Option<&Val> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    pub fn set(&mut self, name: &'static str, v: Val) {
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = v,
            None => self.values.push((name, v)),
        }
    }
    pub fn remove(&mut self, name: &str) -> Option<Val> {
        let i = self.values.iter().position(|(n, _)| *n == name)?;
        Some(self.values.remove(i).1)
    }
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Per-resource behaviour beyond the declaration. Every hook does nothing by default.
pub trait Hooks: Sync {
    /// Checks and completes a parsed object before it is written (in the write transaction):
    /// add field errors with `w.error`, complete the record with `w.set`.
    fn validate(&self, _w: &mut Write) -> Result<(), ApiError> {
        Ok(())
    }

    /// Runs after an insert, update or delete of object `id` in the same transaction
    /// (children, derived rows, events of other objects). Errors it adds roll the write back.
    fn after_write(&self, _w: &mut Write, _id: i64) -> Result<(), ApiError> {
        Ok(())
    }

    /// Adds conditions to every query that reads or writes this resource's objects, after the
    /// practice-group scope (e.g. "only what the calling app created").
    fn scope(&self, _ctx: &Ctx, _sql: &mut crate::db::Sql) {}

    /// Adds resource-specific conditions to a list query (for `Flag` filters and the like).
    fn scope_list(
        &self,
        _ctx: &Ctx,
        _params: &crate::api::filters::Params,
        _sql: &mut crate::db::Sql,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Post-processes a page of rows read for a list (inside its database call): may drop rows
    /// (a filter that needs computing) or fill computed values. The page's links are already
    /// fixed, so a page may come out shorter than page_size.
    fn after_list(
        &self,
        _ctx: &Ctx,
        _conn: &mut Conn,
        _params: &crate::api::filters::Params,
        _out: &crate::api::compiled::Output,
        _rows: &mut Vec<Vec<Val>>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Registers extra routes (DRF's @action), relative to /api/{path}: e.g. `/{id}/lock`.
    fn extra_routes(&self, _c: &'static Compiled, _cfg: &mut web::ServiceConfig) {}

    /// Describes the extra routes in the OpenAPI document.
    fn extra_openapi(&self, _res: &'static Resource, _paths: &mut crate::api::openapi::Paths) {}
}

pub struct NoHooks;
impl Hooks for NoHooks {}

/// The webhook events a resource raises (CONTRACT.md, Webhooks). The framework records them
/// in the outbox inside the write's transaction: `create` after every POST (single, bulk, or
/// `handlers::create_in`), `modify` after every PUT and PATCH, and after a DELETE that only
/// archives the object unless `delete` is set; `delete` after a DELETE, and after a PUT or
/// PATCH that sets `archived` from false to true.
#[derive(Clone, Copy)]
pub struct Events {
    pub create: Option<&'static str>,
    pub modify: Option<&'static str>,
    pub delete: Option<&'static str>,
    /// The resource whose GET /api/{path}/{id} is the event's `object`, when this one is
    /// another view of the same rows (patients_summary sends patients).
    pub object: Option<&'static Resource>,
}

impl Events {
    pub const NONE: Events = Events {
        create: None,
        modify: None,
        delete: None,
        object: None,
    };

    /// Create and modify events.
    pub const fn create_modify(create: &'static str, modify: &'static str) -> Events {
        Events {
            create: Some(create),
            modify: Some(modify),
            ..Events::NONE
        }
    }
}

/// Which kind of change a write made, for [`Events`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Create,
    Modify,
    Delete,
}

impl Events {
    /// The event a change raises, if any.
    pub fn name(&self, change: Change) -> Option<&'static str> {
        match change {
            Change::Create => self.create,
            Change::Modify => self.modify,
            Change::Delete => self.delete,
        }
    }
}

pub struct Resource {
    /// URL segment under /api/ (and the table name unless `table` is set).
    pub path: &'static str,
    /// The table, when it differs from `path` (a second view of the same rows).
    pub table: &'static str,
    /// Singular name for the OpenAPI schema ("Patient").
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
    pub filters: &'static [Filter],
    /// Lists need one of these parameters (400 naming the first without any).
    pub list_needs_one_of: &'static [&'static str],
    pub scopes: &'static [Scope],
    pub permissions: &'static [Perm],
    /// The permissions reads need, when they differ from `permissions` (e.g. none).
    pub read_permissions: Option<&'static [Perm]>,
    pub verbs: Verbs,
    /// The verbs (among `verbs`) that go beyond the reference, which makes the resource
    /// read-only: chartd's way in. Marked `x-chartd-extension` in the OpenAPI document.
    pub extension_verbs: Verbs,
    pub sharing: Sharing,
    /// DELETE archives (sets `archived`) instead of removing the row.
    pub soft_delete: bool,
    /// Lists hide archived objects unless `show_archived` is given.
    pub hide_archived: bool,
    /// Patient data: every read and write is recorded in the audit trail.
    pub audited: bool,
    /// (default, max) page size, and the same with verbose=true.
    pub page_size: (i64, i64),
    pub verbose_page_size: (i64, i64),
    /// Extra actions (DRF's @action): routes, access, body, transaction and documentation
    /// from one declaration each.
    pub actions: &'static [Action],
    /// What the resource does beyond its declaration.
    pub hooks: &'static dyn Hooks,
    /// The webhook events its writes raise.
    pub events: Events,
}

impl Resource {
    pub const DEFAULT: Resource = Resource {
        path: "",
        table: "",
        name: "",
        doc: "",
        fields: &[],
        filters: &[],
        list_needs_one_of: &[],
        scopes: &[],
        permissions: &[],
        read_permissions: None,
        verbs: Verbs::READ,
        extension_verbs: Verbs::NONE,
        sharing: Sharing::PracticeGroup,
        soft_delete: true,
        hide_archived: true,
        audited: false,
        page_size: (250, 250),
        verbose_page_size: (50, 50),
        actions: &[],
        hooks: &NoHooks,
        events: Events::NONE,
    };

    pub fn table(&self) -> &'static str {
        if self.table.is_empty() {
            self.path
        } else {
            self.table
        }
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// `t."name"`: a column of the resource's table in generated SQL (quoted, as the
    /// reference has keys like `order`).
    pub fn column(name: &str) -> String {
        format!("t.\"{name}\"")
    }

    pub fn has_doctor_column(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.name == "doctor" && f.sql.is_none())
    }
}
