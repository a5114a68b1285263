"""Exact Online's master data lists as the settings use them: in code order, and which VAT codes fit a sales rate.

Exact sends its lists in no useful order (by ID, a GUID). Its VAT codes (vat/VATCodes) carry what a sales invoice
needs to know: `Percentage` (a fraction, 0.21), `Type` (E excluding VAT, I including, B 0 % with only the base
amount, N no VAT), `VATTransactionType` (S sales, P purchase, B both), `IsBlocked` (no longer to be used) and
`Charged` (reverse charge, "btw verlegd": the customer accounts for the VAT). OutSmart sends prices excluding VAT, so
an invoice line of a rate needs an exclusive sales code of that rate that is neither blocked nor reverse-charged.
"""
from decimal import Decimal
from decimal import InvalidOperation

# Why a VAT code does not fit a sales rate, in the order they are told (the first one found is the reason).
BLOCKED = "blocked"
CHARGED = "charged"
PURCHASE_ONLY = "purchase_only"
NOT_EXCLUSIVE = "not_exclusive"
OTHER_RATE = "other_rate"

SALES_TRANSACTIONS = {"S", "B"}
# At 0 % nothing is added to a price, so a code that adds nothing fits as well as an exclusive one: B (0 %, only the
# base amount: export, intra-EU) and N (no VAT). An inclusive code never fits: OutSmart's prices exclude VAT.
TYPES_AT_ZERO = {"E", "B", "N"}
EXCLUSIVE = "E"


def code_order(code) -> tuple:
    """Sort key for Exact codes: numerically where the code is a number ("8" before "14", "08" beside "8"), then the
    others alphabetically."""
    text = str(code).strip()
    if text.isdecimal() and text.isascii():
        return 0, int(text), text
    return 1, text.casefold(), text


def in_code_order(rows: list[dict]) -> list[dict]:
    """The rows of an Exact list sorted by their `Code`."""
    return sorted(rows, key=lambda row: code_order(row.get("Code", "")))


def rate_of(row: dict) -> str | None:
    """A VAT code's rate in percent as a plain decimal string ("21", "5.5", "0"); None when it has none."""
    percentage = row.get("Percentage")
    if isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
        return None
    try:
        percent = (Decimal(str(percentage)) * 100).quantize(Decimal("0.001"))
    except InvalidOperation:  # not a number, or too large to be a rate
        return None
    if not percent.is_finite() or percent < 0:
        return None
    return format(percent.normalize(), "f")


def misfit(row: dict, rate: str) -> str | None:
    """Why this VAT code cannot stand for sales at `rate` (one of the reasons above), or None when it fits."""
    if row.get("IsBlocked"):
        return BLOCKED
    if row.get("Charged"):
        return CHARGED
    if row.get("VATTransactionType", "B") not in SALES_TRANSACTIONS:
        return PURCHASE_ONLY
    if row.get("Type") not in (TYPES_AT_ZERO if Decimal(rate) == 0 else {EXCLUSIVE}):
        return NOT_EXCLUSIVE
    if rate_of(row) != rate:
        return OTHER_RATE
    return None


def sales_rates(rows: list[dict]) -> list[str]:
    """The sales rates the administration's VAT codes carry, highest first: each one a rate some usable code has."""
    rates = {rate for row in rows if (rate := rate_of(row)) is not None and misfit(row, rate) is None}
    return sorted(rates, key=Decimal, reverse=True)


def codes_for(rows: list[dict], rate: str) -> list[dict]:
    """The VAT codes that fit sales at `rate`, in code order."""
    return [row for row in in_code_order(rows) if misfit(row, rate) is None]
