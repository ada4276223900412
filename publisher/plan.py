"""The plan: a loaded project as the actions that make its outputs.

An action is a small frozen dataclass — render a release (its PDF and e-mail
edition), bundle a kit in one language, make a month's newsletter in one
language — named by a key, the digest of everything it reads (see
:mod:`publisher.keys`).  It refers to its sources by position in the loaded
project, which travels to every worker with the recipe, so it pickles in a
few bytes.  Releases come first: a kit or newsletter takes their pages from
the cache by the same keys.

Planning decides nothing from the cache or the build folder: a source that
cannot be built is a :class:`Refused` step with its problems, a newsletter
with nothing to show a :class:`Note`; the build folder then settles the
actions whose outputs the cache already holds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from . import selection
from .cache import key_of
from .errors import Problem, display_path, has_errors
from .inputs.schema import suggest
from .load import Release
from .localise import body_problems
from .workspace import Workspace


@dataclass(frozen=True)
class ReleaseJob:
    name: str  # what people see
    key: str  # the digest of what it reads: its cache key
    release: int  # index into the project's releases
    needs: tuple[str, ...] = ()  # the keys of the actions whose results it reads


@dataclass(frozen=True)
class KitJob:
    name: str
    key: str
    kit: int  # index into the project's kits
    lang: str
    needs: tuple[str, ...] = ()  # its releases' actions: it takes their pages from the store


@dataclass(frozen=True)
class NewsletterJob:
    name: str
    key: str
    month: str  # YYYY-MM
    lang: str
    ids: tuple[str, ...]  # the month's release ids, in date order
    needs: tuple[str, ...] = ()


Job = ReleaseJob | KitJob | NewsletterJob


@dataclass(frozen=True)
class Refused:
    """A source that makes no action, and why."""

    name: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Note:
    text: str


Step = Job | Refused | Note


def plan(ws: Workspace, paths_given: bool) -> list[Step]:
    """Every output's step, in the order the build reports them."""
    steps: list[Step] = []
    seen: dict[str, str] = {}
    wanted = set(ws.options.langs)

    def chosen(lang: str | None) -> bool:  # a source whose language is unknown is shown
        return not wanted or lang is None or lang in wanted

    for index, release in enumerate(ws.project.releases):
        if chosen(release.lang):
            steps.append(plan_release(ws, index, release, seen))
    if paths_given:
        return steps
    # a bundle laid out in the build's profile takes its releases' pages from
    # their actions (in another profile, it lays them out itself)
    made = {step.release: step.key for step in steps if isinstance(step, ReleaseJob)}
    slugs: dict[str, str] = {}
    for index, kit in enumerate(ws.project.kits):
        same = comparable(kit.slug)
        if same in slugs:
            steps.append(Refused(kit.file, (Problem(
                kit.file, None, f"{slugs[same]} makes a kit of the same name (names "
                "that differ only in case or in how accents are written are one "
                "file on many systems); rename one of them", code="K007"),)))
            continue
        slugs[same] = kit.file
        if kit.problems:
            steps.append(Refused(kit.file, tuple(kit.problems)))
            continue
        steps += [plan_kit(ws, index, lang, made) for lang in kit.meta.lang if chosen(lang)]
    months = selection.months(ws.project)
    steps += [plan_newsletter(ws, month, lang, months[month], made)
              for month, lang in selection.newsletter_editions(ws.project) if chosen(lang)]
    return steps


def _needs(ws: Workspace, releases: list[Release | None], made: dict[int, str] | None,
           profile_key: str) -> tuple[str, ...]:
    if not made or profile_key != ws.profile().key():
        return ()
    positions = [ws.index_of[id(r)] for r in releases if r is not None]
    return tuple(made[i] for i in positions if i in made)


