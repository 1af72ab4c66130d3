# Checks for the code of card numpy-conv2d-stride-tricks (run after it, in the same interpreter).
x = np.arange(25.0).reshape(5, 5)
k = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])  # Laplacian
assert np.allclose(conv2d(x, k), np.zeros((3, 3)))   # a linear ramp has no curvature
assert np.isclose(conv2d(x, np.ones((3, 3)))[0, 0], 54.0)
k = np.array([[1.0, 2.0], [3.0, 4.0]])
loops = [[np.sum(x[i:i + 2, j:j + 2] * k) for j in range(4)] for i in range(4)]
assert np.allclose(conv2d(x, k), loops)                # not flipped: cross-correlation
