"""Calls the gateway of a running `bk up` with the real PyPI clients: bk_login.get_user
through bkapi-component-open's Client (credentials in X-Bkapi-Authorization), and
bk_paas.get_app_info through an operation declared with bkapi-client-core (the component
package has no bk_paas group). Prints one JSON object with the answers.

argv: endpoint app_code app_secret bk_token target_app_code
"""
import json
import sys

from bkapi_client_core.esb import ESBClient, Operation, OperationGroup, bind_property
from bkapi_component.open.client import Client

endpoint, app_code, app_secret, bk_token, target = sys.argv[1:6]


class BkPaasGroup(OperationGroup):
    get_app_info = bind_property(
        Operation, name="get_app_info", method="GET",
        path="/api/c/compapi{bk_api_ver}/bk_paas/get_app_info/",
    )


class PaasClient(ESBClient):
    bk_paas = bind_property(BkPaasGroup, name="bk_paas")


out = {}
for ver in ("v2", ""):
    c = Client(endpoint=endpoint, bk_api_ver=ver)
    c.update_bkapi_authorization(bk_app_code=app_code, bk_app_secret=app_secret, bk_token=bk_token)
    out["get_user" + (ver and "_" + ver)] = c.bk_login.get_user()
    out["is_login" + (ver and "_" + ver)] = c.bk_login.is_login()
p = PaasClient(endpoint=endpoint, bk_api_ver="v2")
p.update_bkapi_authorization(bk_app_code=app_code, bk_app_secret=app_secret)
out["get_app_info"] = p.bk_paas.get_app_info(params={"target_app_code": target})
bad = Client(endpoint=endpoint, bk_api_ver="v2")
bad.update_bkapi_authorization(bk_app_code=app_code, bk_app_secret="wrong", bk_token=bk_token)
out["wrong_secret"] = bad.bk_login.get_user()
print(json.dumps(out))
