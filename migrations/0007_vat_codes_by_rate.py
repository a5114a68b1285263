"""The VAT mapping follows the administration (issue 16): settings stored with the three fixed Dutch rows `vat_high`,
`vat_low` and `vat_zero` (labelled 21, 9 and 0 %) get `vat_codes`, the Exact VAT code per sales rate, instead:
{"21": "1", "9": "2", "0": "0"}.

A row's code goes under the rate that code really has in the administration's VAT codes as the app cached them (a
Belgian "9 %" row pointing at "Btw 12%" becomes "12"); without a cached list, or for a code not in it, under the rate
its row was labelled with. An empty row is left out. Both the saved settings and a draft are converted; the rest of
the settings stays as it was. A data migration only: no column changes. This file is frozen: it reads the rows as
JSON text and does not import the app.
"""
import json
from decimal import Decimal
from decimal import InvalidOperation

FORMER_ROWS = {"vat_high": "21", "vat_low": "9", "vat_zero": "0"}


def up(migrator, db):
    for connection_id, settings, draft_settings, division, draft_division in _connections(db):
        converted = {"settings": _to_rates(settings, _rates_of_codes(db, connection_id, division)),
                     "draft_settings": _to_rates(draft_settings, _rates_of_codes(db, connection_id, draft_division))}
        _store(db, connection_id, {column: value for column, value in converted.items() if value is not None})


def down(migrator, db):
    """Back to the three rows: the codes of 21, 9 and 0 %; codes of other rates are dropped."""
    for connection_id, settings, draft_settings, _division, _draft_division in _connections(db):
        converted = {"settings": _to_rows(settings), "draft_settings": _to_rows(draft_settings)}
        _store(db, connection_id, {column: value for column, value in converted.items() if value is not None})


def _connections(db):
    return db.execute_sql('SELECT "id", "settings", "draft_settings", "division", "draft_division" '
                          'FROM "connection" ORDER BY "id"').fetchall()


def _store(db, connection_id, columns: dict) -> None:
    if not columns:
        return
    assignments = ", ".join(f'"{column}" = {db.param}' for column in columns)
    db.execute_sql(f'UPDATE "connection" SET {assignments} WHERE "id" = {db.param}', [*columns.values(), connection_id])


def _rates_of_codes(db, connection_id, division) -> dict:
    """{code: rate} of the administration's VAT codes as cached for this connection (none: {})."""
    if division is None:
        return {}
    cached = db.execute_sql(f'SELECT "rows" FROM "exactlist" WHERE "connection_id" = {db.param} AND "division" = '
                            f'{db.param} AND "kind" = {db.param}', [connection_id, division, "vat_codes"]).fetchone()
    rows = json.loads(cached[0]) if cached and cached[0] else []
    rates = {}
    for row in rows if isinstance(rows, list) else []:
        rate = _rate(row.get("Percentage")) if isinstance(row, dict) else None
        if rate is not None and row.get("Code") is not None:
            rates[str(row["Code"]).strip()] = rate
    return rates


def _rate(percentage) -> str | None:
    """A fraction (0.055) as a rate in percent ("5.5"), as the app writes it."""
    if isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
        return None
    try:
        percent = (Decimal(str(percentage)) * 100).quantize(Decimal("0.001"))
    except InvalidOperation:
        return None
    if not percent.is_finite() or percent < 0:
        return None
    return format(percent.normalize(), "f")


def _to_rates(text, rates_of_codes: dict):
    """The stored settings (JSON text) with vat_codes instead of the three rows; None when there is nothing to do."""
    settings = json.loads(text) if text else None
    if not isinstance(settings, dict) or not FORMER_ROWS.keys() & settings.keys():
        return None
    vat_codes = dict(settings.get("vat_codes") or {})
    chosen = [(str(settings[name]).strip(), labelled) for name, labelled in FORMER_ROWS.items()
              if settings.get(name) not in (None, "")]
    # A code whose real rate is the one its row was labelled with claims that rate first.
    chosen.sort(key=lambda item: rates_of_codes.get(item[0], item[1]) != item[1])
    for code, labelled in chosen:
        vat_codes.setdefault(rates_of_codes.get(code, labelled), code)
    converted = {name: value for name, value in settings.items() if name not in FORMER_ROWS}
    converted["vat_codes"] = vat_codes
    return json.dumps(converted, sort_keys=True)


def _to_rows(text):
    settings = json.loads(text) if text else None
    if not isinstance(settings, dict) or "vat_codes" not in settings:
        return None
    vat_codes = settings.get("vat_codes") or {}
    converted = {name: value for name, value in settings.items() if name != "vat_codes"}
    converted.update({name: vat_codes.get(rate, "") for name, rate in FORMER_ROWS.items()})
    return json.dumps(converted, sort_keys=True)
