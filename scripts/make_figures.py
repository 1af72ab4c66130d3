"""Regenerate the figures of the Deep Learning Interview Questions deck.

Usage (from the project root, with matplotlib and numpy installed)::

    python scripts/make_figures.py

The script takes no arguments. It writes these PNG files into
``cards/deep-learning/img/`` (next to the card files that reference them):

- ``activations.png``: sigmoid, tanh, ReLU and Leaky ReLU on [-4, 4] (2x2 grid).
- ``fitting-curves.png``: training vs validation loss over epochs for
  underfitting, a good fit and overfitting (illustrative synthetic curves).
- ``lr-schedules.png``: learning rate vs step for step decay, exponential
  decay and cosine decay with linear warm-up.
- ``conv-padding-stride.png``: a 5x5 input with one ring of zero padding, a
  highlighted 3x3 kernel window, and the output sizes for stride 1 (5x5) and
  stride 2 (3x3).
- ``norm-axes.png``: a batch x features grid, with the column batch norm
  normalises over and the row layer norm normalises over.
- ``pre-post-ln.png``: a post-LN and a pre-LN Transformer block side by side.
- ``saddle.png``: the surface f(x, y) = x^2 - y^2 with its saddle point at the
  origin.
- ``top-k-top-p.png``: a confident and an unsure next-token distribution, the
  tokens a top-p = 0.9 nucleus keeps, and the cut of top-k with k = 3.
- ``pipeline-bubble.png``: the GPipe schedule of 4 pipeline stages and 8
  micro-batches, with its idle bubble.
- ``dilated-receptive-field.png``: three stacked 1-D convolutions with kernel 3
  and dilations 1, 2 and 4; the units that feed one output unit span 15 inputs.
- ``double-descent.png``: test and training error of minimum-norm least squares on
  random ReLU features against the number of features (a real experiment, median
  of 20 seeds): the test error peaks where the features first fit the 100
  training points exactly and falls again beyond.
- ``kl-forward-reverse.png``: the Gaussian that minimises KL(p||q) and the one
  that minimises KL(q||p) for a bimodal p (mass-covering vs mode-seeking).
- ``reliability-diagram.png``: accuracy against confidence in 10 bins for a
  simulated overconfident classifier (its stated confidence is a calibrated
  probability pushed towards 1), with the gaps to the diagonal shaded.

The figures must be readable on Anki's white day-mode card and on the dark
(#2f2f31) night-mode card, so they use a transparent background, mid-grey
text/axes/grid and mid-tone saturated line colours. Output is deterministic:
the Agg backend, a fixed SVG hash salt and PNG metadata without the
"Software" entry make reruns produce byte-identical files.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "cards" / "deep-learning" / "img"

GREY = "#8a8a8a"
# Mid-tone saturated colours: visible on white and on #2f2f31.
BLUE = "#2f8fe0"
ORANGE = "#f08a24"
GREEN = "#2fb36b"
PINK = "#e0457b"
PURPLE = "#9a6ae0"

DPI = 100
WIDTH = 6.4  # inches -> 640 px at DPI 100
PHONE_WIDTH = 4.0  # 400 px: shown about 1:1 on a 412 px phone, so the text stays legible

plt.rcParams.update(
    {
        "svg.hashsalt": "cardsmith-deep-learning",
        "font.size": 10,
        "text.color": GREY,
        "axes.edgecolor": GREY,
        "axes.labelcolor": GREY,
        "axes.titlecolor": GREY,
        "axes.facecolor": "none",
        "figure.facecolor": "none",
        "xtick.color": GREY,
        "ytick.color": GREY,
        "grid.color": GREY,
        "grid.alpha": 0.35,
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "legend.labelcolor": GREY,
        "lines.linewidth": 2.2,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def save(fig, name):
    """Save ``fig`` as a transparent, metadata-free PNG and close it."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        OUT_DIR / name,
        dpi=DPI,
        transparent=True,
        metadata={"Software": None},
    )
    plt.close(fig)


