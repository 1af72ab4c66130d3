# Checks for the code of card numpy-stable-softmax (run after it, in the same interpreter).
p = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]]))
assert np.allclose(p[0], [0.09003057, 0.24472847, 0.66524096])
assert np.allclose(p[1], 1 / 3) and np.allclose(p.sum(axis=-1), 1)
