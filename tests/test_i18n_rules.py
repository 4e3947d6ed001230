"""Glossaries and the style guides' mechanical rules: what `suite check` rejects, and what it must leave alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest

from gpuguide_suite import check, glossary, i18n
from gpuguide_suite.lessons import learner_copy
from gpuguide_suite.mdtext import segments
from gpuguide_suite.notebooks import TRANSLATED, Notebook, discover, dumps
from gpuguide_suite.style import findings

ROOT = Path(__file__).resolve().parents[1]

#: Terms the translation reviews raised, and the suite's core vocabulary: every glossary must define them.
REQUIRED_TERMS = {
    "adapter", "sweep", "buffers (PyTorch)", "predicted", "scale (quantization)", "online softmax", "normalization",
    "graph (computation)", "offload", "sharding", "fused", "kernel (GPU)", "kernel (Jupyter)", "decode (phase)",
    "detokenize", "GPU memory", "batch", "shape (model)", "materialize (in memory)", "median", "argument (function)",
    "tile", "inference", "quantization", "attention", "padding", "prefill", "throughput", "latency",
    "memory bandwidth", "roofline", "Pareto front", "checkpoint", "tokenizer", "perplexity", "logits", "backend",
    "execution provider",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def _set_translation(repo: Path, name: str, lang: str, cell: str, edit) -> None:
    notebook = Notebook(name, repo)
    po = i18n.load_catalog(notebook, lang)
    entry = next(e for e in po if e.msgctxt == cell)
    changed = edit(entry.msgstr)
    assert changed != entry.msgstr, "the test's edit did not apply"
    entry.msgstr = changed
    i18n.save_catalog(po, notebook, lang)
    i18n.build(notebook, lang)
    notebook.learner_path(lang).write_text(dumps(learner_copy(notebook.read(lang), notebook.sources(lang))), encoding="utf-8")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_each_glossary_parses_and_defines_the_required_terms(lang):
    loaded = glossary.load(ROOT, lang)
    assert loaded.path is not None and loaded.errors == []
    assert REQUIRED_TERMS <= {t.key for t in loaded.terms}
    assert all(t.sanctioned for t in loaded.terms)


def test_glossary_is_not_a_notebook_catalog(repo):
    before = {lang: glossary.glossary_path(repo, lang).read_text(encoding="utf-8") for lang in TRANSLATED}
    for notebook in discover(repo):
        for lang in TRANSLATED:
            po, _ = i18n.update_catalog(notebook, lang)
            i18n.save_catalog(po, notebook, lang)
            i18n.build(notebook, lang)
    assert "glossary" not in {n.name for n in discover(repo)}
    assert {lang: glossary.glossary_path(repo, lang).read_text(encoding="utf-8") for lang in TRANSLATED} == before
    assert check.all_problems(repo) == []


def test_forbidden_rendering_fails_check_naming_cell_term_and_sanctioned(repo):
    _set_translation(repo, "01_flash_attention_2", "ar", "lora-intro", lambda s: s.replace("مُهايِئ LoRA", "محوِّل LoRA"))
    messages = [str(p) for p in check.all_problems(repo)]
    assert messages == ["notebooks/i18n/ar/01_flash_attention_2.po: cell lora-intro: glossary: «محول» is a forbidden "
                        "rendering of 'adapter'; use «مُهايِئ» (notebooks/i18n/ar/glossary.po)"]


def test_forbidden_rendering_only_counts_where_the_english_uses_the_term(repo):
    # «محوِّل» is right for a Transformer: the 04 title cell says "transformer", never "adapter".
    _set_translation(repo, "04_bettertransformer", "ar", "title",
                     lambda s: s.replace("لتشغيل نماذج transformer", "لتشغيل نماذج المحوِّلات (transformer)"))
    assert check.all_problems(repo) == []
    # 内存 is right for host memory; only "GPU memory" and its phrasings are checked.
    _set_translation(repo, "03_bitsandbytes", "zh", "devicemap-intro", lambda s: s.replace("CPU 内存", "CPU 的内存"))
    assert check.all_problems(repo) == []


def test_glossary_format_regex_allow_and_errors(tmp_path):
    path = glossary.glossary_path(tmp_path, "zh")
    path.parent.mkdir(parents=True)
    po = polib.POFile(wrapwidth=0)
    po.append(polib.POEntry(msgid="decoding of text", msgctxt="detokenize", msgstr="把 token 解码回文本",
                            tcomment="Forbidden: /解码(?!回文本)/ | 译码\nAllow: 解码器\nMatch: decoding\\s+of\\s+text"))
    po.append(polib.POEntry(msgid="bad", msgstr="坏", tcomment="Forbidden: /(/"))
    po.append(polib.POEntry(msgid="self", msgstr="自身", tcomment="Forbidden: 自身"))
    po.save(str(path))
    loaded = glossary.load(tmp_path, "zh")
    assert loaded.errors == ["term 'bad': bad regex (missing ), unterminated subpattern at position 0)",
                             "term 'self': the sanctioned translation contains a forbidden rendering"]
    term = next(t for t in loaded.terms if t.key == "detokenize")
    english = "adds tokenization and decoding\nof text around `generate()`"
    assert [found for _, found in loaded.problems(english, "分词和把 token 解码回文本")] == []
    assert [found for _, found in loaded.problems(english, "分词和解码")] == ["解码"]
    assert [found for _, found in loaded.problems(english, "解码器把 token 译码")] == ["译码"]
    assert loaded.problems("decoding is bandwidth-bound", "解码") == []  # the Match regex does not apply
    assert term.hits("`解码` 与 $解码$") == []  # code and math are never checked
    assert loaded.problems("see `decoding of text`", "解码") == []  # nor does a term inside English code


def test_default_match_is_a_whole_word_with_simple_plural():
    pattern = glossary.default_match("memory sweep")
    assert pattern.search("the Memory\nsweeps run") and not pattern.search("memory sweeping")
    assert glossary.default_match("tile").search("tiles") and not glossary.default_match("tile").search("tiled-x")


def test_arabic_diacritics_are_ignored_when_matching():
    assert glossary.normalize("مُهايِئ") == "مهايئ" and glossary.normalize("محوِّلات") == "محولات"


@pytest.mark.parametrize("lang, text, rule", [
    ("zh", "内存*和*解码下限", "italic"),
    ("ja", "カーネルを *キューに入れる* だけで", "italic"),
    ("ar", "يعرض زمنًا *أقل* بكثير", "italic"),
    ("ja", "**「x」**を", "emphasis-flanking"),
    ("zh", "即**“在线”**softmax", "emphasis-flanking"),
    ("ja", "計測では **中央値** を報告", "bold-spacing"),
    ("ja", "ピーク **割り当て量** (allocated)", "bold-spacing"),
    ("zh", "权重 {未量化, int8, NF4}", "halfwidth-punctuation"),
    ("ja", "計測します.", "halfwidth-punctuation"),
    ("zh", "见下文:", "halfwidth-punctuation"),
    ("ja", "このノートブックはtransformers 4.57.6", "cjk-latin-space"),
    ("zh", "使用16 GB", "cjk-latin-space"),
    ("zh", "放不进 GPU 内存", "gpu-memory"),
    ("ar", "الذاكرة, والزمن", "latin-punctuation"),
    ("ar", "- **AMD**: Instinct MI210", "latin-label"),
])
def test_style_rules_reject(lang, text, rule):
    assert [f.rule for f in findings(text, lang)] == [rule]


@pytest.mark.parametrize("lang, text", [
    ("zh", "**粗体**和 *English* 以及 `*x*` 和 $a*b*c$"),  # bold, Latin italics, code and math are fine
    ("ja", "まず**ウォームアップ**を行い、**GPU** を使い、**「x」** を見る"),
    ("ja", "8 ビット・4 ビット量子化、1.5 倍、`x`を、(実測します)"),
    ("zh", "fp16, bf16 和 1.5 倍的内存带宽；CPU 内存"),
    ("zh", "即“在线”softmax，**FLASH_ATTENTION 后端**运行"),
    ("ar", "- **AMD**: وحدات Instinct MI210\n- **dtype**: `float16` أو `bfloat16`\n- fp16, bf16"),
])
def test_style_rules_leave_correct_text_alone(lang, text):
    assert findings(text, lang) == []


def test_style_problems_name_cell_rule_snippet_and_guide(repo):
    _set_translation(repo, "00_measuring", "ja", "key-points", lambda s: s + "\n- メモリ *と* デバイス")
    [message] = [str(p) for p in check.all_problems(repo)]
    assert message.startswith("notebooks/i18n/ja/00_measuring.po: cell key-points: style: italic: 'リ *と* デ': ")
    assert message.endswith("(notebooks/i18n/ja/STYLE.md)")


def test_a_notebook_named_like_the_glossary_is_refused(repo):
    shutil.copy(repo / "notebooks/en/00_measuring.ipynb", repo / "notebooks/en/glossary.ipynb")
    assert any("no notebook may be named 'glossary'" in p.message for p in check.all_problems(repo))


def test_segments_rejoin_every_translation_exactly():
    for lang in TRANSLATED:
        for notebook in discover(ROOT):
            for entry in i18n.load_catalog(notebook, lang):
                assert "".join(s.text for s in segments(entry.msgstr)) == entry.msgstr


def test_generated_notebooks_are_unchanged_by_a_rebuild(repo):
    for notebook in discover(repo):
        for lang in TRANSLATED:
            assert not i18n.build(notebook, lang)
            assert notebook.path(lang).read_text(encoding="utf-8") == dumps(i18n.translated_notebook(notebook, lang))
