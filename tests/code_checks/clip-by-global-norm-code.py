# Checks for the code of card clip-by-global-norm-code (run after it, in the same interpreter).
grads = [np.array([3.0]), np.array([4.0])]  # global norm 5 over two tensors
clipped, norm = clip_global_norm(grads, c=1.0)
assert np.isclose(norm, 5.0)
assert np.allclose(np.concatenate(clipped), [0.6, 0.8], atol=1e-6)  # direction kept, length 1

small = [np.array([[0.3, 0.4]])]  # norm 0.5, below the threshold: unchanged
kept, norm = clip_global_norm(small, c=1.0)
assert np.isclose(norm, 0.5) and np.array_equal(kept[0], small[0])

zero, norm = clip_global_norm([np.zeros(3)], c=1.0)  # no division by zero
assert norm == 0 and np.array_equal(zero[0], np.zeros(3))
