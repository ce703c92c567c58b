"""Institution administrators manage their institution's people."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from catalog.forms import add_validation_error

from . import services
from .forms import AddMemberForm, ChangeRoleForm
from .models import Institution, Membership
from .scoping import Action


def managed_institutions(user):
    return Institution.objects.restrict(user, Action.MANAGE_MEMBERS).select_related("region")


class InstitutionListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/institution_list.html"

    def get(self, request, *args, **kwargs):
        institutions = list(managed_institutions(request.user).order_by("name")[:200])
        if not institutions:
            raise PermissionDenied
        if len(institutions) == 1:
            return HttpResponseRedirect(reverse("accounts:members", args=[institutions[0].pk]))
        return self.render_to_response({"institutions": institutions})


class MembersView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/members.html"

    def institution(self) -> Institution:
        return get_object_or_404(managed_institutions(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        institution = context.get("institution") or self.institution()
        roles = services.assignable_roles(self.request.user)
        memberships = (
            Membership.objects.filter(institution=institution)
            .select_related("user").order_by("-is_active", "user__username", "role")
        )
        context.update(
            institution=institution,
            rows=[
                (m, m.role in roles, ChangeRoleForm(roles=roles, initial={"role": m.role},
                                                    prefix=f"m{m.pk}"))
                for m in memberships
            ],
            form=context.get("form") or AddMemberForm(roles=roles),
        )
        return context

    def post(self, request, pk: int):
        institution = self.institution()
        form = AddMemberForm(request.POST, roles=services.assignable_roles(request.user))
        if form.is_valid():
            try:
                membership = services.add_member(institution.pk, actor=request.user,
                                                 **form.cleaned_data)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, _("%(user)s is now %(role)s here.") % {
                    "user": membership.user, "role": membership.get_role_display()})
                return HttpResponseRedirect(request.path)
        return self.render_to_response(self.get_context_data(institution=institution, form=form))


class MembershipActionView(LoginRequiredMixin, View):
    """Change a member's role, or deactivate or reactivate it."""

    def post(self, request, pk: int, membership_id: int, operation: str):
        institution = get_object_or_404(managed_institutions(request.user), pk=pk)
        membership = get_object_or_404(Membership, pk=membership_id, institution=institution)
        try:
            if operation == "role":
                form = ChangeRoleForm(request.POST, roles=services.assignable_roles(request.user),
                                      prefix=f"m{membership.pk}")
                if not form.is_valid():
                    raise ValidationError(_("Choose a role you may give."))
                services.change_role(membership.pk, form.cleaned_data["role"], actor=request.user)
                messages.success(request, _("The role was changed."))
            elif operation in ("deactivate", "activate"):
                services.set_active(membership.pk, operation == "activate", actor=request.user)
                messages.success(request, _("The role was deactivated.") if operation ==
                                 "deactivate" else _("The role was reactivated."))
            else:
                raise PermissionDenied
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return HttpResponseRedirect(reverse("accounts:members", args=[institution.pk]))

