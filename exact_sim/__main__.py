"""Run the simulator: python -m exact_sim --port 5001 [--host 127.0.0.1] [--mode demo|test|plain] [--redirect-uri URL]."""
import argparse

from . import create_app
from .settings import COUNTRIES
from .settings import MODES


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m exact_sim", description="Serve a simulated Exact Online.")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--mode", choices=MODES, default="demo",
                        help="demo: /_sim on, demo users on the login page; test: /_sim on; plain: no /_sim")
    parser.add_argument("--redirect-uri", help="the registered redirect URI of the app (exact match)")
    args = parser.parse_args(argv)
    settings = {"mode": args.mode}
    if args.redirect_uri:
        settings["redirect_uri"] = args.redirect_uri
    app = create_app(settings)
    root = f"http://{args.host}:{args.port}"
    print("EXACT_BASE_URLS=" + ",".join(f"{cc}={root}/{cc}" for cc in COUNTRIES))
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
