"""Schemathesis hooks for Arvalox (SCHEMATHESIS_HOOKS=hooks, with this folder on PYTHONPATH).

The schema says everything about a request that a schema can: bounds, patterns, the
currency codes, the event types. What it cannot say ties a field to another
field or to stored rows: an id names a row of yours, an invoice is its customer's, a void
date is not before the payment's, an amount fits what is open on an invoice or unapplied
on a payment. A schema-valid request that breaks such a rule is rightly refused with a 400,
and schemathesis would count it as a schema-valid request rejected.

So, for the cases schemathesis generates to fit the schema (positive ones), `map_case`
fills those ties in from the book under test (read live, read-only, from ARVALOX_DB):
- ids name rows that exist, each invoice with its own customer (nine cases in ten: the
  tenth keeps its generated ids, so the 404s and the cross-reference 400s are exercised);
- a currency is the customer's; a date that follows a stored row is today; dates of one
  request are in order; one way of saying where money goes rather than two;
- amounts are whole units (valid in every currency) that fit: 1 to 3 of them, against an
  invoice with that much open or a payment or credit note with that much unapplied;
- lines are capped so a total stays within what an amount may be;
- an organization's zone is UTC (the spec cannot list the zones' names: see
  `spec_rules.rs`), so "today" is also the same date here and there.
The examples phase's cases are fitted the same way (`before_add_examples`). And two gaps
in schemathesis's generation are closed: its examples phase sends header
values that ignore the declared pattern (`If-Match: 0`), and a long poll's `wait` is kept
to a second so a request never outlasts the client's timeout.
Negative cases are never touched.

`filter_failure` then lets through exactly the cross-reference 400s the API documents (an
id that names no row of yours; an invoice of another customer than the one named; a
currency other than the customer's) and, in the stateful phase alone, an amount more than
what an earlier step left open or unapplied: nothing else.
"""

import datetime
import os
import random
import re
import sqlite3
import threading

import schemathesis
from schemathesis import GenerationMode

_LOCAL = threading.local()
_IF_MATCH = re.compile(r'^ *(\*|(W/)?"[^",]*"( *, *(W/)?"[^",]*")*) *$')
# Its own generator (hypothesis warns when a strategy draws from the global one), seeded
# like schemathesis so that a run can be repeated.
_RNG = random.Random(os.environ.get("SCHEMATHESIS_SEED"))
# An id no row has: a case whose ids are left unmapped gets this, so it meets a 404 or a
# cross-reference 400, never a stored row in a state the case did not choose.
_NO_ROW = 2**62
# The smallest open or unapplied amount a whole unit fits in, in minor units of any
# currency (at most four decimals).
_UNIT = 10_000
_OPEN = "total_minor - amount_paid_minor - amount_credited_minor - amount_written_off_minor"


def _rows(sql, *args):
    # A connection per thread (schemathesis runs its workers in threads); outside a
    # transaction each query sees what the server has committed by then.
    if not hasattr(_LOCAL, "db"):
        _LOCAL.db = sqlite3.connect(f"file:{os.environ['ARVALOX_DB']}?mode=ro", uri=True)
    return list(_LOCAL.db.execute(sql, args))


def _column(sql, *args):
    return [row[0] for row in _rows(sql, *args)]


def _today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def _customers():
    return dict(_rows(
        "SELECT c.id, COALESCE(c.currency, o.currency) FROM customers c "
        "JOIN organizations o ON o.id = c.organization_id"
    ))


def _open_invoices(units=1):
    """(id, customer_id) of invoices that take `units` whole units today."""
    return _rows(
        f"SELECT id, customer_id FROM invoices WHERE status IN ('sent', 'partially_paid') "
        f"AND {_OPEN} >= ? AND issue_date <= ?", units * _UNIT, _today()
    )


def _credit(table, units=1):
    """(id, customer_id) of payments or credit notes with `units` whole units unapplied,
    the most first."""
    date = "payment_date" if table == "payments" else "issue_date"
    return _rows(
        f"SELECT id, customer_id FROM {table} WHERE void_date IS NULL "
        f"AND unapplied_minor >= ? AND {date} <= ? ORDER BY unapplied_minor DESC",
        units * _UNIT, _today()
    )


# The two payments and credit notes with the most credit are kept for the uses that take a
# few units of it (refunds, allocations line by line); what takes all of it (a void, an
# oldest-first allocation) gets the others, so one worker does not empty the row another
# has just picked.
_KEPT = 2


def _spendable(table):
    kept = {row[0] for row in _credit(table)[:_KEPT]}
    return [row for row in _rows(f"SELECT id, customer_id FROM {table}") if row[0] not in kept]


def _any(sql):
    return lambda: _RNG.choice(_column(sql) or [1])


