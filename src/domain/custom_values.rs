//! Values a record carries for the practice's own definitions: appointments' `custom_fields`
//! and `custom_vitals`, patients' `custom_demographics`. Each is a list of
//! `{TYPE_KEY: definition id, VALUE_KEY: "..."}` checked against its definition in the
//! caller's practice group (its data type and allowed values, where it has them).

use serde_json::{json, Value};

use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty};
use crate::error::ApiError;

pub struct CustomValues {
    /// The definitions' table.
    pub table: &'static str,
    /// How errors name a definition ("custom vital").
    pub noun: &'static str,
    pub type_key: &'static str,
    pub value_key: &'static str,
    /// SQL (over alias `t`) for the definition's data type ("number" is checked) and its
    /// allowed values (a JSON list; enforced when not empty).
    pub data_type: &'static str,
    pub allowed: &'static str,
}

impl CustomValues {
    /// The list in canonical form, or the first problem (a message for the field).
    pub fn check(
        &self,
        ctx: &Ctx,
        conn: &mut Conn,
        raw: &str,
    ) -> Result<Result<String, String>, ApiError> {
        let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some(id) = item.get(self.type_key).and_then(Value::as_i64) else {
                return Ok(Err(format!(
                    "Item {i}: {} (an id of /api/{}) is required.",
                    self.type_key, self.table
                )));
            };
            let value = match item.get(self.value_key) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            let row = Sql::new(format!(
                "SELECT {}, {} FROM {} t WHERE t.id = ? AND t.practice_group_id = ?",
                self.data_type, self.allowed, self.table
            ))
            .bind(id)
            .bind(ctx.practice_group())
            .load_one(conn, &[Ty::Text, Ty::Text])?;
            let Some(row) = row else {
                return Ok(Err(format!("Item {i}: {} {id} does not exist.", self.noun)));
            };
            if value.is_empty() {
                out.push(json!({self.type_key: id, self.value_key: value}));
                continue;
            }
            if row[0].as_str() == Some("number") && value.parse::<f64>().is_err() {
                return Ok(Err(format!("Item {i}: {} {id} takes a number.", self.noun)));
            }
            let allowed: Vec<String> =
                serde_json::from_str(row[1].as_str().unwrap_or("[]")).unwrap_or_default();
            if !allowed.is_empty() && !allowed.contains(&value) {
                return Ok(Err(format!(
                    "Item {i}: \"{value}\" is not one of {} (allowed for {} {id}).",
                    allowed.join(", "),
                    self.noun
                )));
            }
            out.push(json!({self.type_key: id, self.value_key: value}));
        }
        Ok(Ok(Value::Array(out).to_string()))
    }
}
