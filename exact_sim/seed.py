"""Demo users and divisions of every country instance; each reset rebuilds exactly this.

Every password is "demo". A user exists on one instance only.

| Instance | Username | Name | Divisions (code: description) | Notes |
|---|---|---|---|---|
| nl | jan@bakker-installatie.nl | Jan Bakker | 101: Bakker Installatietechniek B.V. (current, main, 75 accounts, 130 items); 102: Bakker Onderhoud B.V. (0 items); 103: Bakker Verhuur B.V. (gearchiveerd) (Status 2, 0 accounts); 104: Bakker Projecten B.V. (BlockingStatus 1) | the everyday demo user |
| nl | piet@devries-klimaat.nl | Piet de Vries | 111: De Vries Klimaattechniek B.V. (current); 112: De Vries Service B.V. | lacks salesinvoice/SalesInvoices POST in both |
| nl | karin@jansen-elektro.nl | Karin Jansen | 121: Jansen Elektrotechniek B.V. (current); 122: Jansen Zonnepanelen B.V. | consent page does not pre-tick her current division |
| nl | accountant@boekhoudkantoor-smit.nl | Mark Smit | 300001: Boekhoudkantoor Smit B.V. (current, main); 300002–300250: client companies, e.g. "Installatiebedrijf De Jong B.V." in 30 cities; every 23rd archived, every 37th inactive, every 50th blocked | 250 divisions, pages of 60 |
| be | sofie@peeters-techniek.be | Sofie Peeters | 201: Peeters Techniek BV (current); 202: Peeters Sanitair BV | |
| de | max@mueller-haustechnik.de | Max Müller | 401: Müller Haustechnik GmbH (current); 402: Müller Sanitär GmbH | |
| uk | oliver@smith-plumbing.co.uk | Oliver Smith | 501: Smith Plumbing & Heating Ltd (current) | GBP |
| us | emily@johnson-hvac.com | Emily Johnson | 601: Johnson HVAC Services Inc. (current); 602: Johnson Electric LLC (a starter: one sales journal, revenue account and payment condition) | USD |
| es | carmen@garcia-instalaciones.es | Carmen García | 701: García Instalaciones S.L. (current) | |
| fr | julien@martin-chauffage.fr | Julien Martin | 801: Martin Chauffage SARL (current); 802: Martin Climatisation SAS | |

POST /_sim/seed adds a user with N generated divisions (benchmarks); see `add_scaled_user`.
"""
import zlib
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone

from .model import Division
from .model import Instance
from .model import User
from .model import stable_guid
from .settings import COUNTRIES

PASSWORD = "demo"

# The demo users' usernames (the table above), for whatever logs in as one of them: tests, benchmarks, demos.
JAN = "jan@bakker-installatie.nl"
PIET = "piet@devries-klimaat.nl"
KARIN = "karin@jansen-elektro.nl"
ACCOUNTANT = "accountant@boekhoudkantoor-smit.nl"
SOFIE = "sofie@peeters-techniek.be"
MAX = "max@mueller-haustechnik.de"
OLIVER = "oliver@smith-plumbing.co.uk"
EMILY = "emily@johnson-hvac.com"
CARMEN = "carmen@garcia-instalaciones.es"
JULIEN = "julien@martin-chauffage.fr"
# The one country instance each demo user exists on.
USER_COUNTRY = {JAN: "nl", PIET: "nl", KARIN: "nl", ACCOUNTANT: "nl", SOFIE: "be", MAX: "de", OLIVER: "uk", EMILY: "us",
                CARMEN: "es", JULIEN: "fr"}

# Seeded dates are fixed, not "now", so a reset never changes the data a test compares.
SEED_EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class Profile:
    """What a country instance puts on its divisions and users."""

    iso: str
    currency: str
    language_code: str
    legislation: int
    cities: tuple[str, ...]


PROFILES = {
    "nl": Profile("NL", "EUR", "nl-NL", 1, (
        "Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Tilburg", "Almere", "Breda", "Nijmegen",
        "Apeldoorn", "Haarlem", "Arnhem", "Enschede", "Amersfoort", "Zaandam", "Den Bosch", "Zwolle", "Leiden", "Maastricht",
        "Dordrecht", "Zoetermeer", "Deventer", "Delft", "Alkmaar", "Venlo", "Leeuwarden", "Hilversum", "Assen", "Middelburg")),
    "be": Profile("BE", "EUR", "nl-BE", 2, ("Gent", "Antwerpen", "Brugge", "Leuven", "Aalst", "Hasselt")),
    "de": Profile("DE", "EUR", "de-DE", 4, ("München", "Augsburg", "Köln", "Hamburg", "Berlin", "Stuttgart")),
    "uk": Profile("GB", "GBP", "en-GB", 5, ("Leeds", "Manchester", "Bristol", "York", "London", "Sheffield")),
    "us": Profile("US", "USD", "en-US", 6, ("Denver", "Boulder", "Austin", "Portland", "Chicago", "Boston")),
    "es": Profile("ES", "EUR", "es-ES", 7, ("Valencia", "Madrid", "Sevilla", "Bilbao", "Málaga", "Zaragoza")),
    "fr": Profile("FR", "EUR", "fr-FR", 8, ("Lyon", "Villeurbanne", "Paris", "Lille", "Nantes", "Bordeaux")),
}