# The collection a path's `{id}` names, for operations without a rule of their own.
_BY_PREFIX = [
    ("/v1/customers/", _any("SELECT id FROM customers")),
    ("/v1/invoices/", _any("SELECT id FROM invoices")),
    ("/v1/payments/", _any("SELECT id FROM payments")),
    ("/v1/credit-notes/", _any("SELECT id FROM credit_notes")),
    ("/v1/webhook-endpoints/", _any("SELECT id FROM webhook_endpoints")),
    ("/v1/api-keys/", _any("SELECT id FROM api_keys")),
]
# Dates that must not come before the stored row they follow, nor after today.
_FOLLOWING_DATES = ("void_date", "refund_date", "reverse_date", "write_off_date",
                    "applied_date", "payment_date")
_WAYS_TO_ALLOCATE = ("invoice_id", "allocations", "allocate")


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63


def _whole(value, units):
    """`units` whole units, in the form (number or text) schemathesis chose."""
    if isinstance(value, str):
        return str(units)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return units
    return value


class _Case:
    """One positive case being fitted to the book: its path, parameters and body."""

    def __init__(self, method, path, case, map_ids):
        self.method, self.path, self.case, self.map_ids = method, path, case, map_ids
        self.params = case.path_parameters or {}
        self.body = case.body if isinstance(case.body, dict) else None

    def pick(self, rows, key="id"):
        """A row of `rows` for the path's `{key}`; its customer, or None without rows."""
        if not rows or not self.map_ids:
            self.params[key] = _NO_ROW
            return None
        row_id, customer_id = _RNG.choice(rows)
        self.params[key] = row_id
        return customer_id

    def fit(self):
        credit_table = {"payments": "payments", "credit-notes": "credit_notes"}
        parts = self.path.split("/")
        if self.method == "POST" and len(parts) == 5 and parts[2] in credit_table:
            table = credit_table[parts[2]]
            if parts[4] == "allocations":
                return self.fit_allocation(table)
            if parts[4] == "refunds":
                self.pick(_credit(table, 3)[:_KEPT])
                return self.fit_amounts()
            if parts[4] == "void":
                self.pick(_spendable(table))
                return self.fit_amounts()
        if self.path == "/v1/invoices/{id}/write-offs":
            self.pick(_open_invoices(3))
            return self.fit_amounts()
        self.map_path()
        if self.body is not None:
            self.fit_body()

    def map_path(self):
        if not self.map_ids:
            for key, value in self.params.items():
                if _is_id(value):
                    self.params[key] = _NO_ROW
            return
        if "write_off_id" in self.params:
            rows = _rows("SELECT invoice_id, id FROM write_offs")
            if rows:
                self.params["id"], self.params["write_off_id"] = _RNG.choice(rows)
        elif "delivery_id" in self.params:
            rows = _rows("SELECT endpoint_id, id FROM webhook_deliveries")
            if rows:
                self.params["id"], self.params["delivery_id"] = _RNG.choice(rows)
        elif _is_id(self.params.get("id")):
            for prefix, pick in _BY_PREFIX:
                if self.path.startswith(prefix):
                    self.params["id"] = pick()

    def fit_allocation(self, table):
        lines = (self.body or {}).get("allocations")
        count = len(lines) if isinstance(lines, list) else 1
        customer = self.pick(_credit(table, 3 * max(count, 1))[:_KEPT])
        if self.body is not None:
            self.one_way_to_allocate()
            self.fit_lines(customer)
            self.one_way_to_allocate()
            self.fit_amounts()
            if self.body.get("allocate") is not None:
                self.pick(_spendable(table))

    def fit_body(self):
        body = self.body
        self.one_way_to_allocate()
        if not self.map_ids:
            _unmap_body(body)
        customer = None
        if self.map_ids and _is_id(body.get("invoice_id")) and self.path == "/v1/payments":
            rows = _open_invoices(3)
            if rows:
                body["invoice_id"], customer = _RNG.choice(rows)
        if self.map_ids and _is_id(body.get("customer_id")):
            if customer is None:
                with_open = sorted({c for _, c in _open_invoices(3)})
                if isinstance(body.get("allocations"), list) and with_open:
                    customer = _RNG.choice(with_open)
                else:
                    customer = _RNG.choice(list(_customers()))
            body["customer_id"] = customer
        if self.map_ids and _is_id(body.get("invoice_id")) and self.path != "/v1/payments":
            own = [i for i, c in _open_invoices(3) if c == body.get("customer_id")]
            if own:
                body["invoice_id"] = _RNG.choice(own)
            else:
                del body["invoice_id"]
        if self.path == "/v1/invoices/{id}" and self.map_ids and "customer_id" in body:
            # A draft moves only to a customer billed in its own currency.
            invoice = _rows("SELECT currency FROM invoices WHERE id = ?", self.params.get("id"))
            same = [c for c, code in _customers().items() if invoice and code == invoice[0][0]]
            body["customer_id"] = _RNG.choice(same) if same else None
            if body["customer_id"] is None:
                del body["customer_id"]
        if self.path == "/v1/customers/{id}" and "currency" in body:
            # A new currency takes a credit limit in it, or none: nothing is converted.
            if body.get("credit_limit") is None:
                body["credit_limit"] = None
        self.fit_lines(body.get("customer_id"))
        currency = _customers().get(body.get("customer_id"))
        if isinstance(body.get("currency"), str) and currency:
            body["currency"] = currency
        self.fit_amounts()
        self.fit_dates()
        self.fit_items()
        self.fit_settings()

    def one_way_to_allocate(self):
        """One way of saying where money goes, and for applying credit, at least one."""
        for key in _WAYS_TO_ALLOCATE:
            if self.body.get(key) == []:
                del self.body[key]
        given = [key for key in _WAYS_TO_ALLOCATE if self.body.get(key) is not None]
        for key in given[1:]:
            del self.body[key]
        if not given and self.path.endswith("/allocations"):
            self.body["allocate"] = "oldest_first"

    def fit_lines(self, customer):
        """Allocation lines: open invoices of `customer`, each named once, 1 unit each."""
        lines = self.body.get("allocations")
        if not isinstance(lines, list):
            return
        if not self.map_ids:
            for n, line in enumerate(lines):
                if isinstance(line, dict):
                    line["invoice_id"] = _NO_ROW + n
                    line["amount"] = _whole(line.get("amount"), 1)
            return
        own = [i for i, c in _open_invoices(1) if c == customer]
        _RNG.shuffle(own)
        del lines[len(own):]
        for line, invoice_id in zip(lines, own):
            if isinstance(line, dict):
                line["invoice_id"] = invoice_id
                line["amount"] = _whole(line.get("amount"), 1)
        if not lines:
            del self.body["allocations"]

    def fit_amounts(self):
        """Whole units that fit: 1 to 3, and a payment's at least its lines' sum."""
        body = self.body
        if body is None:
            return
        lines = body.get("allocations")
        least = max(len(lines), 1) if isinstance(lines, list) else 1
        for key in ("amount", "credit_limit"):
            if body.get(key) is not None:
                body[key] = _whole(body[key], _RNG.randint(least, 3 * least))
        for key in _FOLLOWING_DATES:
            if isinstance(body.get(key), str):
                body[key] = _today()

    def fit_dates(self):
        body, today = self.body, _today()
        if self.path == "/v1/credit-notes" and isinstance(body.get("issue_date"), str):
            body["issue_date"] = today
        issue, due = body.get("issue_date"), body.get("due_date")
        if self.method == "PUT" and self.path == "/v1/invoices/{id}":
            # One date alone must fit the stored other one: give both.
            if isinstance(issue, str) and due is None:
                body["due_date"] = issue
            elif isinstance(due, str) and issue is None:
                body["issue_date"] = due
        issue, due = body.get("issue_date"), body.get("due_date")
        if isinstance(issue, str) and isinstance(due, str) and issue > due:
            body["issue_date"], body["due_date"] = due, issue
        if self.path in ("/v1/invoices", "/v1/invoices/preview") and issue is None and isinstance(due, str) and due < today:
            # Without an issue date the invoice is issued today: due no earlier.
            body["due_date"] = today
        start, end = body.get("from"), body.get("to")
        if isinstance(start, str) and start > (end if isinstance(end, str) else today):
            body["from"] = end if isinstance(end, str) else today

    def fit_items(self):
        """Lines whose total stays within what an amount may be (and, for a credit note,
        within what is open on the invoice it credits)."""
        items = self.body.get("items")
        if not isinstance(items, list):
            return
        credit = self.path == "/v1/credit-notes"
        if credit:
            del items[3:]
        for item in items:
            if not isinstance(item, dict):
                continue
            item["quantity"] = _capped(item.get("quantity"), 1 if credit else 100)
            item["unit_price"] = _capped(item.get("unit_price"), 1 if credit else 1000)
            rate = item.get("tax_rate")
            if isinstance(rate, float):
                item["tax_rate"] = round(rate, 6)
            if credit:
                item["quantity"] = _whole(item.get("quantity"), 1)
                item["unit_price"] = _whole(item.get("unit_price"), 1)
                item.pop("tax_rate", None)

    def fit_settings(self):
        body = self.body
        if isinstance(body.get("timezone"), str):
            body["timezone"] = "UTC"
        types = body.get("event_types")
        if isinstance(types, list) and "*" in types and len(types) > 1:
            body["event_types"] = ["*"]
        email = body.get("email")
        if isinstance(email, dict):
            if not email.get("to"):
                email["to"] = ["Accounts <ap@customer.example>"]
            cc = email.get("cc")
            if isinstance(cc, list):
                del cc[max(0, 20 - len(email["to"])):]


