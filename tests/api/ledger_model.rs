//! Property test: random sequences of receivables events against a plain reference model
//! written from the README's definitions (a list of dated events, replayed), never from
//! the server's code. Each case runs through real HTTP in an organization of its own on
//! one shared file. `PROPTEST_CASES` runs more cases than the default.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use arvalox::domain::keys::Scope;
use chrono::{Days, NaiveDate};
use poem::http::Method;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TODAY};

/// Days before TODAY events fall on: backdating and same-day collisions are common.
const WINDOW: u64 = 12;

fn day(offset: u64) -> NaiveDate {
    let today: NaiveDate = TODAY.parse().unwrap();
    today - Days::new(WINDOW - offset.min(WINDOW))
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn minor(text: &Value) -> i64 {
    let text = text.as_str().unwrap();
    let (whole, cents) = text.split_once('.').unwrap();
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    whole.trim_start_matches('-').parse::<i64>().unwrap() * 100 * sign
        + cents.parse::<i64>().unwrap() * sign
}

#[derive(Debug, Clone)]
enum How {
    Invoice(usize),
    Split(Vec<(usize, i64)>),
    Oldest,
    OnAccount,
}

#[derive(Debug, Clone)]
enum Op {
    Invoice {
        customer: usize,
        total: i64,
        issue: u64,
        draft: bool,
    },
    /// A draft changed whole (`total` and `issue` date), sent, deleted; an invoice voided.
    Draft {
        invoice: usize,
        change: DraftChange,
    },
    Pay {
        customer: usize,
        amount: i64,
        date: u64,
        how: How,
    },
    CreditNote {
        customer: usize,
        amount: i64,
        date: u64,
        invoice: Option<usize>,
    },
    Allocate {
        source: usize,
        date: u64,
        how: How,
    },
    Refund {
        source: usize,
        amount: i64,
        date: u64,
    },
    Void {
        source: usize,
        date: u64,
    },
    WriteOff {
        invoice: usize,
        amount: Option<i64>,
        date: u64,
    },
    Reverse {
        write_off: usize,
        date: u64,
    },
}

#[derive(Debug, Clone)]
enum DraftChange {
    Edit { total: i64, issue: u64 },
    Send,
    Delete,
    Void,
}

fn op() -> impl Strategy<Value = Op> {
    let how = prop_oneof![
        (0usize..4).prop_map(How::Invoice),
        prop::collection::vec((0usize..4, 1i64..500), 1..3).prop_map(How::Split),
        Just(How::Oldest),
        Just(How::OnAccount),
    ];
    prop_oneof![
        3 => (0usize..2, 1i64..500, 0u64..=WINDOW, prop::bool::weighted(0.3))
            .prop_map(|(customer, total, issue, draft)| Op::Invoice { customer, total, issue, draft }),
        2 => (0usize..4, prop_oneof![
                (1i64..500, 0u64..=WINDOW).prop_map(|(total, issue)| DraftChange::Edit { total, issue }),
                Just(DraftChange::Send),
                Just(DraftChange::Delete),
                Just(DraftChange::Void),
            ])
            .prop_map(|(invoice, change)| Op::Draft { invoice, change }),
        4 => (0usize..2, 1i64..500, 0u64..=WINDOW, how.clone())
            .prop_map(|(customer, amount, date, how)| Op::Pay { customer, amount, date, how }),
        2 => (0usize..2, 1i64..300, 0u64..=WINDOW, prop::option::of(0usize..4))
            .prop_map(|(customer, amount, date, invoice)| Op::CreditNote { customer, amount, date, invoice }),
        3 => (0usize..4, 0u64..=WINDOW, how)
            .prop_map(|(source, date, how)| Op::Allocate { source, date, how }),
        1 => (0usize..4, 1i64..300, 0u64..=WINDOW)
            .prop_map(|(source, amount, date)| Op::Refund { source, amount, date }),
        2 => (0usize..4, 0u64..=WINDOW).prop_map(|(source, date)| Op::Void { source, date }),
        2 => (0usize..4, prop::option::of(1i64..300), 0u64..=WINDOW)
            .prop_map(|(invoice, amount, date)| Op::WriteOff { invoice, amount, date }),
        1 => (0usize..2, 0u64..=WINDOW).prop_map(|(write_off, date)| Op::Reverse { write_off, date }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Draft,
    /// Issued: counts in reports and takes money (the server's sent, partially_paid, paid
    /// or written_off follow from the events).
    Issued,
    Void,
    Deleted,
}

struct Invoice {
    id: i64,
    customer: usize,
    total: i64,
    issue: u64,
    status: Status,
}

/// A credit source: a payment, or a credit note (linked to an invoice or not).
struct Source {
    id: i64,
    credit_note: bool,
    customer: usize,
    amount: i64,
    date: u64,
    void: Option<u64>,
    /// The invoice a credit note was issued against.
    invoice: Option<usize>,
}

impl Source {
    fn path(&self) -> String {
        let kind = if self.credit_note {
            "credit-notes"
        } else {
            "payments"
        };
        format!("/v1/{kind}/{}", self.id)
    }
}

struct WriteOff {
    invoice: usize,
    amount: i64,
    date: u64,
    reversed: Option<u64>,
}

struct Allocation {
    source: usize,
    invoice: usize,
    amount: i64,
    applied: u64,
    reversed: Option<u64>,
}

/// The reference model: the events, and the README's definitions over them.
#[derive(Default)]
struct Model {
    customers: Vec<i64>,
    invoices: Vec<Invoice>,
    sources: Vec<Source>,
    allocations: Vec<Allocation>,
    refunds: Vec<(usize, i64, u64)>,
    write_offs: Vec<WriteOff>,
}

impl Model {
    /// Open amount of invoice `i` at day `d`: total − allocations applied by d and not
    /// reversed by d − write-offs dated by d and not reversed by d.
    fn open_at(&self, i: usize, d: u64) -> i64 {
        let allocated: i64 = self
            .allocations
            .iter()
            .filter(|a| a.invoice == i && a.applied <= d && a.reversed.is_none_or(|r| r > d))
            .map(|a| a.amount)
            .sum();
        let written_off: i64 = self
            .write_offs
            .iter()
            .filter(|w| w.invoice == i && w.date <= d && w.reversed.is_none_or(|r| r > d))
            .map(|w| w.amount)
            .sum();
        if self.invoices[i].status != Status::Issued {
            return 0;
        }
        self.invoices[i].total - allocated - written_off
    }

    /// Whether invoice `i` counts as paid on day `d`: issued, nothing open, and no live
    /// write-off among what closed it.
    fn paid_on(&self, i: usize, d: u64) -> bool {
        let written_off = self
            .write_offs
            .iter()
            .any(|w| w.invoice == i && w.date <= d && w.reversed.is_none_or(|r| r > d));
        self.invoices[i].status == Status::Issued
            && self.invoices[i].issue <= d
            && self.open_at(i, d) == 0
            && !written_off
    }

    /// (invoices paid on day `d`, the sum of their days from issue to the day they became
    /// paid and stayed so through `d`): the dashboard's average days to pay.
    fn days_to_pay(&self, d: u64) -> (i64, i64) {
        let mut count = 0;
        let mut days = 0;
        for i in 0..self.invoices.len() {
            if !self.paid_on(i, d) {
                continue;
            }
            let mut since = d;
            while since > 0 && self.paid_on(i, since - 1) {
                since -= 1;
            }
            count += 1;
            days += since as i64 - self.invoices[i].issue as i64;
        }
        (count, days)
    }

    /// Unapplied credit of source `p` at day `d`.
    fn credit_at(&self, p: usize, d: u64) -> i64 {
        let payment = &self.sources[p];
        if payment.date > d || payment.void.is_some_and(|v| v <= d) {
            return 0;
        }
        let allocated: i64 = self
            .allocations
            .iter()
            .filter(|a| a.source == p && a.applied <= d && a.reversed.is_none_or(|r| r > d))
            .map(|a| a.amount)
            .sum();
        let refunded: i64 = self
            .refunds
            .iter()
            .filter(|(q, _, date)| *q == p && *date <= d)
            .map(|(_, amount, _)| amount)
            .sum();
        payment.amount - allocated - refunded
    }

    /// The least open amount of invoice `i` from day `from` on.
    fn least_open(&self, i: usize, from: u64) -> i64 {
        (from..=WINDOW + 1)
            .map(|d| self.open_at(i, d))
            .min()
            .unwrap()
    }

    fn least_credit(&self, p: usize, from: u64) -> i64 {
        (from..=WINDOW + 1)
            .map(|d| self.credit_at(p, d))
            .min()
            .unwrap()
    }

    /// The allocations `how` makes for `amount` of `customer`'s money on `date`, or None
    /// when the model refuses them.
    fn plan(
        &self,
        customer: usize,
        amount: i64,
        date: u64,
        how: &How,
    ) -> Option<Vec<(usize, i64)>> {
        let fits = |i: usize, a: i64| {
            let invoice = self.invoices.get(i)?;
            (invoice.status == Status::Issued
                && invoice.customer == customer
                && invoice.issue <= date
                && a <= self.least_open(i, date))
            .then_some((i, a))
        };
        match how {
            How::Invoice(i) => {
                let balance_today = self.invoices.get(*i).map(|_| self.open_at(*i, WINDOW))?;
                (amount <= balance_today).then_some(())?;
                Some(vec![fits(*i, amount)?])
            }
            How::Split(list) => {
                let mut seen = Vec::new();
                for (i, _) in list {
                    if seen.contains(i) {
                        return None;
                    }
                    seen.push(*i);
                }
                (list.iter().map(|(_, a)| a).sum::<i64>() <= amount).then_some(())?;
                list.iter().map(|(i, a)| fits(*i, *a)).collect()
            }
            How::Oldest => {
                let mut open: Vec<usize> = (0..self.invoices.len())
                    .filter(|i| {
                        let inv = &self.invoices[*i];
                        inv.customer == customer
                            && inv.issue <= date
                            && self.open_at(*i, WINDOW) > 0
                    })
                    .collect();
                // Due ten days after issue: by due date, then issue date, then id.
                open.sort_by_key(|i| (self.invoices[*i].issue, self.invoices[*i].id));
                let mut rest = amount;
                let mut chosen = Vec::new();
                for i in open {
                    let take = rest.min(self.least_open(i, date));
                    if take > 0 {
                        chosen.push((i, take));
                        rest -= take;
                    }
                }
                Some(chosen)
            }
            How::OnAccount => Some(Vec::new()),
        }
    }
}

/// An invoice's total (one line) and dates: due ten days after issue.
fn invoice_body(total: i64, issue: u64) -> Value {
    json!({
        "issue_date": day(issue).to_string(),
        "due_date": (day(issue) + Days::new(10)).to_string(),
        "items": [{ "description": "Work", "quantity": 1, "unit_price": money(total) }]
    })
}

/// The body field that says how money is applied, in the server's terms.
fn how_json(model: &Model, how: &How) -> Option<(&'static str, Value)> {
    let id = |i: usize| model.invoices.get(i).map_or(999_999, |inv| inv.id);
    match how {
        How::Invoice(i) => Some(("invoice_id", json!(id(*i)))),
        How::Split(list) => Some((
            "allocations",
            json!(list
                .iter()
                .map(|(i, a)| json!({ "invoice_id": id(*i), "amount": money(*a) }))
                .collect::<Vec<_>>()),
        )),
        How::Oldest => Some(("allocate", json!("oldest_first"))),
        How::OnAccount => None,
    }
}

struct Case<'a> {
    app: &'a TestApp,
    key: String,
    model: Model,
}

impl Case<'_> {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let reply = self
            .app
            .call(Method::POST, path, Some(&self.key), &[], Some(&body))
            .await;
        (reply.status.as_u16(), reply.body)
    }

    async fn get(&self, path: &str) -> Value {
        self.app
            .call(Method::GET, path, Some(&self.key), &[], None)
            .await
            .body
    }

    fn record(&mut self, source: usize, plan: Vec<(usize, i64)>, date: u64) {
        for (invoice, amount) in plan {
            self.model.allocations.push(Allocation {
                source,
                invoice,
                amount,
                applied: date,
                reversed: None,
            });
        }
    }

    async fn run(&mut self, op: &Op) {
        match op.clone() {
            Op::Invoice {
                customer,
                total,
                issue,
                draft,
            } => {
                let mut body = invoice_body(total, issue);
                body["customer_id"] = json!(self.model.customers[customer]);
                body["status"] = json!(if draft { "draft" } else { "sent" });
                let (status, reply) = self.post("/v1/invoices", body).await;
                assert_eq!(status, 201, "{op:?}: {reply}");
                let id = reply["id"].as_i64().unwrap();
                self.model.invoices.push(Invoice {
                    id,
                    customer,
                    total,
                    issue,
                    status: if draft { Status::Draft } else { Status::Issued },
                });
            }
            Op::Draft { invoice, change } => self.change_invoice(op, invoice, change).await,
            Op::Pay {
                customer,
                amount,
                date,
                how,
            } => {
                let mut body = json!({
                    "customer_id": self.model.customers[customer], "amount": money(amount),
                    "payment_method": "cash", "payment_date": day(date).to_string()
                });
                if let Some((field, value)) = how_json(&self.model, &how) {
                    body[field] = value;
                }
                let plan = self.model.plan(customer, amount, date, &how);
                let (status, reply) = self.post("/v1/payments", body).await;
                assert_eq!(status == 201, plan.is_some(), "{op:?}: {reply}");
                if let Some(plan) = plan {
                    let id = reply["id"].as_i64().unwrap();
                    self.model.sources.push(Source {
                        id,
                        credit_note: false,
                        customer,
                        amount,
                        date,
                        void: None,
                        invoice: None,
                    });
                    self.record(self.model.sources.len() - 1, plan, date);
                }
            }
            Op::CreditNote { .. } => self.credit_note(op).await,
            Op::Allocate { source, date, how } => self.allocate(op, source, date, &how).await,
            Op::WriteOff { .. } | Op::Reverse { .. } => self.write_off(op).await,
            Op::Refund {
                source: payment,
                amount,
                date,
            } => {
                let Some(p) = self.model.sources.get(payment) else {
                    return;
                };
                let accepted = p.void.is_none()
                    && date >= p.date
                    && amount <= self.model.least_credit(payment, date);
                let body = json!({ "amount": money(amount), "payment_method": "cash", "refund_date": day(date).to_string() });
                let (status, reply) = self.post(&format!("{}/refunds", p.path()), body).await;
                assert_eq!(status == 200, accepted, "{op:?}: {reply}");
                if accepted {
                    self.model.refunds.push((payment, amount, date));
                }
            }
            Op::Void {
                source: payment,
                date,
            } => {
                let Some(p) = self.model.sources.get(payment) else {
                    return;
                };
                let refunded = self.model.refunds.iter().any(|(q, _, _)| *q == payment);
                let live = self
                    .model
                    .allocations
                    .iter()
                    .filter(|a| a.source == payment && a.reversed.is_none());
                let accepted = p.void.is_none()
                    && !refunded
                    && date >= p.date
                    && live.clone().all(|a| a.applied <= date);
                let body = json!({ "void_date": day(date).to_string(), "reason": "model" });
                let (status, reply) = self.post(&format!("{}/void", p.path()), body).await;
                assert_eq!(status == 200, accepted, "{op:?}: {reply}");
                if accepted {
                    self.model.sources[payment].void = Some(date);
                    for a in self
                        .model
                        .allocations
                        .iter_mut()
                        .filter(|a| a.source == payment && a.reversed.is_none())
                    {
                        a.reversed = Some(date);
                    }
                }
            }
        }
    }

    async fn allocate(&mut self, op: &Op, payment: usize, date: u64, how: &How) {
        let Some(p) = self.model.sources.get(payment) else {
            return;
        };
        let how = match how {
            How::Invoice(i) => How::Split(vec![(*i, 1)]),
            How::OnAccount => How::Oldest,
            other => other.clone(),
        };
        let available = self.model.least_credit(payment, date);
        let plan = match (&how, p.void.is_none() && date >= p.date) {
            (_, false) => None,
            (How::Split(list), true) => {
                let total: i64 = list.iter().map(|(_, a)| a).sum();
                if total <= available {
                    self.model.plan(p.customer, total, date, &how)
                } else {
                    None
                }
            }
            (_, true) => self
                .model
                .plan(p.customer, available, date, &how)
                .filter(|c| !c.is_empty()),
        };
        let mut body = json!({ "applied_date": day(date).to_string() });
        if let Some((field, value)) = how_json(&self.model, &how) {
            body[field] = value;
        }
        let (status, reply) = self.post(&format!("{}/allocations", p.path()), body).await;
        assert_eq!(status == 200, plan.is_some(), "{op:?}: {reply}");
        if let Some(plan) = plan {
            self.record(payment, plan, date);
        }
    }

    /// A draft is changed whole, sent or deleted; an invoice is voided while nothing is
    /// applied to it, written off, or credited by a note against it.
    async fn change_invoice(&mut self, op: &Op, i: usize, change: DraftChange) {
        let Some(inv) = self.model.invoices.get(i) else {
            return;
        };
        let path = format!("/v1/invoices/{}", inv.id);
        let draft = inv.status == Status::Draft;
        let (status, reply, accepted) = match change {
            DraftChange::Edit { total, issue } => {
                let reply = self
                    .app
                    .call(
                        Method::PUT,
                        &path,
                        Some(&self.key),
                        &[],
                        Some(&invoice_body(total, issue).to_string()),
                    )
                    .await;
                (reply.status.as_u16(), reply.body, draft)
            }
            DraftChange::Send => {
                let (status, reply) = self.post(&format!("{path}/send"), json!({})).await;
                (status, reply, draft)
            }
            DraftChange::Delete => {
                let reply = self
                    .app
                    .call(Method::DELETE, &path, Some(&self.key), &[], None)
                    .await;
                (reply.status.as_u16(), reply.body, draft)
            }
            DraftChange::Void => {
                let live = self
                    .model
                    .allocations
                    .iter()
                    .any(|a| a.invoice == i && a.reversed.is_none())
                    || self
                        .model
                        .write_offs
                        .iter()
                        .any(|w| w.invoice == i && w.reversed.is_none())
                    || self
                        .model
                        .sources
                        .iter()
                        .any(|s| s.invoice == Some(i) && s.void.is_none());
                let open = matches!(inv.status, Status::Draft | Status::Issued);
                let (status, reply) = self.post(&format!("{path}/void"), json!({})).await;
                (status, reply, open && !live)
            }
        };
        assert_eq!((200..300).contains(&status), accepted, "{op:?}: {reply}");
        if !accepted {
            return;
        }
        let invoice = &mut self.model.invoices[i];
        match change {
            DraftChange::Edit { total, issue } => {
                invoice.total = total;
                invoice.issue = issue;
            }
            DraftChange::Send => invoice.status = Status::Issued,
            DraftChange::Delete => invoice.status = Status::Deleted,
            DraftChange::Void => invoice.status = Status::Void,
        }
    }

    /// A credit note: linked, it must be the customer's invoice, dated no earlier, and
    /// with its other live notes credit it at most its total; it is then applied at once
    /// up to what the invoice has open from its date on, and the rest is credit.
    async fn credit_note(&mut self, op: &Op) {
        let Op::CreditNote {
            customer,
            amount,
            date,
            invoice,
        } = op.clone()
        else {
            return;
        };
        let mut body = json!({
            "customer_id": self.model.customers[customer], "issue_date": day(date).to_string(),
            "reason": "model",
            "items": [{ "description": "Back", "quantity": 1, "unit_price": money(amount) }]
        });
        let mut plan = Some(Vec::new());
        if let Some(i) = invoice {
            body["invoice_id"] = json!(self.model.invoices.get(i).map_or(999_999, |inv| inv.id));
            plan = self.model.invoices.get(i).and_then(|inv| {
                let credited: i64 = self
                    .model
                    .sources
                    .iter()
                    .filter(|s| s.invoice == Some(i) && s.void.is_none())
                    .map(|s| s.amount)
                    .sum();
                let fits = inv.status == Status::Issued
                    && inv.customer == customer
                    && inv.issue <= date
                    && credited + amount <= inv.total;
                let take = amount.min(self.model.least_open(i, date));
                fits.then(|| if take > 0 { vec![(i, take)] } else { vec![] })
            });
        }
        let (status, reply) = self.post("/v1/credit-notes", body).await;
        assert_eq!(status == 201, plan.is_some(), "{op:?}: {reply}");
        if let Some(plan) = plan {
            self.model.sources.push(Source {
                id: reply["id"].as_i64().unwrap(),
                credit_note: true,
                customer,
                amount,
                date,
                void: None,
                invoice,
            });
            self.record(self.model.sources.len() - 1, plan, date);
        }
    }

    /// A write-off takes at most what stays open from its date on (all of it without an
    /// amount) of an invoice open today; a reversal comes once, not before it.
    async fn write_off(&mut self, op: &Op) {
        match op.clone() {
            Op::WriteOff {
                invoice,
                amount,
                date,
            } => {
                let Some(inv) = self.model.invoices.get(invoice) else {
                    return;
                };
                let least = self.model.least_open(invoice, date);
                let take = amount.unwrap_or(least);
                let accepted = self.model.open_at(invoice, WINDOW) > 0
                    && inv.issue <= date
                    && take > 0
                    && take <= least;
                let mut body =
                    json!({ "write_off_date": day(date).to_string(), "reason": "model" });
                if let Some(amount) = amount {
                    body["amount"] = json!(money(amount));
                }
                let path = format!("/v1/invoices/{}/write-offs", inv.id);
                let (status, reply) = self.post(&path, body).await;
                assert_eq!(status == 200, accepted, "{op:?}: {reply}");
                if accepted {
                    // Listed by date: the newest is the one with the highest id.
                    let written = reply["write_offs"].as_array().unwrap();
                    let newest = written.iter().max_by_key(|w| w["id"].as_i64()).unwrap();
                    assert_eq!(minor(&newest["amount"]), take);
                    self.model.write_offs.push(WriteOff {
                        invoice,
                        amount: take,
                        date,
                        reversed: None,
                    });
                }
            }
            Op::Reverse { write_off, date } => {
                let Some(w) = self.model.write_offs.get(write_off) else {
                    return;
                };
                let accepted = w.reversed.is_none() && date >= w.date;
                let inv = &self.model.invoices[w.invoice];
                let listed = self.get(&format!("/v1/invoices/{}", inv.id)).await;
                let nth = self.model.write_offs[..write_off]
                    .iter()
                    .filter(|x| x.invoice == w.invoice)
                    .count();
                let mut ids: Vec<i64> = listed["write_offs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w["id"].as_i64().unwrap())
                    .collect();
                ids.sort_unstable();
                let id = ids[nth];
                let path = format!("/v1/invoices/{}/write-offs/{id}/reverse", inv.id);
                let body = json!({ "reverse_date": day(date).to_string(), "reason": "model" });
                let (status, reply) = self.post(&path, body).await;
                assert_eq!(status == 200, accepted, "{op:?}: {reply}");
                if accepted {
                    self.model.write_offs[write_off].reversed = Some(date);
                }
            }
            _ => {}
        }
    }

    /// The server's reports and balances at every date that matters equal the model's.
    async fn check(&self) {
        // Every day of the window: each event date, the day before it, and today.
        for d in 0..=WINDOW {
            let aging = self
                .get(&format!("/v1/reports/aging?as_of={}", day(d)))
                .await;
            let open: i64 = (0..self.model.invoices.len())
                .filter(|i| self.model.invoices[*i].issue <= d)
                .map(|i| self.model.open_at(i, d))
                .sum();
            let credit: i64 = (0..self.model.sources.len())
                .map(|p| self.model.credit_at(p, d))
                .sum();
            assert_eq!(
                minor(&aging["totals"]["total"]),
                open,
                "open at day {d}: {aging}"
            );
            assert_eq!(
                minor(&aging["totals"]["unapplied_credit"]),
                credit,
                "credit at day {d}: {aging}"
            );
            let dashboard = self
                .get(&format!("/v1/reports/dashboard?as_of={}", day(d)))
                .await;
            let (count, days) = self.model.days_to_pay(d);
            let expected = (count > 0).then(|| {
                let mut mean = (rust_decimal::Decimal::from(days)
                    / rust_decimal::Decimal::from(count))
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                mean.rescale(1);
                mean.to_string()
            });
            assert_eq!(
                dashboard["average_days_to_pay"].as_str().map(String::from),
                expected,
                "average days to pay at day {d}: {dashboard}"
            );
        }
        let dashboard = self.get("/v1/reports/dashboard").await;
        let open_today: i64 = (0..self.model.invoices.len())
            .map(|i| self.model.open_at(i, WINDOW))
            .sum();
        assert_eq!(minor(&dashboard["total_outstanding"]), open_today);
        for (i, invoice) in self.model.invoices.iter().enumerate() {
            let body = self.get(&format!("/v1/invoices/{}", invoice.id)).await;
            let expected = match invoice.status {
                Status::Deleted => {
                    assert_eq!(body["error_code"], "NOT_FOUND", "{body}");
                    continue;
                }
                Status::Draft => invoice.total,
                _ => self.model.open_at(i, WINDOW),
            };
            assert_eq!(minor(&body["balance_due"]), expected, "{body}");
            assert_eq!(minor(&body["total"]), invoice.total, "{body}");
        }
        for (p, payment) in self.model.sources.iter().enumerate() {
            let body = self.get(&payment.path()).await;
            assert_eq!(
                minor(&body["unapplied_amount"]),
                self.model.credit_at(p, WINDOW),
                "{body}"
            );
        }
        self.check_statements().await;
    }

    /// Each customer's statement over two periods: its lines add up from the opening to
    /// the closing balance, and both equal the aging's `net` for that customer on their date.
    async fn check_statements(&self) {
        for customer in &self.model.customers {
            for (from, to) in [(0, WINDOW), (WINDOW / 2, WINDOW - 1)] {
                let path = format!(
                    "/v1/customers/{customer}/statement?from={}&to={}",
                    day(from),
                    day(to)
                );
                let statement = self.get(&path).await;
                let lines = statement["lines"].as_array().unwrap();
                let mut balance = minor(&statement["opening_balance"]);
                for line in lines {
                    balance += minor(&line["amount"]);
                    assert_eq!(minor(&line["balance"]), balance, "{statement}");
                }
                assert_eq!(minor(&statement["closing_balance"]), balance, "{statement}");
                let net = |date: NaiveDate| async move {
                    let path = format!("/v1/reports/aging?as_of={date}&customer_id={customer}");
                    minor(&self.get(&path).await["totals"]["net"])
                };
                assert_eq!(balance, net(day(to)).await, "closing: {statement}");
                assert_eq!(minor(&statement["aging"]["net"]), balance, "{statement}");
                let opening = minor(&statement["opening_balance"]);
                assert_eq!(
                    opening,
                    net(day(from) - Days::new(1)).await,
                    "opening: {statement}"
                );
            }
        }
    }
}

fn shared() -> &'static (tokio::runtime::Runtime, TestApp) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let app = runtime.block_on(TestApp::new());
        (runtime, app)
    })
}

proptest! {
    // 256 cases by default; PROPTEST_CASES sets another number.
    #[test]
    fn every_report_at_every_date_equals_the_replayed_events(ops in prop::collection::vec(op(), 1..40)) {
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let (runtime, app) = shared();
        runtime.block_on(async {
            let org = format!("model-{}", CASE.fetch_add(1, Ordering::Relaxed));
            let key = app.new_key(&org, Scope::Write);
            let mut case = Case { app, key, model: Model::default() };
            for name in ["Acme", "Globex"] {
                let (status, body) = case.post("/v1/customers", json!({ "name": name })).await;
                assert_eq!(status, 201, "{body}");
                case.model.customers.push(body["id"].as_i64().unwrap());
            }
            for op in &ops {
                case.run(op).await;
            }
            case.check().await;
        });
        app.assert_summaries_match();
        app.assert_sums_match();
    }
}
