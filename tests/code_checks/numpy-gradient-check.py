# Checks for the code of card numpy-gradient-check (run after it, in the same interpreter).
x = np.array([1.0, -2.0, 0.5])
analytic = 3 * x**2
num = numerical_grad(lambda v: np.sum(v**3), x)
assert np.abs(analytic - num).max() / np.abs(analytic).max() < 1e-7
assert np.array_equal(x, [1.0, -2.0, 0.5])          # x is restored
