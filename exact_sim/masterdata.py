"""Read-only master data collections per division, generated deterministically from the division so each looks different."""
import random
from dataclasses import dataclass
from typing import Callable

from .clock import DAY
from .clock import odata_date
from .model import Division
from .model import stable_guid


@dataclass(frozen=True)
class Entity:
    """A collection endpoint: its OData type name, the fields every row has, and how to build the rows."""

    type_name: str
    fields: tuple[str, ...]
    build: Callable[[Division], list[dict]]


# Each catalogue row: (code, Dutch description, English description, *type-specific values); rows after `always` are optional.
JOURNALS = (
    ("10", "Kas", "Cash", 10), ("20", "Bank", "Bank", 12), ("60", "Inkoopboek", "Purchase journal", 22),
    ("70", "Verkoopboek", "Sales journal", 20), ("90", "Memoriaal", "General journal", 90),
    ("21", "Bank spaarrekening", "Savings account", 12), ("71", "Verkoopboek service", "Service sales journal", 20),
    ("72", "Verkoopboek projecten", "Project sales journal", 20))
GL_ACCOUNTS = (
    ("1000", "Kas", "Cash", "D", "B"), ("1100", "Bank", "Bank", "D", "B"),
    ("1300", "Debiteuren", "Accounts receivable", "D", "B"), ("1500", "Af te dragen btw", "VAT payable", "C", "B"),
    ("1600", "Crediteuren", "Accounts payable", "C", "B"), ("4000", "Lonen en salarissen", "Wages and salaries", "D", "W"),
    ("7000", "Inkoopwaarde van de omzet", "Cost of sales", "D", "W"),
    ("8000", "Omzet hoog", "Revenue high VAT", "C", "W"), ("8010", "Omzet laag", "Revenue low VAT", "C", "W"),
    ("8020", "Omzet verlegd", "Revenue reverse charge", "C", "W"),
    ("8030", "Omzet export buiten EU", "Revenue export outside EU", "C", "W"),
    ("8040", "Omzet binnen EU", "Revenue intra-EU", "C", "W"),
    ("8100", "Omzet onderhoudscontracten", "Revenue maintenance contracts", "C", "W"),
    ("8200", "Omzet installatie", "Revenue installation", "C", "W"), ("8300", "Omzet arbeid", "Revenue labour", "C", "W"),
    ("8900", "Overige opbrengsten", "Other income", "C", "W"))
PAYMENT_CONDITIONS = (
    ("00", "Contant", "Cash", 0), ("14", "14 dagen", "14 days", 14), ("30", "30 dagen", "30 days", 30),
    ("08", "8 dagen", "8 days", 8), ("60", "60 dagen", "60 days", 60))
ITEM_GROUPS = (
    ("1", "Materialen", "Materials"), ("2", "Arbeid", "Labour"), ("3", "Verhuur", "Rental"),
    ("4", "Onderhoudscontracten", "Maintenance contracts"), ("10", "Zonnepanelen", "Solar panels"))
ACCOUNT_CLASSIFICATIONS = (
    ("A", "Particulier", "Private customer"), ("B", "Zakelijk", "Business"), ("C", "Overheid", "Government"),
    ("D", "Woningcorporatie", "Housing association"))
