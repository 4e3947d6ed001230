"""The one-source rule, the i18n check, the runner's bookkeeping and the single place versions live."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import polib
import pytest
import yaml

from gpuguide_suite import check, i18n
from gpuguide_suite.execute import executed_problems
from gpuguide_suite.notebooks import TRANSLATED, Notebook, discover, dumps, unmarked
from gpuguide_suite.runner import parse_overrides, select_langs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of notebooks/ to break things in."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_the_repository_passes_its_own_check():
    assert [str(p) for p in check.all_problems(ROOT)] == []


def test_code_cells_are_byte_identical_in_every_language():
    for notebook in discover(ROOT):
        english = [c.source for c in notebook.read("en").cells if c.cell_type == "code"]
        for lang in TRANSLATED:
            assert [c.source for c in notebook.read(lang).cells if c.cell_type == "code"] == english


def test_every_markdown_cell_is_translated_and_arabic_is_rtl():
    for notebook in discover(ROOT):
        english = notebook.read("en")
        for lang in TRANSLATED:
            translated = notebook.read(lang)
            for en_cell, cell in zip(english.cells, translated.cells):
                if en_cell.cell_type == "markdown":
                    assert cell.source != en_cell.source, f"{lang}/{notebook.name} cell {cell.id} is still English"
                    assert unmarked(cell.source).startswith('<div dir="rtl"') == (lang == "ar")


FENCE = re.compile(r"```.*?```", re.S)
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
TEXT = re.compile(r"\\text\{[^{}]*\}")


def _comment_lines_translated(english: str, translated: str) -> bool:
    """The same block, except that the text after `#` on comment-only lines may be translated."""
    en, tr = english.splitlines(), translated.splitlines()
    if len(en) != len(tr):
        return False
    for a, b in zip(en, tr):
        comment = re.match(r"\s*#", a)
        if a != b and not (comment and b.startswith(comment.group(0))):
            return False
    return True


def test_fenced_block_rule_allows_only_comment_text_to_change():
    block = "```bash\n# NVIDIA (slow)\npip install x\n```"
    assert _comment_lines_translated(block, block.replace("(slow)", "（编译耗时很长）"))
    assert not _comment_lines_translated(block, block.replace("install x", "install y"))
    assert not _comment_lines_translated(block, block.replace("# NVIDIA", "NVIDIA"))
    assert not _comment_lines_translated(block, block + "\n# extra")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_code_blocks_and_identifiers_exactly(lang):
    """Code, code spans and math stay as in English; only `#` comments in a fenced block and `\\text{}` labels in
    math may be translated (the reviews asked for both; the code itself never changes)."""
    for notebook in discover(ROOT):
        for en_cell, cell in zip(notebook.read("en").cells, notebook.read(lang).cells):
            if en_cell.cell_type != "markdown":
                continue
            where = f"{lang}/{notebook.name} cell {en_cell.id}"
            blocks = FENCE.findall(cell.source)
            for block in FENCE.findall(en_cell.source):
                assert any(_comment_lines_translated(block, b) for b in blocks), f"{where}: fenced block changed"
            prose = FENCE.sub("", en_cell.source)
            for span in re.findall(r"`[^`\n]+`", prose):
                assert span in cell.source, f"{where}: {span} missing"
            maths = [TEXT.sub(r"\\text{}", m) for m in MATH.findall(FENCE.sub("", cell.source))]
            for expression in MATH.findall(prose):
                assert TEXT.sub(r"\\text{}", expression) in maths, f"{where}: math {expression} changed"


def test_changed_english_cell_makes_its_translation_fuzzy_then_check_fails(repo):
    notebook = Notebook("00_measuring", repo)
    nb = notebook.read("en")
    nb.cells[0].source += "\n\nA new sentence."
    notebook.path("en").write_text(dumps(nb), encoding="utf-8")
    assert any("stale" in p.message for p in i18n.catalog_problems(notebook, "ja"))
    po, counts = i18n.update_catalog(notebook, "ja")
    i18n.save_catalog(po, notebook, "ja")
    assert counts["fuzzy"] == 1
    entry = next(e for e in polib.pofile(str(notebook.catalog("ja"))) if e.msgctxt == nb.cells[0].id)
    assert "fuzzy" in entry.flags and entry.previous_msgid and entry.msgstr
    problems = [p.message for p in i18n.catalog_problems(notebook, "ja")]
    assert any("fuzzy" in m for m in problems) and any("differs from what" in m for m in problems)
    # gettext semantics: a fuzzy translation is not used; the generated notebook falls back to English.
    i18n.build(notebook, "ja")
    assert unmarked(notebook.read("ja").cells[0].source) == nb.cells[0].source
    # A second edit before anyone reviewed it keeps the English the translation was made from, as msgmerge does.
    original = entry.previous_msgid
    nb.cells[0].source += " And another."
    notebook.path("en").write_text(dumps(nb), encoding="utf-8")
    po, _ = i18n.update_catalog(notebook, "ja")
    again = next(e for e in po if e.msgctxt == nb.cells[0].id)
    assert again.previous_msgid == original and again.msgid == nb.cells[0].source


def test_new_cell_is_missing_and_removed_cell_becomes_obsolete(repo):
    notebook = Notebook("00_measuring", repo)
    nb = notebook.read("en")
    removed = nb.cells.pop(1)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("## A brand-new section", id="brand-new"))
    notebook.path("en").write_text(dumps(nb), encoding="utf-8")
    po, counts = i18n.update_catalog(notebook, "zh")
    assert counts == {"new": 1, "fuzzy": 0, "obsolete": 1}
    assert removed.id in [e.msgctxt for e in po if e.obsolete]
    i18n.save_catalog(po, notebook, "zh")
    assert any("brand-new: not translated" in p.message for p in i18n.catalog_problems(notebook, "zh"))


def test_check_fails_on_outputs_and_hand_edited_generated_notebooks(repo):
    notebook = Notebook("00_measuring", repo)
    nb = notebook.read("ar")
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    code.execution_count = 1
    notebook.path("ar").write_text(dumps(nb), encoding="utf-8")
    messages = [str(p) for p in check.all_problems(repo)]
    assert any("ar/00_measuring.ipynb: has outputs" in m for m in messages)
    assert any("ar/00_measuring.ipynb: differs from what" in m for m in messages)


def test_check_requires_tutorial_metadata_and_a_parameters_cell(repo):
    notebook = Notebook("00_measuring", repo)
    nb = notebook.read("en")
    del nb.metadata["gpuguide"]["duration_minutes"]
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    notebook.path("en").write_text(dumps(nb), encoding="utf-8")
    messages = [p.message for p in check.source_problems(notebook)]
    assert "metadata.gpuguide.duration_minutes is missing" in messages
    assert any("tagged 'parameters'" in m for m in messages)


def test_a_notebook_that_passed_without_running_its_cells_fails(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2")])
    nb.cells[0].execution_count = 1
    path = tmp_path / "out.ipynb"
    path.write_text(dumps(nb))
    assert "without executing 1 of 2 code cells" in executed_problems(path, tmp_path / "r.json")
    nb.cells[1].execution_count = 2
    path.write_text(dumps(nb))
    assert "wrote no results" in executed_problems(path, tmp_path / "r.json")
    (tmp_path / "r.json").write_text(json.dumps({"rows": [{"group": "g"}]}))
    assert executed_problems(path, tmp_path / "r.json") is None


def test_runner_arguments():
    assert parse_overrides(["batch_size=4", "model_id=org/name", "dtype='float16'"]) == {
        "batch_size": 4, "model_id": "org/name", "dtype": "float16"}
    with pytest.raises(ValueError, match="name=value"):
        parse_overrides(["oops"])
    assert select_langs("all") == ["en", "ar", "ja", "zh"]
    with pytest.raises(ValueError, match="--lang fr is not valid"):
        select_langs("en,fr")


def test_profiles_auto_and_refusal():
    from tests.test_env import fake_env
    from gpuguide_suite.profiles import pick

    assert pick("auto", fake_env(device_type="cpu", compute_capability=None)).name == "cpu"
    assert pick("auto", fake_env()).name == "gpu-small"
    assert pick("auto", fake_env(total_memory_bytes=80 * 10**9)).name == "gpu-full"
    with pytest.raises(ValueError, match="needs a CUDA device"):
        pick("gpu-small", fake_env(device_type="cpu", compute_capability=None))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, operator, _version = re.split(r"([=<>~!]=?)", line, maxsplit=1)
            pins[name.strip().lower()] = operator
    return pins


def test_conda_environment_uses_the_same_requirement_files():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    referenced = {line.split(maxsplit=1)[1] for line in pip_section if line.startswith("-r ")}
    assert referenced == {"requirements/torch.txt", "requirements/common.txt", "requirements/main.txt",
                          "requirements/test.txt", "requirements/docs.txt"}
    # Nothing pinned twice: conda's own list names no package that the requirement files pin.
    pinned = set()
    for name in referenced:
        pinned |= set(_pins(ROOT / name))
    conda_names = {re.split(r"[=<>]", d)[0].lower() for d in env["dependencies"] if isinstance(d, str)}
    assert not (conda_names & pinned), conda_names & pinned
    assert all(line.startswith(("-r ", "-e ")) for line in pip_section)


def test_main_requirements_are_pinned_and_safe():
    pins = _pins(ROOT / "requirements" / "main.txt")
    assert all(spec == "==" for spec in pins.values()), pins
    text = (ROOT / "requirements" / "main.txt").read_text()
    assert re.search(r"^transformers==5\.", text, re.M)
    bnb = re.search(r"^bitsandbytes==(\d+)\.(\d+)", text, re.M)
    assert (int(bnb[1]), int(bnb[2])) >= (0, 48)
    assert "flash-attn" not in text, "flash-attn is optional (requirements/flash.txt), never required"


def _exact_pins(path: Path) -> dict[str, str]:
    """name -> version for every `name==version` line of a requirements file and the files it includes."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].split(";")[0].strip()
        if line.startswith("-r "):
            pins |= _exact_pins(path.parent / line[3:].strip())
        elif "==" in line:
            name, version = line.split("==", 1)
            pins[name.split("[")[0].strip().lower()] = version.strip()
    return pins


