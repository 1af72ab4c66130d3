# Checks for the code of card numpy-clip-loss (run after it, in the same interpreter).
def clip_loss_slow(img, txt, t=0.07):
    """Per-pair cross-entropies written out with explicit loops."""
    img = [v / np.linalg.norm(v) for v in img]
    txt = [v / np.linalg.norm(v) for v in txt]
    n = len(img)
    sim = [[float(img[i] @ txt[j]) / t for j in range(n)] for i in range(n)]
    rows = [-sim[i][i] + np.log(sum(np.exp(sim[i][j]) for j in range(n))) for i in range(n)]
    cols = [-sim[j][j] + np.log(sum(np.exp(sim[i][j]) for i in range(n))) for j in range(n)]
    return (np.mean(rows) + np.mean(cols)) / 2


rng = np.random.default_rng(0)
img, txt = rng.standard_normal((6, 8)), rng.standard_normal((6, 8))
assert np.isclose(clip_loss(img, txt), clip_loss_slow(img, txt))
assert np.isclose(clip_loss(img, txt, t=1.0), clip_loss_slow(img, txt, t=1.0))
assert np.isclose(clip_loss(img, txt), clip_loss(txt, img))          # symmetric in the two modalities
aligned = np.eye(6, 8) * 3.0                                          # each image matches its own caption only
assert np.isclose(clip_loss(aligned, aligned), np.log(1 + 5 * np.exp(-1 / 0.07)))
assert clip_loss(aligned, aligned) < 1e-5 < clip_loss(img, txt)
assert np.isfinite(clip_loss(img * 1e3, txt, t=0.001))               # no overflow at a tiny temperature
