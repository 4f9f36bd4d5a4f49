"""viz with the real Graphviz `dot`: hostile labels, valid SVG/PNG/PDF, Jupyter, and `make demo`."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import autograd as ag
from autograd import Value
from viz import GraphTooLarge, draw_graph, render, to_dot
from viz.dot import SPREAD_MAX_VALUES
from viz.options import DrawOptions
from viz.scene import build_scene

if shutil.which("dot") is None:  # pragma: no cover - `make test` installs it first
    pytest.fail("Graphviz's `dot` is not on PATH: run `bash scripts/ensure-dot.sh`")

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent


def svg_parts(svg: bytes | str) -> tuple[dict[str, list[str]], int]:
    """Node title -> the lines of text it shows, and the number of edges, from dot's SVG."""
    tree = ET.fromstring(svg)
    nodes: dict[str, list[str]] = {}
    edges = 0
    for g in tree.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            nodes[title.text] = [t.text or "" for t in g.iter(f"{SVG}text")]
        elif g.get("class") == "edge":
            edges += 1
    return nodes, edges


def run_dot(source: str, fmt: str) -> bytes:
    """`dot -T<fmt>`, failing the test on any error or warning it prints."""
    run = subprocess.run(["dot", f"-T{fmt}"], input=source.encode("ascii"), capture_output=True)
    assert run.returncode == 0 and run.stderr == b"", run.stderr.decode()
    return run.stdout


def seed_neuron() -> tuple[Value, Value]:
    w = [Value(v, f"w{i}") for i, v in enumerate([-3.0, -1.0, 2.0])]
    x = [Value(v, f"x{i}") for i, v in enumerate([1.0, -2.0, 3.0])]
    loss = ag.sum([*(wi * xi for wi, xi in zip(w, x)), Value(1.0, "b")]).relu().square()
    loss.label = "loss"
    loss.backward()
    return loss, w[0]


HOSTILE = [
    '"] ; x -> y [',
    "<B>bold?</B> & &amp; &#65;",
    "{record|fields} <port>",
    "back\\slash \\n \\l \\N \\G \\\\",
    "two\nlines\r\nthree",
    "naïve ∂ 漢字 😀 Ω",
    "tab\there",
    "bell\x07 del\x7f nul\x00",
    "lone \ud800 surrogate",
    "]]> --> <!-- <![CDATA[ subgraph cluster_x { z }",
    "label=<x> ]; n [label=y",
]
# What each label's lines look like once drawn: as written, with control characters spelt out.
DRAWN = {
    "two\nlines\r\nthree": ["two", "lines", "three"],
    "tab\there": ["tab here"],
    "bell\x07 del\x7f nul\x00": ["bell\\x07 del\\x7f nul\\x00"],
    "lone \ud800 surrogate": ["lone \\ud800 surrogate"],
}


def test_hostile_labels_render_as_written_with_no_node_added_or_lost() -> None:
    leaves = [Value(float(i), s) for i, s in enumerate(HOSTILE)]
    root = ag.sum(leaves)
    root.label = HOSTILE[0]
    for v in leaves:
        v.grad = 1.0
    source = to_dot(root)
    nodes, edges = svg_parts(run_dot(source, "svg"))
    n = len(HOSTILE)
    # n leaves + the sum + its op ellipse + the legend, and the sum's n factors, each a text
    # node on its operand's arrow: two edges per operand, and one from the op.
    factors = [f"v{n}_x{i}" for i in range(n)]
    assert sorted(nodes) == sorted(
        [f"v{i}" for i in range(n + 1)] + [f"v{n}_op", "legend", *factors]
    )
    assert [nodes[f] for f in factors] == [["×1"]] * n
    assert edges == 2 * n + 1
    for i, label in enumerate(HOSTILE):
        lines = DRAWN.get(label, [label])
        assert nodes[f"v{i}"] == [*lines, f"data {i:g}", "grad 1"], label
    # The same through -Tjson: the layout engine itself sees exactly these objects.
    import json

    laid_out = json.loads(run_dot(source, "json"))
    # and one subgraph: the rank that holds the n factors, chained in operand order by n - 1
    # invisible edges.
    assert len(laid_out["objects"]) == 2 * n + 3 + 1
    assert sum(1 for o in laid_out["objects"] if "nodes" in o) == 1
    assert len(laid_out["edges"]) == 2 * n + 1 + n - 1
    assert sum(1 for e in laid_out["edges"] if e.get("style") == "invis") == n - 1


