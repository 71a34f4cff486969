"""Legato's IP registry: canonical text, fingerprints, timestamps, certificates, anchoring, pinning.

The innermost layer: no web framework, no environment reads, no global state, and no import of
``accounts``, ``content``, ``marketplace`` or ``api``. :mod:`registry.wiring` builds the live pieces from
explicit arguments; callers import each name from the module that defines it. Modules that pull in heavy
libraries (datasketch, web3, py-evm) are imported only by those who use them, so verifying a certificate
stays cheap.
"""
