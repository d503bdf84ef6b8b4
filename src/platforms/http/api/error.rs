//! The API's error answers: `{"error": {"code", "message", "fields": [{"field", "message"}]}}`
//! with a stable `code` per kind of problem and one sentence of `message`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem with one field of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request body (`amount`, or `sales[3].amount` in a batch).
    pub field: String,
    pub message: String,
}

/// The error object.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `malformed_json`, `bad_body`,
    /// `bad_idempotency_key`, `payload_too_large`, `validation_failed`, `idempotency_mismatch`,
    /// `idempotency_key_in_use`, `unknown_contest`, `unknown_partner`, `internal`.
    pub code: &'static str,
    /// One sentence for a person.
    pub message: String,
    /// The fields at fault (validation errors); empty otherwise.
    pub fields: Vec<FieldError>,
}

/// Every error answer's body.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// An error answer: status plus body.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code,
                message: message.into(),
                fields: Vec::new(),
            },
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn malformed_json(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    }

    pub fn validation(fields: Vec<FieldError>) -> ApiError {
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        let message = format!("the request has invalid fields: {}", names.join(", "));
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        );
        error.detail.fields = fields;
        error
    }

    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    /// Our fault: logged with a reference the caller can quote.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        let reference = format!("{:08x}", rand::random::<u32>());
        tracing::error!(reference, error = %e, "HTTP API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("something went wrong on our side (reference {reference}); try again"),
        )
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.detail
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.detail
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}
