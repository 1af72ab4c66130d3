# Checks for the code of card numpy-tanh-from-sigmoid (run after it, in the same interpreter).
x = np.linspace(-5, 5, 11)
assert np.allclose(tanh(x), np.tanh(x))
