//! A customer's statement as a PDF: the opening balance, every event of the period with
//! the running balance, the closing balance, and the aging at the period's end. Figures
//! arrive as the JSON answer writes them.

use super::invoice::Party;
use super::layout::{wrap, Align, Face, Layout, Paper, BODY, BOLD, LINE, MARGIN};

/// One line of the statement's table.
#[derive(Debug, Clone)]
pub(crate) struct StatementRow {
    pub date: String,
    pub reference: String,
    pub description: String,
    pub amount: String,
    pub balance: String,
}

/// Everything printed on a statement.
#[derive(Debug, Clone)]
pub(crate) struct StatementSheet {
    pub seller: Party,
    pub buyer: Party,
    /// Label and value pairs under the title: the period, the date, the currency.
    pub facts: Vec<(String, String)>,
    pub currency: String,
    pub opening: StatementRow,
    pub rows: Vec<StatementRow>,
    pub closing: StatementRow,
    /// The aging at the period's end: label and amount.
    pub aging: Vec<(String, String)>,
}

struct Columns {
    reference: f32,
    description: f32,
    description_width: f32,
    amount: f32,
    balance: f32,
}

fn columns(layout: &Layout) -> Columns {
    let balance = layout.right();
    Columns {
        reference: MARGIN + 62.0,
        description: MARGIN + 150.0,
        description_width: balance - 170.0 - (MARGIN + 150.0),
        amount: balance - 80.0,
        balance,
    }
}

/// The statement laid out on `paper`, as PDF bytes.
pub(crate) fn statement_pdf(sheet: &StatementSheet, paper: Paper) -> Result<Vec<u8>, String> {
    let mut layout = Layout::new(paper);
    super::invoice::heading(
        &mut layout,
        (&sheet.seller, &sheet.buyer),
        ("STATEMENT", ""),
        &sheet.facts,
    );
    layout.repeat_on_new_pages(Some(table_header));
    table_header(&mut layout);
    row(&mut layout, &sheet.opening, BOLD);
    for line in &sheet.rows {
        row(&mut layout, line, BODY);
    }
    layout.room_for(LINE * 2.0);
    layout.rule(-LINE + 3.0, 0.5);
    row(&mut layout, &sheet.closing, BOLD);
    layout.repeat_on_new_pages(None);
    aging(&mut layout, sheet);
    let title = format!("Statement for {}", sheet.buyer.name);
    let footer = format!("{} · Statement for {}", sheet.seller.name, sheet.buyer.name);
    layout.finish(&title, &footer)
}

fn table_header(layout: &mut Layout) {
    let cols = columns(layout);
    layout.text(MARGIN, Align::Left, BOLD, "Date");
    layout.text(cols.reference, Align::Left, BOLD, "Reference");
    layout.text(cols.description, Align::Left, BOLD, "Description");
    layout.text(cols.amount, Align::Right, BOLD, "Amount");
    layout.text(cols.balance, Align::Right, BOLD, "Balance");
    layout.rule(4.0, 0.8);
    layout.down(LINE + 6.0);
}

fn row(layout: &mut Layout, line: &StatementRow, font: (f32, Face)) {
    let cols = columns(layout);
    let description = wrap(&line.description, font, cols.description_width);
    let reference = wrap(
        &line.reference,
        font,
        cols.description - cols.reference - 6.0,
    );
    let height = description.len().max(reference.len()) as f32;
    layout.room_for(LINE * height);
    let top = layout.y;
    layout.text(MARGIN, Align::Left, font, &line.date);
    layout.text(cols.amount, Align::Right, font, &line.amount);
    layout.text(cols.balance, Align::Right, font, &line.balance);
    for text in &reference {
        layout.text(cols.reference, Align::Left, font, text);
        layout.down(LINE);
    }
    layout.y = top;
    for text in &description {
        layout.text(cols.description, Align::Left, font, text);
        layout.down(LINE);
    }
    layout.y = top + LINE * height;
}

/// The aging at the period's end, as a row of labelled figures.
fn aging(layout: &mut Layout, sheet: &StatementSheet) {
    layout.down(LINE * 1.5);
    layout.room_for(LINE * 4.0);
    let heading = format!("Aging at the end of the period ({})", sheet.currency);
    layout.text(MARGIN, Align::Left, BOLD, &heading);
    layout.down(LINE + 4.0);
    let count = sheet.aging.len().max(1) as f32;
    let width = (layout.right() - MARGIN) / count;
    for (index, (label, _)) in sheet.aging.iter().enumerate() {
        let right = MARGIN + width * (index as f32 + 1.0);
        layout.text(right, Align::Right, (8.0, Face::Bold), label);
    }
    layout.down(LINE);
    for (index, (_, amount)) in sheet.aging.iter().enumerate() {
        let right = MARGIN + width * (index as f32 + 1.0);
        layout.text(right, Align::Right, BODY, amount);
    }
    layout.down(LINE);
}