def activations():
    x = np.linspace(-4, 4, 401)
    curves = [
        ("Sigmoid  $1/(1+e^{-x})$", 1 / (1 + np.exp(-x)), BLUE),
        ("Tanh  $\\tanh(x)$", np.tanh(x), ORANGE),
        ("ReLU  $\\max(0, x)$", np.maximum(0, x), GREEN),
        ("Leaky ReLU  $\\max(0.1x, x)$", np.where(x > 0, x, 0.1 * x), PINK),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 4.4), sharex=True)
    for ax, (title, y, colour) in zip(axes.flat, curves):
        ax.axhline(0, color=GREY, linewidth=0.8)
        ax.axvline(0, color=GREY, linewidth=0.8)
        ax.plot(x, y, color=colour)
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-4, 4)
        ax.grid(True)
    for ax in axes[1]:
        ax.set_xlabel("x")
    fig.tight_layout()
    save(fig, "activations.png")


def fitting_curves():
    epochs = np.arange(1, 51)
    t = epochs / 50
    cases = [
        ("Underfitting", 0.80 + 0.25 * np.exp(-8 * t), 0.85 + 0.25 * np.exp(-8 * t)),
        ("Good fit", 0.15 + 0.9 * np.exp(-6 * t), 0.22 + 0.9 * np.exp(-6 * t)),
        (
            "Overfitting",
            0.02 + 1.0 * np.exp(-7 * t),
            0.30 + 0.9 * np.exp(-9 * t) + 0.9 * np.clip(t - 0.3, 0, None) ** 1.5,
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 2.9), sharey=True)
    for ax, (title, train, val) in zip(axes, cases):
        ax.plot(epochs, train, color=BLUE, label="training")
        ax.plot(epochs, val, color=ORANGE, label="validation")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1.3)
        ax.set_xticks([0, 25, 50])
        ax.grid(True)
    axes[0].set_ylabel("loss")
    best = int(np.argmin(cases[2][2]))
    axes[2].axvline(epochs[best], color=GREY, linestyle="--", linewidth=1)
    axes[2].text(epochs[best] + 1.5, 1.17, "early stop", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    save(fig, "fitting-curves.png")


def lr_schedules():
    steps = np.arange(0, 1001)
    lr0 = 0.1
    step_decay = lr0 * 0.5 ** np.minimum(steps // 250, 3)
    exp_decay = lr0 * np.exp(-steps / 300)
    warmup = 100
    cosine = np.where(
        steps < warmup,
        lr0 * steps / warmup,
        0.5 * lr0 * (1 + np.cos(np.pi * (steps - warmup) / (steps[-1] - warmup))),
    )
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    ax.plot(steps, step_decay, color=BLUE, label="step decay (x0.5 every 250 steps)")
    ax.plot(steps, exp_decay, color=ORANGE, label="exponential decay")
    ax.plot(steps, cosine, color=GREEN, label="linear warm-up + cosine decay")
    ax.set_xlabel("training step")
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 0.135)
    ax.grid(True)
    ax.legend(loc="upper right", fontsize=9, ncol=1)
    fig.tight_layout()
    save(fig, "lr-schedules.png")


def _grid(ax, x0, y0, n, fill=None, edge=GREY, labels=None):
    """Draw an n x n grid of unit squares with lower-left corner (x0, y0)."""
    for i in range(n):
        for j in range(n):
            face = fill(i, j) if fill else "none"
            ax.add_patch(
                Rectangle((x0 + j, y0 + n - 1 - i), 1, 1, facecolor=face,
                          edgecolor=edge, linewidth=0.8)
            )
            if labels is not None:
                text = labels(i, j)
                if text:
                    ax.text(x0 + j + 0.5, y0 + n - 1 - i + 0.5, text,
                            ha="center", va="center", fontsize=8, color=GREY)


def conv_padding_stride():
    fig, ax = plt.subplots(figsize=(WIDTH, 3.3))
    ax.set_aspect("equal")
    ax.axis("off")

    # Input: 5x5 with one ring of zero padding -> 7x7 cells.
    def pad_fill(i, j):
        inside = 1 <= i <= 5 and 1 <= j <= 5
        return (0.18, 0.56, 0.88, 0.30) if inside else "none"

    def pad_label(i, j):
        inside = 1 <= i <= 5 and 1 <= j <= 5
        return "" if inside else "0"

    _grid(ax, 0, 0, 7, fill=pad_fill, labels=pad_label)
    # 3x3 kernel window at the top-left corner (covers padding).
    ax.add_patch(Rectangle((0, 4), 3, 3, facecolor="none", edgecolor=ORANGE, linewidth=3))
    # Where the window goes next with stride 2.
    ax.add_patch(Rectangle((2, 4), 3, 3, facecolor="none", edgecolor=PINK,
                           linewidth=2, linestyle="--"))
    ax.text(3.5, -0.7, "input 5x5, padding p=1\nkernel k=3 (orange);\nnext window at stride 2 (dashed)",
            ha="center", va="top", fontsize=8.5)

    # Output for stride 1: 5x5.
    x1 = 9.5
    _grid(ax, x1, 1, 5, fill=lambda i, j: (0.94, 0.54, 0.14, 0.75) if (i, j) == (0, 0) else "none")
    ax.text(x1 + 2.5, -0.7, "stride 1\noutput 5x5", ha="center", va="top", fontsize=8.5)

    # Output for stride 2: 3x3.
    x2 = 16.5
    _grid(ax, x2, 2, 3, fill=lambda i, j: (0.94, 0.54, 0.14, 0.75) if (i, j) == (0, 0) else
          ((0.88, 0.27, 0.48, 0.6) if (i, j) == (0, 1) else "none"))
    ax.text(x2 + 1.5, -0.7, "stride 2\noutput 3x3", ha="center", va="top", fontsize=8.5)

    ax.text(10.25, 7.4, r"out $= \lfloor (n + 2p - k)/s \rfloor + 1$", ha="center",
            va="bottom", fontsize=10)
    ax.set_xlim(-0.2, 19.7)
    ax.set_ylim(-2.6, 8.3)
    fig.tight_layout(pad=0.2)
    save(fig, "conv-padding-stride.png")


def norm_axes():
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.0))
    n, d = 5, 6
    panels = [
        ("Batch norm: one feature,\nover the batch", lambda i, j: j == 2, BLUE),
        ("Layer norm: one example,\nover its features", lambda i, j: i == 1, ORANGE),
    ]
    for ax, (title, chosen, colour) in zip(axes, panels):
        ax.set_aspect("equal")
        ax.axis("off")
        for i in range(n):
            for j in range(d):
                ax.add_patch(Rectangle((j, n - 1 - i), 1, 1, linewidth=0.8, edgecolor=GREY,
                                       facecolor=colour if chosen(i, j) else "none",
                                       alpha=0.8 if chosen(i, j) else 1))
        ax.text(d / 2, -0.4, "features", ha="center", va="top", fontsize=9)
        ax.text(-0.4, n / 2, "batch", ha="right", va="center", rotation=90, fontsize=9)
        ax.text(d / 2, n + 0.3, title, ha="center", va="bottom", fontsize=10)
        ax.set_xlim(-1.2, d + 0.2)
        ax.set_ylim(-1.3, n + 1.9)
    fig.tight_layout(pad=0.3)
    save(fig, "norm-axes.png")