def plan_release(ws: Workspace, index: int, release: Release, seen: dict[str, str]) -> Step:
    settings = ws.profile()
    problems = list(release.problems)
    target = ws.target("releases", f"{release.stem}.pdf", settings)
    # names that differ only in case, or in how an accent is written, are one
    # file on macOS and Windows, in a zip archive and in a URL
    same = comparable(target.name)
    if same in seen:
        problems.append(Problem(release.file, None, f"{seen[same]} makes an output of "
                                "the same name (names that differ only in case or in "
                                "how accents are written are one file on many systems)"
                                "; rename one of them", code="R007"))
    seen.setdefault(same, release.file)
    layout = ws.layout_of(release)
    if not has_errors(problems) and not ws.layouts.exists(layout):
        known = ws.layouts.names()
        hint = suggest(layout, known) or "layouts: " + ", ".join(known)
        problems.append(release.front.problem(
            ("layout",), f"no layout '{layout}' (a folder layouts/{layout}/ with "
                         f"{layout}.html); {hint}", code="R008"))
    if has_errors(problems):
        if release.located is None or has_errors(release.problems):
            problems += body_problems(release, ws.locale_inputs())  # one run, all
        return Refused(release.file, tuple(problems))
    key = key_of(ws.options.key_salt, "release",
                 ws.keys.fingerprint(layout, release.lang or "", settings),
                 ws.keys.release_inputs(release))
    return ReleaseJob(release.file, key, index)


def plan_kit(ws: Workspace, index: int, lang: str,
             made: dict[int, str] | None = None) -> KitJob:
    """``made``: release index → key of its action in this plan."""
    kit = ws.project.kits[index]
    settings = ws.profile(kit.meta.profile)
    releases = selection.release_index(ws.project)
    ids, _problems = selection.kit_release_ids(kit, releases)
    inputs: list = [ws.files.hash(kit.path, "settings")]
    members = [selection.version_in(releases.get(rid, {}), lang) for rid in ids]
    for rid, release in zip(ids, members, strict=True):
        inputs.append(ws.keys.release_inputs(release, settings) if release
                      else f"missing {rid}")
    for name in [kit.meta.cover, *kit.meta.attachments]:
        if name:
            inputs.append(ws.files.hash(kit.path.parent / name, "attachment"))
    key = key_of(ws.options.key_salt, "kit", lang,
                 ws.keys.fingerprint("kit", lang, settings), inputs)
    return KitJob(f"{kit.file} [{lang}]", key, index, lang,
                  _needs(ws, members, made, settings.key()))


def plan_newsletter(ws: Workspace, month: str, lang: str, ids: list[str],
                    made: dict[int, str] | None = None) -> Step:
    releases = selection.release_index(ws.project, clean=True)
    versions = [selection.version_in(releases[rid], lang) for rid in ids]
    present = [r for r in versions if r is not None]
    if present and all(r.meta.get("embargo") and r.meta["embargo"] > ws.as_of
                       for r in present):
        return Note(f"newsletter {month}.{lang}: not made, every release of the month is "
                    f"under embargo at {ws.as_of.isoformat()}")
    inputs: list = [selection.issue_number(ws.project, month)]
    inputs += [ws.keys.release_inputs(r, ws.profile()) if r else f"absent {rid}"
               for rid, r in zip(ids, versions, strict=True)]
    key = key_of(ws.options.key_salt, "newsletter", month, lang,
                 ws.keys.fingerprint("newsletter", lang, ws.profile()), inputs)
    return NewsletterJob(f"newsletter {month} [{lang}]", key, month, lang, tuple(ids),
                         _needs(ws, versions, made, ws.profile().key()))


def levels(jobs: list[Job]) -> list[list[Job]]:
    """``jobs`` in the order they can run: each level needs only the levels
    before it (an action's needs that are not planned are in the cache)."""
    level: dict[str, int] = {}
    for job in jobs:  # planned after what they need
        level[job.key] = 1 + max((level[k] for k in job.needs if k in level), default=-1)
    grouped: list[list[Job]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for job in jobs:
        grouped[level[job.key]].append(job)
    return grouped


def prefix(ws: Workspace, job: Job) -> str:
    """What the names of ``job``'s outputs start with, relative to build/."""
    if isinstance(job, ReleaseJob):
        stem = ws.project.releases[job.release].stem
        target = ws.target("releases", f"{stem}.", ws.profile())
    elif isinstance(job, KitJob):
        kit = ws.project.kits[job.kit]
        target = ws.target("kits", f"{kit.slug}.{job.lang}.", ws.profile(kit.meta.profile))
    else:
        target = ws.target("newsletters", f"{job.month}.{job.lang}.", ws.profile())
    return display_path(target, ws.build_dir)


def comparable(name: str) -> str:
    """What two output names compare by: composed (NFC), case folded."""
    return unicodedata.normalize("NFC", name).casefold()
