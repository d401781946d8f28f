//! Demo POS history: two years of tickets for every demo store up to the current hour of
//! today in each store's time zone, deterministic (seeded).
//!
//! - Volume: each store has its own size; weekdays are quieter than Friday to Sunday; the
//!   year peaks in summer and dips in late winter; sales grow a little year on year.
//! - Holidays: Chinese New Year (the real dates: 2025-01-29 and 2026-02-17; the eve and the
//!   first days are quiet, the rest of the week busy), Labour Day (May 1–5) and Golden Week
//!   (October 1–7) are busy.
//! - Promotions: Women's Day week, "618" (June 1–18), Double Eleven (November 1–11) and the
//!   Christmas week take 20 % off a share of the lines and bring more tickets.
//! - Hours: breakfast, a lunch peak and a dinner peak; delivery (Meituan, Ele.me) mostly at
//!   meal times. Tenders: WeChat Pay, Alipay, bank card, cash, Meituan, Ele.me, a few split
//!   payments with a voucher.
//! - Refunds and voids at realistic low rates, and two cashiers far above them (S003's c04
//!   and S011's c02) for the anomaly page.
//! - A few POS codes no item has (a limited-time burger, a staff meal, a new tea) appear in
//!   the last two weeks: their lines are held and the codes wait in the unmapped queue.
//!
//! Consumption is counted once: the inventory demo's own daily `issue` documents are the
//! stores' usage over its whole window (and there is no stock before it), so the demo
//! batches post no `sale` depletion (`doc_id` is empty, no `sales_usage` rows). Batches that
//! arrive later (the API, the import page) deplete as always. The history is written with
//! the ingestion's own building blocks — [`ingest::write_raw`] for tickets, lines and
//! tenders and [`Rollups::of_tickets`] + [`Rollups::add_to`] for the rollups — so
//! `boh check` (`sales.rollups`) proves the rollups equal the lines.

use std::collections::BTreeMap;

use boh_db::AssertSqlSafe;
use boh_inventory::catalog;
use boh_inventory::demo::{DemoSize, Rng};
use boh_kernel::id::new_id;
use boh_kernel::now;
use boh_kernel::qty::MICRO;
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, Platform, Result, audit, tx};
use jiff::civil::Date;

use crate::ingest::{self, Line, Tender, Ticket, TicketKind, Totals};
use crate::rollup::Rollups;

/// The source system of the demo history.
pub const SOURCE: &str = "pos";

/// What the demo wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seeded {
    pub batches: u64,
    pub tickets: u64,
    pub lines: u64,
    pub held: u64,
}

/// A menu item the demo sells.
struct MenuItem {
    item_id: Option<String>,
    pos_code: String,
    name: String,
    price: i64,
    /// Relative popularity.
    weight: u64,
    delivery: bool,
}

/// Chinese New Year's day of the years the history covers.
const NEW_YEAR: &[&str] = &["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06"];

/// Traffic factor of a day in percent (holidays and seasons).
fn day_factor(d: Date, start_year: i16) -> (i64, bool) {
    let wd = d.weekday().to_monday_one_offset();
    let mut f: i64 = [85, 84, 88, 94, 116, 138, 126][usize::from(wd as u8 - 1)];
    // Summer peak, late-winter dip (±12 %), and 6 % growth a year.
    let doy = f64::from(d.day_of_year());
    let season = 1.0 + 0.12 * ((doy - 200.0) / 365.0 * std::f64::consts::TAU).cos();
    let growth = 1.0 + 0.06 * (f64::from(d.year() - start_year) + doy / 365.0);
    f = (f as f64 * season * growth).round() as i64;
    for ny in NEW_YEAR {
        let Ok(ny) = ny.parse::<Date>() else { continue };
        let off = (d - ny).get_days();
        if (-7..=14).contains(&off) {
            f = f * match off {
                -7..=-2 => 118,
                -1 => 55,
                0..=2 => 45,
                3..=6 => 120,
                _ => 105,
            } / 100;
        }
    }
    let (m, day) = (d.month(), d.day());
    if m == 10 && day <= 7 {
        f = f * 145 / 100;
    }
    if m == 5 && day <= 5 {
        f = f * 125 / 100;
    }
    let promo = (m == 3 && (8..=14).contains(&day))
        || (m == 6 && day <= 18)
        || (m == 11 && day <= 11)
        || (m == 12 && (20..=25).contains(&day));
    if promo {
        f = f * 112 / 100;
    }
    (f, promo)
}

