//! The extractors' answers in the engine's documents: [`bk_core::http::extractor_docs`]
//! does the work; this checks what it adds to the engine's operations.

pub(super) use bk_core::http::extractor_docs::complete;

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_and_parameters_document_the_extractors_answers() {
        let doc = super::super::openapi();
        let op = |path: &str, method: &str| {
            let v = serde_json::to_value(&doc.paths.paths[path]).unwrap();
            v[method]["responses"].clone()
        };
        let create = op("/paas/api/v1/apps/", "post");
        for s in ["400", "413", "415"] {
            assert!(create.get(s).is_some(), "{s}: {create}");
        }
        let list = op("/paas/api/v1/apps/", "get");
        assert!(list.get("400").is_none(), "no parameters, no body: {list}");
        let v7 = op(
            "/paas/api/bkapps/applications/{code}/modules/{module}/deployments/lists/",
            "get",
        );
        assert_eq!(
            v7["400"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/BkError",
            "{v7}"
        );
        // V6 answers client errors with HTTP 200: nothing added.
        let v6 = serde_json::to_value(&super::super::appengine_openapi().paths.paths["/v1/apps/"])
            .unwrap();
        assert!(v6["post"]["responses"].get("415").is_none());
    }
}
