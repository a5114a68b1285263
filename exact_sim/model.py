"""The simulated world: country instances, their users and divisions (administraties)."""
import uuid
from dataclasses import dataclass
from dataclasses import field


@dataclass
class Division:
    """One administratie with the system/Divisions fields Exact documents (§2.3)."""

    code: int
    description: str
    country: str
    currency: str
    city: str
    customer: str
    customer_code: str
    customer_name: str
    vat_number: str
    legislation: int
    start_date: float
    status: int = 1
    blocking_status: int = 0
    archive_date: float | None = None
    is_main: bool = False
    account_count: int = 0
    item_count: int = 0
    starter: bool = False  # a new administration: one sales journal, revenue account and payment condition


@dataclass
class User:
    """A user of one country instance; rights are everything except the denied (endpoint, action) pairs per division."""

    user_id: str
    username: str
    password: str
    first_name: str
    last_name: str
    language_code: str
    current_division: int
    divisions: list[int]
    denied: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    consent_excludes_current: bool = False

    @property
    def full_name(self) -> str:
        """First and last name as Exact shows them."""
        return f"{self.first_name} {self.last_name}"

    def may(self, division: int, endpoint: str, action: str) -> bool:
        """Tell whether the user holds the right; endpoints compare case-insensitively as UserHasRights does."""
        return (endpoint.lower(), action.upper()) not in self.denied.get(division, set())


@dataclass
class Instance:
    """One country's Exact Online: users are local to it, the registered app is not."""

    cc: str
    users: dict[str, User] = field(default_factory=dict)
    divisions: dict[int, Division] = field(default_factory=dict)

    def user(self, username: str) -> User | None:
        """Find a user by login name, ignoring case as e-mail addresses do."""
        return self.users.get(username.strip().lower())

    def add_user(self, user: User, divisions: list[Division]) -> None:
        """Register a user together with the divisions they can access."""
        self.users[user.username.lower()] = user
        for division in divisions:
            self.divisions[division.code] = division


def stable_guid(*parts) -> str:
    """A GUID derived from its parts, so seeded IDs are the same after every reset."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "/".join(str(part) for part in parts)))


_GUID_NAMESPACE = uuid.UUID("6f1c2a57-0d7e-4b8a-9a3e-5e0b1c2d3e4f")
