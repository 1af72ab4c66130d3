# Checks for the code of card numpy-rnn-bptt (run after it, in the same interpreter).
rng = np.random.default_rng(0)
W, U, xs = 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
_, dW = loss_and_dW(W, U, xs)
for i, j in np.ndindex(W.shape):
    E = np.zeros_like(W); E[i, j] = 1e-6
    num = (loss_and_dW(W + E, U, xs)[0] - loss_and_dW(W - E, U, xs)[0]) / 2e-6
    assert np.isclose(dW[i, j], num)
