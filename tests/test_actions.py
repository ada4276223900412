"""The plan's actions, run directly: from a workspace or from its pickled recipe,
inline, in forked and in spawned workers — the same bytes every way."""

from __future__ import annotations

import datetime as dt
import io
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from pypdf import PdfReader

AS_OF = dt.datetime(2018, 6, 20, tzinfo=dt.timezone.utc)


def _planned(root: Path):
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions

    made = Build(load(root), BuildOptions(as_of=AS_OF, use_cache=False))
    return made, made.plan(False)


def test_each_action_kind_runs_from_a_workspace_and_writes_nothing(only_fr):
    from publisher.actions import run
    from publisher.plan import KitJob, NewsletterJob, ReleaseJob

    made, jobs = _planned(only_fr.root)
    kinds = {type(job): job for job in jobs}
    assert set(kinds) == {ReleaseJob, KitJob, NewsletterJob}
    names = {}
    for kind, job in kinds.items():
        result = run(made.workspace, job)
        assert result.problems == [] or all(p.severity == "warning" for p in result.problems)
        names[kind] = [file.name for file in result.files]
        pdf = PdfReader(io.BytesIO(result.files[0].data))
        assert "Roscosmos" in "".join(page.extract_text() for page in pdf.pages)
        assert result.files[0].pages == len(pdf.pages)
    assert names[ReleaseJob] == ["releases/2018-06-15-cnes-roscosmos.fr.pdf",
                                 "releases/2018-06-15-cnes-roscosmos.fr.eml"]
    assert names[KitJob] == ["kits/cnes-roscosmos-2018.fr.pdf",
                             "kits/cnes-roscosmos-2018.fr.eml"]
    assert names[NewsletterJob][0] == "newsletters/2018-06.fr.pdf"
    # the build folder writes what an action made; the action wrote nothing
    assert not (only_fr.root / "build").exists()


def test_an_action_and_its_recipe_pickle_and_give_the_same_bytes(only_fr):
    from publisher.actions import run
    from publisher.workspace import Workspace

    made, jobs = _planned(only_fr.root)
    job = jobs[0]
    here = run(made.workspace, job)
    recipe, sent = pickle.loads(pickle.dumps((made.workspace.recipe, job)))
    elsewhere = run(Workspace(recipe), sent)
    assert [(f.name, f.data) for f in elsewhere.files] == [(f.name, f.data) for f in here.files]
    assert len(pickle.dumps(job)) < 300  # an action is named, not shipped


def test_a_bundle_needs_its_releases_actions_and_runs_after_them(only_fr):
    from publisher.plan import KitJob, NewsletterJob, ReleaseJob, levels

    _made, jobs = _planned(only_fr.root)
    release = next(job for job in jobs if isinstance(job, ReleaseJob))
    bundles = [job for job in jobs if isinstance(job, KitJob | NewsletterJob)]
    assert release.needs == () and len(bundles) == 2
    assert all(job.needs == (release.key,) for job in bundles)
    assert levels(jobs) == [[release], bundles]
    # what a bundle needs and the cache already holds is not planned: it runs at once
    assert levels(bundles) == [bundles]


def test_a_bundle_in_another_profile_lays_out_its_releases_itself(only_fr):
    from publisher.plan import KitJob

    kit = only_fr.root / "sources/kits/cnes-roscosmos-2018.yaml"
    kit.write_text(kit.read_text(encoding="utf-8") + "profile: print\n", encoding="utf-8")
    _made, jobs = _planned(only_fr.root)
    assert [job.needs for job in jobs if isinstance(job, KitJob)] == [()]


def test_planning_is_data_the_same_twice(only_fr):
    _made, first = _planned(only_fr.root)
    _made, second = _planned(only_fr.root)
    assert first == second and len({job.key for job in first}) == len(first)


def _outputs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root / "build").as_posix(): p.read_bytes()
            for p in sorted((root / "build").rglob("*"))
            if p.is_file() and ".cache" not in p.parts and p.name != "manifest.json"}


@pytest.mark.parametrize("sources", ["sources", "tests/fixtures/aurora/sources"],
                         ids=["sample", "aurora"])
def test_inline_fork_and_spawn_give_the_same_bytes(sources, tmp_path):
    ways = {"inline": (1, "fork", False), "fork": (2, "fork", False),
            "spawn": (2, "spawn", False), "isolated": (2, "spawn", True)}
    built = {}
    for way, (jobs, method, isolated) in ways.items():
        root = tmp_path / way
        shutil.copytree(REPO / sources, root / "sources")
        code = ("import datetime as dt; from publisher.pipeline import build; "
                f"result = build({str(root)!r}, jobs={jobs}, isolated={isolated}, "
                "as_of=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)); "
                "assert result.ok, [str(p) for p in result.errors]; "
                "assert result.rendered >= 3, result.rendered")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=600,
                       env={**os.environ, "PUBLISHER_START_METHOD": method})
        built[way] = _outputs(root)
    assert len(built["inline"]) >= 9 and any(n.startswith("kits/") for n in built["inline"])
    for way in ("fork", "spawn", "isolated"):
        assert built[way].keys() == built["inline"].keys()
        differ = [name for name, data in built[way].items() if data != built["inline"][name]]
        assert differ == [], f"{way} differs from inline in {differ}"


def test_isolated_workers_need_the_store_not_the_project_folder(tmp_path):
    from publisher.execute import execute
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions
    from publisher.plan import ReleaseJob

    root, away = tmp_path / "project", tmp_path / "elsewhere"
    shutil.copytree(REPO / "sources", root / "sources")
    out = tmp_path / "out"
    made = Build(load(root), BuildOptions(as_of=AS_OF, isolated=True, start_method="spawn",
                                          build_dir=out / "build", cache_dir=out / "cache"))
    jobs = [job for job in made.plan(False) if isinstance(job, ReleaseJob)]
    assert len(jobs) == 3
    recipe = made.isolated()
    assert recipe.project is None and recipe.tree is not None
    assert any(name.endswith(".fr.md") for name, _sha in recipe.tree.files)
    root.rename(away)  # from here on, the project's folder is gone
    execute(jobs, made.workspace, 2, made.folder.collect, lambda: recipe)
    assert made.result.errors == [] and made.result.rendered == 3
    for output in made.result.outputs:
        assert output.path.is_file() and output.path.is_relative_to(out / "build")
    pdf = next(o.path for o in made.result.outputs if o.path.name.endswith(".ru.pdf"))
    assert "Роскосмос" in PdfReader(pdf).pages[0].extract_text()


def test_an_isolated_worker_says_when_the_store_lost_an_object(tmp_path):
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions
    from publisher.plan import ReleaseJob

    root = tmp_path / "project"
    shutil.copytree(REPO / "sources", root / "sources")
    made = Build(load(root), BuildOptions(as_of=AS_OF, isolated=True, start_method="spawn"))
    jobs = [job for job in made.plan(False) if isinstance(job, ReleaseJob)]
    recipe = made.isolated()
    assert recipe.tree is not None
    site = next(sha for name, sha in recipe.tree.files if name == "sources/site.yaml")
    made.workspace.cache.store.path(site).unlink()  # the store lost it after planning
    from publisher.execute import execute

    execute(jobs, made.workspace, 2, made.folder.collect, lambda: recipe)
    assert made.result.rendered == 0 and len(made.result.failed) == 3
    assert [(p.file, p.code) for p in made.result.errors] == [("sources/site.yaml", "O004")]
    assert "missing from the store" in str(made.result.errors[0])
