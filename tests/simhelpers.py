"""The test suite's handle on exact_sim: the server over real HTTP (exact_sim/server.py), the demo users it seeds
(exact_sim/seed.py), and what the tests expect Exact to answer. Tests import these from here, one place."""
from exact_sim.seed import ACCOUNTANT
from exact_sim.seed import CARMEN
from exact_sim.seed import EMILY
from exact_sim.seed import JAN
from exact_sim.seed import JULIEN
from exact_sim.seed import KARIN
from exact_sim.seed import MAX
from exact_sim.seed import OLIVER
from exact_sim.seed import PASSWORD
from exact_sim.seed import PIET
from exact_sim.seed import SOFIE
from exact_sim.seed import USER_COUNTRY
from exact_sim.server import CLIENT_ID
from exact_sim.server import CLIENT_SECRET
from exact_sim.server import PKCE_VERIFIER
from exact_sim.server import REDIRECT_URI
from exact_sim.server import LoginFailed
from exact_sim.server import SimServer

__all__ = ["ACCOUNTANT", "CARMEN", "EMILY", "JAN", "JULIEN", "KARIN", "MAX", "OLIVER", "PASSWORD", "PIET", "SOFIE",
           "USER_COUNTRY", "CLIENT_ID", "CLIENT_SECRET", "PKCE_VERIFIER", "REDIRECT_URI", "LoginFailed", "SimServer", "CHAIN_ERROR"]

# Exact's own words for a token whose grant chain is gone (revoked, replaced or unknown), as the tests expect them.
CHAIN_ERROR = "Token is not allowed, because of invalid or empty chainId"
