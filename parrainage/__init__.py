"""Parrainage (issue 7, fiche II.6): sponsor matching, proposals, the parrain's answer, onboarding.

This app sits above the directory, chat and membership (it reads the directory and the admitted
applications, opens chat rooms); none of them imports it. It reaches them through the registries it
fills in its `AppConfig.ready()`: an admission reaches `services.open_parrainage_step` through
`directory.admission.on_admission`; the association page shows its parrains and filleuls through
`directory.selectors.add_association_section`; chat offers their directors as first contacts
through `chat.selectors.add_contact_source`.

The models (`Parrainage`, `OnboardingStep`) keep the tables they had under the `directory` app
label (db_table); parrainage/migrations/0001_initial.py moved only Django's state, not the data.
Templates stay under templates/directory/parrainage/ and the URL namespace stays "parrainage" (it
also holds the membership commission's pages, whose URL names predate the membership app).
"""
