"""A login finishes only in the OutSmart visit that started it, with PKCE (issue 14).

LoginAttempt gets: the visit that started it, the digest of the secret its iframe hands to the popup (by
postMessage, never in a URL), and the PKCE code verifier (Fernet-encrypted by the app, so TEXT here).
"""
from peewee import CharField
from peewee import TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("loginattempt", "visit", CharField(null=True)),
        migrator.add_column("loginattempt", "handoff", CharField(null=True)),
        migrator.add_column("loginattempt", "code_verifier", TextField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("loginattempt", "visit"),
        migrator.drop_column("loginattempt", "handoff"),
        migrator.drop_column("loginattempt", "code_verifier"),
    )
