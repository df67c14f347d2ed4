//! Call parameters (contracts §3): the query string, overlaid for other methods by the
//! body: JSON when it starts with `{` (with or without a Content-Type; bad JSON is
//! 1306000), else a form.

use http::{HeaderMap, Method, header};
use serde_json::{Map, Value};

use crate::error::{EsbError, Result};

/// Decoded query pairs, in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// The parameters of a call.
pub fn parse(
    method: &Method,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>> {
    let mut params: Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(params);
    }
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return Ok(params);
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if trimmed.starts_with(b"{") {
        let v: Value = serde_json::from_slice(trimmed)
            .map_err(|e| EsbError::BadBody(format!("the body is not valid JSON: {e}")))?;
        if let Value::Object(m) = v {
            params.extend(m);
        }
    } else if json_type {
        return Err(EsbError::BadBody(
            "the JSON body must be an object ({…})".into(),
        ));
    } else {
        for (k, v) in url::form_urlencoded::parse(trimmed) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn query_then_body_json_or_form() {
        let q = query_pairs(Some("a=1&b=x%20y"));
        let h = HeaderMap::new();
        let p = parse(&Method::GET, &q, &h, br#"{"a": 2}"#).unwrap();
        assert_eq!(Value::Object(p), json!({"a": "1", "b": "x y"}));
        let p = parse(&Method::POST, &q, &h, br#"  {"a": 2, "c": [1]}"#).unwrap();
        assert_eq!(Value::Object(p), json!({"a": 2, "b": "x y", "c": [1]}));
        let p = parse(&Method::POST, &[], &h, b"a=3&d=4").unwrap();
        assert_eq!(Value::Object(p), json!({"a": "3", "d": "4"}));
    }

    #[test]
    fn bad_json_is_a_body_error() {
        assert!(matches!(
            parse(&Method::POST, &[], &HeaderMap::new(), b"{bad"),
            Err(EsbError::BadBody(_))
        ));
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(matches!(
            parse(&Method::POST, &[], &h, b"[1]"),
            Err(EsbError::BadBody(_))
        ));
    }
}
