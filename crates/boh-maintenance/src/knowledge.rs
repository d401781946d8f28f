//! The knowledge base of past fixes: full-text search over finished work orders (title,
//! description, fault / cause / remedy codes and the technician's resolution note), in the
//! actor's scope, ranked by relevance; and the past fixes most like a work order that has just
//! opened (same asset model first, then same category).
//!
//! Text is tokenised here, not by a backend's full-text engine, so SQLite and PostgreSQL give
//! the same answers: Latin words (lower-cased, a plural `s` dropped, a few stop words left out)
//! and, for Chinese (any CJK run), overlapping character bigrams, plus single characters in the
//! documents so a one-character query still matches. The database narrows the candidates with
//! `LIKE` on every query token (a superset of the rows holding a token, so document
//! frequencies are exact), and the rows left are scored with BM25 in Rust.

use std::collections::{HashMap, HashSet};

use boh_db::Row;
use boh_kernel::{Actor, perm};
use boh_platform::util::like_escape;
use boh_platform::{Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};

use crate::kpi::{self, visible_sql};
use crate::workorder;

/// The most query tokens used (the rest are ignored).
pub const MAX_QUERY_TOKENS: usize = 24;
/// The most hits answered.
pub const MAX_LIMIT: i64 = 50;

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "in", "is", "it", "of",
    "on", "or", "the", "to", "was", "were", "with",
];

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // kana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified
        | 0xAC00..=0xD7AF // Hangul
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0x20000..=0x2FFFF)
}

fn word(w: &str, out: &mut Vec<String>) {
    if w.is_empty() || STOP.contains(&w) {
        return;
    }
    let w = if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    };
    out.push(w.to_string());
}

fn cjk_run(run: &[char], unigrams: bool, out: &mut Vec<String>) {
    if run.len() == 1 || unigrams {
        out.extend(run.iter().map(|c| c.to_string()));
    }
    for pair in run.windows(2) {
        out.push(pair.iter().collect());
    }
}

fn tokens(text: &str, unigrams: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut latin = String::new();
    let mut run: Vec<char> = Vec::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            if !latin.is_empty() {
                word(&latin, &mut out);
                latin.clear();
            }
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            cjk_run(&run, unigrams, &mut out);
            run.clear();
        }
        if c.is_alphanumeric() {
            latin.push(c);
        } else if !latin.is_empty() {
            word(&latin, &mut out);
            latin.clear();
        }
    }
    if !latin.is_empty() {
        word(&latin, &mut out);
    }
    if !run.is_empty() {
        cjk_run(&run, unigrams, &mut out);
    }
    out
}

/// The tokens of a document: words, CJK bigrams and CJK characters.
pub fn doc_tokens(text: &str) -> Vec<String> {
    tokens(text, true)
}

/// The distinct tokens of a query, in order: words and CJK bigrams (a lone CJK character as
/// itself), at most [`MAX_QUERY_TOKENS`].
pub fn query_tokens(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    tokens(text, false)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .take(MAX_QUERY_TOKENS)
        .collect()
}

/// BM25 parameters.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Scores of `docs` (token lists) for `query` (distinct tokens) by BM25, with `total` the size
/// of the whole collection (at least the number of docs) for the inverse document frequency.
/// A document that shares no token scores 0.
pub fn bm25(query: &[String], docs: &[Vec<String>], total: usize) -> Vec<f64> {
    let n = total.max(docs.len()).max(1) as f64;
    let avgdl = if docs.is_empty() {
        1.0
    } else {
        (docs.iter().map(Vec::len).sum::<usize>() as f64 / docs.len() as f64).max(1.0)
    };
    let q: HashSet<&str> = query.iter().map(String::as_str).collect();
    let tfs: Vec<HashMap<&str, u32>> = docs
        .iter()
        .map(|d| {
            let mut m = HashMap::new();
            for t in d {
                if q.contains(t.as_str()) {
                    *m.entry(t.as_str()).or_insert(0) += 1;
                }
            }
            m
        })
        .collect();
    let mut df: HashMap<&str, u32> = HashMap::new();
    for m in &tfs {
        for t in m.keys() {
            *df.entry(t).or_insert(0) += 1;
        }
    }
    tfs.iter()
        .zip(docs)
        .map(|(m, d)| {
            let dl = d.len() as f64;
            m.iter()
                .map(|(t, tf)| {
                    let df = f64::from(df.get(t).copied().unwrap_or(0));
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    let tf = f64::from(*tf);
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl / avgdl))
                })
                .sum()
        })
        .collect()
}