/// Share of a day's tickets per hour (7:00–22:00), in permille.
const HOURS: [(i8, u64); 16] = [
    (7, 30),
    (8, 45),
    (9, 35),
    (10, 45),
    (11, 120),
    (12, 150),
    (13, 90),
    (14, 45),
    (15, 35),
    (16, 40),
    (17, 85),
    (18, 120),
    (19, 85),
    (20, 45),
    (21, 30),
    (22, 20),
];

fn pick<T>(rng: &mut Rng, items: &[T], weight: impl Fn(&T) -> u64) -> usize {
    let total: u64 = items.iter().map(&weight).sum::<u64>().max(1);
    let mut x = rng.next_u64() % total;
    for (i, it) in items.iter().enumerate() {
        let w = weight(it);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len() - 1
}

/// Seed the POS history: `Full` is every store for two years, `Small` S001 and S002 for a
/// week (tests).
pub async fn seed(p: &Platform, stores: &[OrgNode], size: DemoSize) -> Result<Seeded> {
    let (days, base_tickets, codes): (i64, i64, Option<&[&str]>) = match size {
        DemoSize::Full => (730, 16, None),
        DemoSize::Small => (7, 25, Some(&["S001", "S002"])),
    };
    let stores: Vec<&OrgNode> = stores
        .iter()
        .filter(|s| s.kind == "store")
        .filter(|s| codes.is_none_or(|c| c.contains(&s.code.as_str())))
        .collect();
    let Some(company_id) = stores.first().map(|s| s.company_id.clone()) else {
        return Ok(Seeded::default());
    };
    // The menu: every menu item of the catalogue with its POS code and price.
    let demo = boh_inventory::demo::catalogue(size);
    let menu_codes: Vec<String> = demo
        .iter()
        .filter(|d| d.price.is_some() && d.input.pos_code.is_some())
        .map(|d| d.input.code.clone())
        .collect();
    let items = catalog::items_by_code(p, &company_id, &menu_codes).await?;
    let mut rng = Rng::new(20_261_203);
    let mut menu: Vec<MenuItem> = Vec::new();
    for d in demo.iter().filter(|d| d.price.is_some()) {
        let (Some(pos), Some(price)) = (d.input.pos_code.clone(), d.price) else {
            continue;
        };
        let Some(item) = items.get(&d.input.code) else {
            continue;
        };
        let cat = d.input.category_code.clone().unwrap_or_default();
        menu.push(MenuItem {
            item_id: Some(item.id.clone()),
            pos_code: pos,
            name: d.input.name_en.clone().unwrap_or_default(),
            price,
            // A few favourites sell far more than the long tail.
            weight: 1 + 40 / (1 + rng.range(0, 12) as u64) + if cat == "MAIN" { 6 } else { 0 },
            delivery: cat != "DRINK" || rng.chance(50),
        });
    }
    if menu.is_empty() {
        return Ok(Seeded::default());
    }
    // Codes no item has: they appear in the last two weeks and wait in the queue.
    let unmapped = [
        (
            "9001",
            "限定 松露牛肉堡 Truffle beef burger (limited)",
            4200,
        ),
        ("9002", "员工餐 Staff meal", 1500),
        ("9003", "新品 荔枝乌龙 Lychee oolong (new)", 1800),
    ];
    let today_utc = jiff::Timestamp::now();
    let mut out = Seeded::default();
    let ctx = Ctx::system();
    let start_year = today_utc.to_zoned_datetime(jiff::tz::TimeZone::UTC).year() - 2;
    for (si, store) in stores.iter().enumerate() {
        let zone = jiff::tz::TimeZone::get(&store.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let now_local = today_utc.to_zoned_datetime(zone.clone());
        let today = now_local.date();
        let now_micros = today_utc.as_microsecond();
        let mut srng = Rng::new(7_919 * (si as u64 + 1) + 17);
        let size_pct = srng.range(70, 140);
        // Cashiers: four a store; one of S003 and one of S011 refund and void far too much.
        let cashiers: Vec<String> = (1..=4).map(|n| format!("c{n:02}")).collect();
        let outlier = match store.code.as_str() {
            "S003" => Some("c04"),
            "S011" => Some("c02"),
            _ => None,
        };
        let first = today
            .checked_sub(jiff::Span::new().days(days - 1))
            .unwrap_or(today);
        let mut day = first;
        let mut pending: Vec<(String, Vec<Ticket>)> = Vec::new();
        loop {
            let (factor, promo) = day_factor(day, start_year);
            let n_tickets =
                (base_tickets * size_pct / 100 * factor / 100 + srng.range(-8, 8)).max(5);
            let is_today = day == today;
            let mut tickets: Vec<Ticket> = Vec::with_capacity(n_tickets as usize);
            let mut line_no = 0i64;
            let recent = (today - day).get_days() < 14;
            for ti in 0..n_tickets {
                let h = HOURS[pick(&mut srng, &HOURS, |h| h.1)].0;
                // The first ticket of a day closes in its opening hour: a store that has
                // opened today has sales today.
                let h = if ti == 0 { HOURS[0].0 } else { h };
                let minute = srng.range(0, 59) as i8;
                let second = srng.range(0, 59) as i8;
                let Ok(local) = day.at(h, minute, second, 0).to_zoned_datetime(zone.clone()) else {
                    continue;
                };
                let closed_at = local.timestamp().as_microsecond();
                if is_today && closed_at > now_micros {
                    continue;
                }
                let cashier = cashiers[srng.range(0, 3) as usize].clone();
                let odd = outlier == Some(cashier.as_str());
                let roll = srng.range(0, 9_999);
                let kind = if roll < if odd { 600 } else { 35 } {
                    TicketKind::Refund
                } else if roll < if odd { 1_100 } else { 65 } {
                    TicketKind::Void
                } else {
                    TicketKind::Sale
                };
                // Delivery platforms at meal times.
                let meal = matches!(h, 11..=13 | 17..=19);
                let delivery = meal && srng.chance(if h >= 17 { 30 } else { 22 });
                let n_lines = 1 + pick(&mut srng, &[55u64, 28, 12, 5], |w| *w);
                let sign = if kind == TicketKind::Refund { -1 } else { 1 };
                let mut lines = Vec::with_capacity(n_lines);
                let mut totals = Totals::default();
                for _ in 0..n_lines {
                    line_no += 1;
                    let (item_id, code, name, price) = if recent && srng.chance(2) {
                        let u = &unmapped[srng.range(0, unmapped.len() as i64 - 1) as usize];
                        (None, u.0.to_string(), u.1.to_string(), u.2)
                    } else {
                        let m = &menu[pick(&mut srng, &menu, |m| {
                            if delivery && !m.delivery { 0 } else { m.weight }
                        })];
                        (
                            m.item_id.clone(),
                            m.pos_code.clone(),
                            m.name.clone(),
                            m.price,
                        )
                    };
                    let qty = 1 + pick(&mut srng, &[82u64, 15, 3], |w| *w) as i64;
                    let gross = price * qty;
                    let discount = if promo && srng.chance(40) {
                        gross / 5
                    } else if srng.chance(4) {
                        gross / 10
                    } else {
                        0
                    };
                    let net = gross - discount;
                    let tax = (net * 6 + 53) / 106;
                    let voided = kind == TicketKind::Void || srng.chance(if odd { 6 } else { 1 });
                    if voided {
                        totals.void_lines += 1;
                        totals.void_amount += net;
                    } else {
                        totals.lines += 1;
                        totals.gross += sign * gross;
                        totals.discount += sign * discount;
                        totals.tax += sign * tax;
                        totals.net += sign * net;
                    }
                    let s = if voided { 1 } else { sign };
                    lines.push(Line {
                        line_no,
                        pos_code: code,
                        name: Some(name),
                        qty: s * qty * MICRO,
                        gross: s * gross,
                        discount: s * discount,
                        tax: s * tax,
                        net: s * net,
                        voided,
                        item_id,
                    });
                }
                // A ticket whose every line was voided is a void ticket in all but name:
                // it takes no payment either.
                let mut tenders = Vec::new();
                if kind != TicketKind::Void && totals.net != 0 {
                    let paid = totals.net.abs();
                    let tender = if delivery {
                        if srng.chance(60) {
                            Tender::Meituan
                        } else {
                            Tender::Eleme
                        }
                    } else {
                        [
                            Tender::Wechat,
                            Tender::Alipay,
                            Tender::Card,
                            Tender::Cash,
                            Tender::Member,
                        ][pick(&mut srng, &[55u64, 30, 7, 6, 2], |w| *w)]
                    };
                    if !delivery && paid > 2_000 && srng.chance(3) {
                        tenders.push((Tender::Voucher, sign * 1_000));
                        tenders.push((tender, sign * (paid - 1_000)));
                    } else {
                        tenders.push((tender, sign * paid));
                    }
                }
                let hour = i64::from(h);
                tickets.push(Ticket {
                    seq: ti + 1,
                    ticket_no: format!("{}-{}-{:04}", store.code, day.strftime("%y%m%d"), ti + 1),
                    kind,
                    closed_at,
                    hour,
                    cashier,
                    lines,
                    tenders,
                    totals,
                });
            }
            // Tickets in the order they closed, numbered again.
            tickets.sort_by_key(|t| t.closed_at);
            let mut n = 0;
            for (i, t) in tickets.iter_mut().enumerate() {
                t.seq = i as i64 + 1;
                for l in &mut t.lines {
                    n += 1;
                    l.line_no = n;
                }
            }
            if !tickets.is_empty() {
                pending.push((day.to_string(), tickets));
            }
            if pending.len() >= 61 || day >= today {
                let w = write_days(p, &ctx, store, &pending).await?;
                out.batches += w.batches;
                out.tickets += w.tickets;
                out.lines += w.lines;
                out.held += w.held;
                pending.clear();
            }
            if day >= today {
                break;
            }
            day = match day.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
    }
    Ok(out)
}

/// Write the batches of some days of one store in one transaction.
async fn write_days(
    p: &Platform,
    ctx: &Ctx,
    store: &OrgNode,
    days: &[(String, Vec<Ticket>)],
) -> Result<Seeded> {
    let t_now = now().micros();
    let mut seeded = Seeded::default();
    let mut rollups = Rollups::default();
    let mut batches: Vec<(String, &str, &[Ticket])> = Vec::with_capacity(days.len());
    let mut held: BTreeMap<String, (String, Vec<(String, i64)>)> = BTreeMap::new();
    for (date, tickets) in days {
        let id = new_id();
        let r = Rollups::of_tickets(store, date, tickets);
        rollups.stores.extend(r.stores);
        rollups.day.extend(r.day);
        rollups.item.extend(r.item);
        rollups.hour.extend(r.hour);
        rollups.tender.extend(r.tender);
        rollups.cashier.extend(r.cashier);
        for t in tickets {
            for l in &t.lines {
                if l.item_id.is_none() {
                    let e = held
                        .entry(l.pos_code.clone())
                        .or_insert_with(|| (l.name.clone().unwrap_or_default(), Vec::new()));
                    e.1.push((id.clone(), l.line_no));
                }
            }
        }
        batches.push((id, date.as_str(), tickets.as_slice()));
    }
    tx!(p.db, tx, {
        let backend_rows = ingest::chunk_rows(23);
        for chunk in batches.chunks(backend_rows) {
            let sql = format!(
                "INSERT INTO sales_days (store_id, source, business_date, company_id, store_path, version, updated_at) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 7)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (_, date, _) in chunk {
                q = q
                    .bind(store.id.clone())
                    .bind(SOURCE)
                    .bind(date.to_string())
                    .bind(store.company_id.clone())
                    .bind(store.path.clone())
                    .bind(1i64)
                    .bind(t_now);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "INSERT INTO sales_batches (id, company_id, store_id, store_path, source, business_date, batch_key, \
                 payload_hash, version, mode, status, superseded_by, ticket_count, line_count, held_count, gross, \
                 discount, tax, net, doc_id, no_recipe, created_at, created_by) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 23)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, date, tickets) in chunk {
                let key = format!("demo-{}-{date}", store.code);
                let mut tot = Totals::default();
                let mut held_n = 0i64;
                for t in tickets.iter() {
                    tot.lines += t.totals.lines + t.totals.void_lines;
                    tot.gross += t.totals.gross;
                    tot.discount += t.totals.discount;
                    tot.tax += t.totals.tax;
                    tot.net += t.totals.net;
                    held_n += t.lines.iter().filter(|l| l.item_id.is_none()).count() as i64;
                }
                seeded.batches += 1;
                seeded.tickets += tickets.len() as u64;
                seeded.lines += tot.lines as u64;
                seeded.held += held_n as u64;
                q = q
                    .bind(id.clone())
                    .bind(store.company_id.clone())
                    .bind(store.id.clone())
                    .bind(store.path.clone())
                    .bind(SOURCE)
                    .bind(date.to_string())
                    .bind(key.clone())
                    .bind(boh_platform::util::sha256_hex(key.as_bytes()))
                    .bind(1i64)
                    .bind("append")
                    .bind("active")
                    .bind(None::<String>)
                    .bind(tickets.len() as i64)
                    .bind(tot.lines)
                    .bind(held_n)
                    .bind(tot.gross)
                    .bind(tot.discount)
                    .bind(tot.tax)
                    .bind(tot.net)
                    .bind(None::<String>)
                    .bind("")
                    .bind(t_now)
                    .bind(ctx.actor.user_id.clone());
            }
            q.execute(&mut *tx).await?;
        }
        for (id, _, tickets) in &batches {
            ingest::write_raw(tx, id, tickets).await?;
        }
        let rows: Vec<(&String, &String, i64)> = held
            .iter()
            .flat_map(|(code, (_, v))| v.iter().map(move |(b, n)| (code, b, *n)))
            .collect();
        for chunk in rows.chunks(ingest::chunk_rows(5)) {
            let sql = format!(
                "INSERT INTO sales_held (company_id, source, pos_code, batch_id, line_no) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (code, b, n) in chunk {
                q = q
                    .bind(store.company_id.clone())
                    .bind(SOURCE)
                    .bind((*code).clone())
                    .bind((*b).clone())
                    .bind(*n);
            }
            q.execute(&mut *tx).await?;
        }
        for (code, (name, _)) in &held {
            sqlx::query(
                "INSERT INTO sales_unmapped (company_id, source, pos_code, pos_name, status, first_seen_at, last_seen_at) \
                 VALUES ($1,$2,$3,$4,'open',$5,$5) ON CONFLICT (company_id, source, pos_code) DO UPDATE SET \
                 last_seen_at = excluded.last_seen_at",
            )
            .bind(&store.company_id)
            .bind(SOURCE)
            .bind(code)
            .bind(name)
            .bind(t_now)
            .execute(&mut *tx)
            .await?;
        }
        rollups.add_to(tx).await?;
        let first = days.first().map(|d| d.0.clone()).unwrap_or_default();
        let last = days.last().map(|d| d.0.clone()).unwrap_or_default();
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "sales.demo.seed",
                entity_type: "sales_store_days",
                entity_id: &format!("{}:{first}..{last}", store.id),
                org_path: Some(&store.path),
                before: None,
                after: Some(serde_json::json!({
                    "store": store.code, "from": first, "to": last, "batches": seeded.batches,
                    "tickets": seeded.tickets, "lines": seeded.lines, "held": seeded.held,
                })),
            },
        )
        .await?;
        Ok::<_, boh_platform::PlatformError>(())
    })?;
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_and_weekends_move_the_day_factor() {
        let f = |d: &str| day_factor(d.parse().unwrap(), 2024).0;
        // Chinese New Year's day 2026 is quiet, Golden Week busy, Saturday above Monday.
        assert!(f("2026-02-17") < f("2026-02-10") / 2 + 10);
        assert!(f("2025-10-03") > f("2025-09-25"));
        assert!(f("2026-03-07") > f("2026-03-09"));
        assert!(
            day_factor("2026-11-05".parse().unwrap(), 2024).1,
            "Double Eleven promotion"
        );
        assert!(!day_factor("2026-11-20".parse().unwrap(), 2024).1);
    }
}
