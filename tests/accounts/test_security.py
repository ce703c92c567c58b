"""Sign-in brute-force protection (django-axes) and the production security settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from ..factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
LOGIN = reverse("login")
PASSWORD = "secret-pass-123"  # the factories' password
LIMIT = 5

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lockout_policy(settings):
    """The shipped policy, whatever HDC_AXES_* the run was started with."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


def log_in(client, username, password=PASSWORD, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username, times, ip="127.0.0.1"):
    """``times`` sign-ins with a wrong password; the responses."""
    return [log_in(client, username, "wrong-password", ip=ip) for _ in range(times)]


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- Lockout ---------------------------------------------------------------------------------


def test_the_policy_is_the_configured_one():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AXES_HTTP_RESPONSE_CODE == 429
    assert settings.AXES_LOCKOUT_TEMPLATE == "registration/lockout.html"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_failures_below_the_limit_show_the_login_form(client, alice):
    responses = fail(client, "alice", LIMIT - 1)
    assert [r.status_code for r in responses] == [200] * (LIMIT - 1)
    assert "Please enter a correct username and password" in responses[-1].content.decode()
    assert not is_signed_in(client)

    assert log_in(client, "alice").status_code == 302
    assert is_signed_in(client)


def test_locked_after_the_limit_even_with_the_right_password(client, alice):
    responses = fail(client, "alice", LIMIT)
    assert [r.status_code for r in responses[:-1]] == [200] * (LIMIT - 1)
    assert responses[-1].status_code == 429  # the failure that reaches the limit locks

    response = log_in(client, "alice")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Account locked" in html
    assert "locked after 5 failed login attempts" in html
    assert "Please try again in 30 minutes." in html
    assert "registration/lockout.html" in [t.name for t in response.templates]
    assert not is_signed_in(client)


def test_the_lock_is_per_username_and_address(client, alice, bob):
    fail(client, "alice", LIMIT)
    assert log_in(client, "alice").status_code == 429

    # Another username from the same address signs in.
    assert log_in(client, "bob").status_code == 302
    assert client.session[SESSION_KEY] == str(bob.pk)
    client.logout()

    # The same username from another address signs in.
    assert log_in(client, "alice", ip="192.0.2.10").status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_reset_unlocks(client, alice):
    fail(client, "alice", LIMIT)
    assert log_in(client, "alice").status_code == 429

    assert reset(ip="127.0.0.1", username="alice") == 1
    assert log_in(client, "alice").status_code == 302
    assert is_signed_in(client)


def test_unlocked_when_the_cool_off_has_passed(client, alice):
    fail(client, "alice", LIMIT)
    assert log_in(client, "alice").status_code == 429

    cool_off = settings.AXES_COOLOFF_TIME
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cool_off + timedelta(seconds=1)
        attempt.save(update_fields=["attempt_time"])
    assert log_in(client, "alice").status_code == 302
    assert is_signed_in(client)


def test_a_successful_sign_in_resets_the_count(client, alice):
    fail(client, "alice", LIMIT - 1)
    assert log_in(client, "alice").status_code == 302
    client.logout()

    # Without the reset, these would make 2 * (LIMIT - 1) failures, past the limit.
    assert [r.status_code for r in fail(client, "alice", LIMIT - 1)] == [200] * (LIMIT - 1)
    assert log_in(client, "alice").status_code == 302


# --- The lockout page in both languages ------------------------------------------------------


def test_lockout_page_in_chinese_by_default(zh_client, alice):
    fail(zh_client, "alice", LIMIT)
    response = log_in(zh_client, "alice")
    html = response.content.decode()
    assert response.status_code == 429
    assert '<html lang="zh-hans">' in html
    with translation.override("zh-hans"):
        title = translation.gettext("Account locked")
        again = translation.ngettext(
            "Please try again in %(minutes)s minute.",
            "Please try again in %(minutes)s minutes.",
            30,
        ) % {"minutes": 30}
    assert title != "Account locked", "translate the lockout page (locale/zh_Hans)"
    assert title in html
    assert again in html
    assert "Account locked" not in html


def test_lockout_page_in_english_on_request(client, alice):
    fail(client, "alice", LIMIT)
    html = log_in(client, "alice").content.decode()
    assert '<html lang="en">' in html
    assert "Account locked" in html


def test_lockout_page_without_cool_off_asks_for_an_administrator(client, alice, settings):
    settings.AXES_COOLOFF_TIME = None
    fail(client, "alice", LIMIT)
    html = log_in(client, "alice").content.decode()
    assert "Please ask an administrator to unlock it." in html
    assert "try again in" not in html


# --- Axes and the test client ----------------------------------------------------------------


def test_force_login_is_not_affected(client, alice):
    client.force_login(alice)
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert client.get(reverse("catalog:asset_list")).context["user"] == alice


def test_client_login_needs_a_request(client, alice):
    """Axes checks the request of every authenticate(): give client.login one."""
    with pytest.raises(ValueError, match="requires a request"):
        client.login(username="alice", password=PASSWORD)
    assert client.login(request=HttpRequest(), username="alice", password=PASSWORD)
    assert client.session[SESSION_KEY] == str(alice.pk)


# --- Sessions and cookies --------------------------------------------------------------------


def test_session_and_csrf_cookies(client, alice):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True

    response = log_in(client, "alice")
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert not session_cookie["expires"] and not session_cookie["max-age"]  # browser session

    client.get(LOGIN)
    assert client.cookies[settings.CSRF_COOKIE_NAME]["httponly"]


# --- check --deploy --------------------------------------------------------------------------


def check_deploy(tmp_path, **overrides):
    """``manage.py check --deploy`` in a production environment; (exit code, output).

    ``overrides`` replace settings through a settings module that extends ours.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDC_")}
    env.update(
        HDC_SECRET_KEY=secrets.token_urlsafe(48),
        HDC_ALLOWED_HOSTS="catalog.example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    if "HDC_DATABASE_URL" in os.environ:
        env["HDC_DATABASE_URL"] = os.environ["HDC_DATABASE_URL"]
    if overrides:
        module = tmp_path / "override_settings.py"
        module.write_text(
            "from config.settings import *  # noqa: F403\n"
            + "".join(f"{name} = {value!r}\n" for name, value in overrides.items())
        )
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
        env["DJANGO_SETTINGS_MODULE"] = "override_settings"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    code, output = check_deploy(tmp_path)
    assert code == 0, output
    assert "System check identified no issues" in output


@pytest.mark.parametrize(
    ("override", "check_id"),
    [
        ({"SESSION_COOKIE_SECURE": False}, "security.W012"),
        ({"CSRF_COOKIE_SECURE": False}, "security.W016"),
        ({"SECURE_HSTS_SECONDS": 0}, "security.W004"),
        ({"DEBUG": True}, "security.W018"),
    ],
)
def test_check_deploy_catches_a_weakened_setting(tmp_path, override, check_id):
    """The clean run above is meaningful: the same run fails on one weakened setting."""
    code, output = check_deploy(tmp_path, **override)
    assert code != 0
    assert check_id in output