CLIENT_TRADES = (
    "Installatiebedrijf", "Loodgietersbedrijf", "Elektrotechniek", "Klimaattechniek", "Dakdekkersbedrijf",
    "Schildersbedrijf", "Bouwbedrijf", "Hoveniersbedrijf", "Schoonmaakbedrijf", "Beveiligingstechniek")
CLIENT_SURNAMES = (
    "De Jong", "Jansen", "De Vries", "Van den Berg", "Van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer",
    "De Boer", "Mulder", "De Groot", "Bos", "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker", "Brouwer",
    "De Wit", "Dijkstra", "Smits", "De Graaf", "Van der Meer")
CLIENT_LEGAL_FORMS = ("B.V.", "V.O.F.", "Holding B.V.", "& Zn.")


def demo_instances() -> dict[str, Instance]:
    """Build every country instance with its demo users, as listed in the module docstring."""
    instances = {cc: Instance(cc) for cc in COUNTRIES}
    _add(instances["nl"], JAN, "Jan", "Bakker", "Bakker Holding B.V.", [
        (101, "Bakker Installatietechniek B.V.", "Zwolle", {"is_main": True, "account_count": 75, "item_count": 130}),
        (102, "Bakker Onderhoud B.V.", "Zwolle", {"account_count": 12, "item_count": 0}),
        (103, "Bakker Verhuur B.V. (gearchiveerd)", "Kampen",
         {"status": 2, "archive_date": SEED_EPOCH + 900 * 86400, "account_count": 0, "item_count": 4}),
        (104, "Bakker Projecten B.V.", "Deventer", {"blocking_status": 1, "account_count": 5, "item_count": 8}),
    ])
    piet = _add(instances["nl"], PIET, "Piet", "de Vries", "De Vries Klimaat Groep B.V.", [
        (111, "De Vries Klimaattechniek B.V.", "Amersfoort", {"is_main": True, "account_count": 20, "item_count": 15}),
        (112, "De Vries Service B.V.", "Amersfoort", {"account_count": 6, "item_count": 3}),
    ])
    piet.denied = {code: {("salesinvoice/salesinvoices", "POST")} for code in piet.divisions}
    karin = _add(instances["nl"], KARIN, "Karin", "Jansen", "Jansen Elektro B.V.", [
        (121, "Jansen Elektrotechniek B.V.", "Tilburg", {"is_main": True, "account_count": 9, "item_count": 12}),
        (122, "Jansen Zonnepanelen B.V.", "Breda", {"account_count": 4, "item_count": 6}),
    ])
    karin.consent_excludes_current = True
    _add_accountant(instances["nl"])
    _add(instances["be"], SOFIE, "Sofie", "Peeters", "Peeters Groep BV", [
        (201, "Peeters Techniek BV", "Gent", {"is_main": True, "account_count": 14, "item_count": 10}),
        (202, "Peeters Sanitair BV", "Aalst", {"account_count": 7, "item_count": 5}),
    ])
    _add(instances["de"], MAX, "Max", "Müller", "Müller Gruppe GmbH", [
        (401, "Müller Haustechnik GmbH", "München", {"is_main": True, "account_count": 11, "item_count": 9}),
        (402, "Müller Sanitär GmbH", "Augsburg", {"account_count": 3, "item_count": 2}),
    ])
    _add(instances["uk"], OLIVER, "Oliver", "Smith", "Smith Plumbing & Heating Ltd", [
        (501, "Smith Plumbing & Heating Ltd", "Leeds", {"is_main": True, "account_count": 8, "item_count": 6}),
    ])
    _add(instances["us"], EMILY, "Emily", "Johnson", "Johnson Holdings Inc.", [
        (601, "Johnson HVAC Services Inc.", "Denver", {"is_main": True, "account_count": 10, "item_count": 7}),
        (602, "Johnson Electric LLC", "Boulder", {"account_count": 2, "item_count": 1, "starter": True}),
    ])
    _add(instances["es"], CARMEN, "Carmen", "García", "García Instalaciones S.L.", [
        (701, "García Instalaciones S.L.", "Valencia", {"is_main": True, "account_count": 6, "item_count": 4}),
    ])
    _add(instances["fr"], JULIEN, "Julien", "Martin", "Groupe Martin SAS", [
        (801, "Martin Chauffage SARL", "Lyon", {"is_main": True, "account_count": 9, "item_count": 5}),
        (802, "Martin Climatisation SAS", "Villeurbanne", {"account_count": 2, "item_count": 2}),
    ])
    return instances


