//! The users CRUD handlers: `POST /users`, `GET /users`, and `GET`/`PUT`/`DELETE
//! /users/{id}`, with FastAPI's status codes and bodies. `GET /users/{id}` reads
//! through the cache, says `X-Cache: HIT`/`MISS`, and pays the miss penalty on a MISS.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::validate::{self, detail, unprocessable, UserId};
use super::{pause, CACHE_HEADER};
use crate::state::{DemoState, Lookup};

type IdParam = Result<Path<String>, PathRejection>;
type Body = Result<Bytes, BytesRejection>;
type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `POST /users`: 201 with the stored user.
pub(crate) async fn create(State(state): State<DemoState>, body: Body) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return validate::body_rejected(&e),
    };
    match validate::user_body(&body) {
        Ok(input) => (
            StatusCode::CREATED,
            Json(state.create_user(input.name, input.email)),
        )
            .into_response(),
        Err(errors) => unprocessable(errors),
    }
}

/// `GET /users?skip=&limit=`: a page of users in id order.
pub(crate) async fn list(State(state): State<DemoState>, query: QueryPairs) -> Response {
    let pairs = match query {
        Ok(Query(pairs)) => pairs,
        Err(e) => return unprocessable(vec![validate::bad_query(&e.body_text())]),
    };
    match validate::page(&pairs) {
        Ok((skip, limit)) => Json(state.list_users(skip, limit)).into_response(),
        Err(errors) => unprocessable(errors),
    }
}

/// `GET /users/{id}`: through the cache; a MISS (including a 404) pays the penalty.
pub(crate) async fn read(State(state): State<DemoState>, id: IdParam) -> Response {
    let id = match parse_id(id) {
        Ok(id) => id,
        Err(error) => return unprocessable(vec![error]),
    };
    let lookup = match id {
        UserId::Id(id) => state.lookup_user(id),
        UserId::Absent => Lookup::NotFound,
    };
    let (mut response, cache) = match lookup {
        Lookup::Hit(user) => (Json(user).into_response(), "HIT"),
        Lookup::Miss(user) => {
            pause(state.miss_penalty()).await;
            (Json(user).into_response(), "MISS")
        }
        Lookup::NotFound => {
            pause(state.miss_penalty()).await;
            (user_not_found(), "MISS")
        }
    };
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(cache));
    response
}

/// `PUT /users/{id}`: 200 with the updated user; drops the cached copy.
pub(crate) async fn update(State(state): State<DemoState>, id: IdParam, body: Body) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return validate::body_rejected(&e),
    };
    let id = parse_id(id);
    let input = validate::user_body(&body);
    let (id, input) = match (id, input) {
        (Ok(id), Ok(input)) => (id, input),
        (id, input) => {
            let mut errors: Vec<Value> = id.err().into_iter().collect();
            errors.extend(input.err().unwrap_or_default());
            return unprocessable(errors);
        }
    };
    let updated = match id {
        UserId::Id(id) => state.update_user(id, input.name, input.email),
        UserId::Absent => None,
    };
    match updated {
        Some(user) => Json(user).into_response(),
        None => user_not_found(),
    }
}

/// `DELETE /users/{id}`: 204; drops the cached copy.
pub(crate) async fn delete(State(state): State<DemoState>, id: IdParam) -> Response {
    let deleted = match parse_id(id) {
        Ok(UserId::Id(id)) => state.delete_user(id),
        Ok(UserId::Absent) => false,
        Err(error) => return unprocessable(vec![error]),
    };
    if deleted {
        StatusCode::NO_CONTENT.into_response()
    } else {
        user_not_found()
    }
}

fn parse_id(id: IdParam) -> Result<UserId, Value> {
    match id {
        Ok(Path(raw)) => validate::user_id(&raw),
        Err(_) => Err(validate::bad_path_segment()),
    }
}

fn user_not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "User not found")
}
