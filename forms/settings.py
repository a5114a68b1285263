"""Step 6: what OutSmart imports from Exact Online and what it exports to it.

The export's VAT rows follow the administration: one per sales rate its own VAT codes carry (exact/lists.py), built
per request by `settings_form()`; they are stored together as `vat_codes`, {rate: code}, e.g. {"21": "1", "9": "2"}.
"""
from decimal import Decimal

from babel.numbers import format_percent
from flask_babel import get_locale
from flask_babel import gettext as _
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

from exact import lists as exact_lists
from forms.rights import HasRights
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
    payment_condition = exact_choice(_l("Betalingsconditie"), _l("Kies een betalingsconditie."))
    hour_rounding = SelectField(_l("Uren afronden"), choices=HOUR_ROUNDING, default="0")
    create_missing_relations = BooleanField(_l("Ontbrekende relaties aanmaken in Exact Online"))
    create_missing_items = BooleanField(_l("Ontbrekende artikelen aanmaken in Exact Online"))

    EXACT_CHOICES = {
        "relation_types": "relation_types",
        "item_groups": "item_groups",
        "sales_journal": "journals",
        "revenue_account": "revenue_accounts",
        "payment_condition": "payment_conditions",
    }

    # Where only one answer exists, the page proposes it (never for the optional import filters).
    OBVIOUS = ("sales_journal", "revenue_account", "payment_condition")
    # How a cleared filter value is named (its field's label is a whole instruction).
    NAMED = {"relation_types": _l("Relatietype"), "item_groups": _l("Artikelgroep")}

    def __init__(self, choices_by_kind: dict, *args, vat_codes: list[dict] = (), rights: tuple[HasRights, str] | None = None,
                 **kwargs):
        """Fill the Exact-backed choices from the administration's lists, by kind; the VAT rows from its VAT codes.

        `rights` (has_rights, administration name) checks at Exact that the user may do what the settings need: on a
        saved connection every change is checked before it is kept.
        """
        if kwargs.get("data"):
            kwargs["data"] = _with_vat_rows(kwargs["data"])
        super().__init__(*args, **kwargs)
        self.rights = rights
        for field_name, kind in self.EXACT_CHOICES.items():
            options = choices_by_kind.get(kind, [])
            field = self[field_name]
            field.choices = options if isinstance(field, MultiCheckboxField) else [SelectChoice("", _l("— kies —"))] + options
        for field in self.vat_fields():
            field.offer(vat_codes)
        self._vat_descriptions = {str(row.get("Code", "")).strip(): code_label(str(row.get("Code", "")).strip(),
                                                                               row.get("Description"))
                                  for row in vat_codes}

    # The settings in sections, as the settings page groups them and the saved overview tells them. "vat" stands for
    # the administration's VAT rows.
    SECTIONS = (
        ("import", _l("Importeren naar OutSmart"),
         ("import_relations", "relation_types", "relations_include_inactive", "relations_include_blocked",
          "import_materials", "item_groups", "import_hour_types", "import_categories", "import_employees",
          "import_payments")),
        ("export", _l("Exporteren naar Exact Online"),
         ("export_work_orders", "trigger_status", "success_status", "hour_rounding", "create_missing_relations",
          "create_missing_items")),
        ("invoices", _l("Facturen in Exact Online"),
         ("document_type", "sales_journal", "revenue_account", "vat", "payment_condition")),
    )
    # A setting that only counts while another is on: the filters with their import, everything exported with the export.
    DEPENDS = {"relation_types": "import_relations", "relations_include_inactive": "import_relations",
               "relations_include_blocked": "import_relations", "item_groups": "import_materials",
               **{name: "export_work_orders" for _key, _title, names in SECTIONS[1:] for name in names
                  if name != "export_work_orders"}}
    # How the overview names a filter, and says that none was ticked.
    SUMMARY = {"relation_types": (_l("Relatietypen"), _l("Alle relatietypen")),
               "item_groups": (_l("Artikelgroepen"), _l("Alle artikelgroepen"))}

    def summary(self, stored: dict) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
        """Every stored setting in words, by section: [(key, title, [(name, label, value)])]. Exact's codes with their
        descriptions where this form's lists have them (else the code alone); on/off as words. Settings that do not
        count (a filter of an import that is off, the export's details while it is off) are left out."""
        sections = []
        for key, title, names in self.SECTIONS:
            rows = []
            for name in names:
                depends = self.DEPENDS.get(name)
                if depends and not stored.get(depends):
                    continue
                if name == "vat":
                    rows += [(f"vat_{rate}", vat_label(rate), self._code_words(code, self._vat_descriptions))
                             for rate, code in sorted((stored.get("vat_codes") or {}).items(),
                                                      key=lambda item: -_number(item[0]))]
                    continue
                field = self[name]
                label, nothing = self.SUMMARY.get(name, (field.label.text, _l("Niet gekozen")))
                rows.append((name, str(label), self._words(field, stored.get(name), str(nothing))))
            if key == "invoices" and not stored.get("export_work_orders"):
                rows = [("invoices_off", str(title), _("Niet van toepassing: het exporteren staat uit."))]
            sections.append((key, str(title), rows))
        return sections

    def _words(self, field, value, nothing: str) -> str:
        if isinstance(field, BooleanField):
            return _("Aan") if value else _("Uit")
        descriptions = {choice.value: str(choice.label) for choice in field.choices if choice.value}
        if isinstance(field, MultiCheckboxField):
            return ", ".join(descriptions.get(code, code) for code in value) if value else nothing
        if value in (None, ""):
            return nothing
        return descriptions.get(value, str(value))

    @staticmethod
    def _code_words(code: str, descriptions: dict) -> str:
        return descriptions.get(code) or code

    def vat_fields(self) -> list["VatCodeField"]:
        """The VAT rows, highest rate first."""
        return [field for field in self if isinstance(field, VatCodeField)]

    def validate(self, extra_validators=None):
        """The fields first; only settings that are complete are worth asking Exact about."""
        if not super().validate(extra_validators):
            return False
        if self.export_work_orders.data and not self.vat_fields():
            self.form_errors.append(_(
                "Deze administratie heeft geen btw-codes die OutSmart voor verkoop kan gebruiken: exclusief btw, niet "
                "geblokkeerd en niet verlegd (of de Exact Online-gebruiker mag de btw-codes niet zien). Maak ze aan in "
                "Exact Online en klik onderaan op Vernieuwen, of zet het exporteren uit."))
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
        """The chosen settings, without the CSRF token; the VAT rows as `vat_codes`, {rate: code} for those chosen."""
        chosen = {name: field.data for name, field in self._fields.items()
                  if name != "csrf_token" and not isinstance(field, VatCodeField)}
        chosen["vat_codes"] = {field.rate: field.data for field in self.vat_fields() if field.data}
        return chosen

    def propose(self, stored: dict | None) -> list[str]:
        """Make the page's proposal from `stored` settings (shown in the fields already): a code this administration
        does not have (or, for a VAT row, that does not fit it) is cleared; an empty choice with one obvious answer is
        filled in. Returns what was cleared, as "label (code)"; nothing is saved.
        """
        cleared = []
        for name in self.EXACT_CHOICES:  # in the page's order, the VAT rows between revenue account and payment
            if name == "payment_condition":
                cleared += self._clear_vat_rows(stored)
            cleared += self._clear_missing(name)
        for name in self.OBVIOUS:
            field = self[name]
            offered = [choice.value for choice in field.choices if choice.value]
            if not field.data and len(offered) == 1:
                field.data = offered[0]
        for field in self.vat_fields():
            if not field.data and len(field.fitting) == 1:
                field.data = field.fitting[0]
        return cleared

    def _clear_missing(self, name: str) -> list[str]:
        """Clear the codes of one of Exact's lists that this administration does not have; what was cleared."""
        field = self[name]
        offered = {choice.value for choice in field.choices if choice.value}
        if isinstance(field, MultiCheckboxField):
            gone = [code for code in field.data or [] if code not in offered]
            field.data = [code for code in field.data or [] if code in offered]
        else:
            gone = [field.data] if field.data and field.data not in offered else []
            field.data = "" if gone else field.data
        return [f"{self.NAMED.get(name, field.label.text)} ({code})" for code in gone]

    def _clear_vat_rows(self, stored: dict | None) -> list[str]:
        """Clear stored VAT codes that do not fit a row of this administration (or whose rate has no row here)."""
        rows = {field.rate: field for field in self.vat_fields()}
        cleared = []
        for rate, code in sorted(((stored or {}).get("vat_codes") or {}).items(), key=lambda item: -_number(item[0])):
            field = rows.get(rate)
            if field is None or not field.fits(code):
                cleared.append(f"{vat_label(rate) if _number(rate) >= 0 else rate} ({code})")
                if field is not None:
                    field.data = ""
        return cleared


