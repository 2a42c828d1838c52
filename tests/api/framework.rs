//! The resource framework's contract, exercised through /api/patients (the flagship
//! writable resource) and the read-only practice resources: paging, filters, bulk create,
//! PUT/PATCH/DELETE, auth, practice isolation and malformed input.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

async fn bulk_patients(app: &TestApp, n: usize) -> Vec<i64> {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            app.patient_body(json!({"first_name": format!("P{i}"), "last_name": format!("L{i}")}))
        })
        .collect();
    let (status, body) = app.post("/api/patients", Value::Array(items)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn following_next_walks_every_object_exactly_once_and_previous_walks_back() {
    // Arrange
    let app = TestApp::new().await;
    let ids = bulk_patients(&app, 600).await;
    assert_eq!(ids.len(), 600);

    // Act: follow `next` from the first page, page_size 70 (9 pages).
    let mut seen = Vec::new();
    let mut url = "/api/patients?page_size=70".to_string();
    let mut pages = Vec::new();
    loop {
        let (status, body) = app.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["results"].as_array().unwrap();
        assert!(results.len() <= 70);
        seen.extend(results.iter().map(|p| p["id"].as_i64().unwrap()));
        pages.push(url.clone());
        match body["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&app.address), "absolute next link: {next}");
                url = next.to_string();
            }
            None => break,
        }
    }

    // Assert
    assert_eq!(pages.len(), 9);
    assert_eq!(seen.len(), 600);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        600,
        "no object twice"
    );
    assert_eq!(seen, ids, "ordered by id");

    // Walking back from the last page with `previous` visits the same pages in reverse.
    let (_, last) = app.get(pages.last().unwrap()).await;
    let mut back = last["results"].as_array().unwrap().len();
    let mut prev = last["previous"].as_str().map(str::to_string);
    let mut steps = 0;
    while let Some(p) = prev {
        let (status, body) = app.get(&p).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["results"].as_array().unwrap().len(), 70);
        back += 70;
        steps += 1;
        prev = body["previous"].as_str().map(str::to_string);
    }
    assert_eq!(steps, 8);
    assert_eq!(back, 600);
}

#[tokio::test]
async fn page_numbers_built_by_hand_still_work() {
    let app = TestApp::new().await;
    let ids = bulk_patients(&app, 30).await;
    let (status, body) = app.get("/api/patients?page_size=10&page=3").await;
    assert_eq!(status, StatusCode::OK);
    let got: Vec<i64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[20..30]);
    assert!(body["next"].is_null());
    assert!(body["previous"].as_str().unwrap().contains("page=2"));
}

#[tokio::test]
async fn page_size_is_capped_at_250_and_at_50_with_verbose() {
    let app = TestApp::new().await;
    bulk_patients(&app, 300).await;

    let (_, body) = app.get("/api/patients").await;
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        250,
        "default 250"
    );
    let (_, body) = app.get("/api/patients?page_size=1000").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 250, "max 250");
    let (_, body) = app.get("/api/patients?verbose=true").await;
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        50,
        "verbose default 50"
    );
    let (_, body) = app.get("/api/patients?verbose=true&page_size=200").await;
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        50,
        "verbose max 50"
    );
    let (_, body) = app.get("/api/patients?page_size=7").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn verbose_only_keys_appear_only_with_verbose() {
    let app = TestApp::new().await;
    let p = app
        .create_patient(json!({"primary_insurance": {"insurance_company": "Acme"}}))
        .await;
    let id = p["id"].as_i64().unwrap();

    let (_, plain) = app.get(&format!("/api/patients/{id}")).await;
    assert!(plain.get("primary_insurance").is_none());
    assert!(plain.get("first_name").is_some());
    let (_, verbose) = app.get(&format!("/api/patients/{id}?verbose=true")).await;
    assert_eq!(verbose["primary_insurance"]["insurance_company"], "Acme");
    let (_, list) = app.get("/api/patients?verbose=true").await;
    assert_eq!(
        list["results"][0]["primary_insurance"]["insurance_company"],
        "Acme"
    );
}

