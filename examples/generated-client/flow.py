"""The documented flow, driven through a Python client generated from Arvalox's spec.

The client package `arvalox_client` is generated, unedited, by openapi-python-client from
openapi/arvalox.json (see run.sh beside this file). Usage:

    ARVALOX_URL=http://127.0.0.1:8000 ARVALOX_KEY=arv_... python flow.py

Money goes in as strings ("150.00"), never as Python floats, and comes back as strings.
"""

import datetime
import os
import sys

from arvalox_client import AuthenticatedClient
from arvalox_client.api.authentication import ping
from arvalox_client.api.customers import create_customer
from arvalox_client.api.invoices import create_invoice, get_invoice
from arvalox_client.api.payments import create_payment
from arvalox_client.api.reports import aging_report
from arvalox_client.models import (
    CustomerCreate,
    ErrorBody,
    InvoiceCreate,
    InvoiceItemCreate,
    Method,
    PaymentCreate,
)


def check(answer, what):
    """Stops with the server's own error text when a call did not succeed."""
    if answer is None or isinstance(answer, ErrorBody):
        detail = answer.detail if isinstance(answer, ErrorBody) else "no answer"
        sys.exit(f"{what} failed: {detail}")
    return answer


def main():
    client = AuthenticatedClient(
        base_url=os.environ.get("ARVALOX_URL", "http://127.0.0.1:8000"),
        token=os.environ["ARVALOX_KEY"],
        auth_header_name="x-arvalox-api-key",
        prefix="",
        raise_on_unexpected_status=True,
    )
    with client as client:
        me = check(ping.sync(client=client), "ping")
        print(f"ping: organization {me.organization}, scope {me.scope.value}")

        customer = check(
            create_customer.sync(
                client=client,
                body=CustomerCreate(
                    customer_code="CUST001",
                    name="Acme Corporation",
                    email="contact@acme.com",
                    phone="+1-555-123-4567",
                    billing_address="123 Main St, City, State 12345",
                ),
            ),
            "create customer",
        )
        print(f"customer {customer.id}: {customer.name}")

        invoice = check(
            create_invoice.sync(
                client=client,
                body=InvoiceCreate(
                    customer_id=customer.id,
                    invoice_number="INV-2024-001",
                    issue_date=datetime.date(2024, 1, 15),
                    due_date=datetime.date(2024, 2, 15),
                    items=[
                        InvoiceItemCreate(
                            description="Consulting Services",
                            quantity="10",
                            unit_price="150.00",
                            tax_rate="0.08",
                        )
                    ],
                ),
            ),
            "create invoice",
        )
        assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
            "1500.00",
            "120.00",
            "1620.00",
        ), invoice
        print(f"invoice {invoice.invoice_number}: total {invoice.total}")

        payment = check(
            create_payment.sync(
                client=client,
                body=PaymentCreate(
                    customer_id=customer.id,
                    invoice_id=invoice.id,
                    amount="500.00",
                    payment_method=Method.BANK_TRANSFER,
                    payment_date=datetime.date(2024, 1, 20),
                    reference_number="TXN123456",
                ),
            ),
            "record payment",
        )
        print(f"payment {payment.id}: {payment.amount}")

        paid = check(get_invoice.sync(id=invoice.id, client=client), "read invoice")
        assert (paid.status.value, paid.balance_due) == ("partially_paid", "1120.00"), paid

        aging = check(
            aging_report.sync(client=client, as_of=datetime.date(2024, 3, 1)),
            "aging report",
        )
        assert aging.totals.total == "1120.00", aging
        assert aging.totals.days_1_30 == "1120.00", aging
        print(f"aging at {aging.as_of}: total {aging.totals.total}, 1-30 days {aging.totals.days_1_30}")
    print("the documented flow works through the generated client")


if __name__ == "__main__":
    main()
