//! Cross-crate tests live in `tests/platform/`: workspace tidiness (forbidden dependency
//! edges), OpenAPI drift against the committed documents under `openapi/`, and the
//! observability of the composed services (metrics, request ids).
