# Checks for the code of card numpy-inverted-dropout (run after it, in the same interpreter).
rng = np.random.default_rng(0)
x = np.ones((1000, 100))
y = dropout(x, 0.5, training=True, rng=rng)
assert set(np.unique(y)) == {0.0, 2.0}
assert abs(y.mean() - 1.0) < 0.01                   # expectation preserved
assert np.array_equal(dropout(x, 0.5, training=False, rng=rng), x)
