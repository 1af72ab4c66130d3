# Checks for the code of card numpy-kl-divergence (run after it, in the same interpreter).
assert np.isclose(kl([0.5, 0.5], [0.9, 0.1]), 0.5108256)     # the kl-asymmetry-example card
assert np.isclose(kl([0.9, 0.1], [0.5, 0.5]), 0.3680642)
assert kl([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
assert np.isclose(kl([0.0, 1.0], [0.5, 0.5]), np.log(2))       # 0 log 0 counts as 0
assert kl([0.5, 0.5], [1.0, 0.0]) == np.inf                    # q misses mass of p
rng = np.random.default_rng(0)
for _ in range(100):                                           # Gibbs' inequality
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    assert kl(p, q) > 0
