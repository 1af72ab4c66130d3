# Checks for the code of card numpy-linear-regression-gd-step (run after it, in the same interpreter).
X = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])   # first column: bias
y = np.array([2.0, 3.0, 4.0])
w = gd_step(np.zeros(2), X, y, lr=0.1)
assert np.allclose(w, [0.6, 4 / 3])
for _ in range(5000):
    w = gd_step(w, X, y, lr=0.1)
assert np.allclose(w, np.linalg.lstsq(X, y, rcond=None)[0])   # converges to least squares
