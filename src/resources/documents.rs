//! /api/documents: documents associated with a patient ("Documents"). `document` is a file,
//! uploaded as a multipart part (or base64 in JSON), answered as a URL that needs the
//! document's own authorization. metatags is a list of strings (in a form or multipart body,
//! JSON text: '["a", "b"]'). DELETE archives.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Kind, Resource, Sharing, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "documents",
    name: "Document",
    doc: "Documents associated with patients of the caller's practice group.",
    scopes: &[Scope::Patients],
    permissions: &[Perm::ManagePatients],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::boolean("archived")
            .read_only()
            .doc("DELETE sets this to true."),
        Field::date("date").required(),
        Field::string("description").required(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who owns the document."),
        Field::file("document").required().doc(
            "Uploaded as multipart/form-data (or base64 in JSON), answered as a URL that \
             needs the same authorization as the document.",
        ),
        Field::reference("patient", "patients")
            .required()
            .doc("The patient the document concerns."),
        Field::strings("metatags")
            .doc("Tags; in a form or multipart body quoted as JSON, e.g. '[\"a\", \"b\"]'."),
        Field::id(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::since(),
    ],
    ..Resource::DEFAULT
};
