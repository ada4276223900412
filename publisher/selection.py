"""Which releases an output holds: questions about a loaded project.

The plan, the actions, ``send`` and ``serve`` ask them: the releases by id and
language, a kit's releases (its list or what its selector matches), the
months and the newsletter editions the releases call for, an edition's issue
number.  Each answer is kept on the project (:attr:`Project.derived`), so a
question asked by every output is answered once.
"""

from __future__ import annotations

import datetime as dt

from .errors import Problem, has_errors
from .inputs.schema import suggest
from .load import Kit, Project, Release


def _asked_once(question):
    """``question(project, *args)`` answered once per project (and arguments)."""
    def answer(project: Project, *args, **named):
        key = (question.__name__, *args, *sorted(named.items()))
        if key not in project.derived:
            project.derived[key] = question(project, *args, **named)
        return project.derived[key]

    answer.__doc__, answer.__name__ = question.__doc__, question.__name__
    return answer


@_asked_once
def release_index(project: Project, clean: bool = False) -> dict[str, dict[str, Release]]:
    """Release id → language → release (only those that loaded cleanly if ``clean``)."""
    index: dict[str, dict[str, Release]] = {}
    for release in project.releases:
        if not release.lang:
            continue
        if clean and (not release.meta.get("date") or has_errors(release.problems)):
            continue
        index.setdefault(release.id, {})[release.lang] = release
    return index


def kit_release_ids(kit: Kit, index: dict[str, dict[str, Release]]) -> tuple[list[str],
                                                                              list[Problem]]:
    """The kit's release ids, in order: its list, or what its selector matches."""
    selection = kit.meta.releases
    problems = []
    if selection.ids is not None:
        ids = []
        for position, rid in enumerate(selection.ids):
            if rid not in index:
                hint = suggest(rid, index) or "check the release's file name"
                problems.append(kit.front.problem(("releases", position),
                                                    f"no release with id '{rid}'; {hint}",
                                                        code="K004"))
            else:
                ids.append(rid)
        return ids, problems
    tags = set(selection.tags)
    start, end = selection.start, selection.end
    matches = []
    for rid, versions in index.items():
        day = next((r.meta["date"] for r in versions.values() if r.meta.get("date")), None)
        if day is None:
            continue
        release_tags = {t for r in versions.values() for t in r.meta.get("tags") or []}
        if tags and not tags & release_tags:
            continue
        if (start and day < start) or (end and day > end):
            continue
        matches.append((day, rid))
    if not matches:
        problems.append(kit.front.problem(("releases",), "the selector matches no release; "
                                                           "check its tags and dates",
                                            severity="warning", code="K004"))
    return [rid for _day, rid in sorted(matches)], problems


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


@_asked_once
def months(project: Project) -> dict[str, list[str]]:
    """Month → ids of the releases dated in it that loaded cleanly, in date order."""
    found: dict[str, list[tuple[dt.date, str]]] = {}
    for rid, versions in release_index(project, clean=True).items():
        day = next(iter(versions.values())).meta["date"]
        found.setdefault(month_of(day), []).append((day, rid))
    return {month: [rid for _day, rid in sorted(items)] for month, items in sorted(found.items())}


@_asked_once
def _first_month(project: Project) -> str | None:
    return min((month_of(r.meta["date"]) for r in project.releases if r.meta.get("date")),
               default=None)


def issue_number(project: Project, month: str) -> int:
    """Issue numbers count months from the first month that has a release."""
    first = _first_month(project)
    if first is None:
        return 1
    first_year, first_month = map(int, first.split("-"))
    year, number = map(int, month.split("-"))
    return (year - first_year) * 12 + (number - first_month) + 1


@_asked_once
def newsletter_editions(project: Project) -> list[tuple[str, str]]:
    """(month, language) of every newsletter the clean releases call for."""
    return sorted({(month_of(r.meta["date"]), lang)
                   for versions in release_index(project, clean=True).values()
                   for lang, r in versions.items()})


def version_in(versions: dict[str, Release], lang: str) -> Release | None:
    """The version of a release in ``lang``, or in a variant of its base language."""
    if lang in versions:
        return versions[lang]
    base = lang.split("_")[0]
    return next((r for code, r in sorted(versions.items()) if code.split("_")[0] == base), None)


def title_of(versions: dict[str, Release], default_lang: str | None) -> str:
    """How a release left out of an edition is named: its title and id."""
    release = versions.get(default_lang or "") or versions[sorted(versions)[0]]
    return f"{release.meta.get('title') or release.id} ({release.id})"
