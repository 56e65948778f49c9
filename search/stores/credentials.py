"""How the Elasticsearch store connects: URL, credentials, CA bundle (README, "Variables d'environnement").

Pure functions, no Django and no Elasticsearch client: config/settings.py checks the same rules at
startup as the store does when it builds its client. Credentials come either inside the URL
(`https://user:password@host:9200`, percent-encoded) or as an API key (the base64 `encoded` form
Elasticsearch returns), never both. Nothing here ever puts a password or a key in a message:
`masked_url` is the only way the URL is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"


def masked_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***: for logs, errors and `search_index status`."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}" if user else f"{MASK}@{hostport}"))


@dataclass(frozen=True)
class Connection:
    """What the Elasticsearch client is given: the URL without credentials, and the credentials apart."""

    url: str
    display_url: str
    # Out of the repr: a connection logged or shown in a traceback's locals never shows its secrets.
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    api_key: str = field(default="", repr=False)
    ca_certs: str = ""

    @classmethod
    def from_settings(cls, url: str, *, api_key: str = "", ca_certs: str = "") -> Connection:
        parts = urlsplit(url)
        basic_auth = None
        clean = url
        if "@" in parts.netloc:
            userinfo, _at, hostport = parts.netloc.rpartition("@")
            user, _colon, password = userinfo.partition(":")
            basic_auth = (unquote(user), unquote(password))
            clean = urlunsplit(parts._replace(netloc=hostport))
        return cls(url=clean, display_url=masked_url(url), basic_auth=basic_auth, api_key=api_key.strip(),
                   ca_certs=ca_certs.strip())

    def problem(self, *, check_files: bool = True) -> str:
        """A French sentence saying what is wrong with this configuration, or "" when nothing is."""
        scheme = urlsplit(self.url).scheme
        if scheme not in ("http", "https") or not urlsplit(self.url).hostname:
            return (f"ELASTICSEARCH_URL doit être une adresse http:// ou https:// avec un hôte "
                    f"(reçu : {self.display_url}).")
        if self.basic_auth is not None and not (self.basic_auth[0] and self.basic_auth[1]):
            return (f"ELASTICSEARCH_URL contient un identifiant sans mot de passe (ou l'inverse) : "
                    f"{self.display_url}. Forme attendue : https://utilisateur:mot-de-passe@hôte:9200.")
        if self.basic_auth is not None and self.api_key:
            return ("ELASTICSEARCH_API_KEY et un identifiant dans ELASTICSEARCH_URL ne vont pas ensemble : "
                    "gardez l'un ou l'autre.")
        if self.ca_certs and scheme != "https":
            return (f"ELASTICSEARCH_CA_CERTS ne sert qu'avec une adresse https:// (ELASTICSEARCH_URL vaut "
                    f"{self.display_url}).")
        if self.ca_certs and check_files and not os.path.isfile(self.ca_certs):
            return f"ELASTICSEARCH_CA_CERTS : le fichier {self.ca_certs} est introuvable ou illisible."
        return ""


def settings_problem(url: str, *, api_key: str = "", ca_certs: str = "") -> str:
    """What config/settings.py refuses at startup ("" when the settings hold together)."""
    if not url:
        if api_key.strip() or ca_certs.strip():
            return ("ELASTICSEARCH_API_KEY ou ELASTICSEARCH_CA_CERTS est défini sans ELASTICSEARCH_URL : "
                    "définissez l'adresse d'Elasticsearch, ou retirez-les.")
        return ""
    return Connection.from_settings(url, api_key=api_key, ca_certs=ca_certs).problem()
