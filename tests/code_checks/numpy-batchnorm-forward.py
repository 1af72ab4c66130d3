# Checks for the code of card numpy-batchnorm-forward (run after it, in the same interpreter).
rng = np.random.default_rng(0)
x = rng.normal(loc=5.0, scale=3.0, size=(256, 4))
mean, var = np.zeros(4), np.ones(4)
y = bn_train(x, np.ones(4), np.zeros(4), mean, var)
assert np.allclose(y.mean(axis=0), 0, atol=1e-7)
assert np.allclose(y.std(axis=0), 1, atol=1e-3)
assert np.allclose(mean, 0.1 * x.mean(axis=0))       # updated in place
assert np.allclose(var, 0.9 + 0.1 * x.var(axis=0))