/// A past fix.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Fix {
    pub id: String,
    pub number: String,
    pub title: String,
    pub description: Option<String>,
    pub location_id: String,
    pub location_code: String,
    pub asset_id: Option<String>,
    pub asset_code: Option<String>,
    pub asset_model: Option<String>,
    pub category: String,
    pub fault_code: String,
    pub cause_code: Option<String>,
    pub remedy_code: Option<String>,
    pub resolution_note: Option<String>,
    pub finished_at: String,
    /// Minutes from report to fix.
    pub repair_min: i64,
    /// Relevance, higher is better (BM25 × 1000, rounded).
    pub score: i64,
    /// `model` (same asset model), `category` (same category) or `text` (a search hit).
    pub basis: String,
}

/// The search parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeQuery {
    /// Words or Chinese text to look for.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only fixes at sites under this org node.
    pub under: Option<String>,
    /// Only this asset category.
    pub category: Option<String>,
    /// At most this many hits (default 20, at most 50).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

struct Cand {
    fix: Fix,
    text: Vec<String>,
    finished: i64,
}

const COLS: &str = "w.id, w.number, w.title, w.description, w.location_id, n.code AS location_code, \
    w.asset_id, a.code AS asset_code, a.model AS asset_model, w.category, w.fault_code, w.cause_code, \
    w.remedy_code, w.resolution_note, w.created_at, w.finished_at";
const FROM: &str = "FROM mnt_work_orders w JOIN org_nodes n ON n.id = w.location_id \
    LEFT JOIN mnt_assets a ON a.id = w.asset_id";
/// A past fix: finished, and done or closed (not sent back by a low rating, not cancelled).
const PAST: &str = "w.finished_at IS NOT NULL AND w.status IN ('done','closed')";
/// The searchable text, lower-cased (for the `LIKE` narrowing).
const TEXT: &str = "LOWER(w.title || ' ' || COALESCE(w.description, '') || ' ' || w.fault_code || ' ' || \
    COALESCE(w.cause_code, '') || ' ' || COALESCE(w.remedy_code, '') || ' ' || COALESCE(w.resolution_note, ''))";

fn cand(r: &boh_db::AnyRow) -> Result<Cand> {
    let created: i64 = r.try_get("created_at")?;
    let finished: i64 = r.try_get("finished_at")?;
    let fix = Fix {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        location_id: r.try_get("location_id")?,
        location_code: r.try_get("location_code")?,
        asset_id: r.try_get("asset_id")?,
        asset_code: r.try_get("asset_code")?,
        asset_model: r.try_get("asset_model")?,
        category: r.try_get("category")?,
        fault_code: r.try_get("fault_code")?,
        cause_code: r.try_get("cause_code")?,
        remedy_code: r.try_get("remedy_code")?,
        resolution_note: r.try_get("resolution_note")?,
        finished_at: boh_kernel::Instant(finished).rfc3339(),
        repair_min: (finished - created).max(0) / 60_000_000,
        score: 0,
        basis: "text".into(),
    };
    let mut text = String::new();
    // The title counts twice.
    for part in [
        Some(fix.title.as_str()),
        Some(fix.title.as_str()),
        fix.description.as_deref(),
        Some(fix.fault_code.as_str()),
        fix.cause_code.as_deref(),
        fix.remedy_code.as_deref(),
        fix.resolution_note.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        text.push_str(part);
        text.push(' ');
    }
    Ok(Cand {
        text: doc_tokens(&text),
        fix,
        finished,
    })
}

