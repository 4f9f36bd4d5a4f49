"""The step-through page in a real browser: headless Chromium loads the saved file and, step by
step, the gradients it displays are the engine's.

Chromium and its driver come from Debian (`apt-get install -y chromium chromium-driver`, which
`bash scripts/ensure-chromium.sh` runs as root); Selenium drives them, never downloading a
browser of its own. Without them these tests skip and say why, except where
CHAINRULE_REQUIRE_BROWSER=1 (CI sets it): there a missing browser is a failure.

Screenshots of the first, a middle and the last step of each page go to out/step-through/.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import autograd as ag
from autograd import Value
from viz import step_through

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "out" / "step-through"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# As root in a container Chromium needs --no-sandbox; the rest keep it from reaching the network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
]


def _missing() -> str:
    """Why no browser test can run here, or "" when they can."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed: pip install -e '.[dev]'"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return (
                f"{path} is missing: install Debian's chromium and chromium-driver "
                f"(sudo bash scripts/ensure-chromium.sh)"
            )
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _missing()
    if why:
        if os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CHAINRULE_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    # Selenium Manager must not fetch a driver or a browser: both are given.
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# Everything the page shows in one call: the step, the panel, and per box its texts and state.
READ = """
const out = {step: document.body.getAttribute('data-step'),
             counter: document.getElementById('counter').textContent,
             url: location.hash,
             title: document.getElementById('step-title').textContent,
             lines: [...document.querySelectorAll('#step-lines .text')].map(e => e.textContent),
             boxes: {}};
for (const g of document.querySelectorAll('#graph g.node')) {
  const label = g.querySelector('text[font-weight="bold"]');
  const grad = g.querySelector('text.grad');
  if (!label || !grad) continue;
  out.boxes[label.textContent] = {grad: grad.textContent, exact: grad.getAttribute('data-exact'),
                                  state: g.getAttribute('class')};
}
return out;
"""


def load(driver: Any, path: Path, step: int | None = None) -> dict[str, Any]:
    url = path.as_uri() + (f"#step={step}" if step is not None else "")
    driver.get(url)
    return read(driver)


def read(driver: Any) -> dict[str, Any]:
    page = driver.execute_script(READ)
    page["step"] = int(page["step"])
    return page