def add_scaled_user(instance: Instance, username: str, division_count: int, first_name: str = "Schaal",
                    last_name: str = "Test", password: str = PASSWORD, denied: frozenset = frozenset()) -> User:
    """Add a user with generated client divisions numbered after the instance's highest code; `denied` applies to all."""
    if division_count < 1:
        raise ValueError("divisions must be at least 1")
    if instance.user(username):
        raise ValueError(f"User {username} already exists on {instance.cc}")
    first_code = max([*instance.divisions, 900000]) + 1
    divisions = [_client_division(instance.cc, first_code + index, index) for index in range(division_count)]
    user = _user(instance.cc, username, first_name, last_name, divisions, password)
    user.denied = {division.code: {(endpoint.lower(), action.upper()) for endpoint, action in denied}
                   for division in divisions}
    instance.add_user(user, divisions)
    return user


def _add(instance: Instance, username: str, first_name: str, last_name: str, owner: str, specs: list) -> User:
    """Add a demo user whose divisions all belong to one licence owner; the first division is the current one."""
    divisions = [_division(instance.cc, code, description, city, owner, **extra) for code, description, city, extra in specs]
    user = _user(instance.cc, username, first_name, last_name, divisions)
    instance.add_user(user, divisions)
    return user


def _add_accountant(instance: Instance) -> None:
    """Add the accountant: an own office division plus 249 client divisions with varied names, cities and states."""
    own = _division(instance.cc, 300001, "Boekhoudkantoor Smit B.V.", "Utrecht", "Boekhoudkantoor Smit B.V.",
                    is_main=True, account_count=40, item_count=2)
    clients = [_client_division(instance.cc, 300001 + index, index) for index in range(1, 250)]
    divisions = [own, *clients]
    instance.add_user(_user(instance.cc, ACCOUNTANT, "Mark", "Smit", divisions), divisions)


def _client_division(cc: str, code: int, index: int) -> Division:
    """Generate client company number `index`: every trade/surname pair once per 250, with some archived, inactive or blocked."""
    trade = CLIENT_TRADES[index % len(CLIENT_TRADES)]
    surname = CLIENT_SURNAMES[index // len(CLIENT_TRADES) % len(CLIENT_SURNAMES)]
    name = f"{trade} {surname} {CLIENT_LEGAL_FORMS[index % len(CLIENT_LEGAL_FORMS)]}"
    cities = PROFILES[cc].cities
    extra = {"account_count": code * 7 % 45, "item_count": code * 11 % 70}
    if index % 23 == 5:
        extra.update(status=2, archive_date=SEED_EPOCH + (400 + index) * 86400)
    elif index % 37 == 11:
        extra.update(status=0)
    if index % 50 == 7:
        extra.update(blocking_status=1)
    return _division(cc, code, name, cities[(index * 7) % len(cities)], name, is_main=True, **extra)


def _division(cc: str, code: int, description: str, city: str, owner: str, **extra) -> Division:
    """Fill in the fields every division derives from its country and licence owner."""
    profile = PROFILES[cc]
    return Division(
        code=code, description=description, country=profile.iso, currency=profile.currency, city=city,
        customer=stable_guid("customer", cc, owner), customer_code=str(100000 + zlib.crc32(owner.encode()) % 900000),
        customer_name=owner, vat_number=_vat_number(profile.iso, code), legislation=profile.legislation,
        start_date=SEED_EPOCH + (code % 365) * 86400, **extra)


def _user(cc: str, username: str, first_name: str, last_name: str, divisions: list[Division],
          password: str = PASSWORD) -> User:
    """Create a user of `cc` who can access `divisions` and currently works in the first of them."""
    return User(
        user_id=stable_guid("user", cc, username.lower()), username=username, password=password, first_name=first_name,
        last_name=last_name, language_code=PROFILES[cc].language_code, current_division=divisions[0].code,
        divisions=[division.code for division in divisions])


def _vat_number(iso: str, code: int) -> str:
    """A plausible-looking VAT number in the country's format (the US has none)."""
    digits = f"{code * 7919 % 1000000000:09d}"
    return {"NL": f"NL{digits}B01", "BE": f"BE0{digits}", "US": ""}.get(iso, f"{iso}{digits}")