class VatCodeField(SelectField):
    """One VAT row: the administration's exclusive sales codes of one rate; another code is refused in words."""

    def __init__(self, label=None, validators=None, rate: str = "0", **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self.rate = rate
        self.codes: dict[str, dict] = {}
        self.fitting: list[str] = []

    def offer(self, vat_codes: list[dict]) -> None:
        """The choices from the administration's VAT codes: those that fit this rate, in code order."""
        self.codes = {str(row.get("Code", "")).strip(): row for row in vat_codes}
        fitting = exact_lists.codes_for(vat_codes, self.rate)
        self.fitting = [str(row["Code"]).strip() for row in fitting]
        self.choices = [SelectChoice("", _l("— kies —"))] + [SelectChoice(code, code_label(code, row.get("Description")))
                                                              for code, row in zip(self.fitting, fitting)]

    def fits(self, code: str) -> bool:
        return code in self.fitting

    def pre_validate(self, form):
        """An empty row is for the validators; a code must be one that fits this row, or the admin hears why not."""
        if not self.data or self.fits(self.data):
            return
        raise ValidationError(vat_refusal(self.codes.get(self.data), self.data, self.rate))


def settings_form(choices_by_kind: dict, vat_codes: list[dict], *args, **kwargs) -> SettingsForm:
    """The settings form of one administration: its lists' choices and a VAT row per sales rate its codes carry."""
    rows = {vat_field_name(rate): VatCodeField(vat_label(rate), [RequiredWhenExporting(
                _("Kies de btw-code voor %(rate)s.", rate=percent(rate)))], rate=rate)
            for rate in exact_lists.sales_rates(vat_codes)}
    return type("SettingsForm", (SettingsForm,), rows)(choices_by_kind, *args, vat_codes=vat_codes, **kwargs)


def vat_field_name(rate: str) -> str:
    """The form field of a rate's VAT row: vat_21, vat_5_5."""
    return "vat_" + rate.replace(".", "_")


def percent(rate: str) -> str:
    """A rate ("5.5", in percent) the way the page's language writes it (Babel's format for the locale, every
    decimal kept): "5,5%" in Dutch, "5.5%" in English, "5,5 %" in French and German (a no-break space)."""
    return format_percent(Decimal(rate) / 100, locale=get_locale() or "nl", decimal_quantization=False)


def vat_label(rate: str) -> str:
    return _("Btw-code voor %(rate)s", rate=percent(rate))


def code_label(code: str, description) -> str:
    """How an Exact code is offered: with its description, when it has one."""
    return f"{code} – {description}" if description not in (None, "") else code


def vat_refusal(row: dict | None, code: str, rate: str) -> str:
    """Why `code` cannot be the VAT code of sales at `rate`, in plain words with what to do instead."""
    instead = _("Kies een btw-code voor verkoop van %(rate)s, exclusief btw.", rate=percent(rate))
    if row is None:
        return " ".join((_("Deze btw-code bestaat niet in deze administratie."), instead))
    name = code_label(code, row.get("Description"))
    reason = exact_lists.misfit(row, rate)
    if reason == exact_lists.BLOCKED:
        said = _("Btw-code %(code)s is geblokkeerd in Exact Online en mag niet meer gebruikt worden.", code=name)
    elif reason == exact_lists.CHARGED:
        said = _("Btw-code %(code)s is voor verlegde btw: daarmee berekent de factuur geen btw.", code=name)
    elif reason == exact_lists.PURCHASE_ONLY:
        said = _("Btw-code %(code)s is alleen voor inkoop.", code=name)
    elif reason == exact_lists.NOT_EXCLUSIVE:
        said = _("Btw-code %(code)s rekent met prijzen inclusief btw; OutSmart stuurt prijzen exclusief btw.",
                 code=name)
    else:
        other = exact_lists.rate_of(row)
        said = (_("Btw-code %(code)s is voor %(other)s, niet voor %(rate)s.", code=name, other=percent(other),
                  rate=percent(rate)) if other is not None else
                _("Btw-code %(code)s heeft geen btw-percentage.", code=name))
    return " ".join((said, instead))


def _with_vat_rows(settings: dict) -> dict:
    """Stored settings with their `vat_codes` spread over the VAT rows' fields, as the form reads them."""
    vat_codes = settings.get("vat_codes") or {}
    return {**settings, **{vat_field_name(rate): code for rate, code in vat_codes.items() if isinstance(rate, str)}}


def _number(rate) -> Decimal:
    """A stored rate as a number to order by; -1 for one that is not a rate."""
    try:
        number = Decimal(rate)
    except (ArithmeticError, TypeError, ValueError):
        return Decimal(-1)
    return number if number.is_finite() else Decimal(-1)