#[tokio::test]
async fn a_repeated_query_parameter_takes_its_last_value() {
    let app = TestApp::new().await;
    bulk_patients(&app, 5).await;
    let (_, body) = app.get("/api/patients?page_size=1&page_size=3").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn filters_narrow_lists_and_malformed_values_name_the_parameter() {
    let app = TestApp::new().await;
    app.create_patient(
        json!({"first_name": "Alice", "last_name": "Smithson", "date_of_birth": "1980-05-01"}),
    )
    .await;
    app.create_patient(json!({"first_name": "Bob", "last_name": "Smith", "gender": "Male", "email": "bob@example.com"})).await;
    app.create_patient(json!({"first_name": "Carol", "last_name": "Jones", "patient_status": "I"}))
        .await;

    let names = |body: &Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["first_name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, body) = app.get("/api/patients?last_name=SMITH").await;
    assert_eq!(
        names(&body),
        ["Alice", "Bob"],
        "case-insensitive partial match"
    );
    let (_, body) = app.get("/api/patients?first_name=o").await;
    assert_eq!(names(&body), ["Bob"], "inactive Carol hidden by default");
    let (_, body) = app
        .get("/api/patients?first_name=o&show_inactive=true")
        .await;
    assert_eq!(names(&body), ["Bob", "Carol"]);
    let (_, body) = app.get("/api/patients?gender=Male").await;
    assert_eq!(names(&body), ["Bob"]);
    let (_, body) = app.get("/api/patients?date_of_birth=1980-05-01").await;
    assert_eq!(names(&body), ["Alice"]);
    let (_, body) = app.get("/api/patients?email=bob@example.com").await;
    assert_eq!(names(&body), ["Bob"]);
    let (_, body) = app
        .get(&format!("/api/patients?doctor={}", app.a.doctor))
        .await;
    assert_eq!(names(&body), ["Alice", "Bob"]);
    let (_, body) = app.get("/api/patients?last_name=100%25_").await;
    assert_eq!(
        names(&body),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );

    for (query, param) in [
        ("doctor=abc", "doctor"),
        ("date_of_birth=1980-13-45", "date_of_birth"),
        ("gender=Robot", "gender"),
        ("since=yesterday", "since"),
        ("page_size=0", "page_size"),
        ("page=-1", "page"),
        ("verbose=maybe", "verbose"),
        ("show_archived=perhaps", "show_archived"),
    ] {
        let (status, body) = app.get(&format!("/api/patients?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.get(param).is_some(), "{query} names {param}: {body}");
    }
}

#[tokio::test]
async fn since_returns_changes_at_or_after_the_time_including_archived() {
    let app = TestApp::new().await;
    let old = app.create_patient(json!({"first_name": "Old"})).await;
    let old_id = old["id"].as_i64().unwrap();
    app.sql(
        "UPDATE patients SET updated_at = ? WHERE id = ?",
        vec![
            Val::from(
                chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            ),
            Val::from(old_id),
        ],
    );
    let new = app.create_patient(json!({"first_name": "New"})).await;
    let gone = app.create_patient(json!({"first_name": "Gone"})).await;
    app.delete(&format!("/api/patients/{}", gone["id"])).await;

    let (status, body) = app.get("/api/patients?since=2021-01-01").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [new["id"].as_i64().unwrap(), gone["id"].as_i64().unwrap()]
    );
    let (_, body) = app.get("/api/patients?since=2019-12-31T23:59:59").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
    // The exact updated_at of the old row is included ("at or after").
    let (_, body) = app.get("/api/patients?since=2020-01-01T00:00:00").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn bulk_create_is_all_or_nothing() {
    let app = TestApp::new().await;
    let good = app.patient_body(json!({}));
    let bad = json!({"doctor": app.a.doctor, "gender": "Robot", "date_of_birth": "tomorrow"});

    let (status, body) = app
        .post("/api/patients", json!([good.clone(), bad, good.clone()]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let errors = body.as_array().expect("a list of per-item errors");
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0], json!({}));
    assert!(
        errors[1]["gender"].is_array() && errors[1]["date_of_birth"].is_array(),
        "{body}"
    );
    assert_eq!(errors[2], json!({}));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients", vec![]),
        0,
        "nothing created"
    );

    // An item failing a database-backed check (unknown doctor) also rolls back the others.
    let stranger = app.patient_body(json!({"doctor": app.b.doctor}));
    let (status, body) = app
        .post("/api/patients", json!([good.clone(), stranger]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body[1]["doctor"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{body}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM patients", vec![]), 0);

    let (status, body) = app.post("/api/patients", json!([good.clone(), good])).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients", vec![]), 2);
}

#[tokio::test]
async fn create_answers_201_with_the_object_and_ignores_read_only_keys() {
    let app = TestApp::new().await;
    let (status, body) = app
        .post(
            "/api/patients",
            app.patient_body(json!({
                "id": 999, "archived": true, "created_at": "2001-01-01T00:00:00",
                "offices": [1, 2],
                "date_of_birth": "1990-02-03"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(body["id"], 999);
    assert_eq!(body["archived"], false);
    assert_eq!(body["patient_photo"], "");
    assert_eq!(body["offices"], json!([]));
    assert_eq!(body["date_of_birth"], "1990-02-03");
    assert_eq!(body["gender"], "Female");
    assert_eq!(body["patient_status"], "A", "documented default");
    assert!(
        body["chart_id"].as_str().unwrap().starts_with("DOEJA"),
        "chart id from names: {body}"
    );
    let created = body["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 19, "YYYY-MM-DDTHH:MM:SS: {created}");
    assert_eq!(&created[10..11], "T");
    let (status, fetched) = app
        .get(&format!("/api/patients/{}?verbose=true", body["id"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, body, "POST answers what GET returns");
}

#[tokio::test]
async fn put_replaces_patch_changes_only_given_keys_and_delete_archives() {
    let app = TestApp::new().await;
    let p = app
        .create_patient(
            json!({"email": "a@example.com", "city": "Springfield", "date_of_birth": "1970-01-01"}),
        )
        .await;
    let url = format!("/api/patients/{}", p["id"]);

    // PATCH: only the given key changes; null clears a nullable key.
    let (status, body) = app
        .patch(&url, json!({"city": "Shelbyville", "date_of_birth": null}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, got) = app.get(&url).await;
    assert_eq!(got["city"], "Shelbyville");
    assert_eq!(got["email"], "a@example.com");
    assert_eq!(got["date_of_birth"], Value::Null);
    assert!(got["updated_at"].as_str().unwrap() >= p["updated_at"].as_str().unwrap());

    // PUT: required keys must be present; absent optional keys return to their defaults.
    let (status, body) = app.put(&url, json!({"first_name": "X"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["doctor"].is_array() && body["gender"].is_array(),
        "{body}"
    );
    let (status, _) = app
        .put(
            &url,
            json!({"doctor": app.a.doctor, "gender": "Other", "first_name": "Pat"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&url).await;
    assert_eq!(got["gender"], "Other");
    assert_eq!(got["first_name"], "Pat");
    assert_eq!(got["email"], "", "replaced by the default");
    assert_eq!(got["city"], "");

    // DELETE archives: gone from lists, still readable by id, back with show_archived.
    let (status, _) = app.delete(&url).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&url).await;
    assert_eq!(got["archived"], true);
    let (_, list) = app.get("/api/patients").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);
    let (_, list) = app.get("/api/patients?show_archived=true").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);

    // Unknown ids are 404 for every verb.
    for method in [Method::GET, Method::PATCH, Method::PUT, Method::DELETE] {
        let (status, _) = app
            .send(
                method.clone(),
                "/api/patients/987654",
                Some(&app.token),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
}

#[tokio::test]
async fn form_and_multipart_bodies_are_accepted() {
    let app = TestApp::new().await;
    let form = format!("doctor={}&gender=Male&first_name=Form&disable_sms_messages=true&primary_insurance=%7B%22insurance_company%22%3A%22Acme%22%7D", app.a.doctor);
    let (status, body) = app
        .send_raw(
            Method::POST,
            "/api/patients",
            "application/x-www-form-urlencoded",
            form,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["first_name"], "Form");
    assert_eq!(body["disable_sms_messages"], true);
    assert_eq!(
        body["primary_insurance"],
        json!({"insurance_company": "Acme"})
    );

    let (status, _) = app
        .send_raw(
            Method::PATCH,
            &format!("/api/patients/{}", body["id"]),
            "application/x-www-form-urlencoded",
            "city=Paris",
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&format!("/api/patients/{}", body["id"])).await;
    assert_eq!(got["city"], "Paris");

    let form = reqwest::multipart::Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("gender", "Female")
        .text("first_name", "Multi");
    let res = app
        .client
        .post(app.url("/api/patients"))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["first_name"], "Multi");
}

#[tokio::test]
async fn malformed_bodies_get_a_clear_4xx_and_write_nothing() {
    let app = TestApp::new().await;
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "application/json",
            "{not json".into(),
            StatusCode::BAD_REQUEST,
            "detail",
        ),
        (
            "application/json",
            "42".into(),
            StatusCode::BAD_REQUEST,
            "detail",
        ),
        (
            "application/json",
            "[1, 2]".into(),
            StatusCode::BAD_REQUEST,
            "detail",
        ),
        (
            "application/json",
            "{\"doctor\": \"x\", \"gender\": \"Male\"}".to_string(),
            StatusCode::BAD_REQUEST,
            "doctor",
        ),
        (
            "application/json",
            format!("{{\"doctor\": {}, \"gender\": 5}}", app.a.doctor),
            StatusCode::BAD_REQUEST,
            "gender",
        ),
        (
            "application/json",
            format!(
                "{{\"doctor\": {}, \"gender\": \"Male\", \"ethnicity\": \"martian\"}}",
                app.a.doctor
            ),
            StatusCode::BAD_REQUEST,
            "ethnicity",
        ),
        (
            "application/json",
            format!(
                "{{\"doctor\": {}, \"gender\": \"Male\", \"primary_insurance\": [1]}}",
                app.a.doctor
            ),
            StatusCode::BAD_REQUEST,
            "primary_insurance",
        ),
        (
            "application/json",
            format!(
                "{{\"doctor\": {}, \"gender\": \"Male\", \"disable_sms_messages\": \"sometimes\"}}",
                app.a.doctor
            ),
            StatusCode::BAD_REQUEST,
            "disable_sms_messages",
        ),
        (
            "application/json",
            format!("{{\"doctor\": {}, \"gender\": null}}", app.a.doctor),
            StatusCode::BAD_REQUEST,
            "gender",
        ),
        (
            "text/xml",
            "<patient/>".into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "detail",
        ),
    ];
    for (ctype, body, want, key) in cases {
        let (status, answer) = app
            .send_raw(Method::POST, "/api/patients", ctype, body.clone())
            .await;
        assert_eq!(status, want, "{body}: {answer}");
        assert!(answer.get(key).is_some(), "{body} names {key}: {answer}");
    }
    let huge = format!("{{\"first_name\": \"{}\"}}", "x".repeat(25 * 1024 * 1024));
    let (status, _) = app
        .send_raw(Method::POST, "/api/patients", "application/json", huge)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients", vec![]), 0);
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_www_authenticate() {
    let app = TestApp::new().await;
    for token in [None, Some("not-a-token")] {
        let mut req = app.client.get(app.url("/api/patients"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body: Value = res.json().await.unwrap();
        assert!(body["detail"].is_string());
    }
    // An expired token is refused too.
    app.sql(
        "UPDATE access_tokens SET expires_at = ?",
        vec![Val::from(
            chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )],
    );
    let (status, _) = app.get("/api/doctors").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_scopes_and_permissions_are_403() {
    let app = TestApp::new().await;
    let user_only = app.token_for(app.a.user, "user");
    let (status, body) = app.get_as(&user_only, "/api/patients").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("patients"));
    let (status, _) = app.get_as(&user_only, "/api/doctors").await;
    assert_eq!(status, StatusCode::OK);

    let read_only = app.token_for(app.a.user, "patients:read");
    let (status, _) = app.get_as(&read_only, "/api/patients").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&read_only),
            Some(app.patient_body(json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A staff user without "Manage Patients" is refused whatever the token's scopes.
    let (staff, _) = app.user(app.a.id, "staff", Some(app.a.doctor));
    app.sql(
        "UPDATE users SET permissions = ? WHERE id = ?",
        vec![Val::from("{\"manage_patients\": false}"), Val::from(staff)],
    );
    let staff_token = app.token_for(staff, crate::helpers::ALL_SCOPES);
    let (status, body) = app.get_as(&staff_token, "/api/patients").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["detail"].as_str().unwrap().contains("Manage Patients"));
}

#[tokio::test]
async fn another_practice_sees_nothing_of_ours() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({"first_name": "Secret"})).await;
    let url = format!("/api/patients/{}", p["id"]);
    let b = app.b.token.clone();

    let (_, list) = app.get_as(&b, "/api/patients").await;
    assert_eq!(list["results"], json!([]));
    let (status, body) = app.get_as(&b, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.to_string().contains("Secret"));
    for method in [Method::PATCH, Method::PUT, Method::DELETE] {
        let body = json!({"first_name": "Hacked", "doctor": app.b.doctor, "gender": "Male"});
        let (status, _) = app.send(method.clone(), &url, Some(&b), Some(body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (_, got) = app.get(&url).await;
    assert_eq!(got["first_name"], "Secret");
    assert_eq!(got["archived"], false);

    // B cannot attach a patient to A's doctor either.
    let (status, body) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&b),
            Some(json!({"doctor": app.a.doctor, "gender": "Male"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["doctor"].is_array());
    let (_, doctors) = app.get_as(&b, "/api/doctors").await;
    let ids: Vec<i64> = doctors["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [app.b.doctor]);
}

#[tokio::test]
async fn without_share_patients_a_doctor_sees_only_their_own_patients() {
    let app = TestApp::new().await;
    let (user2, doctor2) = app.user(app.a.id, "doctor", None);
    let token2 = app.token_for(user2, crate::helpers::ALL_SCOPES);
    let mine = app.create_patient(json!({"first_name": "Mine"})).await;

    let (_, list) = app.get_as(&token2, "/api/patients").await;
    assert_eq!(
        list["results"].as_array().unwrap().len(),
        1,
        "shared by default"
    );

    app.sql(
        "UPDATE practice_groups SET share_patients = ? WHERE id = ?",
        vec![Val::from(false), Val::from(app.a.id)],
    );
    let (_, list) = app.get_as(&token2, "/api/patients").await;
    assert_eq!(list["results"], json!([]));
    let (status, _) = app
        .get_as(&token2, &format!("/api/patients/{}", mine["id"]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&token2),
            Some(json!({"doctor": app.a.doctor, "gender": "Male"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "cannot write what it cannot read: {body}"
    );
    let (status, _) = app
        .send(
            Method::POST,
            "/api/patients",
            Some(&token2),
            Some(json!({"doctor": doctor2, "gender": "Male"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Nor can it point at another doctor's patient by id (here: in an appointment).
    let office = app.office(1);
    let body = json!({"doctor": doctor2, "patient": mine["id"], "office": office, "exam_room": 1,
        "scheduled_time": "2026-03-02T09:00:00", "duration": 30});
    let (status, err) = app
        .send(Method::POST, "/api/appointments", Some(&token2), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["patient"].is_array(), "{err}");
}

#[tokio::test]
async fn every_read_and_write_of_patient_data_is_audited() {
    let app = TestApp::new().await;
    let p = app.create_patient(json!({})).await;
    let id = p["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM audit_log WHERE resource = 'patients' AND action = ? AND object_id = ? AND user_id = ? AND practice_group_id = ? AND remote_addr = '127.0.0.1' AND request_id <> ''";
    let binds = |action: &str| {
        vec![
            Val::from(action),
            Val::from(id),
            Val::from(app.a.user),
            Val::from(app.a.id),
        ]
    };
    assert_eq!(
        app.count(q, binds("create")),
        1,
        "written in the create transaction"
    );

    app.get(&format!("/api/patients/{id}")).await;
    assert_eq!(app.eventually_count(q, binds("retrieve"), 1).await, 1);
    app.patch(&format!("/api/patients/{id}"), json!({"city": "X"}))
        .await;
    assert_eq!(app.count(q, binds("partial_update")), 1);
    app.delete(&format!("/api/patients/{id}")).await;
    assert_eq!(app.count(q, binds("destroy")), 1);
    app.get("/api/patients?show_archived=true").await;
    let lists = app
        .eventually_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'list' AND object_ids = ?",
            vec![Val::from(id.to_string())],
            1,
        )
        .await;
    assert_eq!(lists, 1);

    // A failed write leaves no trace, not even an audit row.
    let before = app.count(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'create'",
        vec![],
    );
    app.post("/api/patients", json!({"gender": "Robot"})).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'create'",
            vec![]
        ),
        before
    );
}

#[tokio::test]
async fn disallowed_verbs_are_405_and_unknown_paths_404() {
    let app = TestApp::new().await;
    let (status, _) = app.post("/api/doctors", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app.delete(&format!("/api/doctors/{}", app.a.doctor)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = app.get("/api/nothing_here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["detail"], "Not found.");
    let (status, _) = app.get("/api/patients/99999999999999999999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trailing_slashes_are_accepted() {
    let app = TestApp::new().await;
    let (status, _) = app.get("/api/doctors/").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&format!("/api/doctors/{}/", app.a.doctor)).await;
    assert_eq!(status, StatusCode::OK);
}

fn files_on_disk(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.files_dir)
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

#[tokio::test]
async fn file_keys_upload_as_multipart_and_download_with_the_objects_authorization() {
    let app = TestApp::new().await;
    let form = reqwest::multipart::Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("gender", "Female")
        .text("patient_photo_date", "2024-03-01")
        .part(
            "patient_photo",
            reqwest::multipart::Part::bytes(PNG.to_vec())
                .file_name("face.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let res = app
        .client
        .post(app.url("/api/patients"))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Value = res.json().await.unwrap();
    let url = p["patient_photo"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/api/patients/{}/patient_photo", app.address, p["id"])
    );
    assert_eq!(p["patient_photo_date"], "2024-03-01");

    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "another practice cannot download it"
    );
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(files_on_disk(&app), 1);

    // Replacing the file (base64 in JSON) removes the old one.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PNG);
    let (status, err) = app
        .patch(
            &format!("/api/patients/{}", p["id"]),
            json!({"patient_photo": format!("data:image/png;base64,{b64}")}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    assert_eq!(files_on_disk(&app), 1);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn a_failed_upload_leaves_nothing_on_disk() {
    let app = TestApp::new().await;
    // A bad type is refused, naming the key.
    let form = reqwest::multipart::Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("gender", "Female")
        .part(
            "patient_photo",
            reqwest::multipart::Part::bytes(b"MZ".to_vec()).file_name("virus.exe"),
        );
    let res = app
        .client
        .post(app.url("/api/patients"))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["patient_photo"][0]
            .as_str()
            .unwrap()
            .contains("Unsupported file type"),
        "{body}"
    );

    // A good file in a request that fails validation is removed again.
    let form = reqwest::multipart::Form::new()
        .text("doctor", app.a.doctor.to_string())
        .text("gender", "Robot")
        .part(
            "patient_photo",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("face.png"),
        );
    let res = app
        .client
        .post(app.url("/api/patients"))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // ...and so is one whose request fails inside the transaction (unknown doctor).
    let form = reqwest::multipart::Form::new()
        .text("doctor", app.b.doctor.to_string())
        .text("gender", "Male")
        .part(
            "patient_photo",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("face.png"),
        );
    let res = app
        .client
        .post(app.url("/api/patients"))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(files_on_disk(&app), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients", vec![]), 0);

    let (status, body) = app
        .post(
            "/api/patients",
            app.patient_body(json!({"patient_photo_date": "2024-01-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["patient_photo_date"].is_array());
    let (status, body) = app
        .post(
            "/api/patients",
            app.patient_body(json!({"patient_photo": "%%%not base64"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["patient_photo"].is_array());
}
