"""Shared fixtures: settings safe for tests, an English-speaking client, role fixtures."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from pytest_django.plugin import blocking_manager_key

from accounts.choices import Role

from .factories import InstitutionFactory, MembershipFactory, UserFactory, region


@pytest.fixture(scope="session")
def _static_root(tmp_path_factory):
    return tmp_path_factory.mktemp("static")


@pytest.fixture(autouse=True)
def _test_settings(settings, _static_root):
    """Whatever HDC_* the run was started with, serve the test client over plain HTTP."""
    settings.STATIC_ROOT = _static_root
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CATALOG_PAGE_SIZE = 25
    settings.CATALOG_FACET_CACHE_SECONDS = 0  # tests that need the cache turn it on
    settings.REPORT_CACHE_SECONDS = 0
    settings.API_PUBLIC_CACHE_SECONDS = 0
    settings.REPORT_ROLLUP_MAX_AGE = 0
    return settings


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only when the database is PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (HDC_DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test (whose teardown empties every table), put back the rows
    the migrations seed, for the tests that come after it."""
    yield
    marker = item.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction") and nextitem is not None:
        from .helpers import reseed

        with item.config.stash[blocking_manager_key].unblock():
            reseed()


@pytest.fixture
def client():
    """A browser that asks for English, so that messages can be asserted by their text."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def zh_client():
    """A browser that states no language preference: the site default (简体中文) applies."""
    return Client()


# --- People in their roles ------------------------------------------------------------------


@pytest.fixture
def province_commission(db):
    """The health commission of 浙江省 (province 33)."""
    return InstitutionFactory(commission=True, name="浙江省卫生健康委员会", region=region("33"))


@pytest.fixture
def hospital(db):
    """A hospital in 杭州市西湖区 (330106), inside province 33."""
    return InstitutionFactory(name="浙江大学医学院附属第一医院", region=region("330106"))


@pytest.fixture
def far_hospital(db):
    """A hospital in 广州市天河区 (440106), province 44."""
    return InstitutionFactory(name="广东省人民医院", region=region("440106"))


@pytest.fixture
def steward(province_commission):
    return MembershipFactory(
        user=UserFactory(username="steward33"), institution=province_commission, role=Role.STEWARD
    ).user


@pytest.fixture
def registrar(hospital):
    return MembershipFactory(
        user=UserFactory(username="registrar"), institution=hospital, role=Role.REGISTRAR
    ).user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)
