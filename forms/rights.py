"""Which Exact Online rights the chosen settings need, and the one check of them (at Opslaan and on every change)."""
from collections.abc import Callable
from dataclasses import dataclass

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

# The on/off setting that makes a need go away: the setting itself, or for a document type the export as a whole
# (a document type is no on/off choice; another one is chosen on the settings page).
SWITCH_OFF = {"document_type": "export_work_orders"}
SWITCHES = tuple(dict.fromkeys(SWITCH_OFF.get(name, name) for name, *_rest in RIGHTS))

# Asks Exact, all at once, whether the connected user may do each `action` on each `endpoint` (a list of pairs) in the
# administration being checked; the answers in the same order (ExactClient.has_rights), or the first error in it.
HasRights = Callable[[list[tuple[str, str]]], list[bool]]


@dataclass(frozen=True)
class Need:
    """One Exact right the settings need, and the settings (name, chosen value) that need it."""

    endpoint: str
    action: str
    words: str
    settings: tuple[tuple[str, object], ...]

    @property
    def switches(self) -> tuple[str, ...]:
        """The on/off settings that, switched off, make this right unneeded."""
        return tuple(dict.fromkeys(SWITCH_OFF.get(name, name) for name, _value in self.settings))


def needed_rights(settings: dict) -> list[Need]:
    """The distinct rights the chosen settings need at Exact, each with the settings that need it."""
    needed: dict[tuple[str, str], tuple[str, list]] = {}
    for name, value, endpoint, action, words in RIGHTS:
        if name in EXPORT_ONLY and not settings.get("export_work_orders"):
            continue
        chosen = settings.get(name)
        if (value is None and chosen) or (value is not None and chosen == value):
            needed.setdefault((endpoint, action), (str(words), []))[1].append((name, chosen))
    return [Need(endpoint, action, words, tuple(users)) for (endpoint, action), (words, users) in needed.items()]


def required_rights(settings: dict) -> list[tuple[str, str, str]]:
    """The distinct (endpoint, action, plain words) the chosen settings need at Exact."""
    return [(need.endpoint, need.action, need.words) for need in needed_rights(settings)]


def missing_rights(settings: dict, has_rights: HasRights) -> list[Need]:
    """The rights the settings need that the Exact user lacks (asked at Exact, one call per right, all at once: the
    admin waits one round trip, not one per right)."""
    needed = needed_rights(settings)
    answers = has_rights([(need.endpoint, need.action) for need in needed]) if needed else []
    return [need for need, allowed in zip(needed, answers) if not allowed]


def setting_words(name: str, value=True) -> str:
    """A setting as the settings page names it; a choice with its value ("Aanmaken in Exact Online als
    Verkoopfactuur")."""
    from forms.settings import SettingsForm  # the labels live on the form, which checks rights with this module

    field = getattr(SettingsForm, name, None)
    label = str(field.args[0]) if field is not None and field.args else name
    choices = dict((choice.value, choice.label) for choice in (field.kwargs.get("choices") or [])) if field else {}
    if value is True or value not in choices:
        return label
    return _("%(setting)s: %(value)s", setting=label, value=choices[value])


def missing_rights_error(settings: dict, has_rights: HasRights, administration_name: str) -> str | None:
    """Why the Exact user cannot synchronise these settings, in plain words, naming for each missing right the
    settings that need it; None when every right is there."""
    return missing_message(missing_rights(settings, has_rights), administration_name)


def missing_message(missing: list[Need], administration_name: str) -> str | None:
    """The sentence for rights found missing; None when none are."""
    if not missing:
        return None
    return _("De Exact Online-gebruiker mist deze rechten in administratie %(name)s: %(rights)s. Vraag de beheerder "
             "van uw Exact Online om deze rechten toe te kennen, of zet de instellingen die ze nodig hebben uit.",
             name=administration_name, rights="; ".join(need_words(need) for need in missing))


def need_words(need: Need) -> str:
    """A right and the settings that need it: "Verkoopfacturen aanmaken (nodig voor: …)"."""
    return _("%(right)s (nodig voor: %(settings)s)", right=need.words,
             settings=", ".join(setting_words(name, value) for name, value in need.settings))
