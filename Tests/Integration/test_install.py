"""`make install` lays DalyGate out as docs/deploy.md says, and the systemd unit it installs is hardened."""
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import DALYGATE

ROOT = Path(__file__).resolve().parents[2]


def install(destdir: Path, prefix: str = "/usr/local"):
    # The debug binary stands in for the release one: the layout is the same, and the release build is slow.
    return subprocess.run(["make", "-s", "install", f"DESTDIR={destdir}", f"PREFIX={prefix}", f"INSTALL_BIN={DALYGATE}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def exposure(unit: Path) -> float:
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True, text=True,
                            timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is in Debian's systemd package")
def test_the_unit_scores_at_most_2_0():
    assert exposure(ROOT / "deploy" / "dalygate.service") <= 2.0


def test_make_install_layout_with_prefix_and_destdir(tmp_path):
    result = install(tmp_path, prefix="/usr")
    assert result.returncode == 0, result.stdout + result.stderr
    usr, etc = tmp_path / "usr", tmp_path / "etc"
    assert mode(usr / "bin" / "dalygate") == 0o755
    assert subprocess.run([str(usr / "bin" / "dalygate"), "config", "token"], capture_output=True).returncode == 0
    share = usr / "share" / "dalygate"
    for name in ["public/index.html", "public/app.js", "openapi.yaml"]:
        assert (share / name).read_bytes() == (ROOT / name).read_bytes()
    assert (usr / "share" / "doc" / "dalygate" / "deploy.md").exists()
    assert (etc / "udev" / "rules.d" / "99-dalygate.rules").read_text() == (ROOT / "deploy" / "99-dalygate.rules").read_text()
    unit = (etc / "systemd" / "system" / "dalygate.service").read_text()
    assert "ExecStart=/usr/bin/dalygate serve --config %d/config" in unit and "/usr/local" not in unit
    assert "WorkingDirectory=/usr/share/dalygate" in unit
    # Secrets and the config: root-only, never world-readable.
    config = etc / "dalygate" / "dalygate.yaml"
    assert mode(etc / "dalygate") == 0o700 and mode(config) == 0o600
    assert "http:" in config.read_text()
    for name in ["token", "mqtt_password"]:
        assert mode(etc / "dalygate" / "credentials" / name) == 0o600
    if shutil.which("systemd-analyze"):
        assert exposure(etc / "systemd" / "system" / "dalygate.service") <= 2.0


def test_a_second_install_keeps_the_config_and_the_secrets(tmp_path):
    assert install(tmp_path).returncode == 0
    config = tmp_path / "etc" / "dalygate" / "dalygate.yaml"
    token = tmp_path / "etc" / "dalygate" / "credentials" / "token"
    config.write_text("http:\n  listen: 0.0.0.0:8080\n")
    token.write_text("a-token-that-is-long-enough\n")
    assert install(tmp_path).returncode == 0
    assert config.read_text() == "http:\n  listen: 0.0.0.0:8080\n"
    assert token.read_text() == "a-token-that-is-long-enough\n"


def test_the_credentials_directory_supplies_the_token(tmp_path):
    """What the unit's LoadCredential= hands over: a token in $CREDENTIALS_DIRECTORY lets it listen beyond loopback,
    and a weak one there is refused like any other."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "token").write_text("short\n")
    env = {"PATH": "/usr/bin:/bin", "CREDENTIALS_DIRECTORY": str(credentials)}
    result = subprocess.run([str(DALYGATE), "serve", "--simulate", "--state-dir", str(tmp_path / "s"), "--http", "0.0.0.0:0"],
                            capture_output=True, text=True, timeout=30, env=env, cwd=ROOT)
    assert result.returncode != 0 and "token of 5 characters" in result.stderr
