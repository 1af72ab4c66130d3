# Checks for the code of card positional-encoding-numpy (run after it, in the same interpreter).
pe = positional_encoding(50, 16)
assert pe.shape == (50, 16) and np.allclose(pe[0, 1::2], 1)   # cos(0) = 1
assert np.allclose((pe ** 2).sum(axis=1), 8)                   # 8 sin/cos pairs
pos, i = 7, 3                                                   # the formula, entry by entry
assert np.isclose(pe[pos, 2 * i], np.sin(pos / 10000 ** (2 * i / 16)))
assert np.isclose(pe[pos, 2 * i + 1], np.cos(pos / 10000 ** (2 * i / 16)))
