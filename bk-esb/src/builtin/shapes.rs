//! Users as the V6 (`username`, `role` as text) and V2 (`bk_username`, `bk_role` as a
//! number) components show them. Every field is always present (clients such as
//! bkpaas-auth need `chname`, `email`, `phone` even when empty).

use bk_core::identity::UserInfo;
use serde_json::{Value, json};

use crate::component::ApiVer;

/// One user in the shape of `ver`.
pub fn user(u: &UserInfo, ver: ApiVer) -> Value {
    match ver {
        ApiVer::V2 => json!({
            "bk_username": u.username, "chname": u.chname, "qq": u.qq, "phone": u.phone,
            "email": u.email, "bk_role": u.role.code(), "wx_userid": u.wx_userid,
            "language": u.language, "time_zone": u.time_zone,
        }),
        ApiVer::V1 => json!({
            "username": u.username, "chname": u.chname, "qq": u.qq, "phone": u.phone,
            "email": u.email, "role": u.role.code().to_string(), "wx_userid": u.wx_userid,
            "language": u.language, "time_zone": u.time_zone,
        }),
    }
}
