"""Sigstore signing and verification of built artifacts, split by job.

``options`` (settings and where to sign), ``tokens`` (the identity to sign as), ``trust``
(trust roots of Sigstore instances), ``artifacts`` (the files beside an artifact), ``sign``,
``verify``, ``results`` and ``engine`` (``sign_packages``: hooks, order and report).
"""
