//! /api/appointments: appointments and breaks on a doctor's calendar ("Appointments").
//!
//! Rules beyond the declaration live in `rules.rs`: the overlap check (409, race-free),
//! profile defaults, breaks, exam rooms, status transitions, reminder profiles, custom fields
//! and vitals, external ids. Lists need one of since, date or date_range.

mod rules;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Events, Field, Filter, FilterKind, Kind, Resource, Sharing, Verbs};

pub const STATUSES: &[&str] = &[
    "",
    "Arrived",
    "Checked In",
    "In Room",
    "Cancelled",
    "Complete",
    "Confirmed",
    "In Session",
    "No Show",
    "Not Confirmed",
    "Rescheduled",
];

pub static RESOURCE: Resource = Resource {
    path: "appointments",
    name: "Appointment",
    doc: "Appointments and breaks (patient null) on a doctor's calendar.",
    scopes: &[Scope::Calendar, Scope::Clinical],
    permissions: &[
        Perm::AccessBilling,
        Perm::ShowBillingTab,
        Perm::AccessClinicalNotes,
    ],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors").required(),
        Field::reference("patient", "patients")
            .required()
            .nullable()
            .doc("Breaks have a null patient."),
        Field::reference("office", "offices").required(),
        Field::int("exam_room")
            .required()
            .doc("Index of the office's exam room (see /api/offices)."),
        Field::timestamp("scheduled_time")
            .required()
            .doc("The starting time."),
        Field::int("duration")
            .range(1, 1440)
            .nullable()
            .doc("Minutes. Required unless a profile gives it."),
        Field::reference("profile", "appointment_profiles")
            .nullable()
            .doc("Sets default color, duration and reason on creation; explicit values win."),
        Field::string("color").check(crate::domain::color),
        Field::string("notes"),
        Field::string("reason"),
        Field::choice("status", STATUSES),
        Field::reference("reminder_profile", "reminder_profiles")
            .instruction()
            .nullable()
            .doc("Applies the profile's reminders; refused when the appointment has reminders."),
        Field::objects("status_transitions")
            .read_only()
            .verbose()
            .doc("[{\"from_status\", \"to_status\", \"datetime\"}] for every status change."),
        Field::object("vitals").keys(rules::VITALS).verbose(),
        Field::objects("custom_vitals")
            .verbose()
            .doc("[{\"vital_type\": ID of /api/custom_vitals, \"value\": \"...\"}]"),
        Field::objects("custom_fields").doc(
            "[{\"field_type\": ID of /api/custom_appointment_fields, \"field_value\": \"...\"}]",
        ),
        Field::objects("reminders").read_only().verbose(),
        Field::int("supervising_provider").nullable(),
        Field::string("billing_status"),
        Field::int("billing_provider").nullable(),
        Field::objects("billing_notes").read_only(),
        Field::object("clinical_note")
            .read_only()
            .verbose()
            .sql(r#"CASE WHEN t.patient IS NULL THEN NULL ELSE COALESCE((SELECT n.summary FROM clinical_notes n WHERE n.appointment = t.id), '{"locked": false, "pdf": null, "updated_at": null}') END"#),
        Field::string("icd10_codes").read_only(),
        Field::string("icd9_codes").read_only(),
        Field::timestamp("first_billed_date").read_only().nullable(),
        Field::timestamp("last_billed_date").read_only().nullable(),
        Field::boolean("deleted_flag").read_only(),
        Field::string("primary_insurer_payer_id").read_only(),
        Field::string("primary_insurer_name").read_only(),
        Field::string("primary_insurance_id_number").read_only(),
        Field::string("secondary_insurer_payer_id").read_only(),
        Field::string("secondary_insurer_name").read_only(),
        Field::string("secondary_insurance_id_number").read_only(),
        Field::boolean("allow_overlapping"),
        Field::boolean("appt_is_break").read_only(),
        Field::int("cloned_from").read_only().nullable(),
        Field::timestamp("extended_updated_at")
            .verbose()
            .sql("t.updated_at")
            .doc("The latest update among the appointment, its vitals and custom vitals."),
        Field::boolean("recurring_appointment").read_only(),
        Field::int("base_recurring_appointment")
            .read_only()
            .nullable(),
        Field::boolean("is_walk_in"),
        Field::boolean("is_virtual_base").read_only(),
        Field::string("external_id")
            .nullable()
            .doc("Your own id for the appointment, unique in the practice group (extension)."),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    list_needs_one_of: &["since", "date", "date_range"],
    filters: &[
        Filter::new("date", "scheduled_time", FilterKind::OnDate),
        Filter::new(
            "date_range",
            "scheduled_time",
            FilterKind::DateRange {
                max_days: Some(190),
            },
        ),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("office", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::since(),
        Filter::eq("status", Kind::Choice(STATUSES)),
        Filter::eq("external_id", Kind::Str),
    ],
    hooks: &rules::AppointmentHooks,
    events: Events::create_modify("APPOINTMENT_CREATE", "APPOINTMENT_MODIFY"),
    ..Resource::DEFAULT
};
