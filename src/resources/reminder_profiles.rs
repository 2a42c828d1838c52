//! /api/reminder_profiles: default sets of reminders a doctor applies to appointments
//! ("Reminder Profiles"), through the appointment's write-only `reminder_profile` key.
//!
//! A reminder is {"type": "email"|"sms"|"phone"|"auto_call", "scheduled_time_delta": {"days":
//! N, "hours": N, "minutes": N}} — when to send it, before the appointment.

use serde_json::Value;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Key, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "reminder_profiles",
    name: "ReminderProfile",
    doc: "Reminder profiles of the caller's doctor (shared when the group shares them).",
    scopes: &[Scope::Calendar],
    permissions: &[Perm::AccessScheduling],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::ReminderProfiles),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors").required(),
        Field::string("name").required(),
        Field::objects("reminders").keys(REMINDER).required(),
        Field::boolean("archived").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &ReminderHooks,
    ..Resource::DEFAULT
};

pub const REMINDER_TYPES: &[&str] = &["email", "sms", "phone", "auto_call"];

/// How long before the appointment a reminder goes out.
const DELTA: &[Key] = &[
    Key::int_in("days", 0, 10_000).default(0),
    Key::int_in("hours", 0, 10_000).default(0),
    Key::int_in("minutes", 0, 10_000).default(0),
];

const REMINDER: &[Key] = &[
    Key::choice("type", REMINDER_TYPES).required(),
    Key::object("scheduled_time_delta", DELTA)
        .required()
        .doc("When to send it, before the appointment."),
];

struct ReminderHooks;

impl Hooks for ReminderHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let Some(raw) = w.rec.get("reminders").and_then(Val::as_str) else {
            return Ok(());
        };
        let list: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
        let at_the_time = list.iter().position(|r| {
            ["days", "hours", "minutes"]
                .iter()
                .all(|k| r["scheduled_time_delta"][k].as_i64().unwrap_or(0) == 0)
        });
        if let Some(i) = at_the_time {
            w.errors.add(
                "reminders",
                format!("Item {i}: scheduled_time_delta must be before the appointment."),
            );
        }
        Ok(())
    }
}
