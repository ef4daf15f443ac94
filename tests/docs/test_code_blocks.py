"""Every Python example of the documentation runs: the blocks of one page in order, in one
namespace, in a scratch working directory (so examples that write files leave nothing behind)."""

from __future__ import annotations

import sys

import pytest

from .code_blocks import ROOT, code_blocks, pages


def test_code_blocks_are_found_and_skip_markers_parsed():
    text = (
        "a\n```python\nx = 1\n```\n<!-- docs-test: skip (needs a GPU) -->\n"
        "```python\nraise SystemExit\n```\n```bash\nls\n```\n"
        "<!-- docs-test: slow (a minute) -->\n```python\ny = 2\n```\n"
    )
    blocks = code_blocks(text)
    assert [(b.source, b.line, b.skip, b.slow) for b in blocks] == [
        ("x = 1\n", 3, None, False),
        ("raise SystemExit\n", 7, "needs a GPU", False),
        ("y = 2\n", 14, None, True),
    ]


def test_every_page_with_code_is_collected():
    names = {p.name for p in pages()}
    assert {"README.md", "index.md", "encoders.md", "regions.md"} <= names


def run_page(page, tmp_path, monkeypatch, slow: bool) -> None:
    """Run the page's blocks in order in one namespace (with its slow blocks when ``slow``)."""
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b.skip is None and (slow or not b.slow)]
    if not runnable:
        pytest.skip("no runnable Python blocks")
    monkeypatch.chdir(tmp_path)
    # Examples may install coordnet.tcnn as `tinycudann`; other tests must not see it.
    monkeypatch.setitem(sys.modules, "tinycudann", sys.modules.get("tinycudann"))
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for block in runnable:
        code = compile(block.source, f"{page.relative_to(ROOT)}:{block.line}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples


def _label(page) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", pages(), ids=_label)
def test_page_examples_run(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch, slow=False)


SLOW_PAGES = [p for p in pages() if any(b.slow for b in code_blocks(p.read_text("utf-8")))]


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=_label)
def test_page_examples_run_with_the_slow_ones(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch, slow=True)
