"""Trusted publishing: exchange a CI provider's OIDC token for a minted upload token.

``verify`` checks the JWT (keys from ``jwks``, claims from ``claims``), ``mint`` finds
the matching publishers and creates the token, ``tokens`` authenticates it later.
"""
