//! /api/amendments: visible only to the application that created them; PDF files.

use chartd::admin::{self, NewApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::documents::{files_on_disk, multipart, PDF};
use crate::helpers::{TestApp, ALL_SCOPES};

/// A token for user A of a second application.
fn other_app_token(app: &TestApp) -> String {
    let conn = &mut app.db.get().unwrap();
    let (_, client_id, _) = admin::app_create(
        conn,
        &app.server_key(),
        &NewApp {
            name: "Other App".into(),
            redirect_uris: vec!["http://127.0.0.1:9/other".into()],
            ..NewApp::default()
        },
    )
    .unwrap();
    admin::token_create(conn, &client_id, app.a.user, ALL_SCOPES, 3600, None)
        .unwrap()
        .access_token
}

fn amendment_form(app: &TestApp, patient: i64, file: Part) -> Form {
    Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("patient", patient.to_string())
        .text("amendment_name", "Corrected history")
        .text("comments", "Patient request")
        .part("amendment_file", file)
}

fn pdf() -> Part {
    Part::bytes(PDF.to_vec()).file_name("amendment.pdf")
}

#[tokio::test]
async fn an_application_sees_only_the_amendments_it_created() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let (status, a) = multipart(
        &app,
        Method::POST,
        "/api/amendments",
        &app.token,
        amendment_form(&app, p, pdf()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let id = a["id"].as_i64().unwrap();
    let url = format!("{}/api/amendments/{id}/amendment_file", app.address);
    assert_eq!(a["amendment_file"], url);
    assert_eq!(a["amendment_name"], "Corrected history");
    assert_eq!(a["appointment"], json!(null));
    assert!(a.get("app_id").is_none());

    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The same user through another application sees nothing of it.
    let other = other_app_token(&app);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, _) = app.get_as(&other, &format!("/api/amendments/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get_as(&other, "/api/amendments").await;
    assert_eq!(list["results"], json!([]));
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/amendments/{id}"),
            Some(&other),
            Some(json!({"comments": "mine now"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/amendments/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its own amendments are its own.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
    let (status, mine) = app
        .send(
            Method::POST,
            "/api/amendments",
            Some(&other),
            Some(
                json!({"doctor": app.a.doctor, "patient": p, "amendment_name": "B",
                        "amendment_file": b64}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let (_, list) = app.get_as(&other, "/api/amendments").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    assert_eq!(list["results"][0]["id"], mine["id"]);
    let (_, list) = app.get("/api/amendments").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    assert_eq!(list["results"][0]["id"], id);

    // Another practice neither.
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/amendments/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .patch(&format!("/api/amendments/{id}"), json!({"comments": "ok"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.delete(&format!("/api/amendments/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/amendments").await;
    assert_eq!(list["results"], json!([]));
}

#[tokio::test]
async fn amendments_are_pdfs_for_the_patients_own_appointments_and_filter_exactly() {
    let app = TestApp::new().await;
    let office = app.office(1);
    let p = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let q = app.create_patient(json!({})).await["id"].as_i64().unwrap();
    let appt = crate::clinical_notes::appointment(&app, office, p, "2026-03-03T09:00:00").await;

    let png = Part::bytes(b"\x89PNG\r\n\x1a\n".to_vec()).file_name("scan.png");
    let (status, body) = multipart(
        &app,
        Method::POST,
        "/api/amendments",
        &app.token,
        amendment_form(&app, p, png),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["amendment_file"][0].as_str().unwrap().contains("PDF"),
        "{body}"
    );
    let form = amendment_form(&app, q, pdf()).text("appointment", appt.to_string());
    let (status, body) = multipart(&app, Method::POST, "/api/amendments", &app.token, form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment"].is_array(), "{body}");
    let (status, body) = app
        .post(
            "/api/amendments",
            json!({"doctor": app.a.doctor, "patient": p}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["amendment_file"].is_array() && body["amendment_name"].is_array());
    assert_eq!(files_on_disk(&app), 0, "failed requests leave no file");

    let form = amendment_form(&app, p, pdf()).text("appointment", appt.to_string());
    let (status, a1) = multipart(&app, Method::POST, "/api/amendments", &app.token, form).await;
    assert_eq!(status, StatusCode::CREATED, "{a1}");
    assert_eq!(a1["appointment"], appt);
    let (_, a2) = multipart(
        &app,
        Method::POST,
        "/api/amendments",
        &app.token,
        amendment_form(&app, q, pdf()),
    )
    .await;
    let list = |q: String| {
        let app = &app;
        async move {
            let (status, body) = app.get(&format!("/api/amendments?{q}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(format!("appointment={appt}")).await,
        vec![a1["id"].clone()]
    );
    assert_eq!(list(format!("patient={q}")).await, vec![a2["id"].clone()]);
    assert_eq!(list(String::new()).await.len(), 2);
    for (q, key) in [("appointment=x", "appointment"), ("patient=x", "patient")] {
        let (status, body) = app.get(&format!("/api/amendments?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body[key].is_array(), "{body}");
    }
    // Moving it to another patient's appointment is refused too.
    let (status, body) = app
        .patch(
            &format!("/api/amendments/{}", a2["id"]),
            json!({"appointment": appt}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["appointment"].is_array());
    assert_eq!(files_on_disk(&app), 2);
}
