//! Payment rules.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PaymentMethod {
    BankTransfer,
    Cash,
    Check,
    CreditCard,
    DebitCard,
    MobileMoney,
    Online,
    /// Also the method a payment is said to have when none is known.
    #[default]
    Other,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 8] = [
        PaymentMethod::BankTransfer,
        PaymentMethod::Cash,
        PaymentMethod::Check,
        PaymentMethod::CreditCard,
        PaymentMethod::DebitCard,
        PaymentMethod::MobileMoney,
        PaymentMethod::Online,
        PaymentMethod::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Check => "check",
            PaymentMethod::CreditCard => "credit_card",
            PaymentMethod::DebitCard => "debit_card",
            PaymentMethod::MobileMoney => "mobile_money",
            PaymentMethod::Online => "online",
            PaymentMethod::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn names() -> String {
        Self::ALL.map(|m| m.as_str()).join(", ")
    }
}
