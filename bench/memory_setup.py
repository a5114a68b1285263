"""Run in a subprocess: build the app, do a complete setup against the running simulator, print ru_maxrss (KB)."""
import json
import os
import resource
import sys
import tempfile

from bench import env
from exact_sim.server import SimServer


class RemoteSim:
    """The parent's simulator, reached over HTTP (only what bench.browser needs)."""

    login = SimServer.login

    def __init__(self, url):
        from exact_sim.settings import COUNTRIES

        self.url = url
        self.base_urls_setting = ",".join(f"{cc}={url}/{cc}" for cc in COUNTRIES)


def main():
    from bench.browser import expect
    from bench.browser import save
    from bench.inprocess import to_draft

    sim = RemoteSim(sys.argv[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        app = env.create(os.path.join(tmp, "memory.sqlite"), sim)
        client = app.test_client()
        to_draft(client, sim)
        expect(save(client), 303)
        expect(client.get("/exact"), 200)
        expect(client.get("/exact/instellingen"), 200)
    print(json.dumps({"ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "before_app_kb": before}))


if __name__ == "__main__":
    main()
