# Checks for the code of card numpy-cutmix (run after it, in the same interpreter).
rng = np.random.default_rng(0)
n, h, w = 8, 12, 10
x = np.stack([np.full((h, w, 3), float(i)) for i in range(n)])   # image i is filled with the value i
y = np.eye(n)                                                      # one class per image: y shows the mix
x_before = x.copy()
shares = []
for _ in range(300):
    xm, ym = cutmix(x, y, rng)
    assert np.array_equal(x, x_before)                             # the input batch is not modified
    masks = [xm[i, :, :, 0] != i for i in range(n)]
    patch = np.logical_or.reduce(masks)                            # one rectangle, the same in every image
    rows, cols = np.flatnonzero(patch.any(axis=1)), np.flatnonzero(patch.any(axis=0))
    if patch.any():
        assert patch[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all() and patch.sum() == rows.size * cols.size
    for i in range(n):
        share = masks[i].mean()
        if share == 0:                                             # no patch, or the image was paired with itself
            assert np.allclose(ym[i], y[i])
            continue
        assert np.array_equal(masks[i], patch)
        j = int(xm[i, rows[0], cols[0], 0])                        # the image the patch came from
        assert np.allclose(xm[i][patch], j)
        expected = (1 - share) * y[i] + share * y[j]
        assert np.allclose(ym[i], expected)                        # labels mixed by the true pasted area
        shares.append(share)
assert 0.3 < np.mean(shares) < 0.6                                 # patch area about 1 - lambda, lambda ~ U(0, 1)
