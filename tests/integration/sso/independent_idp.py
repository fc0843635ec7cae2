"""Serves ``oidc-provider-mock`` (an independent OpenID provider) on 127.0.0.1 in a process of
its own (its Authlib warns at every token, and the tests turn warnings into errors):
``python independent_idp.py USERS_JSON`` prints the port, then serves until stopped."""

from __future__ import annotations

import json
import sys
import warnings

from werkzeug.serving import make_server

warnings.simplefilter("ignore")

# imported after the warnings are silenced (the package ships no type information)
from oidc_provider_mock import User, app  # type: ignore[import-untyped]  # noqa: E402


def main() -> None:
    users = [User(sub=sub, claims=claims) for sub, claims in json.loads(sys.argv[1]).items()]
    server = make_server("127.0.0.1", 0, app(require_nonce=True, user_claims=users), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
