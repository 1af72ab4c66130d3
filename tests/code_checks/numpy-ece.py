# Checks for the code of card numpy-ece (run after it, in the same interpreter).
# The ece-example card: 40 predictions at mean confidence 0.9 with accuracy 0.7 and 60 at mean
# confidence 0.6 with accuracy 0.6, in two bins of m = 4: (0.5, 0.75] and (0.75, 1].
conf = np.array([0.85] * 20 + [0.95] * 20 + [0.55] * 30 + [0.65] * 30)
correct = np.array(([1] * 14 + [0] * 6) * 2 + ([1] * 18 + [0] * 12) * 2)
assert np.isclose(ece(conf, correct, m=4), 0.08)


def ece_slow(conf, correct, m):
    """Independent version: explicit (lo, hi] bins, the first one closed at 0."""
    total = 0.0
    for k in range(m):
        lo, hi = k / m, (k + 1) / m
        members = [i for i, c in enumerate(conf) if (lo < c <= hi) or (k == 0 and c == 0)]
        if members:
            gap = np.mean([correct[i] for i in members]) - np.mean([conf[i] for i in members])
            total += len(members) / len(conf) * abs(gap)
    return total


rng = np.random.default_rng(0)
for m in (1, 5, 15):
    conf = rng.uniform(0.2, 1.0, 500)
    correct = rng.random(500) < conf ** 2           # an overconfident model
    assert np.isclose(ece(conf, correct, m), ece_slow(conf, correct, m))
    assert ece(conf, correct, m) > 0.05
perfect = rng.random(100_000) < np.full(100_000, 0.7)
assert ece(np.full(100_000, 0.7), perfect) < 0.01   # calibrated: confidence 0.7, right 70 % of the time