/// Rank candidates by score (best first), then newest fix, then id; drop those scoring 0 when
/// `need_match`.
fn rank(mut cands: Vec<(i64, Cand)>, need_match: bool, limit: usize) -> Vec<Fix> {
    if need_match {
        cands.retain(|(_, c)| c.fix.score > 0);
    }
    cands.sort_by(|(ta, a), (tb, b)| {
        ta.cmp(tb)
            .then(b.fix.score.cmp(&a.fix.score))
            .then(b.finished.cmp(&a.finished))
            .then(a.fix.id.cmp(&b.fix.id))
    });
    cands.into_iter().take(limit).map(|(_, c)| c.fix).collect()
}

fn limit_of(limit: Option<i64>) -> usize {
    limit.unwrap_or(20).clamp(1, MAX_LIMIT) as usize
}

/// Past fixes matching `q.q`, best first, among the work orders the actor sees.
pub async fn search(p: &Platform, actor: &Actor, q: &KnowledgeQuery) -> Result<Vec<Fix>> {
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.chars().count() > 200 {
        return Err(PlatformError::invalid("q", "at most 200 characters"));
    }
    let qt = query_tokens(text);
    if qt.is_empty() {
        return Ok(Vec::new());
    }
    let mut binds: Vec<String> = vec![actor.user_id.clone()];
    let mut conds = vec![visible_sql(actor), PAST.to_string()];
    if let Some(u) = kpi::under_path(p, actor, q.under.as_deref()).await? {
        binds.push(format!("{}%", like_escape(&u.path)));
        conds.push(format!("w.location_path LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if let Some(c) = q.category.as_deref().filter(|s| !s.is_empty()) {
        binds.push(c.to_string());
        conds.push(format!("w.category = ${}", binds.len()));
    }
    let total_sql = format!(
        "SELECT COUNT(*) AS n FROM mnt_work_orders w WHERE {}",
        conds.join(" AND ")
    );
    let likes: Vec<String> = qt
        .iter()
        .map(|t| {
            binds.push(format!("%{}%", like_escape(t)));
            format!("{TEXT} LIKE ${} ESCAPE '\\'", binds.len())
        })
        .collect();
    let n_scope = binds.len() - qt.len();
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(total_sql));
    for b in binds.iter().take(n_scope) {
        qc = qc.bind(b.clone());
    }
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE {} AND ({})",
        conds.join(" AND "),
        likes.join(" OR ")
    );
    let mut qs = sqlx::query(boh_db::AssertSqlSafe(sql));
    for b in &binds {
        qs = qs.bind(b.clone());
    }
    let cands: Vec<Cand> = qs
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(cand)
        .collect::<Result<_>>()?;
    let docs: Vec<Vec<String>> = cands.iter().map(|c| c.text.clone()).collect();
    let scores = bm25(&qt, &docs, total.max(0) as usize);
    let scored = cands
        .into_iter()
        .zip(scores)
        .map(|(mut c, s)| {
            c.fix.score = (s * 1000.0).round() as i64;
            (0, c)
        })
        .collect();
    Ok(rank(scored, true, limit_of(q.limit)))
}

