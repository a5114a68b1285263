"""Exact failures remembered in the database and said later, in the language of whoever reads them."""
from flask_babel import get_locale

from exact import errors as exact_errors

# What each error class needs besides its message, rebuilt from the remembered key's extra part.
_ERROR_ARGUMENTS = {
    exact_errors.RateLimited: lambda extra: (0, extra if extra in ("minutely", "daily") else "minutely"),
    exact_errors.TooEarlyToRefresh: lambda extra: (0,),
    exact_errors.NoDivisionAccess: lambda extra: (extra,),
    exact_errors.DivisionBlocked: lambda extra: (extra,),
    exact_errors.CurrentDivisionNotGranted: lambda extra: (extra,),
    exact_errors.ApplicationScopeViolated: lambda extra: (extra,),
}


def is_error_key(key: str | None) -> bool:
    error_class = getattr(exact_errors, (key or "").partition(":")[0], None)
    return isinstance(error_class, type) and issubclass(error_class, exact_errors.ExactError)


def exact_error(key: str) -> exact_errors.ExactError:
    """The failure a remembered key (see ExactError.key) stands for."""
    name, _, extra = (key or "").partition(":")
    error_class = getattr(exact_errors, name) if is_error_key(key) else exact_errors.ExactError
    return error_class(*_ERROR_ARGUMENTS.get(error_class, lambda extra: ())(extra))


def exact_error_message(key: str, language: str | None = None) -> str:
    """A remembered failure, said in plain words in `language` (by default the user's)."""
    return exact_error(key).message(language or get_locale().language)


def attention_reason(key: str | None) -> str | None:
    """The reason a connection needs attention as OutSmart is told it: Exact's own term (InactiveUser, BlockedUser,
    BlockedCustomer, LicenseExpired, ApplicationScopeViolated), without what the key adds for us."""
    return key.partition(":")[0] if key else None
