//! E-mailed documents: who a document goes to, and the words around it. The mail itself is
//! `crate::mail`; the PDF is `crate::documents`.

/// At most this many addresses, `to` and `cc` together: a document goes to the people who
/// pay, not to a mailing list.
pub const MAX_RECIPIENTS: usize = 20;

/// Why a document has nobody to go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientError {
    /// No `to` was given and the customer has no e-mail address.
    NoAddress,
    /// `to` was given, empty.
    EmptyTo,
    /// More than [`MAX_RECIPIENTS`] after removing repeats.
    TooMany(usize),
}

/// Who it goes to: `to`, or else the customer's address; `cc`. An address is named once
/// (the same address in another case is a repeat, and one in `to` is left out of `cc`).
pub fn recipients(
    to: Option<Vec<String>>,
    cc: Vec<String>,
    customer_email: Option<&str>,
) -> Result<(Vec<String>, Vec<String>), RecipientError> {
    let to = match to {
        Some(to) if to.is_empty() => return Err(RecipientError::EmptyTo),
        Some(to) => to,
        None => match customer_email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) => vec![email.to_string()],
            None => return Err(RecipientError::NoAddress),
        },
    };
    let mut seen: Vec<String> = Vec::new();
    let mut once = |list: Vec<String>| {
        let mut kept = Vec::new();
        for address in list {
            let address = address.trim().to_string();
            let key = mailbox_key(&address);
            if !seen.contains(&key) {
                seen.push(key);
                kept.push(address);
            }
        }
        kept
    };
    let (to, cc) = (once(to), once(cc));
    match to.len() + cc.len() {
        n if n > MAX_RECIPIENTS => Err(RecipientError::TooMany(n)),
        _ => Ok((to, cc)),
    }
}

/// The address inside `Name <address>`, lower-cased: what makes two entries the same person.
fn mailbox_key(entry: &str) -> String {
    let address = match (entry.rfind('<'), entry.rfind('>')) {
        (Some(open), Some(close)) if open < close => &entry[open + 1..close],
        _ => entry,
    };
    address.trim().to_lowercase()
}

/// What the text of an invoice's e-mail says about it (figures as the JSON gives them).
#[derive(Debug, Clone)]
pub struct InvoiceFacts {
    pub number: String,
    pub total: String,
    pub balance_due: String,
    pub currency: String,
    pub issue_date: String,
    pub due_date: String,
}

/// The subject and text of an invoice sent by `seller`, with the sender's own `message`
/// first.
pub fn invoice_mail(seller: &str, facts: &InvoiceFacts, message: Option<&str>) -> (String, String) {
    let subject = format!("Invoice {} from {seller}", facts.number);
    let summary = format!(
        "Invoice {number} for {currency} {total}, issued {issued}, is due on {due}.\n\
         Balance due: {currency} {balance}.\n\n\
         The invoice is attached as a PDF.",
        number = facts.number,
        currency = facts.currency,
        total = facts.total,
        issued = facts.issue_date,
        due = facts.due_date,
        balance = facts.balance_due,
    );
    (subject, text(seller, message, &summary))
}

/// The subject and text of a statement from `seller` for `from`..=`to`.
pub fn statement_mail(
    seller: &str,
    (from, to): (&str, &str),
    (closing, currency): (&str, &str),
    message: Option<&str>,
) -> (String, String) {
    let subject = format!("Statement {from} to {to} from {seller}");
    let summary = format!(
        "Your statement for {from} to {to}: balance at {to}, {currency} {closing}.\n\n\
         The statement, with every invoice, payment and credit of the period, is attached as a PDF."
    );
    (subject, text(seller, message, &summary))
}

fn text(seller: &str, message: Option<&str>, summary: &str) -> String {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    match message {
        Some(message) => format!("{message}\n\n{summary}\n\n{seller}\n"),
        None => format!("{summary}\n\n{seller}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn to_defaults_to_the_customer() {
        assert_eq!(
            recipients(None, vec![], Some("ap@globex.test")),
            Ok((list(&["ap@globex.test"]), vec![]))
        );
        assert_eq!(
            recipients(None, vec![], None),
            Err(RecipientError::NoAddress)
        );
        assert_eq!(
            recipients(None, vec![], Some(" ")),
            Err(RecipientError::NoAddress)
        );
        assert_eq!(
            recipients(Some(vec![]), vec![], Some("ap@globex.test")),
            Err(RecipientError::EmptyTo)
        );
    }

    #[test]
    fn each_address_once() {
        let to = list(&[
            "Jane <Jane@Globex.test>",
            "jane@globex.test",
            "bob@globex.test",
        ]);
        let cc = list(&["BOB@globex.test", "carol@globex.test"]);
        assert_eq!(
            recipients(Some(to), cc, None),
            Ok((
                list(&["Jane <Jane@Globex.test>", "bob@globex.test"]),
                list(&["carol@globex.test"])
            ))
        );
    }

    #[test]
    fn at_most_twenty() {
        let many: Vec<String> = (0..21).map(|n| format!("p{n}@x.test")).collect();
        assert_eq!(
            recipients(Some(many[..10].to_vec()), many[10..].to_vec(), None),
            Err(RecipientError::TooMany(21))
        );
        assert!(recipients(Some(many[..10].to_vec()), many[10..20].to_vec(), None).is_ok());
    }

    #[test]
    fn the_invoice_words() {
        let facts = InvoiceFacts {
            number: "INV-2024-00001".into(),
            total: "1620.00".into(),
            balance_due: "620.00".into(),
            currency: "USD".into(),
            issue_date: "2024-03-01".into(),
            due_date: "2024-03-31".into(),
        };
        let (subject, text) = invoice_mail("Acme", &facts, Some("  Thanks!  "));
        assert_eq!(subject, "Invoice INV-2024-00001 from Acme");
        assert_eq!(
            text,
            "Thanks!\n\nInvoice INV-2024-00001 for USD 1620.00, issued 2024-03-01, is due on 2024-03-31.\nBalance due: USD 620.00.\n\nThe invoice is attached as a PDF.\n\nAcme\n"
        );
        let (_, plain) = invoice_mail("Acme", &facts, Some(" "));
        assert!(plain.starts_with("Invoice INV-2024-00001 for"));
    }

    #[test]
    fn the_statement_words() {
        let (subject, text) =
            statement_mail("Acme", ("2024-01-01", "2024-03-31"), ("50.00", "EUR"), None);
        assert_eq!(subject, "Statement 2024-01-01 to 2024-03-31 from Acme");
        assert!(text.starts_with(
            "Your statement for 2024-01-01 to 2024-03-31: balance at 2024-03-31, EUR 50.00."
        ));
        assert!(text.ends_with("\n\nAcme\n"));
    }
}
