"""Disconnecting, after the admin confirms."""
from flask_wtf import FlaskForm


class DisconnectForm(FlaskForm):
    """Nothing to fill in: the form carries the CSRF token of the confirmation."""
