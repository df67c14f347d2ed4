//! ID token signatures, against a provider that hands out tokens the test crafts: a small
//! real OIDC provider on 127.0.0.1:0 (discovery, JWKS, token and userinfo endpoints)
//! whose keys and next ID token the test sets. The good path against a real provider is
//! in `oidc.rs` (oidc-provider-mock signs with RS256).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bk_auth::error::AuthError;
use bk_auth::idp::IdentityProvider;
use bk_auth::idp::oidc::OidcProvider;
use bk_auth::store::PendingLogin;
use bk_core::crypto::sha256_hex;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const REDIRECT_URI: &str = "http://127.0.0.1:9/login/oidc/mock/callback/";
const RSA_A: &[u8] = include_bytes!("../fixtures/oidc/rsa-a.pem");
const RSA_B: &[u8] = include_bytes!("../fixtures/oidc/rsa-b.pem");

#[derive(Default)]
struct Upstream {
    issuer: Mutex<String>,
    keys: Mutex<Vec<Jwk>>,
    next_id_token: Mutex<String>,
    jwks_fetches: AtomicUsize,
}

type Shared = Arc<Upstream>;

async fn discovery(State(u): State<Shared>) -> Json<Value> {
    let iss = u.issuer.lock().unwrap().clone();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(u): State<Shared>) -> Json<Value> {
    u.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(json!({"keys": *u.keys.lock().unwrap()}))
}

async fn token(State(u): State<Shared>) -> Json<Value> {
    Json(json!({
        "access_token": "at-1",
        "token_type": "Bearer",
        "id_token": *u.next_id_token.lock().unwrap(),
    }))
}

async fn userinfo() -> Json<Value> {
    Json(json!({"sub": "u-1", "preferred_username": "grace"}))
}

async fn spawn_upstream() -> (Shared, String) {
    let u: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(u.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let issuer = format!("http://{addr}");
    *u.issuer.lock().unwrap() = issuer.clone();
    (u, issuer)
}

fn signing_key(pem: &[u8], kid: &str) -> (EncodingKey, Jwk) {
    let enc = EncodingKey::from_rsa_pem(pem).unwrap();
    let mut jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    (enc, jwk)
}

fn claims(issuer: &str, nonce: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"iss": issuer, "sub": "u-1", "aud": "bk-login", "exp": now + 300, "iat": now, "nonce": nonce})
}

fn signed(key: &EncodingKey, alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = Some(kid.into());
    encode(&h, claims, key).unwrap()
}

/// Start a login, let the provider answer `id_token(nonce)`, finish it.
async fn login_with(
    p: &OidcProvider,
    u: &Upstream,
    id_token: impl Fn(&str) -> String,
) -> Result<String, AuthError> {
    let start = p.start(REDIRECT_URI).await.unwrap();
    *u.next_id_token.lock().unwrap() = id_token(&start.nonce);
    let pending = PendingLogin {
        state_hash: sha256_hex(start.state.as_bytes()),
        provider: "mock".into(),
        pkce_verifier: start.pkce_verifier.clone(),
        nonce: start.nonce.clone(),
        c_url: "/".into(),
        expires_at: i64::MAX,
        browser_hash: String::new(),
        address: "127.0.0.1".into(),
    };
    p.finish("code-1", &pending, REDIRECT_URI)
        .await
        .map(|id| id.username)
}

fn refused(r: Result<String, AuthError>, why: &str) {
    match r {
        Err(AuthError::Provider(m)) => assert!(m.contains(why), "{why:?} not in {m:?}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn id_tokens_must_carry_a_valid_signature_of_the_provider() {
    let (u, issuer) = spawn_upstream().await;
    let (key_a, jwk_a) = signing_key(RSA_A, "a");
    let (key_b, jwk_b) = signing_key(RSA_B, "b");
    *u.keys.lock().unwrap() = vec![jwk_a.clone()];
    let p = OidcProvider::new(
        crate::oidc::config(&issuer, "preferred_username"),
        OidcProvider::http_client().unwrap(),
    );

    let good = |n: &str| signed(&key_a, Algorithm::RS256, "a", &claims(&issuer, n));
    assert_eq!(login_with(&p, &u, good).await.unwrap(), "grace");
    assert_eq!(u.jwks_fetches.load(Ordering::SeqCst), 1);

    // alg none: header and claims, no signature.
    let none = |n: &str| {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims(&issuer, n).to_string())
        )
    };
    refused(login_with(&p, &u, none).await, "alg none");

    // Signed by a key that is not the provider's, claiming the provider's key id.
    let forged = |n: &str| signed(&key_b, Algorithm::RS256, "a", &claims(&issuer, n));
    refused(
        login_with(&p, &u, forged).await,
        "signature does not verify",
    );

    // HS256 "signed" with the provider's public modulus.
    let AlgorithmParameters::RSA(rsa) = &jwk_a.algorithm else {
        panic!("RSA key expected")
    };
    let public_as_secret = EncodingKey::from_secret(rsa.n.as_bytes());
    let hs = |n: &str| {
        signed(
            &public_as_secret,
            Algorithm::HS256,
            "a",
            &claims(&issuer, n),
        )
    };
    refused(login_with(&p, &u, hs).await, "HS*");

    // RS384 is a fine algorithm, but this provider announces RS256 only.
    let rs384 = |n: &str| signed(&key_a, Algorithm::RS384, "a", &claims(&issuer, n));
    refused(login_with(&p, &u, rs384).await, "does not announce");

    // The provider rotates to key b: the unknown kid makes us fetch the keys once more.
    let fetches = u.jwks_fetches.load(Ordering::SeqCst);
    *u.keys.lock().unwrap() = vec![jwk_b.clone()];
    let rotated = |n: &str| signed(&key_b, Algorithm::RS256, "b", &claims(&issuer, n));
    assert_eq!(login_with(&p, &u, rotated).await.unwrap(), "grace");
    assert_eq!(u.jwks_fetches.load(Ordering::SeqCst), fetches + 1);
    // Cached from now on.
    assert_eq!(login_with(&p, &u, rotated).await.unwrap(), "grace");
    assert_eq!(u.jwks_fetches.load(Ordering::SeqCst), fetches + 1);
    // A kid the provider does not have: one more fetch, then refused.
    let unknown = |n: &str| signed(&key_a, Algorithm::RS256, "zz", &claims(&issuer, n));
    refused(login_with(&p, &u, unknown).await, "no key of the provider");
    assert_eq!(u.jwks_fetches.load(Ordering::SeqCst), fetches + 2);
}
