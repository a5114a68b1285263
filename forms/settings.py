"""Step 6: what OutSmart imports from Exact Online and what it exports to it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectChoice
from wtforms import SelectMultipleField
from wtforms import widgets
from wtforms.validators import InputRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError

# OutSmart work-order statuses an export can start from or end in.
WORK_ORDER_STATUSES = [
    SelectChoice("compleet", _l("Compleet")),
    SelectChoice("gecontroleerd", _l("Gecontroleerd")),
    SelectChoice("afgehandeld", _l("Afgehandeld")),
    SelectChoice("gefactureerd", _l("Gefactureerd")),
]
DOCUMENT_TYPES = [
    SelectChoice("sales_invoice", _l("Verkoopfactuur")),
    SelectChoice("sales_order", _l("Verkooporder")),
    SelectChoice("sales_entry", _l("Verkoopboeking")),
]
HOUR_ROUNDING = [SelectChoice("0", _l("Niet afronden")), SelectChoice("5", _l("Op 5 minuten")), SelectChoice("15", _l("Op 15 minuten")),
                 SelectChoice("30", _l("Op 30 minuten"))]

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


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; none ticked means no filter."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RequiredWhenExporting:
    """Required when exporting; otherwise an empty value is fine and stops further checks."""

    def __init__(self, message):
        self.message = message
        self.field_flags = {}

    def __call__(self, form, field):
        if form.export_work_orders.data:
            InputRequired(self.message)(form, field)
        else:
            # Only an empty value is fine: Optional's default also waves through whitespace, which is no choice and
            # would be stored as the setting.
            Optional(strip_whitespace=False)(form, field)


class SettingsForm(FlaskForm):
    """Import and export settings; the choices that live in Exact come from the chosen administration."""

    import_relations = BooleanField(_l("Relaties importeren"), default=True)
    relation_types = MultiCheckboxField(_l("Alleen deze relatietypen (niets aangevinkt: alle)"), choices=[])
    relations_include_inactive = BooleanField(_l("Ook inactieve relaties"))
    relations_include_blocked = BooleanField(_l("Ook geblokkeerde relaties"))
    import_materials = BooleanField(_l("Artikelen importeren als materialen"), default=True)
    item_groups = MultiCheckboxField(_l("Alleen deze artikelgroepen (niets aangevinkt: alle)"), choices=[])
    import_hour_types = BooleanField(_l("Arbeidsartikelen importeren als uursoorten"))
    import_categories = BooleanField(_l("Categorieën (artikelgroepen) importeren"))
    import_employees = BooleanField(_l("Medewerkers importeren"))
    import_payments = BooleanField(_l("Betalingstransacties importeren"))

    export_work_orders = BooleanField(_l("Afgeronde werkbonnen exporteren naar Exact Online"), default=True)
    trigger_status = SelectField(_l("Exporteren bij werkbonstatus"), choices=WORK_ORDER_STATUSES,
                                 validators=[RequiredWhenExporting(_l("Kies bij welke status een werkbon wordt geëxporteerd."))])
    success_status = SelectField(_l("Status na geslaagde export"), choices=WORK_ORDER_STATUSES, default="afgehandeld",
                                 validators=[RequiredWhenExporting(_l("Kies de status na een geslaagde export."))])
    document_type = RadioField(_l("Aanmaken in Exact Online als"), choices=DOCUMENT_TYPES, default="sales_invoice",
                               validators=[RequiredWhenExporting(_l("Kies wat er in Exact Online wordt aangemaakt."))])
    sales_journal = SelectField(_l("Verkoopdagboek"), choices=[],
                                validators=[RequiredWhenExporting(_l("Kies een verkoopdagboek."))])
    revenue_account = SelectField(_l("Standaard omzetrekening"), choices=[],
                                  validators=[RequiredWhenExporting(_l("Kies een omzetrekening."))])
    vat_high = SelectField(_l("Btw-code voor 21 %"), choices=[],
                           validators=[RequiredWhenExporting(_l("Kies de btw-code voor 21 %."))])
    vat_low = SelectField(_l("Btw-code voor 9 %"), choices=[],
                          validators=[RequiredWhenExporting(_l("Kies de btw-code voor 9 %."))])
    vat_zero = SelectField(_l("Btw-code voor 0 %"), choices=[],
                           validators=[RequiredWhenExporting(_l("Kies de btw-code voor 0 %."))])
    payment_condition = SelectField(_l("Betalingsconditie"), choices=[],
                                    validators=[RequiredWhenExporting(_l("Kies een betalingsconditie."))])
    hour_rounding = SelectField(_l("Uren afronden"), choices=HOUR_ROUNDING, default="0")
    create_missing_relations = BooleanField(_l("Ontbrekende relaties aanmaken in Exact Online"))
    create_missing_items = BooleanField(_l("Ontbrekende artikelen aanmaken in Exact Online"))

    EXACT_CHOICES = {
        "relation_types": "relation_types",
        "item_groups": "item_groups",
        "sales_journal": "journals",
        "revenue_account": "revenue_accounts",
        "vat_high": "vat_codes",
        "vat_low": "vat_codes",
        "vat_zero": "vat_codes",
        "payment_condition": "payment_conditions",
    }

    def __init__(self, choices_by_kind: dict, *args, **kwargs):
        """Fill the Exact-backed choices from the administration's lists, by kind."""
        super().__init__(*args, **kwargs)
        for field_name, kind in self.EXACT_CHOICES.items():
            options = choices_by_kind.get(kind, [])
            field = self[field_name]
            field.choices = options if isinstance(field, MultiCheckboxField) else [SelectChoice("", _l("— kies —"))] + options

    def validate_success_status(self, field):
        if self.export_work_orders.data and field.data == self.trigger_status.data:
            raise ValidationError(_l("De status na export moet anders zijn dan de status die de export start."))

    def settings(self) -> dict:
        """The chosen settings, without the CSRF token."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
