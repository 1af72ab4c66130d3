# Checks for the code of card numpy-fgsm-logistic (run after it, in the same interpreter).
def bce(x, y, w, b):
    p = 1 / (1 + np.exp(-(x @ w + b)))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


rng = np.random.default_rng(0)
w, b, eps = rng.standard_normal(50), 0.3, 0.05
for y in (0.0, 1.0):
    x = rng.standard_normal(50)
    adv = fgsm(x, y, w, b, eps)
    assert np.allclose(np.abs(adv - x), eps)                       # every feature moves by exactly eps
    shift = (adv - x) @ w
    assert np.isclose(abs(shift), eps * np.abs(w).sum())           # the logit moves by eps * ||w||_1 ...
    assert np.sign(shift) == (1 if y == 0 else -1)                 # ... towards the wrong class
    assert bce(adv, y, w, b) > bce(x, y, w, b)
    for _ in range(100):                                           # no other sign pattern does better
        other = x + eps * np.sign(rng.standard_normal(50))
        assert bce(other, y, w, b) <= bce(adv, y, w, b) + 1e-12
