"""The deployment files are valid — checked without a Docker engine or systemd."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from pathlib import Path

import dockerfile
import jsonschema
import pytest
import yaml


@pytest.fixture
def deploy(project_root) -> Path:
    return project_root / "deploy"


INSTRUCTIONS = {
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
}


def dockerfile_problems(path: Path) -> list[str]:
    """What docker build would refuse: the official Go parser reads the file, then each
    instruction must exist and carry its arguments, and the build must start with FROM."""
    commands = dockerfile.parse_file(str(path))
    problems = [f"line {c.start_line}: unknown instruction {c.cmd}" for c in commands if c.cmd not in INSTRUCTIONS]
    problems += [
        f"line {c.start_line}: {c.cmd} needs arguments"
        for c in commands
        if c.cmd in INSTRUCTIONS and not any(c.value) and not (c.cmd == "HEALTHCHECK" and c.flags == ())
    ]
    if commands and commands[0].cmd not in ("FROM", "ARG"):
        problems.append("the first instruction must be FROM")
    return problems


def test_the_dockerfile_parses_runs_as_non_root_and_checks_its_health(deploy):
    assert dockerfile_problems(deploy / "Dockerfile") == []
    commands = dockerfile.parse_file(str(deploy / "Dockerfile"))  # the official Go parser
    names = [c.cmd for c in commands]
    final_stage = names[len(names) - 1 - names[::-1].index("FROM") :]
    assert commands[names.index("FROM")].value[0].endswith("-slim")
    assert "USER" in final_stage
    user = [c.value[0] for c in commands if c.cmd == "USER"][-1]
    assert user not in ("root", "0")
    assert "HEALTHCHECK" in final_stage
    assert [c.value for c in commands if c.cmd == "CMD"][-1][:2] == ("fabcom", "serve")


def test_the_dockerfile_check_catches_mistakes(tmp_path):
    broken = tmp_path / "Dockerfile"
    broken.write_text("COPY . /src\nFROMM python:3.11-slim\nUSER\n")
    assert dockerfile_problems(broken) == [
        "line 2: unknown instruction FROMM",
        "line 3: USER needs arguments",
        "the first instruction must be FROM",
    ]


def compose_errors(data: dict) -> list[str]:
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
    return sorted(e.message for e in jsonschema.Draft201909Validator(schema).iter_errors(data))


def test_the_compose_file_follows_the_compose_specification(deploy):
    data = yaml.safe_load((deploy / "compose.yaml").read_text())
    assert compose_errors(data) == []
    services = data["services"]
    assert sorted(services) == ["migrate", "postgres", "redis", "web", "worker"]
    assert services["web"]["command"][:2] == ["fabcom", "serve"]
    assert services["worker"]["command"] == ["fabcom", "worker"]
    assert set(data["volumes"]) == {"postgres", "uploads"}
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # secrets come from the environment, never from the file
    assert "${FABCOM_SECRET_KEY:?" in services["web"]["environment"]["FABCOM_SECRET_KEY"]


def test_the_compose_check_catches_a_typo(deploy):
    data = yaml.safe_load((deploy / "compose.yaml").read_text())
    data["services"]["web"]["portz"] = ["8000:8000"]
    assert compose_errors(data) == ["'portz' does not match any of the regexes: '^x-'"]


@pytest.mark.parametrize("unit", ["fabcom-web.service", "fabcom-worker.service"])
def test_systemd_units_run_fabcom_unprivileged(deploy, unit):
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(deploy / "systemd" / unit)
    service = parser["Service"]
    assert service["User"] == "fabcom"
    assert service["ExecStart"].startswith("/opt/fabcom/venv/bin/fabcom ")
    assert service["NoNewPrivileges"] == "true"
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_nginx_site_passes_nginx_t(deploy, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        if os.environ.get("FABCOM_REQUIRE_SERVICES") == "1":
            pytest.fail("nginx is not installed: .ci/run installs it to check deploy/nginx/fabcom.conf")
        pytest.skip("nginx is not installed: install it to check deploy/nginx/fabcom.conf")
    # a throw-away certificate and paths under tmp_path, the site itself unchanged otherwise
    subprocess.run(
        [
            shutil.which("openssl") or "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test",
            "-keyout",
            tmp_path / "key.pem",
            "-out",
            tmp_path / "cert.pem",
        ],
        check=True,
        capture_output=True,
    )
    site = (deploy / "nginx" / "fabcom.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/fabcom.example.org/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/fabcom.example.org/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path};\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