# VAT codes by country, described in the country's language as its admins set them up:
# (code, description, Percentage (a fraction), Type, VATTransactionType, IsBlocked, Charged).
# Type: E excluding VAT, I including, B 0 % with only the base amount, N no VAT. VATTransactionType: S sales,
# P purchase, B both. IsBlocked: no longer to be used. Charged: reverse charge ("verlegd": the customer accounts for it).
# Each country's real sales rates have exactly one exclusive sales code; around them codes that must not be taken for
# one: inclusive, purchase-only, blocked and reverse-charged ones.
VAT_CODES = {
    "NL": (("0", "Geen btw", 0.0, "N", "B", False, False), ("1", "Btw hoog 21%", 0.21, "E", "B", False, False),
           ("2", "Btw laag 9%", 0.09, "E", "S", False, False), ("3", "Btw hoog 21% incl.", 0.21, "I", "S", False, False),
           ("4", "Btw laag 6% (vervallen)", 0.06, "E", "S", True, False),
           ("5", "Btw verlegd", 0.0, "E", "S", False, True), ("6", "Btw inkopen hoog 21%", 0.21, "E", "P", False, False)),
    "BE": (("00", "Btw 0%", 0.0, "B", "B", False, False), ("01", "Btw 6%", 0.06, "E", "B", False, False),
           ("02", "Btw 12%", 0.12, "E", "B", False, False), ("03", "Btw 21%", 0.21, "E", "B", False, False),
           ("04", "Medecontractant (btw verlegd)", 0.0, "E", "S", False, True),
           ("05", "Btw 21% inclusief", 0.21, "I", "S", False, False),
           ("06", "Btw 21% aankopen investeringen", 0.21, "E", "P", False, False)),
    "DE": (("0", "Steuerfrei", 0.0, "N", "B", False, False), ("1", "Umsatzsteuer 19%", 0.19, "E", "S", False, False),
           ("2", "Umsatzsteuer 7%", 0.07, "E", "S", False, False), ("3", "Vorsteuer 19%", 0.19, "E", "P", False, False),
           ("4", "Vorsteuer 7%", 0.07, "E", "P", False, False),
           ("5", "Steuerschuldnerschaft des Leistungsempfängers", 0.0, "E", "S", False, True),
           ("6", "Umsatzsteuer 16% (Corona)", 0.16, "E", "S", True, False)),
    "GB": (("0", "Zero rated", 0.0, "B", "B", False, False), ("1", "Standard rate 20%", 0.2, "E", "B", False, False),
           ("2", "Reduced rate 5%", 0.05, "E", "B", False, False),
           ("3", "Domestic reverse charge 20%", 0.2, "E", "S", False, True),
           ("4", "Standard rate 20% (VAT inclusive)", 0.2, "I", "S", False, False),
           ("5", "Reduced rate 12.5% (hospitality)", 0.125, "E", "S", True, False)),
    "US": (("0", "No tax", 0.0, "N", "B", False, False), ("1", "Sales tax 8.25%", 0.0825, "E", "S", False, False)),
    "ES": (("1", "IVA 21%", 0.21, "E", "B", False, False), ("2", "IVA 10%", 0.1, "E", "B", False, False),
           ("3", "IVA 4%", 0.04, "E", "B", False, False), ("4", "IVA soportado 21%", 0.21, "E", "P", False, False),
           ("5", "Inversión del sujeto pasivo", 0.0, "E", "S", False, True),
           ("6", "IVA 21% incluido", 0.21, "I", "S", False, False)),
    "FR": (("1", "TVA 20%", 0.2, "E", "B", False, False), ("2", "TVA 10%", 0.1, "E", "B", False, False),
           ("3", "TVA 5,5%", 0.055, "E", "B", False, False), ("4", "TVA 2,1%", 0.021, "E", "B", False, False),
           ("5", "Autoliquidation", 0.0, "E", "S", False, True), ("6", "TVA 20% TTC", 0.2, "I", "S", False, False),
           ("7", "TVA 7% (ancien taux)", 0.07, "E", "S", True, False)),
}
ACCOUNT_NAMES = {
    "nl": ("Fam. {surname}", "{surname} Vastgoed B.V.", "VvE {street}", "Woonstichting {city}", "Bakkerij {surname}",
           "Tandartspraktijk {surname}", "Hotel {street}", "Basisschool De {tree}", "Sportschool {surname}", "Garage {surname}"),
    "en": ("{surname} family", "{surname} Properties", "{street} Residents' Association", "{city} Housing", "{surname} Bakery",
           "{surname} Dental Practice", "{street} Hotel", "{tree} Primary School", "{surname} Fitness", "{surname} Motors"),
}
SURNAMES = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Visser", "Meijer", "de Boer", "Mulder", "Bos",
            "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Dijkstra", "de Graaf", "van der Meer", "Kok", "Willems")
