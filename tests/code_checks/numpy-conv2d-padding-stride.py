# Checks for the code of card numpy-conv2d-padding-stride (run after it, in the same interpreter).
x = np.ones((5, 5))
assert conv2d(x, np.ones((3, 3)), pad=1, stride=1).shape == (5, 5)
out = conv2d(x, np.ones((3, 3)), pad=1, stride=2)
assert out.shape == (3, 3)                             # floor((5 + 2 - 3) / 2) + 1 = 3
assert np.allclose(out, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
assert conv2d(np.ones((7, 7)), np.ones((3, 3)), pad=0, stride=2).shape == (3, 3)
