//! The client commands: each one call (or a few) to the developer API, printed as a table
//! or, with `--json`, as the answer's data.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::api::Api;
use super::args::{AgentCmd, AppCmd, EnvCmd, MemberCmd};
use super::output::{cell, print, table, time};

/// `bk app ...`.
pub async fn app(api: &Api, cmd: AppCmd) -> anyhow::Result<()> {
    match cmd {
        AppCmd::List(out) => {
            let apps = api.get("/apps/").await?;
            print(out.json, &apps, |v| {
                let rows = rows(v, |a| {
                    vec![
                        cell(a, "code"),
                        cell(a, "name"),
                        cell(a, "language"),
                        cell(a, "state_name"),
                        time(a.get("created_at").unwrap_or(&Value::Null)),
                    ]
                });
                table(&["CODE", "NAME", "LANGUAGE", "STATE", "CREATED"], &rows)
            });
        }
        AppCmd::Create {
            code,
            name,
            language,
            description,
            out,
        } => {
            let created = api
                .post(
                    "/apps/",
                    json!({"code": code, "name": name, "language": language, "description": description}),
                )
                .await?;
            print(out.json, &created, |v| {
                format!(
                    "Created app {code}.\nApp secret (bk_app_secret; shown once, `bk app info` does not show it):\n  {}\n",
                    cell(v, "secret")
                )
            });
        }
        AppCmd::Info { code, out } => {
            let detail = api.get(&format!("/apps/{}/", seg(&code)?)).await?;
            print(out.json, &detail, app_detail);
        }
    }
    Ok(())
}

fn app_detail(v: &Value) -> String {
    let a = v.get("app").unwrap_or(&Value::Null);
    let mut s = format!(
        "code:        {}\nname:        {}\nlanguage:    {}\nstate:       {}\nprod protected: {}\ncreator:     {}\ncreated:     {}\n",
        cell(a, "code"),
        cell(a, "name"),
        cell(a, "language"),
        cell(a, "state_name"),
        cell(a, "prod_protected"),
        cell(a, "creator"),
        time(a.get("created_at").unwrap_or(&Value::Null)),
    );
    s.push_str("\nmodules:\n");
    let modules = rows(v.get("modules").unwrap_or(&Value::Null), |m| {
        vec![
            cell(m, "name"),
            if m.get("is_default") == Some(&Value::Bool(true)) {
                "default".into()
            } else {
                String::new()
            },
            cell(m, "language"),
        ]
    });
    s.push_str(&table(&["NAME", "", "LANGUAGE"], &modules));
    s.push_str("\nmembers:\n");
    let members = rows(v.get("members").unwrap_or(&Value::Null), |m| {
        vec![cell(m, "username"), cell(m, "role")]
    });
    s.push_str(&table(&["USERNAME", "ROLE"], &members));
    s
}

/// `bk env ...`.
pub async fn env(api: &Api, cmd: EnvCmd) -> anyhow::Result<()> {
    match cmd {
        EnvCmd::List {
            code,
            scope,
            module,
            out,
        } => {
            let path = format!("/apps/{}/env_vars/{}", seg(&code)?, query(&scope, &module));
            let vars = api.get(&path).await?;
            print(out.json, &vars, |v| {
                let rows = rows(v, |e| {
                    vec![
                        cell(e, "key"),
                        cell(e, "value"),
                        cell(e, "scope"),
                        match cell(e, "module") {
                            m if m.is_empty() => "*".into(),
                            m => m,
                        },
                    ]
                });
                table(&["KEY", "VALUE", "SCOPE", "MODULE"], &rows)
            });
        }
        EnvCmd::Set {
            code,
            pairs,
            scope,
            module,
        } => {
            let mut vars = Vec::with_capacity(pairs.len());
            for p in &pairs {
                let Some((k, v)) = p.split_once('=') else {
                    bail!("{p:?}: expected KEY=VALUE");
                };
                vars.push(json!({"key": k, "value": v, "scope": scope, "module": module}));
            }
            let set = api
                .post(
                    &format!("/apps/{}/env_vars/", seg(&code)?),
                    json!({"vars": vars}),
                )
                .await?;
            println!("set {} var(s) of {code}", cell(&set, "set"));
        }
        EnvCmd::Unset {
            code,
            key,
            scope,
            module,
        } => {
            api.delete(&format!(
                "/apps/{}/env_vars/{}/{}",
                seg(&code)?,
                seg(&key)?,
                query(&scope, &module)
            ))
            .await?;
            println!("removed {key} from {code}");
        }
    }
    Ok(())
}