def _box(ax, x, y, text, colour, w=2.4, h=0.7):
    """A labelled box centred at (x, y)."""
    ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, facecolor=colour, alpha=0.35,
                           edgecolor=colour, linewidth=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=9.5, color=GREY)


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start,
                arrowprops={"arrowstyle": "-|>", "color": GREY, "linewidth": 1.3})


def _add(ax, x, y):
    ax.add_patch(plt.Circle((x, y), 0.22, facecolor="none", edgecolor=GREY, linewidth=1.3))
    ax.text(x, y, "+", ha="center", va="center", fontsize=11, color=GREY)


def pre_post_ln():
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 4.0))
    for ax, title in zip(axes, ("Post-LN (original)", "Pre-LN (GPT-2, LLaMA)")):
        ax.axis("off")
        ax.set_xlim(-2.2, 2.4)
        ax.set_ylim(-0.6, 5.6)
        ax.set_title(title, fontsize=10)
        ax.text(0, -0.45, "$x_l$", ha="center", fontsize=10)
        ax.text(0, 5.35, "$x_{l+1}$", ha="center", fontsize=10)
    post, pre = axes
    # Post-LN: x -> sublayer -> (+ x) -> LN -> out.
    _box(post, 0, 1.6, "sub-layer F", BLUE)
    _add(post, 0, 3.0)
    _box(post, 0, 4.1, "LayerNorm", ORANGE)
    _arrow(post, (0, -0.15), (0, 1.25))
    _arrow(post, (0, 1.95), (0, 2.78))
    _arrow(post, (0, 3.22), (0, 3.75))
    _arrow(post, (0, 4.45), (0, 5.2))
    post.plot([0, 1.8, 1.8], [0.45, 0.45, 3.0], color=GREEN, linewidth=1.6)
    _arrow(post, (1.8, 3.0), (0.22, 3.0))
    post.text(1.9, 1.7, "residual", color=GREEN, fontsize=9, rotation=90, va="center")
    # Pre-LN: x -> LN -> sublayer -> (+ x) -> out.
    _box(pre, 0, 1.3, "LayerNorm", ORANGE)
    _box(pre, 0, 2.7, "sub-layer F", BLUE)
    _add(pre, 0, 4.1)
    _arrow(pre, (0, -0.15), (0, 0.95))
    _arrow(pre, (0, 1.65), (0, 2.35))
    _arrow(pre, (0, 3.05), (0, 3.88))
    _arrow(pre, (0, 4.32), (0, 5.2))
    pre.plot([0, 1.8, 1.8], [0.45, 0.45, 4.1], color=GREEN, linewidth=1.6)
    _arrow(pre, (1.8, 4.1), (0.22, 4.1))
    pre.text(1.9, 2.2, "residual (no LN)", color=GREEN, fontsize=9, rotation=90, va="center")
    fig.tight_layout(pad=0.3)
    save(fig, "pre-post-ln.png")


