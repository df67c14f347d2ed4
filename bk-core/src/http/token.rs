//! The login token an API request carries: `Authorization: Bearer <bk_token>` (CLI,
//! scripts), else the login cookie (browser). One reader for every service's API.

use http::HeaderMap;

/// The bearer token, else the value of the cookie named `cookie` (empty values ignored,
/// quotes trimmed); `None` when the request carries neither.
pub fn request_token(headers: &HeaderMap, cookie: &str) -> Option<String> {
    if let Some(t) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(t.trim().to_owned());
    }
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == cookie && !v.is_empty())
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

#[cfg(test)]
mod tests {
    use super::request_token;
    use http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn tokens_come_from_bearer_or_cookie() {
        let h = headers(&[("authorization", "Bearer abc"), ("cookie", "bk_token=zzz")]);
        assert_eq!(request_token(&h, "bk_token").as_deref(), Some("abc"));
        let h = headers(&[("cookie", "a=1; bk_token=zzz; b=2")]);
        assert_eq!(request_token(&h, "bk_token").as_deref(), Some("zzz"));
        assert_eq!(request_token(&h, "other"), None);
        assert_eq!(
            request_token(&headers(&[("cookie", "bk_token=")]), "bk_token"),
            None
        );
    }
}
