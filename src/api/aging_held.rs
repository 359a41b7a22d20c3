//! The open invoices an aging with `detail=invoices` lists, held packed until each
//! customer's line is written. A book's report may list every open invoice (100,000 at a
//! million invoices); held as read, each would be a struct, a string of its own and a slot
//! in its customer's vector (about 150 bytes). Packed, each is one fixed row of 40 bytes
//! and its number's bytes in one shared text.

use chrono::NaiveDate;

use crate::db::aging_detail::OpenInvoice;

/// An open invoice, packed: its number is `numbers[number_start..][..number_len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeldInvoice {
    pub customer_id: i64,
    pub id: i64,
    /// The open amount, in minor units.
    pub amount: i64,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    number_start: u32,
    number_len: u32,
}

/// The held invoices, in the order read; [`HeldInvoices::by_customer`] before reading them
/// by customer.
#[derive(Debug, Default)]
pub(crate) struct HeldInvoices {
    rows: Vec<HeldInvoice>,
    numbers: String,
}

impl HeldInvoices {
    /// Holds `invoice` after those held.
    pub(crate) fn push(&mut self, invoice: OpenInvoice) {
        // A number ending past 4 GiB of numbers (hundreds of millions of invoices) is held
        // as empty: no report lists that many, and it must not read as another's bytes.
        let (number_start, number_len) = u32::try_from(self.numbers.len())
            .ok()
            .zip(u32::try_from(invoice.invoice_number.len()).ok())
            .filter(|(start, len)| start.checked_add(*len).is_some())
            .unwrap_or((0, 0));
        if number_len > 0 {
            self.numbers.push_str(&invoice.invoice_number);
        }
        self.rows.push(HeldInvoice {
            customer_id: invoice.customer_id,
            id: invoice.id,
            amount: invoice.amount.minor(),
            issue_date: invoice.issue_date,
            due_date: invoice.due_date,
            number_start,
            number_len,
        });
    }

    /// Puts the rows in customer order, each customer's in the order read. The report's
    /// invoices come by customer already, so this only checks, unless they did not.
    pub(crate) fn by_customer(&mut self) {
        if !self.rows.is_sorted_by_key(|row| row.customer_id) {
            self.rows.sort_by_key(|row| row.customer_id);
        }
    }

    /// `customer_id`'s invoices with their numbers, in the order read. The rows must be
    /// [`by_customer`](HeldInvoices::by_customer).
    pub(crate) fn of(&self, customer_id: i64) -> impl Iterator<Item = (&HeldInvoice, &str)> {
        let start = self
            .rows
            .partition_point(|row| row.customer_id < customer_id);
        let end = self
            .rows
            .partition_point(|row| row.customer_id <= customer_id);
        let rows = self.rows.get(start..end).unwrap_or_default();
        rows.iter().map(|row| (row, self.number_of(row)))
    }

    fn number_of(&self, row: &HeldInvoice) -> &str {
        let start = row.number_start as usize;
        let end = start.saturating_add(row.number_len as usize);
        self.numbers.get(start..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Money;

    fn invoice(id: i64, customer_id: i64, number: &str) -> OpenInvoice {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(id as u64);
        OpenInvoice {
            id,
            customer_id,
            invoice_number: number.to_owned(),
            issue_date: day,
            due_date: day + chrono::Days::new(30),
            amount: Money::from_minor(id * 101),
        }
    }

    fn listed(held: &HeldInvoices, customer_id: i64) -> Vec<(i64, i64, String)> {
        held.of(customer_id)
            .map(|(row, number)| (row.id, row.amount, number.to_owned()))
            .collect()
    }

    #[test]
    fn each_customer_gets_its_own_invoices_and_numbers_in_the_order_read() {
        let mut held = HeldInvoices::default();
        for (id, customer, number) in [(5, 2, "INV-5"), (3, 2, ""), (9, 7, "Ünïcode-9")] {
            held.push(invoice(id, customer, number));
        }
        held.by_customer();
        let two = vec![(5, 505, "INV-5".to_owned()), (3, 303, String::new())];
        assert_eq!(listed(&held, 2), two);
        assert_eq!(listed(&held, 7), vec![(9, 909, "Ünïcode-9".to_owned())]);
        assert_eq!(listed(&held, 1), vec![]);
        assert_eq!(listed(&held, 8), vec![]);
        let dates = held.of(7).map(|(row, _)| (row.issue_date, row.due_date));
        let day = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        assert_eq!(
            dates.collect::<Vec<_>>(),
            vec![(day, day + chrono::Days::new(30))]
        );
    }

    #[test]
    fn invoices_read_out_of_customer_order_are_grouped_keeping_each_customers_order() {
        let mut held = HeldInvoices::default();
        for (id, customer) in [(1, 9), (2, 4), (3, 9), (4, 4), (5, 1)] {
            held.push(invoice(id, customer, &format!("N{id}")));
        }
        held.by_customer();
        let ids = |c| listed(&held, c).into_iter().map(|(id, _, n)| (id, n));
        assert_eq!(
            ids(9).collect::<Vec<_>>(),
            [(1, "N1".into()), (3, "N3".into())]
        );
        assert_eq!(
            ids(4).collect::<Vec<_>>(),
            [(2, "N2".into()), (4, "N4".into())]
        );
        assert_eq!(ids(1).collect::<Vec<_>>(), [(5, "N5".into())]);
    }

    #[test]
    fn a_held_invoice_is_a_fixed_row_of_forty_bytes() {
        assert_eq!(std::mem::size_of::<HeldInvoice>(), 40);
    }
}