def press(driver: Any, key: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    driver.find_element(By.TAG_NAME, "body").send_keys(key)
    return read(driver)


def screenshot(driver: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / f"{name}.png"
    driver.save_screenshot(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out


def demo_module() -> Any:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def expected_grads(root: Value, fmt: str) -> list[dict[str, str]]:
    """Per page step, what each labelled box must show, from the engine's own numbers.

    Backward visits the engine's reverse topological order; a node's displayed grad after k
    steps is the sum, over its users processed so far, of the user's .grad (the engine's, after
    root.backward()) times the local derivative from the user's rule. A node no user has
    reached shows `grad ?`; once backward is done every box shows its .grad.
    """
    order = [v for v in ag.reverse_topological_order(root) if v.parents]
    nodes = ag.topological_order(root)
    steps = []
    for k in range(len(order) + 2):
        processed = order[: max(0, k)] if k <= len(order) else order
        shown: dict[str, str] = {}
        for v in nodes:
            if not v.label:
                continue
            if k > len(order):
                shown[v.label] = "grad " + fmt.format(v.grad)
                continue
            total, reached = 0.0, v is root and k >= 1
            if reached:
                total = 1.0
            for u in processed:
                local = u.rule.df(u.data, *[p.data for p in u.parents])
                for slot, p in enumerate(u.parents):
                    if p is v:
                        total += u.grad * local[slot]
                        reached = True
            shown[v.label] = "grad " + (fmt.format(total) if reached else "?")
        steps.append(shown)
    return steps


def phase_numbers(pages: list[dict[str, Any]]) -> list[str]:
    """Check that the toolbar and the panel number every step alike; return the toolbar texts.

    One numbering: "backward 4 of 6" in the toolbar where the panel's title reads
    "Backward (4 of 6): ...", each phase counting from 1 to its total without a gap; the pages
    before the first step and after the last carry no number in either place.
    """
    counters = [p["counter"] for p in pages]
    assert counters[0] in ("before backward", "before forward") and pages[0]["title"] == (
        counters[0].capitalize()
    )
    assert counters[-1] == "backward done" and pages[-1]["title"] == "Backward is done"
    seen: dict[str, list[tuple[int, int]]] = {}
    for page in pages[1:-1]:
        m = re.fullmatch(r"(forward|backward) (\d+) of (\d+)", page["counter"])
        assert m, page["counter"]
        phase, k, total = m[1], int(m[2]), int(m[3])
        assert page["title"].startswith(f"{phase.capitalize()} ({k} of {total}): "), (
            page["counter"],
            page["title"],
        )
        seen.setdefault(phase, []).append((k, total))
    assert list(seen) in (["backward"], ["forward", "backward"])
    for numbers in seen.values():
        total = numbers[0][1]
        assert numbers == [(k, total) for k in range(1, total + 1)]
    return counters


def walk_every_step(
    driver: Any, root: Value, path: Path, fmt: str, name: str
) -> list[dict[str, Any]]:
    """Load the page, step through it with the → key, and check every box at every step."""
    expected = expected_grads(root, fmt)
    page = load(driver, path)
    seen = []
    for k, want in enumerate(expected):
        assert page["step"] == k
        assert page["url"] == f"#step={k}" or (k == 0 and page["url"] == "")
        shown = {label: box["grad"] for label, box in page["boxes"].items()}
        assert shown == want, (k, page["title"])
        seen.append(page)
        if k in (0, len(expected) // 2, len(expected) - 1):
            screenshot(driver, f"{name}-step{k:02d}")
        page = press(driver, "\ue014")  # the → key
    assert page["step"] == len(expected) - 1  # → at the end stays there
    phase_numbers(seen)
    # At the end every box holds the engine's .grad to the last bit.
    for v in ag.topological_order(root):
        if v.label:
            assert seen[-1]["boxes"][v.label]["exact"] == repr(float(v.grad)), v.label
    return seen


def test_the_seed_neuron_page_shows_the_engines_gradients_at_every_step(
    browser: Any, tmp_path: Path
) -> None:
    demo = demo_module()
    weights, bias = demo.seed_parameters()
    inputs = [Value(x, f"x{i}") for i, x in enumerate(demo.SEED_INPUTS)]
    loss, *_ = demo.neuron(weights, bias, inputs)
    loss.backward()
    path = step_through(loss).save(tmp_path / "neuron.html")
    seen = walk_every_step(browser, loss, path, "{:.4g}", "neuron")
    assert [p["title"] for p in seen[1:4]] == [
        "Backward (1 of 6): loss",
        "Backward (2 of 6): relu(z)",
        "Backward (3 of 6): z",
    ]
    # The toolbar counts as the panel does (it said "step 4 of 7" beside "Backward (4 of 6)").
    assert [p["counter"] for p in seen] == [
        "before backward",
        *(f"backward {k} of 6" for k in range(1, 7)),
        "backward done",
    ]
    # The seed's w0: 12 arrives over w0*x0, and x0 gets w0's -3 times 12.
    w0_step = next(p for p in seen if p["title"].endswith(": w0*x0"))
    assert w0_step["lines"] == ["w0.grad += 12 × 1 = 12", "x0.grad += 12 × -3 = -36"]
    assert "current" in w0_step["boxes"]["w0*x0"]["state"]
    assert "target" in w0_step["boxes"]["w0"]["state"]
    assert [seen[-1]["boxes"][f"w{i}"]["grad"] for i in range(3)] == [
        "grad 12",
        "grad -24",
        "grad 36",
    ]
    assert seen[-1]["boxes"]["b"]["grad"] == "grad 12"
    assert "unreached" in seen[0]["boxes"]["loss"]["state"]


def test_the_seed_layer_page_sums_each_inputs_three_contributions(
    browser: Any, tmp_path: Path
) -> None:
    demo = demo_module()
    loss, W, B, X = demo.seed_layer()
    path = step_through(loss, fmt="{:.6g}").save(tmp_path / "layer.html")
    seen = walk_every_step(browser, loss, path, "{:.6g}", "layer")
    # x2 collects 43.2 × w12, × w22 and × w32, one neuron at a time: the seed's sum over i.
    x2 = [p["boxes"]["x2"]["grad"] for p in seen]
    assert list(dict.fromkeys(x2)) == ["grad ?", "grad 8.64", "grad 34.56", "grad 77.76"]
    assert seen[-1]["boxes"]["loss"]["grad"] == "grad 1"
    assert [seen[-1]["boxes"][f"w2{n}"]["grad"] for n in range(1, 5)] == [
        "grad 43.2",
        "grad 86.4",
        "grad 129.6",
        "grad 172.8",
    ]


def test_the_controls_and_the_link_to_a_step(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    demo = demo_module()
    loss, W, B, X = demo.seed_layer()
    page = step_through(loss, fmt="{:.6g}")
    path = page.save(tmp_path / "layer.html")
    last = len(page.steps) - 1
    assert load(browser, path, 7)["step"] == 7  # #step=7 opens step 7
    assert press(browser, "\ue012")["step"] == 6  # ←
    assert press(browser, "\ue011")["step"] == 0  # Home
    assert press(browser, "\ue010")["step"] == last  # End
    browser.find_element(By.ID, "first").click()
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    assert read(browser)["step"] == 2
    browser.find_element(By.ID, "prev").click()
    assert read(browser)["step"] == 1
    browser.find_element(By.ID, "last").click()
    assert read(browser)["url"] == f"#step={last}"
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = 5;"
        "s.dispatchEvent(new Event('input'));"
    )
    assert read(browser)["step"] == 5
    browser.execute_script("location.hash = '#step=3'")
    assert read(browser)["step"] == 3
    # Clicking x2 shows its chain rule: three paths, and the sum over its three users.
    x2 = browser.execute_script(
        "return [...document.querySelectorAll('#graph g.node')].find(g => "
        "(g.querySelector('text[font-weight=\"bold\"]') || {}).textContent === 'x2').id"
    )
    browser.find_element(By.ID, x2).click()
    text = browser.find_element(By.ID, "explain-text").text
    assert text.startswith("d loss/d x2 = 77.76, the sum over 3 paths:")
    assert "the sum over the 3 edges from x2's users:" in text
    assert text.rstrip().endswith("= 77.76")
    assert "43.2 × 0.2 + 43.2 × 0.6 + 43.2 × 1" in text


def test_the_forward_phase_computes_each_box_in_the_engines_order(
    browser: Any, tmp_path: Path
) -> None:
    demo = demo_module()
    weights, bias = demo.seed_parameters()
    inputs = [Value(x, f"x{i}") for i, x in enumerate(demo.SEED_INPUTS)]
    loss, *_ = demo.neuron(weights, bias, inputs)
    loss.backward()
    page = step_through(loss, forward=True)
    path = page.save(tmp_path / "forward.html")
    data = """return Object.fromEntries([...document.querySelectorAll('#graph g.node')]
      .filter(g => g.querySelector('text.data') && g.querySelector('text[font-weight="bold"]'))
      .map(g => [g.querySelector('text[font-weight="bold"]').textContent,
                 g.querySelector('text.data').textContent]));"""
    pages = [load(browser, path, 0)]
    start = browser.execute_script(data)
    assert start["w0"] == "data -3" and start["z"] == "data ?" and start["loss"] == "data ?"
    computed = [v for v in ag.topological_order(loss) if v.parents]
    n = len(computed)
    for k, v in enumerate(computed, start=1):
        pages.append(press(browser, "\ue014"))
        assert pages[-1]["step"] == k and pages[-1]["title"] == f"Forward ({k} of {n}): {v.label}"
        assert browser.execute_script(data)[v.label] == f"data {v.data:.4g}"
    assert browser.execute_script(data)["loss"] == "data 36"
    pages.append(press(browser, "\ue014"))
    assert pages[-1]["title"] == "Backward (1 of 6): loss"
    assert pages[-1]["counter"] == "backward 1 of 6"  # backward counts from 1 again
    screenshot(browser, "forward-backward-step01")
    while pages[-1]["step"] < len(page.steps) - 1:
        pages.append(press(browser, "\ue014"))
    counters = phase_numbers(pages)
    assert counters[:2] == ["before forward", f"forward 1 of {n}"]


def test_the_inline_view_is_the_same_page_in_an_iframe(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    demo = demo_module()
    weights, bias = demo.seed_parameters()
    inputs = [Value(x, f"x{i}") for i, x in enumerate(demo.SEED_INPUTS)]
    loss, *_ = demo.neuron(weights, bias, inputs)
    loss.backward()
    # What Jupyter puts in an output cell, inside a notebook-like page of its own.
    host = tmp_path / "notebook.html"
    host.write_text(
        "<!DOCTYPE html><html><body><p>a notebook cell</p>"
        + step_through(loss)._repr_html_()
        + "</body></html>",
        encoding="utf-8",
    )
    browser.get(host.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert read(browser)["step"] == 0
        browser.find_element(By.ID, "last").click()
        page = read(browser)
        assert page["title"] == "Backward is done" and page["boxes"]["w1"]["grad"] == "grad -24"
        screenshot(browser, "neuron-inline-last")
    finally:
        browser.switch_to.default_content()


def test_a_wrong_rule_is_marked_on_the_page(browser: Any, tmp_path: Path) -> None:
    import math

    bad = ag.defop("page_bad_tanh", math.tanh, lambda out, a: (1 + out * out,))
    try:
        x, w = Value(0.5, "x"), Value(0.8, "w")
        z = x * w
        z.label = "z"
        h = bad(z)
        h.label = "h"
        loss = (h - 1.0).square()
        loss.label = "loss"
        loss.backward()
        page = step_through(loss, check=True)
        k = next(i for i, s in enumerate(page.steps) if s.title.endswith(": h"))
        shown = load(browser, page.save(tmp_path / "check.html"), k)
        caption = browser.execute_script(
            "return document.getElementById('step-caption').textContent"
        )
        assert "⚠ The check finds page_bad_tanh's rule wrong here" in caption
        assert "current" in shown["boxes"]["h"]["state"]
        screenshot(browser, "check-wrong-rule")
    finally:
        ag.unregister("page_bad_tanh")
