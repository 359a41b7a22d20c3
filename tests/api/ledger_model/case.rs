//! One case: the operations sent through real HTTP, the model told of each one the server
//! accepted, and every report checked against the model's replay.

use super::model::*;
use super::*;

/// An invoice's total (one line) and dates: due ten days after issue.
pub(super) fn invoice_body(total: i64, issue: u64) -> Value {
    json!({
        "issue_date": day(issue).to_string(),
        "due_date": (day(issue) + Days::new(10)).to_string(),
        "items": [{ "description": "Work", "quantity": 1, "unit_price": money(total) }]
    })
}

/// The body field that says how money is applied, in the server's terms.
pub(super) fn how_json(model: &Model, how: &How) -> Option<(&'static str, Value)> {
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

pub(super) struct Case<'a> {
    pub(super) app: &'a TestApp,
    pub(super) key: String,
    pub(super) model: Model,
}

impl Case<'_> {
    pub(super) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let reply = self
            .app
            .call(Method::POST, path, Some(&self.key), &[], Some(&body))
            .await;
        (reply.status.as_u16(), reply.body)
    }

    pub(super) async fn get(&self, path: &str) -> Value {
        self.app
            .call(Method::GET, path, Some(&self.key), &[], None)
            .await
            .body
    }

    pub(super) fn record(&mut self, source: usize, plan: Vec<(usize, i64)>, date: u64) {
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

    pub(super) async fn run(&mut self, op: &Op) {
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

    pub(super) async fn allocate(&mut self, op: &Op, payment: usize, date: u64, how: &How) {
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
    pub(super) async fn change_invoice(&mut self, op: &Op, i: usize, change: DraftChange) {
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
    pub(super) async fn credit_note(&mut self, op: &Op) {
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
    pub(super) async fn write_off(&mut self, op: &Op) {
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
    pub(super) async fn check(&self) {
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
    pub(super) async fn check_statements(&self) {
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
