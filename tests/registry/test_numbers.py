"""Registration numbers: the documented format, continuing after those in the ledger, never
issued twice — also under concurrent approvals."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import DataAsset
from registry import numbers, workflow
from registry.choices import ApplicationKind, Transition

from ..factories import DataAssetFactory, InstitutionFactory
from .conftest import ledger_data


@pytest.mark.django_db
def test_format_and_continuation_after_existing_numbers(hospital):
    year = timezone.now().year
    DataAssetFactory(holder=hospital, registration_number=f"ZJ-{year}-00000041")
    with transaction.atomic():
        first = numbers.allocate("330106")
        second = numbers.allocate("330106")
        national = numbers.allocate(None)
        other = numbers.allocate("440106")
    assert first == f"ZJ-{year}-00000042" and second == f"ZJ-{year}-00000043"
    assert national == f"CN-{year}-00000001" and other == f"GD-{year}-00000001"
    assert all(numbers.PATTERN.match(n) for n in (first, second, national, other))


@pytest.mark.django_db
def test_a_rolled_back_approval_issues_nothing(hospital):
    year = timezone.now().year
    with pytest.raises(RuntimeError), transaction.atomic():
        numbers.allocate("330106")
        raise RuntimeError
    with transaction.atomic():
        assert numbers.allocate("330106") == f"ZJ-{year}-00000001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_get_distinct_numbers(registrar, steward, hospital):
    applications = []
    for i in range(6):
        application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                      actor=registrar)
        workflow.save_draft(application.pk, actor=registrar,
                            payload=ledger_data(code=f"REG-C{i}"))
        applications.append(workflow.take(application.pk, Transition.SUBMIT, actor=registrar))
    start = threading.Barrier(len(applications))
    errors = []

    def approve(application_id):
        try:
            start.wait()
            workflow.take(application_id, Transition.APPROVE, actor=steward)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(a.pk,)) for a in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    issued = list(DataAsset.objects.filter(code__startswith="REG-C")
                  .values_list("registration_number", flat=True))
    assert len(issued) == 6 and len(set(issued)) == 6
    sequences = sorted(int(numbers.PATTERN.match(n)["sequence"]) for n in issued)
    assert sequences == list(range(1, 7))


@pytest.mark.django_db
def test_national_institutions_use_cn(registrar):
    institution = InstitutionFactory(commission=True, region=None)
    assert numbers.prefix_for(institution.region_id) == "CN"