def saddle():
    fig = plt.figure(figsize=(WIDTH, 4.0))
    ax = fig.add_subplot(projection="3d")
    x, y = np.meshgrid(np.linspace(-1, 1, 41), np.linspace(-1, 1, 41))
    ax.plot_surface(x, y, x**2 - y**2, cmap="coolwarm", alpha=0.5, linewidth=0)
    t = np.linspace(-1, 1, 41)
    ax.plot(t, 0 * t, t**2, color=GREEN, linewidth=2.5, label="along x: curves up")
    ax.plot(0 * t, t, -(t**2), color=PURPLE, linewidth=2.5, label="along y: curves down")
    ax.scatter([0], [0], [0], color=GREY, s=30)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((0, 0, 0, 0))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("$f(x, y) = x^2 - y^2$: saddle point at the origin", fontsize=10)
    ax.view_init(elev=25, azim=-60)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout(pad=0.3)
    save(fig, "saddle.png")


def top_k_top_p():
    cases = [
        ("Confident model", np.array([0.70, 0.22, 0.03, 0.02, 0.01, 0.01, 0.004, 0.003, 0.002, 0.001])),
        ("Unsure model", np.array([0.16, 0.15, 0.14, 0.13, 0.12, 0.10, 0.08, 0.05, 0.04, 0.03])),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.0), sharey=True)
    for ax, (title, probs) in zip(axes, cases):
        nucleus = int(np.searchsorted(np.cumsum(probs), 0.9)) + 1  # the rule of card top-p-numpy
        ranks = np.arange(1, len(probs) + 1)
        ax.bar(ranks, probs, color=[BLUE if r <= nucleus else GREY for r in ranks], alpha=0.85)
        ax.axvline(3.5, color=ORANGE, linestyle="--", linewidth=1.5)
        ax.text(3.7, 0.62, "top-k cut\n(k = 3)", color=ORANGE, fontsize=8.5, va="top")
        ax.set_title(f"{title}: top-p nucleus = {nucleus} tokens", fontsize=9.5)
        ax.set_xlabel("token rank")
        ax.set_xticks(ranks)
        ax.grid(True, axis="y")
    axes[0].set_ylabel("probability")
    fig.tight_layout(pad=0.4)
    save(fig, "top-k-top-p.png")


