"""One portal site's folder as its own state.

    {output_dir}/{site}/
        _manifest.json                      item id → title, columns, path, url, dates, revision
        index.html                          home: the newest items across columns
        {column}/index.html, index_1.html…  column lists, newest first (TRS style)
        {column}/{YYYYMM}/t{YYYYMMDD}_{id}.html
        media/{sha256}.{ext}                copies of the items' media
        sitemap.xml, rss.xml

Every file is written atomically (temp file in the same folder, then `os.replace`), so a reader or a
web server never sees half a page. The manifest is written last: when it lists a revision, the page
and every list that shows it are already on disk, which is what `verify` relies on. Writers of one
site are serialised with an exclusive `flock` on `.lock`, across threads and processes.

Publishes to one site that arrive together in one process are written as a group (group commit):
the thread that gets the site writes every waiting page, then rebuilds the lists, the sitemap and
the feed once and writes the manifest once, instead of once per page; each caller still gets its
own entry or its own error.
"""

import fcntl
import hashlib
import json
import os
import re
import threading
from concurrent.futures import Future
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.files import write_atomic
from connectors.base import MediaSource, PermanentError
from connectors.portal.render import (
    PageEntry,
    SiteInfo,
    media_filename,
    paginate,
    render_article,
    render_column_page,
    render_home,
    render_rss,
    render_sitemaps,
)
from connectors.portal.urls import article_path
from schemas.item import ItemSnapshot

MANIFEST = "_manifest.json"
LOCK = ".lock"
MEDIA_DIR = "media"
SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ARTICLE_PATH = re.compile(r"/sites/(?P<site>[^/]+)/[A-Za-z0-9][A-Za-z0-9_-]*/\d{6}/t\d{8}_(?P<id>\d+)\.html")
EXTRA_INDEX = re.compile(r"index_(\d+)\.html")
EXTRA_SITEMAP = re.compile(r"sitemap_(\d+)\.xml")


class _SiteQueue:
    """Publishes waiting for one site folder in this process."""

    def __init__(self):
        self.mutex = threading.Lock()  # guards `waiting`
        self.writer = threading.Lock()  # one thread of this process writes the site at a time
        self.waiting: list[tuple[ItemSnapshot, list[str], Future]] = []


_QUEUES: dict[Path, _SiteQueue] = {}
_QUEUES_LOCK = threading.Lock()
_MANIFESTS: dict[Path, tuple[tuple[int, int, int], dict[int, "PageEntry"]]] = {}  # parsed, by file identity


def _queue_for(folder: Path) -> _SiteQueue:
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(folder, _SiteQueue())


def _check_code(kind: str, code: str) -> None:
    """Site and column codes become folder names: nothing that could climb out of the site."""
    if not SAFE_CODE.fullmatch(code) or code == MEDIA_DIR:
        raise PermanentError(f"invalid {kind} code {code!r}: use letters, digits, '-' and '_'", code="bad_config")