/// `bk member ...`.
pub async fn member(api: &Api, cmd: MemberCmd) -> anyhow::Result<()> {
    match cmd {
        MemberCmd::List { code, out } => {
            let members = api.get(&format!("/apps/{}/members/", seg(&code)?)).await?;
            print(out.json, &members, |v| {
                let rows = rows(v, |m| {
                    vec![
                        cell(m, "username"),
                        cell(m, "role"),
                        cell(m, "added_by"),
                        time(m.get("added_at").unwrap_or(&Value::Null)),
                    ]
                });
                table(&["USERNAME", "ROLE", "ADDED BY", "ADDED"], &rows)
            });
        }
        MemberCmd::Add { code, username } => {
            api.post(
                &format!("/apps/{}/members/", seg(&code)?),
                json!({"username": username}),
            )
            .await?;
            println!("{username} is now a developer of {code}");
        }
        MemberCmd::Rm { code, username } => {
            api.delete(&format!(
                "/apps/{}/members/{}/",
                seg(&code)?,
                seg(&username)?
            ))
            .await?;
            println!("removed {username} from {code}");
        }
    }
    Ok(())
}

/// `bk agent ...`.
pub async fn agent(api: &Api, cmd: AgentCmd) -> anyhow::Result<()> {
    match cmd {
        AgentCmd::Add { id, out } => {
            let created = api.post("/agents/", json!({ "id": id })).await?;
            print(out.json, &created, |v| {
                format!(
                    "Registered agent {id}.\nToken (BK_AGENT_TOKEN; shown once, stored hashed):\n  {}\n",
                    cell(v, "token")
                )
            });
        }
        AgentCmd::List { out } => {
            let agents = api.get("/agents/").await?;
            print(out.json, &agents, |v| {
                let rows = rows(v, |a| {
                    vec![
                        cell(a, "id"),
                        cell(a, "state"),
                        cell(a, "host"),
                        cell(a, "version"),
                        format!("{}/{}", cell(a, "instances"), cell(a, "max_instances")),
                        time(a.get("last_seen").unwrap_or(&Value::Null)),
                    ]
                });
                table(
                    &["ID", "STATE", "HOST", "VERSION", "INSTANCES", "LAST SEEN"],
                    &rows,
                )
            });
        }
        AgentCmd::Rm { id } => {
            api.delete(&format!("/agents/{}/", seg(&id)?)).await?;
            println!("removed agent {id}");
        }
        AgentCmd::Enable { id } => {
            api.post(&format!("/agents/{}/enable/", seg(&id)?), json!({}))
                .await?;
            println!("agent {id} takes instances again");
        }
        AgentCmd::Disable { id } => {
            api.post(&format!("/agents/{}/disable/", seg(&id)?), json!({}))
                .await?;
            println!("agent {id} takes no new instances; its instances move elsewhere");
        }
    }
    Ok(())
}

fn rows(list: &Value, f: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    list.as_array()
        .map(|a| a.iter().map(&f).collect())
        .unwrap_or_default()
}

/// A path segment from user input: refused when it would change the path.
pub fn seg(s: &str) -> anyhow::Result<&str> {
    if s.is_empty() || s.contains(['/', '?', '#', '%']) || s == "." || s == ".." {
        bail!("{s:?} is not a valid name");
    }
    Ok(s)
}

fn query(scope: &Option<String>, module: &Option<String>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(s) = scope {
        q.append_pair("scope", s);
    }
    if let Some(m) = module {
        q.append_pair("module", m);
    }
    let q = q.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// Read one line (a password) from stdin.
pub fn read_line_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn segments_cannot_escape_the_path() {
        assert_eq!(seg("demo").unwrap(), "demo");
        for bad in ["", "a/b", "..", "x?y", "%2e"] {
            assert!(seg(bad).is_err(), "{bad}");
        }
        assert_eq!(query(&None, &None), "");
        assert_eq!(
            query(&Some("stag".into()), &Some("a b".into())),
            "?scope=stag&module=a+b"
        );
    }
}
