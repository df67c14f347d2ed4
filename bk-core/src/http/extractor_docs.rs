//! What the extractors answer, added to every operation of a document: 400 where path or
//! query parameters are parsed, 400, 413 and 415 where a body is read. The routes'
//! `responses(...)` list what the handlers answer; these come from `bk_core`'s
//! extractors (`Path`, `Query`, `Json`, `Form`, the body limit), the same on every route,
//! so one pass writes them rather than every route repeating them. Each added answer
//! copies the operation's own client-error response (its envelope: platform `Failure`,
//! V7 `BkError`); an operation without one (the V6 API answers client errors with HTTP
//! 200) is left alone.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

/// Add the extractors' statuses to every operation of `doc`.
pub fn complete(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add(op);
        }
    }
}

fn add(op: &mut Operation) {
    let responses = &mut op.responses.responses;
    let Some(template) = ["400", "401", "403", "404"]
        .iter()
        .find_map(|s| responses.get(*s).cloned())
    else {
        return;
    };
    let parsed_params = op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query),
        RefOr::Ref(_) => true,
    });
    let body = op.request_body.is_some();
    let mut statuses: Vec<&str> = Vec::new();
    if parsed_params || body {
        statuses.push("400");
    }
    if body {
        statuses.extend(["413", "415"]);
    }
    for s in statuses {
        responses
            .entry(s.to_owned())
            .or_insert_with(|| template.clone());
    }
}
