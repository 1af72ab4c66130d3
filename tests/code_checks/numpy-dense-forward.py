# Checks for the code of card numpy-dense-forward (run after it, in the same interpreter).
X = np.array([[1.0, 2.0], [3.0, 4.0]])
W = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
b = np.array([0.0, 1.0, 0.0])
Y = dense_forward(X, W, b)
assert Y.shape == (2, 3)
assert np.allclose(Y, [[2.0, 3.0, 3.0], [5.0, 5.0, 5.0]])
