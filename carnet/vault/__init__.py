"""Envelope encryption: sealed fields, key backends, blind indexes, crypto-shredding.

See carnet/vault/README.md for the contract, the token format and the threat model.
"""