def test_hostile_op_and_scope_names_stay_inert_too() -> None:
    x = Value(2.0, "x")
    with ag.scope('"]; evil -> node [', owner=None), ag.scope("<B>}{|\\N"):
        y = x.exp()
    root = y * 2.0
    root.label = "root"
    root.backward()
    source = to_dot(root)
    nodes, edges = svg_parts(run_dot(source, "svg"))
    assert sorted(nodes) == ["legend", "v0", "v1", "v1_op", "v2", "v3", "v3_op"]
    texts = [t.text for t in ET.fromstring(run_dot(source, "svg")).iter(f"{SVG}text")]
    assert '"]; evil -> node [' in texts and "<B>}{|\\N" in texts
    # Folded, x and its exp become one box; the root and the constant 2 stay as they are.
    source = to_dot(root, collapse="neuron", clusters=False)
    collapsed, _ = svg_parts(run_dot(source, "svg"))
    assert sorted(collapsed) == ["g0", "legend", "v2", "v3", "v3_op"]
    assert collapsed["g0"][:2] == ['"]; evil -> node [ / <B>}{|\\N', "2 nodes: 1 exp"]


# Each would make `dot` reject the whole file if written out in full: one run of text in an
# HTML-like label must stay under 16,382 bytes as written (escaped) in the DOT.
TOO_LONG = {
    "a" * 16_382: 1,  # escaped bytes per character
    "<" * 4_096: 4,  # &lt;
    "日" * 2_048: 8,  # &#26085;
    "😀" * 2_000: 9,  # &#128512;
}


