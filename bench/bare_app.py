"""The baseline: a bare Flask route returning a constant string, measured the same way as the app."""
from flask import Flask


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.route("/bare", methods=["GET", "POST"])
    def bare():
        return "ok"

    return app


app = create_bare_app()
