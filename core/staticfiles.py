"""Static files named after their content in production, so that the proxy can cache them for a year."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class HashedStaticFilesStorage(ManifestStaticFilesStorage):
    """ManifestStaticFilesStorage (site.css → site.3f2a9c1b7e40.css, deploy/nginx.conf), strict once
    `collectstatic` has written its manifest into STATIC_ROOT.

    Before that (DEBUG off on a machine where collectstatic never ran: benchmarks, `check --deploy`),
    URLs keep the plain names, as StaticFilesStorage gives, instead of every page failing for want of
    a manifest. The web service of docker-compose.yml runs collectstatic before it serves anything.
    """

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return super().stored_name(name)