def pipeline_bubble():
    stages, micro = 4, 8
    slots = micro + stages - 1  # per pass
    fig, ax = plt.subplots(figsize=(WIDTH, 1.9))
    for s in range(stages):
        y = stages - 1 - s
        for t in range(2 * slots):
            ax.add_patch(Rectangle((t, y), 1, 1, facecolor=(0.54, 0.54, 0.54, 0.18),
                                   edgecolor="none"))
        for m in range(micro):
            # Forward of micro-batch m reaches stage s at slot s + m; backward runs in reverse.
            for t, colour in ((s + m, BLUE), (slots + (stages - 1 - s) + m, ORANGE)):
                ax.add_patch(Rectangle((t, y), 1, 1, facecolor=colour, alpha=0.85,
                                       edgecolor="white", linewidth=0.8))
                ax.text(t + 0.5, y + 0.5, str(m + 1), ha="center", va="center",
                        fontsize=7.5, color="white")
        ax.text(-0.3, y + 0.5, f"GPU {s + 1}", ha="right", va="center", fontsize=9)
    ax.text(slots / 2, stages + 0.15, "forward", color=BLUE, ha="center", va="bottom", fontsize=9)
    ax.text(1.5 * slots, stages + 0.15, "backward", color=ORANGE, ha="center", va="bottom",
            fontsize=9)
    ax.text(slots, -0.25, "time; grey: idle (the bubble)", ha="center", va="top", fontsize=9)
    ax.set_xlim(-2.6, 2 * slots + 0.2)
    ax.set_ylim(-1.0, stages + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout(pad=0.2)
    save(fig, "pipeline-bubble.png")
def dilated_receptive_field():
    """One output unit of three stacked kernel-3 convolutions, dilations 1, 2, 4."""
    n, dilations = 17, (1, 2, 4)
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH, 2.6))
    ax.axis("off")
    # Walk down from the top unit: the set of positions each layer uses.
    used = [{n // 2}]
    for d in reversed(dilations):
        used.append({i + o * d for i in used[-1] for o in (-1, 0, 1)})
    used.reverse()  # used[0]: input positions, used[3]: the output unit
    colours = [BLUE, GREEN, ORANGE, PINK]
    for level, d in enumerate(dilations):
        for i in sorted(used[level + 1]):
            for o in (-1, 0, 1):
                ax.plot([i + o * d, i], [level, level + 1], color=colours[level + 1],
                        linewidth=1.4, alpha=0.8, zorder=1)
    for level in range(4):
        xs = np.arange(n)
        on = np.array([x in used[level] for x in xs])
        ax.scatter(xs[~on], np.full((~on).sum(), level), s=18, facecolor="none",
                   edgecolor=GREY, linewidth=0.8, zorder=2)
        ax.scatter(xs[on], np.full(on.sum(), level), s=30, color=colours[level], zorder=3)
    labels = ["input", "d = 1", "d = 2", "d = 4"]
    for level, text in enumerate(labels):
        ax.text(n - 0.1, level, text, va="center", ha="left", fontsize=11)
    ax.annotate("", xy=(1, -0.45), xytext=(15, -0.45),
                arrowprops={"arrowstyle": "<->", "color": GREY})
    ax.text(8, -0.75, "receptive field: 15 inputs", ha="center", va="top", fontsize=11)
    ax.set_xlim(-0.6, n + 2.6)
    ax.set_ylim(-1.2, 3.4)
    fig.tight_layout(pad=0.2)
    save(fig, "dilated-receptive-field.png")


def double_descent():
    """Model-wise double descent of random-features regression (Belkin et al., 2019)."""
    n, d, noise, seeds = 100, 20, 0.2, 20
    widths = np.unique(np.round(np.logspace(np.log10(5), np.log10(2000), 40)).astype(int))
    test = np.zeros((seeds, widths.size))
    train = np.zeros_like(test)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        beta = rng.standard_normal(d) / np.sqrt(d)
        x, x_test = rng.standard_normal((n, d)), rng.standard_normal((1000, d))
        y = np.tanh(2 * x @ beta) + noise * rng.standard_normal(n)
        y_test = np.tanh(2 * x_test @ beta)
        w_in = rng.standard_normal((d, widths.max())) / np.sqrt(d)
        for i, p in enumerate(widths):
            feats = np.maximum(0, x @ w_in[:, :p])
            # lstsq returns the minimum-norm solution once p > n (many exact fits).
            w = np.linalg.lstsq(feats, y, rcond=None)[0]
            train[seed, i] = np.mean((feats @ w - y) ** 2)
            test[seed, i] = np.mean((np.maximum(0, x_test @ w_in[:, :p]) @ w - y_test) ** 2)
    test, train = np.median(test, axis=0), np.median(train, axis=0)
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH, 3.0))
    ax.plot(widths, test, color=ORANGE, label="test")
    ax.plot(widths, train, color=BLUE, label="training")
    ax.axvline(n, color=GREY, linestyle="--", linewidth=1)
    top = 1.4  # the peak goes far higher: clip it so the two descents stay visible
    ax.text(n * 1.12, top * 0.97, f"peak {test.max():.0f}", fontsize=9, va="top")
    ax.text(n * 1.12, top * 0.8, "features =\ntraining points", fontsize=9, va="top")
    ax.set_xscale("log")
    ax.set_ylim(0, top)
    ax.set_xlabel("number of random features (model size)")
    ax.set_ylabel("mean squared error")
    ax.legend(loc="lower left", fontsize=10)
    ax.grid(True, which="major")
    fig.tight_layout(pad=0.3)
    save(fig, "double-descent.png")


