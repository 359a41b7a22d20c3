//! The invoice a customer receives, as a PDF. Every figure arrives as the text the JSON
//! answer gives (amounts in the invoice's currency with its places), so the paper and the
//! API never disagree.

use super::layout::{wrap, Align, Face, Layout, Paper, BODY, BOLD, LINE, MARGIN};
use krilla::text::TextDirection;

/// Who sends or receives a document: a name, then the lines under it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Party {
    pub name: String,
    pub lines: Vec<String>,
}

/// One invoice line, its figures already written out.
#[derive(Debug, Clone)]
pub(crate) struct SheetLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub tax_rate: String,
    pub total: String,
}

/// Everything printed on an invoice.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceSheet {
    pub seller: Party,
    pub buyer: Party,
    pub number: String,
    /// Label and value pairs under the title: dates, status, currency.
    pub facts: Vec<(String, String)>,
    pub currency: String,
    pub lines: Vec<SheetLine>,
    pub subtotal: String,
    pub tax_total: String,
    pub total: String,
    /// What reduced the total: payments, credit notes, write-offs, each already negative.
    pub applied: Vec<(String, String)>,
    pub balance_due: String,
    pub notes: Option<String>,
}

/// Where the table's columns end (amounts are right-aligned against these).
struct Columns {
    description_width: f32,
    quantity: f32,
    unit_price: f32,
    tax: f32,
    amount: f32,
}

fn columns(layout: &Layout) -> Columns {
    let amount = layout.right();
    Columns {
        description_width: amount - 285.0 - MARGIN,
        quantity: amount - 210.0,
        unit_price: amount - 135.0,
        tax: amount - 85.0,
        amount,
    }
}

/// The invoice laid out on `paper`, as PDF bytes.
pub(crate) fn invoice_pdf(sheet: &InvoiceSheet, paper: Paper) -> Result<Vec<u8>, String> {
    let mut layout = Layout::new(paper);
    let title = ("INVOICE", sheet.number.as_str());
    heading(
        &mut layout,
        (&sheet.seller, &sheet.buyer),
        title,
        &sheet.facts,
    );
    layout.repeat_on_new_pages(Some(table_header));
    table_header(&mut layout);
    let cols = columns(&layout);
    for line in &sheet.lines {
        let description = wrap(&line.description, BODY, cols.description_width);
        layout.room_for(LINE * description.len() as f32);
        layout.text(cols.quantity, Align::Right, BODY, &line.quantity);
        layout.text(cols.unit_price, Align::Right, BODY, &line.unit_price);
        layout.text(cols.tax, Align::Right, BODY, &line.tax_rate);
        layout.text(cols.amount, Align::Right, BODY, &line.total);
        for text in description {
            layout.text(MARGIN, Align::Left, BODY, &text);
            layout.down(LINE);
        }
    }
    layout.repeat_on_new_pages(None);
    layout.rule(-LINE + 3.0, 0.5);
    totals(&mut layout, sheet);
    if let Some(notes) = sheet.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        layout.down(LINE);
        layout.room_for(LINE * 2.0);
        layout.text(MARGIN, Align::Left, BOLD, "Notes");
        layout.down(LINE);
        for text in wrap(notes, BODY, layout.right() - MARGIN) {
            layout.room_for(LINE);
            layout.text(MARGIN, Align::Left, BODY, &text);
            layout.down(LINE);
        }
    }
    let title = format!("Invoice {}", sheet.number);
    let footer = format!("{} · Invoice {}", sheet.seller.name, sheet.number);
    layout.finish(&title, &footer)
}

/// The seller and the title (with the document's number), then the buyer beside the
/// document's facts.
pub(crate) fn heading(
    layout: &mut Layout,
    (seller, buyer): (&Party, &Party),
    (title, number): (&str, &str),
    facts: &[(String, String)],
) {
    let right = layout.right();
    layout.down(6.0);
    layout.text(MARGIN, Align::Left, (16.0, Face::Bold), &seller.name);
    layout.text(right, Align::Right, (18.0, Face::Bold), title);
    layout.down(18.0);
    layout.text(right, Align::Right, (11.0, Face::Bold), number);
    for text in fitted(&seller.lines, right - 160.0 - MARGIN, 8) {
        layout.text(MARGIN, Align::Left, BODY, &text);
        layout.down(LINE);
    }
    layout.down(LINE * 1.5);
    let top = layout.y;
    layout.text(MARGIN, Align::Left, (8.0, Face::Bold), "BILL TO");
    layout.down(LINE);
    layout.text(MARGIN, Align::Left, (11.0, Face::Bold), &buyer.name);
    layout.down(LINE + 1.0);
    for text in fitted(&buyer.lines, right - 160.0 - MARGIN, 10) {
        layout.text(MARGIN, Align::Left, BODY, &text);
        layout.down(LINE);
    }
    let left_bottom = layout.y;
    layout.y = top;
    for (label, value) in facts {
        layout.text(right - 150.0, Align::Left, BOLD, label);
        layout.text(right, Align::Right, BODY, value);
        layout.down(LINE);
    }
    layout.y = layout.y.max(left_bottom) + LINE * 1.5;
}