@pytest.mark.parametrize("requirements", ["requirements/main.txt", "environments/bettertransformer/requirements.txt",
                                          "environments/ort/requirements.txt"])
def test_the_package_ranges_hold_in_every_pinned_environment(requirements):
    """pyproject declares ranges; each environment pins exact versions that must fall inside them."""
    import tomllib

    from packaging.requirements import Requirement

    declared = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    torch_spec = re.search(r"^TORCH_SPEC \?= torch==(\S+)", (ROOT / "Makefile").read_text(), re.M)[1]
    pins = _exact_pins(ROOT / requirements) | {"torch": torch_spec}
    for requirement in declared:
        version = pins.get(requirement.name.lower())
        if version is not None:
            assert requirement.specifier.contains(version, prereleases=True), f"{requirements}: {requirement} vs {version}"
    assert "transformers" in pins, f"{requirements} does not pin transformers"


@pytest.mark.parametrize("name", ["bettertransformer", "ort"])
def test_side_environments_pin_exactly_and_share_their_files_with_conda(name):
    from gpuguide_suite.runner import ENVIRONMENTS

    folder = ROOT / "environments" / name
    assert ENVIRONMENTS[name] == f".venv-{name}"
    pins = _pins(folder / "requirements.txt")
    assert pins and all(op == "==" for op in pins.values())
    assert "transformers" in pins and "-r ../../requirements/common.txt" in (folder / "requirements.txt").read_text()
    env = yaml.safe_load((folder / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.txt" in pip_section and "-r ../../requirements/torch.txt" in pip_section
    assert all(line.startswith(("-r ", "-e ")) for line in pip_section)
    notebooks = [n.name for n in discover(ROOT) if n.meta.get("environment") == name]
    assert notebooks, f"no notebook declares environment {name!r}"


def test_main_environment_kernel_and_missing_side_kernel():
    from gpuguide_suite.runner import kernel_for

    assert kernel_for("main") == "python3"
    assert kernel_for("no-such-environment") is None


def test_index_lists_every_notebook_in_every_language_with_colab_links(repo):
    from gpuguide_suite.index import colab_url, render, table

    (repo / "README.md").write_text("# x\n<!-- notebooks:start -->\nstale\n<!-- notebooks:end -->\n")
    text = render(repo)
    for notebook in discover(repo):
        for lang in ("en", "ar", "ja", "zh"):
            assert f"({lang}/{notebook.name}.ipynb)" in text and colab_url(notebook, lang) in text
    assert any("index out of date" in p.message for p in check.index_problems(repo))
    assert "notebooks/en/00_measuring.ipynb" in table(repo, prefix="notebooks/")
