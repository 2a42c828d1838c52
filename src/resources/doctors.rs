//! /api/doctors: the doctors of the caller's practice group ("Doctors" in the reference).
//! Read-only through the API; `chartd user create --role doctor` makes them.

use crate::api::auth::Scope;

use crate::api::resource::{Absent, Field, Filter, Kind, Resource, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "doctors",
    name: "Doctor",
    doc: "Doctors in the same practice group as the authorizing user.",
    scopes: &[Scope::User],
    verbs: Verbs::READ,
    fields: &[
        Field::id(),
        Field::string("first_name").read_only(),
        Field::string("last_name").read_only(),
        Field::string("suffix").read_only(),
        Field::string("specialty").read_only(),
        Field::string("job_title").read_only(),
        Field::string("country")
            .read_only()
            .default(Absent::Str("US"))
            .doc("Two-letter country code."),
        Field::string("timezone").read_only(),
        Field::string("email").read_only(),
        Field::string("cell_phone").read_only(),
        Field::string("home_phone").read_only(),
        Field::string("office_phone").read_only(),
        Field::string("website").read_only(),
        Field::string("npi_number")
            .read_only()
            .doc("Preferred over group_npi_number when both are set."),
        Field::string("group_npi_number").read_only(),
        Field::string("profile_picture")
            .read_only()
            .doc("URL of the doctor's profile picture."),
        Field::int("practice_group")
            .sql("t.practice_group_id")
            .doc("The practice group's ID."),
        Field::string("practice_group_name")
            .sql("SELECT g.name FROM practice_groups g WHERE g.id = t.practice_group_id"),
        Field::boolean("is_account_suspended").read_only(),
    ],
    filters: &[
        Filter::eq("id", Kind::Int).doc("Only the doctor with this ID."),
        Filter::since(),
    ],
    // The slot search lives under the doctor (see slot_search.rs).
    actions: super::slot_search::ACTIONS,
    ..Resource::DEFAULT
};
