from __future__ import annotations

from portal.blueprints.auth.forms import ChoosePasswordForm


class RegisterForm(ChoosePasswordForm):
    """Sign-up from an invitation: the e-mail address is the invited one (the signed link
    proves it). A colleague joins the inviting account only: no company, no account of
    their own."""
