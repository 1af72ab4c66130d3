# Checks for the code of card numpy-cross-entropy-from-logits (run after it, in the same interpreter).
logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
labels = np.array([0, 2])
assert np.isclose(cross_entropy(logits, labels), (0.40760596 + np.log(3)) / 2)
assert np.isclose(cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])), 1000.0)
