"""The demo's stand-in for OutSmart: a settings page on another site that embeds the app in an iframe."""
import os

from flask import Flask
from flask import render_template
from flask import request

from views.embed import make_entry_token
from views.languages import DEFAULT_LANGUAGE
from views.languages import LANGUAGES
from views.languages import supported


def create_demo_host(app: Flask, app_url: str, account: str = "demo") -> Flask:
    """A separate Flask app (its own origin) that signs a fresh entry, as OutSmart's server would, on every visit."""
    host = Flask(__name__, static_folder=os.path.join(app.static_folder, "demo_host"), static_url_path="/host-static",
                 template_folder=os.path.join(app.root_path, app.template_folder))

    @host.get("/")
    def settings_page():
        # The language OutSmart puts in its entry (the OutSmart user's own): ?taal=fr, chosen in the top bar.
        language = supported(request.args.get("taal")) or DEFAULT_LANGUAGE
        with app.app_context():
            token = make_entry_token(account, "Demo-beheerder", language, request.host_url.rstrip("/"))
        return render_template("demo_host/outsmart.html", app_origin=app_url, embed_url=f"{app_url}/embed?token={token}",
                               languages=LANGUAGES, language=language)

    return host
