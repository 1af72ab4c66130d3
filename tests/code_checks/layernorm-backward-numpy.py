# Checks for the code of card layernorm-backward-numpy (run after it, in the same interpreter):
# its gradients against central differences of the forward pass.
def ln_forward(x, g, b, eps=1e-5):
    xh = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
    return g * xh + b


def numerical_grad(f, a, h=1e-6):
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + h
        up = f()
        a[i] = old - h
        down = f()
        a[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


rng = np.random.default_rng(0)
x = rng.normal(loc=2.0, scale=3.0, size=(4, 6))
g, b = rng.normal(size=6), rng.normal(size=6)
dy = rng.normal(size=(4, 6))                  # upstream gradient: L = sum(y * dy)


def loss():
    return float((ln_forward(x, g, b) * dy).sum())


dx, dg, db = ln_backward(dy, x, g)
assert dx.shape == x.shape and dg.shape == g.shape and db.shape == b.shape
assert np.allclose(dx, numerical_grad(loss, x), rtol=1e-5, atol=1e-7)
assert np.allclose(dg, numerical_grad(loss, g), rtol=1e-5, atol=1e-7)
assert np.allclose(db, numerical_grad(loss, b), rtol=1e-5, atol=1e-7)
assert np.allclose(dx.sum(axis=1), 0, atol=1e-10)   # shift invariance
