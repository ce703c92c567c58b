"""A finding's evidence in words: what exactly the run saw."""

from __future__ import annotations

from django.utils.translation import gettext as _

from catalog.models import DataAsset
from catalog.rules import minimum_grade

from .choices import FindingRule

FIELD_LABELS = {
    "volume": lambda: _("volume (records or storage size)"),
    "responsible_contact": lambda: _("responsible person's phone or email"),
}

RESPONSIBLE = {
    "blank": lambda: _("No responsible person is named."),
    "inactive": lambda: _("The responsible person's account is deactivated."),
    "left": lambda: _("The responsible person is no longer a member of the holding institution."),
}


def describe(finding) -> str:
    rule, evidence = finding.rule, finding.evidence
    if rule == FindingRule.STALE:
        return _("Last data update %(date)s; declared frequency: %(frequency)s.") % {
            "date": evidence or "—", "frequency": finding.asset.get_update_frequency_display()}
    if rule == FindingRule.MISSING_FIELDS:
        names = []
        for name in evidence.split():
            label = FIELD_LABELS.get(name)
            names.append(label() if label else str(DataAsset._meta.get_field(name).verbose_name))
        return _("Missing: %(fields)s.") % {"fields": "、".join(names)}
    if rule == FindingRule.RESPONSIBLE_GONE:
        return RESPONSIBLE.get(evidence, lambda: evidence)()
    if rule == FindingRule.VOLUME_JUMP:
        records, _sep, size = evidence.partition(" ")
        return _("Records %(records)s; storage bytes %(bytes)s (last run → now).") % {
            "records": records.replace(">", " → "), "bytes": size.replace(">", " → ")}
    if rule == FindingRule.STORED_ABROAD:
        return _("Grade %(grade)d data stored at: %(location)s.") % {
            "grade": finding.asset.grade, "location": evidence}
    if rule == FindingRule.GRADE_BELOW_CATEGORY:
        return _("Grade %(grade)s; its categories imply at least grade %(minimum)d.") % {
            "grade": evidence, "minimum": minimum_grade(finding.asset.categories)}
    if rule == FindingRule.SHARING_ABOVE_GRADE:
        asset = finding.asset
        return _("Grade %(grade)d, %(sharing)s, %(open)s.") % {
            "grade": asset.grade, "sharing": asset.get_sharing_type_display(),
            "open": asset.get_open_attribute_display()}
    if finding.subject.startswith("allocation:"):
        right, _sep, until = evidence.partition(" ")
        from rights.choices import Right

        label = dict(Right.choices).get(right, right)
        values = {"id": finding.subject.split(":")[1], "right": label, "until": until}
        if not until or until == "-":
            return _("Allocation #%(id)s: %(right)s, with no end date.") % values
        return _("Allocation #%(id)s: %(right)s, valid until %(until)s.") % values
    if finding.subject.startswith(("usergrant:", "groupgrant:")):
        if rule == FindingRule.GRANT_REVOKED:
            return _("Permission of %(grantee)s ended and was revoked.") % {"grantee": evidence}
        if not evidence:
            return _("Permission #%(id)s, with no end date.") % {
                "id": finding.subject.split(":")[1]}
        return _("Permission #%(id)s, valid until %(until)s.") % {
            "id": finding.subject.split(":")[1], "until": evidence}
    return evidence
