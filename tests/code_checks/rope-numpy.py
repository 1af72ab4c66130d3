# Checks for the code of card rope-numpy (run after it, in the same interpreter).
rng = np.random.default_rng(0)
d = 8
q, k = rng.normal(size=(1, d)), rng.normal(size=(1, d))


def score(m, n):
    return (rope(q, np.array([m])) @ rope(k, np.array([n])).T).item()


# the score depends only on the offset n - m
assert np.isclose(score(3, 7), score(10, 14))
assert np.isclose(score(0, 5), score(100, 105))
assert not np.isclose(score(3, 7), score(3, 8))
# rotations keep norms; position 0 is the identity
x = rng.normal(size=(5, d))
assert np.allclose(np.linalg.norm(rope(x, np.arange(5.0)), axis=1), np.linalg.norm(x, axis=1))
assert np.allclose(rope(x, np.zeros(5)), x)
# the first pair rotates by angle m (theta_0 = 1)
e = np.zeros((1, d)); e[0, 0] = 1.0
assert np.allclose(rope(e, np.array([np.pi / 2]))[0, :2], [0.0, 1.0])
