"""Run the simulator: python -m exact_sim --port 5001 [--host 127.0.0.1] [--mode demo|test|plain] [--redirect-uri URL]."""
import argparse

from . import create_app
from .settings import COUNTRIES
from .settings import DEMO_LATENCY_MS
from .settings import MODES


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m exact_sim", description="Serve a simulated Exact Online.")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--mode", choices=MODES, default="demo",
                        help="demo: /_sim on, demo users on the login page; test: /_sim on; plain: no /_sim")
    parser.add_argument("--redirect-uri", help="the registered redirect URI of the app (exact match)")
    parser.add_argument("--latency-ms", type=float, default=None,
                        help="how long every API call waits before it is answered, as Exact's do (demo: 200, else 0)")
    args = parser.parse_args(argv)
    settings = {"mode": args.mode}
    if args.redirect_uri:
        settings["redirect_uri"] = args.redirect_uri
    latency = args.latency_ms if args.latency_ms is not None else (DEMO_LATENCY_MS if args.mode == "demo" else 0)
    settings["latency_ms"] = latency
    app = create_app(settings)
    root = f"http://{args.host}:{args.port}"
    print("EXACT_BASE_URLS=" + ",".join(f"{cc}={root}/{cc}" for cc in COUNTRIES))
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
