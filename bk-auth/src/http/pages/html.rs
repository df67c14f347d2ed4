//! HTML of the login pages, in English and Simplified Chinese.

use bk_core::lang::Lang;

/// Escape text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Page texts.
pub(crate) struct Texts {
    pub title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub submit: &'static str,
    pub or: &'static str,
    pub wrong: &'static str,
    pub locked: &'static str,
    pub disabled: &'static str,
    pub expired_form: &'static str,
    pub unavailable: &'static str,
    pub bad_form: &'static str,
}

pub(crate) fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &Texts {
            title: "Sign in",
            username: "Username",
            password: "Password",
            submit: "Sign in",
            or: "or sign in with",
            wrong: "Wrong username or password.",
            locked: "Too many failed attempts. Try again in {} seconds.",
            disabled: "This account is disabled. Ask an administrator.",
            expired_form: "The form expired. Please sign in again.",
            unavailable: "The service is temporarily unavailable. Please try again shortly.",
            bad_form: "The form could not be read. Please sign in again.",
        },
        Lang::ZhCn => &Texts {
            title: "登录",
            username: "用户名",
            password: "密码",
            submit: "登录",
            or: "或使用以下方式登录",
            wrong: "用户名或密码错误。",
            locked: "失败次数过多，请在 {} 秒后重试。",
            disabled: "该账号已被禁用，请联系管理员。",
            expired_form: "表单已过期，请重新登录。",
            unavailable: "服务暂时不可用，请稍后重试。",
            bad_form: "无法读取表单，请重新登录。",
        },
    }
}

/// Everything the login page shows.
pub(crate) struct LoginPage<'a> {
    pub lang: Lang,
    /// Where the form posts (the login page under its mount).
    pub action: &'a str,
    /// `<prefix>/oidc/`: provider links are `<oidc_base><id>/start/`.
    pub oidc_base: &'a str,
    pub c_url: &'a str,
    pub app_id: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<String>,
    pub password_form: bool,
    pub providers: Vec<(String, String)>,
}

pub(crate) fn login_page(p: &LoginPage<'_>) -> String {
    let t = texts(p.lang);
    let error = p
        .error
        .as_deref()
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let form = if p.password_form {
        format!(
            r#"<form method="post" action="{action}">
<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
<input type="hidden" name="c_url" value="{c_url}">
<input type="hidden" name="app_id" value="{app_id}">
<label>{lu}<input name="username" value="{user}" autocomplete="username" required autofocus maxlength="64"></label>
<label>{lp}<input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
<button type="submit">{submit}</button>
</form>"#,
            action = escape(p.action),
            csrf = escape(p.csrf),
            c_url = escape(p.c_url),
            app_id = escape(p.app_id),
            lu = t.username,
            user = escape(p.username),
            lp = t.password,
            submit = t.submit,
        )
    } else {
        String::new()
    };
    let providers = if p.providers.is_empty() {
        String::new()
    } else {
        let links: String = p
            .providers
            .iter()
            .map(|(id, name)| {
                format!(
                    r#"<a class="provider" href="{}{}/start/?c_url={}">{}</a>"#,
                    escape(p.oidc_base),
                    escape(id),
                    escape(
                        &url::form_urlencoded::byte_serialize(p.c_url.as_bytes())
                            .collect::<String>()
                    ),
                    escape(name)
                )
            })
            .collect();
        format!(
            r#"<p class="or">{}</p><div class="providers">{links}</div>"#,
            t.or
        )
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · BK</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f3f5f8;display:flex;justify-content:center;padding-top:12vh;margin:0}}
main{{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 2px 12px #0002;width:20rem}}
h1{{font-size:1.4rem;margin:0 0 1.2rem}} label{{display:block;margin-bottom:1rem;font-size:.9rem;color:#444}}
input{{display:block;width:100%;box-sizing:border-box;padding:.55rem;margin-top:.3rem;border:1px solid #ccd;border-radius:4px;font-size:1rem}}
button,.provider{{display:block;width:100%;padding:.6rem;border:0;border-radius:4px;background:#3a84ff;color:#fff;font-size:1rem;text-align:center;text-decoration:none;cursor:pointer;box-sizing:border-box}}
.provider{{background:#fff;color:#3a84ff;border:1px solid #3a84ff;margin-top:.5rem}}
.error{{color:#c00;background:#fee;padding:.5rem;border-radius:4px}} .or{{text-align:center;color:#888;font-size:.85rem}}
</style></head>
<body><main><h1>{title}</h1>{error}{form}{providers}</main></body></html>"#,
        lang = p.lang.as_str(),
        title = t.title,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_user_controlled() {
        let page = login_page(&LoginPage {
            lang: Lang::En,
            action: "/auth/",
            oidc_base: "/auth/oidc/",
            c_url: "\"><script>alert(1)</script>",
            app_id: "x",
            csrf: "tok",
            username: "<b>",
            error: Some("<i>".into()),
            password_form: true,
            providers: vec![("corp".into(), "Corp <SSO>".into())],
        });
        assert!(!page.contains("<script>alert"));
        assert!(
            page.contains("&lt;b&gt;")
                && page.contains("&lt;i&gt;")
                && page.contains("Corp &lt;SSO&gt;")
        );
        assert!(page.contains(r#"name="csrfmiddlewaretoken" value="tok""#));
        assert!(page.contains(r#"<form method="post" action="/auth/">"#));
        assert!(page.contains(r#"href="/auth/oidc/corp/start/?c_url="#));
    }
}
