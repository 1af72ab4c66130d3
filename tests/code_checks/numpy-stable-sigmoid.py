# Checks for the code of card numpy-stable-sigmoid (run after it, in the same interpreter).
x = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
assert np.allclose(sigmoid(x), [0.0, 0.11920292, 0.5, 0.88079708, 1.0])