class SiteWriter:
    """Writes one site of the group: article pages, column lists, home page, sitemap and feed."""

    def __init__(self, output_dir: Path | str, base_url: str, site_code: str, site_name: str,
                 columns: Mapping[str, str], page_size: int = 20, *, site_id_code: str | None = None,
                 media: MediaSource | None = None, timezone: str = "Asia/Shanghai"):
        _check_code("site", site_code)
        for column in columns:
            _check_code("column", column)
        if page_size < 1:
            raise PermanentError(f"page size must be at least 1, not {page_size}", code="bad_config")
        self.dir = Path(output_dir) / site_code
        self.site = SiteInfo(code=site_code, name=site_name, base_url=base_url, columns=dict(columns),
                             id_code=site_id_code or None, page_size=page_size, tz=ZoneInfo(timezone))
        self.media = media

    # -- reading ---------------------------------------------------------------------------------

    def entries(self) -> dict[int, PageEntry]:
        """The manifest: every article on this site by item id (parsed once per version of the file:
        it is only ever replaced whole, so inode, size and mtime name a version)."""
        manifest = self.dir / MANIFEST
        try:
            stat = os.stat(manifest)
        except FileNotFoundError:  # never deleted once written: only replaced
            return {}
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        cached = _MANIFESTS.get(manifest)
        if cached and cached[0] == version:
            return dict(cached[1])
        try:
            raw = json.loads(manifest.read_bytes().decode("utf-8"))
            entries = {int(item_id): PageEntry.model_validate(entry) for item_id, entry in raw["items"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PermanentError(f"manifest of site {self.site.code} is unreadable: {exc}") from exc
        _MANIFESTS[manifest] = (version, entries)
        return dict(entries)

    def entry(self, item_id: int) -> PageEntry | None:
        return self.entries().get(item_id)

    def file_for(self, path: str) -> Path:
        """The file behind a URL path of this site (`/sites/{site}/…`)."""
        if not path.startswith(self.site.root) or ".." in path.split("/"):
            raise PermanentError(f"path {path!r} is not on site {self.site.code}")
        return self.dir / path.removeprefix(self.site.root)

    def path_for(self, item: ItemSnapshot, column: str) -> str:
        """The item's canonical path when this is its home site; on a site that re-publishes it (转载),
        this site's own path in `column`, dated in the site's time zone like the canonical URL."""
        base = self.site.base_url.rstrip("/")
        if item.canonical_url.startswith(base + self.site.root):
            path = item.canonical_url.removeprefix(base)
            match = ARTICLE_PATH.fullmatch(path)
            if match and match["site"] == self.site.code and int(match["id"]) == item.id:
                return path
        return article_path(self.site.code, column, item.published_at.astimezone(self.site.tz), item.id)

    # -- writing ---------------------------------------------------------------------------------

    def upsert(self, item: ItemSnapshot, columns: Sequence[str] | None = None) -> PageEntry:
        """Publish or replace the item's page and the lists that show it.

        `columns` are the item's columns on this site (default: `item.columns`); the page lives in
        the first one and is listed in all. Its URL never changes once written. A revision older than
        the one on the site is ignored (a late redelivery must not undo a correction).
        """
        columns = list(dict.fromkeys(columns or item.columns))
        if not columns:
            raise PermanentError(f"item {item.id} has no column on site {self.site.code}", code="no_column")
        unknown = [c for c in columns if c not in self.site.columns]
        if unknown:
            raise PermanentError(f"site {self.site.code} has no column {', '.join(unknown)}", code="unknown_column")

        done: Future = Future()
        queue = _queue_for(self.dir)
        with queue.mutex:
            queue.waiting.append((item, columns, done))
        with queue.writer:
            if not done.done():  # nobody wrote it meanwhile: write everything waiting, this one included
                with queue.mutex:
                    group, queue.waiting = queue.waiting, []
                self._upsert_group(group)
        return done.result()

    def _upsert_group(self, group: list[tuple[ItemSnapshot, list[str], Future]]) -> None:
        """Pages first, then the lists once, then the manifest once; each future gets its entry or error."""
        written: list[tuple[Future, PageEntry]] = []
        try:
            with self._locked():
                manifest = self.entries()
                touched: set[str] = set()
                for item, columns, done in group:
                    try:
                        entry, changed = self._write_page(manifest, item, columns)
                    except Exception as exc:  # this item only
                        done.set_exception(exc)
                        continue
                    if changed is None:  # an older revision than the site's: nothing to write
                        done.set_result(entry)
                        continue
                    touched |= changed
                    written.append((done, entry))
                if written:
                    self._write_indexes(manifest, touched)
                    self._write_manifest(manifest)
                    self._collect_media(manifest)
        except Exception as exc:  # the lists or the manifest: none of the group is published
            for done, _ in written:
                done.set_exception(exc)
            for _, _, done in group:
                if not done.done():
                    done.set_exception(exc)
            return
        for done, entry in written:
            done.set_result(entry)

    def _write_page(self, manifest: dict[int, PageEntry], item: ItemSnapshot,
                    columns: list[str]) -> tuple[PageEntry, set[str] | None]:
        """The item's page and media; its entry goes into `manifest`. Returns (entry, the columns
        whose lists change), or (the site's entry, None) when the site has a newer revision."""
        previous = manifest.get(item.id)
        if previous and previous.revision > item.revision and self.file_for(previous.path).exists():
            return previous, None
        path = previous.path if previous else self.path_for(item, columns[0])
        media_files = self._copy_media(item)
        write_atomic(self.file_for(path), render_article(item, self.site, columns, path).encode())
        entry = PageEntry(
            title=item.title, columns=columns, path=path, url=self.site.url(path),
            published_at=item.published_at, updated_at=item.updated_at, revision=item.revision,
            summary=item.summary, media_files=media_files,
        )
        manifest[item.id] = entry
        return entry, {*columns, *(previous.columns if previous else ())}

    def remove(self, item_id: int) -> bool:
        """Take the item's page down and rebuild every list that showed it. False if it was not here.

        Also deletes a page left by a publish that stopped before the manifest was written.
        """
        with self._locked():
            manifest = self.entries()
            entry = manifest.pop(item_id, None)
            own_page = re.compile(rf"t\d{{8}}_{item_id}\.html")
            pages = {p for p in self.dir.glob(f"*/*/t*_{item_id}.html") if own_page.fullmatch(p.name)}
            if entry:
                pages.add(self.file_for(entry.path))
            if entry is None and not pages:
                return False
            self._write_indexes(manifest, entry.columns if entry else None)
            for page in pages:
                page.unlink(missing_ok=True)
                with suppress(OSError):
                    page.parent.rmdir()  # the month folder, once empty
            self._write_manifest(manifest)
            self._collect_media(manifest)
            return entry is not None

    def rebuild_indexes(self) -> None:
        """Rewrite every column list, the home page, the sitemap and the feed from the manifest."""
        with self._locked():
            self._write_indexes(self.entries(), None)

    # -- internals -------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / LOCK, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write_manifest(self, manifest: Mapping[int, PageEntry]) -> None:
        document = {
            "site": self.site.code,
            "items": {str(i): manifest[i].model_dump(mode="json") for i in sorted(manifest)},
        }
        write_atomic(self.dir / MANIFEST, json.dumps(document, ensure_ascii=False, indent=2).encode())
        stat = os.stat(self.dir / MANIFEST)  # what was just written needs no parsing by this process
        _MANIFESTS[self.dir / MANIFEST] = ((stat.st_ino, stat.st_size, stat.st_mtime_ns), dict(manifest))

    def _copy_media(self, item: ItemSnapshot) -> list[str]:
        names = []
        for ref in item.media:
            try:
                name = media_filename(ref)
            except ValueError as exc:
                raise PermanentError(f"item {item.id}: {exc}", code="bad_media") from exc
            target = self.dir / MEDIA_DIR / name
            if not target.exists():
                if self.media is None:
                    raise PermanentError(f"item {item.id} has media but the site writer has no media source")
                data = self.media.read(ref.sha256)
                if hashlib.sha256(data).hexdigest() != ref.sha256:
                    raise PermanentError(f"media {ref.sha256} does not match its digest", code="media_corrupt")
                write_atomic(target, data)
            names.append(name)
        return names

    def _collect_media(self, manifest: Mapping[int, PageEntry]) -> None:
        """Media no article uses any more goes too: a taken-down image must not stay reachable."""
        keep = {name for entry in manifest.values() for name in entry.media_files}
        folder = self.dir / MEDIA_DIR
        if folder.is_dir():
            for file in folder.iterdir():
                if file.name not in keep and not file.name.startswith("."):
                    file.unlink(missing_ok=True)

    def _write_indexes(self, manifest: Mapping[int, PageEntry], columns: Iterable[str] | None) -> None:
        """The lists of `columns` (all when None, plus any column that has no list yet), the home
        page, the sitemap and the feed."""
        entries = list(manifest.values())
        wanted = set(self.site.columns if columns is None else columns)
        for column in self.site.columns:
            if column in wanted or not (self.dir / column / "index.html").exists():
                self._write_column(column, [e for e in entries if column in e.columns])
        write_atomic(self.dir / "index.html", render_home(self.site, entries).encode())
        sitemaps = render_sitemaps(self.site, entries)
        for name, data in sitemaps.items():
            write_atomic(self.dir / name, data)
        self._remove_extra(self.dir, EXTRA_SITEMAP, len(sitemaps) - 1)
        write_atomic(self.dir / "rss.xml", render_rss(self.site, entries))

    def _write_column(self, column: str, entries: Sequence[PageEntry]) -> None:
        pages = paginate(entries, self.site.page_size)
        folder = self.dir / column
        for number, page in enumerate(pages):
            html = render_column_page(self.site, column, page, number, len(pages), len(entries))
            write_atomic(folder / ("index.html" if number == 0 else f"index_{number}.html"), html.encode())
        self._remove_extra(folder, EXTRA_INDEX, len(pages) - 1)

    @staticmethod
    def _remove_extra(folder: Path, pattern: re.Pattern, keep_up_to: int) -> None:
        """Numbered pages beyond the last one still needed (a list that got shorter)."""
        for file in folder.iterdir():
            match = pattern.fullmatch(file.name)
            if match and int(match.group(1)) > keep_up_to:
                file.unlink(missing_ok=True)
