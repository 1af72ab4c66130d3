# Checks for the code of card numpy-softmax-cross-entropy-gradient (run after it, in the same interpreter).
rng = np.random.default_rng(0)
z, y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
loss, g = loss_and_grad(z, y)
p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
assert np.isclose(loss, -np.log(p[np.arange(4), y]).mean())
num, h = np.zeros_like(z), 1e-5
for idx in np.ndindex(z.shape):
    e = np.zeros_like(z); e[idx] = h
    num[idx] = (loss_and_grad(z + e, y)[0] - loss_and_grad(z - e, y)[0]) / (2 * h)
assert np.allclose(g, num, atol=1e-7)