def kl_forward_reverse():
    """Best Gaussian q for a two-mode p under each direction of the KL divergence."""
    x = np.linspace(-6, 6, 2401)
    dx = x[1] - x[0]

    def normal(mu, sd):
        return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))

    p = 0.5 * normal(-2, 0.6) + 0.5 * normal(2, 0.6)
    # Forward KL(p||q) over Gaussians is minimised by matching p's mean and variance.
    mean = np.sum(x * p) * dx
    forward = normal(mean, np.sqrt(np.sum((x - mean) ** 2 * p) * dx))
    # Reverse KL(q||p): grid search over the Gaussian's mean and standard deviation.
    grid = [(mu, sd) for mu in np.linspace(-3, 3, 121) for sd in np.linspace(0.2, 3, 57)]

    def reverse_kl(mu, sd):
        q = normal(mu, sd)
        return np.sum(q * (np.log(q + 1e-300) - np.log(p + 1e-300))) * dx

    reverse = normal(*min(grid, key=lambda g: reverse_kl(*g)))
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH, 2.8))
    ax.fill_between(x, p, color=GREY, alpha=0.35, linewidth=0, label="p (data)")
    ax.plot(x, forward, color=BLUE, label="min KL(p||q): covers")
    ax.plot(x, reverse, color=ORANGE, label="min KL(q||p): one mode")
    ax.set_xlim(-5, 5)
    ax.set_ylim(0, 0.95)
    ax.set_yticks([])
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout(pad=0.3)
    save(fig, "kl-forward-reverse.png")


def reliability_diagram():
    """Reliability diagram of a simulated overconfident classifier (illustrative)."""
    rng = np.random.default_rng(0)
    true_p = rng.uniform(0.25, 1.0, 20000)            # calibrated probability of being right
    correct = rng.random(true_p.size) < true_p
    conf = true_p ** 0.35                             # what the overconfident model reports
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.ceil(conf * 10).astype(int) - 1, 0, 9)
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH, 3.4))
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfect calibration")
    for k in np.unique(which):
        in_bin = which == k
        acc, mean_conf = correct[in_bin].mean(), conf[in_bin].mean()
        ax.bar(edges[k], acc, width=0.1, align="edge", color=BLUE, edgecolor="white",
               label="accuracy" if k == 9 else None)
        ax.bar(edges[k], mean_conf - acc, bottom=acc, width=0.1, align="edge", color=PINK,
               alpha=0.45, label="gap (overconfidence)" if k == 9 else None)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("confidence (bin)")
    ax.set_ylabel("accuracy in the bin")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout(pad=0.3)
    save(fig, "reliability-diagram.png")


def main():
    activations()
    fitting_curves()
    lr_schedules()
    conv_padding_stride()
    norm_axes()
    pre_post_ln()
    saddle()
    top_k_top_p()
    pipeline_bubble()
    dilated_receptive_field()
    double_descent()
    kl_forward_reverse()
    reliability_diagram()


if __name__ == "__main__":
    main()
