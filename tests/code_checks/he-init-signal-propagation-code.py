# Checks for the code of card he-init-signal-propagation-code (run after it, in the same interpreter).
assert 0.3 < he < 3  # He initialisation: the signal keeps its scale through 20 ReLU layers
assert small < 1e-12  # std 0.01: the signal has vanished
# The answer's estimate: each layer scales the signal by about 0.01 * sqrt(256 / 2).
assert 0.1 < small / (0.01 * np.sqrt(n / 2)) ** depth < 10
