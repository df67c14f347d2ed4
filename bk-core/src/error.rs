//! The one error-code table of the platform.
//!
//! Every crate has its own `thiserror` enum; each variant maps to an [`ErrorCode`] here,
//! and [`ApiError`] is what crosses into the HTTP layer. Policy:
//! - the client sees the localized message of the code plus an optional `detail` that the
//!   code wrote for the client (what was wrong, what to do); never internal error text;
//! - the `source` is kept for the server log only (5xx are logged with it);
//! - secrets never go into `detail` or `source`.

use std::borrow::Cow;
use std::fmt;

use crate::lang::Lang;

/// What went wrong, independent of the wire family that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter is missing, malformed or out of range.
    InvalidParameter,
    /// The `bk_token` is missing, unknown, expired or revoked.
    InvalidToken,
    /// The named user does not exist.
    UserNotFound,
    /// The caller must log in first.
    Unauthenticated,
    /// The caller is known but may not do this.
    PermissionDenied,
    /// No such resource or route.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The write conflicts with existing data (duplicate name, last superuser...).
    Conflict,
    /// The request body is larger than the service accepts.
    PayloadTooLarge,
    /// The request body has a content type the route does not take.
    UnsupportedMediaType,
    /// Too many requests or failed attempts; retry later.
    TooManyRequests,
    /// The account is temporarily locked after repeated failures.
    AccountLocked,
    /// The account is disabled by an administrator.
    AccountDisabled,
    /// A dependency (the database, an upstream) is unreachable; retry later.
    Unavailable,
    /// A bug: logged with its source, reported without details.
    Internal,
    /// The request body is not what its first byte or content type promised (bad JSON).
    MalformedBody,
    /// The calling app's credentials are missing, unknown or wrong.
    AppUnauthenticated,
    /// The calling app has no grant for this API.
    AppPermissionDenied,
    /// The resource exists but is switched off.
    Inactive,
    /// A backend the request was forwarded to failed, answered garbage or timed out.
    UpstreamFailed,
}

/// Wire facts of one [`ErrorCode`].
#[derive(Debug)]
pub struct CodeInfo {
    /// HTTP status where the envelope family uses HTTP statuses.
    pub status: u16,
    /// Login V1 code (string on the wire).
    pub v1: &'static str,
    /// Numeric code: login V2 `bk_error_code` and the platform envelope `code`.
    pub num: i64,
    /// Stable machine name, used in metrics labels and logs.
    pub name: &'static str,
    /// Message in English.
    pub en: &'static str,
    /// Message in Simplified Chinese.
    pub zh: &'static str,
}

macro_rules! table {
    ($($variant:ident => $status:expr, $v1:expr, $num:expr, $name:expr, $en:expr, $zh:expr;)*) => {
        impl ErrorCode {
            /// Every code, for docs and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The wire facts of this code.
            pub const fn info(self) -> &'static CodeInfo {
                match self {
                    $(ErrorCode::$variant => &CodeInfo {
                        status: $status, v1: $v1, num: $num, name: $name, en: $en, zh: $zh,
                    },)*
                }
            }
        }
    };
}

table! {
    InvalidParameter     => 400, "1300", 1302100, "invalid_parameter", "Invalid parameter", "参数错误";
    InvalidToken         => 401, "1200", 1302100, "invalid_token", "User is not logged in or the login has expired", "用户未登录或登录态已失效";
    UserNotFound         => 404, "1201", 1302101, "user_not_found", "User does not exist", "用户不存在";
    Unauthenticated      => 401, "1200", 1302401, "unauthenticated", "Login required", "请先登录";
    PermissionDenied     => 403, "1300", 1302403, "permission_denied", "Permission denied", "没有权限";
    NotFound             => 404, "1300", 1302404, "not_found", "Not found", "资源不存在";
    MethodNotAllowed     => 405, "1300", 1302405, "method_not_allowed", "Method not allowed", "请求方法不允许";
    Conflict             => 409, "1300", 1302409, "conflict", "Conflict with existing data", "与已有数据冲突";
    PayloadTooLarge      => 413, "1300", 1302413, "payload_too_large", "Request body too large", "请求体过大";
    UnsupportedMediaType => 415, "1300", 1302415, "unsupported_media_type", "Unsupported content type", "不支持的内容类型";
    TooManyRequests      => 429, "1300", 1302429, "too_many_requests", "Too many requests, retry later", "请求过于频繁，请稍后再试";
    AccountLocked        => 423, "1300", 1302423, "account_locked", "Account temporarily locked after repeated failures", "多次失败，账号已被临时锁定";
    AccountDisabled      => 403, "1300", 1302410, "account_disabled", "Account disabled", "账号已被禁用";
    Unavailable          => 503, "1300", 1302503, "unavailable", "Service temporarily unavailable, retry later", "服务暂时不可用，请稍后重试";
    Internal             => 500, "1300", 1302500, "internal", "Internal error", "内部错误";
    MalformedBody        => 400, "1300", 1302400, "malformed_body", "Malformed request body", "请求体格式错误";
    AppUnauthenticated   => 401, "1300", 1302402, "app_unauthenticated", "App authentication failed", "应用认证失败";
    AppPermissionDenied  => 403, "1300", 1302406, "app_permission_denied", "The app has no permission for this API", "应用没有此接口的权限";
    Inactive             => 403, "1300", 1302407, "inactive", "This API is not active", "该接口未启用";
    UpstreamFailed       => 502, "1300", 1302502, "upstream_failed", "Backend request failed", "后端接口请求失败";
}

