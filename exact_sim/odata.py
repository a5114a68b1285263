"""The OData v2 query options the simulator honours: $select, $filter (`eq` clauses joined by `and`), $top, $skiptoken."""
import re

SYNTAX_ERROR = "Bad Request - Error in query syntax."

# A literal ends at whitespace or the end, so "trueand" is a syntax error rather than `true and`.
_LITERAL = r"(?:guid'[0-9a-fA-F-]{36}'|'(?:[^']|'')*'|true|false|-?\d+(?:\.\d+)?L?)(?=\s|$)"
_CLAUSE = re.compile(rf"\s*(\w+)\s+eq\s+({_LITERAL})\s*")
_AND = re.compile(r"and\s+")


class ODataError(Exception):
    """A REST refusal rendered as Exact's error envelope, with optional extra headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Guid(str):
    """A `guid'…'` literal (lower case), which compares without regard to case."""


def parse_select(text: str | None, fields: tuple[str, ...]) -> list[str] | None:
    """The fields named by $select in the order given; None means all fields."""
    if not text or text.strip() == "*":
        return None
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise ODataError(400, SYNTAX_ERROR)
    for name in names:
        if name not in fields:
            raise ODataError(400, f"Could not find a property named '{name}'.")
    return names


def parse_filter(text: str | None, fields: tuple[str, ...]) -> list[tuple[str, object]]:
    """The (field, value) pairs of a $filter made of `Field eq literal` clauses joined by `and`."""
    if not text:
        return []
    clauses, position = [], 0
    while True:
        clause = _CLAUSE.match(text, position)
        if clause is None:
            raise ODataError(400, SYNTAX_ERROR)
        clauses.append((clause.group(1), _literal(clause.group(2))))
        position = clause.end()
        if position == len(text):
            break
        conjunction = _AND.match(text, position)
        if conjunction is None:
            raise ODataError(400, SYNTAX_ERROR)
        position = conjunction.end()
    unsupported = [name for name, _ in clauses if name not in fields]
    if unsupported:
        raise ODataError(400, f"Filtering on these fields is not supported: {', '.join(unsupported)}")
    return clauses


def matches(row: dict, clauses: list[tuple[str, object]]) -> bool:
    """Tell whether a row satisfies every clause of a parsed $filter."""
    return all(_equal(row[name], value) for name, value in clauses)


def paginate(rows: list[dict], key: str, args, page_size: int) -> tuple[list[dict], dict | None]:
    """One page of rows ordered by `key`, and the query arguments of the next page (None on the last page)."""
    top = _top(args.get("$top"))
    rows = sorted(rows, key=lambda row: _sortable(row[key]))
    if args.get("$skiptoken") is not None:
        after = _skiptoken(args["$skiptoken"])
        if rows and isinstance(after, str) != isinstance(rows[0][key], str):
            raise ODataError(400, SYNTAX_ERROR)
        rows = [row for row in rows if _sortable(row[key]) > after]
    size = page_size if top is None else min(top, page_size)
    page = rows[:size]
    if len(rows) <= size or (top is not None and top <= size):
        return page, None
    next_args = {name: value for name, value in args.items() if name != "$skiptoken"}
    if top is not None:
        next_args["$top"] = str(top - size)
    last = page[-1][key]
    next_args["$skiptoken"] = f"guid'{last}'" if isinstance(last, str) else str(last)
    return page, next_args


def _literal(text: str):
    """Convert a filter literal to the Python value it denotes."""
    if text.startswith("guid'"):
        return Guid(text[5:-1].lower())
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    number = text.removesuffix("L")
    return float(number) if "." in number else int(number)


def _equal(value, literal) -> bool:
    """Compare a row value with a literal; values of another type never match (true is not 1)."""
    if isinstance(literal, Guid):
        return isinstance(value, str) and value.lower() == literal
    # Python's True == 1, OData's true is not.
    if isinstance(literal, bool) != isinstance(value, bool):
        return False
    return value == literal


def _top(text: str | None) -> int | None:
    """The $top value, if any."""
    if text is None:
        return None
    if not text.isdigit():
        raise ODataError(400, SYNTAX_ERROR)
    return int(text)


def _skiptoken(text: str):
    """The key after which the requested page starts: `guid'…'` or an integer (optionally with an L suffix)."""
    if re.fullmatch(r"guid'[0-9a-fA-F-]{36}'", text):
        return text[5:-1].lower()
    if re.fullmatch(r"\d+L?", text):
        return int(text.removesuffix("L"))
    raise ODataError(400, SYNTAX_ERROR)


def _sortable(key):
    """Keys order as integers or as lower-case GUID strings."""
    return key.lower() if isinstance(key, str) else key