STREETS = ("Lindelaan", "Kerkstraat", "Stationsweg", "Molenweg", "Dorpsstraat", "Parkzicht", "Havenkade", "Beukenhof")
TREES = ("Eik", "Linde", "Wilg", "Esdoorn", "Beuk", "Berk")
CITIES = ("Zwolle", "Utrecht", "Deventer", "Amersfoort", "Tilburg", "Breda", "Gent", "Leeds", "Denver", "Lyon")
ITEMS = (
    ("CV-ketel HR 28 kW", "Combi boiler 28 kW", "1"), ("Warmtepomp lucht/water 8 kW", "Air-to-water heat pump 8 kW", "1"),
    ("Thermostaat slim", "Smart thermostat", "1"), ("Radiator 600x1000", "Radiator 600x1000", "1"),
    ("Koperen buis 15 mm (m)", "Copper pipe 15 mm (m)", "1"), ("Expansievat 18 l", "Expansion vessel 18 l", "1"),
    ("Montage-uur", "Installation hour", "2"), ("Voorrijkosten", "Call-out charge", "2"),
    ("Storingsdienst-uur", "Emergency hour", "2"),
    ("Onderhoudsbeurt cv", "Boiler service", "4"), ("Huur bouwdroger (dag)", "Dehumidifier rental (day)", "3"),
    ("Zonnepaneel 410 Wp", "Solar panel 410 Wp", "1"), ("Omvormer 5 kW", "Inverter 5 kW", "1"),
    ("Groepenkast 8 groepen", "Consumer unit 8 ways", "1"), ("Airco split-unit 3,5 kW", "Split air conditioner 3.5 kW", "1"))


def _dutch(division: Division) -> bool:
    """Dutch-speaking instances get Dutch descriptions; the others get English."""
    return division.country in ("NL", "BE")


def _rng(division: Division, entity: str) -> random.Random:
    """A random source that is the same for the same division and entity after every reset."""
    return random.Random(f"{division.code}/{entity}")


# What a starter administration holds (Division.starter): one sales journal, one revenue account, one payment condition.
STARTER = {"journals": {"10", "20", "60", "70", "90"}, "glaccounts": {"1000", "1100", "1300", "1500", "1600", "8000"},
           "paymentconditions": {"30"}}


def _pick(division: Division, entity: str, catalogue: tuple, always: int) -> list[tuple]:
    """The first `always` catalogue rows plus a division-specific selection of the optional ones; a starter
    administration holds only the rows of STARTER."""
    if division.starter and entity in STARTER:
        return [row for row in catalogue if row[0] in STARTER[entity]]
    rng = _rng(division, entity)
    return [*catalogue[:always], *(row for row in catalogue[always:] if rng.random() < 0.5)]


def _stamp(division: Division, entity: str, number: int) -> dict:
    """ID and Created/Modified dates of row `number`."""
    created = division.start_date + number * DAY
    return {"ID": stable_guid(division.code, entity, number), "Created": odata_date(created),
            "Modified": odata_date(created + 30 * DAY)}


def journals(division: Division) -> list[dict]:
    """Journals (dagboeken): Type 10 cash, 12 bank, 20 sales, 22 purchase, 90 general."""
    language = 1 if _dutch(division) else 2
    return [{**_stamp(division, "journals", n), "Code": row[0], "Description": row[language], "Type": row[3],
             "Currency": division.currency}
            for n, row in enumerate(_pick(division, "journals", JOURNALS, 5))]


def gl_accounts(division: Division) -> list[dict]:
    """GL accounts: BalanceType W = profit and loss, B = balance sheet; several revenue (8xxx) accounts."""
    language = 1 if _dutch(division) else 2
    return [{**_stamp(division, "glaccounts", n), "Code": row[0], "Description": row[language], "BalanceSide": row[3],
             "BalanceType": row[4]}
            for n, row in enumerate(_pick(division, "glaccounts", GL_ACCOUNTS, 10))]


def vat_codes(division: Division) -> list[dict]:
    """The country's VAT codes (VAT_CODES), in the country's language; Percentage is a fraction (0.21)."""
    return [{**_stamp(division, "vatcodes", n), "Code": code, "Description": description, "Percentage": percentage,
             "Type": vat_type, "VATTransactionType": transactions, "IsBlocked": blocked, "Charged": charged}
            for n, (code, description, percentage, vat_type, transactions, blocked, charged)
            in enumerate(VAT_CODES[division.country])]


def payment_conditions(division: Division) -> list[dict]:
    """Payment conditions with their number of days."""
    language = 1 if _dutch(division) else 2
    return [{**_stamp(division, "paymentconditions", n), "Code": row[0], "Description": row[language],
             "PaymentDays": row[3]}
            for n, row in enumerate(_pick(division, "paymentconditions", PAYMENT_CONDITIONS, 3))]


