"""Parrainage (issue 7, fiche II.6): sponsor matching, proposals, the parrain's answer, onboarding.

This app sits above the directory (it reads the directory and opens chat rooms); the directory
imports none of it: an admission reaches `services.open_parrainage_step` through the handler this
app registers with `directory.membership.on_admission` in its `AppConfig.ready()`.

The models (`Parrainage`, `OnboardingStep`) still live in `directory/models.py`, under the
`directory` app label: moving them here needs migrations that rename their tables and move their
state between the two apps, which is a change of its own. Until then this app has no models and
no migrations. Templates stay under templates/directory/parrainage/ and the URL namespace stays
"parrainage".
"""
