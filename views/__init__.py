"""The web layer: one blueprint per concern (integrations, login, setup, api, embed) and the helpers they share."""