def _unmap_body(body):
    for key in ("customer_id", "invoice_id"):
        if _is_id(body.get(key)):
            body[key] = _NO_ROW
    for line in body.get("allocations") or []:
        if isinstance(line, dict) and _is_id(line.get("invoice_id")):
            line["invoice_id"] = _NO_ROW


def _capped(value, most):
    """`value` at most `most` and, as a number, with at most four decimals."""
    if isinstance(value, str):
        try:
            return value if float(value) <= most else str(most)
        except ValueError:
            return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        capped = min(round(value, 4), most)
        return capped if capped > 0 else 1
    return value


# Date windows a list refuses when their start is after their end (as a statement's period).
_WINDOWS = (("date_from", "date_to"), ("issue_date_from", "issue_date_to"),
            ("due_date_from", "due_date_to"))


def _fit_query(query):
    start, end = query.get("from"), query.get("to")
    if isinstance(start, str) and start > (end if isinstance(end, str) else _today()):
        query["from"], query["to"] = (end, start) if isinstance(end, str) else (_today(), start)
    for first, last in _WINDOWS:
        start, end = query.get(first), query.get(last)
        if isinstance(start, str) and isinstance(end, str) and start > end:
            query[first], query[last] = end, start
    buckets = query.get("buckets")
    if isinstance(buckets, str) and re.fullmatch(r"[ 0-9,]+", buckets):
        edges = sorted({int(edge) for edge in buckets.split(",") if 0 < int(edge) <= 3650})
        query["buckets"] = ",".join(str(edge) for edge in edges) or "30"
    wait = query.get("wait")
    if isinstance(wait, int) or (isinstance(wait, str) and wait.isdigit()):
        query["wait"] = min(int(wait), 1)


