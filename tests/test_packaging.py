"""Set-up: the INI files, the console scripts, the sdist and the wheel."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from booking.models import Booking, Tenant, User
from booking.settings import DEVELOPMENT_SECRET

from .database import postgresql_available, postgresql_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOOD_SECRET = "s" * 48


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_ini(directory, port):
    """production.ini, serving on ``port`` instead of 6543."""
    text = (ROOT / "production.ini").read_text()
    ini = directory / "production.ini"
    ini.write_text(text.replace("listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{port}"))
    shutil.copytree(ROOT / "alembic", directory / "alembic", dirs_exist_ok=True)
    return ini


def pserve(ini, env):
    return subprocess.Popen(
        [str(BIN / "pserve"), str(ini)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


PUBLIC_URL = "https://booking.example.test"
DATA_KEYS = "prod1:hm0h0Pv3Xh7q3CzXcJ2nA3d8dNfYbLqRk9yJ2gVQm0E="


def clean_env(**extra):
    """The environment without BOOKING_* variables, but the public URL and
    the data keys production.ini requires (``BOOKING_PUBLIC_URL=None``
    leaves it out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env["BOOKING_PUBLIC_URL"] = PUBLIC_URL
    env["BOOKING_DATA_KEYS"] = DATA_KEYS
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize("secret, words", [
    (None, "BOOKING_SECRET"),
    ("", "BOOKING_SECRET"),
    (DEVELOPMENT_SECRET, "default development secret"),
    ("short", "too short"),
])
def test_production_ini_refuses_to_start_without_a_real_secret(tmp_path, secret, words):
    env = clean_env(BOOKING_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite")
    if secret is not None:
        env["BOOKING_SECRET"] = secret
    process = pserve(production_ini(tmp_path, free_port()), env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert words in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("url, words", [
    (None, "BOOKING_PUBLIC_URL"),
    ("booking.example.test", "must be an http(s) address"),
])
def test_production_ini_refuses_to_start_without_a_public_url(tmp_path, url, words):
    env = clean_env(BOOKING_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite",
                    BOOKING_SECRET=GOOD_SECRET, BOOKING_PUBLIC_URL=url)
    process = pserve(production_ini(tmp_path, free_port()), env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert words in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("keys, words", [
    (None, "BOOKING_DATA_KEYS"),
    ("dev:C-k0qux3U_diy89iu5sPFOCUxBYKWHVr70Supxhv_E4=", "development key"),
    ("k1:c2hvcnQ=", "needs 32"),
])
def test_production_ini_refuses_to_start_without_data_keys(tmp_path, keys, words):
    env = clean_env(BOOKING_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite",
                    BOOKING_SECRET=GOOD_SECRET, BOOKING_DATA_KEYS=keys)
    process = pserve(production_ini(tmp_path, free_port()), env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert words in stderr and "Traceback" not in stderr


def test_production_ini_refuses_to_start_without_database_url():
    process = pserve(ROOT / "production.ini", clean_env(BOOKING_SECRET=GOOD_SECRET))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "BOOKING_DATABASE_URL" in stderr


def test_production_ini_serves_with_secret_and_url(tmp_path):
    url = f"sqlite:///{tmp_path}/prod.sqlite"
    env = clean_env(BOOKING_DATABASE_URL=url, BOOKING_SECRET=GOOD_SECRET)
    port = free_port()
    ini = production_ini(tmp_path, port)
    subprocess.run([str(BIN / "booking-initdb"), str(ini)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    process = pserve(ini, env)
    try:
        response = wait_for(f"http://127.0.0.1:{port}/login")
        cookie = response.headers["Set-Cookie"].lower()
        assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie
    finally:
        process.terminate()
        process.communicate(timeout=30)


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            found += [int(child) for child in listed.read().split()]
    return sorted(found)


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


@pytest.fixture
def production_site(tmp_path):
    """production.ini on a migrated SQLite file: (ini, env, port)."""
    url = f"sqlite:///{tmp_path}/prod.sqlite"
    env = clean_env(BOOKING_DATABASE_URL=url, BOOKING_SECRET=GOOD_SECRET)
    port = free_port()
    ini = production_ini(tmp_path, port)
    subprocess.run([str(BIN / "booking-initdb"), str(ini), "--demo"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    return ini, env, port


def test_production_ini_serves_from_two_workers_and_replaces_a_dead_one(production_site):
    ini, env, port = production_site
    assert "workers = 2" in ini.read_text()
    process = pserve(ini, env)
    try:
        wait_for(f"http://127.0.0.1:{port}/login")
        workers = wait_until(lambda: len(children(process.pid)) == 2 and children(process.pid))
        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_until(lambda: (len(children(process.pid)) == 2
                                       and workers[0] not in children(process.pid)
                                       and children(process.pid)))
        assert workers[1] in replaced
        for _ in range(20):  # every answer, from either worker
            assert requests.get(f"http://127.0.0.1:{port}/api/v1/t/harbor", timeout=10).ok
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"worker {workers[0]} exited" in stderr
    for pid in replaced:  # the workers went with the parent
        assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read()


def established(pid, port):
    """How many connections to ``port`` the process ``pid`` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows
               if int(row[1].split(":")[1], 16) == port and row[3] == "01" and row[9] in inodes)


def test_two_workers_share_keep_alive_connections_evenly(production_site):
    ini, env, port = production_site
    process = pserve(ini, env)
    sessions = []
    try:
        wait_for(f"http://127.0.0.1:{port}/login")
        workers = wait_until(lambda: len(children(process.pid)) == 2 and children(process.pid))
        for _ in range(12):  # one keep-alive connection each, opened one after another
            sessions.append(requests.Session())
            assert sessions[-1].get(f"http://127.0.0.1:{port}/api/v1/t/harbor", timeout=10).ok
        assert sorted(established(pid, port) for pid in workers) == [6, 6]
    finally:
        for session in sessions:
            session.close()
        process.terminate()
        process.communicate(timeout=30)


def pserve_with_workers(production_site, workers):
    """pserve on production.ini with ``workers`` instead of its 2: (process, port)."""
    ini, env, port = production_site
    ini.write_text(ini.read_text().replace("workers = 2", f"workers = {workers}"))
    return pserve(ini, env), port


def test_one_worker_serves_in_the_pserve_process(production_site):
    process, port = pserve_with_workers(production_site, 1)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/login").ok
        assert children(process.pid) == []
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_zero_workers_is_refused_with_a_clear_error(production_site):
    process, _ = pserve_with_workers(production_site, 0)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "workers must be at least 1, not 0" in stderr


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def initdb(ini, env, *args):
    return subprocess.run([str(BIN / "booking-initdb"), str(ini), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_initdb_with_demo_is_idempotent(tmp_path):
    ini = tmp_path / "test.ini"
    shutil.copy(ROOT / "development.ini", ini)
    shutil.copytree(ROOT / "alembic", tmp_path / "alembic")
    first = initdb(ini, clean_env(), "--demo")
    assert first.returncode == 0, first.stderr
    assert "demo tenant 'demo' loaded" in first.stdout
    second = initdb(ini, clean_env(), "--demo")
    assert second.returncode == 0, second.stderr
    assert "nothing loaded" in second.stdout
    engine = create_engine(f"sqlite:///{tmp_path}/var/booking.sqlite")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Tenant)) == 2
        assert connection.scalar(select(func.count()).select_from(User)) == 8
        assert connection.scalar(select(func.count()).select_from(Booking)) >= 4
    engine.dispose()


def test_initdb_on_postgresql(tmp_path):
    if not postgresql_available():
        pytest.skip("PostgreSQL is not reachable")
    with postgresql_database() as database:
        database.clean()
        env = clean_env(BOOKING_DATABASE_URL=database.url)
        for _ in range(2):
            result = initdb(ROOT / "development.ini", env, "--demo")
            assert result.returncode == 0, result.stderr
        with database.session() as s:
            assert sorted(s.scalars(select(Tenant.slug))) == ["demo", "harbor"]


def test_initdb_reports_bad_settings_clearly():
    result = initdb(ROOT / "production.ini", clean_env())
    assert result.returncode != 0
    assert "configuration error" in result.stderr and "Traceback" not in result.stderr


def test_sdist_contains_templates_static_migrations_and_ini(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                    "--outdir", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    (archive,) = tmp_path.glob("booking-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    expected = {
        "development.ini", "production.ini", "MANIFEST.in", "README.md",
        "alembic/env.py", "alembic/script.py.mako",
        "booking/templates/layout.jinja2", "booking/static/css/site.css",
    }
    assert expected <= names
    assert any(name.startswith("alembic/versions/") and name.endswith(".py") for name in names)
    assert not any("__pycache__" in name or name.endswith(".sqlite") for name in names)


def source_copy(target):
    """The checkout without what a build or a run leaves in it (a stale
    build/lib would leak into a wheel built in place)."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "var", "__pycache__", "*.py[cod]",
        ".pytest_cache", "test-artifacts", "results", "*.sqlite*"))
    return target


@pytest.mark.timeout(300)
def test_wheel_installed_in_a_fresh_venv_migrates_and_serves_outside_the_checkout(tmp_path):
    source = source_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=source, capture_output=True, text=True, timeout=180)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("booking-*.whl")
    # The build front end shows a backend's warnings only if they are
    # UserWarnings, which the data-package ones of older setuptools are not:
    # the backend, asked directly, shows them all.
    direct = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
         str(tmp_path / "direct")],
        cwd=source, capture_output=True, text=True, timeout=180)
    assert direct.returncode == 0, direct.stderr[-3000:]
    for output in (built.stdout + built.stderr, direct.stdout + direct.stderr):
        assert "would be ignored" not in output
        assert "as data is deprecated" not in output
        assert "is absent from the `packages` configuration" not in output

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {name.split("/", 1)[0] for name in names} == {"booking", "booking-0.1.0.dist-info"}
    assert {"booking/migrations/env.py", "booking/migrations/script.py.mako",
            "booking/templates/layout.jinja2", "booking/static/css/site.css",
            "booking/locale/fr/LC_MESSAGES/booking.po"} <= names
    assert any(name.startswith("booking/migrations/versions/") for name in names)

    # A fresh venv with the wheel alone; the project's own site-packages come
    # after it on sys.path (a plain .pth line, so that their .pth files, the
    # editable install of the checkout among them, are not run) for the
    # dependencies, without asking the package index.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
                   check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--no-compile", str(wheel)],
        capture_output=True, text=True, timeout=180)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    (site_packages / "booking-test-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")

    site = tmp_path / "site"  # outside the checkout, and no alembic/ beside the INI
    site.mkdir()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    port = free_port()
    ini = site / "development.ini"
    ini.write_text((ROOT / "development.ini").read_text().replace(
        "listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{port}"))
    env = clean_env(TMPDIR=str(temporary), PYTHONPATH=None, PYTHONDONTWRITEBYTECODE="1")

    where = subprocess.run([str(python), "-c", "import booking; print(booking.__file__)"],
                           cwd=site, env=env, check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(site_packages)

    initdb = subprocess.run([str(venv / "bin" / "booking-initdb"), str(ini), "--demo"],
                            cwd=site, env=env, capture_output=True, text=True, timeout=180)
    assert initdb.returncode == 0, initdb.stderr[-3000:]
    assert "demo tenant 'demo' loaded" in initdb.stdout
    assert (site / "var" / "booking.sqlite").is_file()

    # pserve is Pyramid's script, a dependency's: not in the venv's bin.
    process = subprocess.Popen([str(python), "-m", "pyramid.scripts.pserve", str(ini)],
                               cwd=site, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        response = wait_for(f"http://127.0.0.1:{port}/t/demo/")
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert "Traceback" not in stderr
    assert not list(temporary.glob("booking-locale-*"))
