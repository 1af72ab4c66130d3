# Checks for the code of card numpy-ddpm-forward (run after it, in the same interpreter).
assert abar.shape == (1000,) and np.all(np.diff(abar) < 0)
assert np.isclose(abar[-1], 4.04e-5, rtol=0.01)            # the figure quoted on ddpm-forward-closed-form
rng = np.random.default_rng(0)
x0 = rng.standard_normal(200_000)                            # unit-variance data
for t in (0, 99, 499, 999):
    xt, eps = q_sample(x0, t, rng)
    assert np.allclose(xt, np.sqrt(abar[t]) * x0 + np.sqrt(1 - abar[t]) * eps)
    assert abs(xt.var() - 1) < 0.02                          # variance preserved
    assert abs(np.corrcoef(x0, xt)[0, 1] - np.sqrt(abar[t])) < 0.01
