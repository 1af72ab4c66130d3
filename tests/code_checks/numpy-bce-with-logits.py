# Checks for the code of card numpy-bce-with-logits (run after it, in the same interpreter).
z, y = np.array([2.0, -1.0, 0.0]), np.array([1.0, 0.0, 1.0])
p = 1 / (1 + np.exp(-z))
naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
assert np.isclose(bce_with_logits(z, y), naive)            # 0.37779...
assert np.isclose(bce_with_logits(np.array([1000.0]), np.array([0.0])), 1000.0)
assert np.isclose(bce_with_logits(np.array([-1000.0]), np.array([0.0])), 0.0)
