# Checks for the code of card numpy-average-precision (run after it, in the same interpreter).
def ap_slow(tp, n_gt):
    """Independent definition: at each true positive, the best precision at any later rank."""
    precisions = [sum(tp[:k + 1]) / (k + 1) for k in range(len(tp))]
    return sum(max(precisions[k:]) for k in range(len(tp)) if tp[k]) / n_gt


assert np.isclose(ap([1, 0, 1], 3), 5 / 9)                 # the worked example card
assert ap([1, 1, 1], 3) == 1.0 and ap([0, 0], 2) == 0.0
assert np.isclose(ap([1, 1, 0, 0, 1], 4), 0.25 + 0.25 + 0.25 * 0.6)
rng = np.random.default_rng(0)
for _ in range(200):
    flags = list(rng.integers(0, 2, rng.integers(1, 12)))
    n_gt = sum(flags) + int(rng.integers(0, 3))
    if n_gt:
        assert np.isclose(ap(flags, n_gt), ap_slow(flags, n_gt)), flags
