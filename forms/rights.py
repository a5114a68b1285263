"""Which Exact Online rights the chosen settings need, and the one check of them (at Opslaan and on every change)."""
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Which Exact right each setting needs: (setting, value or None for "on") -> (endpoint, action, plain words).
RIGHTS = [
    ("import_relations", None, "crm/Accounts", "GET", _l("Relaties bekijken")),
    ("import_materials", None, "logistics/Items", "GET", _l("Artikelen bekijken")),
    ("import_hour_types", None, "logistics/Items", "GET", _l("Artikelen bekijken")),
    ("import_categories", None, "logistics/ItemGroups", "GET", _l("Artikelgroepen bekijken")),
    ("import_employees", None, "payroll/Employees", "GET", _l("Medewerkers bekijken")),
    ("import_payments", None, "cashflow/Receivables", "GET", _l("Te ontvangen betalingen bekijken")),
    ("document_type", "sales_invoice", "salesinvoice/SalesInvoices", "POST", _l("Verkoopfacturen aanmaken")),
    ("document_type", "sales_order", "salesorder/SalesOrders", "POST", _l("Verkooporders aanmaken")),
    ("document_type", "sales_entry", "salesentry/SalesEntries", "POST", _l("Verkoopboekingen invoeren")),
    ("create_missing_relations", None, "crm/Accounts", "POST", _l("Relaties aanmaken")),
    ("create_missing_items", None, "logistics/Items", "POST", _l("Artikelen aanmaken")),
]
EXPORT_ONLY = {"document_type", "create_missing_relations", "create_missing_items"}

# Asks Exact, all at once, whether the connected user may do each `action` on each `endpoint` (a list of pairs) in the
# administration being checked; the answers in the same order (ExactClient.has_rights), or the first error in it.
HasRights = Callable[[list[tuple[str, str]]], list[bool]]


def required_rights(settings: dict) -> list[tuple[str, str, str]]:
    """The distinct (endpoint, action, plain words) the chosen settings need at Exact."""
    needed = {}
    for name, value, endpoint, action, words in RIGHTS:
        if name in EXPORT_ONLY and not settings.get("export_work_orders"):
            continue
        chosen = settings.get(name)
        if (value is None and chosen) or (value is not None and chosen == value):
            needed.setdefault((endpoint, action), words)
    return [(endpoint, action, str(words)) for (endpoint, action), words in needed.items()]


def missing_rights_error(settings: dict, has_rights: HasRights, administration_name: str) -> str | None:
    """Why the Exact user cannot synchronise these settings, in plain words; None when every right is there. The
    rights are asked at once: the admin waits one round trip to Exact, not one per right."""
    needed = required_rights(settings)
    answers = has_rights([(endpoint, action) for endpoint, action, _words in needed]) if needed else []
    missing = [words for (_endpoint, _action, words), allowed in zip(needed, answers) if not allowed]
    if not missing:
        return None
    return _("De Exact Online-gebruiker mist deze rechten in administratie %(name)s: %(rights)s. Vraag de beheerder "
             "van uw Exact Online om deze rechten toe te kennen, of zet de instellingen die ze nodig hebben uit.",
             name=administration_name, rights=", ".join(missing))