@pytest.mark.parametrize("long", TOO_LONG, ids=["ascii", "markup", "cjk", "emoji"])
def test_a_label_too_long_for_dot_is_cut_with_an_ellipsis_everywhere_it_shows(
    long: str, tmp_path: Path
) -> None:
    # The characters that fit beside the ellipsis (7 bytes: &#8230;) in MAX_TEXT_BYTES = 512.
    cut = long[: (512 - 7) // TOO_LONG[long]] + "…"
    x = Value(2.0, long)
    with ag.scope(long):
        y = (x * 3.0).exp()
    root = y * 0.5
    root.label = long
    root.backward()
    files = render(root, tmp_path / "long", formats=("svg", "png"), highlight=x)
    nodes, _ = svg_parts(files[0].read_bytes())
    assert nodes["v0"] == [cut, "data 2", f"grad {x.grad:.4g}"]
    assert nodes["v5"][0] == cut  # the root's box
    legend = nodes["legend"]
    assert f"purple: every path from {cut} to {cut}" in legend
    texts = [t.text for t in ET.fromstring(files[0].read_bytes()).iter(f"{SVG}text")]
    assert cut in texts  # the scope's frame title
    # Folded, the scope's box is titled with the cut name; a long number is cut the same way.
    source = to_dot(root, collapse="neuron", fmt=lambda v: long)
    folded, _ = svg_parts(run_dot(source, "svg"))
    assert folded["g0"][0] == cut and f"data {cut} .. {cut}" in folded["g0"]
    op = ag.defop(
        long[:5_000].replace("<", "lt").replace("😀", "e"), math.exp, lambda out, a: (out,)
    )
    try:
        z = op(x)
        z.label = long
        z.backward()
        nodes, _ = svg_parts(run_dot(to_dot(z), "svg"))
        assert nodes["v1_op"][0].endswith("…") and nodes["v1"][0] == cut
    finally:
        ag.unregister(op.__name__)


def test_render_refuses_a_dpi_that_dot_cannot_use(tmp_path: Path) -> None:
    loss, _ = seed_neuron()
    for dpi in (-5, 0, 0.5, 601, float("nan"), float("inf"), False):
        with pytest.raises(ValueError, match=f"render\\(\\) needs a dpi from 1 to 600, got {dpi}"):
            render(loss, tmp_path / "bad", formats="png", dpi=dpi)
    for dpi in ("144", None, 1j):
        with pytest.raises(TypeError, match="render\\(\\) dpi needs a real number, got "):
            render(loss, tmp_path / "bad", formats="png", dpi=dpi)  # type: ignore[arg-type]
    with pytest.raises(
        OverflowError, match=r"render\(\) dpi got an int too large .*about 10\*\*400;"
    ):
        render(loss, tmp_path / "bad", formats="png", dpi=10**400)
    assert not list(tmp_path.iterdir())
    # dpi scales the PNG: 72 dpi is half as wide and high as 144, to within dot's rounding.
    sizes = {}
    for dpi in (72, 144.0):
        (png,) = render(loss, tmp_path / f"at{dpi}", formats="png", dpi=dpi)
        sizes[dpi] = struct.unpack(">II", png.read_bytes()[16:24])
    assert all(abs(2 * a - b) <= 4 for a, b in zip(sizes[72], sizes[144.0])), sizes
    # True is the number 1, as at every entry point: the same PNG as dpi=1.
    (one,) = render(loss, tmp_path / "at1", formats="png", dpi=1)
    (true,) = render(loss, tmp_path / "atTrue", formats="png", dpi=True)
    assert one.read_bytes() == true.read_bytes()


def test_png_and_svg_and_pdf_files_are_valid(tmp_path: Path) -> None:
    loss, w0 = seed_neuron()
    files = render(loss, tmp_path / "neuron", formats=("svg", "png", "pdf"), highlight=w0)
    assert [f.name for f in files] == ["neuron.svg", "neuron.png", "neuron.pdf"]
    svg, png, pdf = (f.read_bytes() for f in files)
    nodes, edges = svg_parts(svg)
    assert len(nodes) == 13 + 6 + 1 and edges == 12 + 6
    assert ["w0", "data -3", "grad 12"] in nodes.values()
    assert any("∂loss/∂w0 = 2·6 × 1 × 1 × 1 = 12" in t for t in nodes["legend"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 800 < width < 6000 and 300 < height < 6000, (width, height)
    assert len(png) > 20_000
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_the_contracts_render_call_and_jupyters_inline_svg(tmp_path: Path) -> None:
    loss, _ = seed_neuron()
    g = draw_graph(loss)
    written = Path(g.render(str(tmp_path / "graph"), format="png"))
    assert written == tmp_path / "graph.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = g._repr_mimebundle_()
    nodes, _ = svg_parts(bundle["image/svg+xml"])
    assert len(nodes) == 20


def test_render_rejects_unknown_formats_and_options_for_a_ready_digraph(tmp_path: Path) -> None:
    loss, w0 = seed_neuron()
    with pytest.raises(ValueError, match="render\\(\\) writes svg, png, pdf; got format 'gif'"):
        render(loss, tmp_path / "x", formats=("gif",))
    with pytest.raises(TypeError, match="need a Value, not a Digraph"):
        render(draw_graph(loss), tmp_path / "x", highlight=w0)
    (svg,) = render(draw_graph(loss), tmp_path / "y.svg", formats="svg")
    assert svg == tmp_path / "y.svg"


def positions(dot_source: str) -> dict[str, tuple[float, float]]:
    """Each labelled box's centre (x, y in inches, y up) as `dot` lays the drawing out."""
    plain = run_dot(dot_source, "plain").decode()
    found = {}
    for line in plain.splitlines():
        parts = line.split()
        label = re.search(r"<B>([^<]+)</B>", line)
        if parts[0] == "node" and label:
            found[label[1]] = (float(parts[2]), float(parts[3]))
    return found


def test_the_layers_inputs_form_one_ordered_column_left_of_ordered_weights() -> None:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    loss, W, B, X = demo.seed_layer()
    at = positions(to_dot(loss, highlight=X[1], fmt="{:.6g}"))
    inputs = [at[f"x{n}"] for n in range(1, 5)]
    assert len({x for x, _ in inputs}) == 1  # one column
    assert [y for _, y in inputs] == sorted((y for _, y in inputs), reverse=True)  # x1 on top
    weights = [at[w.label] for row in W for w in row]
    assert max(x for x, _ in inputs) < min(x for x, _ in weights)  # left of every weight
    for i, row in enumerate(W, start=1):
        ys = [at[w.label][1] for w in row]
        assert ys == sorted(ys, reverse=True), (i, ys)  # w_i1 above w_i2 above ...
    # The neurons come in order too, top to bottom.
    assert at["w11"][1] > at["w21"][1] > at["w31"][1]


def micrograd_mlp() -> Value:
    """micrograd's MLP(2, [4, 4, 1]) on one sample: its layers are nn.mlp.Layer."""
    import nn

    model = nn.MLP(2, [4, 4, 1], rng=1337)
    y = model([0.5, -1.2])
    assert isinstance(y, Value)
    return y


def sequential_dense() -> Value:
    """The book's Dense layers in a Sequential, on a batch of three samples."""
    import nn

    model = nn.Sequential([nn.Dense(2, 4), nn.ReLU(), nn.Dense(4, 4), nn.ReLU(), nn.Dense(4, 1)])
    return ag.sum([row[0] for row in model([[0.5, -1.2], [0.1, 0.3], [-0.7, 0.9]])])


def wide_layer() -> Value:
    """One layer of 12 neurons: neuron 10 and 11 come after 9 (label order, not text order)."""
    import nn

    return ag.sum(nn.Layer(3, 12, rng=7)([0.5, -1.2, 2.0]))


@pytest.mark.parametrize("build", [micrograd_mlp, sequential_dense, wide_layer])
@pytest.mark.parametrize(
    "options",
    [{}, {"rankdir": "TB"}, {"rankdir": "RL"}, {"clusters": False}],
    ids=["LR", "TB", "RL", "no-frames"],
)
def test_folded_neurons_come_out_in_label_order_in_every_layer(
    build: Callable[[], Value], options: dict[str, Any]
) -> None:
    root = build()
    root.backward()
    scene = build_scene(root, DrawOptions.parse("to_dot", {"collapse": "neuron", **options}))
    plain = run_dot(to_dot(root, collapse="neuron", **options), "plain").decode()
    rows = [p for p in map(str.split, plain.splitlines()) if p[0] == "node"]
    at = {p[1]: (float(p[2]), float(p[3])) for p in rows}
    layers: dict[Any, list[tuple[int, float, float]]] = {}
    for k, b in enumerate(scene.groups):
        number = re.fullmatch(r".*neuron (\d+)", b.title)
        if number:
            layers.setdefault(b.container, []).append((int(number[1]), *at[f"g{k}"]))
    assert sum(len(n) for n in layers.values() if len(n) >= 4) >= 8  # two layers of 4, or 12
    across = options.get("rankdir", "LR") in ("LR", "RL")
    for neurons in layers.values():
        neurons.sort()
        ranks = {round(x if across else y, 3) for _, x, y in neurons}
        assert len(ranks) == 1, neurons  # one column (one row when the arrows run down)
        # Neuron 0 on top, or on the left when the arrows run down; y grows upwards.
        place = [-y if across else x for _, x, y in neurons]
        assert place == sorted(place), neurons


def kept_dense_neuron() -> tuple[Value, list[Value], list[float]]:
    """One nn.Dense neuron's output, a single `dot` of 4 weights, 4 inputs and a bias, as the
    root: a folded drawing keeps it, with all nine of its operands drawn as boxes, as an
    unfolded one does."""
    import nn

    dense = nn.Dense(4, 1, rng=3)
    x = [1.0, 2.0, 3.0, 4.0]
    ((z,),) = dense([x])
    z.backward()
    operands = z.parents
    w = [v.data for v in operands[:4]]
    # d(w . x + b)/d w_k = x_k, d/d x_k = w_k, d/d b = 1.
    return z, operands, [*x, *w, 1.0]


@pytest.mark.parametrize("folded", [True, False], ids=["folded", "unfolded"])
@pytest.mark.parametrize("clusters", [True, False], ids=["frames", "no-frames"])
@pytest.mark.parametrize("rankdir", ["LR", "TB", "RL", "BT"])
def test_a_dots_nine_factors_sit_each_on_its_own_arrow_in_operand_order(
    rankdir: str, clusters: bool, folded: bool
) -> None:
    z, operands, factors = kept_dense_neuron()
    options: dict[str, Any] = {"rankdir": rankdir, "clusters": clusters}
    if folded:
        options["collapse"] = "neuron"
    dot = to_dot(z, **options)
    (op,) = re.findall(r"^\t*(v\d+_op) \[", dot, flags=re.M)
    edges = re.findall(r"^\t(\S+) -> (\S+)(?: \[(.*)\])?$", dot, flags=re.M)
    into_op = [(t, a) for t, h, a in edges if h == op]
    # No label sits by the ellipse: each of the 9 arrows comes from a text node of its own,
    # which one arrow enters (from its operand box, without an arrowhead).
    assert len(into_op) == len(operands) == 9 and not any("label=" in a for _, a in into_op)
    labels = dict(re.findall(r"^\t*(v\d+_x\d+) \[.*label=<&#215;([^>]*)>\]$", dot, flags=re.M))
    assert [t for t, _ in into_op] == [f"{op[:-3]}_x{slot}" for slot in range(9)]
    for slot, (factor, _) in enumerate(into_op):
        assert float(labels[factor]) == pytest.approx(factors[slot], rel=1e-3)  # fmt {:.4g}
        (entering,) = [(t, a) for t, h, a in edges if h == factor]
        assert entering == (f"v{slot}", "arrowhead=none")  # v0..v8: the operands, in order
    assert "label=<" not in "".join(a for _, _, a in edges if a)  # no text on any arrow
    # Laid out by dot: the nine texts overlap neither each other nor any box, and the
    # operands come in operand order (w[0,0] first: on top, or on the left when arrows run down).
    plain = run_dot(dot, "plain").decode()
    boxes = {
        p[1]: tuple(map(float, p[2:6]))
        for p in map(str.split, plain.splitlines())
        if p[0] == "node"
    }
    texts = [boxes[f] for f, _ in into_op]
    others = [b for name, b in boxes.items() if name not in labels and name != "legend"]

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return abs(a[0] - b[0]) < (a[2] + b[2]) / 2 and abs(a[1] - b[1]) < (a[3] + b[3]) / 2

    for n, a in enumerate(texts):
        assert not any(overlap(a, b) for b in texts[n + 1 :] + others), (n, a)
    across = rankdir in ("LR", "RL")
    place = [-boxes[f"v{k}"][1] if across else boxes[f"v{k}"][0] for k in range(9)]
    assert place == sorted(place), place


def test_from_five_operands_on_an_ops_factors_are_text_nodes_on_their_arrows() -> None:
    xs = [Value(float(k), f"x{k}") for k in range(5)]
    # Four operands, as the seed neuron's sum: each factor a label on its arrow, as always.
    four = to_dot(ag.sum(xs[:4]))
    assert "_x" not in four and four.count("label=<&#215;1>") == 4
    # Five, as each neuron's sum in the seed layer: each factor a text node its arrow enters.
    five = to_dot(ag.sum(xs))
    texts = re.findall(r"^\t(v5_x\d) \[.*label=<&#215;1>\]$", five, flags=re.M)
    assert texts == [f"v5_x{slot}" for slot in range(5)]
    assert all(f"\tv{k} -> v5_x{k} [arrowhead=none]\n" in five for k in range(5))
    assert "\t{rank=same; v5_x0 -> v5_x1 -> v5_x2 -> v5_x3 -> v5_x4 [style=invis]}\n" in five


def test_a_drawing_of_more_than_500_values_keeps_its_factors_on_the_arrows() -> None:
    # Text nodes tripled dot's time on an unfolded MLP (891 Values: 8.7 s against 2.9 s), so they
    # stop at SPREAD_MAX_VALUES Values: a sum of n - 1 leaves is n Values.
    def drawing(n_values: int) -> str:
        leaves = [Value(float(k), f"c{k}") for k in range(n_values - 1)]
        return to_dot(ag.sum(leaves), max_nodes=2000)

    assert SPREAD_MAX_VALUES == 500
    at, above = drawing(500), drawing(501)
    assert len(re.findall(r"^\tv499_x\d+ \[.*label=<&#215;1>\]$", at, flags=re.M)) == 499
    assert "_x" not in above and above.count("label=<&#215;1>") == 500


def test_make_demo_writes_the_four_pictures(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    files = demo.draw_seed_examples(tmp_path)
    assert sorted(f.name for f in files) == ["layer.png", "layer.svg", "neuron.png", "neuron.svg"]
    neuron, _ = svg_parts((tmp_path / "neuron.svg").read_bytes())
    shown = {t[0]: t[1:] for t in neuron.values() if len(t) == 3}
    # The seed's hand-derived gradients: 12, -24, 36 and 12.
    assert shown["w0"] == ["data -3", "grad 12"] and shown["w1"] == ["data -1", "grad -24"]
    assert shown["w2"] == ["data 2", "grad 36"] and shown["b"] == ["data 1", "grad 12"]
    layer, _ = svg_parts((tmp_path / "layer.svg").read_bytes())
    shown = {t[0]: t[1:] for t in layer.values() if len(t) == 3}
    # Seed cell 9's first loss and d l / d W = outer(X, 2 y) with y = 21.6.
    assert shown["loss"] == ["data 466.56", "grad 1"]
    assert [shown[f"w2{n}"][1] for n in range(1, 5)] == [
        "grad 43.2",
        "grad 86.4",
        "grad 129.6",
        "grad 172.8",
    ]
    assert any("total 77.76" in t for t in layer["legend"])
    for name in ("neuron.png", "layer.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pages = demo.save_step_through(tmp_path)
    assert [p.name for p in pages] == ["backward.html", "backward-layer.html"]
    assert "x2.grad += 43.2 × 1 = 43.2, now 77.76" in pages[1].read_text(encoding="utf-8")


def fan_out(users: int) -> tuple[Value, Value]:
    """A weight w used by `users` products (as one weight is by every sample), summed up."""
    w = Value(0.5, "w")
    products = []
    for k in range(users):
        p = w * float(k)
        p.label = f"p{k}"
        products.append(p)
    total = ag.sum(products)
    total.label = "total"
    total.backward()
    return total, w


def svg_size(svg: bytes) -> tuple[float, float]:
    m = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert m
    return float(m[1]), float(m[2])


def test_a_tall_png_keeps_its_resolution_instead_of_shrinking_into_a_thumbnail(
    tmp_path: Path,
) -> None:
    total, w = fan_out(80)
    svg, png = render(total, tmp_path / "tall", focus=w, depth=1, fan=80)
    width, height = svg_size(svg.read_bytes())
    assert height / 72 > 40  # taller than the 40 inches PNGs used to be squeezed into
    png_width, png_height = struct.unpack(">II", png.read_bytes()[16:24])
    # 144 dpi, as asked: 2 px per point, so 11-point text is 22 px tall.
    assert abs(png_height - 2 * height) <= 2 and abs(png_width - 2 * width) <= 2


def test_a_png_too_big_to_read_is_refused_pointing_to_svg_and_pdf(tmp_path: Path) -> None:
    total, w = fan_out(400)
    with pytest.raises(
        GraphTooLarge, match=r"render\(\): the drawing is [\d,]+ x [\d,]+ inches"
    ) as e:
        render(total, tmp_path / "huge", focus=w, depth=1, fan=400)
    assert "Write SVG or PDF instead" in str(e.value) and "focus=" in str(e.value)
    assert list(tmp_path.iterdir()) == []  # refused before writing anything
    (svg,) = render(total, tmp_path / "huge", formats=("svg",), focus=w, depth=1, fan=400)
    assert svg_size(svg.read_bytes())[1] / 72 * 96 > 16_384


def test_focus_on_a_weight_used_by_many_samples_draws_a_readable_neighbourhood(
    tmp_path: Path,
) -> None:
    total, w = fan_out(300)
    svg, png = render(total, tmp_path / "focus", focus=w, depth=1)
    nodes, _ = svg_parts(svg.read_bytes())
    assert ["… 276 more users"] in nodes.values()
    assert sum(1 for t in nodes.values() if t and t[0].startswith("p")) == 24
    png_width, png_height = struct.unpack(">II", png.read_bytes()[16:24])
    assert max(png_width, png_height) < 6000 and png_width * png_height > 2_000_000


def test_render_names_itself_for_a_path_that_is_no_path(tmp_path: Path) -> None:
    x = Value(2.0, "x")
    with pytest.raises(
        TypeError, match=r"^render\(\) needs a path \(str, bytes or os.PathLike\), got int$"
    ):
        render(x * x, 5)  # type: ignore[arg-type]
    written = render(x * x, str(tmp_path / "sq").encode(), formats=("svg",))  # bytes, as os.fspath
    assert written == [tmp_path / "sq.svg"] and written[0].read_text().count("<svg") == 1
