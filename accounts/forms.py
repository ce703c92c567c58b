"""Forms of an institution administrator managing the institution's people."""

from __future__ import annotations

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from .choices import Role


def role_choices(roles) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if value in roles]


class AddMemberForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()],
        help_text=_("An existing account is given the role; a new one is created."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"))
    password = forms.CharField(
        label=_("Initial password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Only for a new account; its holder should change it on first sign-in."),
    )

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)
