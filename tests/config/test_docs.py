"""The README's promises about files and its CI snippet (issue 12)."""

import re

import yaml

from tests.config.helpers import REPO

README = (REPO / "README.md").read_text()


def ci_workflow() -> dict:
    section = README[README.index("### In CI") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    return yaml.safe_load(block)


def test_ci_snippet_is_a_complete_workflow():
    workflow = ci_workflow()
    (job,) = workflow["jobs"].values()
    postgres = job["services"]["postgres"]
    assert postgres["image"].startswith("postgres")
    assert "5432:5432" in postgres["ports"]
    password = postgres["env"]["POSTGRES_PASSWORD"]
    url = job["env"]["DATABASE_URL"]
    assert url == f"postgres://postgres:{password}@localhost:5432/shop"
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert any(use.startswith("actions/checkout") for use in uses)
    assert any(use.startswith("actions/setup-python") for use in uses)
    assert "CREATE DATABASE shop" in runs
    assert runs.index("CREATE DATABASE shop") < runs.index("make test")
    assert runs.index("make test") < runs.index("./scripts/run_load_tests.sh race")
    assert "manage.py migrate" in runs


def test_api_contract_is_in_the_repository():
    assert "docs/api.md" in README and "/api/schema/" in README
    contract = (REPO / "docs/api.md").read_text()
    for section in ("## Conventions", "## Failure behaviour", "## The stock invariant"):
        assert section in contract
    # the pages it documents are the ones the project serves
    urls = (REPO / "shop" / "urls.py").read_text()
    assert "reports/latest" in contract and "reports/latest" in urls


def test_every_markdown_file_named_exists():
    """The README and comments cited a contract file that was not in the repository."""
    named = REPO.glob("**/*.py")
    texts = {"README.md": README, "docs/api.md": (REPO / "docs/api.md").read_text()}
    for path in named:
        if ".venv" in path.parts:
            continue
        texts[str(path.relative_to(REPO))] = path.read_text()
    for name, text in texts.items():
        for cited in re.findall(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b", text):
            if cited == "README.md":
                continue
            here = (REPO / name).parent / cited  # or beside the file that cites it
            assert (REPO / cited).exists() or here.exists(), (
                f"{name} cites {cited}, which is not in the repository"
            )


# Spelled in two parts, so that this file does not cite them itself.
SPEC_FILES = ("LOADTEST" + ".md", "API" + ".md")


def test_the_harness_and_the_benchmarks_name_only_files_that_exist():
    """Their comments cited the spec outside the repository, and modules that had moved."""
    third_party = ("rest_framework/", "django/", "locust/", "path/to/")
    for path in [*REPO.glob("loadtesting/**/*.py"), *REPO.glob("benchmarks/**/*.py")]:
        text = path.read_text()
        for cited in re.findall(
            r"(?<![\w/.-])((?:[\w-]+/)+[\w.-]+\.(?:py|md|sh|txt|json))\b", text
        ):
            if cited.startswith(third_party):
                continue
            assert (REPO / cited).exists() or (path.parent / cited).exists(), (
                f"{path.relative_to(REPO)} names {cited}, which is not in the repository"
            )
        for spec in SPEC_FILES:  # the brief's spec, outside the repository: docs/ has its own
            assert spec not in text, f"{path.relative_to(REPO)} cites {spec}"


def test_readme_names_existing_source_files():
    for cited in set(re.findall(r"`((?:[\w-]+/)+[\w-]+\.(?:py|sh|txt|sql|md))`", README)):
        assert (REPO / cited).exists(), f"README names {cited}, which is not in the repository"
