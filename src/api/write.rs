//! The context a write hook works in: the request, the connection of the write's transaction,
//! the operation, the parsed record, the stored one (PUT/PATCH) and the errors found so far —
//! DRF's `validate(self, attrs)` with `self.instance` and `self.context`, in one value.

use crate::api::resource::{Op, Record};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Val};
use crate::error::{ApiError, FieldErrors};

/// The one message for a reference that does not exist or that the caller may not see
/// (DRF's `PrimaryKeyRelatedField.default_error_messages["does_not_exist"]`).
pub fn does_not_exist(id: i64) -> String {
    format!("Invalid pk \"{id}\" - object does not exist.")
}

pub struct Write<'a> {
    pub ctx: &'a Ctx,
    pub conn: &'a mut Conn,
    pub op: Op,
    /// The keys this write sets (parsed from the body, completed by hooks).
    pub rec: &'a mut Record,
    /// The stored object on PUT/PATCH.
    pub current: Option<&'a Record>,
    pub errors: &'a mut FieldErrors,
}

impl Write<'_> {
    /// The value after this write: the one it sets, else the stored one.
    pub fn value(&self, key: &str) -> Option<&Val> {
        self.rec
            .get(key)
            .or_else(|| self.current.and_then(|c| c.get(key)))
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.value(key).and_then(Val::as_i64)
    }
    pub fn text(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(Val::as_str)
    }
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.value(key).and_then(Val::as_bool)
    }
    /// The stored value (None on POST).
    pub fn stored(&self, key: &str) -> Option<&Val> {
        self.current.and_then(|c| c.get(key))
    }
    /// Whether this write changes `key` (sets it to something other than what is stored).
    pub fn changes(&self, key: &str) -> bool {
        self.rec.has(key) && self.rec.get(key) != self.stored(key)
    }
    pub fn set(&mut self, key: &'static str, v: impl Into<Val>) {
        self.rec.set(key, v.into());
    }
    pub fn error(&mut self, key: &str, msg: impl Into<String>) {
        self.errors.add(key, msg);
    }
    pub fn has_error(&self, key: &str) -> bool {
        self.errors.has(key)
    }

    /// Whether object `id` of `table` exists and the caller may see it: the target
    /// resource's whole scope (practice group, sharing rule, its scope hook); a table no
    /// resource owns is checked by practice group.
    pub fn visible(&mut self, table: &str, id: i64) -> Result<bool, ApiError> {
        match self.ctx.state.registry.owner_of(table) {
            Some(target) => target.visible(self.conn, self.ctx, id),
            None => Ok(Sql::new(format!(
                "SELECT t.id FROM {table} t WHERE t.id = ? AND t.practice_group_id = ?"
            ))
            .bind(id)
            .bind(self.ctx.practice_group())
            .load_i64(self.conn)?
            .is_some()),
        }
    }

    /// Checks a reference to `table` (declared, or nested in JSON) and adds the one
    /// "does not exist" error to `field` when the caller cannot see it. Answers whether it
    /// can.
    pub fn check_ref(&mut self, field: &str, table: &str, id: i64) -> Result<bool, ApiError> {
        if self.has_error(field) {
            return Ok(false);
        }
        let found = self.visible(table, id)?;
        if !found {
            self.error(field, does_not_exist(id));
        }
        Ok(found)
    }
}
