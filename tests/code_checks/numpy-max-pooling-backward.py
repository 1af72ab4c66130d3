# Checks for the code of card numpy-max-pooling-backward (run after it, in the same interpreter).
x = np.array([[1.0, 3.0], [4.0, 2.0]])
assert np.array_equal(max_pool_backward(x, np.array([[10.0]])), [[0, 0], [10, 0]])
x = np.array([[1.0, 3.0, 0.0, 0.5], [4.0, 2.0, 0.2, 0.1]])
assert np.array_equal(max_pool_backward(x, np.array([[1.0, 2.0]])), [[0, 0, 0, 2], [1, 0, 0, 0]])
