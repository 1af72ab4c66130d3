# Checks for the code of card numpy-dense-backward (run after it, in the same interpreter).
rng = np.random.default_rng(0)
X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
C = rng.normal(size=(4, 2))                     # loss L = sum(C * Y), so dL/dY = C
dX, dW, db = dense_backward(C, X, W)
h, E = 1e-6, np.zeros_like(W); E[1, 0] = 1e-6
num = (np.sum(C * (X @ (W + E) + b)) - np.sum(C * (X @ (W - E) + b))) / (2 * h)
assert np.isclose(dW[1, 0], num)
assert np.allclose(db, C.sum(axis=0)) and np.allclose(dX, C @ W.T)
