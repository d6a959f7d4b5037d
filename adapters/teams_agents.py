"""The Teams host on the Microsoft 365 Agents SDK (microsoft-agents-activity, -hosting-core,
-authentication-msal): the supported successor of botbuilder-python.

It is the SDK-specific part only, with the same operations as the botbuilder host in
`adapters.teams` (read an Activity, authenticate a request, run a turn that sends replies, close),
so the routes, `adapters.teams_activity` (plain JSON in and out) and the engine stay the same
whichever SDK carries the Activities. What the SDK does here, through its public API:

- reads the incoming Activity (`Activity.model_validate`: a field of the wrong type is a 400);
- checks the Bot Connector's token (`JwtTokenValidator` with an `AgentAuthConfiguration` built from
  the same `MicrosoftApp*` settings the Azure Bot registration already has), and that the token
  was issued for the activity's `serviceUrl`;
- gets the access token for replies (`MsalConnectionManager`; MSAL caches it until it expires).

The replies themselves are plain JSON POSTs to the Bot Connector's REST API
(`{serviceUrl}v3/conversations/{id}/activities/{replyToId}`, as the SDK's connector client sends
them), over **one keep-alive aiohttp session per process**. The SDK's own turn pipeline would, per
turn, build two HTTP clients (each looking up the package version in the installed metadata,
~1 ms), deep-copy every reply and run it through its pydantic model and telemetry spans: several
milliseconds of CPU per message for nothing Regellotsen uses (docs/performance.md).

Message text is never logged here; the SDK's loggers are turned down to WARNING.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from jwt import PyJWKClientConnectionError, PyJWTError
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import AuthenticationConstants, AuthTypes, ClaimsIdentity, JwtTokenValidator
from pydantic import ValidationError

from adapters.teams import AuthFailed, BadActivity  # the route's SDK-neutral failures (no botbuilder import)

log = logging.getLogger("regellotsen.teams")

#: Loggers of the SDK that log ids (not text) per request at INFO/DEBUG.
SDK_LOGGERS = ("microsoft_agents", "msal")
#: MultiTenant bots get their reply tokens from the botframework.com tenant (as botbuilder does).
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"
#: The Bot Connector's limit on a conversation id in a URL (as the SDK's connector client trims it).
MAX_CONVERSATION_ID = 150
USER_AGENT = "Regellotsen (Microsoft 365 Agents SDK host)"


class ReplyFailed(RuntimeError):
    """The Bot Connector refused a reply (its status code; the route answers 502)."""


def quiet_sdk_loggers() -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def auth_configuration(app_id: str, app_password: str, app_type: str, tenant_id: str) -> AgentAuthConfiguration:
    """The SDK's AgentAuthConfiguration for the Bot Framework style MicrosoftApp* settings.

    MultiTenant: client secret, tokens from the botframework.com tenant; SingleTenant: client secret,
    the bot's own tenant; UserAssignedMSI: the managed identity's client id. No app id: anonymous
    (local testing only; the route then talks to a loopback Bot Connector only)."""
    kind = app_type.lower()
    if not app_id:
        return AgentAuthConfiguration(anonymous_allowed=True)
    if kind == "userassignedmsi":
        return AgentAuthConfiguration(auth_type=AuthTypes.user_managed_identity, client_id=app_id, tenant_id=tenant_id)
    tenant = tenant_id if kind == "singletenant" else MULTI_TENANT_AUTHORITY_TENANT
    return AgentAuthConfiguration(auth_type=AuthTypes.client_secret, client_id=app_id, tenant_id=tenant, client_secret=app_password)


def reply_url(body: Mapping[str, Any]) -> str:
    """Where a reply to this activity goes: the conversation's activities, threaded on the activity."""
    base = str(body["serviceUrl"])
    base = base if base.endswith("/") else base + "/"
    conversation = quote(str(body["conversation"]["id"])[:MAX_CONVERSATION_ID], safe=":@;=,+!$&'()*")
    url = f"{base}v3/conversations/{conversation}/activities"
    reply_to = body.get("id")
    return f"{url}/{quote(str(reply_to), safe=':@;=,+!$&()*')}" if isinstance(reply_to, str) and reply_to else url


def reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every reply takes from the incoming activity (what the SDK's conversation reference sets)."""
    out: dict[str, Any] = {
        "channelId": body.get("channelId"),
        "serviceUrl": body["serviceUrl"],
        "conversation": body["conversation"],
        "from": body.get("recipient"),  # the bot
        "recipient": body.get("from"),  # the user
    }
    if isinstance(body.get("id"), str) and body["id"]:
        out["replyToId"] = body["id"]
    return {k: v for k, v in out.items() if v is not None}


class AgentsFramework:
    """Authenticate incoming activities with the Agents SDK; send replies over one keep-alive session."""

    name = "agents"

    def __init__(self, app_id: str, app_password: str, app_type: str, tenant_id: str, *, pool: int = 100) -> None:
        self.authenticated = bool(app_id)
        self.config = auth_configuration(app_id, app_password, app_type, tenant_id)
        self.validator = JwtTokenValidator(self.config)
        self.connections: Any = None
        if self.authenticated:
            from microsoft_agents.authentication.msal import MsalConnectionManager

            self.connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": self.config})
        self.pool = pool
        self.trace_configs: list[aiohttp.TraceConfig] = []  # aiohttp's client tracing, e.g. to count new connections
        self._session: aiohttp.ClientSession | None = None
        quiet_sdk_loggers()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool, limit_per_host=self.pool, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=30, sock_connect=10),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                trace_configs=self.trace_configs or None,
            )
        return self._session

    @staticmethod
    def activity(body: Mapping[str, Any]) -> Mapping[str, Any]:
        """The activity, checked by the SDK's model (BadActivity when a field has the wrong type); the JSON is used as it is."""
        try:
            Activity.model_validate(body)
        except ValidationError:
            raise BadActivity from None
        return body

    async def authenticate(self, body: Mapping[str, Any], auth_header: str) -> ClaimsIdentity:
        """The ClaimsIdentity; raises AuthFailed(401), or AuthFailed(503) when the token keys cannot be fetched."""
        if not self.authenticated:
            return self.validator.get_anonymous_claims()
        scheme, _, token = auth_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            log.warning("rejected an unauthenticated request: no bearer token")
            raise AuthFailed(401)
        try:
            identity = await self.validator.validate_token(token)
        except PyJWKClientConnectionError as exc:
            log.error("could not validate a token: %s", type(exc).__name__)
            raise AuthFailed(503) from None
        except (PyJWTError, ValueError, KeyError, TypeError) as exc:
            log.warning("rejected an unauthenticated request: %s", type(exc).__name__)
            raise AuthFailed(401) from None
        except (TimeoutError, OSError) as exc:
            log.error("could not validate a token: %s", type(exc).__name__)
            raise AuthFailed(503) from None
        # A Bot Connector token names the serviceUrl it was issued for; replies go nowhere else.
        claimed = identity.get_claim_value("serviceurl")
        if claimed and _host(claimed) != _host(str(body.get("serviceUrl") or "")):
            log.warning("rejected a request whose serviceUrl does not match its token")
            raise AuthFailed(401)
        return identity

    async def _token(self, identity: ClaimsIdentity, service_url: str) -> str:
        if self.connections is None or identity.allow_anonymous:
            return ""
        audience = identity.get_token_audience() if identity.is_agent_claim() else AuthenticationConstants.AGENTS_SDK_SCOPE
        provider = self.connections.get_token_provider(identity, service_url)
        return str(await provider.get_access_token(audience, identity.get_token_scope()) or "")

    async def reply(
        self,
        body: Mapping[str, Any],
        identity: ClaimsIdentity,
        outgoing: Callable[[Callable[[list[dict[str, Any]]], Awaitable[None]]], Awaitable[None]],
    ) -> None:
        """Run a turn whose logic gets a `send(list_of_activity_dicts)` coroutine; ReplyFailed when the Connector refuses."""
        url = reply_url(body)
        fields = reference(body)
        token = await self._token(identity, str(body["serviceUrl"]))
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        http = self._http()
        incoming_locale = body.get("locale")

        async def send(activities: list[dict[str, Any]]) -> None:
            for activity in activities:
                payload = {"inputHint": "acceptingInput", **activity, **fields}
                if not payload.get("locale") and incoming_locale:
                    payload["locale"] = incoming_locale
                data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
                async with http.post(url, data=data, headers=headers) as response:
                    await response.read()
                    if response.status not in (200, 201, 202):
                        raise ReplyFailed(response.status)

        await outgoing(send)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").casefold()
