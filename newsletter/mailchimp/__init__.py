"""Mailchimp as a delivery backend and a mirror of the subscriber list (the portal stays the source of truth).

Modules: ``client`` (the official client, configured and wrapped), ``sync`` (two-way audience sync),
``webhooks`` (Mailchimp's list events), ``reports`` (campaign figures after a send).
"""
