# Checks for the code of card lstm-step-numpy (run after it, in the same interpreter).
rng = np.random.default_rng(0)
D, H = 3, 4
x, h, c = rng.normal(size=D), rng.normal(size=H), rng.normal(size=H)
W, U, b = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), np.zeros(4 * H)
b[:H], b[H:2 * H] = 50.0, -50.0                     # forget gate open, input gate shut
h1, c1 = lstm_step(x, h, c, W, U, b)
assert h1.shape == (H,) and np.allclose(c1, c)     # memory carried over unchanged
b = rng.normal(size=4 * H)                          # against the equations, gate by gate
a = W @ x + U @ h + b
s = lambda v: 1 / (1 + np.exp(-v))
f, i, o, g = s(a[:H]), s(a[H:2 * H]), s(a[2 * H:3 * H]), np.tanh(a[3 * H:])
h1, c1 = lstm_step(x, h, c, W, U, b)
assert np.allclose(c1, f * c + i * g) and np.allclose(h1, o * np.tanh(f * c + i * g))