def item_groups(division: Division) -> list[dict]:
    """Item groups (artikelgroepen)."""
    language = 1 if _dutch(division) else 2
    return [{**_stamp(division, "itemgroups", n), "Code": row[0], "Description": row[language]}
            for n, row in enumerate(_pick(division, "itemgroups", ITEM_GROUPS, 2))]


def account_classifications(division: Division) -> list[dict]:
    """Account classifications (relatieclassificaties)."""
    language = 1 if _dutch(division) else 2
    return [{**_stamp(division, "accountclassifications", n), "Code": row[0], "Description": row[language]}
            for n, row in enumerate(_pick(division, "accountclassifications", ACCOUNT_CLASSIFICATIONS, 2))]


def accounts(division: Division) -> list[dict]:
    """Accounts (relaties); Code is right-aligned to 18 characters as Exact stores it."""
    rng = _rng(division, "accounts")
    patterns = ACCOUNT_NAMES["nl" if _dutch(division) else "en"]
    rows = []
    for n in range(division.account_count):
        name = rng.choice(patterns).format(surname=rng.choice(SURNAMES), street=rng.choice(STREETS),
                                           city=rng.choice(CITIES), tree=rng.choice(TREES))
        rows.append({**_stamp(division, "accounts", n), "Code": str(n + 1).rjust(18), "Name": name,
                     "City": rng.choice(CITIES), "Country": division.country, "Email": f"info{n + 1}@example.com",
                     "Status": rng.choice("CCCPS"), "IsSupplier": rng.random() < 0.15, "Blocked": rng.random() < 0.05})
    return rows


def items(division: Division) -> list[dict]:
    """Items (artikelen) with their item group code."""
    rng = _rng(division, "items")
    language = 0 if _dutch(division) else 1
    rows = []
    for n in range(division.item_count):
        description, group = ITEMS[n % len(ITEMS)][language], ITEMS[n % len(ITEMS)][2]
        if n >= len(ITEMS):
            description = f"{description} ({n // len(ITEMS) + 1})"
        rows.append({**_stamp(division, "items", n), "Code": f"ART{n + 1:04d}", "Description": description,
                     "ItemGroupCode": group, "IsSalesItem": rng.random() < 0.9, "IsPurchaseItem": group == "1",
                     "IsStockItem": group == "1" and rng.random() < 0.6, "Unit": "uur" if group == "2" else "stuk",
                     "CostPriceStandard": round(rng.uniform(5, 2500), 2)})
    return rows


_STAMP = ("ID", "Created", "Modified")

ENTITIES = {
    "financial/Journals": Entity("Exact.Web.Api.Models.Financial.Journal",
                                 (*_STAMP, "Code", "Description", "Type", "Currency"), journals),
    "financial/GLAccounts": Entity("Exact.Web.Api.Models.Financial.GLAccount",
                                   (*_STAMP, "Code", "Description", "BalanceSide", "BalanceType"), gl_accounts),
    "vat/VATCodes": Entity("Exact.Web.Api.Models.VATCode",
                           (*_STAMP, "Code", "Description", "Percentage", "Type", "VATTransactionType",
                            "IsBlocked", "Charged"), vat_codes),
    "cashflow/PaymentConditions": Entity("Exact.Web.Api.Models.Cashflow.PaymentCondition",
                                         (*_STAMP, "Code", "Description", "PaymentDays"), payment_conditions),
    "logistics/ItemGroups": Entity("Exact.Web.Api.Models.Logistics.ItemGroup",
                                   (*_STAMP, "Code", "Description"), item_groups),
    "crm/AccountClassifications": Entity("Exact.Web.Api.Models.CRM.AccountClassification",
                                         (*_STAMP, "Code", "Description"), account_classifications),
    "crm/Accounts": Entity("Exact.Web.Api.Models.Account",
                           (*_STAMP, "Code", "Name", "City", "Country", "Email", "Status", "IsSupplier", "Blocked"), accounts),
    "logistics/Items": Entity("Exact.Web.Api.Models.Logistics.Item",
                              (*_STAMP, "Code", "Description", "ItemGroupCode", "IsSalesItem", "IsPurchaseItem", "IsStockItem",
                               "Unit", "CostPriceStandard"), items),
}