impl ErrorCode {
    /// The ESB (`/api/c/...`) code of this error (contracts §3): 1306000 common, 1306401
    /// user authentication, 1306402 user permission, 1306403 app permission, 1306404 not
    /// found, 1306405 inactive, 1306406 argument error (app credentials included), 1306429
    /// rate limited, 1306201 backend request error.
    pub const fn esb_code(self) -> i64 {
        use ErrorCode::*;
        match self {
            InvalidParameter | AppUnauthenticated | MethodNotAllowed | PayloadTooLarge
            | UnsupportedMediaType => 1306406,
            InvalidToken | Unauthenticated | AccountLocked | AccountDisabled => 1306401,
            PermissionDenied => 1306402,
            AppPermissionDenied => 1306403,
            NotFound => 1306404,
            Inactive => 1306405,
            TooManyRequests => 1306429,
            UpstreamFailed | Unavailable => 1306201,
            UserNotFound | Conflict | MalformedBody | Internal => 1306000,
        }
    }
}

impl ErrorCode {
    /// The message of this code in `lang`.
    pub fn message(self, lang: Lang) -> &'static str {
        let info = self.info();
        match lang {
            Lang::En => info.en,
            Lang::ZhCn => info.zh,
        }
    }

    /// Whether the fault lies with the server (logged as an error with its source).
    pub fn is_server_fault(self) -> bool {
        self.info().status >= 500
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error on its way to the client: a code, an optional client-facing detail, and an
/// optional source kept for the log.
pub struct ApiError {
    /// What went wrong.
    pub code: ErrorCode,
    /// Client-facing explanation: which field, what to do. Never internal text or secrets.
    pub detail: Option<Cow<'static, str>>,
    source: Option<Source>,
}

impl ApiError {
    /// An error with the default message of `code`.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            source: None,
        }
    }

    /// An error with a client-facing detail.
    pub fn with_detail(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// Shorthand for [`ErrorCode::InvalidParameter`] with a detail.
    pub fn invalid(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::with_detail(ErrorCode::InvalidParameter, detail)
    }

    /// Attach the underlying cause (logged, never sent to the client).
    pub fn caused_by(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The underlying cause, if any.
    pub fn source_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The message for the client in `lang`: the code's message, then the detail.
    pub fn message(&self, lang: Lang) -> String {
        match &self.detail {
            Some(d) => format!("{}: {}", self.code.message(lang), d),
            None => self.code.message(lang).to_owned(),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("detail", &self.detail)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_distinct_names_and_both_languages() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.info().name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            assert!(!c.message(Lang::En).is_empty());
            assert!(!c.message(Lang::ZhCn).is_empty());
            assert_ne!(c.message(Lang::En), c.message(Lang::ZhCn));
        }
    }

    #[test]
    fn contract_codes_are_kept() {
        assert_eq!(ErrorCode::InvalidToken.info().v1, "1200");
        assert_eq!(ErrorCode::UserNotFound.info().v1, "1201");
        assert_eq!(ErrorCode::InvalidParameter.info().num, 1302100);
        assert_eq!(ErrorCode::UserNotFound.info().num, 1302101);
        assert_eq!(ErrorCode::MalformedBody.esb_code(), 1306000);
        assert_eq!(ErrorCode::AppUnauthenticated.esb_code(), 1306406);
        assert_eq!(ErrorCode::AppPermissionDenied.esb_code(), 1306403);
        assert_eq!(ErrorCode::TooManyRequests.esb_code(), 1306429);
        assert_eq!(ErrorCode::UpstreamFailed.esb_code(), 1306201);
    }

    #[test]
    fn message_includes_detail_but_not_source() {
        let e = ApiError::invalid("username is empty")
            .caused_by(std::io::Error::other("secret internals"));
        assert_eq!(e.message(Lang::En), "Invalid parameter: username is empty");
        assert!(!e.message(Lang::ZhCn).contains("secret"));
    }
}
