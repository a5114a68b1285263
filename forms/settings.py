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

from forms.rights import HasRight
from forms.rights import missing_rights_error

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


def exact_choice(label, missing) -> SelectField:
    """A choice from one of the administration's own lists (filled per request), required when exporting."""
    return SelectField(label, choices=[], validators=[RequiredWhenExporting(missing)])


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
    sales_journal = exact_choice(_l("Verkoopdagboek"), _l("Kies een verkoopdagboek."))
    revenue_account = exact_choice(_l("Standaard omzetrekening"), _l("Kies een omzetrekening."))
    vat_high = exact_choice(_l("Btw-code voor 21 %"), _l("Kies de btw-code voor 21 %."))
    vat_low = exact_choice(_l("Btw-code voor 9 %"), _l("Kies de btw-code voor 9 %."))
    vat_zero = exact_choice(_l("Btw-code voor 0 %"), _l("Kies de btw-code voor 0 %."))
    payment_condition = exact_choice(_l("Betalingsconditie"), _l("Kies een betalingsconditie."))
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

    def __init__(self, choices_by_kind: dict, *args, rights: tuple[HasRight, str] | None = None, **kwargs):
        """Fill the Exact-backed choices from the administration's lists, by kind.

        `rights` (has_right, administration name) checks at Exact that the user may do what the settings need: on a
        saved connection every change is checked before it is kept.
        """
        super().__init__(*args, **kwargs)
        self.rights = rights
        for field_name, kind in self.EXACT_CHOICES.items():
            options = choices_by_kind.get(kind, [])
            field = self[field_name]
            field.choices = options if isinstance(field, MultiCheckboxField) else [SelectChoice("", _l("— kies —"))] + options

    def validate(self, extra_validators=None):
        """The fields first; only settings that are complete are worth asking Exact about."""
        if not super().validate(extra_validators):
            return False
        if self.rights:
            error = missing_rights_error(self.settings(), *self.rights)
            if error:
                self.form_errors.append(error)
                return False
        return True

    def validate_success_status(self, field):
        if self.export_work_orders.data and field.data == self.trigger_status.data:
            raise ValidationError(_l("De status na export moet anders zijn dan de status die de export start."))

    def settings(self) -> dict:
        """The chosen settings, without the CSRF token."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