/// The past fixes most like work order `id` (which the actor must see): fixes on the same
/// asset model first, then on the same category, each by the likeness of title, description
/// and fault (same fault code counts extra), then newest. The work order itself is left out.
pub async fn similar(
    p: &Platform,
    actor: &Actor,
    id: &str,
    limit: Option<i64>,
) -> Result<Vec<Fix>> {
    let l = workorder::get(p, actor, id).await?;
    let wo = &l.wo;
    let model = wo.asset_model.clone().unwrap_or_default();
    let mut binds: Vec<String> = vec![actor.user_id.clone(), wo.id.clone(), wo.category.clone()];
    let model_cond = if model.is_empty() {
        String::new()
    } else {
        binds.push(model.clone());
        format!(" OR a.model = ${}", binds.len())
    };
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE {} AND {PAST} AND w.id <> $2 AND (w.category = $3{model_cond})",
        visible_sql(actor)
    );
    let mut qs = sqlx::query(boh_db::AssertSqlSafe(sql));
    for b in &binds {
        qs = qs.bind(b.clone());
    }
    let cands: Vec<Cand> = qs
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(cand)
        .collect::<Result<_>>()?;
    let mut query = query_tokens(&format!(
        "{} {} {}",
        wo.title,
        wo.description.as_deref().unwrap_or(""),
        wo.fault_code
    ));
    query.truncate(MAX_QUERY_TOKENS);
    let docs: Vec<Vec<String>> = cands.iter().map(|c| c.text.clone()).collect();
    let scores = bm25(&query, &docs, docs.len());
    let scored = cands
        .into_iter()
        .zip(scores)
        .map(|(mut c, s)| {
            let same_fault = if c.fix.fault_code == wo.fault_code {
                2.0
            } else {
                0.0
            };
            c.fix.score = ((s + same_fault) * 1000.0).round() as i64;
            let same_model = !model.is_empty() && c.fix.asset_model.as_deref() == Some(&model);
            c.fix.basis = if same_model { "model" } else { "category" }.into();
            (i64::from(!same_model), c)
        })
        .collect();
    Ok(rank(scored, false, limit_of(limit)))
}

/// Whether the actor may search the knowledge base at all (sees some work orders).
pub fn may_search(actor: &Actor) -> bool {
    [
        perm::MAINTENANCE_READ,
        perm::MAINTENANCE_REQUEST,
        perm::MAINTENANCE_DISPATCH,
        perm::MAINTENANCE_WORK,
    ]
    .iter()
    .any(|pm| actor.has_anywhere(pm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn words_are_lowered_stemmed_and_stopped() {
        assert_eq!(
            query_tokens("Replaced the door GASKETS; fans ok, glass"),
            s(&["replaced", "door", "gasket", "fan", "ok", "glass"])
        );
        assert_eq!(query_tokens("not_cooling"), s(&["not", "cooling"]));
        assert_eq!(query_tokens("  ,; "), Vec::<String>::new());
    }

    #[test]
    fn chinese_is_cut_into_bigrams() {
        assert_eq!(query_tokens("压缩机"), s(&["压缩", "缩机"]));
        assert_eq!(query_tokens("漏"), s(&["漏"]));
        assert_eq!(
            doc_tokens("更换压缩机 fan"),
            s(&[
                "更", "换", "压", "缩", "机", "更换", "换压", "压缩", "缩机", "fan"
            ])
        );
        // Mixed text without spaces.
        assert_eq!(query_tokens("E3报警"), s(&["e3", "报警"]));
    }

    #[test]
    fn query_tokens_are_distinct_and_bounded() {
        assert_eq!(query_tokens("fan fan FAN"), s(&["fan"]));
        let long: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(query_tokens(&long).len(), MAX_QUERY_TOKENS);
    }

    #[test]
    fn bm25_prefers_rare_and_frequent_terms() {
        let docs = vec![
            doc_tokens("compressor relay replaced"),
            doc_tokens("door gasket replaced"),
            doc_tokens("door gasket replaced door gasket"),
            doc_tokens("cleaned the filter"),
        ];
        let q = query_tokens("gasket");
        let sc = bm25(&q, &docs, docs.len());
        assert_eq!(sc[0], 0.0);
        assert_eq!(sc[3], 0.0);
        assert!(sc[2] > sc[1] && sc[1] > 0.0, "{sc:?}");
        // A rare term outweighs a common one.
        let q = query_tokens("compressor replaced");
        let sc = bm25(&q, &docs, docs.len());
        assert!(sc[0] > sc[1], "{sc:?}");
        // Chinese.
        let docs = vec![doc_tokens("更换压缩机启动电容"), doc_tokens("清洁冷凝器")];
        let sc = bm25(&query_tokens("压缩机"), &docs, 2);
        assert!(sc[0] > 0.0 && sc[1] == 0.0);
    }

    #[test]
    fn bm25_is_zero_for_an_empty_query() {
        let docs = vec![doc_tokens("a b c")];
        assert_eq!(bm25(&[], &docs, 1), vec![0.0]);
        assert!(bm25(&query_tokens("x"), &[], 0).is_empty());
    }
}