/// `lines` wrapped to `width`, at most `most` of them (the last marked `…` when more were
/// cut): a heading stays on the first page whatever an address holds.
fn fitted(lines: &[String], width: f32, most: usize) -> Vec<String> {
    let mut wrapped: Vec<String> = lines
        .iter()
        .flat_map(|line| wrap(line, BODY, width))
        .collect();
    if wrapped.len() > most {
        wrapped.truncate(most);
        if let Some(last) = wrapped.last_mut() {
            last.push_str(" …");
        }
    }
    wrapped
}

/// A totals row's label wrapped to the `room` left of its amount, less a gap: a payment's
/// long reference goes on to another line rather than over the figure.
fn label_lines(label: &str, font: (f32, Face), room: f32) -> Vec<String> {
    wrap(label, font, room - 12.0)
}

/// The column titles, with a rule under them (repeated on every page of a long table).
fn table_header(layout: &mut Layout) {
    let cols = columns(layout);
    layout.text(MARGIN, Align::Left, BOLD, "Description");
    layout.text(cols.quantity, Align::Right, BOLD, "Qty");
    layout.text(cols.unit_price, Align::Right, BOLD, "Unit price");
    layout.text(cols.tax, Align::Right, BOLD, "Tax");
    layout.text(cols.amount, Align::Right, BOLD, "Amount");
    layout.rule(4.0, 0.8);
    layout.down(LINE + 6.0);
}

/// Subtotal, tax and total, what was applied, and the balance due.
fn totals(layout: &mut Layout, sheet: &InvoiceSheet) {
    let right = layout.right();
    let label_x = right - 240.0;
    let row = |layout: &mut Layout, font: (f32, Face), label: &str, value: &str| {
        let lines = label_lines(label, font, right - label_x - font.1.width(value, font.0));
        layout.room_for(LINE * lines.len() as f32);
        for (n, line) in lines.iter().enumerate() {
            // Every label starts with an English word: its wrapped lines read as it does.
            let ltr = TextDirection::LeftToRight;
            layout.text_directed((label_x, Align::Left), font, line, ltr);
            if n + 1 == lines.len() {
                layout.text(right, Align::Right, font, value);
            }
            layout.down(LINE);
        }
    };
    layout.down(4.0);
    row(layout, BODY, "Subtotal", &sheet.subtotal);
    row(layout, BODY, "Tax", &sheet.tax_total);
    let total_label = format!("Total ({})", sheet.currency);
    row(layout, BOLD, &total_label, &sheet.total);
    for (label, amount) in &sheet.applied {
        row(layout, BODY, label, amount);
    }
    layout.rule(-LINE + 4.0, 0.5);
    layout.down(4.0);
    let due_label = format!("Balance due ({})", sheet.currency);
    row(layout, (11.0, Face::Bold), &due_label, &sheet.balance_due);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_totals_label_wraps_short_of_its_amount() {
        let label =
            "Paid 2026-11-03 (Bank transfer, ref. SEPA-2026-11-03-ACME-CORP-REMITTANCE-0042)";
        let room = 240.0 - Face::Regular.width("-1234.56", 9.0);
        let lines = label_lines(label, BODY, room);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| Face::Regular.width(l, 9.0) <= room - 12.0));
        assert_eq!(lines.concat().replace(' ', ""), label.replace(' ', ""));
        assert_eq!(label_lines("Subtotal", BODY, room), ["Subtotal"]);
    }

    #[test]
    fn a_long_address_is_wrapped_and_cut_to_fit_the_heading() {
        let address: Vec<String> = (1..=99)
            .map(|n| format!("Line {n} of a very long address that goes on and on"))
            .collect();
        let fitted = fitted(&address, 200.0, 10);
        assert_eq!(fitted.len(), 10);
        assert!(fitted.iter().all(|l| Face::Regular.width(l, 9.0) <= 215.0));
        assert!(fitted.last().unwrap().ends_with('…'));
        assert_eq!(super::fitted(&["Short".to_owned()], 200.0, 10), ["Short"]);
    }
}
