//! Small helpers shared by the platform modules.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` random bytes, URL-safe base64 without padding.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Constant-time equality for secrets.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Trimmed, non-empty text of at most `max` characters, or a field error.
pub fn required_text(
    errors: &mut Vec<crate::FieldError>,
    field: &str,
    value: &str,
    max: usize,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(crate::FieldError::new(field, "is required"));
    } else if v.chars().count() > max {
        errors.push(crate::FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    v.to_string()
}

/// Escape `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The OpenAPI schema of a text field that takes one of `values`; when `nullable`, also null,
/// and when `empty_ok`, also the empty string (both meaning "none").
pub fn enum_schema(values: &[&str], nullable: bool, empty_ok: bool) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    let mut all: Vec<serde_json::Value> = values.iter().map(|v| serde_json::json!(v)).collect();
    if empty_ok {
        all.push(serde_json::json!(""));
    }
    let ty = if nullable {
        all.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(ty)
        .enum_values(Some(all))
        .build()
}

/// The `VALUES` list of a multi-row statement: `rows` tuples of `k` parameters.
///
/// SQLite gets anonymous `?` placeholders: it resolves every `$N` by a linear search among
/// the statement's parameter names (when parsing and again when binding), which makes a
/// statement with thousands of `$N` quadratic. PostgreSQL gets `$1, $2, …`.
pub fn values_list(conn: &sqlx::AnyConnection, rows: usize, k: usize) -> String {
    let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let mut sql = String::with_capacity(rows * k * 4);
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 1..=k {
            if c > 1 {
                sql.push(',');
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(r * k + c).to_string());
            }
        }
        sql.push(')');
    }
    sql
}
