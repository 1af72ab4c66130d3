# Checks for the code of card numpy-affine-coupling (run after it, in the same interpreter).
rng = np.random.default_rng(0)
W1, W2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
s = lambda a: np.tanh(W1 @ a)               # any networks from the first half to the second
t = lambda a: W2 @ np.sin(a)
x = rng.standard_normal(6)
y, logdet = forward(x, s, t)
assert np.allclose(y[:3], x[:3])                        # the first half passes unchanged
assert np.allclose(inverse(y, s, t), x)                 # exact inverse
h = 1e-6                                                # log|det| against a numerical Jacobian
J = np.stack([(forward(x + h * e, s, t)[0] - forward(x - h * e, s, t)[0]) / (2 * h) for e in np.eye(6)], axis=1)
assert np.allclose(np.triu(J, 1)[:3], 0) and np.allclose(J[:3, 3:], 0)
assert np.isclose(logdet, np.log(abs(np.linalg.det(J))), atol=1e-6)
