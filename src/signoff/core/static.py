"""Static files served by the app itself (WhiteNoise), in the demo and in production alike.

`signoff serve` collects them into ``STATIC_ROOT`` (compressed beside the originals) before it
starts, so they are served from there with gzip. A process that has not collected them (the
test client, ``signoff.config.wsgi`` under another server before ``collectstatic``) serves
them straight from the installed apps instead of answering 404 for every stylesheet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedStaticFilesStorage


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, reading the installed apps' files when ``STATIC_ROOT`` was never collected."""

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if os.path.isdir(root):
            super().add_files(root, prefix)
        else:
            # WhiteNoise would warn and serve nothing; the apps' own files are the same files.
            self.use_finders = True


class CompressedStaticFiles(CompressedStaticFilesStorage):
    """WhiteNoise's gzip beside each collected file, made again only for files that changed
    since the last collect: `signoff serve` collects at every start, and should start fast."""

    def post_process(self, paths: dict, dry_run: bool = False, **options: object) -> Iterator:
        changed = {name: found for name, found in paths.items() if not self._gzip_current(name)}
        yield from super().post_process(changed, dry_run=dry_run, **options)

    def _gzip_current(self, name: str) -> bool:
        path = self.path(name)
        try:
            return os.path.getmtime(f"{path}.gz") >= os.path.getmtime(path)
        except OSError:  # no .gz yet (or a file that is never compressed)
            return False
