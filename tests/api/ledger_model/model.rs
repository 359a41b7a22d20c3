//! The reference model: the events as they happened, and the README's definitions over
//! them (never the server's code).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Draft,
    /// Issued: counts in reports and takes money (the server's sent, partially_paid, paid
    /// or written_off follow from the events).
    Issued,
    Void,
    Deleted,
}

pub(super) struct Invoice {
    pub(super) id: i64,
    pub(super) customer: usize,
    pub(super) total: i64,
    pub(super) issue: u64,
    pub(super) status: Status,
}

/// A credit source: a payment, or a credit note (linked to an invoice or not).
pub(super) struct Source {
    pub(super) id: i64,
    pub(super) credit_note: bool,
    pub(super) customer: usize,
    pub(super) amount: i64,
    pub(super) date: u64,
    pub(super) void: Option<u64>,
    /// The invoice a credit note was issued against.
    pub(super) invoice: Option<usize>,
}

impl Source {
    pub(super) fn path(&self) -> String {
        let kind = if self.credit_note {
            "credit-notes"
        } else {
            "payments"
        };
        format!("/v1/{kind}/{}", self.id)
    }
}

pub(super) struct WriteOff {
    pub(super) invoice: usize,
    pub(super) amount: i64,
    pub(super) date: u64,
    pub(super) reversed: Option<u64>,
}

pub(super) struct Allocation {
    pub(super) source: usize,
    pub(super) invoice: usize,
    pub(super) amount: i64,
    pub(super) applied: u64,
    pub(super) reversed: Option<u64>,
}

/// The reference model: the events, and the README's definitions over them.
#[derive(Default)]
pub(super) struct Model {
    pub(super) customers: Vec<i64>,
    pub(super) invoices: Vec<Invoice>,
    pub(super) sources: Vec<Source>,
    pub(super) allocations: Vec<Allocation>,
    pub(super) refunds: Vec<(usize, i64, u64)>,
    pub(super) write_offs: Vec<WriteOff>,
}

impl Model {
    /// Open amount of invoice `i` at day `d`: total − allocations applied by d and not
    /// reversed by d − write-offs dated by d and not reversed by d.
    pub(super) fn open_at(&self, i: usize, d: u64) -> i64 {
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
    pub(super) fn paid_on(&self, i: usize, d: u64) -> bool {
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
    pub(super) fn days_to_pay(&self, d: u64) -> (i64, i64) {
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
    pub(super) fn credit_at(&self, p: usize, d: u64) -> i64 {
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
    pub(super) fn least_open(&self, i: usize, from: u64) -> i64 {
        (from..=WINDOW + 1)
            .map(|d| self.open_at(i, d))
            .min()
            .unwrap()
    }

    pub(super) fn least_credit(&self, p: usize, from: u64) -> i64 {
        (from..=WINDOW + 1)
            .map(|d| self.credit_at(p, d))
            .min()
            .unwrap()
    }

    /// The allocations `how` makes for `amount` of `customer`'s money on `date`, or None
    /// when the model refuses them.
    pub(super) fn plan(
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