@schemathesis.hook
def map_case(context, case):
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    return _fitted(context, case)


@schemathesis.hook
def before_add_examples(context, examples):
    """The examples phase builds its cases from the spec's examples and does not pass them
    through `map_case`: they are fitted here (they are all meant to be accepted)."""
    for case in examples:
        _fitted(context, case)


def _fitted(context, case):
    headers = case.headers or {}
    if "If-Match" in headers and not _IF_MATCH.match(str(headers["If-Match"])):
        del headers["If-Match"]
    operation = context.operation
    _Case(operation.method.upper(), operation.path, case, _RNG.random() >= 0.1).fit()
    if isinstance(case.query, dict):
        _fit_query(case.query)
    return case


# The cross-reference 400s the API documents, as their field errors say them. The third, a
# currency other than the customer's, reaches the server when the stateful phase sets
# `customer_id` from a link after `map_case` has fitted the currency to another customer.
_CROSS_REFERENCES = [
    re.compile(r"^(customer|invoice|payment|credit note) -?\d+ does not exist$"),
    re.compile(r"^invoice -?\d+ belongs to customer -?\d+, not to customer -?\d+$"),
    re.compile(r"^the customer is billed in [A-Z]{3}, not [A-Z]{3}$"),
]


# The state 400s the stateful phase can meet: it carries values from one answer into the
# next request after `map_case` has fitted them (a payment's `amount` into a refund of it),
# and an earlier step may have used part of that since (seen: a refund of a payment's whole
# 2000.00 after 46.00 of it went to an invoice). The amount checks say so in these words.
_LEFT_OVER = re.compile(
    r"^-?[0-9.]+ is more than (invoice -?\d+'s open amount|(payment|credit note) -?\d+'s "
    r"unapplied credit) \(-?[0-9.]+\) on \d{4}-\d{2}-\d{2}"
)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if response.status_code != 400 or failure.code != "ST202":
        return True
    if any(not _is_id(v) for v in (case.path_parameters or {}).values()):
        # The stateful phase fills a path id from a link it inferred, such as a credit
        # note's `invoice_id`, which is null for a credit note left as credit: the id sent
        # is then `None`, not the whole number the spec asks for, so the case is invalid.
        return False
    try:
        messages = [m for ms in response.json()["field_errors"].values() for m in ms]
    except (ValueError, KeyError, AttributeError, TypeError):
        return True
    known = list(_CROSS_REFERENCES)
    if case.meta is not None and case.meta.phase.name == "stateful":
        known.append(_LEFT_OVER)
    return not (messages and all(any(p.match(m) for p in known) for m in messages))
