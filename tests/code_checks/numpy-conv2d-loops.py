# Checks for the code of card numpy-conv2d-loops (run after it, in the same interpreter).
x = np.arange(16.0).reshape(4, 4)
k = np.array([[1.0, 0.0], [0.0, -1.0]])
assert np.allclose(conv2d(x, k), -5.0 * np.ones((3, 3)))
assert conv2d(np.ones((5, 5)), np.ones((3, 3))).shape == (3, 3)
assert conv2d(np.ones((5, 4)), np.ones((2, 3))).shape == (4, 2)
