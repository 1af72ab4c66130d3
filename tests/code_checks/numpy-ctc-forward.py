# Checks for the code of card numpy-ctc-forward (run after it, in the same interpreter).
import itertools


def collapse(path, blank=0):
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return [c for c in merged if c != blank]


def ctc_brute_force(p, y, blank=0):
    """Independent definition: sum the probability of every path that collapses to y."""
    T, K = p.shape
    total = sum(np.prod(p[np.arange(T), path]) for path in itertools.product(range(K), repeat=T)
                if collapse(list(path), blank) == list(y))
    return -np.log(total)


rng = np.random.default_rng(0)
for T, y in [(1, [1]), (3, [1, 2]), (4, [1, 1]), (5, [2, 1, 2]), (6, [1, 1, 2]), (5, [])]:
    p = rng.dirichlet(np.ones(3), size=T)             # T frames, K = 3 symbols (0 is the blank)
    assert np.isclose(ctc_loss(p, y), ctc_brute_force(p, y)), (T, y)
p = rng.dirichlet(np.ones(3), size=4)
assert np.isclose(ctc_loss(p, [2, 2], blank=0), ctc_brute_force(p, [2, 2]))
with np.errstate(divide="ignore"):                    # "hello" needs 6 frames: ll needs a blank between
    hello = [1, 2, 3, 3, 4]
    assert np.isinf(ctc_loss(rng.dirichlet(np.ones(5), size=5), hello))
    assert np.isfinite(ctc_loss(rng.dirichlet(np.ones(5), size=6), hello))
