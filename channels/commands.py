"""The client commands shown on channel and package pages, per client.

Built here rather than in templates so each one is a plain string that tests can
run as the page shows it. Placeholders (``<package>``, ``<API key>``) are text,
escaped by the template like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

KEY = "<API key>"


@dataclass(frozen=True)
class Command:
    title: str
    text: str


@dataclass(frozen=True)
class ClientTab:
    client: str
    commands: list[Command] = field(default_factory=list)


def usage_tabs(
    public_url: str,
    channel: str,
    *,
    is_private: bool,
    can_write: bool,
    package: str = "",
    version: str = "",
) -> list[ClientTab]:
    """pixi, conda, mamba and rattler-build commands for one channel (and package).

    Private channels need credentials: pixi, mamba and rattler-build sign in once
    per host; conda takes the key in the channel URL (``/t/<key>/``).

    >>> [c.text for c in usage_tabs("http://h", "tools", is_private=False,
    ...     can_write=False, package="zlib")[0].commands]
    ['pixi workspace channel add http://h/tools', 'pixi add zlib']
    """
    url = f"{public_url}/{channel}"
    host = urlsplit(public_url).netloc
    target = package or "<package>"
    spec = f"{package}=={version}" if package and version else target
    upload = f"--url {public_url} --channel {channel} <file>.conda"
    pixi, conda, mamba, rattler = (ClientTab(name) for name in _CLIENTS)
    if is_private:
        pixi.commands.append(
            Command("Sign in", f"pixi auth login {host} --token {KEY}")
        )
        mamba.commands.append(
            Command("Sign in", f"micromamba auth login {public_url} --bearer {KEY}")
        )
        rattler.commands.append(
            Command("Sign in", f"rattler-build auth login {host} --token {KEY}")
        )
    conda_url = f"{public_url}/t/{KEY}/{channel}" if is_private else url
    pixi.commands.extend(
        [
            Command(
                "Add the channel to your workspace", f"pixi workspace channel add {url}"
            ),
            Command(f"Install {target}", f"pixi add {spec}"),
        ]
    )
    conda.commands.extend(
        [
            Command(f"Install {target}", f"conda install --channel {conda_url} {spec}"),
            Command("Add to .condarc", f"conda config --add channels {conda_url}"),
        ]
    )
    mamba_client = "micromamba" if is_private else "mamba"
    mamba.commands.append(
        Command(f"Install {target}", f"{mamba_client} install --channel {url} {spec}")
    )
    rattler.commands.append(
        Command(
            "Build against this channel",
            f"rattler-build build --channel {url} --recipe recipe.yaml",
        )
    )
    if can_write:
        pixi.commands.append(Command("Upload", f"pixi upload prefix {upload}"))
        rattler.commands.append(
            Command("Upload", f"rattler-build upload prefix {upload}")
        )
    return [pixi, conda, mamba, rattler]


_CLIENTS = ("pixi", "conda", "mamba", "rattler-build")
