//! The practice model: doctors, users (and /api/users/current), user groups, offices and
//! their exam rooms.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

#[tokio::test]
async fn doctors_list_has_every_documented_key() {
    let app = TestApp::new().await;
    let (status, body) = app.get(&format!("/api/doctors/{}", app.a.doctor)).await;
    assert_eq!(status, StatusCode::OK);
    for key in [
        "id",
        "first_name",
        "last_name",
        "specialty",
        "country",
        "cell_phone",
        "email",
        "group_npi_number",
        "home_phone",
        "job_title",
        "npi_number",
        "office_phone",
        "practice_group",
        "practice_group_name",
        "profile_picture",
        "suffix",
        "timezone",
        "website",
        "is_account_suspended",
    ] {
        assert!(body.get(key).is_some(), "missing {key}: {body}");
    }
    assert_eq!(body["practice_group"], app.a.id);
    assert_eq!(body["practice_group_name"], "Alpha");
    assert_eq!(body["country"], "US");
}

#[tokio::test]
async fn users_current_redirects_to_the_callers_user() {
    let app = TestApp::new().await;
    let res = app
        .client
        .get(app.url("/api/users/current"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("{}/api/users/{}", app.address, app.a.user)
    );

    let (status, me) = app.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["is_doctor"], true);
    assert_eq!(me["is_staff"], false);
    assert_eq!(me["doctor"], app.a.doctor);
    assert_eq!(me["practice_group"], app.a.id);
    assert_eq!(me["permissions"]["manage_patients"], true);
    assert!(me.get("password_hash").is_none());
    let (status, _) = app
        .send(Method::GET, "/api/users/current", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_users_name_their_primary_physician() {
    let app = TestApp::new().await;
    let (staff, doctor) = app.user(app.a.id, "staff", Some(app.a.doctor));
    assert_eq!(doctor, app.a.doctor);
    let (_, body) = app.get(&format!("/api/users/{staff}")).await;
    assert_eq!(body["is_staff"], true);
    assert_eq!(body["doctor"], app.a.doctor);
    assert_eq!(body["permissions"]["settings"], false);
    let (_, list) = app
        .get(&format!("/api/users?doctor={}", app.a.doctor))
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    let (status, _) = app
        .get_as(&app.b.token, &format!("/api/users/{staff}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn user_groups_list_their_members() {
    let app = TestApp::new().await;
    let now = chrono::Utc::now().naive_utc();
    app.sql(
        "INSERT INTO user_groups (practice_group_id, name, members, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        vec![Val::from(app.a.id), Val::from("Front desk"), Val::from(format!("[{}]", app.a.user)), now.into(), now.into()],
    );
    let (status, body) = app.get("/api/user_groups").await;
    assert_eq!(status, StatusCode::OK);
    let g = &body["results"][0];
    assert_eq!(g["name"], "Front desk");
    assert_eq!(g["members"], json!([app.a.user]));
    assert_eq!(g["practice_group"], app.a.id);
    assert_eq!(g["archived"], false);
    let (_, other) = app.get_as(&app.b.token, "/api/user_groups").await;
    assert_eq!(other["results"], json!([]));
}

fn office(app: &TestApp, rooms: u32) -> i64 {
    chartd::admin::office_create(
        &mut app.db.get().unwrap(),
        app.a.id,
        app.a.doctor,
        "Main",
        rooms,
    )
    .unwrap()
    .0
}

#[tokio::test]
async fn offices_patch_only_their_writable_keys_and_timeslots_are_verbose() {
    let app = TestApp::new().await;
    let id = office(&app, 2);
    let url = format!("/api/offices/{id}");

    let (_, body) = app.get(&url).await;
    assert_eq!(body["exam_rooms"].as_array().unwrap().len(), 2);
    assert_eq!(body["start_time"], "00:00:00");
    assert_eq!(body["end_time"], "24:00:00");
    assert!(body.get("online_timeslots").is_none(), "verbose-only");

    let slots = json!([{"weekday": 0, "start_time": "09:00", "end_time": "12:00"}]);
    let (status, err) = app
        .patch(
            &url,
            json!({"online_scheduling": true, "online_timeslots": slots, "name": "Renamed"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    let (_, body) = app.get(&format!("{url}?verbose=true")).await;
    assert_eq!(body["online_scheduling"], true);
    assert_eq!(body["name"], "Main", "read-only key ignored");
    assert_eq!(
        body["online_timeslots"],
        json!([{"weekday": 0, "start_time": "09:00:00", "end_time": "12:00:00"}])
    );

    let (status, err) = app
        .patch(
            &url,
            json!({"online_timeslots": [{"weekday": 9, "start_time": "x"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["online_timeslots"].is_array());
    let (status, _) = app.put(&url, json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app.post("/api/offices", json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn add_exam_room_appends_a_room_and_answers_the_office() {
    let app = TestApp::new().await;
    let id = office(&app, 1);
    let (status, body) = app
        .post(
            &format!("/api/offices/{id}/add_exam_room"),
            json!({"name": "Procedure", "online_scheduling": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rooms = body["exam_rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 2);
    assert_eq!(
        rooms[1],
        json!({"index": 2, "name": "Procedure", "online_scheduling": true})
    );
    assert_eq!(body["id"], id);

    let (status, err) = app
        .post(&format!("/api/offices/{id}/add_exam_room"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["name"].is_array());
    let (status, _) = app
        .send(
            Method::POST,
            &format!("/api/offices/{id}/add_exam_room"),
            Some(&app.b.token),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = app.get(&format!("/api/offices/{id}")).await;
    assert_eq!(body["exam_rooms"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn archived_offices_are_listed_only_with_show_archived() {
    let app = TestApp::new().await;
    let id = office(&app, 1);
    office(&app, 1);
    app.sql(
        "UPDATE offices SET archived = ? WHERE id = ?",
        vec![Val::from(true), Val::from(id)],
    );
    let (_, body) = app.get("/api/offices").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    let (_, body) = app.get("/api/offices?show_archived=true").await;
    let results: &Vec<Value> = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["archived"], true);
}
