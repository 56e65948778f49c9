from django.contrib.auth import views as auth_views

from directory.forms_account import LoginForm


class PasswordLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            # The form again, with the reason; 429 tells scripts and proxies it is a rate limit.
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
