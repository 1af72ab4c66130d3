# Checks for the code of card numpy-mlp-xor-training (run after it, in the same interpreter).
assert np.array_equal(p > 0.5, y == 1)
